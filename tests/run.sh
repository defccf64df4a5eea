#!/usr/bin/env bash
# The whole test suite: gates, unit and integration tests, and the end-to-end suite on a real
# control plane. README.md and .ci/run both call exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts (seconds since the run began), so slow steps show in CI's log.
step() { printf '\n==> %s (at %d s)\n' "$*" "$SECONDS"; }

# One-shot CI runs gain nothing from incremental compilation, which costs disk (tens of GB).
if [[ -n "${CI:-}" ]]; then
  export CARGO_INCREMENTAL=0
fi

step "setup"
# A full run needs about 8 GB of disk (target/ and fuzz/target/); say so before a build runs out.
avail_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
printf 'disk: %d MB free here\n' "$((avail_kb / 1024))"
if (( avail_kb < 8 * 1024 * 1024 )); then
  echo "warning: less than 8 GB free; the build may fail with \"No space left on device\"" >&2
fi
bash tests/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "module imports: no circles (tests/imports.py; docs/architecture.md, \"Module boundaries\")"
python3 tests/imports.py

step "cargo clippy -D warnings"
cargo clippy --locked --workspace --all-targets --all-features -- -D warnings

step "cargo deny check"
bash tests/deny.sh

step "cargo test"
cargo test --locked --workspace --all-features

step "deploy: chart and kustomize lint/render, alert rule tests, static (musl) build smoke test"
bash deploy/check.sh

step "the main job on the embedded sample (README's first command)"
bash examples/demo.sh

step "fuzz targets build and replay their corpus"
bash fuzz/run.sh build
bash fuzz/run.sh check

step "end-to-end tests on the test control plane"
bash tests/e2e.sh

step "benchmark suite, reduced (bench/run.sh --quick: small N; keeps the scripts from rotting; figures are not asserted)"
bash bench/run.sh --quick

printf '\n==> all steps passed in %d s\n' "$SECONDS"
