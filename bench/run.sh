#!/usr/bin/env bash
# The whole benchmark suite in one command: regenerates docs/benchmarks.md.
#
#   bash bench/run.sh                  # full run (~30 min on 2 cores, plus builds); writes docs/benchmarks.md
#   bash bench/run.sh --quick          # CI smoke run (a few minutes): small N, short
#                                      # measurements; writes <target dir>/bench/benchmarks-quick.md
#   bash bench/run.sh -o FILE          # write the report there instead
#   bash bench/run.sh --only crypto,cli,reencrypt,controller,tenants,keyprotect   # a subset (default: all)
#
# Sections, each with a baseline measured in the same run (see bench/README.md):
#   crypto      per item seal/unseal, RSA-2048/4096 and age, against the raw primitive
#               (bench/crypto.sh)
#   cli         whole-process `sealant seal` against `openssl pkeyutl` (bench/cli-seal.sh)
#   reencrypt   offline `sealant reencrypt` of 1,000 SealedSecrets × 3 items against its RSA floor
#               (bench/reencrypt.sh)
#   controller  N = 1,000 and 5,000 on the test control plane, then a backlog of 50,000 and a
#               restart (bench/controller.sh --large 50000; ~15 of the 30 min; not with --quick)
#   tenants     the hostile-tenant e2e suite: peak RSS and victim latency under attack
#               (bench/tenants.sh; full runs only: CI's e2e step runs the same suite)
#   keyprotect  start-up cost of key protection: unwrap of 1, 10, 100 keys through SoftHSM2
#               (bench/keyprotect.sh)
# then a table of the issue's targets, each met or not met, and the machine's state.
#
# Installs what it needs and lacks through bench/setup.sh (openssl, hyperfine, the musl
# toolchain). Exits non-zero if any section fails; figures are never asserted.
set -euo pipefail

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

mode=full
out=""
only="crypto,cli,reencrypt,controller,tenants,keyprotect"
command_line="bash bench/run.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) mode=quick ;;
        --full) mode=full ;;
        -o | --output)
            [[ $# -ge 2 ]] || { echo "run.sh: $1 needs a path" >&2; exit 2; }
            out="$2"
            shift
            ;;
        --only)
            [[ $# -ge 2 && "$2" =~ ^(crypto|cli|reencrypt|controller|tenants|keyprotect)(,(crypto|cli|reencrypt|controller|tenants|keyprotect))*$ ]] || {
                echo "run.sh: --only needs a comma-separated subset of crypto,cli,reencrypt,controller,tenants,keyprotect" >&2
                exit 2
            }
            only="$2"
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
wants() { [[ ",$only," == *",$1,"* ]]; }

bash "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
given_out="$out"
bench_setup benchmarks-quick.md
if [[ -z "$given_out" && $mode == full ]]; then
    out="$root/docs/benchmarks.md"
fi

data="$target_dir/bench/run"
rm -rf "$data"
mkdir -p "$data"
started=$SECONDS

probes="$data/probes.jsonl"
: >"$probes"
# Cores kept busy by other processes over 3 s while this run does nothing.
probe() {
    python3 - "$1" >>"$probes" <<'PY'
import json, os, sys, time
def sample():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f[:8]) - f[3] - f[4], sum(f[:8])
b0, t0 = sample()
time.sleep(3)
b1, t1 = sample()
cores = os.cpu_count()
print(json.dumps({"section": sys.argv[1], "busy_cores": (b1 - b0) / (t1 - t0) * cores,
                  "loadavg": " ".join(open("/proc/loadavg").read().split()[:3])}))
PY
}

quick_flag=()
[[ $mode == quick ]] && quick_flag=(--quick)
if wants crypto; then
    probe crypto
    echo "run.sh: == crypto ($mode)" >&2
    bash bench/crypto.sh "${quick_flag[@]}" --json "$data/crypto.json" -o "$data/crypto.md" >/dev/null
fi
if wants cli; then
    probe cli
    echo "run.sh: == cli ($mode)" >&2
    bash bench/cli-seal.sh "${quick_flag[@]}" --json "$data/cli.json" -o "$data/cli.md" >/dev/null
fi
if wants reencrypt; then
    probe reencrypt
    echo "run.sh: == reencrypt ($mode)" >&2
    bash bench/reencrypt.sh "${quick_flag[@]}" --json "$data/reencrypt.json" -o "$data/reencrypt.md" >/dev/null
fi
if wants controller; then
    probe controller
    echo "run.sh: == controller ($mode)" >&2
    # Full: N = 1,000 and 5,000, then a backlog of 50,000 and a restart (the large phase).
    sizes=(-n "1000,5000" --large 50000)
    [[ $mode == quick ]] && sizes=(--quick)
    bash bench/controller.sh "${sizes[@]}" --json "$data/controller.json" -o "$data/controller.md" >/dev/null
fi
if wants tenants && [[ $mode == full ]]; then
    probe tenants
    echo "run.sh: == tenants ($mode)" >&2
    bash bench/tenants.sh --json "$data/tenants.json" >/dev/null
fi
if wants keyprotect; then
    probe keyprotect
    echo "run.sh: == keyprotect ($mode)" >&2
    bash bench/keyprotect.sh --json "$data/keyprotect.json" >/dev/null
fi

dirty=""
[[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]] || dirty=" (with uncommitted changes)"
MODE="$mode" COMMAND="$command_line" DURATION=$((SECONDS - started)) PROBES="$probes" \
    REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')$dirty" \
    CPU="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)" \
    RUSTC="$(rustc --version)" OPENSSL="$(openssl version)" \
    TIMER="$(hyperfine --version 2>/dev/null || echo 'python3 timing loop')" \
    python3 - >"$data/machine.json" <<'PY'
import json, os, platform, time
mem_kib = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
print(json.dumps({
    "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    "mode": os.environ["MODE"] + (" (reduced: small N and short measurements; figures are rough)"
                                  if os.environ["MODE"] == "quick" else ""),
    "command": os.environ["COMMAND"],
    "cpu": os.environ["CPU"], "cores": os.cpu_count(), "memory": f"{mem_kib / 2**20:.1f} GiB",
    "kernel": platform.release(), "rustc": os.environ["RUSTC"], "openssl": os.environ["OPENSSL"],
    "timer": os.environ["TIMER"], "revision": os.environ["REVISION"],
    "duration_s": int(os.environ["DURATION"]),
    "probes": [json.loads(l) for l in open(os.environ["PROBES"])],
}, indent=2))
PY

# The report's own tests (pictures, published figures, targets) on a fixture, then the report;
# its pictures go next to it (<report stem>-*.svg).
python3 -m unittest discover -s bench/tests >&2
python3 bench/report.py full "$data" "$out" >"$out.tmp"
mv "$out.tmp" "$out"
echo "run.sh: report written to $out (data in $data)" >&2
