#!/usr/bin/env bash
# Start-up cost of key protection (docs/key-protection.md, "Measured"): unwrap and open 1, 10
# and 100 protected keys through SoftHSM2, and the provider's unwrap alone. Prints the figures;
# nothing is asserted. Needs kms/setup.sh (tests/setup.sh runs it). Debug build, as the tests.
#
#   bash bench/keyprotect.sh                 # the figures on stdout
#   bash bench/keyprotect.sh --json FILE     # also as JSON, for bench/report.py (run.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
json=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --json)
            [[ $# -ge 2 ]] || { echo "keyprotect.sh: --json needs a path" >&2; exit 2; }
            json="$2"
            shift
            ;;
        *) echo "keyprotect.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
bash kms/setup.sh >&2
lines="$(cargo test --locked -p sealant-kms --test softhsm -- --ignored --nocapture pkcs11_measure_unwrap 2>&1 |
  grep -E '^(mechanism|connect|unwrap|provider)')"
printf '%s\n' "$lines"
[[ -z "$json" ]] && exit 0
SOFTHSM="$(softhsm2-util --version 2>/dev/null || echo unknown)" python3 - "$json" <<PY
import json, os, re, sys
lines = """$lines""".splitlines()
def ms(text):
    m = re.match(r"([0-9.]+)\s*(ns|µs|us|ms|s)", text.strip())
    value, unit = float(m.group(1)), m.group(2)
    return value * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
out = {"softhsm": os.environ["SOFTHSM"], "unwrap": []}
for line in lines:
    if line.startswith("connect"):
        out["connect_ms"] = ms(line.split(":", 1)[1])
    elif line.startswith("provider unwrap alone"):
        out["provider_unwrap_ms"] = ms(line.split(":", 1)[1])
    elif line.startswith("unwrap+open"):
        m = re.match(r"unwrap\+open\s+(\d+) keys:\s+(\S+) total,\s+(\S+) per key", line)
        out["unwrap"].append({"keys": int(m.group(1)), "total_ms": ms(m.group(2)), "per_key_ms": ms(m.group(3))})
json.dump(out, open(sys.argv[1], "w"), indent=2)
PY
