#!/usr/bin/env bash
# Builds the dynamically linked (glibc) sealant-controller that deploy/image/Dockerfile.pkcs11
# ships, and copies it to OUT_DIR. Only this build can load an HSM vendor's PKCS#11 module (a
# static musl binary has no dynamic loader: docs/key-protection.md, "The pkcs11 image").
#
# The same cargo invocation as bench/controller.sh's release build, so CI builds it once.
#
# Usage: build-dynamic.sh OUT_DIR
set -euo pipefail
out="${1:?usage: build-dynamic.sh OUT_DIR}"
cd "$(dirname "$0")/../.."
cargo build --locked --release -q -p sealant-controller -p sealant
install -D -m 0755 target/release/sealant-controller "$out/sealant-controller"
