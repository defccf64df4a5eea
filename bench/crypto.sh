#!/usr/bin/env bash
# Seal/unseal cost of sealant-core against the bare primitives and `openssl speed`.
#
# Runs the criterion benches `core/benches/item.rs` (RSA items) and `core/benches/age.rs` (age
# items), each followed by its CPU-time pass, and `openssl speed` in one go, then prints
# markdown tables of medians and ratios (and writes them to -o). Only the ratios mean anything:
# the absolute figures depend on the machine and on what else it runs.
#
#   bash bench/crypto.sh                 # full run, about 4-5 minutes
#   bash bench/crypto.sh --quick         # CI smoke run: proves the pipeline, figures are rough
#   bash bench/crypto.sh -o report.md    # also write the report there
#                                        # (default: <target dir>/bench/crypto.md)
#   bash bench/crypto.sh --json r.json   # also write the figures as JSON (for bench/run.sh)
#
# Needs cargo, python3 (JSON) and openssl on PATH; installs nothing.
set -euo pipefail

usage() {
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
}

quick=0
out=""
json_out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        -o | --output)
            [[ $# -ge 2 ]] || { echo "crypto.sh: $1 needs a path" >&2; exit 2; }
            out="$2"
            shift
            ;;
        --json)
            [[ $# -ge 2 ]] || { echo "crypto.sh: $1 needs a path" >&2; exit 2; }
            json_out="$2"
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) echo "crypto.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

for tool in cargo python3 openssl; do
    command -v "$tool" >/dev/null || { echo "crypto.sh: $tool not found on PATH" >&2; exit 1; }
done

if [[ -n "$json_out" && "$json_out" != /* ]]; then
    json_out="$PWD/$json_out"
fi
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup crypto.md

if [[ $quick -eq 1 ]]; then
    mode="quick (smoke test: short measurements, figures are rough)"
    criterion_args=(--warm-up-time 0.1 --measurement-time 0.3 --sample-size 10 --noplot)
    cpu_seconds=0.3
    openssl_seconds=1
else
    mode="full"
    criterion_args=(--noplot)
    cpu_seconds=5
    openssl_seconds=3
fi

# Only estimates written by this run count: older ones may belong to renamed benches.
stamp="$target_dir/bench/crypto.stamp"
touch "$stamp"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# After criterion, the bench times the same operations again in thread CPU time, interleaved
# (see core/benches/item.rs), and writes the medians to $cpu_json.
cpu_json="$target_dir/bench/item-cpu.json"
age_json="$target_dir/bench/age-cpu.json"
rm -f "$cpu_json" "$age_json"
echo "crypto.sh: criterion bench item ($mode)" >&2
SEALANT_BENCH_CPU_OUT="$cpu_json" SEALANT_BENCH_CPU_SECS="$cpu_seconds" \
    cargo bench --locked -p sealant-core --bench item -- "${criterion_args[@]}" >&2
echo "crypto.sh: criterion bench age ($mode)" >&2
SEALANT_BENCH_CPU_OUT="$age_json" SEALANT_BENCH_CPU_SECS="$cpu_seconds" \
    cargo bench --locked -p sealant-core --bench age -- "${criterion_args[@]}" >&2

# -mr: machine-readable lines. openssl speed divides by user CPU time (unless -elapsed), which
# is what the CPU-time pass measures too.
echo "crypto.sh: openssl speed -seconds $openssl_seconds rsa2048 rsa4096 ecdhx25519" >&2
openssl_out="$target_dir/bench/openssl-speed.txt"
openssl speed -mr -seconds "$openssl_seconds" rsa2048 rsa4096 ecdhx25519 >"$openssl_out" 2>&1 || {
    cat "$openssl_out" >&2
    echo "crypto.sh: openssl speed failed" >&2
    exit 1
}
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

report="$(
    CRITERION_DIR="$target_dir/criterion" STAMP="$stamp" CPU_JSON="$cpu_json" AGE_JSON="$age_json" \
    JSON_OUT="$json_out" \
    OPENSSL_OUT="$openssl_out" MODE="$mode" LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" \
    NPROC="$(nproc)" \
    CPU="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)" \
    RUSTC="$(rustc --version)" OPENSSL_VERSION="$(openssl version)" \
    REV="$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')" \
    python3 - <<'PY'
import json
import os
import pathlib
import sys

criterion = pathlib.Path(os.environ["CRITERION_DIR"])
stamp = pathlib.Path(os.environ["STAMP"]).stat().st_mtime


def fail(message):
    print(f"crypto.sh: {message}", file=sys.stderr)
    sys.exit(1)


# Criterion: <group>/<function>/new/{benchmark,estimates}.json, times in nanoseconds (wall).
wall = {}
for meta_path in criterion.glob("*/*/new/benchmark.json"):
    if meta_path.stat().st_mtime < stamp:
        continue
    meta = json.loads(meta_path.read_text())
    est = json.loads((meta_path.parent / "estimates.json").read_text())
    wall[(meta["group_id"], meta["function_id"])] = est["median"]["point_estimate"] / 1000.0

# The CPU-time pass: {group: {function: {median_cpu_ns}, rounds}, clock_overhead_ns}.
cpu_path = pathlib.Path(os.environ["CPU_JSON"])
if not cpu_path.exists():
    fail(f"the bench wrote no CPU-time results to {cpu_path}")
cpu = json.loads(cpu_path.read_text())

age_path = pathlib.Path(os.environ["AGE_JSON"])
if not age_path.exists():
    fail(f"the age bench wrote no CPU-time results to {age_path}")
age = json.loads(age_path.read_text())

# openssl speed -mr: "+F2:<n>:<bits>:<sign/s>:<verify/s>" (private op, public op; PKCS#1 v1.5),
# "+F5:<n>:<bits>:<ops/s>:<s/op>" (ECDH; 253 bits is X25519).
openssl = {}
openssl_x25519 = None
for line in pathlib.Path(os.environ["OPENSSL_OUT"]).read_text().splitlines():
    if line.startswith("+F2:"):
        _, _, bits, sign_per_s, verify_per_s = line.split(":")[:5]
        openssl[int(bits)] = {"private": 1e6 / float(sign_per_s), "public": 1e6 / float(verify_per_s)}
    elif line.startswith("+F5:") and line.split(":")[2] == "253":
        openssl_x25519 = 1e6 / float(line.split(":")[3])
if openssl_x25519 is None:
    fail("openssl speed printed no result for ecdhx25519")

ROWS = [
    # operation, bench function, raw baseline function, openssl operation
    ("seal (32-byte value)", "seal", "raw_oaep_encrypt", "public"),
    ("unseal, ring of 1", "unseal_ring1", "raw_oaep_decrypt", "private"),
    ("unseal, ring of 5, hinted", "unseal_ring5_hinted", "raw_oaep_decrypt", "private"),
    ("unseal, ring of 5, right key last, no hint", "unseal_ring5_last_nohint", "raw_oaep_decrypt", "private"),
]
BASELINES = [
    ("RSA-OAEP-SHA256 encrypt", "raw_oaep_encrypt", "public"),
    ("RSA-OAEP-SHA256 decrypt", "raw_oaep_decrypt", "private"),
]
SIZES = (2048, 4096)


def get_wall(bits, function):
    value = wall.get((f"rsa{bits}", function))
    if value is None:
        fail(f"no fresh criterion estimate for rsa{bits}/{function} under {criterion}")
    return value


def get_cpu(bits, function):
    try:
        return cpu[f"rsa{bits}"][function]["median_cpu_ns"] / 1000.0
    except KeyError:
        fail(f"no CPU-time median for rsa{bits}/{function} in {cpu_path}")


def get_openssl(bits, op):
    if bits not in openssl:
        fail(f"openssl speed printed no result for rsa{bits}")
    return openssl[bits][op]


def us(value):
    return f"{value:,.1f}"


out = [
    "# sealant-core crypto benchmark",
    "",
    f"Mode: {os.environ['MODE']}.",
    "",
    "Read the ratios: every figure below was measured in this run, on a machine that may be shared,",
    "and absolute times depend on the machine and its load.",
    "",
    "## Per operation, in CPU time",
    "",
    "*ours* and *aws-lc raw* are medians of thread CPU time from a pass that alternates all the",
    f"operations call by call ({cpu['rsa2048']['rounds']} rounds for RSA-2048, {cpu['rsa4096']['rounds']} for RSA-4096);",
    "*openssl speed* is its default figure, user CPU time per operation. CPU time does not count time",
    "spent waiting for the core, so these ratios hold on a busy machine.",
    "",
    "| operation | key size | ours (µs) | aws-lc raw primitive (µs) | openssl speed (µs/op) | ours/raw | ours/openssl |",
    "|---|---|--:|--:|--:|--:|--:|",
]
for bits in SIZES:
    for label, ours_fn, raw_fn, op in ROWS:
        ours, raw, ossl = get_cpu(bits, ours_fn), get_cpu(bits, raw_fn), get_openssl(bits, op)
        out.append(f"| {label} | RSA-{bits} | {us(ours)} | {us(raw)} | {us(ossl)} | {ours / raw:.2f} | {ours / ossl:.2f} |")
out += [
    "",
    "## The same, from criterion (wall clock, one bench after another)",
    "",
    "Medians of criterion's samples. On a quiet machine they match the table above; when they",
    "differ, the machine was busy (a bench and its baseline ran under different load, and long",
    "operations get preempted more often than short ones).",
    "",
    "| operation | key size | ours (µs) | aws-lc raw primitive (µs) | ours/raw |",
    "|---|---|--:|--:|--:|",
]
for bits in SIZES:
    for label, ours_fn, raw_fn, _ in ROWS:
        ours, raw = get_wall(bits, ours_fn), get_wall(bits, raw_fn)
        out.append(f"| {label} | RSA-{bits} | {us(ours)} | {us(raw)} | {ours / raw:.2f} |")
out += [
    "",
    "## The primitives: AWS-LC against OpenSSL",
    "",
    "The bare aws-lc-rs primitive (CPU time, from the first table) against `openssl speed`, whose",
    "private-key figure is a raw RSA private operation (`sign`, PKCS#1 v1.5 padding, no OAEP/MGF1",
    "hashing) and whose public-key figure is `verify`.",
    "",
    "| primitive | key size | aws-lc raw (µs) | openssl speed (µs/op) | aws-lc/openssl |",
    "|---|---|--:|--:|--:|",
]
for bits in SIZES:
    for label, raw_fn, op in BASELINES:
        raw, ossl = get_cpu(bits, raw_fn), get_openssl(bits, op)
        out.append(f"| {label} | RSA-{bits} | {us(raw)} | {us(ossl)} | {raw / ossl:.2f} |")

# age: ours against the fastest raw primitive of the libraries in the build.
AGE_KINDS = [
    ("X25519", "age_x25519", {"awslc": "aws-lc-rs", "dalek": "x25519-dalek"}),
    ("post-quantum (ML-KEM-768 + X25519)", "age_pq", {"awslc": "aws-lc-rs", "rustcrypto": "ml-kem + x25519-dalek"}),
]


def get_age(group, function):
    try:
        return age[group][function]["median_cpu_ns"] / 1000.0
    except KeyError:
        fail(f"no CPU-time median for {group}/{function} in {age_path}")


age_results = {}
out += [
    "",
    "## age items, in CPU time",
    "",
    "One 32-byte value sealed to / opened with one age recipient, against the raw primitives it",
    "contains: the key agreement from each library in the build (seal: ephemeral key + X25519,",
    "plus one ML-KEM-768 encapsulation, the X-Wing combiner and the HPKE key schedule for the",
    "post-quantum type; open: one X25519, plus one decapsulation, combiner and key schedule), then",
    "the item's symmetric work on aws-lc-rs (HKDF, the file key's ChaCha20-Poly1305, the header's",
    "HMAC-SHA256, the payload's ChaCha20-Poly1305, at the real item's sizes; see",
    "`core/benches/age.rs`). The ratio is against the fastest. `openssl speed ecdhx25519` times one",
    "X25519 derive (OpenSSL 3.0 has no ML-KEM). Medians of interleaved thread CPU time",
    f"({age['age_x25519']['rounds']} rounds for X25519, {age['age_pq']['rounds']} for post-quantum).",
    "",
    "| operation | ours (µs) | raw primitive per library (µs) | fastest raw (µs) | openssl speed (µs/op) | ours/fastest raw |",
    "|---|--:|---|--:|--:|--:|",
]
for label, group, libs in AGE_KINDS:
    for op in ("seal", "open"):
        ours = get_age(group, op)
        raws = {name: get_age(group, f"raw_{op}_{lib}") for lib, name in libs.items()}
        fastest_name, fastest = min(raws.items(), key=lambda kv: kv[1])
        ossl = openssl_x25519 if (group == "age_x25519" and op == "open") else None
        per_lib = ", ".join(f"{name} {us(v)}" for name, v in raws.items())
        out.append(f"| {op}, {label} | {us(ours)} | {per_lib} | {us(fastest)} ({fastest_name}) | "
                   f"{us(ossl) if ossl else '—'} | {ours / fastest:.2f} |")
        age_results[f"{group}/{op}"] = {"ours_us": ours, "raw_us": raws, "fastest_raw_us": fastest,
                                        "fastest_lib": fastest_name, "openssl_us": ossl, "ratio": ours / fastest}

before = age["age_x25519"].get("open_age_crate_identity", {}).get("median_cpu_ns")
pk = age["age_x25519"].get("dalek_public_key", {}).get("median_cpu_ns")
if before is not None and pk is not None:
    out += [
        "",
        "For the record: the same X25519 item opened through the `age` crate's own identity",
        f"(x25519-dalek, its public key derived again per stanza) takes {us(before / 1000)} µs, of which",
        f"{us(pk / 1000)} µs is that public key; sealant's X25519 and ML-KEM run on aws-lc-rs",
        "(`core/src/age/x25519.rs`, `core/src/age/pq.rs`).",
    ]

out += [
    "",
    "## Machine",
    "",
    f"- CPU: {os.environ['CPU']} ({os.environ['NPROC']} cores available)",
    f"- load average (1/5/15 min): {os.environ['LOAD_BEFORE']} before, {os.environ['LOAD_AFTER']} after",
    f"- {os.environ['RUSTC']}",
    f"- {os.environ['OPENSSL_VERSION']}",
    f"- sealant revision: {os.environ['REV']}",
    f"- CPU clock overhead subtracted per call: {cpu['clock_overhead_ns']:.0f} ns",
]
rsa_results = {}
for bits in SIZES:
    for label, ours_fn, raw_fn, op in ROWS:
        ours, raw, ossl = get_cpu(bits, ours_fn), get_cpu(bits, raw_fn), get_openssl(bits, op)
        rsa_results[f"rsa{bits}/{ours_fn}"] = {
            "label": label, "bits": bits, "ours_us": ours, "raw_us": raw, "openssl_us": ossl,
            "ratio_raw": ours / raw, "ratio_openssl": ours / ossl,
            "wall_ours_us": get_wall(bits, ours_fn), "wall_raw_us": get_wall(bits, raw_fn),
        }
    for label, raw_fn, op in BASELINES:
        rsa_results[f"rsa{bits}/{raw_fn}"] = {"label": label, "bits": bits, "raw_us": get_cpu(bits, raw_fn),
                                              "openssl_us": get_openssl(bits, op)}
if os.environ.get("JSON_OUT"):
    pathlib.Path(os.environ["JSON_OUT"]).write_text(json.dumps({
        "mode": os.environ["MODE"],
        "rounds": {"rsa2048": cpu["rsa2048"]["rounds"], "rsa4096": cpu["rsa4096"]["rounds"],
                   "age_x25519": age["age_x25519"]["rounds"], "age_pq": age["age_pq"]["rounds"]},
        "rsa": rsa_results,
        "age": age_results,
        "openssl_x25519_us": openssl_x25519,
        "openssl_version": os.environ["OPENSSL_VERSION"],
        "load_before": os.environ["LOAD_BEFORE"],
        "load_after": os.environ["LOAD_AFTER"],
    }, indent=2))
print("\n".join(out))
PY
)"

printf '%s\n' "$report" | tee "$out"
echo "crypto.sh: report written to $out" >&2
