#!/usr/bin/env bash
# Builds the static (musl) sealant-controller that deploy/image/Dockerfile ships, and copies it
# to OUT_DIR. Needs the x86_64-unknown-linux-musl Rust target and musl-gcc (Debian musl-tools)
# for aws-lc-sys's C code; tests/setup-deploy.sh installs both.
#
# Usage: build-static.sh OUT_DIR
set -euo pipefail
out="${1:?usage: build-static.sh OUT_DIR}"
cd "$(dirname "$0")/../.."
target=x86_64-unknown-linux-musl
# aws-lc-sys picks the C compiler through the cc crate, which finds musl-gcc for musl targets
# on its own; naming it makes a missing musl-tools fail here, clearly.
command -v musl-gcc >/dev/null || { echo "build-static.sh: musl-gcc not found (apt-get install musl-tools)" >&2; exit 1; }
export CC_x86_64_unknown_linux_musl=musl-gcc
# Packed (RELR) relative relocations: the static-PIE start-up reads 8 KB instead of a 0.6 MB
# table that stays resident (docs/design/memory.md, "Idle"); musl >= 1.2.4 reads them.
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C link-arg=-Wl,-z,pack-relative-relocs"
cargo build --locked --release --target "$target" -p sealant-controller --bin sealant-controller
install -D -m 0755 "target/$target/release/sealant-controller" "$out/sealant-controller"
