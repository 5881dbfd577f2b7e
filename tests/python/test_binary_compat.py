"""Binary compatibility with upstream HPy 0.9.0, both ways:
- an extension compiled with upstream's headers loads and runs in our hpy.universal;
- one compiled with our headers loads and runs in upstream's hpy.universal.
The same C source is checked both ways, and with both builds in our runtime."""
import json
import os
import subprocess
import textwrap

import pytest

import upstream
from conftest import INCLUDE, compile_hpy_module, load_hpy_module

SOURCE = r"""
#include "hpy.h"
#include <string.h>

static HPyGlobal counter;

HPyDef_METH(answer, "answer", HPyFunc_NOARGS)
static HPy answer_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(double_it, "double_it", HPyFunc_O)
static HPy double_it_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Add(ctx, arg, arg);
}

HPyDef_METH(sum_all, "sum_all", HPyFunc_VARARGS)
static HPy sum_all_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy acc = HPyLong_FromLong(ctx, 0);
    for (size_t i = 0; i < nargs; i++) {
        HPy next = HPy_Add(ctx, acc, args[i]);
        HPy_Close(ctx, acc);
        if (HPy_IsNull(next))
            return HPy_NULL;
        acc = next;
    }
    return acc;
}

HPyDef_METH(call_kw, "call_kw", HPyFunc_KEYWORDS)
static HPy call_kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    /* call args[0] with the remaining arguments, passing keywords along */
    if (nargs < 1)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "call_kw needs a callable");
    return HPy_Call(ctx, args[0], args + 1, nargs - 1, kwnames);
}

HPyDef_METH(fail, "fail", HPyFunc_O)
static HPy fail_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyErr_SetObject(ctx, ctx->h_ValueError, arg);
    return HPy_NULL;
}

HPyDef_METH(bump, "bump", HPyFunc_NOARGS)
static HPy bump_impl(HPyContext *ctx, HPy self)
{
    HPy old = HPyGlobal_Load(ctx, counter);
    HPy one = HPyLong_FromLong(ctx, 1);
    HPy new_value = HPy_Add(ctx, old, one);
    HPy_Close(ctx, old);
    HPy_Close(ctx, one);
    HPyGlobal_Store(ctx, &counter, new_value);
    return new_value;
}

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

HPyDef_METH(attr_item, "attr_item", HPyFunc_VARARGS)
static HPy attr_item_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    /* args: obj, key -> obj.__class__.__name__ + str(obj[key]) */
    HPy cls = HPy_GetAttr_s(ctx, args[0], "__class__");
    HPy name = HPy_GetAttr_s(ctx, cls, "__name__");
    HPy item = HPy_GetItem(ctx, args[0], args[1]);
    HPy s = HPy_Str(ctx, item);
    HPy r = HPy_Add(ctx, name, s);
    HPy_Close(ctx, cls); HPy_Close(ctx, name); HPy_Close(ctx, item); HPy_Close(ctx, s);
    return r;
}

HPyDef_SLOT(exec_module, HPy_mod_exec)
static int exec_module_impl(HPyContext *ctx, HPy mod)
{
    HPy zero = HPyLong_FromLong(ctx, 0);
    HPyGlobal_Store(ctx, &counter, zero);
    HPy_Close(ctx, zero);
    HPy flag = HPyBool_FromLong(ctx, 1);
    int r = HPy_SetAttr_s(ctx, mod, "initialized", flag);
    HPy_Close(ctx, flag);
    return r;
}

static HPyDef *defines[] = {
    &answer, &double_it, &sum_all, &call_kw, &fail, &bump, &ctx_name, &attr_item,
    &exec_module, NULL
};
static HPyGlobal *globals[] = { &counter, NULL };
static HPyModuleDef moduledef = {
    .doc = "binary compatibility probe",
    .defines = defines,
    .globals = globals,
};
HPy_MODINIT(compat, moduledef)
"""

# Runs inside whichever interpreter has the hpy.universal under test and
# prints what the extension did, as JSON.
DRIVER = r"""
import importlib.util, json, sys
import hpy.universal
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("compat", path)
m = hpy.universal.load("compat", path, spec)
out = {
    "doc": m.__doc__,
    "initialized": m.initialized,
    "answer": m.answer(),
    "double_it": [m.double_it(21), m.double_it("ab")],
    "sum_all": [m.sum_all(), m.sum_all(1, 2, 3.5)],
    "call_kw": m.call_kw(dict, 1, x=2) if False else m.call_kw(lambda *a, **k: [list(a), sorted(k.items())], 1, 2, x=3),
    "bump": [m.bump(), m.bump(), m.bump()],
    "ctx_name": m.ctx_name(),
    "attr_item": m.attr_item({"k": 7}, "k"),
}
try:
    m.fail("boom")
except ValueError as e:
    out["fail"] = ["ValueError", e.args[0]]
try:
    m.sum_all(1, "x")
except TypeError as e:
    out["sum_all_error"] = "TypeError"
print(json.dumps(out))
"""

EXPECTED = {
    "doc": "binary compatibility probe",
    "initialized": True,
    "answer": 42,
    "double_it": [42, "abab"],
    "sum_all": [0, 6.5],
    "call_kw": [[1, 2], [["x", 3]]],
    "bump": [1, 2, 3],
    "attr_item": "dict7",
    "fail": ["ValueError", "boom"],
    "sum_all_error": "TypeError",
}


def run_driver(python, so, env=None):
    r = subprocess.run([str(python), "-c", DRIVER, str(so)], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def check(result, ctx_prefix):
    name = result.pop("ctx_name")
    assert name.startswith(ctx_prefix), name
    assert result == EXPECTED


@pytest.fixture(scope="module")
def upstream_include():
    return upstream.sdist_dir() / "hpy" / "devel" / "include"


def test_our_headers_in_our_runtime(tmp_path):
    import sys
    so = compile_hpy_module(SOURCE, "compat", tmp_path)
    check(run_driver(sys.executable, so), "HPy Universal ABI")


def test_upstream_headers_in_our_runtime(tmp_path, upstream_include):
    import sys
    so = compile_hpy_module(SOURCE, "compat", tmp_path, include=upstream_include)
    check(run_driver(sys.executable, so), "HPy Universal ABI")


def test_our_headers_in_upstream_runtime(tmp_path):
    py = upstream.venv_python()
    so = compile_hpy_module(SOURCE, "compat", tmp_path)
    # sanity: that interpreter really runs upstream's runtime, not ours
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([str(py), "-c", "import hpy.universal as u; print(u.get_version()[1])"],
                       capture_output=True, text=True, check=True, env=env)
    assert r.stdout.strip() != "hpy-rs"
    check(run_driver(py, so, env=env), "HPy Universal ABI")
