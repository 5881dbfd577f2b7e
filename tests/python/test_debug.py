"""The debug context: loading in debug mode, handle wrapping, leak and
use-after-close detection, and the `hpy.universal._debug` API."""
import pytest

import hpy.universal
from hpy.universal import _debug
from hpy.debug import HPyLeakError, LeakDetector

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
    return HPy_Add(ctx, args[0], args[1]);
}

HPyDef_METH(call, "call", HPyFunc_KEYWORDS)
static HPy call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    return HPy_Call(ctx, args[0], args + 1, nargs - 1, kwnames);
}

HPyDef_METH(make_tuple, "make_tuple", HPyFunc_O)
static HPy make_tuple_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy items[2] = { arg, ctx->h_None };
    return HPyTuple_FromArray(ctx, items, 2);
}

HPyDef_METH(leak, "leak", HPyFunc_O)
static HPy leak_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_Dup(ctx, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(use_after_close, "use_after_close", HPyFunc_O)
static HPy use_after_close_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy h = HPy_Dup(ctx, arg);
    HPy_Close(ctx, h);
    return HPy_Repr(ctx, h);
}

HPyDef_METH(tracked, "tracked", HPyFunc_O)
static HPy tracked_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyTracker ht = HPyTracker_New(ctx, 2);
    HPyTracker_Add(ctx, ht, HPy_Dup(ctx, arg));
    HPyTracker_Add(ctx, ht, HPy_Dup(ctx, arg));
    HPyTracker_Close(ctx, ht);
    return HPy_Dup(ctx, arg);
}

static HPyDef *defines[] = {
    &ctx_name, &add, &call, &make_tuple, &leak, &use_after_close, &tracked, NULL
};
static HPyModuleDef moduledef = { .doc = "debug test", .size = 0, .defines = defines };
HPy_MODINIT(dbgmod, moduledef)
"""


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    so = compile_hpy_module(SOURCE, "dbgmod", tmp_path_factory.mktemp("dbg"))
    return load_hpy_module("dbgmod", so, mode=hpy.universal.MODE_DEBUG)


def test_ctx_name(mod):
    assert mod.ctx_name().startswith("HPy Debug Mode ABI")


def test_calls(mod):
    assert mod.add(40, 2) == 42
    assert mod.call(lambda *a, **k: (a, k), 1, 2, x=3) == ((1, 2), {"x": 3})
    assert mod.make_tuple("x") == ("x", None)
    assert mod.tracked("y") == "y"


def test_no_leak(mod):
    with LeakDetector():
        mod.add(1, 2)
        mod.tracked(3)
        mod.make_tuple(4)


def test_leak_detected(mod):
    obj = "a leaked string"
    ld = LeakDetector()
    ld.start()
    mod.leak(obj)
    with pytest.raises(HPyLeakError) as exc:
        ld.stop()
    leaks = exc.value.leaks
    assert [h.obj for h in leaks] == [obj]
    assert "1 unclosed handle:" in str(exc.value)
    assert repr(leaks[0]).startswith("<DebugHandle 0x")
    for h in leaks:
        h._force_close()
        assert h.is_closed
    assert _debug.get_open_handles(ld.generation) == []


def test_use_after_close(mod):
    reports = []
    _debug.set_on_invalid_handle(lambda: reports.append(1))
    try:
        assert mod.use_after_close("s") == "'s'"
    finally:
        _debug.set_on_invalid_handle(None)
    assert reports == [1]


def test_open_and_closed_handles(mod):
    gen = _debug.new_generation()
    assert _debug.get_open_handles(gen) == []
    mod.add(3, 4)
    assert _debug.get_open_handles(gen) == []
    closed = _debug.get_closed_handles(gen)
    assert closed and all(h.is_closed for h in closed)
    assert all(h.obj is None for h in closed)
    assert len(_debug.get_closed_handles()) >= len(closed)
    assert isinstance(closed[0], _debug.DebugHandle)
    assert closed[0] == _debug.get_closed_handles(gen)[0]
    assert hash(closed[0]) == hash(_debug.get_closed_handles(gen)[0])


def test_closed_queue_shrinks_gradually(mod):
    # Like upstream: lowering the maximum trims nothing at once; each close
    # drops at most one old entry, and opening takes one from a full queue.
    mod.add(1, 2)
    old = _debug.get_closed_handles_queue_max_size()
    try:
        n = len(_debug.get_closed_handles())
        assert n >= 4
        _debug.set_closed_handles_queue_max_size(1)
        assert len(_debug.get_closed_handles()) == n
        mod.add(1, 2)  # opens 4 (each reusing a queued slot), closes 4
        # the queue never drops below the maximum (1) through closes: with
        # n == 4 (a fresh worker) the 4 opens empty it and the closes refill one
        assert len(_debug.get_closed_handles()) == max(n - 4, 1)
        for _ in range(n):
            mod.add(1, 2)
        assert len(_debug.get_closed_handles()) == 1
    finally:
        _debug.set_closed_handles_queue_max_size(old)
    assert _debug.get_closed_handles_queue_max_size() == old


def test_debug_handle_outlives_its_slot(mod):
    # A DebugHandle keeps its slot alive after the queue dropped it.
    old = _debug.get_closed_handles_queue_max_size()
    gen = _debug.new_generation()
    mod.add(5, 6)
    kept = _debug.get_closed_handles(gen)
    try:
        _debug.set_closed_handles_queue_max_size(0)
        for _ in range(len(_debug.get_closed_handles()) + 10):
            mod.add(1, 2)
        assert len(_debug.get_closed_handles()) == 0
    finally:
        _debug.set_closed_handles_queue_max_size(old)
    for h in kept:
        assert h.is_closed and h.obj is None and h.raw_data_size == -1
        assert "CLOSED" in repr(h)
        h._force_close()  # no-op
    del kept


def test_settings():
    n = _debug.get_protected_raw_data_max_size()
    _debug.set_protected_raw_data_max_size(n + 1)
    assert _debug.get_protected_raw_data_max_size() == n + 1
    _debug.set_protected_raw_data_max_size(n)
    with pytest.raises(OverflowError):
        _debug.set_protected_raw_data_max_size(-1)
    with pytest.raises(OverflowError):
        _debug.set_closed_handles_queue_max_size(-1)
    _debug.set_handle_stack_trace_limit(16)
    _debug.set_handle_stack_trace_limit(None)
    with pytest.raises(TypeError):
        _debug.set_on_invalid_handle(42)
    with pytest.raises(TypeError):
        _debug.set_on_invalid_builder_handle(42)


HINT = ("To see where it was opened, record stack traces with "
        "hpy.debug.set_handle_stack_trace_limit(n)")


def leaked_handles(mod, *objs):
    ld = LeakDetector()
    ld.start()
    for o in objs:
        mod.leak(o)
    with pytest.raises(HPyLeakError) as exc:
        ld.stop()
    return exc.value


def test_debug_handle_type():
    # The type's name is a static string (CPython < 3.11 keeps the spec's
    # pointer as tp_name).
    tp = _debug.DebugHandle
    assert tp.__name__ == "DebugHandle"
    assert tp.__qualname__ == "DebugHandle"
    assert tp.__module__ == "hpy.debug._debug"
    assert repr(tp) == "<class 'hpy.debug._debug.DebugHandle'>"


def test_debug_handle_repr_and_leak_report(mod):
    err = leaked_handles(mod, "a", 42)
    a, b = err.leaks
    assert type(a).__name__ == "DebugHandle"
    assert repr(a) == f"<DebugHandle {a.id:#x} for 'a'>\n{HINT}"
    assert repr(b) == f"<DebugHandle {b.id:#x} for 42>\n{HINT}"
    assert str(err) == (
        "2 unclosed handles:\n"
        f"    <DebugHandle {a.id:#x} for 'a'>\n    {HINT}\n"
        f"    <DebugHandle {b.id:#x} for 42>\n    {HINT}"
    )
    for h in err.leaks:
        h._force_close()
    assert repr(a) == f"<DebugHandle {a.id:#x} CLOSED>\n{HINT}"
    assert str(HPyLeakError([])) == "0 unclosed handles:"
    # tp_name, which CPython < 3.11 reads from the type spec's name pointer
    name = r"'hpy\.debug\._debug\.DebugHandle'"
    with pytest.raises(TypeError, match=rf"^object of type {name} has no len\(\)$"):
        len(a)


def test_debug_handle_repr_of_odd_objects(mod):
    class BadRepr:
        def __repr__(self):
            raise ZeroDivisionError("no repr")

    class SurrogateRepr:
        def __repr__(self):
            return "\udcff"

    err = leaked_handles(mod, BadRepr(), SurrogateRepr())
    bad, surrogate = err.leaks
    try:
        with pytest.raises(ZeroDivisionError):
            repr(bad)
        assert repr(surrogate).startswith(f"<DebugHandle {surrogate.id:#x} for ?>\n")
    finally:
        for h in err.leaks:
            h._force_close()


def test_leak_report_with_stack_traces(mod):
    import hpy.debug
    hpy.debug.set_handle_stack_trace_limit(8)
    try:
        err = leaked_handles(mod, "traced")
    finally:
        hpy.debug.disable_handle_stack_traces()
    (h,) = err.leaks
    try:
        head, rest = repr(h).split("\n", 1)
        assert head == f"<DebugHandle {h.id:#x} for 'traced'>"
        assert rest == "Allocation stacktrace:\n" + h.allocation_stack_trace
        lines = str(err).split("\n")
        assert lines[0] == "1 unclosed handle:"
        assert lines[1:] == ["    " + line for line in repr(h).split("\n")]
    finally:
        h._force_close()


def test_debug_handle_not_instantiable():
    # A DebugHandle made from Python would have no handle behind it.
    name = r"'hpy\.debug\._debug\.DebugHandle'"
    with pytest.raises(TypeError, match=rf"^cannot create {name} instances$"):
        _debug.DebugHandle()
    with pytest.raises(TypeError):
        object.__new__(_debug.DebugHandle)


def test_huge_stack_trace_limit(mod):
    # The limit is clamped, not used to size a buffer.
    _debug.set_handle_stack_trace_limit(10**15)
    try:
        err = leaked_handles(mod, "deep")
    finally:
        _debug.set_handle_stack_trace_limit(None)
    (h,) = err.leaks
    try:
        assert 0 < len(h.allocation_stack_trace.splitlines()) <= 4096
    finally:
        h._force_close()
