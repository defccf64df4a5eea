#!/usr/bin/env bash
# Writes fingerprints.txt: the OpenSSH SHA-256 fingerprint of every RSA key here, computed by
# OpenSSH's ssh-keygen (an implementation independent of sealant's).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for key in keys/rsa2048.key keys/rsa4096.key keys/multi-1.key keys/multi-2.key keys/multi-3.key keys/other-2048.key; do
  openssl rsa -in "$key" -pubout -out "$tmp/pub.pem" 2>/dev/null
  ssh-keygen -i -m PKCS8 -f "$tmp/pub.pem" > "$tmp/pub.ssh"
  printf '%s %s\n' "$(basename "$key" .key)" "$(ssh-keygen -l -E sha256 -f "$tmp/pub.ssh" | awk '{print $2}')"
done > fingerprints.txt
