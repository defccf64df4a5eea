#!/usr/bin/env python3
"""Independent implementation of the Sealed Secrets item format, used to make and check test vectors.

This file deliberately shares no code with sealant: it re-implements the upstream Bitnami Sealed
Secrets hybrid encryption (docs/upstream.md, "Item format") on top of Python's `cryptography`
package, so that vectors it produces (and ciphertexts it accepts) are evidence of wire compatibility
rather than of sealant agreeing with itself.

One encrypted item (docs/format.md §1):

    u16 big-endian L  ||  RSA-OAEP(SHA-256, MGF1-SHA-256, label)(32-byte AES key)  ||  AES-256-GCM(...)

where L is the RSA modulus size in bytes, the AES-256-GCM nonce is 12 zero bytes, there is no AAD,
and the 16-byte tag is appended to the ciphertext. Items are stored as standard base64 with `=`
padding. The OAEP label depends on the scope (docs/upstream.md, "Scopes and the OAEP label"):
strict -> "<namespace>/<name>", namespace-wide -> "<namespace>", cluster-wide -> empty.

Subcommands (see README.md in this folder):

    generate        (re)create every vector file; keys and certificates are reused when present
    selfcheck       verify every vector file against this implementation
    decrypt-batch   JSON array on stdin -> JSON array on stdout (used by the Rust tests)
    encrypt-batch   JSON array on stdin -> JSON array on stdout (used by the Rust tests)

Only the standard library and `cryptography` are used.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import secrets
import struct
import sys
from pathlib import Path
from typing import Any, Callable

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtensionOID

# --------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------

HERE = Path(__file__).resolve().parent
KEYS_DIR = HERE / "keys"

ITEMS_FORMAT = "sealant-item-vectors-1"
GENERATOR = f"independent.py (python cryptography {cryptography.__version__})"

SESSION_KEY_BYTES = 32  # AES-256 (docs/upstream.md, "Item format")
GCM_NONCE = bytes(12)  # all zeros: the session key is single-use

# Namespace/name used by the item vectors.
NS = "myns"
NAME = "myname"

# Controller-style certificate validity: Go's `--key-ttl` default is 87600h
# (docs/upstream.md, "Key Secrets").
CERT_TTL = datetime.timedelta(hours=87600)

# DER of the KeyUsage extension value exactly as Go's crypto/x509 writes `KeyUsageEncipherOnly`:
# BIT STRING, 0 unused bits, one content byte 0x01 (encipherOnly is bit 7 of the first byte).
# `cryptography`'s x509.KeyUsage refuses encipher_only without key_agreement (RFC 5280 says
# encipherOnly is only meaningful together with keyAgreement), so the raw extension value is
# written instead; this is byte-identical to the extension in upstream's fixed test certificate.
KEY_USAGE_ENCIPHER_ONLY_DER = bytes.fromhex("03020001")

# Fixed validity of keys/expired-2048.crt.
EXPIRED_NOT_BEFORE = datetime.datetime(2010, 1, 1, tzinfo=datetime.timezone.utc)
EXPIRED_NOT_AFTER = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)

# Seed of the deterministic 1 MiB plaintext (see `big_plaintext`).
BIG_SEED = b"sealant-vector-1MiB"
BIG_LEN = 1024 * 1024


# --------------------------------------------------------------------------------------------------
# Base64, mirroring Go's base64.StdEncoding.DecodeString (docs/upstream.md, "Item format")
# --------------------------------------------------------------------------------------------------

_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_INDEX = {c: i for i, c in enumerate(_B64_ALPHABET)}
_B64_BODY = re.compile("[A-Za-z0-9+/]*")


def b64encode(data: bytes) -> str:
    """Standard alphabet, with `=` padding, no line breaks (Go base64.StdEncoding.EncodeToString)."""
    return base64.b64encode(data).decode("ascii")


def go_b64decode(text: str) -> bytes:
    """Decode like Go's base64.StdEncoding.DecodeString (non-strict mode).

    - `\\r` and `\\n` anywhere are ignored; any other character outside the alphabet is an error;
    - the input (after dropping `\\r`/`\\n`) must be whole 4-character quanta: padding is required;
    - `=` may only appear as the last one or two characters of the final quantum, nothing after it;
    - non-zero unused low bits in the final quantum are tolerated (Go is not in Strict mode).

    Raises ValueError on invalid input.
    """
    s = text.replace("\r", "").replace("\n", "")
    if len(s) % 4 != 0:
        raise ValueError("base64: length is not a multiple of 4 (missing padding?)")
    pad = len(s) - len(s.rstrip("="))
    if pad > 2:
        raise ValueError("base64: too much padding")
    body = s[: len(s) - pad]
    if not _B64_BODY.fullmatch(body):  # rejects other characters, and `=` before the end
        raise ValueError("base64: illegal character")
    # The input is now well-formed; binascii (non-strict) ignores the unused trailing bits.
    return binascii.a2b_base64(s)


def set_trailing_bits(encoded: str) -> str:
    """Return `encoded` with all unused low bits of its last data character set to 1.

    Go's non-strict decoder ignores these bits, so the result decodes to the same bytes.
    `encoded` must end in padding (otherwise there are no unused bits).
    """
    pad = len(encoded) - len(encoded.rstrip("="))
    if pad == 0:
        raise ValueError("no padding, hence no unused trailing bits")
    unused_mask = 0x0F if pad == 2 else 0x03  # 2 data chars carry 8 of 12 bits, 3 carry 16 of 18
    i = len(encoded) - pad - 1
    v = _B64_INDEX[encoded[i]] | unused_mask
    return encoded[:i] + _B64_ALPHABET[v] + encoded[i + 1 :]


def wrap(text: str, width: int, sep: str, trailing: bool) -> str:
    """Insert `sep` every `width` characters (MIME/PEM style line wrapping)."""
    lines = [text[i : i + width] for i in range(0, len(text), width)]
    return sep.join(lines) + (sep if trailing else "")


# --------------------------------------------------------------------------------------------------
# Labels and hybrid encryption (docs/upstream.md, "Scopes and the OAEP label", "Item format")
# --------------------------------------------------------------------------------------------------


def label_for(scope: str, namespace: str, name: str) -> bytes:
    """OAEP label of an item for a scope (docs/upstream.md, "Scopes and the OAEP label")."""
    if scope == "strict":
        return f"{namespace}/{name}".encode("utf-8")
    if scope == "namespace-wide":
        return namespace.encode("utf-8")
    if scope == "cluster-wide":
        return b""
    raise ValueError(f"unknown scope {scope!r}")


def _oaep(label: bytes) -> padding.OAEP:
    # Go's rsa.EncryptOAEP(sha256.New(), ...) uses the same hash for MGF1.
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        label=label if label else None,  # empty label == no label (lHash = SHA-256(""))
    )


def hybrid_encrypt(public_key: rsa.RSAPublicKey, plaintext: bytes, label: bytes) -> bytes:
    """Seal one item: u16 BE length || RSA-OAEP(session key) || AES-256-GCM(plaintext) + tag."""
    session_key = os.urandom(SESSION_KEY_BYTES)
    wrapped = public_key.encrypt(session_key, _oaep(label))
    sealed = AESGCM(session_key).encrypt(GCM_NONCE, plaintext, None)
    return struct.pack(">H", len(wrapped)) + wrapped + sealed


def hybrid_decrypt(private_key: rsa.RSAPrivateKey, data: bytes, label: bytes) -> bytes:
    """Open one item with one key (docs/upstream.md, "Item format"). Raises on any failure."""
    if len(data) < 2:
        raise ValueError("too short")
    (rsa_len,) = struct.unpack(">H", data[:2])
    if len(data) < 2 + rsa_len:
        raise ValueError("too short")
    session_key = private_key.decrypt(data[2 : 2 + rsa_len], _oaep(label))
    # Like Go's aes.NewCipher, AESGCM accepts 16/24/32-byte keys; upstream always wraps 32 bytes.
    return AESGCM(session_key).decrypt(GCM_NONCE, data[2 + rsa_len :], None)


# --------------------------------------------------------------------------------------------------
# Keys and certificates
# --------------------------------------------------------------------------------------------------


def load_private_key_pem(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def pkcs1_pem(key: rsa.RSAPrivateKey) -> bytes:
    """PEM "RSA PRIVATE KEY" (PKCS#1), the format upstream stores in `tls.key`."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def pkcs8_pem(key: Any) -> bytes:
    """PEM "PRIVATE KEY" (PKCS#8)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def spki_der(public_key: Any) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def subject_key_id(public_key: Any) -> bytes:
    """SubjectKeyId as Go >= 1.25 computes it for a CA template without one (golang/go#71746,
    RFC 7093 method 1):
    the leftmost 160 bits of SHA-256 over the subjectPublicKey BIT STRING contents."""
    if isinstance(public_key, rsa.RSAPublicKey):
        bits = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    else:
        bits = public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return hashlib.sha256(bits).digest()[:20]


def controller_style_cert(
    key: Any, not_before: datetime.datetime, not_after: datetime.datetime
) -> x509.Certificate:
    """Self-signed certificate like the upstream controller's (docs/upstream.md, "Key Secrets").

    v3, random serial < 2^128, empty issuer and subject DN, KeyUsage = encipherOnly (critical),
    BasicConstraints CA:TRUE without pathlen (critical), SubjectKeyId (Go adds one for CA certs),
    signed with SHA-256 (sha256WithRSAEncryption for RSA keys, ecdsa-with-SHA256 for EC keys).
    """
    empty = x509.Name([])
    builder = (
        x509.CertificateBuilder()
        .serial_number(secrets.randbelow(2**128 - 1) + 1)  # cryptography rejects serial 0
        .issuer_name(empty)
        .subject_name(empty)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .public_key(key.public_key())
        # Extension order follows Go's buildCertExtensions: KeyUsage, BasicConstraints, SKI.
        .add_extension(
            x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, KEY_USAGE_ENCIPHER_ONLY_DER),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(subject_key_id(key.public_key())), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def write_if_changed(path: Path, content: bytes) -> None:
    """Write a file only when its content changes (keeps mtimes and git status quiet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == content:
        return
    path.write_bytes(content)


def ensure_rsa_key(stem: str, bits: int) -> rsa.RSAPrivateKey:
    """Load keys/<stem>.key, or create it (RSA, e=65537, PEM PKCS#1) when it does not exist."""
    path = KEYS_DIR / f"{stem}.key"
    if path.exists():
        key = load_private_key_pem(path.read_bytes())
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != bits:
            sys.exit(f"{path}: exists but is not an RSA-{bits} key; remove it to regenerate")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    write_if_changed(path, pkcs1_pem(key))
    return key


def ensure_ec_key(stem: str) -> ec.EllipticCurvePrivateKey:
    """Load keys/<stem>.key, or create it (P-256, PEM "EC PRIVATE KEY" / SEC 1)."""
    path = KEYS_DIR / f"{stem}.key"
    if path.exists():
        key = load_private_key_pem(path.read_bytes())
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            sys.exit(f"{path}: exists but is not an EC key; remove it to regenerate")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    write_if_changed(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
    )
    return key


def ensure_cert(
    path: Path,
    key: Any,
    validity: Callable[[], tuple[datetime.datetime, datetime.datetime]],
    must_be_expired: bool = False,
) -> None:
    """Keep an existing certificate if it is over `key` (and expired when required), else make one."""
    if path.exists():
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            same_key = spki_der(cert.public_key()) == spki_der(key.public_key())
            now = datetime.datetime.now(datetime.timezone.utc)
            expired_ok = (cert.not_valid_after_utc < now) or not must_be_expired
            if same_key and expired_ok:
                return
        except ValueError:
            pass
    not_before, not_after = validity()
    cert = controller_style_cert(key, not_before, not_after)
    write_if_changed(path, cert.public_bytes(serialization.Encoding.PEM))


def ten_years_from_now() -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now, now + CERT_TTL


def ensure_all_keys() -> dict[str, Any]:
    """Create (or load) every key and certificate under keys/. Returns private keys by stem."""
    keys: dict[str, Any] = {}
    for stem, bits in [
        ("rsa2048", 2048),
        ("rsa4096", 4096),
        ("multi-1", 2048),
        ("multi-2", 2048),
        ("multi-3", 2048),
        ("other-2048", 2048),
    ]:
        keys[stem] = ensure_rsa_key(stem, bits)
        ensure_cert(KEYS_DIR / f"{stem}.crt", keys[stem], ten_years_from_now)
    # The same 4096-bit key, PKCS#8-encoded (deterministic encoding: no churn).
    write_if_changed(KEYS_DIR / "rsa4096-pkcs8.key", pkcs8_pem(keys["rsa4096"]))
    # Non-RSA material for "reject non-RSA" tests.
    keys["ec-p256"] = ensure_ec_key("ec-p256")
    ensure_cert(KEYS_DIR / "ec-p256.crt", keys["ec-p256"], ten_years_from_now)
    # An expired certificate over rsa2048's key.
    ensure_cert(
        KEYS_DIR / "expired-2048.crt",
        keys["rsa2048"],
        lambda: (EXPIRED_NOT_BEFORE, EXPIRED_NOT_AFTER),
        must_be_expired=True,
    )
    return keys


# --------------------------------------------------------------------------------------------------
# Plaintexts
# --------------------------------------------------------------------------------------------------


def big_plaintext() -> bytes:
    """Deterministic pseudo-random 1 MiB: SHA-256(BIG_SEED || u32 BE counter) for counter = 0, 1, ..."""
    out = bytearray()
    counter = 0
    while len(out) < BIG_LEN:
        out += hashlib.sha256(BIG_SEED + struct.pack(">I", counter)).digest()
        counter += 1
    return bytes(out[:BIG_LEN])


def sized_plaintext(prefix: bytes, bits: int, residue: int) -> bytes:
    """`prefix` padded with `.` so that the sealed item length is ≡ residue (mod 3).

    Item length = 2 + modulus bytes + len(plaintext) + 16. Residue 1 -> base64 ends in `==`,
    residue 2 -> ends in `=`, residue 0 -> no padding.
    """
    p = prefix
    while (2 + bits // 8 + len(p) + 16) % 3 != residue:
        p += b"."
    return p


# --------------------------------------------------------------------------------------------------
# items.json
# --------------------------------------------------------------------------------------------------


class VectorBuilder:
    """Accumulates the entries of items.json."""

    def __init__(self, keys: dict[str, Any]) -> None:
        self.keys = keys
        self.vectors: list[dict[str, Any]] = []

    def seal(self, key_stem: str, plaintext: bytes, label: bytes) -> bytes:
        return hybrid_encrypt(self.keys[key_stem].public_key(), plaintext, label)

    def add(
        self,
        vid: str,
        description: str,
        key: str,
        scope: str,
        ciphertext_b64: str,
        expect: str,
        plaintext: bytes | None = None,
        big: bool = False,
        sealed_with: tuple[str, bytes] | None = None,
        namespace: str = NS,
        name: str = NAME,
    ) -> None:
        v: dict[str, Any] = {
            "id": vid,
            "description": description,
            "key": key,
            "scope": scope,
            "namespace": namespace,
            "name": name,
            "label_b64": b64encode(label_for(scope, namespace, name)),
            "ciphertext_b64": ciphertext_b64,
            "expect": expect,
        }
        if sealed_with is not None:
            # How a negative vector was really made: decrypting with this key and label succeeds
            # (and yields the plaintext), which proves the vector fails for the stated reason.
            v["sealed_with"] = {"key": sealed_with[0], "label_b64": b64encode(sealed_with[1])}
        if plaintext is not None:
            if big:
                v["plaintext_sha256"] = hashlib.sha256(plaintext).hexdigest()
                v["plaintext_len"] = len(plaintext)
            else:
                v["plaintext_b64"] = b64encode(plaintext)
        self.vectors.append(v)


def build_items(keys: dict[str, Any]) -> dict[str, Any]:
    vb = VectorBuilder(keys)
    strict = label_for("strict", NS, NAME)

    for bits in (2048, 4096):
        k = f"rsa{bits}"
        L = bits // 8

        # ---- positive: scopes and plaintext shapes ------------------------------------------
        for scope in ("strict", "namespace-wide", "cluster-wide"):
            pt = f"value sealed {scope} to {k}".encode()
            label = label_for(scope, NS, NAME)
            vb.add(
                f"{k}-{scope}",
                f"{scope} scope, label {label.decode()!r}",
                k, scope, b64encode(vb.seal(k, pt, label)), "ok", pt,
            )
        shapes = [
            ("empty-plaintext", "empty plaintext (item is exactly 2+L+16 bytes)", b""),
            ("binary-plaintext", "binary, non-UTF-8 plaintext: bytes 0x00..0xff", bytes(range(256))),
            (
                "utf8-plaintext",
                "UTF-8 plaintext with 2-, 3- and 4-byte sequences",
                "pässwörd — 秘密 🔐 ✓".encode("utf-8"),
            ),
        ]
        for suffix, desc, pt in shapes:
            vb.add(f"{k}-{suffix}", desc, k, "strict", b64encode(vb.seal(k, pt, strict)), "ok", pt)
        if bits == 4096:
            pt = big_plaintext()
            vb.add(
                f"{k}-1mib-plaintext",
                "1 MiB plaintext: SHA-256(b'sealant-vector-1MiB' || u32 BE counter) blocks, "
                "truncated to 1048576 bytes; only its sha256 and length are stored",
                k, "strict", b64encode(vb.seal(k, pt, strict)), "ok", pt, big=True,
            )

        # ---- positive: base64 quirks Go tolerates (docs/upstream.md, "Item format") ---------
        pt = b"wrapped base64 must decode " * 4
        vb.add(
            f"{k}-b64-crlf-wrapped",
            "base64 wrapped with \\r\\n every 76 characters, trailing \\r\\n; Go ignores \\r and \\n",
            k, "strict", wrap(b64encode(vb.seal(k, pt, strict)), 76, "\r\n", True), "ok", pt,
        )
        vb.add(
            f"{k}-b64-lf-wrapped",
            "base64 wrapped with \\n every 64 characters (PEM style), no trailing newline",
            k, "strict", wrap(b64encode(vb.seal(k, pt, strict)), 64, "\n", False), "ok", pt,
        )
        # 2048: item length ≡ 1 (mod 3) -> `==`, 4 unused bits; 4096: ≡ 2 -> `=`, 2 unused bits.
        residue = 1 if bits == 2048 else 2
        pt = sized_plaintext(b"trailing bits", bits, residue)
        enc = b64encode(vb.seal(k, pt, strict))
        vb.add(
            f"{k}-b64-nonzero-trailing-bits",
            f"final quantum ends in {'==' if residue == 1 else '='} and its unused low bits "
            f"({4 if residue == 1 else 2}) are all set; Go's non-strict decoder ignores them",
            k, "strict", set_trailing_bits(enc), "ok", pt,
        )

        # ---- negative: base64 Go rejects ----------------------------------------------------
        pt = sized_plaintext(b"padded", bits, 1)
        enc = b64encode(vb.seal(k, pt, strict))
        assert enc.endswith("==")
        vb.add(
            f"{k}-b64-unpadded",
            "valid item with its `==` padding removed; Go's StdEncoding requires padding",
            k, "strict", enc.rstrip("="), "fail",
        )
        vb.add(
            f"{k}-b64-data-after-padding",
            "valid padded item followed by 'AAAA'; Go rejects data after padding",
            k, "strict", enc + "AAAA", "fail",
        )
        mid = len(enc) // 2
        vb.add(
            f"{k}-b64-embedded-space",
            "valid item with a space in the middle; Go ignores only \\r and \\n",
            k, "strict", enc[:mid] + " " + enc[mid:], "fail",
        )
        while True:  # make sure the URL-safe encoding really differs from the standard one
            item = vb.seal(k, pt, strict)
            urlsafe = base64.urlsafe_b64encode(item).decode("ascii")
            if urlsafe != b64encode(item):
                break
        vb.add(
            f"{k}-b64-urlsafe-alphabet",
            "valid item encoded with the URL-safe alphabet (- and _); not StdEncoding",
            k, "strict", urlsafe, "fail",
        )

        # ---- negative: wrong label / scope confusion -----------------------------------------
        label_cases = [
            ("wrong-label-name", "strict", b"myns/other", "sealed for myns/other, read as myns/myname"),
            ("wrong-label-namespace", "strict", b"otherns/myname",
             "sealed for otherns/myname, read as myns/myname"),
            ("wrong-label-no-separator", "strict", b"mynsmyname",
             "sealed with label 'mynsmyname' (no '/', as upstream's crypto.md wrongly suggests)"),
            ("sealed-namespace-wide-read-strict", "strict", b"myns",
             "sealed namespace-wide (label 'myns'), read with strict scope"),
            ("sealed-cluster-wide-read-strict", "strict", b"",
             "sealed cluster-wide (empty label), read with strict scope"),
            ("sealed-strict-read-namespace-wide", "namespace-wide", strict,
             "sealed strict (label 'myns/myname'), read with namespace-wide scope"),
            ("sealed-strict-read-cluster-wide", "cluster-wide", strict,
             "sealed strict (label 'myns/myname'), read with cluster-wide scope"),
        ]
        for suffix, scope, sealed_label, desc in label_cases:
            pt = f"{suffix} plaintext".encode()
            vb.add(
                f"{k}-{suffix}", desc, k, scope, b64encode(vb.seal(k, pt, sealed_label)), "fail",
                pt, sealed_with=(k, sealed_label),
            )

        # ---- negative: wrong key -------------------------------------------------------------
        pt = b"sealed to other-2048"
        vb.add(
            f"{k}-wrong-key",
            f"sealed to other-2048 with the right label, read with {k}",
            k, "strict", b64encode(vb.seal("other-2048", pt, strict)), "fail", pt,
            sealed_with=("other-2048", strict),
        )

        # ---- negative: damaged items -----------------------------------------------------------
        pt = b"damaged item plaintext"
        good = vb.seal(k, pt, strict)
        damaged = [
            ("truncated-1-byte", "valid item with its last byte removed (GCM tag check fails)",
             good[:-1]),
            ("length-prefix-minus-1", f"length prefix {L} changed to {L - 1}",
             struct.pack(">H", L - 1) + good[2:]),
            ("length-prefix-plus-1", f"length prefix {L} changed to {L + 1}",
             struct.pack(">H", L + 1) + good[2:]),
            ("length-prefix-zero", "length prefix changed to 0", struct.pack(">H", 0) + good[2:]),
            ("length-prefix-too-large", "length prefix 0xffff, longer than the item ('too short')",
             b"\xff\xff" + good[2:]),
            ("tampered-rsa-block", "one bit flipped in the middle of the RSA-OAEP block",
             good[: 2 + L // 2] + bytes([good[2 + L // 2] ^ 0x01]) + good[2 + L // 2 + 1 :]),
            ("tampered-aes-ciphertext", "one bit flipped in the first AES-GCM ciphertext byte",
             good[: 2 + L] + bytes([good[2 + L] ^ 0x80]) + good[2 + L + 1 :]),
            ("tampered-gcm-tag", "one bit flipped in the last byte (GCM tag)",
             good[:-1] + bytes([good[-1] ^ 0x01])),
            ("length-prefix-only", f"only the 2-byte length prefix ({L}), nothing else",
             good[:2]),
            ("one-byte", "a 1-byte item (0x01); too short for the length prefix", b"\x01"),
            ("empty-input", "empty item (base64 of zero bytes is the empty string)", b""),
        ]
        for suffix, desc, item in damaged:
            vb.add(f"{k}-{suffix}", desc, k, "strict", b64encode(item), "fail")

    return {"format": ITEMS_FORMAT, "generator": GENERATOR, "vectors": vb.vectors}


# --------------------------------------------------------------------------------------------------
# SealedSecret documents
# --------------------------------------------------------------------------------------------------

MULTI_NAME = "multi"
MULTI_NS = "keys-test"
MULTI_KEYS = ["multi-1", "multi-2", "multi-3"]
MULTI_SEALED_TO = "multi-2"
MULTI_LABELS = {"app.kubernetes.io/name": "multi"}
MULTI_DATA = {
    "username": b"admin",
    "password": "correct horse battery staple ✓\n".encode("utf-8"),
    "blob": bytes(range(255, -1, -1)) + b"\x00\xff\x80",
}

LEGACY_NAME = "legacy"
LEGACY_NS = "myns"
LEGACY_KEY = "rsa2048"
LEGACY_DATA = {"foo": b"legacy v1 secret value", "bin": b"\x00\x01\xfe\xff"}


def sealedsecret_yaml(name: str, namespace: str, spec_lines: list[str]) -> str:
    """A SealedSecret document in kubeseal's YAML shape (leading `---`, keys sorted, older
    releases' `creationTimestamp: null`). Values written here are base64 or plain identifiers,
    so no YAML quoting is needed."""
    lines = [
        "---",
        "apiVersion: bitnami.com/v1alpha1",
        "kind: SealedSecret",
        "metadata:",
        "  creationTimestamp: null",
        f"  name: {name}",
        f"  namespace: {namespace}",
        "spec:",
        *spec_lines,
    ]
    return "\n".join(lines) + "\n"


def build_multi(keys: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    label = label_for("strict", MULTI_NS, MULTI_NAME)
    pub = keys[MULTI_SEALED_TO].public_key()
    spec = ["  encryptedData:"]
    for item in sorted(MULTI_DATA):
        spec.append(f"    {item}: {b64encode(hybrid_encrypt(pub, MULTI_DATA[item], label))}")
    spec += [
        "  template:",
        "    metadata:",
        "      creationTimestamp: null",
        "      labels:",
        *[f"        {k}: {v}" for k, v in sorted(MULTI_LABELS.items())],
        f"      name: {MULTI_NAME}",
        f"      namespace: {MULTI_NS}",
        "    type: Opaque",
    ]
    expected = {
        "keys": MULTI_KEYS,
        "sealed_to": MULTI_SEALED_TO,
        "label_b64": b64encode(label),
        "data": {k: b64encode(v) for k, v in sorted(MULTI_DATA.items())},
        "type": "Opaque",
        "labels": MULTI_LABELS,
    }
    return sealedsecret_yaml(MULTI_NAME, MULTI_NS, spec), expected


def legacy_secret_json() -> bytes:
    """The v1 Secret as upstream's NewSealedSecretV1 serialized it: the k8s JSON serializer
    (runtime.Encode), i.e. Go struct field order (kind before apiVersion), metadata with
    `creationTimestamp: null`, map keys sorted, compact, plus the encoder's trailing newline."""
    secret = {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": LEGACY_NAME, "namespace": LEGACY_NS, "creationTimestamp": None},
        "data": {k: b64encode(v) for k, v in sorted(LEGACY_DATA.items())},
        "type": "Opaque",
    }
    return (json.dumps(secret, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def build_legacy(keys: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    label = label_for("strict", LEGACY_NS, LEGACY_NAME)
    plaintext = legacy_secret_json()
    blob = hybrid_encrypt(keys[LEGACY_KEY].public_key(), plaintext, label)
    doc = sealedsecret_yaml(LEGACY_NAME, LEGACY_NS, [f"  data: {b64encode(blob)}"])
    expected = {
        "keys": [LEGACY_KEY],
        "label_b64": b64encode(label),
        "plaintext": plaintext.decode("utf-8"),
        "data": {k: b64encode(v) for k, v in sorted(LEGACY_DATA.items())},
        "type": "Opaque",
    }
    return doc, expected


def dump_json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def cmd_generate() -> int:
    keys = ensure_all_keys()
    write_if_changed(HERE / "items.json", dump_json(build_items(keys)))
    doc, expected = build_multi(keys)
    write_if_changed(HERE / "sealedsecret-second-of-three.yaml", doc.encode("utf-8"))
    write_if_changed(HERE / "sealedsecret-second-of-three.expected.json", dump_json(expected))
    doc, expected = build_legacy(keys)
    write_if_changed(HERE / "legacy-v1.yaml", doc.encode("utf-8"))
    write_if_changed(HERE / "legacy-v1.expected.json", dump_json(expected))
    print(f"generated vectors in {HERE}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------------
# Batch interface for the Rust test suite
# --------------------------------------------------------------------------------------------------


class KeyCache:
    """Loads each PEM file once per batch."""

    def __init__(self) -> None:
        self._private: dict[str, Any] = {}
        self._public: dict[str, Any] = {}

    def private_rsa(self, path: str) -> rsa.RSAPrivateKey:
        if path not in self._private:
            key = load_private_key_pem(Path(path).read_bytes())  # PKCS#1 or PKCS#8
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("not an RSA private key")
            self._private[path] = key
        return self._private[path]

    def public_rsa_from_cert(self, path: str) -> rsa.RSAPublicKey:
        if path not in self._public:
            cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
            pub = cert.public_key()
            if not isinstance(pub, rsa.RSAPublicKey):
                raise ValueError("certificate does not carry an RSA public key")
            self._public[path] = pub
        return self._public[path]


def _str_field(entry: Any, field: str) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get(field), str):
        raise ValueError(f"missing or non-string field {field!r}")
    return entry[field]


def decrypt_one(cache: KeyCache, entry: Any) -> dict[str, Any]:
    try:
        key = cache.private_rsa(_str_field(entry, "key"))
        label = base64.b64decode(_str_field(entry, "label_b64"), validate=True)
        item = go_b64decode(_str_field(entry, "ciphertext_b64"))
        plaintext = hybrid_decrypt(key, item, label)
        return {"ok": True, "plaintext_b64": b64encode(plaintext)}
    except Exception as e:  # noqa: BLE001 - any failure is reported, never raised
        return {"ok": False, "error": f"{type(e).__name__}: {e}".rstrip(": ")}


def encrypt_one(cache: KeyCache, entry: Any) -> dict[str, Any]:
    try:
        if isinstance(entry, dict) and "key" in entry and "cert" not in entry:
            public_key = cache.private_rsa(_str_field(entry, "key")).public_key()
        else:
            public_key = cache.public_rsa_from_cert(_str_field(entry, "cert"))
        label = base64.b64decode(_str_field(entry, "label_b64"), validate=True)
        plaintext = base64.b64decode(_str_field(entry, "plaintext_b64"), validate=True)
        return {"ok": True, "ciphertext_b64": b64encode(hybrid_encrypt(public_key, plaintext, label))}
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "error": f"{type(e).__name__}: {e}".rstrip(": ")}


def run_batch(entries: list[Any], one: Callable[[KeyCache, Any], dict[str, Any]]) -> list[Any]:
    cache = KeyCache()
    return [one(cache, e) for e in entries]


def cmd_batch(one: Callable[[KeyCache, Any], dict[str, Any]]) -> int:
    try:
        entries = json.loads(sys.stdin.buffer.read())  # bytes: UTF-8/16/32 detected, locale ignored
    except (ValueError, UnicodeDecodeError) as e:
        print(f"independent.py: stdin is not JSON: {e}", file=sys.stderr)
        return 2
    if not isinstance(entries, list):
        print("independent.py: stdin must be a JSON array", file=sys.stderr)
        return 2
    json.dump(run_batch(entries, one), sys.stdout)
    sys.stdout.write("\n")
    return 0


# --------------------------------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------------------------------


class Checker:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed = 0

    def check(self, cond: bool, what: str) -> None:
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)


def _try_decrypt(cache: KeyCache, key_stem: str, label: bytes, text: str) -> bytes | None:
    r = decrypt_one(
        cache,
        {"key": str(KEYS_DIR / f"{key_stem}.key"), "label_b64": b64encode(label), "ciphertext_b64": text},
    )
    return base64.b64decode(r["plaintext_b64"]) if r["ok"] else None


def _repair_b64(vid: str, text: str) -> bytes:
    """Undo the single defect of a negative base64 vector (for the self-check only)."""
    if vid.endswith("-b64-urlsafe-alphabet"):
        return base64.urlsafe_b64decode(text)
    if vid.endswith("-b64-data-after-padding"):
        text = text[: -len("AAAA")]
    text = text.replace(" ", "")
    return go_b64decode(text + "=" * (-len(text) % 4))


def _yaml_map(doc: str, path: list[str]) -> dict[str, str]:
    """Tiny reader for the YAML written by `sealedsecret_yaml`: returns the `key: value` scalars
    directly under the block at `path` (2-space indentation)."""
    lines = doc.splitlines()
    depth, i = 0, 0
    for part in path:
        want = " " * (2 * depth) + part + ":"
        while i < len(lines) and lines[i].rstrip() != want:
            i += 1
        if i == len(lines):
            raise ValueError(f"no {'.'.join(path)} in document")
        i += 1
        depth += 1
    out = {}
    prefix = " " * (2 * depth)
    while i < len(lines) and lines[i].startswith(prefix):
        line = lines[i][len(prefix) :]
        if not line.startswith(" "):
            k, _, v = line.partition(": ")
            out[k] = v
        i += 1
    return out


def _check_cert(c: Checker, stem: str, key: Any, expect_expired: bool) -> None:
    cert = x509.load_pem_x509_certificate((KEYS_DIR / f"{stem}.crt").read_bytes())
    tbs = cert.tbs_certificate_bytes
    c.check(cert.version == x509.Version.v3, f"{stem}.crt: not v3")
    c.check(0 < cert.serial_number < 2**128, f"{stem}.crt: serial out of range")
    c.check(cert.subject == x509.Name([]) and cert.issuer == x509.Name([]), f"{stem}.crt: DN not empty")
    c.check(spki_der(cert.public_key()) == spki_der(key.public_key()), f"{stem}.crt: key mismatch")
    # cryptography cannot parse a KeyUsage with encipherOnly alone (same as for upstream's own
    # test certificate), so the extension bytes are checked in the DER instead.
    ku = bytes.fromhex("300e0603551d0f0101ff0404") + KEY_USAGE_ENCIPHER_ONLY_DER
    bc = bytes.fromhex("300f0603551d130101ff040530030101ff")
    c.check(ku in tbs, f"{stem}.crt: KeyUsage encipherOnly critical missing")
    c.check(bc in tbs, f"{stem}.crt: BasicConstraints CA:TRUE critical missing")
    c.check(tbs.find(ku) < tbs.find(bc), f"{stem}.crt: KeyUsage must precede BasicConstraints")
    c.check(subject_key_id(key.public_key()) in tbs, f"{stem}.crt: SubjectKeyId missing")
    c.check(cert.signature_hash_algorithm.name == "sha256", f"{stem}.crt: not SHA-256")
    now = datetime.datetime.now(datetime.timezone.utc)
    if expect_expired:
        c.check(cert.not_valid_after_utc < now, f"{stem}.crt: not expired")
    else:
        c.check(
            cert.not_valid_before_utc <= now < cert.not_valid_after_utc
            and cert.not_valid_after_utc - cert.not_valid_before_utc == CERT_TTL,
            f"{stem}.crt: validity is not now..now+87600h",
        )
    # Verify the self-signature.
    try:
        cert.verify_directly_issued_by(cert)
        signature_ok = True
    except Exception:  # noqa: BLE001
        signature_ok = False
    c.check(signature_ok, f"{stem}.crt: bad self-signature")


def cmd_selfcheck() -> int:
    c = Checker()
    cache = KeyCache()

    # ---- keys and certificates --------------------------------------------------------------
    keys: dict[str, Any] = {}
    for stem, bits in [("rsa2048", 2048), ("rsa4096", 4096), ("multi-1", 2048), ("multi-2", 2048),
                       ("multi-3", 2048), ("other-2048", 2048)]:
        pem = (KEYS_DIR / f"{stem}.key").read_bytes()
        c.check(pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n"), f"{stem}.key: not PKCS#1 PEM")
        keys[stem] = load_private_key_pem(pem)
        c.check(keys[stem].key_size == bits, f"{stem}.key: not {bits} bits")
        c.check(keys[stem].public_key().public_numbers().e == 65537, f"{stem}.key: e != 65537")
        _check_cert(c, stem, keys[stem], expect_expired=False)
    p8 = (KEYS_DIR / "rsa4096-pkcs8.key").read_bytes()
    c.check(p8.startswith(b"-----BEGIN PRIVATE KEY-----\n"), "rsa4096-pkcs8.key: not PKCS#8 PEM")
    c.check(
        load_private_key_pem(p8).private_numbers() == keys["rsa4096"].private_numbers(),
        "rsa4096-pkcs8.key: not the same key as rsa4096.key",
    )
    ec_pem = (KEYS_DIR / "ec-p256.key").read_bytes()
    c.check(ec_pem.startswith(b"-----BEGIN EC PRIVATE KEY-----\n"), "ec-p256.key: not SEC1 PEM")
    keys["ec-p256"] = load_private_key_pem(ec_pem)
    c.check(isinstance(keys["ec-p256"], ec.EllipticCurvePrivateKey), "ec-p256.key: not EC")
    _check_cert(c, "ec-p256", keys["ec-p256"], expect_expired=False)
    _check_cert(c, "expired-2048", keys["rsa2048"], expect_expired=True)

    # ---- items.json ---------------------------------------------------------------------------
    items = json.loads((HERE / "items.json").read_text("utf-8"))
    c.check(items.get("format") == ITEMS_FORMAT, "items.json: wrong format tag")
    ids = [v["id"] for v in items["vectors"]]
    c.check(len(ids) == len(set(ids)), "items.json: duplicate ids")
    n_ok = n_fail = 0
    for v in items["vectors"]:
        vid = v["id"]
        c.check(
            v["label_b64"] == b64encode(label_for(v["scope"], v["namespace"], v["name"])),
            f"{vid}: label_b64 does not match scope/namespace/name",
        )
        got = _try_decrypt(cache, v["key"], base64.b64decode(v["label_b64"]), v["ciphertext_b64"])
        if v["expect"] == "ok":
            n_ok += 1
            if got is None:
                c.check(False, f"{vid}: expected ok, decryption failed")
            elif "plaintext_b64" in v:
                c.check(got == base64.b64decode(v["plaintext_b64"]), f"{vid}: wrong plaintext")
            else:
                c.check(
                    len(got) == v["plaintext_len"]
                    and hashlib.sha256(got).hexdigest() == v["plaintext_sha256"]
                    and (v["plaintext_len"] != BIG_LEN or got == big_plaintext()),
                    f"{vid}: wrong big plaintext",
                )
        else:
            n_fail += 1
            c.check(v["expect"] == "fail", f"{vid}: expect is neither ok nor fail")
            c.check(got is None, f"{vid}: expected fail, but decrypted")
            sw = v.get("sealed_with")
            if sw is not None:
                # Opens with the key and label it was really sealed with: the vector fails only
                # because of the key/label mismatch its description names.
                real = _try_decrypt(cache, sw["key"], base64.b64decode(sw["label_b64"]), v["ciphertext_b64"])
                c.check(
                    real is not None and real == base64.b64decode(v["plaintext_b64"]),
                    f"{vid}: does not decrypt with its sealed_with key/label",
                )
            if "-b64-" in vid:
                # Base64 vectors carry a valid item: once the base64 defect is repaired it opens.
                c.check(
                    _try_decrypt(cache, v["key"], base64.b64decode(v["label_b64"]),
                                 b64encode(_repair_b64(vid, v["ciphertext_b64"]))) is not None,
                    f"{vid}: repaired base64 does not decrypt",
                )
    c.check(n_ok > 0 and n_fail > 0, "items.json: missing ok or fail vectors")

    # ---- SealedSecret sealed to the second of three keys -------------------------------------
    exp = json.loads((HERE / "sealedsecret-second-of-three.expected.json").read_text("utf-8"))
    doc = (HERE / "sealedsecret-second-of-three.yaml").read_text("utf-8")
    meta = _yaml_map(doc, ["metadata"])
    label = label_for("strict", meta["namespace"], meta["name"])
    enc = _yaml_map(doc, ["spec", "encryptedData"])
    c.check(sorted(enc) == sorted(exp["data"]), "multi: item names differ from expected")
    for item, text in enc.items():
        opened = {stem: _try_decrypt(cache, stem, label, text) for stem in exp["keys"]}
        winners = [stem for stem, pt in opened.items() if pt is not None]
        c.check(winners == [MULTI_SEALED_TO], f"multi/{item}: decrypts with {winners}")
        c.check(
            opened.get(MULTI_SEALED_TO) == base64.b64decode(exp["data"][item]),
            f"multi/{item}: wrong plaintext",
        )

    # ---- legacy v1 blob ---------------------------------------------------------------------------
    exp = json.loads((HERE / "legacy-v1.expected.json").read_text("utf-8"))
    doc = (HERE / "legacy-v1.yaml").read_text("utf-8")
    meta = _yaml_map(doc, ["metadata"])
    spec = _yaml_map(doc, ["spec"])
    c.check(set(spec) == {"data"}, "legacy: spec must hold only `data`")
    label = label_for("strict", meta["namespace"], meta["name"])
    pt = _try_decrypt(cache, exp["keys"][0], label, spec.get("data", ""))
    c.check(pt is not None and pt.decode("utf-8") == exp["plaintext"], "legacy: wrong plaintext")
    if pt is not None:
        inner = json.loads(pt)
        c.check(inner.get("data") == exp["data"], "legacy: data map differs from expected")
        c.check(list(inner)[:2] == ["kind", "apiVersion"], "legacy: not in Go field order")

    # ---- batch interface: round trip and robustness ------------------------------------------
    cert4096 = str(KEYS_DIR / "rsa4096.crt")
    sealed = run_batch(
        [
            {"cert": cert4096, "label_b64": b64encode(b"a/b"), "plaintext_b64": b64encode(b"hi")},
            {"cert": str(KEYS_DIR / "ec-p256.crt"), "label_b64": "", "plaintext_b64": ""},
            {"cert": "/nonexistent.crt", "label_b64": "", "plaintext_b64": ""},
            "not an object",
        ],
        encrypt_one,
    )
    c.check(sealed[0]["ok"] and not any(r["ok"] for r in sealed[1:]), "encrypt-batch: results")
    key4096 = str(KEYS_DIR / "rsa4096.key")
    key4096p8 = str(KEYS_DIR / "rsa4096-pkcs8.key")
    opened = run_batch(
        [
            {"key": key4096, "label_b64": b64encode(b"a/b"), "ciphertext_b64": sealed[0]["ciphertext_b64"]},
            {"key": key4096p8, "label_b64": b64encode(b"a/b"), "ciphertext_b64": sealed[0]["ciphertext_b64"]},
            {"key": key4096, "label_b64": b64encode(b"a/c"), "ciphertext_b64": sealed[0]["ciphertext_b64"]},
            {"key": str(KEYS_DIR / "ec-p256.key"), "label_b64": "", "ciphertext_b64": "AAAA"},
            {"key": "/nonexistent.key", "label_b64": "", "ciphertext_b64": ""},
            {"key": key4096, "label_b64": "!!", "ciphertext_b64": ""},
            {"key": key4096, "label_b64": "", "ciphertext_b64": 5},
            {"key": str(HERE / "items.json"), "label_b64": "", "ciphertext_b64": ""},
            None,
            [],
        ],
        decrypt_one,
    )
    c.check(
        [r["ok"] for r in opened] == [True, True] + [False] * 8
        and opened[0]["plaintext_b64"] == b64encode(b"hi")
        and opened[1]["plaintext_b64"] == b64encode(b"hi"),
        f"decrypt-batch: results {opened}",
    )

    for f in c.failures:
        print(f"FAIL {f}", file=sys.stderr)
    print(
        f"selfcheck: {c.passed} checks passed, {len(c.failures)} failed "
        f"({n_ok} ok vectors, {n_fail} fail vectors)",
        file=sys.stderr,
    )
    return 1 if c.failures else 0


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------

USAGE = "usage: independent.py {generate|selfcheck|decrypt-batch|encrypt-batch}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "generate":
        return cmd_generate()
    if cmd == "selfcheck":
        return cmd_selfcheck()
    if cmd == "decrypt-batch":
        return cmd_batch(decrypt_one)
    if cmd == "encrypt-batch":
        return cmd_batch(encrypt_one)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
