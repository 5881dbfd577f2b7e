#!/usr/bin/env bash
# Developer shortcut: rebuild hpy.universal (crate hpy-universal, with its
# debug/trace contexts) and the helper library, and put them, the Python
# sources of the hpy package and the hpy-rs.pth of the import hook into the
# *installed* hpy package, without a full
# `pip install .`. Several people (or agents) may run it at once: the copy is
# serialized and each file is replaced by an atomic rename (processes that
# have the old module loaded keep running).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# for the interpreter of $PYTHON, else python3 on PATH (what pyo3-ffi picks)
env ${PYTHON:+PYO3_PYTHON="$PYTHON"} cargo build --release -q -p hpy-universal --features extension-module
pkg=$("$PY" -c 'import hpy.devel, os; print(os.path.dirname(os.path.dirname(hpy.devel.__file__)))')
suffix=$("$PY" -c 'import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])')
(
  flock 9
  cp target/release/libhpy_universal.so "$pkg/.universal.tmp"
  mv "$pkg/.universal.tmp" "$pkg/universal$suffix"
  # Python sources (hpy.devel, hpy.debug, hpy.trace, ...)
  (cd python/hpy && find . -name '*.py' -print0) | while IFS= read -r -d '' f; do
    mkdir -p "$pkg/$(dirname "$f")"
    cp "python/hpy/$f" "$pkg/$f.tmp" && mv "$pkg/$f.tmp" "$pkg/$f"
  done
  # the .pth that installs the import hook at interpreter start goes next to
  # the package, at the top of site-packages (as setup.py ships it)
  site=$(dirname "$pkg")
  cp python/hpy-rs.pth "$site/.hpy-rs.pth.tmp" && mv "$site/.hpy-rs.pth.tmp" "$site/hpy-rs.pth"
) 9>/tmp/hpy-rs-dev-install.lock
bash scripts/dev-helpers.sh >/dev/null
echo "hpy.universal and the hpy sources installed into $pkg"
