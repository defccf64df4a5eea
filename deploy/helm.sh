#!/usr/bin/env bash
# Runs the pinned helm that tests/setup-deploy.sh installs: `bash deploy/helm.sh template ...`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=tools.sh
source "$(dirname "$0")/tools.sh"
require_helm
exec "$HELM" "$@"
