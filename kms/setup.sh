#!/usr/bin/env bash
# Installs what sealant-kms's tests need (kms/tests/): SoftHSM2 from Debian (a PKCS#11 token in
# a directory) and moto's server mode from PyPI (an AWS-API-compatible KMS on loopback).
# Idempotent: fast when both are there. tests/setup.sh runs it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../tests/cluster/lib.sh
source "$repo/tests/cluster/lib.sh"

apt_ensure softhsm2
if ! command -v moto_server >/dev/null || ! python3 -c 'import moto, boto3' 2>/dev/null; then
  python3 -m pip install --quiet 'moto[server]>=5.1,<6'
fi
