#!/usr/bin/env python3
"""Protected key Secret vectors (docs/key-protection.md, "Envelope"), made without sealant's code.

Re-implements the envelope on Python's `cryptography` package so that sealant's reader
(core/src/keysecret/wrapped/tests.rs) is checked against an independent writer:

  python3 core/tests/vectors/wrapped/make.py            # (re)write the files below
  python3 core/tests/vectors/wrapped/make.py --check    # exit 1 if they would change

Files: protected-rsa2048.yaml (the Secret) and protected-rsa2048.json (the DEK, nonce, AAD and
fingerprint the test needs). The key and certificate are ../keys/rsa2048.{key,crt}. The DEK
and nonce are fixed (a real run draws both fresh); the wrapped DEK is AES-256-GCM of the DEK
under a fixed test KEK, as the PKCS#11 provider wraps it, so the file also shows that layer.
"""

import base64
import hashlib
import json
import pathlib
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509 import load_pem_x509_certificate

HERE = pathlib.Path(__file__).resolve().parent
KEYS = HERE.parent / "keys"
PROVIDER = "pkcs11"
KEK_ID = "sealant-test/kek-1"
DEK = bytes(range(32))
NONCE = bytes(range(100, 112))
TEST_KEK = bytes(range(200, 232))
KEK_NONCE = bytes(range(50, 62))


def fingerprint(public_key):
    """OpenSSH SHA-256 fingerprint: sha256 of the ssh-rsa wire blob, unpadded base64."""
    line = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def main():
    key = serialization.load_pem_private_key((KEYS / "rsa2048.key").read_bytes(), password=None)
    cert_pem = (KEYS / "rsa2048.crt").read_bytes()
    cert = load_pem_x509_certificate(cert_pem)
    fp = fingerprint(cert.public_key())
    assert fp == fingerprint(key.public_key()), "certificate is not the key's"
    aad = f"sealant.dev/key-protection\nv1\n{PROVIDER}\n{KEK_ID}\n{fp}".encode()
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sealed_key = NONCE + AESGCM(DEK).encrypt(NONCE, der, aad)
    wrapped_dek = KEK_NONCE + AESGCM(TEST_KEK).encrypt(KEK_NONCE, DEK, aad)
    annotation = json.dumps({"version": 1, "provider": PROVIDER, "kek": KEK_ID}, separators=(",", ":"))
    b64 = lambda b: base64.b64encode(b).decode()
    secret = "\n".join(
        [
            "apiVersion: v1",
            "kind: Secret",
            "type: kubernetes.io/tls",
            "metadata:",
            "  name: sealed-secrets-keyprot1",
            "  namespace: kube-system",
            "  labels:",
            "    sealedsecrets.bitnami.com/sealed-secrets-key: active",
            "  annotations:",
            f"    sealant.dev/key-protection: '{annotation}'",
            "data:",
            f"  tls.crt: {b64(cert_pem)}",
            '  tls.key: ""',
            f"  sealant.wrapped-key: {b64(sealed_key)}",
            f"  sealant.wrapped-dek: {b64(wrapped_dek)}",
            "",
        ]
    )
    vector = {
        "secret": "protected-rsa2048.yaml",
        "key": "../keys/rsa2048.key",
        "fingerprint": fp,
        "aad": aad.decode(),
        "dek": DEK.hex(),
        "nonce": NONCE.hex(),
        "test_kek": TEST_KEK.hex(),
    }
    files = {
        "protected-rsa2048.yaml": secret,
        "protected-rsa2048.json": json.dumps(vector, indent=2) + "\n",
    }
    changed = [name for name, text in files.items() if not (HERE / name).exists() or (HERE / name).read_text() != text]
    if "--check" in sys.argv[1:]:
        if changed:
            print("would change:", *changed)
            sys.exit(1)
        return
    for name in changed:
        (HERE / name).write_text(files[name])
        print("wrote", name)


if __name__ == "__main__":
    main()
