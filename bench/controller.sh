#!/usr/bin/env bash
# The controller at scale on the project's test control plane (tests/cluster): N new
# SealedSecrets (3 items each, RSA-4096) to Synced, a restart with all N in sync, memory, API
# requests per SealedSecret, and who used the CPU meanwhile. Release builds; one throwaway
# cluster per run. The driver is bench/controller.py.
#
#   bash bench/controller.sh                  # N = 1000
#   bash bench/controller.sh -n 1000,5000     # one after the other, in one cluster
#   bash bench/controller.sh --quick          # CI smoke run: N = 50, figures are rough
#   bash bench/controller.sh -o report.md     # also write the report there
#                                             # (default: <target dir>/bench/controller.md)
#   bash bench/controller.sh --json r.json    # also write the figures as JSON (bench/run.sh)
#   bash bench/controller.sh --no-backlog     # skip the backlog phase
#   bash bench/controller.sh --large 50000    # also a backlog of 50,000 and a restart (full runs
#                                             # only; ~10-15 min: ~10 s per 1,000 to sync on 2 cores)
#
# Two builds: the static musl binary the image ships (deploy/image/build-static.sh; needs
# musl-tools and the Rust musl target, which tests/setup-deploy.sh installs), which drives
# every phase, and the glibc release build, measured idle and on a restart for comparison.
#
# Per N, all in this run:
#   - idle: RSS of each build with its keys loaded and nothing to watch;
#   - live: N creates from 8 parallel clients while the controller runs (their wall time alone
#     is the API server's floor), first create → all N Synced, and one more SealedSecret
#     created right after the N, while they are still queued: its time to Synced;
#   - restart with all N in sync, for both builds: time to /readyz, time until the controller
#     has looked at all N, the RSA operations it made (expected 0), RSS;
#   - backlog: N created while no controller watches, then the controller starts: start → all
#     N Synced (the controller's throughput without the creates competing for the CPU); once it
#     is ready, one newcomer is created: its time to Synced and how many of the N still waited
#     then (new objects first);
#   - --large N: the backlog phase (in its own namespace) and a restart at that N, deployed
#     build only: start → all Synced, the newcomer, API requests per object, controller CPU
#     seconds, RSS after the backlog and after the restart, the restart's RSA operations;
#   - the driver seals in chunks into a file and the 8 clients read it line by line (it never
#     holds all N), LISTs in pages, and its time limits grow with N (0.1 s per object);
#   - for the report's plots: objects created and Synced over time per phase ("curves") and the
#     highest RSS per N ("rss_points") in the JSON;
#   - for each timed window: CPU seconds of the controller, kube-apiserver, etcd,
#     kube-controller-manager, the driver and everything else, and the API server's request
#     rate (its own apiserver_request_total).
# Tests never assert on these; this script prints them.
set -euo pipefail

usage() { sed -n '2,42p' "$0" | sed 's/^# \{0,1\}//'; }

sizes=1000
out=""
json_out=""
backlog=1
large=0
quick=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -n)
            [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || {
                echo "controller.sh: -n needs N or N,N,..." >&2
                exit 2
            }
            sizes="$2"
            shift
            ;;
        --quick) sizes=50; quick=1 ;;
        --large)
            [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || { echo "controller.sh: --large needs N" >&2; exit 2; }
            large="$2"
            shift
            ;;
        --no-backlog) backlog=0 ;;
        -o | --output)
            [[ $# -ge 2 ]] || { echo "controller.sh: $1 needs a path" >&2; exit 2; }
            out="$2"
            shift
            ;;
        --json)
            [[ $# -ge 2 ]] || { echo "controller.sh: $1 needs a path" >&2; exit 2; }
            json_out="$2"
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) echo "controller.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [[ $quick -eq 1 && $large -ne 0 ]]; then
    echo "controller.sh: --large is for full runs, not --quick" >&2
    exit 2
fi
for tool in cargo python3 kubectl curl; do
    command -v "$tool" >/dev/null || { echo "controller.sh: $tool not found on PATH" >&2; exit 1; }
done
if [[ -n "$json_out" && "$json_out" != /* ]]; then
    json_out="$PWD/$json_out"
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup controller.md

echo "controller.sh: building the controller (glibc and static musl) and sealant" >&2
cargo build --release --locked -q -p sealant-controller -p sealant >&2
glibc_bin="$target_dir/release/sealant-controller"
cli_bin="$target_dir/release/sealant"
bash deploy/image/build-static.sh "$target_dir/bench/static" >&2 || {
    echo "controller.sh: the static (musl) build failed; tests/setup-deploy.sh installs musl-tools and the target" >&2
    exit 1
}
musl_bin="$target_dir/bench/static/sealant-controller"

work="$(mktemp -d "${TMPDIR:-/tmp}/sealant-bench-ctl.XXXXXX")"
cluster="$work/cluster"
cleanup() {
    bash tests/cluster/down.sh "$cluster" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

KUBECONFIG="$(bash tests/cluster/up.sh "$cluster")"
export KUBECONFIG
kubectl apply -f deploy/crd.yaml >/dev/null
kubectl wait --for=condition=established crd/sealedsecrets.bitnami.com >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
extra=()
[[ $backlog -eq 1 ]] || extra+=(--no-backlog)
[[ $large -eq 0 ]] || extra+=(--large "$large")
json="${json_out:-$work/controller.json}"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/controller.py --cluster-dir "$cluster" --kubeconfig "$KUBECONFIG" \
    --bin "$musl_bin" --build "static musl (deployed)" --other-bin "$glibc_bin" --other-build glibc \
    --sealant "$cli_bin" --work "$work" --api-port "$(free_port)" --metrics-port "$(free_port)" \
    --sizes "$sizes" --json "$json" "${extra[@]}" || {
    echo "controller.sh: the run failed; last controller log lines:" >&2
    tail -n 20 "$work"/controller-*.log >&2 2>/dev/null || true
    exit 1
}
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$json" "$load_before" "$load_after" \
    "$(kubectl version -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])' 2>/dev/null || echo unknown)" <<'PY'
import json, sys
path, before, after, version = sys.argv[1:]
data = json.load(open(path))
data.update(load_before=before, load_after=after, kubernetes=version)
open(path, "w").write(json.dumps(data, indent=2))
PY
python3 bench/report.py section controller "$json" | tee "$out"
echo "controller.sh: report written to $out" >&2
