#!/usr/bin/env python3
"""(Re)creates the seed corpora in fuzz/corpus/<target>/ from core/tests/vectors.

Seeds are small valid (and a few near-valid) inputs so libFuzzer starts past the parsers' front
doors. Run from anywhere: `python3 fuzz/make-seeds.py`. Only the standard library is used.
Files written by a fuzzing run (named by their SHA-1) are left alone.
"""
import base64
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent
VECTORS = FUZZ.parent / "core" / "tests" / "vectors"
KEYS = VECTORS / "keys"


def write(target, name, data):
    path = FUZZ / "corpus" / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)


def pem_der(pem_text):
    body = [l for l in pem_text.splitlines() if l and not l.startswith("-----")]
    return base64.b64decode("".join(body))


items = {v["id"]: v for v in json.loads((VECTORS / "items.json").read_text())["vectors"]}


def go_b64decode(text):
    return base64.b64decode(text.replace("\r", "").replace("\n", ""))


# item_decoder: [label length][label][payload], payload raw or base64 text.
def item_seed(vector_id, raw=True):
    v = items[vector_id]
    label = base64.b64decode(v["label_b64"])
    payload = go_b64decode(v["ciphertext_b64"]) if raw else v["ciphertext_b64"].encode()
    return bytes([len(label)]) + label + payload


write("item_decoder", "strict.bin", item_seed("rsa2048-strict"))
write("item_decoder", "namespace-wide.bin", item_seed("rsa2048-namespace-wide"))
write("item_decoder", "cluster-wide.bin", item_seed("rsa2048-cluster-wide"))
write("item_decoder", "empty-plaintext.bin", item_seed("rsa2048-empty-plaintext"))
write("item_decoder", "length-prefix-too-large.bin", item_seed("rsa2048-length-prefix-too-large"))
write("item_decoder", "tampered-gcm-tag.bin", item_seed("rsa2048-tampered-gcm-tag"))
write("item_decoder", "b64-lf-wrapped.txt", item_seed("rsa2048-b64-lf-wrapped", raw=False))
write("item_decoder", "b64-trailing-bits.txt", item_seed("rsa2048-b64-nonzero-trailing-bits", raw=False))
write("item_decoder", "b64-unpadded.txt", item_seed("rsa2048-b64-unpadded", raw=False))
write("item_decoder", "b64-crlf.txt", "aHVu\r\ndGVy\nMg==")

# object_reader: Secrets and SealedSecrets, YAML and JSON, single and multi-document.
write("object_reader", "secret.yaml", """\
apiVersion: v1
kind: Secret
metadata:
  name: mysecret
  namespace: myns
  labels: {app: demo}
  annotations:
    sealedsecrets.bitnami.com/namespace-wide: "true"
  resourceVersion: "42"
  finalizers: [a, b]
type: Opaque
immutable: true
data:
  password: aHVudGVyMg==
  bin: AAH+/w==
stringData:
  username: admin
""")
write("object_reader", "secret.json", json.dumps({
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "mysecret", "namespace": "myns", "generation": 3, "uid": "1234",
                 "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u", "controller": True}]},
    "data": {"k": "dg=="}, "stringData": {"s": "t\u00e9xt"}, "type": "kubernetes.io/tls",
}, indent=2) + "\n")
write("object_reader", "secrets-multi.yaml",
      "# two documents and an empty one\n---\nkind: Secret\nmetadata: {name: a}\ndata: {k: dg==}\n"
      "---\n---\nmetadata: {name: b}\nstringData: {x: \"1.5\", y: 'true'}\n")
write("object_reader", "secrets-stream.json",
      '{"kind":"Secret","metadata":{"name":"a"},"data":{"k":"dg=="}}\n{"metadata":{"name":"b"},"data":null}\n')


def sealed(name, namespace, annotations, encrypted, template_extra=None):
    template = {"metadata": {"name": name, "namespace": namespace, "labels": {"app": name}}, "type": "Opaque"}
    template.update(template_extra or {})
    meta = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": meta,
            "spec": {"encryptedData": encrypted, "template": template}}


strict = sealed("myname", "myns", None, {
    "a": items["rsa2048-strict"]["ciphertext_b64"],
    "utf8": items["rsa2048-utf8-plaintext"]["ciphertext_b64"],
})
cluster = sealed("anything", "elsewhere", {"sealedsecrets.bitnami.com/cluster-wide": "true"},
                 {"c": items["rsa2048-cluster-wide"]["ciphertext_b64"]},
                 {"metadata": {"annotations": {"sealedsecrets.bitnami.com/skip-set-owner-references": "true"}}})
write("object_reader", "sealedsecret-rsa2048.json", json.dumps(strict, indent=2) + "\n")
write("object_reader", "sealedsecret-cluster-wide.json", json.dumps(cluster) + "\n")


def yaml_sealed(name, namespace, items_):
    lines = ["---", "apiVersion: bitnami.com/v1alpha1", "kind: SealedSecret", "metadata:",
             f"  name: {name}", f"  namespace: {namespace}",
             "  annotations:", "    sealedsecrets.bitnami.com/namespace-wide: \"true\"",
             "spec:", "  encryptedData:"]
    lines += [f"    {k}: {v}" for k, v in items_.items()]
    lines += ["  template:", "    metadata:", "      labels: {x: y}", "    type: Opaque"]
    return "\n".join(lines) + "\n"


# Two documents: one that opens, one whose item has bad base64 (the whole object fails).
write("object_reader", "sealedsecret-namespace-wide.yaml",
      yaml_sealed("renamed", "myns", {"nw": items["rsa2048-namespace-wide"]["ciphertext_b64"]})
      + yaml_sealed("other", "myns", {"bad": items["rsa2048-b64-urlsafe-alphabet"]["ciphertext_b64"]}))
write("object_reader", "legacy-v1.yaml", (VECTORS / "legacy-v1.yaml").read_text())
write("object_reader", "sealedsecret-multi-2.yaml", (VECTORS / "sealedsecret-second-of-three.yaml").read_text())

# pem_keys: PEM keys and certificates, DER, and a key Secret for read_private_keys.
for name in ["rsa2048.key", "rsa2048.crt", "ec-p256.key", "ec-p256.crt", "expired-2048.crt"]:
    write("pem_keys", name, (KEYS / name).read_bytes())
write("pem_keys", "rsa2048.crt.der", pem_der((KEYS / "rsa2048.crt").read_text()))
write("pem_keys", "rsa4096-pkcs8.key", (KEYS / "rsa4096-pkcs8.key").read_bytes())
write("pem_keys", "rsa2048-pkcs1.der", pem_der((KEYS / "rsa2048.key").read_text()))
key_b64 = base64.b64encode((KEYS / "rsa2048.key").read_bytes()).decode()
crt_b64 = base64.b64encode((KEYS / "rsa2048.crt").read_bytes()).decode()
write("pem_keys", "key-secret-list.json", json.dumps({
    "apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"generateName": "sealed-secrets-key", "namespace": "kube-system",
                     "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
        "data": {"tls.key": key_b64, "tls.crt": crt_b64}}]}) + "\n")
