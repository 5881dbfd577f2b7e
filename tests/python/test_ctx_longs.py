"""Every long conversion of the context at its bounds, one past them, and
with wrong types: the errors upstream's suite leaves mostly untested."""
import sys

import pytest

# (C function, C result type, how to box the result, min, max, masking)
SIGNED = "HPyLong_FromInt64_t(ctx, (int64_t)r)"
UNSIGNED = "HPyLong_FromUInt64_t(ctx, (uint64_t)r)"
CONVERSIONS = [
    ("HPyLong_AsInt32_t", "int32_t", SIGNED, -2**31, 2**31 - 1, False),
    ("HPyLong_AsUInt32_t", "uint32_t", UNSIGNED, 0, 2**32 - 1, False),
    ("HPyLong_AsUInt32_tMask", "uint32_t", UNSIGNED, None, 2**32 - 1, True),
    ("HPyLong_AsInt64_t", "int64_t", SIGNED, -2**63, 2**63 - 1, False),
    ("HPyLong_AsUInt64_t", "uint64_t", UNSIGNED, 0, 2**64 - 1, False),
    ("HPyLong_AsUInt64_tMask", "uint64_t", UNSIGNED, None, 2**64 - 1, True),
    ("HPyLong_AsSize_t", "size_t", UNSIGNED, 0, 2**64 - 1, False),
    ("HPyLong_AsSsize_t", "HPy_ssize_t", SIGNED, -2**63, 2**63 - 1, False),
    ("HPyLong_AsLong", "long", SIGNED, -2**63, 2**63 - 1, False),
    ("HPyLong_AsUnsignedLong", "unsigned long", UNSIGNED, 0, 2**64 - 1, False),
    ("HPyLong_AsUnsignedLongMask", "unsigned long", UNSIGNED, None, 2**64 - 1, True),
    ("HPyLong_AsLongLong", "long long", SIGNED, -2**63, 2**63 - 1, False),
    ("HPyLong_AsUnsignedLongLong", "unsigned long long", UNSIGNED, 0, 2**64 - 1, False),
    ("HPyLong_AsUnsignedLongLongMask", "unsigned long long", UNSIGNED, None, 2**64 - 1, True),
]

# The conversions that reach CPython's PyLong_AsLong, PyLong_AsLongLong or a
# *Mask function, which until 3.10 still took a float through its __int__
# (with a DeprecationWarning); the others never did.
FLOAT_VIA_INT_BEFORE_310 = {"HPyLong_AsInt32_t", "HPyLong_AsInt64_t", "HPyLong_AsLong",
                            "HPyLong_AsLongLong", "HPyLong_AsUInt32_tMask",
                            "HPyLong_AsUInt64_tMask", "HPyLong_AsUnsignedLongMask",
                            "HPyLong_AsUnsignedLongLongMask"}

FROM = [
    # (C function, C argument type, min, max)
    ("HPyLong_FromInt32_t", "int32_t", -2**31, 2**31 - 1),
    ("HPyLong_FromUInt32_t", "uint32_t", 0, 2**32 - 1),
    ("HPyLong_FromInt64_t", "int64_t", -2**63, 2**63 - 1),
    ("HPyLong_FromUInt64_t", "uint64_t", 0, 2**64 - 1),
    ("HPyLong_FromSize_t", "size_t", 0, 2**64 - 1),
    ("HPyLong_FromSsize_t", "HPy_ssize_t", -2**63, 2**63 - 1),
    ("HPyLong_FromLong", "long", -2**63, 2**63 - 1),
    ("HPyLong_FromUnsignedLong", "unsigned long", 0, 2**64 - 1),
    ("HPyLong_FromLongLong", "long long", -2**63, 2**63 - 1),
    ("HPyLong_FromUnsignedLongLong", "unsigned long long", 0, 2**64 - 1),
]


def _source(abi_name):
    parts = ['#include "hpy.h"', "#include <stdint.h>", "#include <limits.h>"]
    defs = []
    for i, (fn, ctype, box, _lo, _hi, _mask) in enumerate(CONVERSIONS):
        parts.append(f"""
HPyDef_METH(as{i}, "{fn}", HPyFunc_O)
static HPy as{i}_impl(HPyContext *ctx, HPy self, HPy arg)
{{
    {ctype} r = {fn}(ctx, arg);
    if (r == ({ctype})-1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return {box};
}}""")
        defs.append(f"&as{i}")
    for i, (fn, ctype, lo, hi) in enumerate(FROM):
        signed = lo < 0
        parts.append(f"""
HPyDef_METH(from{i}, "{fn}", HPyFunc_NOARGS)
static HPy from{i}_impl(HPyContext *ctx, HPy self)
{{
    /* the bounds of the C type, computed in C */
    {ctype} lo = {"(" + ctype + ")((" + ctype + ")1 << (sizeof(" + ctype + ") * 8 - 1))" if signed else "0"};
    {ctype} hi = ({ctype})~lo;
    HPy a = {fn}(ctx, lo), b = {fn}(ctx, hi), c = {fn}(ctx, ({ctype})0);
    HPy items[3] = {{a, b, c}};
    HPy t = HPyTuple_FromArray(ctx, items, 3);
    HPy_Close(ctx, a); HPy_Close(ctx, b); HPy_Close(ctx, c);
    return t;
}}""")
        defs.append(f"&from{i}")
    parts.append(f"""
HPyDef_METH(as_double, "HPyLong_AsDouble", HPyFunc_O)
static HPy as_double_impl(HPyContext *ctx, HPy self, HPy arg)
{{
    double r = HPyLong_AsDouble(ctx, arg);
    if (r == -1.0 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyFloat_FromDouble(ctx, r);
}}

HPyDef_METH(as_voidptr, "HPyLong_AsVoidPtr", HPyFunc_O)
static HPy as_voidptr_impl(HPyContext *ctx, HPy self, HPy arg)
{{
    void *r = HPyLong_AsVoidPtr(ctx, arg);
    if (r == NULL && HPyErr_Occurred(ctx))
        return HPy_NULL;
    return HPyLong_FromSize_t(ctx, (size_t)r);
}}

static HPyDef *defines[] = {{ {", ".join(defs)}, &as_double, &as_voidptr, NULL }};
static HPyModuleDef moduledef = {{ .defines = defines }};
HPy_MODINIT({abi_name}, moduledef)
""")
    return "\n".join(parts)


@pytest.fixture(params=["universal", "hybrid"])
def mod(request, make_module):
    name = f"longs_{request.param}"
    return make_module(_source(name), name=name, abi=request.param)


@pytest.mark.parametrize("fn,ctype,box,lo,hi,mask", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_as_bounds(mod, fn, ctype, box, lo, hi, mask):
    f = getattr(mod, fn)
    assert f(0) == 0
    assert f(hi) == hi
    assert f(True) == 1
    if mask:
        # masking conversions wrap instead of raising
        assert f(hi + 1) == 0
        assert f(-1) == hi
        assert f(2**200 + 5) == 5
    else:
        assert f(lo) == lo
        with pytest.raises(OverflowError):
            f(hi + 1)
        with pytest.raises(OverflowError):
            f(lo - 1)
        with pytest.raises(OverflowError):
            f(2**200)
    with pytest.raises(TypeError):
        f("1")
    if sys.version_info < (3, 10) and fn in FLOAT_VIA_INT_BEFORE_310:
        with pytest.warns(DeprecationWarning):
            assert f(1.5) == 1
    else:
        with pytest.raises(TypeError):
            f(1.5)


@pytest.mark.parametrize("fn,ctype,lo,hi", FROM, ids=[c[0] for c in FROM])
def test_from_bounds(mod, fn, ctype, lo, hi):
    assert getattr(mod, fn)() == (lo, hi, 0)


def test_as_double_and_voidptr(mod):
    assert mod.HPyLong_AsDouble(2**53) == float(2**53)
    assert mod.HPyLong_AsDouble(-7) == -7.0
    with pytest.raises(OverflowError):
        mod.HPyLong_AsDouble(2**2000)
    with pytest.raises(TypeError):
        mod.HPyLong_AsDouble(1.0)
    assert mod.HPyLong_AsVoidPtr(0x1234) == 0x1234
    with pytest.raises(OverflowError):
        mod.HPyLong_AsVoidPtr(2**64)
    with pytest.raises(TypeError):
        mod.HPyLong_AsVoidPtr("x")


def test_bytes_from_null_buffer(make_module):
    m = make_module("""
        #include "hpy.h"
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyBytes_FromStringAndSize(ctx, NULL, HPyLong_AsSsize_t(ctx, arg));
        }
        static HPyDef *defines[] = { &f, NULL };
        static HPyModuleDef moduledef = { .defines = defines };
        HPy_MODINIT(bytesnull, moduledef)
    """, name="bytesnull")
    for n in (-1, 0, 5):
        with pytest.raises(ValueError, match="NULL char \\* passed to HPyBytes_FromStringAndSize"):
            m.f(n)
