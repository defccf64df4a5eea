#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine. Idempotent: fast when all is there.
set -euo pipefail

# The independent implementation behind the compatibility vectors (core/tests/vectors).
if ! python3 -c 'import cryptography' 2>/dev/null; then
  python3 -m pip install --quiet 'cryptography>=42'
fi
command -v cargo-deny >/dev/null || cargo install --locked cargo-deny@0.20.2

# age interop (Debian's age CLI, node packages age-encryption and cctv-age): core/tests/age_interop.rs
bash "$(dirname "$0")/setup-age.sh"

# helm, promtool, musl toolchain and target: deploy/check.sh, tests/tests/deploy/
bash "$(dirname "$0")/setup-deploy.sh"

# openssl and hyperfine for the benchmark suite (bench/run.sh --quick runs in CI)
bash "$(dirname "$0")/../bench/setup.sh"

# SoftHSM2 (Debian) and moto's KMS server (PyPI) for sealant-kms's tests: kms/tests/
bash "$(dirname "$0")/../kms/setup.sh"

# Headless Chromium and its WebDriver for the sealing page's browser tests: tests/tests/webui.rs
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
