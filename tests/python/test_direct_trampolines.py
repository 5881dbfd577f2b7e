"""The universal ABI's direct path: under hpy-rs's universal context (whose
`_private` points at itself), trampolines built with our headers call their
implementation without going through ctx_CallRealFunctionFromTrampoline;
built with upstream's headers, or under the debug and trace contexts, they
still go through it. The extension below counts the calls that reach that
member by putting a counting wrapper into the context its trampolines use
(each run is a process of its own: the universal context is process-wide)."""
import json
import subprocess
import sys

import pytest

import upstream
from conftest import compile_hpy_module

SOURCE = r"""
#include "hpy.h"

typedef void (*dispatch_fn)(HPyContext *, HPyFunc_Signature, HPyCFunction, void *);
static dispatch_fn inner;
static long dispatched;

static void counting(HPyContext *ctx, HPyFunc_Signature sig, HPyCFunction func, void *args)
{
    dispatched++;
    inner(ctx, sig, func, args);
}

HPyDef_METH(install, "install", HPyFunc_NOARGS)
static HPy install_impl(HPyContext *ctx, HPy self)
{
    /* the context the trampolines use (the one given to impls may be a
       per-call copy, in debug mode) */
    HPyContext *t = _ctx_for_trampolines;
    inner = t->ctx_CallRealFunctionFromTrampoline;
    t->ctx_CallRealFunctionFromTrampoline = counting;
    return HPyBool_FromBool(ctx, t->_private == (void *)&t->_private);
}

HPyDef_METH(count, "count", HPyFunc_NOARGS)
static HPy count_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, dispatched);
}

HPyDef_METH(echo, "echo", HPyFunc_O)
static HPy echo_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Dup(ctx, arg);
}

HPyDef_METH(nargs, "nargs", HPyFunc_KEYWORDS)
static HPy nargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    HPy_ssize_t nkw = HPy_IsNull(kwnames) ? 0 : HPy_Length(ctx, kwnames);
    return HPyLong_FromLong(ctx, (long)(nargs * 10 + (size_t)nkw));
}

typedef struct { long n; } PointObject;
HPyType_HELPERS(PointObject)

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    PointObject *p;
    HPy h = HPy_New(ctx, cls, &p);
    if (!HPy_IsNull(h))
        p->n = (long)nargs;
    return h;
}

HPyDef_SLOT(Point_add, HPy_nb_add)
static HPy Point_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    return HPyLong_FromLong(ctx, PointObject_AsStruct(ctx, a)->n + 100);
}

static HPyDef *Point_defines[] = { &Point_new, &Point_add, NULL };
static HPyType_Spec Point_spec = {
    .name = "direct.Point",
    .basicsize = sizeof(PointObject),
    .builtin_shape = PointObject_SHAPE,
    .defines = Point_defines,
};

HPyDef_SLOT(direct_exec, HPy_mod_exec)
static int direct_exec_impl(HPyContext *ctx, HPy m)
{
    return HPyHelpers_AddType(ctx, m, "Point", &Point_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = { &install, &count, &echo, &nargs, &direct_exec, NULL };
static HPyModuleDef moduledef = { .defines = module_defines };

HPy_MODINIT(direct, moduledef)
"""

DRIVER = r"""
import importlib.util, json, sys
import hpy.universal
path, mode = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("direct", path)
if mode == "-":
    m = hpy.universal.load("direct", path, spec)
else:
    m = hpy.universal.load("direct", path, spec, mode=getattr(hpy.universal, "MODE_" + mode.upper()))
marked = m.install()
before = m.count()
out = [m.echo(7), m.nargs(1, 2, x=3), m.Point(1, 2, 3) + 0]
print(json.dumps({"marked": marked, "results": out, "dispatched": m.count() - before}))
"""


def run(python, so, mode="-"):
    r = subprocess.run([str(python), "-c", DRIVER, str(so), mode], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


RESULTS = [7, 21, 103]


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    return compile_hpy_module(SOURCE, "direct", tmp_path_factory.mktemp("ours"))


def test_our_headers_take_the_direct_path(ours):
    r = run(sys.executable, ours)
    assert r["marked"] is True
    assert r["results"] == RESULTS
    # count(), echo, nargs, Point's tp_new and nb_add: none dispatched
    assert r["dispatched"] == 0


def test_upstream_headers_dispatch(tmp_path):
    include = upstream.sdist_dir() / "hpy" / "devel" / "include"
    so = compile_hpy_module(SOURCE, "direct", tmp_path, include=include)
    r = run(sys.executable, so)
    assert r["marked"] is True
    assert r["results"] == RESULTS
    # the same five calls, each through the context member (so the counter
    # does see a dispatch when there is one)
    assert r["dispatched"] == 5


@pytest.mark.parametrize("mode", ["debug", "trace"])
def test_wrapping_contexts_dispatch(ours, mode):
    r = run(sys.executable, ours, mode)
    assert r["marked"] is False
    assert r["results"] == RESULTS
    assert r["dispatched"] == 5
