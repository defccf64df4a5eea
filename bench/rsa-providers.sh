#!/usr/bin/env bash
# RSA-OAEP-SHA256 (with label) in aws-lc-rs, rsa 0.9 and rsa 0.10-rc: interop and speed.
#
# Builds bench/rsa-providers (its own workspace and Cargo.lock, so the `rsa` crate never enters
# the product's dependency tree) in release mode and runs it. Prints markdown to stdout.
#
#   bash bench/rsa-providers.sh            # full run, about 30 s after the first build
#   bash bench/rsa-providers.sh --quick    # smoke run
#
# Exits non-zero if any provider cannot open another's ciphertext, or accepts a wrong label.
set -euo pipefail

args=()
for arg in "$@"; do
    case "$arg" in
        --quick) args+=(--quick) ;;
        -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "rsa-providers.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/rsa-providers"
# Its own target directory, whatever the caller's environment says.
export CARGO_TARGET_DIR="$PWD/target"
cargo build --release --locked >&2

echo "# RSA provider comparison"
echo
echo "- CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores available)"
echo "- load average (1/5/15 min) at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(rustc --version)"
"$CARGO_TARGET_DIR/release/sealant-bench-rsa-providers" "${args[@]}"
