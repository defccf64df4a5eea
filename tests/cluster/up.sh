#!/usr/bin/env bash
# Start a throwaway Kubernetes control plane on loopback: etcd,
# kube-apiserver and kube-controller-manager, on free ports, with all state in
# DIR. Prints the admin kubeconfig path on stdout; progress goes to stderr.
#
# Usage: up.sh [DIR]    (DIR defaults to $SEALANT_CLUSTER_DIR or /tmp/sealant-cluster)
# Stop with: down.sh DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

READY_TIMEOUT="${SEALANT_CLUSTER_READY_TIMEOUT:-180}"
dir="${1:-$(default_cluster_dir)}"

# A fresh data dir every time: stale etcd data or keys would leak between runs.
if [[ -e "$dir" && -n "$(ls -A "$dir")" ]]; then
  die "$dir is not empty: run '$here/down.sh $dir' first, or pick another DIR"
fi
bin="$(bash "$here/build.sh")"
started=$SECONDS

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
touch "$dir/$CLUSTER_MARKER"
mkdir -p "$dir/pki" "$dir/pids" "$dir/logs" "$dir/etcd" "$dir/apiserver"
chmod 700 "$dir/pki"

# On failure: say why and show the component's log; the EXIT trap then
# stops whatever was started.
fail() {
  local name=$1
  shift
  log "error: $name: $*"
  if [[ -f "$dir/logs/$name.log" ]]; then
    log "last lines of $dir/logs/$name.log:"
    tail -n 30 "$dir/logs/$name.log" >&2
  fi
  exit 1
}
# Any exit before the cluster is ready (a failed check, set -e, Ctrl-C)
# stops what was started, so no half-up cluster is left running.
ready=0
on_exit() {
  [[ $ready -eq 1 ]] && return 0
  stop_components "$dir" || true
  log "up failed; logs are kept in $dir/logs, '$here/down.sh $dir' removes them"
}
trap on_exit EXIT
trap 'fail "${current:-up.sh}" "interrupted"' INT TERM

# --- ports: free loopback ports, never fixed ones, so clusters can coexist.
# Drawn below the kernel's ephemeral range (32768+) so outgoing connections
# do not grab them between the check and the bind.
taken=" "
pick_port() {
  local p _
  for _ in {1..500}; do
    p=$((20000 + RANDOM % 12000))
    [[ "$taken" == *" $p "* ]] && continue
    [[ -z "$(ss -Hatn "sport = :$p")" ]] || continue
    taken+="$p "
    printf -v "$1" '%s' "$p"
    return 0
  done
  die "found no free loopback port"
}
etcd_port='' etcd_peer_port='' api_port='' cm_port=''
pick_port etcd_port
pick_port etcd_peer_port
pick_port api_port
pick_port cm_port

# --- keys and credentials.
pki="$dir/pki"
# Run a chatty command, showing its output only if it fails.
quiet() {
  local out
  out="$("$@" 2>&1)" || { log "error: $* failed:"; printf '%s\n' "$out" >&2; return 1; }
}
# A CA and a serving cert for 127.0.0.1, shared by the apiserver and the
# controller-manager, so clients verify TLS instead of skipping it.
quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=sealant test CA" -keyout "$pki/ca.key" -out "$pki/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=127.0.0.1" -keyout "$pki/serving.key" -out "$pki/serving.csr"
quiet openssl x509 -req -in "$pki/serving.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
  -CAcreateserial -CAserial "$pki/ca.srl" -days 30 -out "$pki/serving.crt" \
  -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost")
# Service-account token signing key pair.
quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key"
openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
# Static admin token; group system:masters bypasses RBAC.
token="$(openssl rand -hex 32)"
printf '%s,sealant-admin,sealant-admin,"system:masters"\n' "$token" >"$pki/tokens.csv"
# Kept in a file so the token never shows up in `ps`.
printf 'Authorization: Bearer %s\n' "$token" >"$pki/auth-header"

kubeconfig="$dir/kubeconfig"
(
  umask 077
  cat >"$kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: sealant-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: sealant-admin
  user:
    token: $token
contexts:
- name: sealant-test
  context:
    cluster: sealant-test
    user: sealant-admin
    namespace: default
current-context: sealant-test
KUBECONFIG
)

cat >"$dir/cluster.env" <<ENV
ETCD_URL=http://127.0.0.1:$etcd_port
APISERVER_URL=https://127.0.0.1:$api_port
CONTROLLER_MANAGER_URL=https://127.0.0.1:$cm_port
KUBECONFIG=$kubeconfig
ENV

# --- starting and watching components.

# Start NAME in its own session (so a terminal's hangup or Ctrl-C does not
# reach it) and record (pid, start time) for down.sh.
start() {
  local name=$1
  shift
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo "$! $(proc_starttime "$!")" >"$dir/pids/$name"
}

# Poll URL until it answers 2xx; fail early if NAME has exited.
wait_ready() {
  local name=$1 url=$2
  shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  # --noproxy: this traffic must stay on loopback whatever the environment says.
  until curl -fsS --noproxy '*' --max-time 5 "$@" "$url" >/dev/null 2>&1; do
    is_running "$dir" "$name" || fail "$name" "exited before it was ready"
    ((SECONDS < deadline)) || fail "$name" "not ready after ${READY_TIMEOUT}s (polling $url)"
    sleep 0.5
  done
}
api() { echo "https://127.0.0.1:$api_port$1"; }
api_auth=(--cacert "$pki/ca.crt" -H "@$pki/auth-header")

current=etcd
start etcd /usr/bin/etcd \
  --name sealant --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "sealant=http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster-state new --logger zap
wait_ready etcd "http://127.0.0.1:$etcd_port/health"

# --endpoint-reconciler-type=none: the `kubernetes` Service would otherwise
# point at 127.0.0.1, which endpoints may not. No Service IP is ever dialled
# by these tests; the range only has to be valid. --client-ca-file makes the
# apiserver publish the extension-apiserver-authentication ConfigMap that the
# controller-manager's delegated authentication waits for.
current=kube-apiserver
start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --secure-port "$api_port" --insecure-port 0 \
  --tls-cert-file "$pki/serving.crt" --tls-private-key-file "$pki/serving.key" \
  --cert-dir "$dir/apiserver" \
  --token-auth-file "$pki/tokens.csv" \
  --client-ca-file "$pki/ca.crt" \
  --authorization-mode RBAC \
  --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range 10.0.0.0/24 \
  --endpoint-reconciler-type none \
  --profiling=false
wait_ready kube-apiserver "$(api /readyz)" "${api_auth[@]}"

# Only the controllers the tests rely on: ownerReference GC, namespace
# deletion, default service accounts with their tokens, and Deployments (a
# rollout is a new ReplicaSet: tests/tests/rollout.rs; no Pods without the
# ReplicaSet controller).
current=kube-controller-manager
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$kubeconfig" \
  --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$cm_port" --port 0 \
  --tls-cert-file "$pki/serving.crt" --tls-private-key-file "$pki/serving.key" \
  --leader-elect=false \
  --controllers garbagecollector,namespace,serviceaccount,serviceaccount-token,deployment \
  --service-account-private-key-file "$pki/sa.key" \
  --root-ca-file "$pki/ca.crt" \
  --profiling=false
wait_ready kube-controller-manager "https://127.0.0.1:$cm_port/healthz" --cacert "$pki/ca.crt"
# Healthy is not yet working: wait until it has reconciled something.
wait_ready kube-controller-manager "$(api /api/v1/namespaces/default/serviceaccounts/default)" "${api_auth[@]}"

ready=1
trap - INT TERM
log "cluster up in $((SECONDS - started))s: API server https://127.0.0.1:$api_port, state in $dir"
echo "$kubeconfig"
