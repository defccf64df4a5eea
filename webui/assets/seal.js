// Sealing in the browser, byte for byte the item format of sealant-core (docs/format.md):
//
//   u16 big-endian L | RSA-OAEP-SHA256 (MGF1-SHA256, label = scope label) of a fresh 32-byte
//   key (L bytes) | AES-256-GCM of the value under that key, 12 zero bytes of nonce, tag last
//
// The zero nonce is safe only because every item gets a fresh key. The SealedSecret is built
// as `sealant seal` builds it (docs/webui.md, "Same output as the CLI").

const SCOPE_ANNOTATIONS = {
  "namespace-wide": "sealedsecrets.bitnami.com/namespace-wide",
  "cluster-wide": "sealedsecrets.bitnami.com/cluster-wide",
};
// Annotations that carry a copy of the whole object, values included: never in a template.
const LAST_APPLIED = ["kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration"];

export function base64Decode(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function base64Encode(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

// The certificate's public key, from the SPKI the server computed (no X.509 parsing here).
export async function importKey(facts) {
  return crypto.subtle.importKey("spki", base64Decode(facts.spki), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
}

// The OAEP label that binds a value: `namespace/name`, `namespace`, or nothing.
export function scopeLabel(scope, namespace, name) {
  const text = scope === "strict" ? `${namespace}/${name}` : scope === "namespace-wide" ? namespace : "";
  return new TextEncoder().encode(text);
}

export async function sealItem(key, label, plaintext) {
  const sessionKey = crypto.getRandomValues(new Uint8Array(32));
  try {
    const rsa = new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP", label }, key, sessionKey));
    const aesKey = await crypto.subtle.importKey("raw", sessionKey, { name: "AES-GCM" }, false, ["encrypt"]);
    const body = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12), tagLength: 128 }, aesKey, plaintext));
    const out = new Uint8Array(2 + rsa.length + body.length);
    out[0] = rsa.length >> 8;
    out[1] = rsa.length & 0xff;
    out.set(rsa, 2);
    out.set(body, 2 + rsa.length);
    return out;
  } finally {
    sessionKey.fill(0);
  }
}

// input: { name, namespace, scope, type, items: [[key, Uint8Array]], labels, annotations,
// immutable } (labels, annotations and immutable from a pasted manifest, else undefined).
export async function sealSecret(key, facts, input) {
  const { name, scope } = input;
  const namespace = input.namespace;
  const label = scopeLabel(scope, namespace, name);
  const encryptedData = {};
  for (const [item, value] of input.items) {
    encryptedData[item] = base64Encode(await sealItem(key, label, value));
  }

  const annotations = { ...(input.annotations || {}) };
  for (const a of Object.values(SCOPE_ANNOTATIONS)) delete annotations[a];
  if (SCOPE_ANNOTATIONS[scope]) annotations[SCOPE_ANNOTATIONS[scope]] = "true";
  const templateAnnotations = { ...annotations };
  for (const a of LAST_APPLIED) delete templateAnnotations[a];

  const templateMeta = { name };
  if (namespace !== "") templateMeta.namespace = namespace;
  if (input.labels !== undefined) templateMeta.labels = input.labels;
  if (Object.keys(templateAnnotations).length > 0) templateMeta.annotations = templateAnnotations;

  const template = { metadata: templateMeta };
  if (input.type !== "") template.type = input.type;
  if (input.immutable !== undefined) template.immutable = input.immutable;

  const topAnnotations = { [facts.keyHintAnnotation]: facts.keyHint };
  if (SCOPE_ANNOTATIONS[scope]) topAnnotations[SCOPE_ANNOTATIONS[scope]] = "true";
  const metadata = { annotations: topAnnotations, name };
  if (namespace !== "") metadata.namespace = namespace;

  return {
    apiVersion: "bitnami.com/v1alpha1",
    kind: "SealedSecret",
    metadata,
    spec: { encryptedData, template },
  };
}
