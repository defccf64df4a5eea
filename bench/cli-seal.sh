#!/usr/bin/env bash
# Whole-process cost of `sealant seal` against a whole process doing one RSA public operation.
#
# Builds the release binary, writes a Secret with three items, and times
#   sealant seal -f secret.yaml --cert core/tests/vectors/keys/rsa4096.crt
# and, as a baseline measured in the same run, `openssl pkeyutl -encrypt` (RSA-OAEP-SHA256) of one
# 32-byte key with the same certificate's public key. Prints the medians and their ratio as a
# markdown table (and writes it to -o). Start-up, parsing, three RSA-4096 encryptions and
# output are all in the sealant figure; the baseline is one process and one RSA operation.
#
#   bash bench/cli-seal.sh                # full run: 100 runs of each (about half a minute)
#   bash bench/cli-seal.sh --quick        # CI smoke run: 10 runs, figures are rough
#   bash bench/cli-seal.sh --runs 300     # more runs
#   bash bench/cli-seal.sh -o report.md   # also write the report there
#                                         # (default: <target dir>/bench/cli-seal.md)
#   bash bench/cli-seal.sh --no-install   # never apt-get install hyperfine
#   bash bench/cli-seal.sh --json r.json  # also write the figures as JSON (for bench/run.sh)
#
# Uses hyperfine when it is installed; otherwise installs it with apt-get if that is possible
# (root, or passwordless sudo), else falls back to a python3 timing loop.
# Needs cargo, python3 and openssl on PATH.
set -euo pipefail

usage() {
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
}

quick=0
runs=""
out=""
json_out=""
install=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        --runs)
            [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -ge 2 ]] || {
                echo "cli-seal.sh: --runs needs a number of at least 2" >&2
                exit 2
            }
            runs="$2"
            shift
            ;;
        -o | --output)
            [[ $# -ge 2 ]] || { echo "cli-seal.sh: $1 needs a path" >&2; exit 2; }
            out="$2"
            shift
            ;;
        --json)
            [[ $# -ge 2 ]] || { echo "cli-seal.sh: $1 needs a path" >&2; exit 2; }
            json_out="$2"
            shift
            ;;
        --no-install) install=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "cli-seal.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

for tool in cargo python3 openssl; do
    command -v "$tool" >/dev/null || { echo "cli-seal.sh: $tool not found on PATH" >&2; exit 1; }
done

if [[ $quick -eq 1 ]]; then
    mode="quick (smoke test: few runs, figures are rough)"
    runs="${runs:-10}"
    warmup=2
else
    mode="full"
    runs="${runs:-100}"
    warmup=10
fi

if [[ -n "$json_out" && "$json_out" != /* ]]; then
    json_out="$PWD/$json_out"
fi
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup cli-seal.md

# The same package set as controller.sh and deploy/image/build-dynamic.sh: cargo resolves
# features per set, so building `-p sealant` alone would rebuild the shared crates once more.
echo "cli-seal.sh: cargo build --release --locked -p sealant-controller -p sealant" >&2
cargo build --release --locked -p sealant-controller -p sealant >&2
sealant="$target_dir/release/sealant"
cert="$root/core/tests/vectors/keys/rsa4096.crt"
key="$root/core/tests/vectors/keys/rsa4096.key"

# hyperfine: use it, or install it (Debian package) when we may, or time with python3.
if ! command -v hyperfine >/dev/null && [[ $install -eq 1 ]] && command -v apt-get >/dev/null; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); else sudo=(false); fi
    fi
    if [[ "${sudo[0]:-}" != false ]]; then
        echo "cli-seal.sh: installing hyperfine with apt-get" >&2
        { "${sudo[@]}" apt-get install -y hyperfine >&2 ||
            { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y hyperfine >&2; }; } ||
            echo "cli-seal.sh: could not install hyperfine; timing with python3 instead" >&2
    fi
fi

# Before HOME changes below (rustup finds its toolchains through it).
rustc_version="$(rustc --version 2>/dev/null || echo 'rustc: unknown')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# No kubeconfig: sealant must not read one (the Secret names its namespace).
export KUBECONFIG="" HOME="$work"
unset SEALED_SECRETS_CERT SEALED_SECRETS_CONTROLLER_NAME SEALED_SECRETS_CONTROLLER_NAMESPACE

cat >"$work/secret.yaml" <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: db-creds
  namespace: bench
type: Opaque
data:
  username: YXBw
stringData:
  password: correct horse battery staple
  url: postgres://app@db.bench.svc:5432/app?sslmode=require
EOF
head -c 32 /dev/urandom >"$work/session.key"

seal_cmd=("$sealant" seal -f "$work/secret.yaml" --cert "$cert")
# Context only: the same process with no work at all (start-up and exit).
floor_cmd=("$sealant" --version)
openssl_cmd=(openssl pkeyutl -encrypt -certin -inkey "$cert" -in "$work/session.key"
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -out "$work/session.enc")

# Both commands must work, and what sealant prints must open again with the private key.
"${seal_cmd[@]}" >"$work/sealed.yaml"
"$sealant" unseal -f "$work/sealed.yaml" --recovery-private-key "$key" -o json |
    python3 -c '
import base64, json, sys
data = json.load(sys.stdin)["data"]
assert sorted(data) == ["password", "url", "username"], data
assert base64.b64decode(data["username"]) == b"app", data
' || { echo "cli-seal.sh: sealant output did not unseal to the input" >&2; exit 1; }
"${openssl_cmd[@]}"
[[ $(stat -c %s "$work/session.enc") -eq 512 ]] || {
    echo "cli-seal.sh: openssl did not produce one RSA-4096 block" >&2
    exit 1
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null; then
    timer="$(hyperfine --version)"
    echo "cli-seal.sh: $timer, $runs runs each ($mode)" >&2
    # -N: no intermediate shell, so neither figure includes a shell's start-up.
    hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$work/times.json" \
        --command-name sealant "$(printf '%q ' "${seal_cmd[@]}")" \
        --command-name openssl "$(printf '%q ' "${openssl_cmd[@]}")" \
        --command-name floor "$(printf '%q ' "${floor_cmd[@]}")" >&2
    TIMES_JSON="$work/times.json" python3 - >"$work/medians" <<'PY'
import json, os
results = json.load(open(os.environ["TIMES_JSON"]))["results"]
for r in results:
    print(r["command"], r["median"] * 1000, min(r["times"]) * 1000, max(r["times"]) * 1000, len(r["times"]))
PY
else
    timer="python3 timing loop (subprocess.run, time.perf_counter)"
    echo "cli-seal.sh: hyperfine not available; $timer, $runs runs each ($mode)" >&2
    RUNS="$runs" WARMUP="$warmup" python3 - "${#seal_cmd[@]}" "${#openssl_cmd[@]}" \
        "${seal_cmd[@]}" "${openssl_cmd[@]}" "${floor_cmd[@]}" >"$work/medians" <<'PY'
import os, statistics, subprocess, sys, time
n, m = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[3:]
commands = {"sealant": argv[:n], "openssl": argv[n:n + m], "floor": argv[n + m:]}
runs, warmup = int(os.environ["RUNS"]), int(os.environ["WARMUP"])
times = {name: [] for name in commands}
for i in range(warmup + runs):
    for name, argv in commands.items():  # interleaved, so drift hits both alike
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times[name].append(elapsed * 1000)
for name, t in times.items():
    print(name, statistics.median(t), min(t), max(t), len(t))
PY
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

report="$(
    MEDIANS="$work/medians" MODE="$mode" JSON_OUT="$json_out" TIMER="$timer" LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" \
    NPROC="$(nproc)" \
    CPU="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)" \
    RUSTC="$rustc_version" OPENSSL_VERSION="$(openssl version)" \
    REV="$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')" \
    python3 - <<'PY'
import os
rows = {}
for line in open(os.environ["MEDIANS"]):
    name, median, low, high, n = line.split()
    rows[name] = (float(median), float(low), float(high), int(n))
seal, base, floor = rows["sealant"], rows["openssl"], rows["floor"]
if os.environ.get("JSON_OUT"):
    import json
    keys = ("median_ms", "min_ms", "max_ms", "runs")
    open(os.environ["JSON_OUT"], "w").write(json.dumps({
        "mode": os.environ["MODE"], "timer": os.environ["TIMER"],
        "sealant": dict(zip(keys, seal)), "openssl": dict(zip(keys, base)), "floor": dict(zip(keys, floor)),
        "ratio": seal[0] / base[0],
        "load_before": os.environ["LOAD_BEFORE"], "load_after": os.environ["LOAD_AFTER"],
    }, indent=2))
out = [
    "# sealant CLI whole-process benchmark",
    "",
    f"Mode: {os.environ['MODE']}. Timer: {os.environ['TIMER']}. Wall-clock per process, in ms.",
    "Compare the ratio, not the absolute times: both were measured in the same run, on a machine",
    "that may be shared.",
    "",
    "| command | runs | median (ms) | min (ms) | max (ms) |",
    "|---|--:|--:|--:|--:|",
    f"| `sealant seal -f secret.yaml --cert rsa4096.crt` (3 items) | {seal[3]} | {seal[0]:.2f} | {seal[1]:.2f} | {seal[2]:.2f} |",
    f"| `openssl pkeyutl -encrypt` OAEP-SHA256, 32 bytes, same cert | {base[3]} | {base[0]:.2f} | {base[1]:.2f} | {base[2]:.2f} |",
    f"| `sealant --version` (start-up and exit only; context) | {floor[3]} | {floor[0]:.2f} | {floor[1]:.2f} | {floor[2]:.2f} |",
    "",
    f"Ratio sealant/openssl (medians): **{seal[0] / base[0]:.2f}**",
    "",
    "Machine:",
    "",
    f"- CPU: {os.environ['CPU']} ({os.environ['NPROC']} cores available)",
    f"- load average (1/5/15 min): {os.environ['LOAD_BEFORE']} before, {os.environ['LOAD_AFTER']} after",
    f"- {os.environ['RUSTC']}",
    f"- {os.environ['OPENSSL_VERSION']}",
    f"- sealant revision: {os.environ['REV']}",
]
print("\n".join(out))
PY
)"

printf '%s\n' "$report" | tee "$out"
echo "cli-seal.sh: report written to $out" >&2
