#!/usr/bin/env bash
# Profiles the controller while N new SealedSecrets sync on the test control plane: heap
# (heaptrack: who holds the memory at its peak) and/or CPU (perf, software clock, DWARF call
# graphs: where the sync's CPU goes). For finding the cause of a gap bench/run.sh reports; the
# figures themselves come from bench/run.sh.
#
#   bash bench/profile.sh                     # heaptrack, N = 1000
#   bash bench/profile.sh --tool perf -n 5000
#   bash bench/profile.sh -o DIR              # keep the raw profiles there
#                                             # (default: <target dir>/bench/profile)
#   bash bench/profile.sh --bin PATH          # profile this controller binary instead (a
#                                             # candidate fix built elsewhere, with symbols)
#   bash bench/profile.sh --sealant PATH      # seal with this CLI instead of a release build
#
# Builds a glibc release controller with symbols and line tables in <target dir>/profile
# (heaptrack interposes malloc through LD_PRELOAD, which a static musl binary does not allow;
# the Rust allocations are the same in both builds). Prints the top consumers as markdown.
# Needs heaptrack or perf (Debian: heaptrack, linux-perf); installs nothing.
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

n=1000
tool=heaptrack
out=""
bin=""
sealant_bin=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        -n)
            [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "profile.sh: -n needs a number" >&2; exit 2; }
            n="$2"
            shift
            ;;
        --tool)
            [[ $# -ge 2 && "$2" =~ ^(heaptrack|perf)$ ]] || { echo "profile.sh: --tool is heaptrack or perf" >&2; exit 2; }
            tool="$2"
            shift
            ;;
        --bin)
            [[ $# -ge 2 && -x "$2" ]] || { echo "profile.sh: --bin needs an executable" >&2; exit 2; }
            bin="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
            shift
            ;;
        --sealant)
            [[ $# -ge 2 && -x "$2" ]] || { echo "profile.sh: --sealant needs an executable" >&2; exit 2; }
            sealant_bin="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
            shift
            ;;
        -o)
            [[ $# -ge 2 ]] || { echo "profile.sh: -o needs a directory" >&2; exit 2; }
            out="$2"
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) echo "profile.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
command -v "$tool" >/dev/null || { echo "profile.sh: $tool not found (Debian package: ${tool/perf/linux-perf})" >&2; exit 1; }

given_out="$out"
out=""
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup profile.md
out="${given_out:-$target_dir/bench/profile}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [[ -z "$bin" ]]; then
    echo "profile.sh: building the controller with symbols into $target_dir/profile" >&2
    CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
        cargo build --release --locked -q -p sealant-controller --target-dir "$target_dir/profile" >&2
    bin="$target_dir/profile/release/sealant-controller"
fi
if [[ -z "$sealant_bin" ]]; then
    cargo build --release --locked -q -p sealant >&2
    sealant_bin="$target_dir/release/sealant"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/sealant-profile.XXXXXX")"
cluster="$work/cluster"
runner=""
cleanup() {
    if [[ -n "$runner" ]]; then kill "$runner" 2>/dev/null || true; fi
    bash tests/cluster/down.sh "$cluster" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
KUBECONFIG="$(bash tests/cluster/up.sh "$cluster")"
export KUBECONFIG
kubectl apply -f deploy/crd.yaml >/dev/null
kubectl wait --for=condition=established crd/sealedsecrets.bitnami.com >/dev/null
kubectl create namespace bench >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port="$(free_port)"
metrics_port="$(free_port)"
args=(--kubeconfig "$KUBECONFIG" --controller-namespace bench --all-namespaces=false
    --additional-namespaces load --leader-elect=false --listen-addr "127.0.0.1:$api_port"
    --listen-metrics-addr "127.0.0.1:$metrics_port" --log-level WARN)
if [[ $tool == heaptrack ]]; then
    rm -f "$out"/heaptrack*
    heaptrack -o "$out/heaptrack" "$bin" "${args[@]}" >"$work/runner.log" 2>&1 &
    runner=$!
else
    "$bin" "${args[@]}" >"$work/runner.log" 2>&1 &
    runner=$!
fi
until curl -sf -o "$work/cert.pem" "127.0.0.1:$api_port/v1/cert.pem"; do
    kill -0 "$runner" 2>/dev/null || { cat "$work/runner.log" >&2; exit 1; }
    sleep 0.2
done
# The controller itself: heaptrack's script runs it as a child.
ctl_pid="$runner"
if [[ $tool == heaptrack ]]; then
    ctl_pid="$(pgrep -P "$runner" -f "$bin" | head -n1)"
fi
perf_pid=""
if [[ $tool == perf ]]; then
    perf record -e cpu-clock -F 199 --call-graph dwarf,32768 -p "$ctl_pid" -o "$out/perf.data" \
        >"$work/perf.log" 2>&1 &
    perf_pid=$!
    sleep 1
fi
python3 bench/controller.py load --cluster-dir "$cluster" --metrics-port "$metrics_port" \
    --cert "$work/cert.pem" --sealant "$sealant_bin" --namespace load -n "$n"
rss="$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$ctl_pid/status")"
echo "profile.sh: controller RSS with $n in sync: $rss MiB" >&2
if [[ -n "$perf_pid" ]]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
fi
kill -TERM "$ctl_pid"
wait "$runner" || true
runner=""

if [[ $tool == heaptrack ]]; then
    data=""
    for f in "$out"/heaptrack.zst "$out"/heaptrack.gz "$out"/heaptrack; do
        [[ -f "$f" ]] && { data="$f"; break; }
    done
    [[ -n "$data" ]] || { echo "profile.sh: heaptrack wrote no data in $out" >&2; exit 1; }
    heaptrack_print -f "$data" --print-peaks 0 --print-allocators 0 --print-temporary 0 \
        --print-leaks 0 --print-flamegraph "$out/heap-peak.folded" --flamegraph-cost-type peak \
        >"$out/heaptrack-summary.txt" 2>&1
    echo "## heaptrack, $n SealedSecrets (RSS $rss MiB with heaptrack): heap at its peak"
    echo
    grep -E "^(peak heap memory consumption|peak RSS|total runtime)" "$out/heaptrack-summary.txt" | sed 's/^/- /'
    echo
    echo "Grouped by the innermost four source frames outside the allocator and std collections"
    echo "(full stacks: $out/heap-peak.folded, flamegraph format):"
    echo
    python3 - "$out/heap-peak.folded" <<'PY'
import collections, re, sys
GENERIC = re.compile(r"\((alloc|raw_vec|vec|boxed|string|mod|map|rc|sync|clone|spec_from_iter_nested|"
                     r"spec_extend|spec_from_iter|borrow|slice|str|fmt|arc|option|node|function)\.rs\)$")
agg = collections.Counter()
for line in open(sys.argv[1]):
    stack, cost = line.rsplit(" ", 1)
    frames = [re.sub(r"<.*>", "<>", f)[:60] for f in stack.split(";")
              if re.search(r"\(\w+\.rs\)$", f) and not GENERIC.search(f) and not f.startswith("_R")]
    agg[" <- ".join(frames[::-1][:4]) or "(no source frame)"] += int(cost)
print("| MiB | where (innermost first) |")
print("|--:|---|")
for where, cost in agg.most_common(15):
    print(f"| {cost / 2**20:.2f} | {where} |")
PY
else
    perf report -i "$out/perf.data" --no-children --stdio --percent-limit 1.5 \
        --sort symbol -g none 2>/dev/null >"$out/perf-report.txt"
    echo "## perf, $n SealedSecrets: controller CPU by function (self time)"
    echo
    echo '```'
    grep -v '^#' "$out/perf-report.txt" | grep -v '^$' | head -n 40
    echo '```'
fi
echo "profile.sh: raw profile in $out" >&2
