#!/usr/bin/env bash
# Static checks of everything under deploy/, without a cluster (tests/tests/deploy/ adds the
# server-side dry runs and the least-privilege run on the test control plane):
#   1. helm lint --strict, with the default values, each deploy/helm/sealant/ci/*.yaml and
#      upstream's chart values (deploy/helm/upstream-values/*.yaml);
#   2. helm template and kubectl kustomize render every variant;
#   3. promtool checks the alert rules and runs their unit tests (overlays/metrics/alerts-test.yaml);
#   4. the static (musl) controller binary the image ships is built and smoke-tested: statically
#      linked, and runs as uid 65532 in an empty root directory, as in the distroless image.
# Tools come from tests/setup-deploy.sh.
#
# Usage: bash deploy/check.sh [--no-build]     (--no-build skips step 4)
set -euo pipefail
deploy="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=tools.sh
source "$deploy/tools.sh"
require_helm
command -v promtool >/dev/null || die "promtool not found: run 'bash tests/setup-deploy.sh'"
build=1
[[ "${1:-}" == "--no-build" ]] && build=0
started=$SECONDS
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chart="$deploy/helm/sealant"

log "1/4 helm lint"
# The chart refuses its placeholder image unless told (README.md, "Install"); CI pulls nothing.
placeholder=(--set image.allowPlaceholder=true)
our_image=(--set image.registry=registry.example,image.repository=platform/sealant-controller,image.tag=0.1.0)
"$HELM" lint --strict "$chart" "${placeholder[@]}" >"$work/lint.log" || { cat "$work/lint.log" >&2; die "helm lint failed"; }
for values in "$chart"/ci/*.yaml; do
  "$HELM" lint --strict "$chart" -f "$values" "${placeholder[@]}" >"$work/lint.log" \
    || { cat "$work/lint.log" >&2; die "helm lint failed with $values"; }
done
# Upstream's chart values, unchanged but for the image (docs/helm-values.md).
for values in "$deploy"/helm/upstream-values/*.yaml; do
  "$HELM" lint --strict "$chart" -f "$values" "${our_image[@]}" >"$work/lint.log" \
    || { cat "$work/lint.log" >&2; die "helm lint failed with $values"; }
done

log "2/4 render"
"$HELM" template sealant "$chart" -n kube-system "${placeholder[@]}" >"$work/helm-default.yaml"
for values in "$chart"/ci/*.yaml; do
  "$HELM" template sealant "$chart" -n apps -f "$values" "${placeholder[@]}" >"$work/helm-$(basename "$values")"
done
for values in "$deploy"/helm/upstream-values/*.yaml; do
  "$HELM" template sealant "$chart" -n kube-system -f "$values" "${our_image[@]}" \
    >"$work/helm-upstream-$(basename "$values")"
done
# Values that break the schema are refused (and the check can tell).
if "$HELM" template sealant "$chart" "${placeholder[@]}" --set controller.keyRenewPeriod=30days >/dev/null 2>&1; then
  die "the chart accepted controller.keyRenewPeriod=30days: values.schema.json is not applied"
fi
# The placeholder image is refused with a message saying what to do.
if out="$("$HELM" template sealant "$chart" 2>&1)" || [[ "$out" != *"image.allowPlaceholder=true"* ]]; then
  die "the chart rendered with the placeholder image, or without saying how to proceed: $out"
fi
for dir in "$deploy" "$deploy"/overlays/*/; do
  kubectl kustomize "$dir" >"$work/kustomize-$(basename "$dir").yaml"
done

log "3/4 promtool"
python3 - "$deploy/overlays/metrics/prometheusrule.yaml" "$work/rules.yaml" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))
yaml.safe_dump(rule["spec"], open(sys.argv[2], "w"), sort_keys=False)
PY
cp "$deploy/overlays/metrics/alerts-test.yaml" "$work/"
(cd "$work" && promtool check rules rules.yaml && promtool test rules alerts-test.yaml) >&2

if [[ $build -eq 1 ]]; then
  log "4/4 static controller binary"
  bash "$deploy/image/build-static.sh" "$work/image" >&2
  binary="$work/image/sealant-controller"
  file "$binary" | grep -Eq 'statically linked|static-pie linked' \
    || die "not a static binary: $(file "$binary")"
  # ldd answers "not a dynamic executable" or "statically linked" (and fails) for static ones.
  if ldd "$binary" 2>&1 | grep -q '=>'; then die "links shared libraries: $(ldd "$binary" 2>&1)"; fi
  # An empty root and a non-root user, as in the image: no libc, no /etc, no /tmp.
  root="$work/root"
  mkdir -p "$root/usr/local/bin"
  cp "$binary" "$root/usr/local/bin/"
  run() { as_root chroot --userspec=65532:65532 "$root" /usr/local/bin/sealant-controller "$@"; }
  run --version | grep -qx "sealant-controller $(sed -n 's/^appVersion: "\(.*\)"/\1/p' "$chart/Chart.yaml")" \
    || die "--version does not print the chart's appVersion"
  run --help | grep -q -- '--key-renew-period' || die "--help lacks --key-renew-period"
  # Start-up reaches its first real step and fails cleanly: no panic, exit 1.
  rc=0
  out="$(run --kubeconfig /nonexistent 2>&1)" || rc=$?
  [[ $rc -eq 1 && "$out" == *"error: cannot connect to the cluster"* && "$out" != *panick* ]] \
    || die "unexpected start-up failure (exit $rc): $out"
fi
log "deploy checks passed in $((SECONDS - started))s"
