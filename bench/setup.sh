#!/usr/bin/env bash
# Installs what the benchmarks need and the machine lacks; idempotent, fast when all is there.
#   - openssl (the `openssl speed` and `openssl pkeyutl` baselines) and hyperfine (the CLI
#     timer), from Debian;
#   - the musl toolchain and Rust target for the static controller the image ships (through
#     tests/setup-deploy.sh, which the test suite runs anyway);
#   - matplotlib from PyPI, at the version pinned below, for the report's pictures
#     (bench/figures.py): another version may draw different SVG bytes.
# The test control plane's own tools (etcd, the Kubernetes build) come with tests/cluster/up.sh.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../tests/cluster/lib.sh
source "$repo/tests/cluster/lib.sh"

apt_ensure openssl hyperfine
MATPLOTLIB_VERSION=3.11.2
if [[ "$(python3 -c 'import matplotlib; print(matplotlib.__version__)' 2>/dev/null)" != "$MATPLOTLIB_VERSION" ]]; then
    echo "setup.sh: installing matplotlib $MATPLOTLIB_VERSION from PyPI" >&2
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "matplotlib==$MATPLOTLIB_VERSION" >&2
fi
if ! command -v musl-gcc >/dev/null ||
    ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
    bash "$repo/tests/setup-deploy.sh"
fi
