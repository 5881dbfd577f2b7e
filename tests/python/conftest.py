"""Shared fixtures for hpy-rs's own Python tests.

`make_module(source, name=...)` compiles a C snippet written against our
headers into a universal (or hybrid) binary with the system C compiler and
loads it with `hpy.universal.load`. The tests run against the *installed*
`hpy` package (`pip install .`), like a user's would.
"""
import importlib.util
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INCLUDE = REPO / "hpy-sys" / "include"


def helper_link_args(abi):
    """Linker arguments for the API helpers (HPyArg_Parse, HPy_BuildValue, ...):
    the installed package's static helper library and what it needs. For the
    cpython ABI that library is the static runtime, which contains them."""
    from hpy.devel import HPyDevel
    libs = HPyDevel().get_static_libs(abi)
    assert libs, f"the installed hpy package has no helper library for {abi}"
    names = ",".join(os.path.basename(lib) for lib in libs)
    return list(libs) + [f"-Wl,--exclude-libs,{names}", "-lgcc_s", "-lpthread", "-lm", "-ldl"]


def compile_hpy_module(source, name, tmpdir, abi="universal", extra_cflags=(), include=INCLUDE,
                       filename=None, helpers=True):
    """Compile `source` into `<tmpdir>/<name>.hpy0.so` (or `filename`) and return its path.

    abi="cpython" makes an ordinary CPython extension, `<name><EXT_SUFFIX>`,
    linked with the static runtime whatever `helpers` says (load it with
    `load_cpython_module`)."""
    tmpdir = Path(tmpdir)
    src = tmpdir / f"{name}.c"
    src.write_text(textwrap.dedent(source))
    if abi == "cpython":
        default_name = name + sysconfig.get_config_var("EXT_SUFFIX")
        helpers = True
    else:
        default_name = f"{name}.hpy0.so"
    so = tmpdir / (filename or default_name)
    cmd = ["cc", "-shared", "-fPIC", "-O1", "-g", "-Wall", "-Werror", "-I", str(include)]
    if abi == "universal":
        cmd += ["-DHPY", "-DHPY_ABI_UNIVERSAL", "-I", str(Path(include) / "hpy" / "forbid_python_h")]
    elif abi == "hybrid":
        cmd += ["-DHPY", "-DHPY_ABI_HYBRID", "-I", sysconfig.get_paths()["include"]]
    elif abi == "cpython":
        cmd += ["-DHPY", "-DHPY_ABI_CPYTHON", "-I", sysconfig.get_paths()["include"]]
    else:
        raise ValueError(abi)
    cmd += list(extra_cflags) + [str(src), "-o", str(so)]
    if helpers:
        cmd += helper_link_args(abi)
    subprocess.run(cmd, check=True)
    return so


def load_hpy_module(name, so, mode=None):
    import hpy.universal
    spec = importlib.util.spec_from_file_location(name, str(so))
    if mode is None:
        return hpy.universal.load(name, str(so), spec)
    return hpy.universal.load(name, str(so), spec, mode=mode)


def load_cpython_module(name, so):
    """Import a CPython-ABI extension from `so` under `name`, like any other
    extension module (it is not put into sys.modules)."""
    spec = importlib.util.spec_from_file_location(name, str(so))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def make_module(tmp_path):
    counter = [0]

    def make(source, name=None, abi="universal", **kw):
        counter[0] += 1
        name = name or f"mod{counter[0]}"
        so = compile_hpy_module(source, name, tmp_path, abi=abi, **kw)
        if abi == "cpython":
            return load_cpython_module(name, so)
        return load_hpy_module(name, so)

    return make
