#!/usr/bin/env bash
# Developer shortcut: rebuild the helper library (crate hpy-helpers) and put
# it into the *installed* hpy package, without a full `pip install .`.
# Several people (or agents) may run it at once: the copy is serialized.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
cargo build --release -q -p hpy-helpers
lib=target/release/libhpy_helpers.a
devel=$("$PY" -c 'import hpy.devel, os; print(os.path.dirname(hpy.devel.__file__))')
# headers and C entry points, too (they are part of the helper library)
(
  flock 9
  for abi in universal hybrid; do
    mkdir -p "$devel/lib/$abi"
    cp "$lib" "$devel/lib/$abi/.libhpy-extra-$abi.a.tmp"
    strip --strip-debug "$devel/lib/$abi/.libhpy-extra-$abi.a.tmp" 2>/dev/null || true
    mv "$devel/lib/$abi/.libhpy-extra-$abi.a.tmp" "$devel/lib/$abi/libhpy-extra-$abi.a"
  done
  mkdir -p "$devel/src/runtime"
  cp hpy-sys/runtime/*.c hpy-sys/runtime/*.h "$devel/src/runtime/"
  cp -r hpy-sys/include/. "$devel/include/"
) 9>/tmp/hpy-rs-dev-helpers.lock
echo "helper library installed into $devel/lib"
