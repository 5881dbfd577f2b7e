"""HPy types over CPython (hpy-cpython/src/types/): HPyType_FromSpec, HPy_New,
*_AsStruct, HPyField, the call protocol, and the TRAVERSEPROC / GETBUFFERPROC /
RELEASEBUFFERPROC cases of ctx_CallRealFunctionFromTrampoline."""
import gc
import itertools
import json
import re
import subprocess
import sys
import weakref

import pytest

from conftest import compile_hpy_module

_ids = itertools.count()

PRELUDE = r"""
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "hpy.h"
static inline HPy none(HPyContext *ctx) { return HPy_Dup(ctx, ctx->h_None); }
static inline HPy str(HPyContext *ctx, const char *s) { return HPyUnicode_FromString(ctx, s); }
static inline HPy lng(HPyContext *ctx, long v) { return HPyLong_FromLong(ctx, v); }
typedef struct { int slot; void *pfunc; } fake_PyType_Slot;
"""


def build(make_module, body, types=(), abi="universal"):
    """Compile `body`; the module gets every HPyDef_METH whose symbol starts
    with `m_`, and an exec slot creating `types`: (attr, spec, params) where
    params is C code defining `HPyType_SpecParam params[]` (may use `m`, the
    module) or None."""
    name = f"types_{next(_ids)}"
    meths = re.findall(r"HPyDef_METH\((m_\w+),", body)
    creates = []
    for attr, spec, params in types:
        creates.append("""
        {
            %s
            HPy t = HPyType_FromSpec(ctx, &%s, %s);
            if (HPy_IsNull(t)) return -1;
            int r = HPy_SetAttr_s(ctx, m, "%s", t);
            HPy_Close(ctx, t);
            if (r < 0) return -1;
        }""" % (params or "", spec, "params" if params else "NULL", attr))
    src = PRELUDE + body + """
HPyDef_SLOT(mod_exec, HPy_mod_exec)
static int mod_exec_impl(HPyContext *ctx, HPy m)
{
    %s
    return 0;
}
static HPyDef *moddefs[] = { &mod_exec, %s NULL };
static HPyModuleDef moduledef = { .defines = moddefs };
HPy_MODINIT(%s, moduledef)
""" % ("\n".join(creates), "".join("&%s, " % d for d in meths), name)
    return make_module(src, name=name, abi=abi)


def base_param(attr):
    return """
            HPy base = HPy_GetAttr_s(ctx, m, "%s");
            if (HPy_IsNull(base)) return -1;
            HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, base }, { 0 } };
            HPy_Close(ctx, base);  /* the module keeps it alive */
    """ % attr


def ctx_base_param(handle):
    return """
            HPyType_SpecParam params[] = { { HPyType_SpecParam_Base, ctx->%s }, { 0 } };
    """ % handle


# ---------------------------------------------------------------------------
# A point type: payload, new, methods, repr/str/hash/richcompare, members,
# getsets, destroy.

POINT = r"""
typedef struct {
    long x, y;
    short s; int i; long l; float f; double d; const char *str; char c;
    signed char b; unsigned char ub; unsigned short us; unsigned int ui;
    unsigned long ul; char istr[8]; char bo; long long ll;
    unsigned long long ull; HPy_ssize_t ss;
    HPyField obj; HPyField obj_ex; HPyField obj_ro;
} PointObject;
HPyType_HELPERS(PointObject)

static long destroyed_count, destroyed_sum;

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    PointObject *p;
    HPy h = HPy_New(ctx, cls, &p);
    if (HPy_IsNull(h))
        return HPy_NULL;
    /* the payload is zeroed */
    if (p->x || p->y || p->d || p->str || !HPyField_IsNull(p->obj)) {
        HPy_Close(ctx, h);
        HPyErr_SetString(ctx, ctx->h_SystemError, "payload not zeroed");
        return HPy_NULL;
    }
    p->x = nargs > 0 ? HPyLong_AsLong(ctx, args[0]) : 0;
    p->y = nargs > 1 ? HPyLong_AsLong(ctx, args[1]) : 0;
    p->s = -2; p->i = -3; p->l = -4; p->f = 1.5f; p->d = 2.25; p->str = "hello";
    p->c = 'A'; p->b = -5; p->ub = 250; p->us = 65000; p->ui = 4000000000u;
    p->ul = 5; p->ll = -6; p->ull = 7; p->ss = -8; p->bo = 1;
    strcpy(p->istr, "inpl");
    HPyField_Store(ctx, h, &p->obj_ro, ctx->h_NotImplemented);
    if (HPyErr_Occurred(ctx)) { HPy_Close(ctx, h); return HPy_NULL; }
    return h;
}

HPyDef_SLOT(Point_destroy, HPy_tp_destroy)
static void Point_destroy_impl(void *obj)
{
    PointObject *p = (PointObject *)obj;
    destroyed_count++;
    destroyed_sum += p->x + p->y;
}

HPyDef_SLOT(Point_traverse, HPy_tp_traverse)
static int Point_traverse_impl(void *obj, HPyFunc_visitproc visit, void *arg)
{
    PointObject *p = (PointObject *)obj;
    HPy_VISIT(&p->obj);
    HPy_VISIT(&p->obj_ex);
    HPy_VISIT(&p->obj_ro);
    return 0;
}

HPyDef_METH(Point_norm2, "norm2", HPyFunc_NOARGS, .doc = "x*x + y*y")
static HPy Point_norm2_impl(HPyContext *ctx, HPy self)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    return lng(ctx, p->x * p->x + p->y * p->y);
}

HPyDef_METH(Point_add_x, "add_x", HPyFunc_O)
static HPy Point_add_x_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long v = HPyLong_AsLong(ctx, arg);
    if (v == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    PointObject_AsStruct(ctx, self)->x += v;
    return HPy_Dup(ctx, self);
}

HPyDef_METH(Point_sum, "sum", HPyFunc_VARARGS)
static HPy Point_sum_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long s = PointObject_AsStruct(ctx, self)->x;
    for (size_t i = 0; i < nargs; i++)
        s += HPyLong_AsLong(ctx, args[i]);
    return lng(ctx, s);
}

HPyDef_METH(Point_kw, "kw", HPyFunc_KEYWORDS)
static HPy Point_kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    long nkw = HPy_IsNull(kwnames) ? 0 : (long)HPy_Length(ctx, kwnames);
    return lng(ctx, (long)nargs * 10 + nkw);
}

HPyDef_SLOT(Point_repr, HPy_tp_repr)
static HPy Point_repr_impl(HPyContext *ctx, HPy self)
{
    char buf[64];
    PointObject *p = PointObject_AsStruct(ctx, self);
    snprintf(buf, sizeof buf, "Point(%ld, %ld)", p->x, p->y);
    return str(ctx, buf);
}

HPyDef_SLOT(Point_str, HPy_tp_str)
static HPy Point_str_impl(HPyContext *ctx, HPy self)
{
    return str(ctx, "a point");
}

HPyDef_SLOT(Point_hash, HPy_tp_hash)
static HPy_hash_t Point_hash_impl(HPyContext *ctx, HPy self)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    return p->x * 1000 + p->y;
}

HPyDef_SLOT(Point_richcompare, HPy_tp_richcompare)
static HPy Point_richcompare_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    HPy tp = HPy_Type(ctx, self);
    int same = HPy_TypeCheck(ctx, other, tp);
    HPy_Close(ctx, tp);
    if (!same || (op != HPy_EQ && op != HPy_NE))
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    PointObject *a = PointObject_AsStruct(ctx, self), *b = PointObject_AsStruct(ctx, other);
    int eq = a->x == b->x && a->y == b->y;
    return HPy_Dup(ctx, (eq == (op == HPy_EQ)) ? ctx->h_True : ctx->h_False);
}

HPyDef_GET(Point_xy, "xy", .doc = "x + y")
static HPy Point_xy_get(HPyContext *ctx, HPy self, void *closure)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    return lng(ctx, p->x + p->y);
}

static int three = 3;
HPyDef_GETSET(Point_y3, "y3", .closure = &three)
static HPy Point_y3_get(HPyContext *ctx, HPy self, void *closure)
{
    return lng(ctx, PointObject_AsStruct(ctx, self)->y * *(int *)closure);
}
static int Point_y3_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    if (HPy_IsNull(value)) {
        HPyErr_SetString(ctx, ctx->h_AttributeError, "cannot delete y3");
        return -1;
    }
    long v = HPyLong_AsLong(ctx, value);
    if (v == -1 && HPyErr_Occurred(ctx))
        return -1;
    PointObject_AsStruct(ctx, self)->y = v / *(int *)closure;
    return 0;
}

#define MEMBER(NAME, KIND, FIELD, ...) \
    HPyDef_MEMBER(Point_m_##NAME, #NAME, KIND, offsetof(PointObject, FIELD), __VA_ARGS__)
MEMBER(x, HPyMember_LONG, x, .doc = "the x")
MEMBER(y, HPyMember_LONG, y)
MEMBER(s, HPyMember_SHORT, s)
MEMBER(i, HPyMember_INT, i)
MEMBER(l, HPyMember_LONG, l, .readonly = 1)
MEMBER(f, HPyMember_FLOAT, f)
MEMBER(d, HPyMember_DOUBLE, d)
MEMBER(str, HPyMember_STRING, str)
MEMBER(c, HPyMember_CHAR, c)
MEMBER(b, HPyMember_BYTE, b)
MEMBER(ub, HPyMember_UBYTE, ub)
MEMBER(us, HPyMember_USHORT, us)
MEMBER(ui, HPyMember_UINT, ui)
MEMBER(ul, HPyMember_ULONG, ul)
MEMBER(istr, HPyMember_STRING_INPLACE, istr)
MEMBER(bo, HPyMember_BOOL, bo)
MEMBER(ll, HPyMember_LONGLONG, ll)
MEMBER(ull, HPyMember_ULONGLONG, ull)
MEMBER(ss, HPyMember_HPYSSIZET, ss)
MEMBER(none, HPyMember_NONE, x)
MEMBER(obj, HPyMember_OBJECT, obj)
MEMBER(obj_ex, HPyMember_OBJECT_EX, obj_ex)
MEMBER(obj_ro, HPyMember_OBJECT, obj_ro, .readonly = 1)

static HPyDef *Point_defines[] = {
    &Point_new, &Point_destroy, &Point_traverse, &Point_norm2, &Point_add_x,
    &Point_sum, &Point_kw, &Point_repr, &Point_str, &Point_hash,
    &Point_richcompare, &Point_xy, &Point_y3,
    &Point_m_x, &Point_m_y, &Point_m_s, &Point_m_i, &Point_m_l, &Point_m_f,
    &Point_m_d, &Point_m_str, &Point_m_c, &Point_m_b, &Point_m_ub, &Point_m_us,
    &Point_m_ui, &Point_m_ul, &Point_m_istr, &Point_m_bo, &Point_m_ll,
    &Point_m_ull, &Point_m_ss, &Point_m_none, &Point_m_obj, &Point_m_obj_ex,
    &Point_m_obj_ro,
    NULL
};

static HPyType_Spec Point_spec = {
    .name = "pkg.geometry.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
    .defines = Point_defines,
    .doc = "A point.",
};

/* A subtype made with HPy (Base param): its struct embeds the base's. */
typedef struct { PointObject base; long z; } Point3DObject;
HPyType_HELPERS(Point3DObject)

HPyDef_METH(Point3D_total, "total", HPyFunc_NOARGS)
static HPy Point3D_total_impl(HPyContext *ctx, HPy self)
{
    Point3DObject *p = Point3DObject_AsStruct(ctx, self);
    return lng(ctx, p->base.x + p->base.y + p->z);
}
HPyDef_MEMBER(Point3D_z, "z", HPyMember_LONG, offsetof(Point3DObject, z))
static HPyDef *Point3D_defines[] = { &Point3D_total, &Point3D_z, NULL };
static HPyType_Spec Point3D_spec = {
    .name = "pkg.geometry.Point3D",
    .basicsize = sizeof(Point3DObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .defines = Point3D_defines,
};

HPyDef_METH(m_destroyed, "destroyed", HPyFunc_NOARGS)
static HPy m_destroyed_impl(HPyContext *ctx, HPy self)
{
    HPy items[2] = { lng(ctx, destroyed_count), lng(ctx, destroyed_sum) };
    HPy t = HPyTuple_FromArray(ctx, items, 2);
    HPy_Close(ctx, items[0]);
    HPy_Close(ctx, items[1]);
    return t;
}

HPyDef_METH(m_shape, "shape", HPyFunc_O)
static HPy m_shape_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyType_BuiltinShape s = _HPyType_GetBuiltinShape(ctx, arg);
    if (s == (HPyType_BuiltinShape)-2)
        return HPy_NULL;
    return lng(ctx, (long)s);
}

HPyDef_METH(m_new_of, "new_of", HPyFunc_O)
static HPy m_new_of_impl(HPyContext *ctx, HPy self, HPy arg)
{
    void *data;
    return HPy_New(ctx, arg, &data);
}

HPyDef_METH(m_generic_new, "generic_new", HPyFunc_O)
static HPy m_generic_new_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPyType_GenericNew(ctx, arg, NULL, 0, HPy_NULL);
}
"""

POINT_TYPES = [("Point", "Point_spec", None), ("Point3D", "Point3D_spec", base_param("Point"))]


@pytest.fixture
def pmod(make_module):
    return build(make_module, POINT, POINT_TYPES)


def test_type_basics(pmod):
    P = pmod.Point
    assert P.__name__ == "Point"
    assert P.__qualname__ == "Point"
    assert P.__module__ == "pkg.geometry"
    assert P.__doc__ == "A point."
    assert P.norm2.__doc__ == "x*x + y*y"
    p = P(3, 4)
    assert type(p) is P
    assert p.norm2() == 25
    assert p.add_x(1) is p and p.x == 4
    assert p.sum(1, 2, 3) == 10
    assert p.sum() == 4
    assert p.kw(1, 2, a=3) == 21
    assert p.kw() == 0
    assert repr(p) == "Point(4, 4)"
    assert str(p) == "a point"
    assert hash(p) == 4004
    assert p == P(4, 4) and not (p != P(4, 4))
    assert p != P(4, 5)
    assert p != 7 and not (p == 7)
    with pytest.raises(TypeError):
        p < P(1, 1)
    assert pmod.shape(P) == 0            # HPyType_BuiltinShape_Object
    assert pmod.shape(int) == -1         # not an HPy type: Legacy
    with pytest.raises(TypeError, match="arg must be a type"):
        pmod.shape(42)


def test_getsets(pmod):
    p = pmod.Point(1, 2)
    assert p.xy == 3
    with pytest.raises(AttributeError):
        p.xy = 5
    assert type(p).xy.__doc__ == "x + y"
    assert p.y3 == 6                     # closure is passed through
    p.y3 = 12
    assert p.y == 4
    with pytest.raises(AttributeError, match="cannot delete y3"):
        del p.y3


def test_members_every_kind(pmod):
    p = pmod.Point(1, 2)
    assert (p.x, p.y) == (1, 2)
    p.x = 10
    assert p.norm2() == 104
    assert type(p).x.__doc__ == "the x"
    assert (p.s, p.i, p.l, p.f, p.d) == (-2, -3, -4, 1.5, 2.25)
    assert p.str == "hello" and p.c == "A" and p.istr == "inpl"
    assert (p.b, p.ub, p.us, p.ui, p.ul) == (-5, 250, 65000, 4000000000, 5)
    assert (p.ll, p.ull, p.ss) == (-6, 7, -8)
    assert p.bo is True
    assert p.none is None
    p.s = 7; p.i = 8; p.f = 0.5; p.d = 0.1; p.c = "z"; p.b = 9; p.ub = 10
    p.us = 11; p.ui = 12; p.ul = 13; p.bo = False; p.ll = 14; p.ull = 15; p.ss = 16
    assert (p.s, p.i, p.f, p.d, p.c, p.b, p.ub) == (7, 8, 0.5, 0.1, "z", 9, 10)
    assert (p.us, p.ui, p.ul, p.bo, p.ll, p.ull, p.ss) == (11, 12, 13, False, 14, 15, 16)
    with pytest.raises(AttributeError):
        p.l = 1                          # readonly
    with pytest.raises(TypeError):
        p.str = "x"                      # T_STRING is always readonly
    with pytest.raises(TypeError):
        p.istr = "x"
    with pytest.raises(TypeError):
        p.bo = 1
    with pytest.raises(TypeError):
        del p.i
    # HPyMember_OBJECT / OBJECT_EX hold HPyFields
    assert p.obj is None
    p.obj = [1]
    assert p.obj == [1]
    del p.obj
    assert p.obj is None
    with pytest.raises(AttributeError, match="obj_ex"):
        p.obj_ex
    p.obj_ex = "v"
    assert p.obj_ex == "v"
    del p.obj_ex
    with pytest.raises(AttributeError):
        p.obj_ex
    with pytest.raises(AttributeError):
        del p.obj_ex
    assert p.obj_ro is NotImplemented
    with pytest.raises(AttributeError):
        p.obj_ro = 1


def test_member_field_keeps_object_alive(pmod):
    class X:
        pass
    p = pmod.Point()
    x = X()
    wr = weakref.ref(x)
    p.obj = x
    del x
    gc.collect()
    assert wr() is not None
    del p
    gc.collect()
    assert wr() is None


def test_destroy_and_subclasses(pmod):
    P = pmod.Point
    c0, s0 = pmod.destroyed()
    p = P(5, 6)
    del p
    assert pmod.destroyed() == (c0 + 1, s0 + 11)

    class Sub(P):
        def extra(self):
            return self.x * 2
    s = Sub(7, 1)
    assert isinstance(s, P) and s.extra() == 14 and s.norm2() == 50
    assert repr(s) == "Point(7, 1)"
    s.attr = 1                           # Python subclasses get a __dict__
    del s
    gc.collect()
    assert pmod.destroyed() == (c0 + 2, s0 + 19)

    q = pmod.Point3D(1, 2)
    assert isinstance(q, P) and type(q).__mro__[1] is P
    q.z = 10
    assert q.total() == 13 and q.norm2() == 5 and q.x == 1
    del q
    assert pmod.destroyed() == (c0 + 3, s0 + 22)


def test_not_basetype(make_module):
    mod = build(make_module, r"""
        typedef struct { long v; } FinalObject;
        HPyType_HELPERS(FinalObject)
        static HPyType_Spec Final_spec = {
            .name = "m.Final", .basicsize = sizeof(FinalObject), .flags = HPy_TPFLAGS_DEFAULT,
        };
    """, [("Final", "Final_spec", None)])
    with pytest.raises(TypeError):
        class Sub(mod.Final):
            pass
    f = mod.Final()                      # inherited object.__new__
    assert type(f) is mod.Final
    with pytest.raises(TypeError):
        mod.Final(1)


def test_new_and_generic_new(pmod):
    p = pmod.new_of(pmod.Point)
    assert type(p) is pmod.Point and p.x == 0 and p.obj is None
    q = pmod.generic_new(pmod.Point)
    assert type(q) is pmod.Point and q.y == 0
    with pytest.raises(TypeError, match="HPy_New arg 1 must be a type"):
        pmod.new_of(1)
    with pytest.raises(TypeError):
        pmod.generic_new(1)


# ---------------------------------------------------------------------------
# Slot families

NUMBER = r"""
typedef struct { long v; } NumObject;
HPyType_HELPERS(NumObject)

#define BIN(NAME, SLOT) \
    HPyDef_SLOT(Num_##NAME, SLOT) \
    static HPy Num_##NAME##_impl(HPyContext *ctx, HPy a, HPy b) { \
        HPy items[2] = { str(ctx, #NAME), HPy_Dup(ctx, b) }; \
        HPy t = HPyTuple_FromArray(ctx, items, 2); \
        HPy_Close(ctx, items[0]); HPy_Close(ctx, items[1]); \
        return t; }
#define UN(NAME, SLOT) \
    HPyDef_SLOT(Num_##NAME, SLOT) \
    static HPy Num_##NAME##_impl(HPyContext *ctx, HPy a) { return str(ctx, #NAME); }

BIN(add, HPy_nb_add) BIN(sub, HPy_nb_subtract) BIN(mul, HPy_nb_multiply)
BIN(mod, HPy_nb_remainder) BIN(divmod, HPy_nb_divmod) BIN(lshift, HPy_nb_lshift)
BIN(rshift, HPy_nb_rshift) BIN(and, HPy_nb_and) BIN(xor, HPy_nb_xor) BIN(or, HPy_nb_or)
BIN(floordiv, HPy_nb_floor_divide) BIN(truediv, HPy_nb_true_divide)
BIN(matmul, HPy_nb_matrix_multiply)
BIN(iadd, HPy_nb_inplace_add) BIN(isub, HPy_nb_inplace_subtract)
BIN(imul, HPy_nb_inplace_multiply) BIN(imod, HPy_nb_inplace_remainder)
BIN(ilshift, HPy_nb_inplace_lshift) BIN(irshift, HPy_nb_inplace_rshift)
BIN(iand, HPy_nb_inplace_and) BIN(ixor, HPy_nb_inplace_xor) BIN(ior, HPy_nb_inplace_or)
BIN(ifloordiv, HPy_nb_inplace_floor_divide) BIN(itruediv, HPy_nb_inplace_true_divide)
BIN(imatmul, HPy_nb_inplace_matrix_multiply)
UN(neg, HPy_nb_negative) UN(pos, HPy_nb_positive) UN(abs, HPy_nb_absolute)
UN(invert, HPy_nb_invert)

HPyDef_SLOT(Num_pow, HPy_nb_power)
static HPy Num_pow_impl(HPyContext *ctx, HPy a, HPy b, HPy c)
{
    HPy items[3] = { str(ctx, "pow"), HPy_Dup(ctx, b), HPy_Dup(ctx, c) };
    HPy t = HPyTuple_FromArray(ctx, items, 3);
    for (int i = 0; i < 3; i++) HPy_Close(ctx, items[i]);
    return t;
}
HPyDef_SLOT(Num_ipow, HPy_nb_inplace_power)
static HPy Num_ipow_impl(HPyContext *ctx, HPy a, HPy b, HPy c) { return str(ctx, "ipow"); }
HPyDef_SLOT(Num_int, HPy_nb_int)
static HPy Num_int_impl(HPyContext *ctx, HPy a) { return lng(ctx, NumObject_AsStruct(ctx, a)->v); }
HPyDef_SLOT(Num_index, HPy_nb_index)
static HPy Num_index_impl(HPyContext *ctx, HPy a) { return lng(ctx, NumObject_AsStruct(ctx, a)->v + 1); }
HPyDef_SLOT(Num_float, HPy_nb_float)
static HPy Num_float_impl(HPyContext *ctx, HPy a) { return HPyFloat_FromDouble(ctx, 0.5); }
HPyDef_SLOT(Num_bool, HPy_nb_bool)
static int Num_bool_impl(HPyContext *ctx, HPy a) { return NumObject_AsStruct(ctx, a)->v != 0; }

HPyDef_SLOT(Num_init, HPy_tp_init)
static int Num_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    if (nargs != 1 || !HPy_IsNull(kw)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "Num takes exactly one positional argument");
        return -1;
    }
    NumObject_AsStruct(ctx, self)->v = HPyLong_AsLong(ctx, args[0]);
    return HPyErr_Occurred(ctx) ? -1 : 0;
}

HPyDef_MEMBER(Num_v, "v", HPyMember_LONG, offsetof(NumObject, v))

static HPyDef *Num_defines[] = {
    &Num_add, &Num_sub, &Num_mul, &Num_mod, &Num_divmod, &Num_lshift, &Num_rshift,
    &Num_and, &Num_xor, &Num_or, &Num_floordiv, &Num_truediv, &Num_matmul,
    &Num_iadd, &Num_isub, &Num_imul, &Num_imod, &Num_ilshift, &Num_irshift,
    &Num_iand, &Num_ixor, &Num_ior, &Num_ifloordiv, &Num_itruediv, &Num_imatmul,
    &Num_neg, &Num_pos, &Num_abs, &Num_invert, &Num_pow, &Num_ipow,
    &Num_int, &Num_index, &Num_float, &Num_bool, &Num_init, &Num_v, NULL
};
static HPyType_Spec Num_spec = {
    .name = "m.Num", .basicsize = sizeof(NumObject), .flags = HPy_TPFLAGS_DEFAULT,
    .defines = Num_defines,
};
"""


def test_number_slots(make_module):
    mod = build(make_module, NUMBER, [("Num", "Num_spec", None)])
    n = mod.Num(5)                       # default tp_new + HPy tp_init
    assert n.v == 5
    with pytest.raises(TypeError, match="exactly one"):
        mod.Num()
    for expr, name in [(n + 1, "add"), (n - 1, "sub"), (n * 1, "mul"), (n % 1, "mod"),
                       (divmod(n, 1), "divmod"), (n << 1, "lshift"), (n >> 1, "rshift"),
                       (n & 1, "and"), (n ^ 1, "xor"), (n | 1, "or"), (n // 1, "floordiv"),
                       (n / 1, "truediv"), (n @ 1, "matmul")]:
        assert expr == (name, 1)
    assert 2 + n == ("add", n)           # reflected: the slot gets (2, n)
    assert -n == "neg" and +n == "pos" and abs(n) == "abs" and ~n == "invert"
    assert pow(n, 2) == ("pow", 2, None)
    assert pow(n, 2, 3) == ("pow", 2, 3)
    for op, name in [("+=", "iadd"), ("-=", "isub"), ("*=", "imul"), ("%=", "imod"),
                     ("<<=", "ilshift"), (">>=", "irshift"), ("&=", "iand"),
                     ("^=", "ixor"), ("|=", "ior"), ("//=", "ifloordiv"),
                     ("/=", "itruediv"), ("@=", "imatmul")]:
        ns = {"x": n}
        exec(f"x {op} 1", ns)
        assert ns["x"] == (name, 1), op
    ns = {"x": n}
    exec("x **= 2", ns)
    assert ns["x"] == "ipow"
    assert int(n) == 5 and [10, 11, 12, 13, 14, 15, 16][n] == 16 and float(n) == 0.5
    assert bool(n) and not bool(mod.Num(0))


SEQ = r"""
typedef struct { long len; long items[8]; } SeqObject;
HPyType_HELPERS(SeqObject)

HPyDef_SLOT(Seq_len, HPy_sq_length)
static HPy_ssize_t Seq_len_impl(HPyContext *ctx, HPy self) { return SeqObject_AsStruct(ctx, self)->len; }
HPyDef_SLOT(Seq_item, HPy_sq_item)
static HPy Seq_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    SeqObject *s = SeqObject_AsStruct(ctx, self);
    if (i < 0 || i >= s->len) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "seq index out of range");
        return HPy_NULL;
    }
    return lng(ctx, s->items[i]);
}
HPyDef_SLOT(Seq_ass_item, HPy_sq_ass_item)
static int Seq_ass_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i, HPy v)
{
    SeqObject *s = SeqObject_AsStruct(ctx, self);
    if (i < 0 || i >= 8) {
        HPyErr_SetString(ctx, ctx->h_IndexError, "seq assignment index out of range");
        return -1;
    }
    if (HPy_IsNull(v)) { s->items[i] = -1; return 0; }   /* del */
    s->items[i] = HPyLong_AsLong(ctx, v);
    if (i >= s->len) s->len = i + 1;
    return 0;
}
HPyDef_SLOT(Seq_contains, HPy_sq_contains)
static int Seq_contains_impl(HPyContext *ctx, HPy self, HPy v)
{
    SeqObject *s = SeqObject_AsStruct(ctx, self);
    long x = HPyLong_AsLong(ctx, v);
    if (x == -1 && HPyErr_Occurred(ctx)) return -1;
    for (long i = 0; i < s->len; i++) if (s->items[i] == x) return 1;
    return 0;
}
HPyDef_SLOT(Seq_concat, HPy_sq_concat)
static HPy Seq_concat_impl(HPyContext *ctx, HPy a, HPy b) { return str(ctx, "concat"); }
HPyDef_SLOT(Seq_iconcat, HPy_sq_inplace_concat)
static HPy Seq_iconcat_impl(HPyContext *ctx, HPy a, HPy b) { return str(ctx, "iconcat"); }
HPyDef_SLOT(Seq_repeat, HPy_sq_repeat)
static HPy Seq_repeat_impl(HPyContext *ctx, HPy a, HPy_ssize_t n) { return lng(ctx, 100 + n); }
HPyDef_SLOT(Seq_irepeat, HPy_sq_inplace_repeat)
static HPy Seq_irepeat_impl(HPyContext *ctx, HPy a, HPy_ssize_t n) { return lng(ctx, 200 + n); }
static HPyDef *Seq_defines[] = { &Seq_len, &Seq_item, &Seq_ass_item, &Seq_contains,
    &Seq_concat, &Seq_iconcat, &Seq_repeat, &Seq_irepeat, NULL };
static HPyType_Spec Seq_spec = {
    .name = "m.Seq", .basicsize = sizeof(SeqObject), .defines = Seq_defines,
};

typedef struct { HPyField last_key; long stored; } MapObject;
HPyType_HELPERS(MapObject)
HPyDef_SLOT(Map_len, HPy_mp_length)
static HPy_ssize_t Map_len_impl(HPyContext *ctx, HPy self) { return 42; }
HPyDef_SLOT(Map_getitem, HPy_mp_subscript)
static HPy Map_getitem_impl(HPyContext *ctx, HPy self, HPy key)
{
    if (HPy_Is(ctx, key, ctx->h_None)) {
        HPyErr_SetObject(ctx, ctx->h_KeyError, key);
        return HPy_NULL;
    }
    HPy items[2] = { str(ctx, "get"), HPy_Dup(ctx, key) };
    HPy t = HPyTuple_FromArray(ctx, items, 2);
    HPy_Close(ctx, items[0]); HPy_Close(ctx, items[1]);
    return t;
}
HPyDef_SLOT(Map_setitem, HPy_mp_ass_subscript)
static int Map_setitem_impl(HPyContext *ctx, HPy self, HPy key, HPy value)
{
    MapObject *m = MapObject_AsStruct(ctx, self);
    HPyField_Store(ctx, self, &m->last_key, key);
    m->stored = HPy_IsNull(value) ? -1 : HPyLong_AsLong(ctx, value);
    return 0;
}
HPyDef_SLOT(Map_traverse, HPy_tp_traverse)
static int Map_traverse_impl(void *obj, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((MapObject *)obj)->last_key);
    return 0;
}
HPyDef_GET(Map_last, "last")
static HPy Map_last_get(HPyContext *ctx, HPy self, void *closure)
{
    MapObject *m = MapObject_AsStruct(ctx, self);
    HPy k = HPyField_IsNull(m->last_key) ? none(ctx) : HPyField_Load(ctx, self, m->last_key);
    HPy items[2] = { k, lng(ctx, m->stored) };
    HPy t = HPyTuple_FromArray(ctx, items, 2);
    HPy_Close(ctx, items[0]); HPy_Close(ctx, items[1]);
    return t;
}
static HPyDef *Map_defines[] = { &Map_len, &Map_getitem, &Map_setitem, &Map_traverse, &Map_last, NULL };
static HPyType_Spec Map_spec = {
    .name = "m.Map", .basicsize = sizeof(MapObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC, .defines = Map_defines,
};
"""


def test_sequence_slots(make_module):
    mod = build(make_module, SEQ, [("Seq", "Seq_spec", None), ("Map", "Map_spec", None)])
    s = mod.Seq()
    assert len(s) == 0
    s[0] = 10
    s[1] = 20
    assert len(s) == 2 and s[0] == 10 and s[1] == 20 and s[-1] == 20
    with pytest.raises(IndexError, match="seq index out of range"):
        s[5]
    del s[0]
    assert s[0] == -1
    assert 20 in s and 10 not in s
    assert list(s) == [-1, 20]           # iteration via sq_item
    assert s + [1] == "concat" and s * 3 == 103
    x = s
    x += [1]
    assert x == "iconcat"
    x = s
    x *= 4
    assert x == 204


def test_mapping_slots(make_module):
    mod = build(make_module, SEQ, [("Seq", "Seq_spec", None), ("Map", "Map_spec", None)])
    m = mod.Map()
    assert len(m) == 42
    assert m["k"] == ("get", "k")
    with pytest.raises(KeyError):
        m[None]
    m["a"] = 5
    assert m.last == ("a", 5)
    del m["b"]
    assert m.last == ("b", -1)
    assert gc.is_tracked(m)
    assert "b" in gc.get_referents(m)    # tp_traverse through the trampoline


# ---------------------------------------------------------------------------
# GC, HPyField, destroy, finalize

GC = r"""
typedef struct { HPyField item; long tag; } BoxObject;
HPyType_HELPERS(BoxObject)
static long box_destroyed, box_finalized, box_destroyed_tags;

HPyDef_SLOT(Box_new, HPy_tp_new)
static HPy Box_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    BoxObject *b;
    HPy h = HPy_New(ctx, cls, &b);
    if (HPy_IsNull(h)) return HPy_NULL;
    b->item = HPyField_NULL;
    if (nargs > 0) HPyField_Store(ctx, h, &b->item, args[0]);
    b->tag = nargs > 1 ? HPyLong_AsLong(ctx, args[1]) : 0;
    return h;
}
HPyDef_SLOT(Box_traverse, HPy_tp_traverse)
static int Box_traverse_impl(void *obj, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((BoxObject *)obj)->item);
    return 0;
}
HPyDef_SLOT(Box_destroy, HPy_tp_destroy)
static void Box_destroy_impl(void *obj)
{
    BoxObject *b = (BoxObject *)obj;
    box_destroyed++;
    box_destroyed_tags += b->tag;
    /* the runtime cleared the fields before calling destroy */
    if (!HPyField_IsNull(b->item)) box_destroyed_tags += 1000000;
}
HPyDef_SLOT(Box_finalize, HPy_tp_finalize)
static void Box_finalize_impl(HPyContext *ctx, HPy self)
{
    box_finalized++;
}
HPyDef_METH(Box_set, "set", HPyFunc_O)
static HPy Box_set_impl(HPyContext *ctx, HPy self, HPy v)
{
    BoxObject *b = BoxObject_AsStruct(ctx, self);
    HPyField_Store(ctx, self, &b->item, HPy_Is(ctx, v, ctx->h_None) ? HPy_NULL : v);
    return none(ctx);
}
HPyDef_METH(Box_get, "get", HPyFunc_NOARGS)
static HPy Box_get_impl(HPyContext *ctx, HPy self)
{
    BoxObject *b = BoxObject_AsStruct(ctx, self);
    if (HPyField_IsNull(b->item)) return none(ctx);
    return HPyField_Load(ctx, self, b->item);
}
static HPyDef *Box_defines[] = { &Box_new, &Box_traverse, &Box_destroy, &Box_finalize,
                                 &Box_set, &Box_get, NULL };
static HPyType_Spec Box_spec = {
    .name = "m.Box", .basicsize = sizeof(BoxObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC | HPy_TPFLAGS_BASETYPE,
    .defines = Box_defines,
};
HPyDef_METH(m_counts, "counts", HPyFunc_NOARGS)
static HPy m_counts_impl(HPyContext *ctx, HPy self)
{
    HPy items[3] = { lng(ctx, box_destroyed), lng(ctx, box_finalized), lng(ctx, box_destroyed_tags) };
    HPy t = HPyTuple_FromArray(ctx, items, 3);
    for (int i = 0; i < 3; i++) HPy_Close(ctx, items[i]);
    return t;
}
"""


@pytest.fixture
def gmod(make_module):
    return build(make_module, GC, [("Box", "Box_spec", None)])


def test_field_store_load(gmod):
    class X:
        pass
    x = X()
    wr = weakref.ref(x)
    b = gmod.Box(x)
    assert b.get() is x
    del x
    gc.collect()
    assert wr() is not None              # the field holds a reference
    b.set(None)                          # HPyField_Store(HPy_NULL) releases it
    assert wr() is None and b.get() is None
    y = X()
    b.set(y)
    b.set(y)                             # storing the same object twice
    assert b.get() is y
    b.set([1, 2])
    assert b.get() == [1, 2]


def test_gc_collects_cycles(gmod):
    class X:
        pass
    d0, f0, t0 = gmod.counts()
    b = gmod.Box(None, 7)
    assert gc.is_tracked(b)
    x = X()
    x.box = b
    b.set(x)
    assert x in gc.get_referents(b)
    wr = weakref.ref(x)
    del b, x
    gc.collect()
    assert wr() is None
    d, f, t = gmod.counts()
    assert d == d0 + 1 and f == f0 + 1 and t == t0 + 7

    b = gmod.Box(None, 5)
    b.set(b)                             # self cycle
    del b
    gc.collect()
    assert gmod.counts()[0] == d0 + 2


def test_dealloc_of_subclass(gmod):
    class Sub(gmod.Box):
        pass
    d0, f0, t0 = gmod.counts()
    s = Sub([1], 3)
    assert s.get() == [1]
    s.other = s                          # cycle through the instance dict
    del s
    gc.collect()
    d, f, t = gmod.counts()
    assert (d, t) == (d0 + 1, t0 + 3)
    assert f == f0 + 1                   # finalizer ran exactly once
    # plain refcount death, no GC involved
    Sub(None, 1)
    assert gmod.counts()[0] == d0 + 2


# ---------------------------------------------------------------------------
# Call protocol

CALL = r"""
typedef struct { long base; } CallObject;
HPyType_HELPERS(CallObject)

HPyDef_SLOT(Call_call, HPy_tp_call)
static HPy Call_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    long n = (long)nargs;
    if (!HPy_IsNull(kwnames)) n += 100 * (long)HPy_Length(ctx, kwnames);
    for (size_t i = 0; i < nargs; i++) n += 1000 * HPyLong_AsLong(ctx, args[i]);
    return lng(ctx, CallObject_AsStruct(ctx, self)->base + n);
}
HPyDef_CALL_FUNCTION(alt_call)
static HPy alt_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    return str(ctx, "alt");
}
HPyDef_METH(Call_use_alt, "use_alt", HPyFunc_NOARGS)
static HPy Call_use_alt_impl(HPyContext *ctx, HPy self)
{
    if (HPy_SetCallFunction(ctx, self, &alt_call) < 0) return HPy_NULL;
    return none(ctx);
}
HPyDef_MEMBER(Call_base, "base", HPyMember_LONG, offsetof(CallObject, base))
static HPyDef *Call_defines[] = { &Call_call, &Call_use_alt, &Call_base, NULL };
static HPyType_Spec Call_spec = {
    .name = "m.Call", .basicsize = sizeof(CallObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = Call_defines,
};

/* with its own tp_new, which chooses the call function */
HPyDef_SLOT(CallNew_new, HPy_tp_new)
static HPy CallNew_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    CallObject *c;
    HPy h = HPy_New(ctx, cls, &c);
    if (HPy_IsNull(h)) return HPy_NULL;
    c->base = nargs > 0 ? HPyLong_AsLong(ctx, args[0]) : 0;
    if (nargs > 1 && HPy_SetCallFunction(ctx, h, &alt_call) < 0) {
        HPy_Close(ctx, h);
        return HPy_NULL;
    }
    return h;
}
static HPyDef *CallNew_defines[] = { &CallNew_new, &Call_call, &Call_base, NULL };
static HPyType_Spec CallNew_spec = {
    .name = "m.CallNew", .basicsize = sizeof(CallObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = CallNew_defines,
};

/* basicsize 0: the hidden field goes after the inherited struct */
static HPyDef *CallInh_defines[] = { &Call_call, NULL };
static HPyType_Spec CallInh_spec = {
    .name = "m.CallInh", .flags = HPy_TPFLAGS_DEFAULT, .defines = CallInh_defines,
};

typedef struct { long v; } PlainObject;
static HPyType_Spec Plain_spec = { .name = "m.Plain", .basicsize = sizeof(PlainObject) };

HPyDef_METH(m_set_alt, "set_alt", HPyFunc_O)
static HPy m_set_alt_impl(HPyContext *ctx, HPy self, HPy obj)
{
    if (HPy_SetCallFunction(ctx, obj, &alt_call) < 0) return HPy_NULL;
    return none(ctx);
}
"""


def test_tp_call(make_module):
    mod = build(make_module, CALL, [("Call", "Call_spec", None), ("CallNew", "CallNew_spec", None),
                                    ("CallInh", "CallInh_spec", base_param("CallNew")),
                                    ("Plain", "Plain_spec", None)])
    c = mod.Call()                       # default tp_new sets the call function
    c.base = 5
    assert c() == 5
    assert c(1, 2) == 3007
    assert c(1, a=2, b=3) == 5 + 1 + 200 + 1000   # nargs, 100*len(kwnames), 1000*args
    assert c.__vectorcalloffset__ >= 24       # aligned end of header + payload
    c.use_alt()
    assert c(1) == "alt"
    assert mod.Call()() == 0             # per object

    n = mod.CallNew(40)
    assert n(1) == 1041
    assert mod.CallNew(1, "alt")() == "alt"

    class Sub(mod.Call):
        pass
    s = Sub()
    s.base = 1
    assert s(2) == 2002
    mod.set_alt(s)
    assert s() == "alt"

    class SubN(mod.CallNew):
        pass
    assert SubN(3)(1) == 1004

    i = mod.CallInh(7)
    assert i.base == 7 and i(1) == 1008

    with pytest.raises(TypeError, match="does not implement the HPy call protocol"):
        mod.set_alt(mod.Plain())
    with pytest.raises(TypeError):
        mod.Plain()()


# ---------------------------------------------------------------------------
# Buffers

BUF = r"""
typedef struct { char data[8]; long releases; HPy_ssize_t shape[1]; } BufObject;
HPyType_HELPERS(BufObject)
HPyDef_SLOT(Buf_new, HPy_tp_new)
static HPy Buf_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    BufObject *b;
    HPy h = HPy_New(ctx, cls, &b);
    if (HPy_IsNull(h)) return HPy_NULL;
    memcpy(b->data, "hpybuf", 6);
    return h;
}
HPyDef_SLOT(Buf_getbuffer, HPy_bf_getbuffer)
static int Buf_getbuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
{
    BufObject *b = BufObject_AsStruct(ctx, self);
    if (b->releases < 0) {
        HPyErr_SetString(ctx, ctx->h_BufferError, "no buffer for you");
        return -1;
    }
    b->shape[0] = 8;
    view->buf = b->data;
    view->obj = HPy_Dup(ctx, self);
    view->len = 8;
    view->itemsize = 1;
    view->readonly = 0;
    view->ndim = 1;
    view->format = (flags & 0x4) ? "B" : NULL;   /* PyBUF_FORMAT */
    view->shape = (flags & 0x8) ? b->shape : NULL; /* PyBUF_ND */
    view->strides = NULL;
    view->suboffsets = NULL;
    view->internal = (void *)b;
    return 0;
}
HPyDef_SLOT(Buf_releasebuffer, HPy_bf_releasebuffer)
static void Buf_releasebuffer_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
{
    BufObject *b = BufObject_AsStruct(ctx, self);
    if (view->internal == (void *)b && HPy_Is(ctx, view->obj, self) && view->len == 8)
        b->releases++;
    else
        b->releases += 1000;
}
HPyDef_MEMBER(Buf_releases, "releases", HPyMember_LONG, offsetof(BufObject, releases))
static HPyDef *Buf_defines[] = { &Buf_new, &Buf_getbuffer, &Buf_releasebuffer, &Buf_releases, NULL };
static HPyType_Spec Buf_spec = {
    .name = "m.Buf", .basicsize = sizeof(BufObject), .defines = Buf_defines,
};
"""


def test_buffer(make_module):
    mod = build(make_module, BUF, [("Buf", "Buf_spec", None)])
    b = mod.Buf()
    with memoryview(b) as m:
        assert m.obj is b
        assert m.nbytes == 8 and m.format == "B" and m.shape == (8,)
        assert bytes(m) == b"hpybuf\0\0"
        m[0] = ord("H")
    assert b.releases == 1
    assert bytes(b) == b"Hpybuf\0\0"
    assert b.releases == 2
    b.releases = -1
    with pytest.raises(BufferError, match="no buffer for you"):
        memoryview(b)
    assert b.releases == -1


# ---------------------------------------------------------------------------
# Builtin shapes

SHAPES = r"""
typedef struct { long extra; } XData;
#define SHAPED(NAME, SHAPE_) \
    typedef struct { long extra; } NAME##Object; \
    HPyType_HELPERS(NAME##Object, SHAPE_) \
    HPyDef_METH(NAME##_set, "set_extra", HPyFunc_O) \
    static HPy NAME##_set_impl(HPyContext *ctx, HPy self, HPy v) { \
        NAME##Object_AsStruct(ctx, self)->extra = HPyLong_AsLong(ctx, v); return none(ctx); } \
    HPyDef_METH(NAME##_get, "get_extra", HPyFunc_NOARGS) \
    static HPy NAME##_get_impl(HPyContext *ctx, HPy self) { \
        return lng(ctx, NAME##Object_AsStruct(ctx, self)->extra); } \
    HPyDef_MEMBER(NAME##_m, "extra", HPyMember_LONG, offsetof(NAME##Object, extra)) \
    static HPyDef *NAME##_defines[] = { &NAME##_set, &NAME##_get, &NAME##_m, NULL }; \
    static HPyType_Spec NAME##_spec = { .name = "m." #NAME, .basicsize = sizeof(NAME##Object), \
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, \
        .builtin_shape = SHAPE(NAME##Object), .defines = NAME##_defines };
SHAPED(MyInt, HPyType_BuiltinShape_Long)
SHAPED(MyFloat, HPyType_BuiltinShape_Float)
SHAPED(MyStr, HPyType_BuiltinShape_Unicode)
SHAPED(MyTuple, HPyType_BuiltinShape_Tuple)
SHAPED(MyList, HPyType_BuiltinShape_List)
SHAPED(MyDict, HPyType_BuiltinShape_Dict)
SHAPED(MyObj, HPyType_BuiltinShape_Object)

/* a metaclass: instances are types with a payload */
SHAPED(MyMeta, HPyType_BuiltinShape_Type)

HPyDef_METH(m_shape, "shape", HPyFunc_O)
static HPy m_shape_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyType_BuiltinShape s = _HPyType_GetBuiltinShape(ctx, arg);
    if (s == (HPyType_BuiltinShape)-2) return HPy_NULL;
    return lng(ctx, (long)s);
}
"""

SHAPE_TYPES = [
    ("MyInt", "MyInt_spec", ctx_base_param("h_LongType")),
    ("MyFloat", "MyFloat_spec", ctx_base_param("h_FloatType")),
    ("MyStr", "MyStr_spec", ctx_base_param("h_UnicodeType")),
    ("MyTuple", "MyTuple_spec", ctx_base_param("h_TupleType")),
    ("MyList", "MyList_spec", ctx_base_param("h_ListType")),
    ("MyDict", "MyDict_spec", ctx_base_param("h_DictType")),
    ("MyObj", "MyObj_spec", None),
    ("MyMeta", "MyMeta_spec", ctx_base_param("h_TypeType")),
]


def test_builtin_shapes(make_module):
    mod = build(make_module, SHAPES, SHAPE_TYPES)
    cases = [(mod.MyInt, (7,), 7, 2), (mod.MyFloat, (1.5,), 1.5, 3),
             (mod.MyStr, ("abc",), "abc", 4), (mod.MyTuple, ((9,),), (9,), 5),
             (mod.MyList, ([1, 2, 3, 4, 5],), [1, 2, 3, 4, 5], 6),
             (mod.MyDict, ({"a": 1},), {"a": 1}, 7), (mod.MyObj, (), None, 0)]
    for tp, args, value, shape in cases:
        assert mod.shape(tp) == shape
        o = tp(*args)
        assert o.get_extra() == 0 and o.extra == 0, tp
        o.set_extra(12345)
        assert o.get_extra() == 12345 and o.extra == 12345
        if value is not None:
            assert o == value, tp
        o.extra = -3
        assert o.get_extra() == -3

    class Sub(mod.MyList):
        pass
    s = Sub([1])
    s.append(2)
    s.set_extra(4)
    assert s == [1, 2] and s.extra == 4
    assert mod.shape(Sub) == 6

    T = mod.MyMeta("T", (), {"a": 1})
    assert isinstance(T, type) and T.a == 1 and T().__class__ is T
    T.set_extra(99)
    assert T.get_extra() == 99
    assert mod.shape(mod.MyMeta) == 1


TEARDOWN = r"""
static long order;      /* destroy impls append their digit, nearest first */
typedef struct { long a; } TBaseObject;
HPyType_HELPERS(TBaseObject)
HPyDef_SLOT(TBase_destroy, HPy_tp_destroy)
static void TBase_destroy_impl(void *obj) { order = order * 10 + 1; }
static HPyDef *TBase_defines[] = { &TBase_destroy, NULL };
static HPyType_Spec TBase_spec = { .name = "m.TBase", .basicsize = sizeof(TBaseObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = TBase_defines };

typedef struct { TBaseObject base; long b; } TMidObject;
static HPyDef *TMid_defines[] = { NULL };
static HPyType_Spec TMid_spec = { .name = "m.TMid", .basicsize = sizeof(TMidObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = TMid_defines };

typedef struct { TMidObject base; long c; } TTopObject;
HPyDef_SLOT(TTop_destroy, HPy_tp_destroy)
static void TTop_destroy_impl(void *obj) { order = order * 10 + 3; }
static HPyDef *TTop_defines[] = { &TTop_destroy, NULL };
static HPyType_Spec TTop_spec = { .name = "m.TTop", .basicsize = sizeof(TTopObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE, .defines = TTop_defines };

/* a list with a payload and a destroy: the list's own deallocator still
   releases the items */
typedef struct { long extra; } TListObject;
HPyType_HELPERS(TListObject, HPyType_BuiltinShape_List)
HPyDef_SLOT(TList_destroy, HPy_tp_destroy)
static void TList_destroy_impl(void *obj) { order = order * 10 + ((TListObject *)obj)->extra; }
HPyDef_MEMBER(TList_extra, "extra", HPyMember_LONG, offsetof(TListObject, extra))
static HPyDef *TList_defines[] = { &TList_destroy, &TList_extra, NULL };
static HPyType_Spec TList_spec = { .name = "m.TList", .basicsize = sizeof(TListObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
    .builtin_shape = HPyType_BuiltinShape_List, .defines = TList_defines };

HPyDef_METH(m_take_order, "take_order", HPyFunc_NOARGS)
static HPy m_take_order_impl(HPyContext *ctx, HPy self)
{
    long o = order;
    order = 0;
    return lng(ctx, o);
}
"""


def test_destroy_chain_and_builtin_base(make_module):
    """Every HPy type of the chain has its destroy called, nearest first
    (an HPy type without one in between); a list-shaped type's items are
    released by the list's own deallocator, also for Python subclasses."""
    mod = build(make_module, TEARDOWN, [
        ("TBase", "TBase_spec", None),
        ("TMid", "TMid_spec", base_param("TBase")),
        ("TTop", "TTop_spec", base_param("TMid")),
        ("TList", "TList_spec", ctx_base_param("h_ListType")),
    ])
    mod.take_order()
    for tp, order in [(mod.TBase, 1), (mod.TMid, 1), (mod.TTop, 31)]:
        o = tp()
        del o
        assert mod.take_order() == order, tp

    class PyTop(mod.TTop):
        pass
    o = PyTop()
    o.attr = 1
    del o
    gc.collect()
    assert mod.take_order() == 31

    class Item:
        pass

    class PyList(mod.TList):
        pass
    for tp in (mod.TList, PyList):
        item = Item()
        wr = weakref.ref(item)
        lst = tp([item, 2])
        lst.extra = 7
        del item
        assert wr() is not None and lst[1] == 2
        del lst
        gc.collect()
        assert wr() is None, tp
        assert mod.take_order() == 7, tp


# ---------------------------------------------------------------------------
# Errors

ERRORS = r"""
static fake_PyType_Slot no_slots[] = { { 0, NULL } };
static void *dummy_dealloc_p = (void *)1;
static fake_PyType_Slot dealloc_slots[] = { { 52 /* Py_tp_dealloc */, (void *)1 }, { 0, NULL } };

typedef struct { long v; HPyField f; } EObject;
HPyType_HELPERS(EObject)

HPyDef_SLOT(E_traverse, HPy_tp_traverse)
static int E_traverse_impl(void *obj, HPyFunc_visitproc visit, void *arg) { return 0; }
HPyDef_SLOT(E_destroy, HPy_tp_destroy)
static void E_destroy_impl(void *obj) { }
HPyDef_SLOT(E_call, HPy_tp_call)
static HPy E_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames) { return none(ctx); }
HPyDef_MEMBER(E_v, "v", HPyMember_LONG, offsetof(EObject, v))
HPyDef_MEMBER(E_vco, "__vectorcalloffset__", HPyMember_HPYSSIZET, offsetof(EObject, v), .readonly = 1)
HPyDef_METH(E_badmeth, "bad", HPyFunc_INQUIRY)
static int E_badmeth_impl(HPyContext *ctx, HPy self) { return 0; }

static HPyDef *no_defs[] = { NULL };
static HPyDef *call_defs[] = { &E_call, NULL };
static HPyDef *member_defs[] = { &E_v, NULL };
static HPyDef *destroy_defs[] = { &E_destroy, NULL };
static HPyDef *call_vco_defs[] = { &E_call, &E_vco, NULL };
static HPyDef *badmeth_defs[] = { &E_badmeth, NULL };

static HPyType_Spec gc_no_traverse = { .name = "m.E1", .basicsize = sizeof(EObject),
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC, .defines = no_defs };
static HPyType_Spec legacy_slots_obj = { .name = "m.E2", .basicsize = sizeof(EObject),
    .legacy_slots = no_slots };
static HPyType_Spec call_var = { .name = "m.E3", .basicsize = sizeof(EObject), .itemsize = 8,
    .defines = call_defs };
static HPyType_Spec bad_shape = { .name = "m.E4", .basicsize = sizeof(EObject),
    .builtin_shape = (HPyType_BuiltinShape)42 };
static HPyType_Spec members_no_size = { .name = "m.E5", .defines = member_defs };
static HPyType_Spec legacy_dealloc = { .name = "m.E6", .basicsize = 64,
    .builtin_shape = HPyType_BuiltinShape_Legacy, .legacy_slots = dealloc_slots,
    .defines = destroy_defs };
static HPyType_Spec call_legacy_nosize = { .name = "m.E7",
    .builtin_shape = HPyType_BuiltinShape_Legacy, .defines = call_defs };
static HPyType_Spec call_vco = { .name = "m.E8", .basicsize = sizeof(EObject),
    .defines = call_vco_defs };
static HPyType_Spec badmeth = { .name = "m.E9", .basicsize = sizeof(EObject),
    .defines = badmeth_defs };
static HPyType_Spec ok = { .name = "m.Ok", .basicsize = sizeof(EObject) };

static HPyType_Spec *specs[] = { &gc_no_traverse, &legacy_slots_obj, &call_var, &bad_shape,
    &members_no_size, &legacy_dealloc, &call_legacy_nosize, &call_vco, &badmeth, &ok };

HPyDef_METH(m_make, "make", HPyFunc_O)
static HPy m_make_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)dummy_dealloc_p;
    return HPyType_FromSpec(ctx, specs[HPyLong_AsLong(ctx, arg)], NULL);
}

HPyDef_METH(m_make_params, "make_params", HPyFunc_VARARGS)
static HPy m_make_params_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyType_SpecParam params[4];
    size_t i;
    for (i = 0; i + 1 < nargs && i < 3; i += 2)
        params[i / 2] = (HPyType_SpecParam){ (HPyType_SpecParam_Kind)HPyLong_AsLong(ctx, args[i]), args[i + 1] };
    params[i / 2] = (HPyType_SpecParam){ (HPyType_SpecParam_Kind)0 };
    return HPyType_FromSpec(ctx, &ok, params);
}
"""


def test_errors(make_module):
    mod = build(make_module, ERRORS)
    with pytest.raises(ValueError, match="HPy_tp_traverse"):
        mod.make(0)
    with pytest.raises(TypeError, match="legacy_slots"):
        mod.make(1)
    with pytest.raises(TypeError, match="var objects"):
        mod.make(2)
    with pytest.raises(ValueError, match="invalid shape"):
        mod.make(3)
    with pytest.raises(TypeError, match="basicsize==0"):
        mod.make(4)
    with pytest.raises(TypeError, match="legacy tp_dealloc"):
        mod.make(5)
    with pytest.raises(TypeError, match="HPy call protocol"):
        mod.make(6)
    with pytest.raises(TypeError, match="__vectorcalloffset__"):
        mod.make(7)
    with pytest.raises(ValueError, match="Unsupported HPyMeth signature"):
        mod.make(8)
    assert mod.make(9).__name__ == "Ok"


def test_spec_params(make_module):
    mod = build(make_module, ERRORS)
    Base, BASES, META = 1, 2, 3

    # No __weakref__/__dict__ slots: m.Ok's struct goes right after the
    # PyObject header, where (before 3.12) a plain class keeps its weaklist.
    class A:
        __slots__ = ()

    class B:
        __slots__ = ()
    t = mod.make_params(Base, A)
    assert t.__bases__ == (A,)
    t = mod.make_params(Base, A, Base, B)
    assert t.__bases__ == (A, B)
    t = mod.make_params(BASES, (B, A))
    assert t.__bases__ == (B, A)
    with pytest.raises(TypeError, match="cannot specify both"):
        mod.make_params(Base, A, BASES, (B,))
    with pytest.raises(TypeError, match="multiple specifications"):
        mod.make_params(BASES, (A,), BASES, (B,))
    with pytest.raises(TypeError, match="unknown HPyType_SpecParam"):
        mod.make_params(99, A)
    with pytest.raises(ValueError, match="metaclass was specified multiple times"):
        mod.make_params(META, type, META, type)
    with pytest.raises(TypeError, match="is not a subclass of 'type'"):
        mod.make_params(META, "hello")
    assert type(mod.make_params(META, type)) is type

    class WithNew(type):
        def __new__(cls, *a):
            return type.__new__(cls, *a)
    with pytest.raises(TypeError, match="custom tp_new"):
        mod.make_params(META, WithNew)


def test_legacy_type_hybrid(make_module):
    mod = build(make_module, r"""
        #include <Python.h>
        typedef struct { PyObject_HEAD long v; } LegacyObject;
        HPyType_LEGACY_HELPERS(LegacyObject)
        static PyObject *legacy_get(PyObject *self, PyObject *args)
        {
            return PyLong_FromLong(((LegacyObject *)self)->v);
        }
        static PyMethodDef legacy_methods[] = {
            { "legacy_get", legacy_get, METH_NOARGS, NULL }, { NULL }
        };
        static PyObject *legacy_repr(PyObject *self) { return PyUnicode_FromString("<legacy>"); }
        static PyType_Slot legacy_slots[] = {
            { Py_tp_methods, legacy_methods }, { Py_tp_repr, (void *)legacy_repr }, { 0, NULL }
        };
        HPyDef_METH(Legacy_set, "set", HPyFunc_O)
        static HPy Legacy_set_impl(HPyContext *ctx, HPy self, HPy v)
        {
            LegacyObject_AsStruct(ctx, self)->v = HPyLong_AsLong(ctx, v);
            return none(ctx);
        }
        HPyDef_MEMBER(Legacy_v, "v", HPyMember_LONG, offsetof(LegacyObject, v))
        static HPyDef *Legacy_defines[] = { &Legacy_set, &Legacy_v, NULL };
        static HPyType_Spec Legacy_spec = {
            .name = "m.Legacy", .basicsize = sizeof(LegacyObject),
            .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE,
            .builtin_shape = HPyType_BuiltinShape_Legacy,
            .legacy_slots = legacy_slots, .defines = Legacy_defines,
        };
        HPyDef_METH(m_shape, "shape", HPyFunc_O)
        static HPy m_shape_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return lng(ctx, (long)_HPyType_GetBuiltinShape(ctx, arg));
        }
    """, [("Legacy", "Legacy_spec", None)], abi="hybrid")
    o = mod.Legacy()
    o.set(41)
    assert o.legacy_get() == 41 and o.v == 41 and repr(o) == "<legacy>"
    assert mod.shape(mod.Legacy) == -1


# ---------------------------------------------------------------------------
# Types are freed whole: what HPyType_FromSpec allocates for a type (method
# and getset arrays, getset closures of field members, the name) goes with it.

TYPE_CHURN = r"""
#include <stdlib.h>
typedef struct { long x; HPyField obj; } ThingObject;
HPyType_HELPERS(ThingObject)

HPyDef_SLOT(Thing_new, HPy_tp_new)
static HPy Thing_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    ThingObject *t;
    return HPy_New(ctx, cls, &t);
}
HPyDef_SLOT(Thing_traverse, HPy_tp_traverse)
static int Thing_traverse_impl(void *obj, HPyFunc_visitproc visit, void *arg)
{
    HPy_VISIT(&((ThingObject *)obj)->obj);
    return 0;
}
HPyDef_METH(Thing_get_x, "get_x", HPyFunc_NOARGS)
static HPy Thing_get_x_impl(HPyContext *ctx, HPy self)
{
    return lng(ctx, ThingObject_AsStruct(ctx, self)->x);
}
HPyDef_METH(Thing_twice, "twice", HPyFunc_O)
static HPy Thing_twice_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Add(ctx, arg, arg);
}
HPyDef_MEMBER(Thing_x, "x", HPyMember_LONG, offsetof(ThingObject, x))
HPyDef_MEMBER(Thing_obj, "obj", HPyMember_OBJECT, offsetof(ThingObject, obj))
HPyDef_GET(Thing_x2, "x2")
static HPy Thing_x2_get(HPyContext *ctx, HPy self, void *closure)
{
    return lng(ctx, 2 * ThingObject_AsStruct(ctx, self)->x);
}
static HPyDef *Thing_defines[] = {
    &Thing_new, &Thing_traverse, &Thing_get_x, &Thing_twice, &Thing_x, &Thing_obj, &Thing_x2,
    NULL
};

HPyDef_METH(m_make_type, "make_type", HPyFunc_NOARGS)
static HPy m_make_type_impl(HPyContext *ctx, HPy self)
{
    /* a name on the stack: the type must not keep pointing to it */
    char name[32];
    snprintf(name, sizeof name, "churn.Thing");
    HPyType_Spec spec = {
        .name = name, .basicsize = sizeof(ThingObject),
        .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_HAVE_GC, .defines = Thing_defines,
    };
    return HPyType_FromSpec(ctx, &spec, NULL);
}

static void *volatile planted;
HPyDef_METH(m_leak, "leak", HPyFunc_O)
static HPy m_leak_impl(HPyContext *ctx, HPy self, HPy n)
{
    planted = malloc((size_t)HPyLong_AsLong(ctx, n));  /* lost on purpose */
    return none(ctx);
}

static HPyDef *moddefs[] = { &m_make_type, &m_leak, NULL };
static HPyModuleDef moduledef = { .defines = moddefs };
HPy_MODINIT(churn, moduledef)
"""

TYPE_CHURN_DRIVER = r'''
import ctypes, gc, importlib.util, json, os, sys
so, abi, count, planted = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
spec = importlib.util.spec_from_file_location("churn", so)
if abi == "cpython":
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
else:
    import hpy.universal
    m = hpy.universal.load("churn", so, spec)

class MallInfo2(ctypes.Structure):
    _fields_ = [(f, ctypes.c_size_t) for f in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
page = os.sysconf("SC_PAGE_SIZE")

def churn(n):
    for i in range(n):
        T = m.make_type()
        t = T()
        t.x = i
        t.obj = t                      # a cycle through a field
        assert t.get_x() == i and t.x2 == 2 * i and t.twice(i) == 2 * i and t.obj is t
        try:
            t()
        except TypeError as e:         # reads tp_name
            assert "'churn.Thing' object is not callable" in str(e), e
        if planted:
            m.leak(planted)
        del T, t
        if i % 100 == 99:              # a bounded number of types alive at once
            gc.collect()

def measure():
    gc.collect()
    mi = mallinfo2()
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * page
    return {"blocks": sys.getallocatedblocks(), "malloc": mi.uordblks + mi.hblkhd, "rss": rss}

churn(1000)                            # warm-up: caches, freelists, arenas
measure()
before = measure()
churn(count)
after = measure()
print(json.dumps({k: after[k] - before[k] for k in before}))
'''

TYPES_CHURNED = 10**4
# Growth allowed over TYPES_CHURNED types: malloc'd bytes (mallinfo2: what
# the runtime allocates with Rust's allocator, and type objects; 8-53 KB
# measured on 3.8-3.13, ~4 MB when the spec's arrays and name leaked), Python's
# allocated blocks, RSS. The smallest malloc chunk is 32 bytes: leaking one a
# type is 320 KB, twice the malloc tolerance.
TYPE_CHURN_TOLERANCE = {"malloc": 16 * TYPES_CHURNED, "blocks": 64, "rss": 1 << 20}


def churn_growth(tmp_path, abi, planted=0):
    """What grew while TYPES_CHURNED types were made, used and freed, each
    with a `planted`-byte malloc lost on purpose."""
    so = compile_hpy_module(PRELUDE + TYPE_CHURN, "churn", tmp_path, abi=abi)
    proc = subprocess.run([sys.executable, "-c", TYPE_CHURN_DRIVER, str(so), abi,
                           str(TYPES_CHURNED), str(planted)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("abi", ["universal", "cpython"])
def test_freed_types_leave_memory_flat(tmp_path, abi):
    growth = churn_growth(tmp_path, abi)
    assert all(growth[k] <= TYPE_CHURN_TOLERANCE[k] for k in growth), growth


def test_type_churn_sees_a_small_leak(tmp_path):
    growth = churn_growth(tmp_path, "universal", planted=32)
    assert growth["malloc"] > TYPE_CHURN_TOLERANCE["malloc"], growth
