"""HPy_New in both ABIs, along each of its paths: the CPython ABI makes
instances of a type whose instances are plain memory inline
(hpy/cpython/api.h, `_HPy_New`, from the plan the runtime reads when it
makes the type: typedata.rs's `Alloc`) and leaves everything else to the
runtime (hpy-cpython's `ctx_New`), whose own fast path is the same plan.
Each kind of type goes one way: plain, plain with HPy_tp_call (the
instance's call function written), GC (tp_alloc), Python subclasses
(tp_alloc, the nearest HPy type's header and call function), not a type
(the error).
"""
import gc
import sys

import pytest

from conftest import compile_hpy_module, load_cpython_module, load_hpy_module

SRC = r"""
#include <hpy.h>
#include <string.h>

typedef struct {
    long x;
    char bytes[24];   /* checked to be zero */
} PlainObject;
HPyType_HELPERS(PlainObject)

static int zeroed(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* new(cls, x): HPy_New(cls) from a module function; x stored in the payload,
   returns (obj, payload was zeroed, payload == AsStruct(obj)) */
HPyDef_METH(new_, "new", HPyFunc_VARARGS)
static HPy new__impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    PlainObject *p = NULL;
    HPy h = HPy_New(ctx, args[0], &p);
    if (HPy_IsNull(h))
        return HPy_NULL;
    int z = p->x == 0 && zeroed(p->bytes, sizeof(p->bytes));
    p->x = HPyLong_AsLong(ctx, args[1]);
    HPy r = HPy_BuildValue(ctx, "OOO", h, z ? ctx->h_True : ctx->h_False,
                           p == PlainObject_AsStruct(ctx, h) ? ctx->h_True : ctx->h_False);
    HPy_Close(ctx, h);
    return r;
}

/* new_fails(obj): HPy_New(obj) must fail; returns whether it left the
   payload pointer NULL (as the universal ABI's HPy_New does) */
HPyDef_METH(new_fails, "new_fails", HPyFunc_O)
static HPy new_fails_impl(HPyContext *ctx, HPy self, HPy obj)
{
    PlainObject *p = (PlainObject *)&p;
    HPy h = HPy_New(ctx, obj, &p);
    if (!HPy_IsNull(h)) {
        HPy_Close(ctx, h);
        return HPyErr_SetString(ctx, ctx->h_AssertionError, "HPy_New did not fail");
    }
    HPyErr_Clear(ctx);
    return HPyBool_FromLong(ctx, p == NULL);
}

HPyDef_METH(get_x, "get_x", HPyFunc_O)
static HPy get_x_impl(HPyContext *ctx, HPy self, HPy obj)
{
    return HPyLong_FromLong(ctx, PlainObject_AsStruct(ctx, obj)->x);
}

static long n_destroyed;
HPyDef_METH(destroyed, "destroyed", HPyFunc_NOARGS)
static HPy destroyed_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, n_destroyed);
}

HPyDef_SLOT(Plain_destroy, HPy_tp_destroy)
static void Plain_destroy_impl(void *obj) { n_destroyed++; }

HPyDef_SLOT(Callable_call, HPy_tp_call)
static HPy Callable_call_impl(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs,
                              HPy kwnames)
{
    return HPy_BuildValue(ctx, "sl", "called", PlainObject_AsStruct(ctx, callable)->x);
}

HPyDef_SLOT(Gc_traverse, HPy_tp_traverse)
static int Gc_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg) { return 0; }

static HPyDef *Plain_defines[] = { &Plain_destroy, NULL };
static HPyDef *Callable_defines[] = { &Callable_call, NULL };
static HPyDef *Gc_defines[] = { &Gc_traverse, NULL };

static HPyType_Spec Plain_spec = {
    .name = "mod.Plain", .basicsize = sizeof(PlainObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Plain_defines };
static HPyType_Spec Callable_spec = {
    .name = "mod.Callable", .basicsize = sizeof(PlainObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Callable_defines };
static HPyType_Spec Gc_spec = {
    .name = "mod.Gc", .basicsize = sizeof(PlainObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC, .defines = Gc_defines };

HPyDef_SLOT(exec, HPy_mod_exec)
static int exec_impl(HPyContext *ctx, HPy m)
{
    if (!HPyHelpers_AddType(ctx, m, "Plain", &Plain_spec, NULL) ||
        !HPyHelpers_AddType(ctx, m, "Callable", &Callable_spec, NULL) ||
        !HPyHelpers_AddType(ctx, m, "Gc", &Gc_spec, NULL))
        return -1;
    return 0;
}

static HPyDef *defines[] = { &new_, &new_fails, &get_x, &destroyed, &exec, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(@NAME@, moduledef)
"""


@pytest.fixture(params=["universal", "cpython"])
def mod(request, tmp_path):
    abi = request.param
    name = "hpynew_" + abi
    so = compile_hpy_module(SRC.replace("@NAME@", name), name, tmp_path, abi=abi)
    if abi == "cpython":
        return load_cpython_module(name, so)
    return load_hpy_module(name, so)


@pytest.mark.parametrize("cls", ["Plain", "Callable", "Gc"])
def test_new_hpy_types(mod, cls):
    t = getattr(mod, cls)
    for i in range(3):   # reused memory is zeroed again
        obj, was_zeroed, same_payload = mod.new(t, 40 + i)
        assert type(obj) is t and was_zeroed and same_payload
        assert mod.get_x(obj) == 40 + i
        refs = sys.getrefcount(t)
        del obj
        assert sys.getrefcount(t) == refs - 1   # the instance held its type


def test_new_runs_the_call_function_and_destroy(mod):
    obj, _, _ = mod.new(mod.Callable, 7)
    assert obj() == ("called", 7)
    before = mod.destroyed()
    obj, _, _ = mod.new(mod.Plain, 1)
    del obj
    gc.collect()
    assert mod.destroyed() == before + 1


def test_new_python_subclasses(mod):
    class Sub(mod.Plain):
        pass

    class SubCall(mod.Callable):
        pass

    obj, was_zeroed, same_payload = mod.new(Sub, 5)
    assert type(obj) is Sub and was_zeroed and same_payload
    assert mod.get_x(obj) == 5
    obj.attr = "dict of the subclass"   # the subclass's own layout is intact
    assert obj.attr == "dict of the subclass"
    before = mod.destroyed()
    del obj
    gc.collect()
    assert mod.destroyed() == before + 1
    obj, _, same_payload = mod.new(SubCall, 6)
    assert same_payload and obj() == ("called", 6)


def test_new_errors(mod):
    with pytest.raises(TypeError, match="HPy_New arg 1 must be a type"):
        mod.new(42, 0)
    with pytest.raises(TypeError, match="HPy_New arg 1 must be a type"):
        mod.new(object(), 0)
    assert mod.new_fails(42) is True   # the payload pointer is NULL
