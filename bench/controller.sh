#!/usr/bin/env bash
# The controller at scale on the project's test control plane (tests/cluster): N new
# SealedSecrets (3 items each, RSA-4096) to Synced, a restart with all N in sync, memory, and
# API requests per SealedSecret. Release builds; one throwaway cluster per run.
#
#   bash bench/controller.sh               # N = 1000
#   bash bench/controller.sh -n 5000       # N = 5000
#   bash bench/controller.sh --quick       # CI smoke run: N = 50, figures are rough
#   bash bench/controller.sh -o report.md  # also write the report there
#                                          # (default: <target dir>/bench/controller.md)
#
# Figures, all from this run:
#   - create: wall time for the N creates alone (8 parallel kubectl clients): the floor set by
#     the API server and the client, shown so the controller's share can be read off;
#   - synced: from the first create until all N report Synced=True;
#   - latency: one more SealedSecret created right after the N, while they are still queued;
#   - restart: the controller is stopped and started again with all N in sync; time to /readyz,
#     time until it has looked at all N, and the RSA operations it made (expected: 0);
#   - RSS idle (keys loaded, nothing to do) and with N objects after the restart;
#   - API requests per SealedSecret (the controller's own count, watches excluded).
# Tests never assert on these; this script prints them.
set -euo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

n=1000
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        -n) n="$2"; shift 2 ;;
        --quick) n=50; shift ;;
        -o) out="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "controller.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup controller.md

cargo build --release --locked -q -p sealant-controller -p sealant
ctl_bin="$target_dir/release/sealant-controller"
cli_bin="$target_dir/release/sealant"

work="$(mktemp -d "${TMPDIR:-/tmp}/sealant-bench-ctl.XXXXXX")"
cluster="$work/cluster"
ctl_pid=""
cleanup() {
    [[ -n "$ctl_pid" ]] && kill "$ctl_pid" 2>/dev/null || true
    bash tests/cluster/down.sh "$cluster" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

KUBECONFIG="$(bash tests/cluster/up.sh "$cluster")"
export KUBECONFIG
kubectl apply -f deploy/crd.yaml >/dev/null
kubectl wait --for=condition=established crd/sealedsecrets.bitnami.com >/dev/null
kubectl create namespace bench >/dev/null

api_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_controller() {
    "$ctl_bin" --kubeconfig "$KUBECONFIG" --controller-namespace bench --all-namespaces=false \
        --leader-elect=false --listen-addr "127.0.0.1:$api_port" \
        --listen-metrics-addr "127.0.0.1:$metrics_port" --log-level WARN \
        >>"$work/controller.log" 2>&1 &
    ctl_pid=$!
}
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$ctl_pid/status"; }
metric() { # sum of a metric's series whose line matches $1
    curl -sf "127.0.0.1:$metrics_port/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {print s + 0}'
}
wait_until() { # $1: description, rest: command that succeeds when done; 20 min at most
    local what="$1"; shift
    local deadline=$((SECONDS + 1200))
    until "$@"; do
        if (( SECONDS > deadline )); then
            echo "controller.sh: timed out waiting for $what" >&2
            tail -20 "$work/controller.log" >&2
            exit 1
        fi
        sleep 0.2
    done
}

start_controller
wait_until "the controller's certificate" curl -sf -o "$work/cert.pem" "127.0.0.1:$api_port/v1/cert.pem"
sleep 1
rss_idle=$(rss_mib)

python3 - "$n" "$work/secrets" <<'PY'
import os, sys
n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out)
chunks = 8
for c in range(chunks):
    with open(f"{out}/chunk{c}.yaml", "w") as f:
        for i in range(c, n, chunks):
            f.write(f"---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s{i}, namespace: bench}}\n"
                    f"stringData: {{a: va{i}, b: vb{i}, c: vc{i}}}\n")
PY
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: probe, namespace: bench}\nstringData: {a: x, b: y, c: z}\n' \
    > "$work/secrets/probe.yaml"
for chunk in "$work"/secrets/chunk*.yaml "$work/secrets/probe.yaml"; do
    "$cli_bin" seal -f "$chunk" --cert "$work/cert.pem" -w "${chunk%.yaml}.sealed.yaml"
done

synced_count() {
    kubectl get sealedsecrets -n bench \
        -o jsonpath='{range .items[*]}{.status.conditions[0].status}{"\n"}{end}' 2>/dev/null |
        grep -c True || true
}
all_synced() { [[ "$(synced_count)" -ge $((n + 1)) ]]; }
requests_before=$(( $(metric 'sealant_kube_requests_total') - $(metric 'sealant_kube_requests_total{verb="watch"}') ))

t0=$(now)
creators=()
for chunk in "$work"/secrets/chunk*.sealed.yaml; do
    kubectl create -f "$chunk" >/dev/null &
    creators+=($!)
done
wait "${creators[@]}"
t_created=$(now)
# One more while the N are still queued: how long a newcomer waits behind a burst.
kubectl create -f "$work/secrets/probe.sealed.yaml" >/dev/null
t_probe=$(now)
probe_synced() {
    [[ "$(kubectl get sealedsecret -n bench probe -o jsonpath='{.status.conditions[0].status}' 2>/dev/null)" == True ]]
}
wait_until "the probe SealedSecret" probe_synced
t_probe_synced=$(now)
wait_until "$n SealedSecrets Synced" all_synced
t_synced=$(now)
requests_after=$(( $(metric 'sealant_kube_requests_total') - $(metric 'sealant_kube_requests_total{verb="watch"}') ))
by_verb=$(curl -sf "127.0.0.1:$metrics_port/metrics" | awk -F'[{}"]' '/^sealant_kube_requests_total/ && $3 != "watch" {split($0, f, " "); printf "%s%s %s", sep, $3, f[2]; sep=", "}')
rss_loaded=$(rss_mib)

kill "$ctl_pid"
wait "$ctl_pid" 2>/dev/null || true
t_restart=$(now)
start_controller
wait_until "readiness after the restart" curl -sf -o /dev/null "127.0.0.1:$api_port/readyz"
t_ready=$(now)
seen() { [[ "$(metric 'sealed_secrets_controller_unseal_requests_total')" -ge $((n + 1)) ]]; }
wait_until "the restarted controller to look at all $n" seen
t_seen=$(now)
rsa_ops=$(metric 'sealant_unseal_rsa_operations_total{source="reconcile"}')
rss_restart=$(rss_mib)

per_object=$(python3 -c "print(f'{($requests_after - $requests_before) / ($n + 1):.2f}')")
report=$(cat <<EOF
## Controller on the test control plane (N = $n, 3 items each, RSA-4096)

Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); Kubernetes $(kubectl version -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])' 2>/dev/null || echo unknown) (tests/cluster).

| figure | value |
|---|---|
| $n creates alone (8 kubectl clients) | $(elapsed "$t0" "$t_created") s |
| first create → all $n Synced | $(elapsed "$t0" "$t_synced") s |
| one more SealedSecret created right after the $n → Synced | $(elapsed "$t_created" "$t_probe_synced") s (its create: $(elapsed "$t_created" "$t_probe") s) |
| restart → ready | $(elapsed "$t_restart" "$t_ready") s |
| restart → all $n looked at | $(elapsed "$t_restart" "$t_seen") s |
| RSA operations after the restart | $rsa_ops |
| RSS idle | $rss_idle MiB |
| RSS with $n (after the sync) | $rss_loaded MiB |
| RSS with $n (after the restart) | $rss_restart MiB |
| API requests per SealedSecret (watches excluded) | $per_object |
| API requests during the sync, by verb (incl. start-up) | $by_verb |
EOF
)
printf '%s\n' "$report" | tee "$out"
