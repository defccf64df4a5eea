#!/usr/bin/env bash
# The main job on an embedded default, no cluster needed: seal a Secret against a sample
# certificate, then recover it with the matching sample key and check nothing was lost.
# Needs: Rust >= 1.95 (cargo), a C compiler (cc, for aws-lc-sys) and python3 (the final check).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in cargo cc python3; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool not found; examples/demo.sh needs Rust >= 1.95 (cargo), a C compiler (cc) and python3" >&2
    exit 1
  }
done
if [[ ! -x target/debug/sealant ]]; then
  echo "== building sealant (debug; the first build compiles a few hundred crates: 5-8 minutes on 2 cores)" >&2
fi
# cargo's own progress (Compiling ... lines) goes to stderr.
cargo build --locked -p sealant
sealant=target/debug/sealant
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== sealant seal -f examples/secret.yaml --cert examples/cert.pem"
"$sealant" seal -f examples/secret.yaml --cert examples/cert.pem -w "$work/sealed.yaml"
cat "$work/sealed.yaml"

echo
echo "== sealant unseal --recovery-private-key examples/key.pem (offline recovery)"
"$sealant" unseal -f "$work/sealed.yaml" --recovery-private-key examples/key.pem -o json > "$work/unsealed.json"
python3 - "$work/unsealed.json" <<'PY'
import base64, json, sys
secret = json.load(open(sys.argv[1]))
data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
assert data == {"username": "shop", "password": "correct horse battery staple"}, data
print(f"recovered {secret['metadata']['namespace']}/{secret['metadata']['name']} "
      f"({secret['type']}): items {sorted(data)} match the input")
PY
