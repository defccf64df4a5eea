#!/usr/bin/env bash
# Build kube-apiserver and kube-controller-manager from Debian's `kubernetes`
# source package and cache them outside the repo. A second run with a
# finished cache returns at once. Prints the bin directory on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

# Runtime dependency of `up`, installed here so one build step readies a machine.
apt_ensure etcd-server curl openssl iproute2

if [[ -f "$K8S_STAMP" && -x "$K8S_BIN/kube-apiserver" && -x "$K8S_BIN/kube-controller-manager" ]]; then
  echo "$K8S_BIN"
  exit 0
fi

mkdir -p "$SEALANT_CACHE_ROOT"
# Serialize concurrent builds (two `up`s at once) of the same version.
exec 9>"$K8S_CACHE.lock"
flock 9
if [[ -f "$K8S_STAMP" ]]; then
  echo "$K8S_BIN"
  exit 0
fi

started=$SECONDS
log "building Kubernetes from Debian source $K8S_DEB_VERSION into $K8S_CACHE (takes a while)"

# The source package needs a deb-src entry; Debian's images ship only deb lines.
src_list=/etc/apt/sources.list.d/sealant-deb-src.sources
if [[ ! -f "$src_list" ]]; then
  log "adding a deb-src entry for bookworm in $src_list"
  as_root tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  _APT_UPDATED=0
fi
# dpkg-dev unpacks the source; golang-go, jq, rsync, make are the k8s build's
# own needs; reflect2 is the vendored-library fix below.
apt_ensure dpkg-dev golang-go jq rsync make golang-github-modern-go-reflect2-dev

# A previous run may have died half way: start the tree from scratch, but keep
# the Go build cache so a retry is faster.
work="$K8S_CACHE/work"
rm -rf "$work/src" "$K8S_BIN" "$K8S_BIN.tmp" "$K8S_STAMP"
mkdir -p "$work/src" "$work/gocache"

cd "$work/src"
if ! apt-cache showsrc kubernetes 2>/dev/null | grep -qx "Version: $K8S_DEB_VERSION"; then
  apt_update_once
  apt-cache showsrc kubernetes 2>/dev/null | grep -qx "Version: $K8S_DEB_VERSION" \
    || die "Debian offers no kubernetes source $K8S_DEB_VERSION (offered: $(apt-cache showsrc kubernetes 2>/dev/null | sed -n 's/^Version: //p' | paste -sd' ')); set SEALANT_K8S_DEB_VERSION and update lib.sh"
fi
apt-get source -q "kubernetes=$K8S_DEB_VERSION" >&2
tree="$(find . -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
[[ -n "$tree" ]] || die "apt-get source left no kubernetes-* directory in $work/src"
tree="$(cd "$tree" && pwd)"

# The vendored github.com/modern-go/reflect2 v1.0.1 predates Go 1.18: built
# with Debian's Go 1.19, kube-apiserver segfaults (nil pointer in
# reflect2.Type2) the first time it decodes a map, e.g. when a CRD is stored.
# v1.0.2 fixes that and keeps the API; Debian ships it as a source package.
reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
[[ -f "$reflect2/go_above_118.go" ]] || die "$reflect2 is not reflect2 >= 1.0.2"
rm -rf "$tree/vendor/github.com/modern-go/reflect2"
mkdir -p "$tree/vendor/github.com/modern-go/reflect2"
find "$reflect2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
  -exec cp -t "$tree/vendor/github.com/modern-go/reflect2/" {} +

# go-openapi's type validator (vendored twice) treats a value as null when
# reflect.DeepEqual finds its reflect.Value equal to the zero Value. With the
# Go it was written for that matched only nil; with Go 1.19, "" and 0 match
# too, and kube-apiserver rejects every empty string in a custom resource
# ("must be of type string: null"). `data == nil` is the intended check.
zero_check='data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data))'
for f in vendor/github.com/go-openapi/validate/type.go vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go; do
  grep -qF "$zero_check" "$tree/$f" || die "$f: the zero-value check to patch is not there"
  old="$zero_check" perl -pi -e 's/\Q$ENV{old}\E/data == nil/' "$tree/$f"
  if grep -qF "$zero_check" "$tree/$f"; then die "$f: patching the zero-value check failed"; fi
done

# Build the way Debian's debian/rules does: a GOPATH inside the tree with
# k8s.io/kubernetes pointing at the source root, no cgo. A plain
# `go build -mod=vendor` does not work for this tree.
mkdir -p "$tree/.go/src/k8s.io"
ln -sfn "$tree" "$tree/.go/src/k8s.io/kubernetes"
(
  cd "$tree/.go/src/k8s.io/kubernetes"
  export GOPATH="$tree/.go" GOCACHE="$work/gocache" CGO_ENABLED=0
  make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >&2
)

out="$tree/_output/local/bin/linux/amd64"
mkdir -p "$K8S_BIN.tmp"
install -m 0755 "$out/kube-apiserver" "$out/kube-controller-manager" "$K8S_BIN.tmp/"
mv "$K8S_BIN.tmp" "$K8S_BIN"
# The tree and Go cache are ~GBs; only the binaries are worth keeping.
[[ "${SEALANT_KEEP_BUILD_TREE:-0}" == 1 ]] || rm -rf "$work"
date -u +%FT%TZ >"$K8S_STAMP"
log "built in $((SECONDS - started))s: $K8S_BIN"
echo "$K8S_BIN"
