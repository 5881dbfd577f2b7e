"""The CPython ABI (-DHPY_ABI_CPYTHON) against the universal ABI: the same C
source, built both ways, must behave the same.

Every test runs once per ABI: universal binaries are loaded by
hpy.universal, CPython-ABI ones are ordinary extensions linked with the
static runtime (hpy/devel/lib/cpython/libhpy-ctx-cpython.a) and imported
like any other. The module covers every calling convention: methods of each
HPyFunc signature, a type with most slot kinds, members, get/set
descriptors, GC and tp_destroy, the buffer protocol, HPy_tp_call and
HPy_SetCallFunction, module exec and create slots, globals, capsules,
errors and the API helpers; `test_same_results` runs one battery of calls
on both builds side by side and compares the outcomes.
"""
import gc
import sys

import pytest

from conftest import compile_hpy_module, load_cpython_module, load_hpy_module

ABIS = ["universal", "cpython"]

MODULE_SRC = r"""
#include <hpy.h>
#include <string.h>

static HPyGlobal g_counter;
static long n_destroyed, n_finalized, n_released, n_capsules_freed;

/* ---- methods: one per signature, mixing hand-mapped and runtime calls -- */

HPyDef_METH(abi_name, "abi_name", HPyFunc_NOARGS)
static HPy abi_name_impl(HPyContext *ctx, HPy self)
{
    return HPy_BuildValue(ctx, "ss", HPY_ABI, ctx->name);
}

HPyDef_METH(describe, "describe", HPyFunc_O)
static HPy describe_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy type = HPy_Type(ctx, arg);
    const char *name = HPyType_GetName(ctx, type);
    HPy_Close(ctx, type);
    HPy_ssize_t n = HPy_Length(ctx, arg);
    if (n < 0)
        HPyErr_Clear(ctx);
    int t = HPy_IsTrue(ctx, arg);
    if (t < 0)
        return HPy_NULL;
    return HPy_BuildValue(ctx, "sni", name, n, t);
}

HPyDef_METH(sum_ints, "sum_ints", HPyFunc_VARARGS)
static HPy sum_ints_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long total = 0;
    for (size_t i = 0; i < nargs; i++) {
        long v = HPyLong_AsLong(ctx, args[i]);
        if (v == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        total += v;
    }
    return HPyLong_FromLong(ctx, total);
}

HPyDef_METH(int32, "int32", HPyFunc_O)
static HPy int32_impl(HPyContext *ctx, HPy self, HPy arg)
{
    int32_t v = HPyLong_AsInt32_t(ctx, arg);
    if (v == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromInt32_t(ctx, v);
}

HPyDef_METH(kw, "kw", HPyFunc_KEYWORDS)
static HPy kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                   HPy kwnames)
{
    long a, b = 2, c = 3;
    HPyTracker ht;
    static const char *kwlist[] = {"a", "b", "c", NULL};
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "l|ll", kwlist,
                              &a, &b, &c))
        return HPy_NULL;
    HPyTracker_Close(ctx, ht);
    return HPy_BuildValue(ctx, "(lll)", a, b, c);
}

HPyDef_METH(call, "call", HPyFunc_KEYWORDS)
static HPy call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                     HPy kwnames)
{
    if (nargs < 1)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "call() needs a callable");
    return HPy_Call(ctx, args[0], args + 1, nargs - 1, kwnames);
}

HPyDef_METH(reversed_list, "reversed_list", HPyFunc_O)
static HPy reversed_list_impl(HPyContext *ctx, HPy self, HPy seq)
{
    HPy_ssize_t n = HPy_Length(ctx, seq);
    if (n < 0)
        return HPy_NULL;
    HPyListBuilder lb = HPyListBuilder_New(ctx, n);
    for (HPy_ssize_t i = 0; i < n; i++) {
        HPy item = HPy_GetItem_i(ctx, seq, i);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, lb);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, lb, n - 1 - i, item);
        HPy_Close(ctx, item);
    }
    return HPyListBuilder_Build(ctx, lb);
}

HPyDef_METH(as_tuple, "as_tuple", HPyFunc_VARARGS)
static HPy as_tuple_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    return HPyTuple_FromArray(ctx, (HPy *)args, (HPy_ssize_t)nargs);
}

HPyDef_METH(dict_ops, "dict_ops", HPyFunc_O)
static HPy dict_ops_impl(HPyContext *ctx, HPy self, HPy key)
{
    HPy d = HPyDict_New(ctx);
    HPy one = HPyLong_FromLong(ctx, 1);
    if (HPy_SetItem(ctx, d, key, one) < 0 || HPy_SetItem_s(ctx, d, "s", one) < 0) {
        HPy_Close(ctx, one);
        HPy_Close(ctx, d);
        return HPy_NULL;
    }
    HPy_Close(ctx, one);
    HPy keys = HPyDict_Keys(ctx, d);
    HPy_Close(ctx, d);
    return keys;
}

HPyDef_METH(raise_, "raise_", HPyFunc_VARARGS)
static HPy raise__impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long kind = HPyLong_AsLong(ctx, args[0]);
    switch (kind) {
    case 0:
        return HPyErr_SetString(ctx, ctx->h_ValueError, "plain message");
    case 1:
        return HPyErr_Format(ctx, ctx->h_KeyError, "key %d of %s", 42, "format");
    case 2:
        return HPyErr_SetObject(ctx, ctx->h_RuntimeError, args[1]);
    default:
        return HPyErr_NoMemory(ctx);
    }
}

HPyDef_METH(catch_zero, "catch_zero", HPyFunc_O)
static HPy catch_zero_impl(HPyContext *ctx, HPy self, HPy f)
{
    HPy r = HPy_Call(ctx, f, NULL, 0, HPy_NULL);
    if (!HPy_IsNull(r))
        return r;
    if (HPyErr_ExceptionMatches(ctx, ctx->h_ZeroDivisionError)) {
        HPyErr_Clear(ctx);
        return HPyUnicode_FromString(ctx, "caught");
    }
    return HPy_NULL;
}

HPyDef_METH(fmt, "fmt", HPyFunc_VARARGS)
static HPy fmt_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    const char *s;
    long n;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "sl", &s, &n))
        return HPy_NULL;
    return HPyUnicode_FromFormat(ctx, "%s=%ld", s, n);
}

HPyDef_METH(arith, "arith", HPyFunc_VARARGS)
static HPy arith_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy a = args[0], b = args[1];
    HPy r[6];
    r[0] = HPy_Add(ctx, a, b);
    r[1] = HPy_Subtract(ctx, a, b);
    r[2] = HPy_Multiply(ctx, a, b);
    r[3] = HPy_FloorDivide(ctx, a, b);
    r[4] = HPy_Power(ctx, a, b, ctx->h_None);
    r[5] = HPy_Negative(ctx, a);
    for (int i = 0; i < 6; i++)
        if (HPy_IsNull(r[i])) {
            for (int j = 0; j < 6; j++)
                HPy_Close(ctx, r[j]);
            return HPy_NULL;
        }
    HPy t = HPyTuple_FromArray(ctx, r, 6);
    for (int i = 0; i < 6; i++)
        HPy_Close(ctx, r[i]);
    return t;
}

HPyDef_METH(counter, "counter", HPyFunc_NOARGS)
static HPy counter_impl(HPyContext *ctx, HPy self)
{
    HPy old = HPyGlobal_Load(ctx, g_counter);
    long v = HPyLong_AsLong(ctx, old);
    HPy_Close(ctx, old);
    HPy new_ = HPyLong_FromLong(ctx, v + 1);
    HPyGlobal_Store(ctx, &g_counter, new_);
    return new_;
}

HPyCapsule_DESTRUCTOR(cap_dtor)
static void cap_dtor_impl(const char *name, void *pointer, void *context)
{
    if (strcmp(name, "cap") == 0 && pointer == (void *)&n_capsules_freed)
        n_capsules_freed++;
}

HPyDef_METH(capsule, "capsule", HPyFunc_NOARGS)
static HPy capsule_impl(HPyContext *ctx, HPy self)
{
    return HPyCapsule_New(ctx, &n_capsules_freed, "cap", &cap_dtor);
}

HPyDef_METH(stats, "stats", HPyFunc_NOARGS)
static HPy stats_impl(HPyContext *ctx, HPy self)
{
    return HPy_BuildValue(ctx, "{s:l,s:l,s:l,s:l}", "destroyed", n_destroyed,
                          "finalized", n_finalized, "released", n_released,
                          "capsules_freed", n_capsules_freed);
}

/* ---- a type with most slot kinds ----------------------------------------- */

typedef struct {
    long x;
    double y;
    HPyField obj;
    unsigned char data[4];
} PointObject;

HPyType_HELPERS(PointObject)

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args,
                          HPy_ssize_t nargs, HPy kw)
{
    long x = 0;
    double y = 0.0;
    HPy obj = ctx->h_None;
    HPyTracker ht;
    static const char *kwlist[] = {"x", "y", "obj", NULL};
    if (!HPyArg_ParseKeywordsDict(ctx, &ht, args, nargs, kw, "|ldO", kwlist,
                                  &x, &y, &obj))
        return HPy_NULL;
    PointObject *p;
    HPy h = HPy_New(ctx, cls, &p);
    if (!HPy_IsNull(h)) {
        p->x = x;
        p->y = y;
        HPyField_Store(ctx, h, &p->obj, obj);
        memcpy(p->data, "\x01\x02\x03\x04", 4);
    }
    HPyTracker_Close(ctx, ht);
    return h;
}

HPyDef_SLOT(Point_init, HPy_tp_init)
static int Point_init_impl(HPyContext *ctx, HPy self, const HPy *args,
                           HPy_ssize_t nargs, HPy kw)
{
    /* tp_new did the work; remember how many positional arguments came */
    PointObject_AsStruct(ctx, self)->data[3] = (unsigned char)nargs;
    return 0;
}

HPyDef_SLOT(Point_repr, HPy_tp_repr)
static HPy Point_repr_impl(HPyContext *ctx, HPy self)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    return HPyUnicode_FromFormat(ctx, "Point(%ld, %d)", p->x, (int)(p->y * 10));
}

HPyDef_SLOT(Point_hash, HPy_tp_hash)
static HPy_hash_t Point_hash_impl(HPyContext *ctx, HPy self)
{
    return 1000 + PointObject_AsStruct(ctx, self)->x;
}

static int is_point(HPyContext *ctx, HPy obj, HPy like)
{
    HPy t = HPy_Type(ctx, like);
    int r = HPy_TypeCheck(ctx, obj, t);
    HPy_Close(ctx, t);
    return r;
}

HPyDef_SLOT(Point_richcompare, HPy_tp_richcompare)
static HPy Point_richcompare_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    if (!is_point(ctx, other, self))
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    long a = PointObject_AsStruct(ctx, self)->x;
    long b = PointObject_AsStruct(ctx, other)->x;
    HPy_RETURN_RICHCOMPARE(ctx, a, b, op);
}

HPyDef_SLOT(Point_add, HPy_nb_add)
static HPy Point_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    HPy point = a, other = b;
    PointObject *p;
    if (HPy_TypeCheck(ctx, b, ctx->h_LongType)) {
        p = PointObject_AsStruct(ctx, a);
    } else if (HPy_TypeCheck(ctx, a, ctx->h_LongType)) {
        point = b;
        other = a;
        p = PointObject_AsStruct(ctx, b);
    } else {
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    long d = HPyLong_AsLong(ctx, other);
    HPy t = HPy_Type(ctx, point);
    PointObject *q;
    HPy h = HPy_New(ctx, t, &q);
    HPy_Close(ctx, t);
    if (HPy_IsNull(h))
        return HPy_NULL;
    q->x = p->x + d;
    q->y = p->y;
    HPy o = HPyField_Load(ctx, point, p->obj);
    HPyField_Store(ctx, h, &q->obj, o);
    HPy_Close(ctx, o);
    return h;
}

HPyDef_SLOT(Point_power, HPy_nb_power)
static HPy Point_power_impl(HPyContext *ctx, HPy a, HPy b, HPy c)
{
    HPy x = HPyLong_FromLong(ctx, PointObject_AsStruct(ctx, a)->x);
    HPy r = HPy_Power(ctx, x, b, c);
    HPy_Close(ctx, x);
    return r;
}

HPyDef_SLOT(Point_bool, HPy_nb_bool)
static int Point_bool_impl(HPyContext *ctx, HPy self)
{
    return PointObject_AsStruct(ctx, self)->x != 0;
}

HPyDef_SLOT(Point_len, HPy_sq_length)
static HPy_ssize_t Point_len_impl(HPyContext *ctx, HPy self)
{
    return PointObject_AsStruct(ctx, self)->x;
}

HPyDef_SLOT(Point_item, HPy_sq_item)
static HPy Point_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    if (i >= PointObject_AsStruct(ctx, self)->x)
        return HPyErr_SetString(ctx, ctx->h_IndexError, "Point index out of range");
    return HPyLong_FromSsize_t(ctx, i * 10);
}

HPyDef_SLOT(Point_ass_item, HPy_sq_ass_item)
static int Point_ass_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i, HPy value)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    if (HPy_IsNull(value)) {          /* del p[i] */
        HPyField_Store(ctx, self, &p->obj, ctx->h_None);
        return 0;
    }
    HPy t = HPy_BuildValue(ctx, "(nO)", i, value);
    if (HPy_IsNull(t))
        return -1;
    HPyField_Store(ctx, self, &p->obj, t);
    HPy_Close(ctx, t);
    return 0;
}

HPyDef_SLOT(Point_contains, HPy_sq_contains)
static int Point_contains_impl(HPyContext *ctx, HPy self, HPy value)
{
    long v = HPyLong_AsLong(ctx, value);
    if (v == -1 && HPyErr_Occurred(ctx))
        return -1;
    return v == PointObject_AsStruct(ctx, self)->x;
}

HPyDef_SLOT(Point_call, HPy_tp_call)
static HPy Point_call_impl(HPyContext *ctx, HPy self, const HPy *args,
                           size_t nargs, HPy kwnames)
{
    HPy names = HPy_IsNull(kwnames) ? ctx->h_None : kwnames;
    return HPy_BuildValue(ctx, "snO", "default", (HPy_ssize_t)nargs, names);
}

HPyDef_CALL_FUNCTION(other_call)
static HPy other_call_impl(HPyContext *ctx, HPy self, const HPy *args,
                           size_t nargs, HPy kwnames)
{
    return HPy_BuildValue(ctx, "sl", "other", PointObject_AsStruct(ctx, self)->x);
}

HPyDef_METH(Point_use_other_call, "use_other_call", HPyFunc_NOARGS)
static HPy Point_use_other_call_impl(HPyContext *ctx, HPy self)
{
    if (HPy_SetCallFunction(ctx, self, &other_call) < 0)
        return HPy_NULL;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_SLOT(Point_traverse, HPy_tp_traverse)
static int Point_traverse_impl(void *self, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((PointObject *)self)->obj);
    return 0;
}

HPyDef_SLOT(Point_destroy, HPy_tp_destroy)
static void Point_destroy_impl(void *obj)
{
    n_destroyed++;
}

HPyDef_SLOT(Point_finalize, HPy_tp_finalize)
static void Point_finalize_impl(HPyContext *ctx, HPy self)
{
    n_finalized++;
}

HPyDef_SLOT(Point_getbuffer, HPy_bf_getbuffer)
static int Point_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    view->buf = p->data;
    view->obj = HPy_Dup(ctx, self);
    view->len = 4;
    view->itemsize = 1;
    view->readonly = 0;
    view->ndim = 1;
    view->format = "B";
    return 0;
}

HPyDef_SLOT(Point_releasebuffer, HPy_bf_releasebuffer)
static void Point_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
{
    if (view->buf == PointObject_AsStruct(ctx, self)->data)
        n_released++;
}

HPyDef_MEMBER(Point_x, "x", HPyMember_LONG, offsetof(PointObject, x))
HPyDef_MEMBER(Point_y, "y", HPyMember_DOUBLE, offsetof(PointObject, y), .readonly = 1)
HPyDef_MEMBER(Point_obj, "obj", HPyMember_OBJECT, offsetof(PointObject, obj))

HPyDef_GETSET(Point_scaled, "scaled", .closure = (void *)3)
static HPy Point_scaled_get(HPyContext *ctx, HPy self, void *closure)
{
    return HPyLong_FromLong(ctx, PointObject_AsStruct(ctx, self)->x * (long)(intptr_t)closure);
}

static int Point_scaled_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    if (HPy_IsNull(value)) {
        HPyErr_SetString(ctx, ctx->h_AttributeError, "cannot delete scaled");
        return -1;
    }
    long v = HPyLong_AsLong(ctx, value);
    if (v == -1 && HPyErr_Occurred(ctx))
        return -1;
    PointObject_AsStruct(ctx, self)->x = v / (long)(intptr_t)closure;
    return 0;
}

static HPyDef *Point_defines[] = {
    &Point_new, &Point_init, &Point_repr, &Point_hash, &Point_richcompare,
    &Point_add, &Point_power, &Point_bool, &Point_len, &Point_item,
    &Point_ass_item, &Point_contains, &Point_call, &Point_use_other_call,
    &Point_traverse, &Point_destroy, &Point_finalize, &Point_getbuffer,
    &Point_releasebuffer, &Point_x, &Point_y, &Point_obj, &Point_scaled,
    NULL
};

static HPyType_Spec Point_spec = {
    .name = "@NAME@.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC | HPy_TPFLAGS_BASETYPE,
    .builtin_shape = SHAPE(PointObject),
    .defines = Point_defines,
};

/* ---- module ------------------------------------------------------------ */

HPyDef_SLOT(mod_exec, HPy_mod_exec)
static int mod_exec_impl(HPyContext *ctx, HPy m)
{
    if (!HPyHelpers_AddType(ctx, m, "Point", &Point_spec, NULL))
        return -1;
    HPy zero = HPyLong_FromLong(ctx, 0);
    HPyGlobal_Store(ctx, &g_counter, zero);
    HPy_Close(ctx, zero);
    HPy answer = HPyLong_FromLong(ctx, 42);
    int r = HPy_SetAttr_s(ctx, m, "answer", answer);
    HPy_Close(ctx, answer);
    return r;
}

static HPyDef *module_defines[] = {
    &abi_name, &describe, &sum_ints, &int32, &kw, &call, &reversed_list,
    &as_tuple, &dict_ops, &raise_, &catch_zero, &fmt, &arith, &counter,
    &capsule, &stats, &mod_exec, NULL
};

static HPyGlobal *module_globals[] = { &g_counter, NULL };

static HPyModuleDef moduledef = {
    .doc = "same source, every ABI",
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(@NAME@, moduledef)
"""

CREATE_SRC = r"""
#include <hpy.h>

HPyDef_SLOT(create, HPy_mod_create)
static HPy create_impl(HPyContext *ctx, HPy spec)
{
    HPy name = HPy_GetAttr_s(ctx, spec, "name");
    if (HPy_IsNull(name))
        return HPy_NULL;
    int bad = HPyUnicode_Check(ctx, name) &&
              HPy_Length(ctx, name) > 0 &&
              HPyUnicode_ReadChar(ctx, name, HPy_Length(ctx, name) - 1) == 'X';
    HPy r;
    if (bad)   /* a real module: rejected by the runtime */
        r = HPyImport_ImportModule(ctx, "sys");
    else
        r = HPy_BuildValue(ctx, "(sO)", "created", name);
    HPy_Close(ctx, name);
    return r;
}

static HPyDef *defines[] = { &create, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(@NAME@, moduledef)
"""


def build(tmp_path, source, name, abi):
    so = compile_hpy_module(source.replace("@NAME@", name), name, tmp_path / abi, abi=abi)
    if abi == "cpython":
        return load_cpython_module(name, so)
    return load_hpy_module(name, so)


@pytest.fixture(params=ABIS)
def abi(request):
    return request.param


@pytest.fixture
def mod(tmp_path, abi):
    (tmp_path / abi).mkdir()
    return build(tmp_path, MODULE_SRC, "sameabi", abi)


def test_context(mod, abi):
    built_for, ctx_name = mod.abi_name()
    assert built_for == abi
    if abi == "cpython":
        assert ctx_name == "HPy CPython ABI"
    else:
        assert ctx_name.startswith("HPy Universal ABI")


def test_module_exec_and_globals(mod):
    assert mod.__doc__ == "same source, every ABI"
    assert mod.answer == 42
    assert mod.Point.__module__ == "sameabi"
    assert [mod.counter() for _ in range(3)] == [1, 2, 3]


def test_methods(mod):
    assert mod.describe([1, 2]) == ("list", 2, 1)
    assert mod.describe(0) == ("int", -1, 0)
    assert mod.sum_ints() == 0
    assert mod.sum_ints(1, 2, 3) == 6
    assert mod.int32(-5) == -5
    assert mod.kw(1) == (1, 2, 3)
    assert mod.kw(1, c=9) == (1, 2, 9)
    assert mod.kw(c=7, b=8, a=6) == (6, 8, 7)
    assert mod.call(max, 3, 9, 4) == 9
    assert mod.call(dict, a=1, b=2) == {"a": 1, "b": 2}
    assert mod.call(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]
    assert mod.reversed_list("abc") == ["c", "b", "a"]
    assert mod.as_tuple(1, "x", None) == (1, "x", None)
    assert mod.as_tuple() == ()
    assert mod.dict_ops(5) == [5, "s"]
    assert mod.fmt("n", 12) == "n=12"
    assert mod.arith(7, 2) == (9, 5, 14, 3, 49, -7)
    assert mod.arith(1.5, 2) == (3.5, -0.5, 3.0, 0.0, 2.25, -1.5)
    # a method object is an ordinary builtin in both ABIs
    assert type(mod.sum_ints).__name__ == "builtin_function_or_method"


def test_errors(mod):
    with pytest.raises(OverflowError, match="int32_t"):
        mod.int32(2**40)
    with pytest.raises(TypeError):
        mod.sum_ints("a")
    with pytest.raises(TypeError):
        mod.kw()
    with pytest.raises(TypeError):
        mod.kw(1, d=4)
    with pytest.raises(TypeError, match="call\\(\\) needs a callable"):
        mod.call()
    with pytest.raises(ValueError, match="^plain message$"):
        mod.raise_(0)
    with pytest.raises(KeyError, match="key 42 of format"):
        mod.raise_(1)
    with pytest.raises(RuntimeError) as info:
        mod.raise_(2, ("an", "object"))
    assert info.value.args == ("an", "object")
    with pytest.raises(MemoryError):
        mod.raise_(3)
    assert mod.catch_zero(lambda: 1 // 0) == "caught"
    assert mod.catch_zero(lambda: 5) == 5
    with pytest.raises(KeyError):
        mod.catch_zero(lambda: {}[1])
    with pytest.raises(TypeError):
        mod.arith(1, "a")


def test_type_slots(mod):
    P = mod.Point
    p = P(3, 2.5, "o")
    assert repr(p) == "Point(3, 25)"
    assert (p.x, p.y, p.obj) == (3, 2.5, "o")
    assert P().obj is None
    assert P(obj=[1]).obj == [1]
    assert hash(p) == 1003
    assert P(3) == p and P(4) != p and P(2) < p and not (P(2) > p)
    assert (p == 3) is False
    q = p + 4
    assert type(q) is P and q.x == 7 and q.obj == "o"
    assert (10 + p).x == 13
    with pytest.raises(TypeError):
        p + "x"
    assert pow(p, 2) == 9 and pow(p, 2, 5) == 4
    assert bool(p) and not bool(P(0))
    assert len(p) == 3
    assert p[0] == 0 and p[2] == 20 and p[-1] == 20
    with pytest.raises(IndexError, match="Point index out of range"):
        p[3]
    p[1] = "v"
    assert p.obj == (1, "v")
    del p[0]
    assert p.obj is None
    assert 3 in p and 4 not in p
    # tp_init ran after tp_new, with the positional arguments
    assert bytes(memoryview(P(1, 2.0)))[3] == 2


def test_members_and_getsets(mod):
    p = mod.Point(4, 1.0)
    p.x = 6
    assert p.x == 6
    with pytest.raises(AttributeError):
        p.y = 2.0
    p.obj = "new"
    assert p.obj == "new"
    assert p.scaled == 18
    p.scaled = 30
    assert p.x == 10
    with pytest.raises(AttributeError, match="cannot delete scaled"):
        del p.scaled
    with pytest.raises(TypeError):
        p.scaled = "x"


def test_call_protocol(mod):
    p = mod.Point(5)
    assert p() == ("default", 0, None)
    assert p(1, 2, k=3) == ("default", 2, ("k",))
    p.use_other_call()
    assert p(1) == ("other", 5)
    assert mod.Point(1)() == ("default", 0, None)


def test_gc_destroy_finalize(mod):
    before = mod.stats()
    p = mod.Point(1)
    p.obj = p            # a cycle only the GC can break (needs tp_traverse)
    del p
    gc.collect()
    after = mod.stats()
    assert after["destroyed"] == before["destroyed"] + 1
    assert after["finalized"] >= before["finalized"] + 1
    assert gc.is_tracked(mod.Point())


def test_buffer(mod):
    p = mod.Point(1)
    before = mod.stats()["released"]
    with memoryview(p) as m:
        assert m.tobytes() == b"\x01\x02\x03\x01"  # [3]: set by tp_init
        assert (m.format, m.itemsize, m.ndim, m.shape, m.readonly) == ("B", 1, 1, (4,), False)
        m[0] = 9
        assert m.obj is p
    assert bytes(p)[0] == 9
    assert mod.stats()["released"] >= before + 1


def test_capsule_destructor(mod):
    before = mod.stats()["capsules_freed"]
    c = mod.capsule()
    assert type(c).__name__ == "PyCapsule"
    del c
    gc.collect()
    assert mod.stats()["capsules_freed"] == before + 1


def test_mod_create(tmp_path, abi):
    (tmp_path / abi).mkdir()
    m = build(tmp_path, CREATE_SRC, "created", abi)
    assert m == ("created", "created")
    with pytest.raises(SystemError, match="HPy_mod_create slot returned a builtin module"):
        build(tmp_path, CREATE_SRC, "createdX", abi)


def _battery(mod):
    """Results (or exception type and message) of many calls, as strings."""
    P = mod.Point
    calls = [
        lambda: mod.describe("hello"), lambda: mod.describe(None),
        lambda: mod.sum_ints(*range(100)), lambda: mod.sum_ints(1, None),
        lambda: mod.int32(2**31), lambda: mod.int32(-2**31),
        lambda: mod.kw(1, 2, 3, 4), lambda: mod.kw(b=1),
        lambda: mod.call(int, "ff", base=16), lambda: mod.call(int, "zz"),
        lambda: mod.reversed_list(range(5)), lambda: mod.reversed_list(5),
        lambda: mod.dict_ops([]), lambda: mod.fmt("x"), lambda: mod.fmt(1, 2),
        lambda: mod.arith(2**70, 3), lambda: mod.arith(1, 0),
        lambda: mod.raise_(0), lambda: mod.raise_(1),
        lambda: repr(P(-2, 0.5)), lambda: P("bad"), lambda: P(1, 2, 3, 4),
        lambda: P(1, y="no"), lambda: sorted([P(3), P(1), P(2)]),
        lambda: [P(2)[i] for i in range(2)], lambda: P(2)[5],
        lambda: P(2) + 2.5, lambda: P(6) ** 2, lambda: P(1) < 1,
        lambda: P(3)(*range(7), a=1, b=2), lambda: P(1).scaled,
        lambda: bytes(memoryview(P(0))),
    ]
    out = []
    for f in calls:
        try:
            out.append("ok: %r" % (f(),))
        except Exception as e:
            out.append("%s: %s" % (type(e).__name__, e))
    return out


def test_same_results(tmp_path):
    mods = {}
    for abi in ABIS:
        (tmp_path / abi).mkdir()
        mods[abi] = build(tmp_path, MODULE_SRC, "battery_" + abi, abi)
    results = {abi: _battery(m) for abi, m in mods.items()}
    # the type's repr/qualified name differ only by the module name
    cpy = [r.replace("battery_cpython", "battery_universal") for r in results["cpython"]]
    assert cpy == results["universal"]
    assert any(r.startswith("ok") for r in cpy) and any(not r.startswith("ok") for r in cpy)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ELF symbols with nm")
def test_cpython_abi_binary_is_a_plain_extension(tmp_path):
    import subprocess
    (tmp_path / "cpython").mkdir()
    so = compile_hpy_module(MODULE_SRC.replace("@NAME@", "plainext"), "plainext",
                            tmp_path / "cpython", abi="cpython")
    nm = subprocess.run(["nm", "-D", "--defined-only", str(so)], check=True,
                        stdout=subprocess.PIPE, universal_newlines=True).stdout
    funcs = [line.split()[2] for line in nm.splitlines() if line.split()[1] == "T"]
    assert funcs == ["PyInit_plainext"]
    assert "HPyInit_" not in nm and "_HPyRs_" not in nm
    # and it imports without hpy.universal
    proc = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, %r); import plainext; "
         "assert 'hpy.universal' not in sys.modules; print(plainext.sum_ints(2, 3))"
         % str(so.parent)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "5"


def test_example_simple(tmp_path):
    # examples/simple built with `setup.py --hpy-abi=cpython build_ext
    # --inplace` does what its universal build does
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "examples" / "run_example.py"
    spec = importlib.util.spec_from_file_location("run_example", str(path))
    run_example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_example)
    reports = {}
    for abi in ABIS:
        build_dir = run_example.build_example(abi, str(tmp_path))
        reports[abi] = run_example.run_example(build_dir)
    cpy, univ = reports["cpython"], reports["universal"]
    assert cpy["module_file"].endswith(sysconfig_ext_suffix())
    assert not (Path(cpy["module_file"]).parent / "simple.py").exists()
    assert cpy["hpy_abi_attr"] == "cpython"
    calls = {label: value for label, value, _ in cpy["calls"]}
    assert calls["context_name()"] == "'HPy CPython ABI'"
    assert calls["abi_version()"] == "(0, 0, 'cpython')"
    skip = ("context_name()", "abi_version()")
    assert [c for c in cpy["calls"] if c[0] not in skip] == \
        [c for c in univ["calls"] if c[0] not in skip]
    assert cpy["errors"] == univ["errors"]
    assert cpy["dict_after_set_item"] == univ["dict_after_set_item"]


def sysconfig_ext_suffix():
    import sysconfig
    return sysconfig.get_config_var("EXT_SUFFIX")
