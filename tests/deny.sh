#!/usr/bin/env bash
# Runs `cargo deny check` against the RustSec snapshot in ../shared/advisory-db.
# cargo-deny --offline looks for a git checkout named after its URL hash under
# $CARGO_HOME/advisory-dbs; we put the snapshot there (re-copied every run so it follows shared/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
snapshot="$root/../shared/advisory-db"
[ -d "$snapshot/crates" ] || { echo "error: advisory snapshot not found at $snapshot" >&2; exit 1; }
command -v cargo-deny >/dev/null || cargo install --locked cargo-deny@0.20.2

db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"
rm -rf "$db"
mkdir -p "$db"
cp -R "$snapshot/." "$db/"
git -C "$db" init -q
git -C "$db" add -A
git -C "$db" -c user.name=sealant -c user.email=ci@sealant.invalid commit -qm snapshot

cd "$root"
# --offline stops cargo metadata from downloading, so fetch every platform's crates first.
cargo fetch --locked
cargo deny --offline --locked check "$@"
