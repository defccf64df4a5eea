#!/usr/bin/env bash
# The hostile-tenant e2e suite (tests/tests/tenants.rs) as a benchmark: each test's peak RSS of
# the controller and the victim's sync latency under attack, against the victim's own latency
# before the attack (its baseline, measured in the same test). One throwaway cluster (e2e.sh).
#
#   bash bench/tenants.sh --json FILE     # the figures as JSON (bench/run.sh)
#
# Tests never assert on these times; the suite asserts only the bounds it states (RSS, sync).
set -euo pipefail

json_out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --json)
            [[ $# -ge 2 ]] || { echo "tenants.sh: --json needs a path" >&2; exit 2; }
            json_out="$2"
            shift
            ;;
        *) echo "tenants.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ -n "$json_out" ]] || { echo "tenants.sh: --json FILE is required" >&2; exit 2; }

lines="$(mktemp)"
trap 'rm -f "$lines"' EXIT
SEALANT_TENANT_FIGURES="$lines" bash "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e.sh" tenant_ >&2
python3 - "$lines" >"$json_out" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(json.dumps({"runs": runs}, indent=2))
PY
