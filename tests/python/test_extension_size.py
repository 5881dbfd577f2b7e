"""What our static libraries add to an extension (issue 13, "small
extensions"), built with the installed hpy.devel as a user builds it
(setup.py build_ext), checked with binutils, for two sources:

- examples/simple/simple.c, which calls no API helper;
- sources/every_helper.c, which calls each of them (argument parsing with and
  without keywords, build-value, FromFormat, HPyErr_Format, the type and
  argument-packing helpers, struct sequences).

universal ABI: the helper library (crate hpy-helpers) is no_std, so no Rust
standard library and no `core::fmt`, no shared library beyond what a plain C
extension needs; linked with --gc-sections, an extension carries only the
helpers it calls (none for simple.c). The cpython ABI's static runtime has
its own test, test_extension_size_cpython.py, which imports the builders
here.

The bounds are `size`'s text column (code, read-only data, unwind tables,
dynamic linking tables) measured on x86-64 Linux with CPython 3.11, plus
about 10 % of headroom for compilers and Python versions. Measured (ours /
upstream 0.9.0's hpy.devel, same source):
  simple.c universal        12,654 / 34,326  (0.37x; with std: 1,060,848)
  every_helper.c universal  37,531 / 25,049  (1.498x: issue 13 asks 1.5x)
(Since issue 14 a trampoline also holds the direct call of its
implementation, about 30 bytes each, and HPy_BuildValue a quick way for
tuples of scalars, about 800 bytes.)
A bound failing means the helper library grew: measure before raising it.
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

HERE = Path(__file__).resolve().parent
EVERY_HELPER = HERE / "sources" / "every_helper.c"

TEXT_BOUNDS = {  # measured + ~10 %
    ("simple", "universal"): 13_100,
    ("every_helper", "universal"): 38_550,  # measured + ~5 %
}

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


def build_hpy(tmp_path, name, source, abi):
    return _build(tmp_path, f"{name}-{abi}", f"""
        from setuptools import setup, Extension
        setup(name="{name}", version="0.1",
              hpy_ext_modules=[Extension("{name}", sources=["{name}.c"])])
        """, f"{name}.c", source.read_text(), args=[f"--hpy-abi={abi}"])


def build_plain(tmp):
    """PLAIN_C built with setuptools alone: the NEEDED baseline."""
    return _build(tmp, "plain", """
        from setuptools import setup, Extension
        setup(name="plain", version="0.1", ext_modules=[Extension("plain", ["plain.c"])])
        """, "plain.c", PLAIN_C)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("size")
    out = {"plain": build_plain(tmp)}
    for name, source in (("simple", SOURCE), ("every_helper", EVERY_HELPER)):
        out[name, "universal"] = build_hpy(tmp, name, source, "universal")
    return out


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
    syms = symbols(built["every_helper", "universal"])
    # the helpers are in it (their Rust half, under its C entry points)
    assert any(s.endswith(" hpy_rs_build_value") for s in syms)
    leaked = [s for s in syms if "std::" in s or "core::fmt::" in s]
    assert not leaked, "the helper library brought back Rust's std:\n" + "\n".join(leaked[:20])


def test_unused_helpers_are_not_linked(built):
    # simple.c calls no helper: none of their Rust half is in the binary
    syms = symbols(built["simple", "universal"])
    linked = [s for s in syms if "hpy_helpers::" in s or " hpy_rs_" in s]
    assert not linked, "\n".join(linked[:20])


@pytest.mark.parametrize("name", ["simple", "every_helper"])
def test_universal_needs_no_new_shared_library(built, name):
    assert needed(built[name, "universal"]) <= needed(built["plain"])


@pytest.mark.parametrize("key", sorted(TEXT_BOUNDS))
def test_text_size(built, key):
    size, bound = text_size(built[key]), TEXT_BOUNDS[key]
    assert size <= bound, f"{built[key].name} ({key[1]}): {size} bytes of text (bound {bound})"


def test_binaries_load(built):
    # what was measured is working modules
    import hpy.universal
    import importlib.util
    so = built["simple", "universal"]
    mod = hpy.universal.load("simple", str(so), importlib.util.spec_from_file_location("simple", str(so)))
    assert mod.add_ints(2, 3) == 5
    so = built["every_helper", "universal"]
    check_every_helper(hpy.universal.load(
        "every_helper", str(so), importlib.util.spec_from_file_location("every_helper", str(so))))


def check_every_helper(mod):
    """every_helper.c's functions work (both ABIs' size tests load it)."""
    assert mod.parse(3, 2.5, "x") == (3, 2.5, "x", None)
    assert mod.parse_kw(1, b=2) == "1 and 2"
    assert tuple(mod.point(1, 2)) == (1, 2)
    with pytest.raises(ValueError, match="a must be >= 0, not -1"):
        mod.parse_kw(-1)
    assert isinstance(mod.Thing, type)
