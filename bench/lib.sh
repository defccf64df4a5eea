# shellcheck shell=bash
# Shared by the bench scripts: source it, then call bench_setup REPORT_NAME.
# Resolves -o ($out) against the caller's directory, moves to the repository root, and sets
# $root, $target_dir and $out (default: $target_dir/bench/REPORT_NAME).
bench_setup() {
    if [[ -n "$out" && "$out" != /* ]]; then
        out="$PWD/$out"
    fi
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    cd "$root" || return 1
    target_dir="$(cargo metadata --format-version 1 --no-deps --locked |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    out="${out:-$target_dir/bench/$1}"
    mkdir -p "$(dirname "$out")" "$target_dir/bench"
}
