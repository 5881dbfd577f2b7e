"""The debug context's misuse checks: builders used after Build/Cancel,
contexts used outside their call, context constants closed, raw data used
after its handle closed or written to, wrong arguments, allocation stack
traces. Fatal misuses run in a subprocess and are checked by exit status
and stderr."""
import signal
import subprocess
import sys

import pytest

import hpy.universal
from hpy.universal import _debug
from hpy.debug import HPyLeakError, LeakDetector

from conftest import compile_hpy_module, load_hpy_module

SOURCE = r"""
#include "hpy.h"

static HPyContext *saved;
static const char *kept;

HPyDef_METH(save_ctx, "save_ctx", HPyFunc_NOARGS)
static HPy save_ctx_impl(HPyContext *ctx, HPy self)
{
    saved = ctx;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(use_saved_ctx, "use_saved_ctx", HPyFunc_NOARGS)
static HPy use_saved_ctx_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(saved, ctx->h_None);
}

/* saves its context, then calls back into Python: the saved context is in
   use while the callback runs */
HPyDef_METH(save_and_call, "save_and_call", HPyFunc_O)
static HPy save_and_call_impl(HPyContext *ctx, HPy self, HPy arg)
{
    saved = ctx;
    return HPy_CallTupleDict(ctx, arg, HPy_NULL, HPy_NULL);
}

HPyDef_METH(call_back, "call_back", HPyFunc_O)
static HPy call_back_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_CallTupleDict(ctx, arg, HPy_NULL, HPy_NULL);
}

HPyDef_METH(return_constant, "return_constant", HPyFunc_NOARGS)
static HPy return_constant_impl(HPyContext *ctx, HPy self)
{
    return ctx->h_None;   /* should be HPy_Dup(ctx, ctx->h_None) */
}

HPyDef_METH(close_constant, "close_constant", HPyFunc_NOARGS)
static HPy close_constant_impl(HPyContext *ctx, HPy self)
{
    HPy_Close(ctx, ctx->h_True);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(double_close, "double_close", HPyFunc_O)
static HPy double_close_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy h = HPy_Dup(ctx, arg);
    HPy_Close(ctx, h);
    HPy_Close(ctx, h);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(leak, "leak", HPyFunc_O)
static HPy leak_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_Dup(ctx, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(build_twice, "build_twice", HPyFunc_O)
static HPy build_twice_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 1);
    HPyTupleBuilder_Set(ctx, b, 0, arg);
    HPy t = HPyTupleBuilder_Build(ctx, b);
    HPy_Close(ctx, t);
    return HPyTupleBuilder_Build(ctx, b);
}

HPyDef_METH(set_after_cancel, "set_after_cancel", HPyFunc_O)
static HPy set_after_cancel_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyListBuilder b = HPyListBuilder_New(ctx, 1);
    HPyListBuilder_Cancel(ctx, b);
    HPyListBuilder_Set(ctx, b, 0, arg);
    HPyListBuilder_Cancel(ctx, b);
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(build_list, "build_list", HPyFunc_VARARGS)
static HPy build_list_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyListBuilder b = HPyListBuilder_New(ctx, nargs);
    for (size_t i = 0; i < nargs; i++)
        HPyListBuilder_Set(ctx, b, i, args[i]);
    return HPyListBuilder_Build(ctx, b);
}

/* keeps the UTF-8 buffer of its argument, whose handle closes on return */
HPyDef_METH(keep_utf8, "keep_utf8", HPyFunc_O)
static HPy keep_utf8_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_ssize_t n;
    kept = HPyUnicode_AsUTF8AndSize(ctx, arg, &n);
    if (kept == NULL)
        return HPy_NULL;
    return HPyLong_FromSsize_t(ctx, n);
}

HPyDef_METH(read_kept, "read_kept", HPyFunc_NOARGS)
static HPy read_kept_impl(HPyContext *ctx, HPy self)
{
    return HPyBytes_FromString(ctx, kept);
}

HPyDef_METH(write_bytes, "write_bytes", HPyFunc_O)
static HPy write_bytes_impl(HPyContext *ctx, HPy self, HPy arg)
{
    char *p = (char *)HPyBytes_AsString(ctx, arg);
    p[0] = 'X';
    return HPy_Dup(ctx, ctx->h_None);
}

/* correct use: copies the data while the handle is open */
HPyDef_METH(utf8_twice, "utf8_twice", HPyFunc_O)
static HPy utf8_twice_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_ssize_t n1, n2;
    const char *a = HPyUnicode_AsUTF8AndSize(ctx, arg, &n1);
    const char *b = HPyUnicode_AsUTF8AndSize(ctx, arg, &n2);
    if (a == NULL || b == NULL)
        return HPy_NULL;
    HPy items[2] = { HPyBytes_FromStringAndSize(ctx, a, n1), HPyBool_FromLong(ctx, a == b) };
    HPy res = HPyTuple_FromArray(ctx, items, 2);
    HPy_Close(ctx, items[0]);
    HPy_Close(ctx, items[1]);
    return res;
}

HPyDef_METH(type_name, "type_name", HPyFunc_O)
static HPy type_name_impl(HPyContext *ctx, HPy self, HPy arg)
{
    const char *name = HPyType_GetName(ctx, arg);
    if (name == NULL)
        return HPy_NULL;
    return HPyUnicode_FromString(ctx, name);
}

HPyDef_METH(typecheck, "typecheck", HPyFunc_VARARGS)
static HPy typecheck_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    return HPyBool_FromLong(ctx, HPy_TypeCheck(ctx, args[0], args[1]));
}

HPyDef_METH(call_bad_kwnames, "call_bad_kwnames", HPyFunc_O)
static HPy call_bad_kwnames_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy kw = HPyUnicode_FromString(ctx, "x");
    HPy res = HPy_Call(ctx, arg, &kw, 0, kw);
    HPy_Close(ctx, kw);
    return res;
}

HPyDef_METH(tracker_twice, "tracker_twice", HPyFunc_O)
static HPy tracker_twice_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyTracker ht = HPyTracker_New(ctx, 1);
    HPyTracker_Add(ctx, ht, HPy_Dup(ctx, arg));
    HPyTracker_Close(ctx, ht);
    HPyTracker_Close(ctx, ht);
    return HPy_Dup(ctx, ctx->h_None);
}

typedef struct { long value; } PointObject;
HPyType_HELPERS(PointObject)

HPyDef_METH(point_value, "point_value", HPyFunc_O)
static HPy point_value_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPyLong_FromLong(ctx, PointObject_AsStruct(ctx, arg)->value);
}

static HPyType_Spec Point_spec = {
    .name = "dbgchecks.Point",
    .basicsize = sizeof(PointObject),
    .builtin_shape = SHAPE(PointObject),
};

static char buffer_mem[4] = {1, 2, 3, 4};

HPyDef_SLOT(Buf_getbuffer, HPy_bf_getbuffer)
static int Buf_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *buf, int flags)
{
    buf->buf = buffer_mem;
    buf->obj = HPy_Dup(ctx, self);
    buf->len = 4;
    buf->itemsize = 1;
    buf->readonly = 1;
    buf->ndim = 1;
    buf->format = (char *)"B";
    buf->shape = NULL;
    buf->strides = NULL;
    buf->suboffsets = NULL;
    buf->internal = NULL;
    return 0;
}

HPyDef_SLOT(Buf_releasebuffer, HPy_bf_releasebuffer)
static void Buf_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *buf)
{
    if (!HPy_Is(ctx, self, buf->obj))
        HPy_FatalError(ctx, "releasebuffer: view.obj is not self");
}

static HPyDef *Buf_defines[] = { &Buf_getbuffer, &Buf_releasebuffer, NULL };
static HPyType_Spec Buf_spec = {
    .name = "dbgchecks.Buf",
    .defines = Buf_defines,
};

static int add_type(HPyContext *ctx, HPy m, const char *name, HPyType_Spec *spec)
{
    HPy t = HPyType_FromSpec(ctx, spec, NULL);
    if (HPy_IsNull(t))
        return -1;
    int r = HPy_SetAttr_s(ctx, m, name, t);
    HPy_Close(ctx, t);
    return r;
}

HPyDef_SLOT(exec, HPy_mod_exec)
static int exec_impl(HPyContext *ctx, HPy m)
{
    if (add_type(ctx, m, "Point", &Point_spec) < 0)
        return -1;
    return add_type(ctx, m, "Buf", &Buf_spec);
}

static HPyDef *defines[] = {
    &save_ctx, &use_saved_ctx, &save_and_call, &call_back, &return_constant,
    &close_constant, &double_close, &leak, &build_twice, &set_after_cancel,
    &build_list, &keep_utf8, &read_kept, &write_bytes, &utf8_twice, &type_name,
    &typecheck, &call_bad_kwnames, &tracker_twice, &point_value, &exec, NULL
};
static HPyModuleDef moduledef = { .doc = "debug checks", .size = 0, .defines = defines };
HPy_MODINIT(dbgchecks, moduledef)
"""

FATAL = -signal.SIGABRT
FAULTS = (-signal.SIGSEGV, -signal.SIGBUS)


@pytest.fixture(scope="module")
def so(tmp_path_factory):
    return compile_hpy_module(SOURCE, "dbgchecks", tmp_path_factory.mktemp("dbgchecks"))


@pytest.fixture(scope="module")
def mod(so):
    return load_hpy_module("dbgchecks", so, mode=hpy.universal.MODE_DEBUG)


@pytest.fixture
def reports():
    """Counts the invalid handle / builder reports instead of aborting."""
    counts = {"handle": 0, "builder": 0}

    def on_handle():
        counts["handle"] += 1

    def on_builder():
        counts["builder"] += 1

    _debug.set_on_invalid_handle(on_handle)
    _debug.set_on_invalid_builder_handle(on_builder)
    try:
        yield counts
    finally:
        _debug.set_on_invalid_handle(None)
        _debug.set_on_invalid_builder_handle(None)


def run(so, code, setup=""):
    """Runs `code` in a fresh interpreter with the module loaded in debug mode as `mod`."""
    prog = (
        "import importlib.util, hpy.universal\n"
        + setup
        + f"spec = importlib.util.spec_from_file_location('dbgchecks', {str(so)!r})\n"
        + f"mod = hpy.universal.load('dbgchecks', {str(so)!r}, spec, mode=hpy.universal.MODE_DEBUG)\n"
        + code
    )
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


# ---- correct use stays quiet ----

def test_correct_use(mod, reports):
    with LeakDetector():
        assert mod.build_list(1, "a", None) == [1, "a", None]
        assert mod.utf8_twice("héllo") == ("héllo".encode(), True)
        assert mod.type_name(int) == "int"
        assert mod.typecheck(True, bool) is True
        assert mod.typecheck(1, str) is False
        p = mod.Point()
        assert mod.point_value(p) == 0
        with memoryview(mod.Buf()) as mv:
            assert mv.tobytes() == b"\x01\x02\x03\x04"
        assert mod.call_back(lambda: mod.build_list(7)) == [7]
    assert reports == {"handle": 0, "builder": 0}


def test_constants_never_count_as_leaks(so):
    # The first debug load in a process happens inside a LeakDetector: the
    # context constants it creates are not the extension's leaks.
    code = "ld.stop(); print('ok')\n"
    setup = "from hpy.debug import LeakDetector; ld = LeakDetector(); ld.start()\n"
    status, out, err = run(so, code, setup)
    assert (status, out) == (0, "ok\n"), err


# ---- builders ----

def test_builder_used_after_build(mod, reports):
    with pytest.raises(MemoryError):
        mod.build_twice("x")
    assert reports["builder"] == 1
    assert mod.set_after_cancel("y") is None
    assert reports["builder"] == 3    # Set and the second Cancel
    assert reports["handle"] == 0


def test_builder_misuse_is_fatal_without_callback(so):
    status, _, err = run(so, "mod.build_twice('x')")
    assert status == FATAL
    assert "Invalid usage of already closed builder" in err
    assert "consumed" in err


# ---- handles ----

def test_double_close_reported(mod, reports):
    mod.double_close("z")
    assert reports["handle"] == 1


@pytest.mark.parametrize("func", ["return_constant", "close_constant"])
def test_closing_a_context_constant_is_fatal(so, func):
    status, _, err = run(so, f"mod.{func}()")
    assert status == FATAL
    assert "Invalid usage of already closed handle" in err
    assert "context constant" in err


def test_closing_a_context_constant_with_callback_leaves_it_usable(mod, reports):
    mod.close_constant()
    assert reports["handle"] == 1
    assert mod.typecheck(True, bool) is True   # ctx->h_True still works
    assert mod.return_constant() is None
    assert reports["handle"] == 2


def test_invalid_handle_report_shows_where_it_was_opened(so):
    code = "mod.double_close(42)"
    setup = "from hpy.debug import set_handle_stack_trace_limit; set_handle_stack_trace_limit(8)\n"
    status, _, err = run(so, code, setup)
    assert status == FATAL
    assert "Invalid usage of already closed handle" in err
    assert "The handle was opened at:" in err
    assert "dbgchecks" in err


# ---- contexts ----

def test_saved_context_used_later(so):
    status, out, err = run(so, "mod.save_ctx(); print('saved', flush=True); mod.use_saved_ctx()")
    assert status == FATAL
    assert out == "saved\n"
    assert "Error: Wrong HPy Context!" in err


def test_saved_context_used_while_its_call_runs(so):
    status, _, err = run(so, "mod.save_and_call(lambda: mod.use_saved_ctx())")
    assert status == FATAL
    assert "Error: Wrong HPy Context!" in err


def test_deep_recursion_through_the_context_ring(mod):
    # More nested calls than context copies: each level's context must stay
    # valid for it.
    def nest(n):
        return mod.call_back(lambda: nest(n - 1)) if n else mod.build_list(n)
    assert nest(40) == [0]


def test_concurrent_calls_from_threads(mod):
    # Calls that overlap in time (threads switching while a call waits in
    # Python) finish in any order: each keeps a valid context of its own.
    import threading
    import time
    results = []

    def work(i):
        def inner():
            time.sleep(0.005)
            return mod.build_list(i)
        results.append(mod.call_back(inner))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [[i] for i in range(40)]


# ---- raw data ----

def test_raw_data_is_tied_to_its_handle(mod):
    gen = _debug.new_generation()
    assert mod.keep_utf8("abc") == 3
    sizes = [h.raw_data_size for h in _debug.get_closed_handles(gen)]
    assert sorted(sizes) == [-1, -1, 4]   # self, the result; the argument


def test_raw_data_unreadable_after_close(so):
    status, out, err = run(so, "mod.keep_utf8('use after close'); mod.read_kept(); print('read')")
    assert status in FAULTS, (status, out, err)
    assert out == ""


def test_raw_data_over_budget_is_freed_at_close(so):
    # Over the budget of retained data the copy is unmapped at close instead
    # of being kept (protected) in the closed-handles queue.
    code = ("from hpy.universal import _debug\n"
            "_debug.set_protected_raw_data_max_size(0)\n"
            "mod.keep_utf8('x' * 10)\n"
            "print([h.raw_data_size for h in _debug.get_closed_handles()].count(-1) > 0)\n")
    status, out, err = run(so, code)
    assert (status, out) == (0, "True\n"), err


def test_raw_data_is_read_only(so):
    status, out, err = run(so, "mod.write_bytes(b'abc'); print('written')")
    assert status in FAULTS, (status, out, err)
    assert out == ""


# ---- argument checks ----

@pytest.mark.parametrize("code, message", [
    ("mod.typecheck(1, 2)", "HPy_TypeCheck arg 2 must be a type"),
    ("mod.type_name('str')", "HPyType_GetName arg must be a type"),
    ("mod.call_bad_kwnames(print)", "HPy_Call arg 'kwnames' must be a tuple object or HPy_NULL"),
    ("mod.point_value(42)", "Invalid usage of _HPy_AsStruct_Object"),
    ("mod.tracker_twice(1)", "HPyTracker_Close: invalid HPyTracker"),
])
def test_fatal_argument_checks(so, code, message):
    status, _, err = run(so, code)
    assert status == FATAL
    assert message in err


# ---- stack traces ----

def test_allocation_stack_trace_in_leak_report(mod):
    _debug.set_handle_stack_trace_limit(8)
    try:
        gen = _debug.new_generation()
        mod.leak("traced")
    finally:
        _debug.set_handle_stack_trace_limit(None)
    (h,) = _debug.get_open_handles(gen)
    try:
        trace = h.allocation_stack_trace
        assert trace is not None and 0 < len(trace.splitlines()) <= 8
        assert "dbgchecks" in trace   # the extension's frame comes first
        text = repr(h)
        assert text.startswith("<DebugHandle 0x%x for 'traced'>\nAllocation stacktrace:\n" % h.id)
        report = str(HPyLeakError([h])).splitlines()
        assert report[0] == "1 unclosed handle:"
        assert all(line.startswith("    ") for line in report[1:])
    finally:
        h._force_close()
    gen = _debug.new_generation()
    mod.leak("untraced")
    (h,) = _debug.get_open_handles(gen)
    assert h.allocation_stack_trace is None
    assert "set_handle_stack_trace_limit" in repr(h)
    h._force_close()
