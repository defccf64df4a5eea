#!/usr/bin/env bash
# Run sealant's end-to-end tests against a fresh, throwaway control plane:
# build the control-plane binaries if the cache lacks them, start a cluster in
# a temp dir, run every e2e test (the #[ignore]d tests of sealant-tests' one test
# binary, tests/tests/e2e.rs), and always tear the cluster down. Exits non-zero if
# anything fails or no test ran.
#
# Usage: bash tests/e2e.sh [TESTNAME-FILTER...]
#        A filter is a substring of FILE::TEST (e.g. `helm_upgrade`, `tenants::`,
#        `deploy::`), as libtest matches it.
# Env:   SEALANT_E2E_THREADS (default 3) test threads: the tests mostly wait on the
#        cluster and their controllers, so 3 beats 2 on 2 cores (tests/cluster/README.md)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cluster="$repo/tests/cluster"
threads="${SEALANT_E2E_THREADS:-3}"
log() { printf 'e2e.sh: %s\n' "$*" >&2; }

# Everything the tests talk to is on loopback; a proxy from the environment
# must never see that traffic (kubectl and kube-rs both honour these).
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

# anyhow errors already carry their context chain; backtraces on every
# expected error would bury it (panics still get RUST_BACKTRACE's).
export RUST_LIB_BACKTRACE="${RUST_LIB_BACKTRACE:-0}"

cd "$repo"
started=$SECONDS

# Build before starting the cluster, so it does not idle while things compile.
bash "$cluster/build.sh" >/dev/null
# The workspace's features, as tests/run.sh's `cargo test` step builds them: CI reuses that build
# instead of compiling the test crate a second time with other features.
cargo test --locked --workspace --all-features --test e2e --no-run
cargo build --locked -p sealant-controller -p sealant
export SEALANT_CONTROLLER_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/sealant-controller"
# The CLI as users run it (sealant_tests::cli), with its output checked for the leak canary.
export SEALANT_CLI_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/sealant"

dir="$(mktemp -d "${TMPDIR:-/tmp}/sealant-e2e.XXXXXX")"
teardown() {
  local rc=$?
  if ! bash "$cluster/down.sh" "$dir"; then
    log "error: tearing down the cluster in $dir failed"
    [[ $rc -ne 0 ]] || rc=1
  fi
  log "finished in $((SECONDS - started))s (exit $rc)"
  exit "$rc"
}
trap teardown EXIT
# Turn signals into a normal exit so teardown runs.
trap 'exit 130' INT
trap 'exit 143' TERM

kubeconfig="$(bash "$cluster/up.sh" "$dir")"
export SEALANT_E2E_KUBECONFIG="$kubeconfig"

out="$dir/cargo-test.log"
cargo test --locked --workspace --all-features --test e2e -- --ignored --test-threads="$threads" "$@" 2>&1 | tee "$out"
# A filter that matches nothing, or tests that lost their #[ignore], would
# otherwise pass with nothing run.
ran="$(awk '/^test result:/ { n += $4 } END { print n + 0 }' "$out")"
if [[ "$ran" -eq 0 ]]; then
  log "error: no e2e test ran"
  exit 1
fi
log "$ran e2e tests passed"
