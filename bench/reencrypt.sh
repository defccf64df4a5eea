#!/usr/bin/env bash
# Bulk offline re-encryption: `sealant reencrypt --private-key OLD --cert NEW DIR` of N
# SealedSecrets × 3 items (RSA-4096, one file each), against its floor measured in the same run:
# 3·N × (one RSA-OAEP private operation + one public operation), bare aws-lc-rs, on every core
# the process may use (core/benches/bulk.rs). The two alternate, REPS times each, so both see
# the same machine; the report gives the medians and their ratio.
#
#   bash bench/reencrypt.sh                # N = 1000, 3 repetitions
#   bash bench/reencrypt.sh --quick        # CI smoke run: N = 100, 1 repetition
#   bash bench/reencrypt.sh -n 2000 --reps 5
#   bash bench/reencrypt.sh -o report.md   # also write the report there
#                                          # (default: <target dir>/bench/reencrypt.md)
#   bash bench/reencrypt.sh --json r.json  # also write the figures as JSON (for bench/run.sh)
#
# Checks that every re-encrypted SealedSecret is sealed to the new key and that a sample opens
# with it to the original values. Needs cargo, python3 and openssl; installs nothing.
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

n=1000
reps=3
quick=0
out=""
json_out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        -n | --reps)
            [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "reencrypt.sh: $1 needs a positive number" >&2; exit 2; }
            if [[ "$1" == -n ]]; then n="$2"; else reps="$2"; fi
            shift
            ;;
        --quick) quick=1 ;;
        -o | --output)
            [[ $# -ge 2 ]] || { echo "reencrypt.sh: $1 needs a path" >&2; exit 2; }
            out="$2"
            shift
            ;;
        --json)
            [[ $# -ge 2 ]] || { echo "reencrypt.sh: $1 needs a path" >&2; exit 2; }
            json_out="$2"
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) echo "reencrypt.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [[ $quick -eq 1 ]]; then
    n=100
    reps=1
fi
for tool in cargo python3 openssl; do
    command -v "$tool" >/dev/null || { echo "reencrypt.sh: $tool not found on PATH" >&2; exit 1; }
done
if [[ -n "$json_out" && "$json_out" != /* ]]; then
    json_out="$PWD/$json_out"
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup reencrypt.md

echo "reencrypt.sh: building sealant (release) and the bulk floor bench" >&2
# The package set of controller.sh and cli-seal.sh, so the one release build serves all three.
cargo build --release --locked -q -p sealant-controller -p sealant >&2
sealant="$target_dir/release/sealant"
floor_bin="$(cargo bench --locked -q -p sealant-core --bench bulk --no-run --message-format=json |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "bulk" and m.get("executable"):
        print(m["executable"])
')"
[[ -x "$floor_bin" ]] || { echo "reencrypt.sh: could not find the bulk bench executable" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/sealant-bench-reencrypt.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export KUBECONFIG=""
old_key="$root/core/tests/vectors/keys/rsa4096.key"
old_cert="$root/core/tests/vectors/keys/rsa4096.crt"
# The new key: RSA-4096 like the controller's default, PKCS#1 as the controller writes it.
openssl genrsa -traditional -out "$work/new.key" 4096 2>/dev/null
openssl req -new -x509 -key "$work/new.key" -subj "/O=sealant-bench" -days 30 -out "$work/new.crt" 2>/dev/null

echo "reencrypt.sh: sealing $n SealedSecrets × 3 items to the old key" >&2
python3 - "$n" "$work/secrets.yaml" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write(f"---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s{i}, namespace: bench}}\n"
                f"stringData: {{a: va{i}, b: vb{i}, c: vc{i}}}\n")
PY
"$sealant" seal -f "$work/secrets.yaml" --cert "$old_cert" >"$work/sealed.yaml"
mkdir "$work/input"
python3 - "$work/sealed.yaml" "$work/input" "$n" <<'PY'
import sys
text, out, n = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
docs = [d for d in text.split("\n---\n") if "kind: SealedSecret" in d]
assert len(docs) == n, f"expected {n} SealedSecrets, got {len(docs)}"
for i, doc in enumerate(docs):
    body = doc[4:] if doc.startswith("---\n") else doc
    with open(f"{out}/s{i:05d}.yaml", "w") as f:
        f.write("---\n" + body.rstrip("\n") + "\n")
PY

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
# Alternating: floor, sealant, floor, sealant, ... Wall and CPU (user+sys) per run.
: >"$work/runs"
for rep in $(seq 1 "$reps"); do
    echo "reencrypt.sh: repetition $rep/$reps: floor ($((3 * n)) private+public pairs)" >&2
    SEALANT_BULK_PAIRS=$((3 * n)) "$floor_bin" >>"$work/runs"
    rm -rf "$work/tree"
    cp -r "$work/input" "$work/tree"
    echo "reencrypt.sh: repetition $rep/$reps: sealant reencrypt of $n files" >&2
    python3 - "$sealant" "$old_key" "$work/new.crt" "$work/tree" >>"$work/runs" <<'PY'
import json, os, resource, subprocess, sys, time
sealant, old_key, new_cert, tree = sys.argv[1:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
subprocess.run([sealant, "reencrypt", "--private-key", old_key, "--cert", new_cert, tree],
               check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"sealant": True, "wall_s": wall, "cpu_s": cpu, "maxrss_kib": after.ru_maxrss}))
PY
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# The result must be real: every file now sealed to the new key, and a sample opens with it.
"$sealant" reencrypt --check --private-key "$old_key" --cert "$work/new.crt" "$work/tree" >/dev/null || {
    echo "reencrypt.sh: some SealedSecrets are not sealed to the new key after reencrypt" >&2
    exit 1
}
for i in 0 $((n / 2)) $((n - 1)); do
    "$sealant" unseal -f "$work/tree/s$(printf %05d "$i").yaml" --recovery-private-key "$work/new.key" -o json |
        python3 -c '
import base64, json, sys
secret = json.load(sys.stdin)
i = secret["metadata"]["name"][1:]
data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
assert data == {"a": f"va{i}", "b": f"vb{i}", "c": f"vc{i}"}, data
' || {
        echo "reencrypt.sh: re-encrypted file $i does not open to its values with the new key" >&2
        exit 1
    }
done

report="$(
    RUNS="$work/runs" N="$n" REPS="$reps" LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" \
    JSON_OUT="$json_out" python3 - <<'PY'
import json, os, statistics
n, reps = int(os.environ["N"]), int(os.environ["REPS"])
runs = [json.loads(line) for line in open(os.environ["RUNS"])]
floor = [r for r in runs if "pairs" in r]
ours = [r for r in runs if r.get("sealant")]
fw = statistics.median(r["wall_s"] for r in floor)
ow = statistics.median(r["wall_s"] for r in ours)
fc = statistics.median(r["cpu_s"] for r in floor)
oc = statistics.median(r["cpu_s"] for r in ours)
threads = floor[0]["threads"]
pairs = floor[0]["pairs"]
# The ideal: every pair's CPU cost, spread perfectly over the cores.
ideal = fc / threads
result = {
    "n": n, "items": 3 * n, "reps": reps, "threads": threads,
    "sealant_wall_s": ow, "sealant_cpu_s": oc, "sealant_maxrss_mib": max(r["maxrss_kib"] for r in ours) / 1024,
    "floor_wall_s": fw, "floor_cpu_s": fc, "floor_ideal_s": ideal,
    "ratio_wall": ow / fw, "ratio_cpu": oc / fc,
    "sealant_walls": [r["wall_s"] for r in ours], "floor_walls": [r["wall_s"] for r in floor],
    "load_before": os.environ["LOAD_BEFORE"], "load_after": os.environ["LOAD_AFTER"],
}
if os.environ.get("JSON_OUT"):
    open(os.environ["JSON_OUT"], "w").write(json.dumps(result, indent=2))
print("\n".join([
    f"## Bulk offline re-encryption ({n} SealedSecrets × 3 items, RSA-4096 → RSA-4096)",
    "",
    f"Medians of {reps} alternating repetition(s). The floor is {pairs} × (RSA-OAEP private + public",
    f"operation), bare aws-lc-rs, on {threads} threads (core/benches/bulk.rs). CPU is user+system time of",
    "all threads; wall/CPU below the thread count means the cores were not all ours.",
    "",
    "| run | wall (s) | CPU (s) | CPU/wall |",
    "|---|--:|--:|--:|",
    f"| `sealant reencrypt --private-key OLD --cert NEW DIR` ({n} files) | {ow:.2f} | {oc:.2f} | {oc / ow:.2f} |",
    f"| floor: {pairs} private+public pairs on {threads} threads | {fw:.2f} | {fc:.2f} | {fc / fw:.2f} |",
    f"| floor, ideal: its CPU time / {threads} cores | {ideal:.2f} | | |",
    "",
    f"Ratio sealant/floor: **{ow / fw:.2f}** wall, {oc / fc:.2f} CPU.",
    f"Load average (1/5/15 min): {os.environ['LOAD_BEFORE']} before, {os.environ['LOAD_AFTER']} after.",
]))
PY
)"
printf '%s\n' "$report" | tee "$out"
echo "reencrypt.sh: report written to $out" >&2
