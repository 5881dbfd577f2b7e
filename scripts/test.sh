#!/usr/bin/env bash
# Run every test on a fresh machine: installs what the tests need (Debian
# packages, the Python package under test and test tools), then runs the Rust
# tests, the generated-files check, the C header checks and the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ -n "${PYTHON:-}" ]; then
    # another interpreter: the Rust crates are built and tested for it too
    # (pyo3-ffi reads PYO3_PYTHON; the header checks read PYTHON)
    PY=$("$PY" -c 'import sys; print(sys.executable)')
    export PYTHON=$PY PYO3_PYTHON=$PY
fi
export CARGO_TERM_COLOR=never

step() { printf '\n==== %s\n' "$*"; }

step "system packages"
need=()
command -v cc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
[ -e /usr/lib/llvm-14/lib/libclang.so ] || ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${need[@]}"
    else
        echo "missing system packages: ${need[*]} (install them, then rerun)" >&2
        exit 1
    fi
fi

step "python packages"
"$PY" -m pip install -q --upgrade pip 2>&1 | grep -v "Running pip as the 'root' user" || true
"$PY" -m pip install -q pytest pytest-xdist filelock 2>&1 | grep -v "Running pip as the 'root' user" || true
"$PY" -m pip install -q . 2>&1 | grep -v "Running pip as the 'root' user" || true

step "generated files are up to date (cargo xtask check: C API wrappers and bindgen output)"
cargo xtask check

step "C headers: -Wall -Wextra -Werror as C and C++, exported symbols, ABI tables"
bash hpy-sys/tests/headers/check.sh

step "cargo test --workspace"
# tests that embed the interpreter load its libpython (not another one the
# dynamic loader might find first)
libdir=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" cargo test --workspace

step "python tests (against the installed package)"
cd tests/python
"$PY" -m pytest -q -n 2 -p no:cacheprovider .

step "conformance: upstream HPy 0.9.0's test suite against the installed package (table below)"
cd ../..
"$PY" scripts/conformance.py
