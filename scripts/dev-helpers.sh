#!/usr/bin/env bash
# Developer shortcut: rebuild the helper library (crate hpy-helpers) and the
# static runtime of CPython-ABI extensions (crate hpy-cpython-abi, which
# contains the helpers too) and put them, with the headers, into the
# *installed* hpy package, without a full `pip install .`.
# Several people (or agents) may run it at once: the copy is serialized.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# as setup.py builds it (build_helper_lib): no_std, panic=abort, its own
# panic handler (hpy-helpers/Cargo.toml says why)
cargo rustc -q -p hpy-helpers --profile helpers-lib --crate-type staticlib -- \
  --cfg hpy_helpers_staticlib
lib=target/helpers-lib/libhpy_helpers.a
# as setup.py builds it (build_cpython_lib), for the interpreter that runs the
# tests ($PYTHON, else python3 on PATH: what hpy-cpython's build script picks
# itself): without linking libpython, the helpers calling the runtime
# directly, LTO'd (as a staticlib only: cargo skips LTO for a crate also
# built as an rlib), no_std with its own allocator and panic handler
env ${PYTHON:+PYO3_PYTHON="$PYTHON"} cargo rustc --profile cpython-lib -q -p hpy-cpython-abi \
  --features extension-module,direct-calls --crate-type staticlib -- --cfg hpy_cpython_abi_staticlib
cpylib=target/cpython-lib/libhpy_cpython_abi.a
devel=$("$PY" -c 'import hpy.devel, os; print(os.path.dirname(hpy.devel.__file__))')
# Strip a copy outside the package (strip writes temporary files next to its
# input), then move it in under a hidden name and rename it into place.
stage() {
  local tmp
  tmp=$(mktemp /tmp/hpy-rs-lib.XXXXXX)
  cp "$1" "$tmp"
  strip --strip-debug "$tmp" 2>/dev/null || true
  cp "$tmp" "$(dirname "$2")/.$(basename "$2").tmp"
  mv "$(dirname "$2")/.$(basename "$2").tmp" "$2"
  rm -f "$tmp"
}
# headers and C entry points, too (they are part of the helper library)
(
  flock 9
  for abi in universal hybrid; do
    mkdir -p "$devel/lib/$abi"
    stage "$lib" "$devel/lib/$abi/libhpy-extra-$abi.a"
  done
  mkdir -p "$devel/lib/cpython"
  stage "$cpylib" "$devel/lib/cpython/libhpy-ctx-cpython.a"
  mkdir -p "$devel/src/runtime"
  cp hpy-sys/runtime/*.c hpy-sys/runtime/*.h "$devel/src/runtime/"
  cp -r hpy-sys/include/. "$devel/include/"
) 9>/tmp/hpy-rs-dev-helpers.lock
echo "helper library and CPython-ABI runtime installed into $devel/lib"
