#!/usr/bin/env python3
"""Vectors for the rollout digest and the rollout annotation (docs/rollout.md), written from the
description in that page with the standard library only (no sealant code), so core/tests/rollout.rs
checks sealant against an independent reading of the construction.

    python3 core/tests/vectors/rollout.py generate    # (re)write rollout.json
    python3 core/tests/vectors/rollout.py check       # exit 1 if rollout.json differs
"""
import base64
import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path

OUT = Path(__file__).with_name("rollout.json")
DATA_DOMAIN = b"sealant.dev/secret-data/v1\0"
DIGEST_DOMAIN = b"sealant.dev/rollout-digest/v1\0"
KEY_ID_DOMAIN = b"sealant.dev/sync-key-id/v1\0"


def lp(b: bytes) -> bytes:
    return struct.pack(">Q", len(b)) + b


def data_mac(key: bytes, data: dict) -> bytes:
    msg = DATA_DOMAIN + struct.pack(">Q", len(data))
    for k in sorted(data, key=lambda k: k.encode()):
        msg += lp(k.encode()) + lp(data[k])
    return hmac.new(key, msg, hashlib.sha256).digest()


def digest(key: bytes, namespace: str, name: str, mac: bytes) -> str:
    key_id = hmac.new(key, KEY_ID_DOMAIN, hashlib.sha256).digest()[:4].hex()
    msg = DIGEST_DOMAIN + lp(namespace.encode()) + lp(name.encode()) + lp(mac)
    tag = hmac.new(key, msg, hashlib.sha256).digest()[:16].hex()
    return f"v1:{key_id}:{tag}"


def annotation_key(name: str) -> str:
    if len(name) <= 63:
        return "rollout.sealant.dev/" + name
    head = name[:46].rstrip("-.")
    return f"rollout.sealant.dev/{head}-{hashlib.sha256(name.encode()).digest()[:8].hex()}"


def digests():
    cases = [
        ("zero-key-empty", bytes(32), "default", "app", {}),
        ("one-value", bytes(range(32)), "prod", "db", {"password": b"hunter2"}),
        ("low-entropy-a", bytes(range(32)), "prod", "db", {"pin": b"1234"}),
        ("low-entropy-b", bytes(range(32)), "prod", "db", {"pin": b"1235"}),
        ("same-data-other-name", bytes(range(32)), "prod", "cache", {"pin": b"1234"}),
        ("boundary-a", b"\x07" * 32, "ns", "x", {"ab": b"c"}),
        ("boundary-b", b"\x07" * 32, "ns", "x", {"a": b"bc"}),
        ("binary-and-order", b"\xff" * 32, "team-a", "tls", {"tls.key": bytes(range(256)), "ca.crt": b"\x00", "B": b""}),
    ]
    out = []
    for id_, key, ns, name, data in cases:
        mac = data_mac(key, data)
        out.append({
            "id": id_,
            "key_hex": key.hex(),
            "namespace": ns,
            "name": name,
            "data_b64": {k: base64.b64encode(v).decode() for k, v in sorted(data.items())},
            "data_mac_hex": mac.hex(),
            "digest": digest(key, ns, name, mac),
        })
    return out


def keys():
    names = ["db", "a" * 63, "a" * 64, "x" * 70 + "a", "x" * 70 + "b", "y" * 45 + "." + "z" * 40]
    return [{"secret": n, "annotation_key": annotation_key(n)} for n in names]


# Parsing cases: the value, then the targets (kind/name, sorted, each once) or the error variant.
PARSE = [
    ("", []),
    (" , ,\n", []),
    ("deployment/web", ["deployment/web"]),
    ("deployment/web, statefulset/db, daemonset/agent", ["deployment/web", "statefulset/db", "daemonset/agent"]),
    ("Deployments/web\nsts/db ds/agent", ["deployment/web", "statefulset/db", "daemonset/agent"]),
    ("deploy.apps/web,deployment/web", ["deployment/web"]),
    ("deployment/a.b-c", ["deployment/a.b-c"]),
    ("prod/web", "UnknownKind"),
    ("prod/deployment/web", "Namespaced"),
    ("deployment/prod/web", "Namespaced"),
    ("deployment//web", "Namespaced"),
    ("web", "NoKind"),
    ("pod/web", "UnknownKind"),
    ("deployment/", "BadName"),
    ("deployment/Web", "BadName"),
    ("deployment/-web", "BadName"),
    ("deployment/web.", "BadName"),
    ("deployment/" + "a" * 254, "BadName"),
    ("deployment/web, prod/api", "UnknownKind"),
    (",".join(f"deployment/w{i}" for i in range(17)), "TooMany"),
]


def document():
    return {
        "format": "sealant-rollout-vectors-1",
        "digests": digests(),
        "annotation_keys": keys(),
        "parse": [
            {"value": v, "targets": r} if isinstance(r, list) else {"value": v, "error": r}
            for v, r in PARSE
        ],
    }


def main():
    text = json.dumps(document(), indent=1) + "\n"
    if sys.argv[1:] == ["generate"]:
        OUT.write_text(text)
    elif sys.argv[1:] == ["check"]:
        if OUT.read_text() != text:
            sys.exit(f"{OUT} is stale: run {sys.argv[0]} generate")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
