#!/usr/bin/env bash
# Stop a control plane started by up.sh and delete its directory. Signals only
# the processes up.sh recorded, after checking they are still those processes.
# Idempotent: a missing DIR or already-stopped processes are fine.
#
# Usage: down.sh [DIR]    (DIR defaults to $SEALANT_CLUSTER_DIR or /tmp/sealant-cluster)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

dir="${1:-$(default_cluster_dir)}"
if [[ ! -e "$dir" ]]; then
  log "no cluster at $dir"
  exit 0
fi
dir="$(cd "$dir" && pwd)"
# An empty directory: up.sh failed before starting anything (or e2e.sh made
# it for up.sh). Nothing to stop.
if [[ -z "$(ls -A "$dir")" ]]; then
  rmdir -- "$dir"
  exit 0
fi
# Never delete a directory up.sh did not make.
[[ -f "$dir/$CLUSTER_MARKER" ]] || die "$dir was not made by up.sh (no $CLUSTER_MARKER); leaving it alone"

stop_components "$dir" || die "could not stop every process; $dir is kept"
rm -rf -- "$dir"
log "cluster at $dir stopped and removed"
