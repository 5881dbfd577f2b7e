"""What our static libraries add to an extension (issue 13, "small
extensions"): examples/simple/simple.c built with the installed hpy.devel,
as a user builds it (setup.py build_ext), checked with binutils.

- universal ABI: the helper library (crate hpy-helpers) is no_std, so no
  Rust standard library and no `core::fmt` in the binary, no shared library
  beyond what a plain C extension needs, and a bounded text size;
- cpython ABI: its static runtime still carries std (hpy-cpython is a std
  crate): only its text size is bounded, against growth.

The bounds are `size`'s text column (code, read-only data, unwind tables,
dynamic linking tables) measured on x86-64 Linux with CPython 3.11 for this
source, plus about 10 % of headroom for compilers and Python versions:
universal 52,314 bytes (upstream 0.9.0's hpy.devel: 34,326, so 1.52x; issue
13 asks for 1.5x, 51,489; before the helpers dropped std: 1,060,848; with
std dropped but before the helpers called 0.9.0's members unchecked and
built their buffers uninitialized: 58,892); cpython 1,145,898 (upstream:
93,861). Either bound failing means the helper library grew: measure
before raising it.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "examples" / "simple" / "simple.c"

UNIVERSAL_TEXT_BOUND = 57_500  # 52,314 + 10 %
CPYTHON_TEXT_BOUND = 1_260_000

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"),
                       reason="ELF binaries and GNU binutils"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("nm", "readelf", "size")),
                       reason="needs binutils (nm, readelf, size)"),
]

# a plain C extension that uses the C library, as every real one does
PLAIN_C = """
#include <Python.h>
#include <stdlib.h>
static PyObject *answer(PyObject *self, PyObject *args)
{ return PyLong_FromLong(getenv("PLAIN_ANSWER") ? atol(getenv("PLAIN_ANSWER")) : 42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "plain", NULL, -1, methods};
PyMODINIT_FUNC PyInit_plain(void) { return PyModule_Create(&def); }
"""


def _build(tmp_path, name, setup_body, source_name, source_text, args=()):
    """Run `setup.py [args] build_ext --inplace` in a fresh directory and
    return the one binary it made."""
    work = tmp_path / name
    work.mkdir()
    (work / source_name).write_text(source_text)
    (work / "setup.py").write_text(textwrap.dedent(setup_body))
    subprocess.run([sys.executable, "setup.py", "-q", *args, "build_ext", "--inplace"],
                   cwd=work, check=True, capture_output=True)
    binaries = [p for p in work.iterdir() if p.suffix == ".so"]
    assert len(binaries) == 1, binaries
    return binaries[0]


def build_hpy(tmp_path, abi):
    return _build(tmp_path, abi, """
        from setuptools import setup, Extension
        setup(name="simple", version="0.1",
              hpy_ext_modules=[Extension("simple", sources=["simple.c"])])
        """, "simple.c", SOURCE.read_text(), args=[f"--hpy-abi={abi}"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("size")
    plain = _build(tmp, "plain", """
        from setuptools import setup, Extension
        setup(name="plain", version="0.1", ext_modules=[Extension("plain", ["plain.c"])])
        """, "plain.c", PLAIN_C)
    return {"plain": plain, "universal": build_hpy(tmp, "universal"),
            "cpython": build_hpy(tmp, "cpython")}


def needed(so):
    out = subprocess.run(["readelf", "-d", str(so)], check=True, capture_output=True,
                         text=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def text_size(so):
    out = subprocess.run(["size", str(so)], check=True, capture_output=True, text=True).stdout
    return int(out.splitlines()[1].split()[0])


def symbols(so):
    return subprocess.run(["nm", "-C", str(so)], check=True, capture_output=True,
                          text=True).stdout.splitlines()


def test_universal_has_no_rust_std(built):
    syms = symbols(built["universal"])
    # the helpers are in it (their Rust half, under its C entry points)
    assert any(s.endswith(" hpy_rs_build_value") for s in syms)
    leaked = [s for s in syms if "std::" in s or "core::fmt::" in s]
    assert not leaked, "the helper library brought back Rust's std:\n" + "\n".join(leaked[:20])


def test_universal_needs_no_new_shared_library(built):
    assert needed(built["universal"]) <= needed(built["plain"])


def test_universal_text_size(built):
    size = text_size(built["universal"])
    assert size <= UNIVERSAL_TEXT_BOUND, (
        f"{built['universal'].name}: {size} bytes of text (bound {UNIVERSAL_TEXT_BOUND})")


def test_cpython_text_size(built):
    size = text_size(built["cpython"])
    assert size <= CPYTHON_TEXT_BOUND, (
        f"{built['cpython'].name}: {size} bytes of text (bound {CPYTHON_TEXT_BOUND})")


def test_binaries_load(built):
    # what was measured is a working module
    import hpy.universal
    import importlib.util
    spec = importlib.util.spec_from_file_location("simple", str(built["universal"]))
    mod = hpy.universal.load("simple", str(built["universal"]), spec)
    assert mod.add_ints(2, 3) == 5
    assert os.path.getsize(built["cpython"]) > 0
