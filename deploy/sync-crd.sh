#!/usr/bin/env bash
# Regenerates deploy/crd.yaml from the code and refreshes its copies in the kustomize base and
# the Helm chart (kustomize and Helm read no file outside their own directories).
# tests/tests/deploy/ fails when a copy differs from the generated CRD.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --locked -p sealant-controller --bin crdgen >deploy/crd.yaml
cp deploy/crd.yaml deploy/base/crd.yaml
cp deploy/crd.yaml deploy/helm/sealant/crds/crd.yaml
