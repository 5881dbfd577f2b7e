#!/usr/bin/env bash
# Set up a fresh machine and run the main job: install hpy-rs's `hpy` package
# (building the Rust runtime), then build the example C extension for each
# ABI (universal, hybrid and cpython) and load it, printing what it did.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

source scripts/system-packages.sh
ensure_system_packages cc
command -v cargo >/dev/null || { echo "cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }

echo "== installing the hpy package (hpy.universal, hpy.devel) from this checkout"
"$PY" -m pip install -q --upgrade pip >/dev/null
"$PY" -m pip install -q .

echo "== building and loading examples/simple for the universal, hybrid and cpython ABIs"
"$PY" examples/run_example.py --abi universal --abi hybrid --abi cpython
