#!/usr/bin/env bash
# Runs `cargo deny check` (deny.toml). The advisory database comes from, in order:
#   1. the RustSec snapshot in ../shared/advisory-db (SEALANT_ADVISORY_SNAPSHOT overrides the
#      path), installed where cargo-deny --offline looks for it: a git checkout named after its
#      URL hash under $CARGO_HOME/advisory-dbs (re-copied every run so it follows the snapshot);
#   2. otherwise `cargo deny fetch db` (the live database; SEALANT_ADVISORY_FETCH_TIMEOUT
#      seconds, 120 by default);
#   3. otherwise licenses, bans and sources only, with a loud warning that advisories were NOT
#      checked (exit status 0 then, so that a plain clone without network can run tests/run.sh).
# Usage: bash tests/deny.sh [advisories|bans|licenses|sources]...   (all by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
snapshot="${SEALANT_ADVISORY_SNAPSHOT:-$root/../shared/advisory-db}"
fetch_timeout="${SEALANT_ADVISORY_FETCH_TIMEOUT:-120}"
command -v cargo-deny >/dev/null || cargo install --locked cargo-deny@0.20.2

db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"
checks=("$@")
[[ ${#checks[@]} -gt 0 ]] || checks=(all)

cd "$root"
# --offline stops cargo metadata from downloading, so fetch every platform's crates first.
cargo fetch --locked

if [[ -d "$snapshot/crates" ]]; then
  echo "advisories: the snapshot in $snapshot" >&2
  rm -rf "$db"
  mkdir -p "$db"
  cp -R "$snapshot/." "$db/"
  git -C "$db" init -q
  git -C "$db" add -A
  git -C "$db" -c user.name=sealant -c user.email=ci@sealant.invalid commit -qm snapshot
  exec cargo deny --offline --locked check "${checks[@]}"
fi

# No snapshot: fetch the live database into a clean directory (so that a stale copy left by an
# earlier run is never mistaken for a fresh one).
echo "advisories: no snapshot at $snapshot; fetching the RustSec database (up to ${fetch_timeout}s)" >&2
rm -rf "$db"
if timeout "$fetch_timeout" cargo deny --locked fetch db && [[ -d "$db" ]]; then
  exec cargo deny --offline --locked check "${checks[@]}"
fi

rest=()
for check in "${checks[@]}"; do
  case "$check" in
    all) rest+=(bans licenses sources) ;;
    advisories) ;;
    *) rest+=("$check") ;;
  esac
done
banner='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
warn() {
  {
    echo "$banner"
    echo "!!! WARNING: security advisories were NOT checked."
    echo "!!! No snapshot at $snapshot and the RustSec database could not be fetched."
    echo "!!! Set SEALANT_ADVISORY_SNAPSHOT to a checkout of"
    echo "!!! https://github.com/rustsec/advisory-db, or run with network access."
    echo "$banner"
  } >&2
}
warn
if [[ ${#rest[@]} -gt 0 ]]; then
  echo "running only: ${rest[*]}" >&2
  cargo deny --offline --locked check "${rest[@]}"
fi
# Said again at the end, where it is seen after the check's output.
warn
