#!/usr/bin/env bash
# Static checks of everything under deploy/, without a cluster (tests/tests/deploy/ adds the
# server-side dry runs and the least-privilege run on the test control plane):
#   1. helm lint --strict, with the default values, each deploy/helm/sealant/ci/*.yaml and
#      upstream's chart values (deploy/helm/upstream-values/*.yaml);
#   2. helm template and kubectl kustomize render every variant (components/ each on the base);
#      the chart's Grafana dashboard queries only metrics the controller registers;
#   3. promtool checks the alert rules and runs their unit tests (overlays/metrics/alerts-test.yaml);
#   4. the static (musl) controller binary the image ships is built and smoke-tested: statically
#      linked, and runs as uid 65532 in an empty root directory, as in the distroless image;
#   5. the dynamically linked binary of the pkcs11 image variant: links only what distroless/cc
#      has, and in a root holding just that plus SoftHSM2's module and a token (made with
#      softhsm2-util and OpenSC's pkcs11-tool, as an operator would), --check-key-protection
#      wraps and unwraps through the module as uid 65532; the static binary refuses cleanly.
# Tools come from tests/setup-deploy.sh.
#
# Usage: bash deploy/check.sh [--no-build]     (--no-build skips steps 4 and 5)
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

log "1/5 helm lint"
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

log "2/5 render"
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
# PKCS#11 needs the dynamically linked image: the variant's tag, and a refusal without it.
grep -q 'image: "example.invalid/sealant/sealant-controller:[^"]*-pkcs11"' "$work/helm-pkcs11-values.yaml" \
  || die "image.variant=pkcs11 did not render the -pkcs11 image tag"
if out="$("$HELM" template sealant "$chart" "${placeholder[@]}" --set keyProtection.provider=pkcs11 2>&1)" \
  || [[ "$out" != *"image.variant=pkcs11"* ]]; then
  die "the chart rendered PKCS#11 key protection on the static image, or without saying why: $out"
fi
for dir in "$deploy" "$deploy"/overlays/*/; do
  kubectl kustomize "$dir" >"$work/kustomize-$(basename "$dir").yaml"
done
# Components render only inside a kustomization: each on the base (kustomize takes relative
# paths only).
for component in "$deploy"/components/*/; do
  name="$(basename "$component")"
  mkdir -p "$work/component-$name"
  printf 'resources:\n  - %s\ncomponents:\n  - %s\n' \
    "$(realpath --relative-to="$work/component-$name" "$deploy/base")" \
    "$(realpath --relative-to="$work/component-$name" "$component")" \
    >"$work/component-$name/kustomization.yaml"
  kubectl kustomize "$work/component-$name" >"$work/kustomize-component-$name.yaml"
done

# The Grafana dashboard (metrics.dashboards.create, set in upstream-values/every-key.yaml) is
# rendered as upstream's chart does, and names only metrics the controller registers.
python3 - "$chart/dashboards/sealant.json" "$work/helm-upstream-every-key.yaml" \
  "$deploy/../controller/src" <<'PY' || die "the Grafana dashboard check failed"
import glob, json, re, sys, yaml
dashboard_path, rendered_path, src = sys.argv[1:]
text = open(dashboard_path).read()
json.loads(text)
maps = [d for d in yaml.safe_load_all(open(rendered_path)) if d and d["kind"] == "ConfigMap"
        and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
assert len(maps) == 1, f"{len(maps)} dashboard ConfigMaps rendered from every-key.yaml"
assert maps[0]["metadata"]["namespace"] == "monitoring", maps[0]["metadata"]
assert json.loads(maps[0]["data"]["sealant.json"]) == json.loads(text), "ConfigMap != sealant.json"
# Registered names: `upstream.register*("x", …)` under the sealed_secrets_controller prefix,
# and every "sealant_…" literal (the registry's and the key collector's).
# Metrics are registered in metrics/ and, for the HSM / KMS calls, keys/provider_metrics.rs.
files = glob.glob(f"{src}/metrics/*.rs") + [f"{src}/keys/provider_metrics.rs"]
code = "".join(open(f).read() for f in files if not f.endswith("tests.rs"))
registered = {"sealed_secrets_controller_" + n
              for n in re.findall(r'upstream\.register(?:_with_unit)?\(\s*"([a-z_]+)"', code)}
registered |= set(re.findall(r'"(sealant_[a-z_]+)"', code))
# Collectors name their metrics when they write them; upstream's (not `sealant_…`) are
# registered under its prefix (metrics/conditions.rs).
registered |= {"sealed_secrets_controller_" + n
               for n in re.findall(r'encode_descriptor\(\s*"([a-z_]+)"', code)
               if not n.startswith("sealant_")}
assert len(registered) >= 10, f"too few metric registrations found: {sorted(registered)}"
exprs = [t["expr"] for p in json.loads(text)["panels"] for t in p.get("targets", [])]
used = set(re.findall(r"\b((?:sealed_secrets_controller|sealant)_[a-z_]+)", " ".join(exprs)))
assert used, "the dashboard queries no metric"
unknown = []
for name in sorted(used):
    base = name
    while base not in registered and re.search(r"_(total|bucket|count|sum|seconds)$", base):
        base = re.sub(r"_(total|bucket|count|sum|seconds)$", "", base)
    if base not in registered:
        unknown.append(name)
assert not unknown, f"the dashboard queries metrics the controller does not register: {unknown}"
PY

log "3/5 promtool"
python3 - "$deploy/overlays/metrics/prometheusrule.yaml" "$work/rules.yaml" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))
yaml.safe_dump(rule["spec"], open(sys.argv[2], "w"), sort_keys=False)
PY
cp "$deploy/overlays/metrics/alerts-test.yaml" "$work/"
(cd "$work" && promtool check rules rules.yaml && promtool test rules alerts-test.yaml) >&2

if [[ $build -eq 1 ]]; then
  log "4/5 static controller binary"
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

  log "5/5 dynamically linked controller binary (pkcs11 image) with SoftHSM2"
  module=/usr/lib/softhsm/libsofthsm2.so
  [[ -f $module ]] || die "SoftHSM2's module is missing: run 'bash tests/setup-deploy.sh'"
  command -v pkcs11-tool >/dev/null || die "pkcs11-tool (OpenSC) is missing: run 'bash tests/setup-deploy.sh'"
  # The same PKCS#11 flags, first for the static binary: it cannot load a module and says so.
  pkcs11_flags=(--check-key-protection --key-protection pkcs11 --pkcs11-module "$module"
    --pkcs11-token-label sealant --pkcs11-pin-file /hsm/pin --pkcs11-kek-label sealant-kek)
  mkdir -p "$root/hsm"
  printf '1234' >"$root/hsm/pin"
  as_root chown -R 65532:65532 "$root/hsm"
  rc=0
  out="$(run "${pkcs11_flags[@]}" 2>&1)" || rc=$?
  [[ $rc -eq 1 && "$out" == *"statically linked"*"pkcs11 image"* && "$out" != *panick* ]] \
    || die "the static binary did not refuse PKCS#11 cleanly (exit $rc): $out"
  bash "$deploy/image/build-dynamic.sh" "$work/dynamic" >&2
  binary="$work/dynamic/sealant-controller"
  # distroless/cc-debian12 has glibc's libraries and libgcc_s, nothing else.
  allowed='^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1)$'
  while read -r lib _; do
    [[ "$(basename "$lib")" =~ $allowed ]] || die "the pkcs11 build links $lib, which distroless/cc lacks"
  done < <(ldd "$binary")
  root="$work/root-dynamic"
  # The binary, the module, and every library either loads, at the same paths: what the image
  # plus a mounted vendor module would hold.
  install -D -m 0755 "$binary" "$root/usr/local/bin/sealant-controller"
  install -D "$module" "$root$module"
  while read -r lib; do install -D "$lib" "$root$lib"; done \
    < <({ ldd "$binary"; ldd "$module"; } | grep -o '/[^ ]*' | sort -u)
  mkdir -p "$root/hsm/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$root/hsm/tokens" >"$work/softhsm2-host.conf"
  printf 'directories.tokendir = /hsm/tokens\nobjectstore.backend = file\n' >"$root/hsm/softhsm2.conf"
  SOFTHSM2_CONF="$work/softhsm2-host.conf" softhsm2-util --init-token --free --label sealant \
    --pin 1234 --so-pin 5678 >/dev/null
  SOFTHSM2_CONF="$work/softhsm2-host.conf" pkcs11-tool --module "$module" --token-label sealant \
    --login --pin 1234 --keygen --key-type AES:32 --label sealant-kek --sensitive >/dev/null 2>&1 \
    || die "pkcs11-tool could not create the KEK"
  printf '1234' >"$root/hsm/pin"
  as_root chown -R 65532:65532 "$root/hsm"
  as_root chmod 0400 "$root/hsm/pin"
  rc=0
  out="$(as_root env -i SOFTHSM2_CONF=/hsm/softhsm2.conf "$(command -v chroot)" --userspec=65532:65532 "$root" \
    /usr/local/bin/sealant-controller "${pkcs11_flags[@]}" 2>&1)" || rc=$?
  [[ $rc -eq 0 && "$out" == "key protection ok: pkcs11"* ]] \
    || die "--check-key-protection through SoftHSM2 failed in the pkcs11 image root (exit $rc): $out"
  log "$out"
fi
log "deploy checks passed in $((SECONDS - started))s"
