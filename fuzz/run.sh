#!/usr/bin/env bash
# Builds and runs sealant's cargo-fuzz targets on the stable toolchain. See fuzz/README.md.
#
#   fuzz/run.sh build            build every target (what CI runs)
#   fuzz/run.sh check            build, then replay corpus/ and regressions/ once (no fuzzing)
#   fuzz/run.sh run SECONDS      build, then fuzz each target for SECONDS; new inputs go to corpus/
#   fuzz/run.sh cmin             build, then minimize corpus/<target> (seeds are kept as named)
#
# Environment:
#   FUZZ_TARGETS   space-separated targets (default: all of them)
#   FUZZ_SANITIZER address (default) or none; `none` runs several times faster (no ASan), and
#                  still catches every panic and failed assertion
#   FUZZ_ARGS      extra libFuzzer flags for `run`, e.g. "-jobs=2 -workers=2"
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(inspect item_decoder object_reader pem_keys template wrapped_key threshold_backup rollout_targets namespace_selector)

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$FUZZ_DIR/.."   # cargo fuzz finds ./fuzz from the repository root

# cargo fuzz passes nightly-only flags to rustc (-Zsanitizer=address, and it needs
# -Cpasses=sancov-module for coverage). RUSTC_BOOTSTRAP=1 lets the stable compiler accept them;
# it is scoped to this script and to the fuzz workspace's own target dir (fuzz/target).
export RUSTC_BOOTSTRAP=1

read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"
SANITIZER=${FUZZ_SANITIZER:-address}
# Every cargo fuzz call gets the same flags; a non-default sanitizer gets its own target dir so
# switching back and forth does not rebuild everything (aws-lc-sys takes minutes).
FUZZ_FLAGS=(--sanitizer "$SANITIZER")
if [[ "$SANITIZER" != address ]]; then
    FUZZ_FLAGS+=(--target-dir "fuzz/target/sanitizer-$SANITIZER")
fi

usage() {
    sed -n '2,13p' "$FUZZ_DIR/run.sh" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "run.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
        cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
    fi
}

build() {
    ensure_cargo_fuzz
    local target
    for target in "${TARGETS[@]}"; do
        cargo fuzz build "${FUZZ_FLAGS[@]}" "$target"
    done
}

# Replays every file of corpus/<target> and regressions/<target> once; fails on any crash.
check() {
    local target dirs
    for target in "${TARGETS[@]}"; do
        dirs=("fuzz/corpus/$target")
        if [[ -d "fuzz/regressions/$target" ]]; then
            dirs+=("fuzz/regressions/$target")
        fi
        echo "run.sh: replaying ${dirs[*]}" >&2
        cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "${dirs[@]}" -- -runs=0
    done
}

run() {
    local seconds=$1 target failed=()
    local -a extra=()
    if [[ -n "${FUZZ_ARGS:-}" ]]; then
        read -r -a extra <<<"$FUZZ_ARGS"
    fi
    for target in "${TARGETS[@]}"; do
        mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
        echo "run.sh: fuzzing $target for ${seconds}s" >&2
        # First corpus dir is where libFuzzer writes new inputs; regressions are read only.
        local -a dirs=("fuzz/corpus/$target")
        if [[ -d "fuzz/regressions/$target" ]]; then
            dirs+=("fuzz/regressions/$target")
        fi
        if ! cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "${dirs[@]}" -- \
            -max_total_time="$seconds" -timeout=20 -max_len=8192 -print_final_stats=1 "${extra[@]}"; then
            failed+=("$target")
        fi
    done
    if ((${#failed[@]})); then
        echo "run.sh: crashes in: ${failed[*]} (inputs under fuzz/artifacts/<target>/)" >&2
        exit 1
    fi
}

# Minimizes corpus/<target>/ without renaming the seeds: the named seeds stay as they are and
# only fuzzer-found inputs (SHA-1 names) that add coverage on top of them are kept.
cmin() {
    local target dir found
    for target in "${TARGETS[@]}"; do
        dir="fuzz/corpus/$target"
        found=$(mktemp -d "${TMPDIR:-/tmp}/sealant-cmin-$target.XXXXXX")
        find "$dir" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' \
            -exec mv -t "$found" {} +
        cargo fuzz run "${FUZZ_FLAGS[@]}" "$target" "$dir" "$found" -- -merge=1 -max_len=8192
        rm -rf "$found"
    done
}

case "${1:-}" in
    build) build ;;
    check)
        build
        check
        ;;
    run)
        [[ "${2:-}" =~ ^[0-9]+$ ]] || usage
        build
        run "$2"
        ;;
    cmin)
        build
        cmin
        ;;
    *) usage ;;
esac
