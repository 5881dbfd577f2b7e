"""The debug mode as a C library (hpy_debug.h, libhpy_debug from
hpy.devel's lib/debug/) used the way another runtime would: a C program
(sources/debug_clib.c) embeds CPython, wraps hpy.universal's universal
context in the debug context through the C API, leaks a handle and finds it,
then uses a closed handle, which the debug mode reports and stops on. It is
linked once against the shared library and once against the static one;
the test checks what it printed.
"""
import os
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent / "sources" / "debug_clib.c"

# What the static library needs from the system (Rust's standard library),
# as `rustc --print native-static-libs` reports it for the staticlib.
STATIC_SYSTEM_LIBS = ["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl"]


def python_link_args():
    """Linker arguments that embed this interpreter's libpython."""
    cfg = sysconfig.get_config_var
    libdir = cfg("LIBDIR") if cfg("Py_ENABLE_SHARED") else cfg("LIBPL")
    args = [f"-L{libdir}", f"-lpython{cfg('LDVERSION')}", f"-Wl,-rpath,{libdir}"]
    for var in ("LIBS", "SYSLIBS"):
        args += shlex.split(cfg(var) or "")
    if not cfg("Py_ENABLE_SHARED"):
        # extension modules (hpy.universal) resolve libpython in the program
        args += shlex.split(cfg("LINKFORSHARED") or "")
    return args


def build(tmp_path, kind):
    from hpy.devel import HPyDevel
    devel = HPyDevel()
    lib_dir = Path(devel.get_debug_lib_dir())
    assert (lib_dir / f"libhpy_debug.{'so' if kind == 'shared' else 'a'}").is_file(), \
        f"the installed hpy package has no debug library in {lib_dir}"
    exe = tmp_path / f"debug_clib_{kind}"
    cmd = ["cc", "-O1", "-g", "-Wall", "-Werror", "-Wno-deprecated-declarations",
           "-DHPY_ABI_HYBRID", "-I", sysconfig.get_paths()["include"]]
    for inc in devel.get_extra_include_dirs():
        cmd += ["-I", inc]
    cmd += [str(SOURCE), "-o", str(exe)]
    if kind == "shared":
        cmd += [f"-L{lib_dir}", "-lhpy_debug", f"-Wl,-rpath,{lib_dir}"]
        cmd += python_link_args()
    else:
        cmd += [str(lib_dir / "libhpy_debug.a")] + python_link_args() + STATIC_SYSTEM_LIBS
    subprocess.run(cmd, check=True)
    return exe


def run(exe):
    """Runs the program with the installed hpy package importable."""
    import hpy.universal
    site = os.path.dirname(os.path.dirname(hpy.universal.__file__))
    env = dict(os.environ, PYTHONPATH=site, PYTHONHOME=sys.base_prefix,
               PYTHONNOUSERSITE="1")
    return subprocess.run([str(exe)], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("kind", ["shared", "static"])
def test_leak_and_use_after_close_are_reported(tmp_path, kind):
    exe = build(tmp_path, kind)
    if kind == "shared":
        needed = subprocess.run(["ldd", str(exe)], capture_output=True, text=True).stdout
        assert "libhpy_debug.so" in needed
    r = run(exe)
    out, err = r.stdout, r.stderr
    print(out)
    print(err)
    assert "failures: 0" in out
    assert "FAILED" not in out
    assert "debug context: HPy Debug Mode ABI (hpy-rs)" in out
    # what the C API refuses, with the function that refused
    assert ("refused: hpy_debug_get_ctx(NULL): SystemError: "
            "hpy_debug_get_ctx: the universal context is NULL") in out
    assert ("refused: hpy_debug_open_handle(uctx, ...): SystemError: "
            "hpy_debug_open_handle: not a debug context") in out
    assert ("refused: hpy_debug_get_ctx(dctx): SystemError: hpy_debug_get_ctx: "
            "expected a universal context, got a debug or trace context") in out
    assert "hpy_rs_debug_get_open_handles: size is negative" in out
    assert "hpy_trace_ctx_free: not a trace context" in out
    assert "hpy_debug_set_ctx: not a debug context" in out
    assert "hpy_debug_set_ctx: the context has no ctx_Float_AsDouble" in out
    # the leak: exactly the handle left open, found by generation
    one, two, leaked = re.search(r"opened (0x\w+) (0x\w+) (0x\w+)", out).groups()
    assert "open before closing: 2" in out
    assert "leaks: 1\n" in out
    assert f"leak: handle {leaked}: 'leaked by debug_clib.c'" in out
    assert "trace: 189 functions, member 77 is ctx_Dup" in out
    assert "module definition HPyInit__debug: 3 of 3 functions found" in out
    assert "module definition HPyInit__trace: 2 of 2 functions found" in out
    # use after close: reported naming the API function and the handle, fatal
    assert f"using closed handle {one}" in out
    assert "not reported" not in out
    assert (f"HPy debug mode: HPy_Repr (argument 'obj'): handle {one} "
            "was used after it was closed") in err
    assert r.returncode != 0
