#!/usr/bin/env bash
# Run every test on a fresh machine: installs what the tests need (Debian
# packages, the Python package under test and test tools), then runs the
# lints, the generated-files check, the C header checks, the Rust tests, the
# Python tests and upstream HPy 0.9.0's suite (conformance) -- the last two on
# the main interpreter and again on both ends of the supported range.
#
#   PYTHON=python3.12 bash scripts/test.sh   # another main interpreter
#   HPY_RS_EXTRA_PYTHONS="3.9 3.12"          # other extra versions ("" for none;
#                                            # default "3.8 3.13", found with pyenv)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
PY=${PYTHON:-python3}
if [ -n "${PYTHON:-}" ]; then
    # another interpreter: the Rust crates are built and tested for it too
    # (pyo3-ffi reads PYO3_PYTHON; the header checks read PYTHON)
    PY=$("$PY" -c 'import sys; print(sys.executable)')
    export PYTHON=$PY PYO3_PYTHON=$PY
fi
EXTRA=${HPY_RS_EXTRA_PYTHONS-3.8 3.13}
export CARGO_TERM_COLOR=never PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

t0=$SECONDS
t_step=$SECONDS
name_step=""
timings=()
step() {
    if [ -n "$name_step" ]; then timings+=("$(printf '%5ds  %s' $((SECONDS - t_step)) "$name_step")"); fi
    name_step=$*
    t_step=$SECONDS
    printf '\n==== %s\n' "$*"
}
finish() {
    local rc=$?
    if [ -n "$name_step" ]; then timings+=("$(printf '%5ds  %s' $((SECONDS - t_step)) "$name_step")"); fi
    printf '\n==== time per step\n'
    printf '%s\n' "${timings[@]}"
    printf '%5ds  total (%s)\n' $((SECONDS - t0)) "$([ $rc = 0 ] && echo passed || echo "FAILED, exit $rc")"
}
trap finish EXIT

# The interpreter of CPython X.Y: pythonX.Y on PATH if it runs (a pyenv shim
# of another version does not), else pyenv's newest X.Y.
find_python() {
    local v=$1 p full
    local candidates=("$(command -v "python$v" || true)")
    if command -v pyenv >/dev/null; then
        for full in $(pyenv versions --bare 2>/dev/null | grep -E "^$v(\.[0-9]+)?$" | sort -rV); do
            candidates+=("$(PYENV_VERSION=$full pyenv which python 2>/dev/null || true)")
        done
    fi
    for p in "${candidates[@]}"; do
        [ -n "$p" ] && "$p" -c 'import sys' 2>/dev/null &&
            { "$p" -c 'import sys; print(sys.executable)'; return 0; }
    done
    return 1
}

# The Python side for one interpreter: the package, our tests, upstream's suite.
python_suites() {  # $1 = interpreter, $2 = label, then extra conformance arguments
    local py=$1 label=$2
    shift 2
    # everything built from here on is for this interpreter (setuptools-rust
    # and pyo3-ffi read PYO3_PYTHON, whatever runs them)
    local env=(env PYO3_PYTHON="$py" PYTHON="$py")
    step "$label: python packages (test tools, then this package)"
    "${env[@]}" "$py" -m pip install -q pytest pytest-xdist pytest-timeout filelock
    # hpy-rs was once installed under upstream's name `hpy`: drop that record
    # (its RECORD lists hpy/devel/rust.py, which upstream never shipped)
    # (the listing is read whole: `grep -q` closing the pipe early would fail
    # the pipeline under pipefail)
    if "$py" -m pip show -f hpy 2>/dev/null | grep 'hpy/devel/rust.py' >/dev/null; then
        "$py" -m pip uninstall -q -y hpy
    fi
    # the wheel built for this interpreter in the wheelhouse step (pip would
    # take an installed hpy-rs of the same version as good enough: force it)
    local tag whl
    tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
    whl=$(ls "$HPY_RS_WHEELHOUSE"/hpy_rs-*-"$tag"-*.whl)
    "${env[@]}" "$py" -m pip install -q --force-reinstall --no-deps "$whl"
    "${env[@]}" "$py" -m pip install -q "$whl"  # its dependencies
    step "$label: python tests (tests/python, against the installed package)"
    (cd tests/python && "${env[@]}" "$py" -m pytest -q -n 2 -p no:cacheprovider .)
    step "$label: the Rust example (examples/rust-geometry, universal, debug and cpython ABI)"
    "${env[@]}" "$py" -m pytest -q -p no:cacheprovider examples/rust-geometry/tests
    step "$label: conformance (upstream HPy 0.9.0's suite against the installed package)"
    "${env[@]}" "$py" scripts/conformance.py --python "$py" --quiet "$@"
}

step "system packages (C and C++ compilers; libclang for bindgen; libffi for the property tests)"
ensure_system_packages cc cxx clang ffi
extra_pys=()
for v in $EXTRA; do
    p=$(find_python "$v") || {
        echo "CPython $v not found (neither python$v on PATH nor a pyenv version $v):" \
             "install it, or set HPY_RS_EXTRA_PYTHONS" >&2
        exit 1
    }
    extra_pys+=("$v=$p")
done

step "lints: cargo fmt --check, cargo clippy -D warnings"
cargo fmt --all --check
cargo clippy -q --workspace --all-targets -- -D warnings

step "generated files are up to date (cargo xtask check: C API wrappers and bindgen output)"
cargo xtask check

step "C headers: -Wall -Wextra -Werror as C and C++, exported symbols, ABI tables"
bash hpy-sys/tests/headers/check.sh

step "cargo test --workspace"
# tests that embed the interpreter load its libpython (not another one the
# dynamic loader might find first)
libdir=$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" cargo test -q --workspace

# One wheel of this package per interpreter, first: the main interpreter's
# tests install the others' into venvs of those versions (test_wheels.py:
# one universal wheel of a C extension, built here, imported on each).
export HPY_RS_WHEELHOUSE=$PWD/target/wheelhouse
rm -rf "$HPY_RS_WHEELHOUSE"
step "fuzz targets (fuzz/): build each, run it over its seed corpus, then 10 s of fuzzing"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" bash scripts/fuzz.sh --smoke 10

main_ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
step "wheels of this package (hpy-rs) for CPython $main_ver ${extra_pys[*]%%=*}"
wheel_for() {  # $1 = interpreter
    "$1" -m pip wheel -q --no-deps -w "$HPY_RS_WHEELHOUSE" .
}
PYO3_PYTHON=$PY PYTHON=$PY wheel_for "$PY"
for entry in "${extra_pys[@]}"; do
    v=${entry%%=*}
    p=${entry#*=}
    [ "$p" = "$PY" ] && continue
    # a target directory per interpreter: pyo3-ffi's build depends on it, so
    # sharing one would rebuild everything at each switch
    CARGO_TARGET_DIR=$PWD/target/py$v PYO3_PYTHON=$p PYTHON=$p wheel_for "$p"
done

python_suites "$PY" "CPython $main_ver"

for entry in "${extra_pys[@]}"; do
    v=${entry%%=*}
    p=${entry#*=}
    [ "$p" = "$PY" ] && continue
    # a target directory per interpreter: pyo3-ffi's build depends on it, so
    # sharing one would rebuild everything at each switch
    # upstream's test_distutils.py (pip-installs this checkout into venvs,
    # ~7 minutes) runs on the main interpreter only
    CARGO_TARGET_DIR=$PWD/target/py$v python_suites "$p" "CPython $v" --without-distutils
done
