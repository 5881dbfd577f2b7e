"""The trace context: loading in trace mode (mode=, HPY=), call counts,
durations, the on_enter/on_exit trace functions, and `hpy.trace`."""
import os
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

import hpy.universal
from hpy.trace import get_call_counts, get_durations, get_frequency, set_trace_functions

from conftest import compile_hpy_module, load_hpy_module

SOURCE = r"""
#include "hpy.h"

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

HPyDef_METH(add, "add", HPyFunc_VARARGS)
static HPy add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "add takes two arguments");
        return HPy_NULL;
    }
    return HPy_Add(ctx, args[0], args[1]);
}

HPyDef_METH(call, "call", HPyFunc_O)
static HPy call_impl(HPyContext *ctx, HPy self, HPy arg)
{
    if (!HPyCallable_Check(ctx, arg)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "not callable");
        return HPy_NULL;
    }
    return HPy_CallTupleDict(ctx, arg, HPy_NULL, HPy_NULL);
}

/* The error set first must survive the trace functions called in between. */
HPyDef_METH(fail_then_check, "fail_then_check", HPyFunc_NOARGS)
static HPy fail_then_check_impl(HPyContext *ctx, HPy self)
{
    HPyErr_SetString(ctx, ctx->h_ValueError, "set before tracing");
    if (!HPyErr_Occurred(ctx))
        return HPyUnicode_FromString(ctx, "the error was lost");
    return HPy_NULL;
}

/* Leave is entered with the GIL and exited without it; Reenter the reverse. */
HPyDef_METH(without_gil, "without_gil", HPyFunc_NOARGS)
static HPy without_gil_impl(HPyContext *ctx, HPy self)
{
    HPyThreadState state = HPy_LeavePythonExecution(ctx);
    HPy_ReenterPythonExecution(ctx, state);
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *defines[] = { &ctx_name, &add, &call, &fail_then_check, &without_gil, NULL };
static HPyModuleDef moduledef = { .doc = "trace test", .size = 0, .defines = defines };
HPy_MODINIT(tracemod, moduledef)
"""

HYBRID_SOURCE = r"""
#include "hpy.h"
#include <Python.h>

HPyDef_METH(py_len, "py_len", HPyFunc_O)
static HPy py_len_impl(HPyContext *ctx, HPy self, HPy arg)
{
    PyObject *o = HPy_AsPyObject(ctx, arg);
    Py_ssize_t n = PyObject_Length(o);
    Py_DECREF(o);
    if (n < 0)
        return HPy_NULL;
    return HPyLong_FromSsize_t(ctx, n);
}

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

static HPyDef *defines[] = { &py_len, &ctx_name, NULL };
static HPyModuleDef moduledef = { .size = 0, .defines = defines };
HPy_MODINIT(tracehyb, moduledef)
"""


@pytest.fixture(scope="module")
def so(tmp_path_factory):
    return compile_hpy_module(SOURCE, "tracemod", tmp_path_factory.mktemp("trace"), helpers=False)


@pytest.fixture(scope="module")
def mod(so):
    return load_hpy_module("tracemod", so, mode=hpy.universal.MODE_TRACE)


@pytest.fixture
def recorded():
    """Installs on_enter/on_exit functions recording (event, name) in a list;
    removes them afterwards."""
    events = []
    set_trace_functions(on_enter=lambda name: events.append(("enter", name)),
                        on_exit=lambda name: events.append(("exit", name)))
    try:
        yield events
    finally:
        set_trace_functions(on_enter=None, on_exit=None)


def counts():
    return Counter(get_call_counts())


def test_mode_constant_and_ctx_name(mod):
    assert hpy.universal.MODE_TRACE == 2
    assert mod.ctx_name().startswith("HPy Trace Mode ABI")


def test_hpy_trace_is_the_universal_trace_module():
    import hpy.trace
    assert hpy.universal._trace.__name__ == "hpy.trace._trace"
    assert hpy.trace.get_call_counts is hpy.universal._trace.get_call_counts


def test_call_counts_have_every_api_function(mod):
    c = get_call_counts()
    assert isinstance(c, dict)
    assert "ctx_Add" in c and "ctx_Close" in c and "ctx_Slice_New" in c
    assert all(name.startswith("ctx_") for name in c)
    assert not any(name.startswith("h_") for name in c)
    assert all(isinstance(n, int) and n >= 0 for n in c.values())
    assert set(get_durations()) == set(c)


def test_call_counts_increase_per_call(mod):
    before = counts()
    assert mod.add(1, 2) == 3
    assert counts() - before == {"ctx_Add": 1}
    assert mod.add(10, 20) == 30
    assert counts() - before == {"ctx_Add": 2}
    with pytest.raises(TypeError, match="two arguments"):
        mod.add(1, 2, 3)
    assert counts() - before == {"ctx_Add": 2, "ctx_Err_SetString": 1}


def test_trampoline_dispatch_is_not_counted(mod):
    # like upstream, the dispatch is the inner context's own function: the
    # calls made by the extension function are what gets counted
    before = counts()
    mod.add(1, 2)
    assert counts()["ctx_CallRealFunctionFromTrampoline"] == before["ctx_CallRealFunctionFromTrampoline"] == 0


def test_durations_are_nanoseconds_and_grow(mod):
    import time
    before = get_durations()

    def slow():
        time.sleep(0.05)
        return 42

    assert mod.call(slow) == 42
    after = get_durations()
    assert after["ctx_CallTupleDict"] - before["ctx_CallTupleDict"] >= 50_000_000
    # and less than a minute: the unit is not something smaller
    assert after["ctx_CallTupleDict"] - before["ctx_CallTupleDict"] < 60_000_000_000
    changed = {k for k in before if after[k] != before[k]}
    assert changed <= {"ctx_CallTupleDict", "ctx_Callable_Check"}


def test_frequency():
    f = get_frequency()
    assert isinstance(f, int) and f > 0


def test_trace_functions_get_the_api_name(mod, recorded):
    assert mod.add(1, 2) == 3
    assert recorded == [("enter", "ctx_Add"), ("exit", "ctx_Add")]


def test_trace_functions_set_separately(mod):
    entered, exited = [], []
    try:
        set_trace_functions(entered.append)          # positional: on_enter
        assert mod.add(1, 2) == 3
        assert (entered, exited) == (["ctx_Add"], [])
        set_trace_functions(on_exit=exited.append)   # on_enter unchanged
        assert mod.add(2, 3) == 5
        assert (entered, exited) == (["ctx_Add"] * 2, ["ctx_Add"])
        set_trace_functions(on_enter=None)           # cleared, on_exit unchanged
        assert mod.add(2, 3) == 5
        assert (entered, exited) == (["ctx_Add"] * 2, ["ctx_Add"] * 2)
        set_trace_functions()                        # nothing changes
        assert mod.add(2, 3) == 5
        assert (entered, exited) == (["ctx_Add"] * 2, ["ctx_Add"] * 3)
    finally:
        set_trace_functions(on_enter=None, on_exit=None)
    assert mod.add(2, 3) == 5
    assert (entered, exited) == (["ctx_Add"] * 2, ["ctx_Add"] * 3)


def test_non_callable_trace_function_is_a_type_error(mod):
    seen = []
    try:
        set_trace_functions(on_enter=seen.append)
        with pytest.raises(TypeError, match="callable object or None for on_enter"):
            set_trace_functions(1)
        with pytest.raises(TypeError, match="on_exit, got 'str'"):
            set_trace_functions(on_enter=None, on_exit="nope")
        # a rejected call changes neither function
        mod.add(1, 2)
        assert seen == ["ctx_Add"]
        with pytest.raises(TypeError):
            set_trace_functions(on_middle=print)
        with pytest.raises(TypeError):
            set_trace_functions(None, None, None)
    finally:
        set_trace_functions(on_enter=None, on_exit=None)


def test_pending_exception_survives_trace_functions(mod, recorded):
    with pytest.raises(ValueError, match="set before tracing"):
        mod.fail_then_check()
    assert recorded == [
        ("enter", "ctx_Err_SetString"), ("exit", "ctx_Err_SetString"),
        ("enter", "ctx_Err_Occurred"), ("exit", "ctx_Err_Occurred"),
    ]


def test_trace_functions_around_leaving_python(mod, recorded):
    # on_exit of Leave and on_enter of Reenter run without the GIL held by the
    # extension: the trace context takes it for them
    assert mod.without_gil() is None
    assert recorded == [
        ("enter", "ctx_LeavePythonExecution"), ("exit", "ctx_LeavePythonExecution"),
        ("enter", "ctx_ReenterPythonExecution"), ("exit", "ctx_ReenterPythonExecution"),
        ("enter", "ctx_Dup"), ("exit", "ctx_Dup"),
    ]


def run_python(code, env_extra=None, cwd=None):
    env = dict(os.environ)
    env.pop("HPY", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("which", ["on_enter", "on_exit"])
def test_raising_trace_function_is_fatal(so, which):
    # An API call cannot report the trace function's exception, so (like
    # upstream) it is a fatal error, after Python printed the exception.
    r = run_python(f"""
        import importlib.util, hpy.universal
        from hpy.trace import set_trace_functions
        spec = importlib.util.spec_from_file_location("tracemod", {str(so)!r})
        mod = hpy.universal.load("tracemod", {str(so)!r}, spec, mode=hpy.universal.MODE_TRACE)
        def bad(name):
            raise RuntimeError("trace function failed for " + name)
        set_trace_functions({which}=bad)
        mod.add(1, 2)
        print("not reached")
    """)
    assert r.returncode != 0
    assert "not reached" not in r.stdout
    event = "on-enter" if which == "on_enter" else "on-exit"
    assert f"error when executing {event} trace function" in r.stderr
    assert "ctx_Add" in r.stderr
    assert "RuntimeError: trace function failed for ctx_Add" in r.stderr


def test_load_bootstrap_with_hpy_env(so, capfd):
    import importlib.util
    for value in ("trace", "TR", "tracemod:trace", "other:debug,tracemod:trace"):
        spec = importlib.util.spec_from_file_location("tracemod", str(so))
        m = hpy.universal._load_bootstrap("tracemod", "tracemod", "", str(so), None, spec,
                                          {"HPY": value, "HPY_LOG": "1"})
        assert m.ctx_name().startswith("HPy Trace Mode ABI"), value
        assert "Loading 'tracemod' in HPy universal mode with a trace context" in capfd.readouterr().out


def test_import_with_hpy_env_var(so):
    from hpy.devel import _HPY_UNIVERSAL_MODULE_STUB_TEMPLATE as stub
    d = so.parent
    (d / "tracemod.py").write_text(stub.format(ext_file=so.name, module_name="tracemod"))
    code = """
        import tracemod
        from hpy.trace import get_call_counts
        n = get_call_counts()["ctx_Add"]
        assert tracemod.add(1, 2) == 3
        print(tracemod.ctx_name(), get_call_counts()["ctx_Add"] - n)
    """
    for value in ("trace", "tracemod:trace"):
        r = run_python(code, {"HPY": value}, cwd=d)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("HPy Trace Mode ABI") and r.stdout.split()[-1] == "1"
    r = run_python(code, {"HPY": "other:trace,tracemod:universal"}, cwd=d)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("HPy Universal ABI") and r.stdout.split()[-1] == "0"


def test_hybrid_module_in_trace_mode(tmp_path):
    so = compile_hpy_module(HYBRID_SOURCE, "tracehyb", tmp_path, abi="hybrid",
                            filename="tracehyb.hpy0.so", helpers=False)
    m = load_hpy_module("tracehyb", so, mode=hpy.universal.MODE_TRACE)
    assert m.ctx_name().startswith("HPy Trace Mode ABI")
    before = counts()
    assert m.py_len([1, 2, 3]) == 3
    assert counts() - before == {"ctx_AsPyObject": 1, "ctx_Long_FromSsize_t": 1}
