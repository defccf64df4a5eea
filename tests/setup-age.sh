#!/usr/bin/env bash
# Installs what sealant-core's age interop tests (core/tests/age_interop.rs) need: the reference
# `age` CLI from Debian, and node with the npm packages age-encryption 0.3.1 (post-quantum
# age1pq1 support) and cctv-age 0.2.0 (C2SP test vectors), pinned by
# core/tests/interop/package-lock.json and installed into a cache outside the repository
# ($SEALANT_NPM_DIR, default ~/.cache/sealant/npm). Idempotent: fast when all is there.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
npm_dir=${SEALANT_NPM_DIR:-$HOME/.cache/sealant/npm}
sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi

apt_install() {
  # Try the package lists there are first; refresh them once only if that fails.
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1; then
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

missing=()
command -v age >/dev/null && command -v age-keygen >/dev/null || missing+=(age)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

lock="$root/core/tests/interop/package-lock.json"
want=$(sha256sum "$lock" | cut -d' ' -f1)
stamp="$npm_dir/.sealant-lock.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] ||
  [ ! -f "$npm_dir/node_modules/age-encryption/package.json" ] ||
  [ ! -f "$npm_dir/node_modules/cctv-age/package.json" ]; then
  mkdir -p "$npm_dir"
  cp "$root/core/tests/interop/package.json" "$lock" "$npm_dir/"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  echo "$want" >"$stamp"
fi
