# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings here are used by the scripts that source it
# Shared settings for the test control-plane scripts. Sourced, never run.

# The Debian source package the binaries are built from. It is also the
# cache key: a different version builds into a different cache directory.
K8S_DEB_VERSION="${SEALANT_K8S_DEB_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}"

# Everything built lives outside the repository so `git clean` and fresh
# clones keep it, and so the repo never carries build output.
# (CI may run with HOME unset: fall back to the passwd entry.)
SEALANT_CACHE_ROOT="${SEALANT_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/sealant}"
# Bump K8S_RECIPE whenever build.sh changes what it builds, so machines with
# an older cache rebuild instead of using stale binaries.
K8S_RECIPE=3
K8S_CACHE="$SEALANT_CACHE_ROOT/k8s-$K8S_DEB_VERSION-r$K8S_RECIPE"
K8S_BIN="$K8S_CACHE/bin"
# Written only after both binaries were built and installed into K8S_BIN.
K8S_STAMP="$K8S_CACHE/complete"

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run a command as root: CI and dev machines here are root, sudo elsewhere.
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Install Debian packages that are missing; touches apt only when needed.
apt_ensure() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]}"
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >&2
}

_APT_UPDATED=0
apt_update_once() {
  [[ $_APT_UPDATED -eq 1 ]] && return 0
  as_root apt-get update -q >&2
  _APT_UPDATED=1
}

# --- running clusters -------------------------------------------------------

# Where `up`/`down` work when no DIR is given.
default_cluster_dir() { echo "${SEALANT_CLUSTER_DIR:-${TMPDIR:-/tmp}/sealant-cluster}"; }

# Marks a directory as made by up.sh, so down.sh never deletes anything else.
CLUSTER_MARKER=".sealant-test-cluster"

# The components in the order they start; down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager)

# Kernel start time of a process (field 22 of /proc/PID/stat). It survives
# exec and differs for a recycled PID, so (pid, starttime) names one process.
proc_starttime() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  # Drop "pid (comm) " first: comm may contain spaces.
  stat="${stat##*) }"
  cut -d' ' -f20 <<<"$stat"
}

# True if PID exists and is not a zombie (exited, not yet reaped).
proc_alive() {
  local state
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]]
}

# True if the process recorded in DIR/pids/NAME is alive and has the recorded
# start time, i.e. it is the process that was started, not a recycled PID.
is_running() {
  local dir=$1 name=$2 pid start
  [[ -f "$dir/pids/$name" ]] || return 1
  read -r pid start <"$dir/pids/$name"
  proc_alive "$pid" && [[ "$(proc_starttime "$pid" || true)" == "$start" ]]
}

# is_running, and its command line names DIR: what down.sh requires before
# it sends a signal.
is_ours() {
  local dir=$1 name=$2 pid
  is_running "$dir" "$name" || return 1
  read -r pid _ <"$dir/pids/$name"
  { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$dir/"
}

# Stop every component recorded in DIR: SIGTERM, then SIGKILL after a grace
# period. Only processes that is_ours() confirms are signalled.
stop_components() {
  local dir=$1 name pid i rc=0
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    name=${COMPONENTS[i]}
    is_ours "$dir" "$name" || continue
    read -r pid _ <"$dir/pids/$name"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$dir" "$name" 20; then
      log "$name (pid $pid) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$dir" "$name" 10 || { log "error: $name (pid $pid) is still running"; rc=1; }
    fi
  done
  return "$rc"
}

wait_gone() {
  local dir=$1 name=$2 deadline=$((SECONDS + $3))
  while is_ours "$dir" "$name"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
