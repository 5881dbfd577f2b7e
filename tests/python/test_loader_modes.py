"""One universal binary loaded several times in one process: in different
modes (each module keeps the context of the mode it was loaded in) and
repeatedly (a load costs no memory once its module is gone)."""
import ctypes
import gc
import subprocess
import sys

import pytest

import hpy.universal
from hpy.debug import HPyLeakError, LeakDetector
from hpy.universal import MODE_DEBUG, MODE_TRACE, MODE_UNIVERSAL, _trace

from conftest import compile_hpy_module, load_hpy_module

SOURCE = r"""
#include "hpy.h"

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

HPyDef_METH(leak, "leak", HPyFunc_O)
static HPy leak_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_Dup(ctx, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyGlobal counter;

HPyDef_METH(bump, "bump", HPyFunc_NOARGS)
static HPy bump_impl(HPyContext *ctx, HPy self)
{
    HPy old = HPyGlobal_Load(ctx, counter);
    long n = HPy_IsNull(old) ? 0 : HPyLong_AsLong(ctx, old);
    HPy_Close(ctx, old);
    HPy h = HPyLong_FromLong(ctx, n + 1);
    HPyGlobal_Store(ctx, &counter, h);
    return h;
}

static HPyDef *defines[] = { &ctx_name, &leak, &bump, NULL };
static HPyGlobal *globals[] = { &counter, NULL };
static HPyModuleDef moduledef = {
    .doc = "loader modes test", .size = 0, .defines = defines, .globals = globals
};
HPy_MODINIT(modesmod, moduledef)
"""

CTX_NAMES = {
    MODE_UNIVERSAL: "HPy Universal ABI",
    MODE_DEBUG: "HPy Debug Mode ABI",
    MODE_TRACE: "HPy Trace Mode ABI",
}


def load(so, mode, how="mode"):
    """Loads `so` in `mode`, through `mode=` or (universal/debug) `debug=`."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("modesmod", str(so))
    if how == "debug":
        assert mode in (MODE_UNIVERSAL, MODE_DEBUG)
        return hpy.universal.load("modesmod", str(so), spec, debug=(mode == MODE_DEBUG))
    return hpy.universal.load("modesmod", str(so), spec, mode=mode)


def assert_mode(m, mode):
    assert m.ctx_name().startswith(CTX_NAMES[mode]), (m.ctx_name(), mode)


def assert_leak_reported(m):
    obj = object()
    with pytest.raises(HPyLeakError) as exc:
        with LeakDetector():
            m.leak(obj)
    leaks = exc.value.leaks
    assert [h.obj for h in leaks] == [obj]
    for h in leaks:
        h._force_close()


def assert_leak_not_reported(m):
    obj = object()
    with LeakDetector():
        m.leak(obj)  # a universal-mode leak: invisible to the debug context


@pytest.fixture
def so(tmp_path):
    return compile_hpy_module(SOURCE, "modesmod", tmp_path)


@pytest.mark.parametrize("how", ["debug", "mode"])
def test_debug_then_universal(so, how):
    m1 = load(so, MODE_DEBUG, how)
    assert_mode(m1, MODE_DEBUG)
    m2 = load(so, MODE_UNIVERSAL, how)
    assert_mode(m2, MODE_UNIVERSAL)
    # The first module still runs with the debug context: its leaks show.
    assert_mode(m1, MODE_DEBUG)
    assert_leak_reported(m1)
    assert_leak_not_reported(m2)


def test_universal_then_debug(so):
    m1 = load(so, MODE_UNIVERSAL)
    m2 = load(so, MODE_DEBUG)
    assert_mode(m1, MODE_UNIVERSAL)
    assert_mode(m2, MODE_DEBUG)
    assert_leak_not_reported(m1)
    assert_leak_reported(m2)


def test_three_modes_and_reloads(so):
    mods = {mode: load(so, mode) for mode in (MODE_DEBUG, MODE_TRACE, MODE_UNIVERSAL)}
    # Loading again in a mode already used gives a module in that mode too,
    # and changes no other module's mode.
    again = {mode: load(so, mode) for mode in (MODE_UNIVERSAL, MODE_TRACE, MODE_DEBUG)}
    for mode in mods:
        assert_mode(mods[mode], mode)
        assert_mode(again[mode], mode)
    assert_leak_reported(mods[MODE_DEBUG])
    assert_leak_reported(again[MODE_DEBUG])
    # The trace module is traced: its calls are counted.
    before = _trace.get_call_counts()["ctx_Dup"]
    mods[MODE_TRACE].leak(1)
    assert _trace.get_call_counts()["ctx_Dup"] > before


def test_globals_are_per_mode(so):
    # The HPyGlobal statics belong to the binary loaded for each mode: a
    # module loaded in another mode neither sees nor resets them.
    m1 = load(so, MODE_DEBUG)
    assert m1.bump() == 1
    assert m1.bump() == 2
    m2 = load(so, MODE_UNIVERSAL)
    assert m2.bump() == 1
    assert m1.bump() == 3


def test_first_module_keeps_debug_context_after_gc(so):
    m1 = load(so, MODE_DEBUG)
    load(so, MODE_UNIVERSAL)
    gc.collect()
    assert_leak_reported(m1)


def test_no_copy_possible_is_an_import_error(so):
    # The second mode needs a private copy of the file; without the file
    # there is none, which is an error (never a module in the wrong mode).
    m1 = load(so, MODE_DEBUG)
    so.rename(so.with_suffix(".moved"))
    with pytest.raises(ImportError, match="already loaded it in debug mode"):
        load(so, MODE_UNIVERSAL)
    assert_mode(load(so, MODE_DEBUG), MODE_DEBUG)
    assert_mode(m1, MODE_DEBUG)
    assert_leak_reported(m1)


def test_copy_bound_to_the_original_is_an_import_error(so):
    # A binary loaded with RTLD_GLOBAL lends its symbols (here the exported
    # HPyGlobal) to the copy: the copy is refused. In a subprocess, since
    # the global symbols would stay for the other tests.
    script = f"""if 1:
        import ctypes, importlib.util, os
        import hpy.universal
        so = {str(so)!r}
        ctypes.CDLL(so, mode=os.RTLD_NOW | ctypes.RTLD_GLOBAL)
        def load(mode):
            spec = importlib.util.spec_from_file_location("modesmod", so)
            return hpy.universal.load("modesmod", so, spec, mode=mode)
        m1 = load(hpy.universal.MODE_DEBUG)
        try:
            load(hpy.universal.MODE_UNIVERSAL)
        except ImportError as e:
            assert "RTLD_GLOBAL" in str(e), e
        else:
            raise AssertionError("no ImportError")
        assert m1.ctx_name().startswith("HPy Debug Mode ABI")
        assert (m1.bump(), m1.bump()) == (1, 2)
        print("ok")
    """
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr


# --- memory: one PyModuleDef per load ---------------------------------------

def _malloc_in_use():
    """Bytes allocated with malloc (glibc's mallinfo2), after a full GC."""
    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
        ).split()]
    try:
        f = ctypes.CDLL(None).mallinfo2
    except AttributeError:
        pytest.skip("needs glibc's mallinfo2")
    f.restype = MallInfo2
    gc.collect()
    info = f()
    return info.uordblks + info.hblkhd


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc statistics")
@pytest.mark.parametrize("modes", [
    (MODE_UNIVERSAL,), (MODE_DEBUG,), (MODE_UNIVERSAL, MODE_DEBUG, MODE_TRACE)
])
def test_repeated_loads_do_not_leak(so, modes):
    n = 2000

    def run(count):
        for i in range(count):
            m = load(so, modes[i % len(modes)])
            assert m.ctx_name()
            del m

    run(n)  # warm up: the binaries for each mode, the closed handles queue
    before = _malloc_in_use()
    run(n)
    grown = _malloc_in_use() - before
    # Each load used to leak its PyModuleDef, method table, slots and name
    # (about 290 bytes here); allow a little noise, far below one per load.
    assert grown < n * 16, f"{grown / n:.1f} bytes per load"


def test_method_outlives_its_module(so):
    # A method kept after its module (and every other module made from the
    # binary) is gone still works: the definition it points to is alive.
    f = load(so, MODE_UNIVERSAL).ctx_name
    for _ in range(10):
        load(so, MODE_UNIVERSAL)
    gc.collect()
    assert f().startswith(CTX_NAMES[MODE_UNIVERSAL])
    assert f.__module__ == "modesmod"
