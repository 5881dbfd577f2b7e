"""What the debug context's reports say: the API function misused (and the
argument), where the handle was opened and where it was misused as
symbolized frames (the extension's function and file:line, it is built with
-g), and the checks that were silent crashes before: HPy_NULL handles and
NULL names, API calls without the GIL, and faults on protected raw data.
Fatal misuses run in a subprocess; their stderr is the report."""
import re
import signal
import subprocess
import sys

import pytest

import hpy.universal
from hpy.universal import _debug
from hpy.debug import HPyLeakError

from conftest import compile_hpy_module, load_hpy_module

SOURCE = r"""
#include <pthread.h>
#include "hpy.h"

static const char *kept;

HPyDef_METH(repr_after_close, "repr_after_close", HPyFunc_O)
static HPy repr_after_close_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy h = HPy_Dup(ctx, arg);                 /* OPENED */
    HPy_Close(ctx, h);
    return HPy_Repr(ctx, h);                   /* MISUSED */
}

HPyDef_METH(leak, "leak", HPyFunc_O)
static HPy leak_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_Dup(ctx, arg);                         /* LEAKED */
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(add_null, "add_null", HPyFunc_O)
static HPy add_null_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Add(ctx, HPy_NULL, arg);
}

HPyDef_METH(getattr_null, "getattr_null", HPyFunc_O)
static HPy getattr_null_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_GetAttr(ctx, HPy_NULL, arg);
}

HPyDef_METH(getattr_s_null, "getattr_s_null", HPyFunc_O)
static HPy getattr_s_null_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_GetAttr_s(ctx, arg, NULL);
}

/* HPy_NULL where upstream allows it: no report */
HPyDef_METH(null_where_allowed, "null_where_allowed", HPyFunc_O)
static HPy null_where_allowed_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_Close(ctx, HPy_NULL);
    HPy d = HPy_Dup(ctx, HPy_NULL);
    if (!HPy_IsNull(d))
        return HPy_NULL;
    HPy s = HPySlice_New(ctx, HPy_NULL, arg, HPy_NULL);
    return s;
}

/* leaves Python execution and calls the API anyway */
HPyDef_METH(repr_without_gil, "repr_without_gil", HPyFunc_O)
static HPy repr_without_gil_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyThreadState ts = HPy_LeavePythonExecution(ctx);
    HPy r = HPy_Repr(ctx, arg);
    HPy_ReenterPythonExecution(ctx, ts);
    return r;
}

/* correct: nothing between leaving and re-entering */
HPyDef_METH(leave_and_reenter, "leave_and_reenter", HPyFunc_O)
static HPy leave_and_reenter_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyThreadState ts = HPy_LeavePythonExecution(ctx);
    HPy_ReenterPythonExecution(ctx, ts);
    return HPy_Repr(ctx, arg);
}

struct job { HPyContext *ctx; HPy h; };
static void *dup_in_thread(void *p)
{
    struct job *j = (struct job *)p;
    HPy_Close(j->ctx, HPy_Dup(j->ctx, j->h));
    return NULL;
}

/* a C thread that never held the GIL calls the API */
HPyDef_METH(dup_from_c_thread, "dup_from_c_thread", HPyFunc_O)
static HPy dup_from_c_thread_impl(HPyContext *ctx, HPy self, HPy arg)
{
    struct job j = { ctx, arg };
    pthread_t t;
    if (pthread_create(&t, NULL, dup_in_thread, &j) != 0)
        return HPy_Dup(ctx, ctx->h_None);
    pthread_join(t, NULL);
    return HPy_Dup(ctx, ctx->h_None);
}

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
    volatile char c = kept[0];
    return HPyLong_FromLong(ctx, c);
}

HPyDef_METH(write_bytes, "write_bytes", HPyFunc_O)
static HPy write_bytes_impl(HPyContext *ctx, HPy self, HPy arg)
{
    char *p = (char *)HPyBytes_AsString(ctx, arg);
    p[0] = 'X';
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *defines[] = {
    &repr_after_close, &leak, &add_null, &getattr_null, &getattr_s_null,
    &null_where_allowed, &repr_without_gil, &leave_and_reenter, &dup_from_c_thread,
    &keep_utf8, &read_kept, &write_bytes, NULL
};
static HPyModuleDef moduledef = { .doc = "debug reports", .size = 0, .defines = defines };
HPy_MODINIT(dbgreports, moduledef)
"""

FATAL = -signal.SIGABRT
FAULTS = (-signal.SIGSEGV, -signal.SIGBUS)


def line_of(marker):
    """The line of SOURCE (as compiled: the file starts with its first line)
    holding /* marker */."""
    for n, text in enumerate(SOURCE.splitlines(), start=1):
        if f"/* {marker} */" in text:
            return n
    raise AssertionError(marker)


@pytest.fixture(scope="module")
def so(tmp_path_factory):
    return compile_hpy_module(SOURCE, "dbgreports", tmp_path_factory.mktemp("dbgreports"))


@pytest.fixture(scope="module")
def mod(so):
    return load_hpy_module("dbgreports", so, mode=hpy.universal.MODE_DEBUG)


def run(so, code, traces=False, setup=""):
    """Runs `code` in a fresh interpreter with the module loaded in debug
    mode as `mod` (after `setup`; recording stack traces if `traces`)."""
    prog = (
        setup
        + "import importlib.util, hpy.universal\n"
        + ("hpy.universal._debug.set_handle_stack_trace_limit(16)\n" if traces else "")
        + f"spec = importlib.util.spec_from_file_location('dbgreports', {str(so)!r})\n"
        + f"mod = hpy.universal.load('dbgreports', {str(so)!r}, spec, mode=hpy.universal.MODE_DEBUG)\n"
        + code
    )
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, timeout=120)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def section(report, title):
    """The frames under `title` in a report (up to the next title)."""
    frames = []
    for line in report.split(title + "\n", 1)[1].splitlines():
        if not line.startswith("    "):
            break
        frames.append(line)
    return "\n".join(frames)


# ---- the API function, and symbolized frames ----

def test_use_after_close_names_the_function_and_both_places(so):
    status, _, err = run(so, "mod.repr_after_close('x')", traces=True)
    assert status == FATAL, err
    assert re.search(r"HPy debug mode: HPy_Repr \(argument 'obj'\): handle 0x[0-9a-f]+ "
                     r"was used after it was closed", err), err
    opened = section(err, "The handle was opened at:")
    misused = section(err, "Invalid use at:")
    assert re.search(r"repr_after_close_impl at \S*dbgreports\.c:%d\b" % line_of("OPENED"),
                     opened), opened
    assert re.search(r"repr_after_close_impl at \S*dbgreports\.c:%d\b" % line_of("MISUSED"),
                     misused), misused
    # every frame names its module and offset
    assert all(re.search(r"\S\+0x[0-9a-f]+\)?$", l) for l in opened.splitlines()), opened
    # code inlined into the extension's function is named after its line
    assert "inlining HPy_Dup at" in opened


def test_use_after_close_without_traces_says_how_to_get_them(so):
    status, _, err = run(so, "mod.repr_after_close('x')")
    assert status == FATAL
    assert "HPy_Repr (argument 'obj'): handle" in err
    assert "set_handle_stack_trace_limit" in err
    # where it was misused is shown anyway
    assert re.search(r"repr_after_close_impl at \S*dbgreports\.c:%d\b" % line_of("MISUSED"),
                     section(err, "Invalid use at:")), err


def test_leak_report_shows_the_extension_function_and_line(mod):
    _debug.set_handle_stack_trace_limit(16)
    try:
        gen = _debug.new_generation()
        mod.leak("leaked")
    finally:
        _debug.set_handle_stack_trace_limit(None)
    (h,) = _debug.get_open_handles(gen)
    try:
        report = str(HPyLeakError([h]))
        assert re.search(r"leak_impl at \S*dbgreports\.c:%d\b" % line_of("LEAKED"), report), report
    finally:
        h._force_close()


# ---- NULL handles and names ----

@pytest.mark.parametrize("code, message", [
    ("mod.add_null(1)", "HPy_Add (argument 'h1'): HPy_NULL where a handle is required"),
    ("mod.getattr_null('real')", "HPy_GetAttr (argument 'obj'): HPy_NULL where a handle is required"),
    ("mod.getattr_s_null(1)", "HPy_GetAttr_s (argument 'utf8_name'): NULL where a string is required"),
])
def test_null_arguments_are_reported(so, code, message):
    status, _, err = run(so, code)
    assert status == FATAL, err
    assert f"HPy debug mode: {message}" in err
    assert "add_null_impl" in err or "getattr" in err   # the stack of the misuse


def test_null_where_the_api_allows_it_is_quiet(mod):
    assert mod.null_where_allowed(3) == slice(None, 3, None)


# ---- the GIL ----

def test_call_between_leave_and_reenter(so):
    status, _, err = run(so, "mod.repr_without_gil('x')")
    assert status == FATAL, err
    assert ("HPy debug mode: HPy_Repr: called without the GIL (between "
            "HPy_LeavePythonExecution and HPy_ReenterPythonExecution)") in err


def test_call_from_a_c_thread_without_the_gil(so):
    status, _, err = run(so, "mod.dup_from_c_thread('x')")
    assert status == FATAL, err
    assert ("HPy debug mode: HPy_Dup: called without the GIL (from a thread that "
            "does not hold the GIL)") in err
    assert "dup_in_thread" in section(err, "Invalid use at:")


def test_leave_and_reenter_is_fine(mod):
    assert mod.leave_and_reenter("x") == "'x'"


# ---- faults on protected raw data ----

def test_write_to_read_only_raw_data(so):
    status, out, err = run(so, "mod.write_bytes(b'abc'); print('written')")
    assert status in FAULTS, (status, err)
    assert out == ""
    assert re.search(r"the pointer returned by HPyBytes_AsString for handle 0x[0-9a-f]+ "
                     r"points to read-only data", err), err


def test_read_of_raw_data_after_close(so):
    status, out, err = run(so, "mod.keep_utf8('use after close'); mod.read_kept(); print('read')")
    assert status in FAULTS, (status, err)
    assert out == ""
    assert re.search(r"the pointer returned by HPyUnicode_AsUTF8AndSize for handle 0x[0-9a-f]+ "
                     r"was used after the handle was closed", err), err


FAULTHANDLER = "import faulthandler; faulthandler.enable()\n"


def test_faults_elsewhere_go_to_the_previous_handler(so):
    # faulthandler was installed before the debug context's handler
    status, _, err = run(so, "import ctypes; ctypes.string_at(1)", setup=FAULTHANDLER)
    assert status in FAULTS
    assert "HPy debug mode" not in err
    assert "Fatal Python error: Segmentation fault" in err


def test_our_fault_report_then_the_previous_handler(so):
    code = "mod.keep_utf8('use after close'); mod.read_kept()"
    status, _, err = run(so, code, setup=FAULTHANDLER)
    assert status in FAULTS
    ours = err.index("was used after the handle was closed")
    assert err.index("Fatal Python error: Segmentation fault") > ours, err
