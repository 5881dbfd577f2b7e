"""HPy_BuildValue (hpy-helpers/src/buildvalue.rs): every format unit with
its bounds, containers and separators, the handles passed to O/S, and every
kind of malformed format string; also in hybrid and debug mode."""
import itertools
import math
import sys

import pytest

import hpy.universal
from hpy.debug import LeakDetector

from conftest import compile_hpy_module, load_hpy_module

_ids = itertools.count()

PRELUDE = r"""
#include <limits.h>
#include <math.h>
#include "hpy.h"
"""


def cases_module(tmp_path, cases, abi="universal", mode=None, extra=""):
    """A module with one no-argument function per entry of `cases`
    (name -> C expression of the HPy to return, `ctx` in scope)."""
    name = f"bv_{next(_ids)}"
    parts = [PRELUDE, extra]
    for fname, expr in cases.items():
        parts.append(f"""
HPyDef_METH(c_{fname}, "{fname}", HPyFunc_NOARGS)
static HPy c_{fname}_impl(HPyContext *ctx, HPy self)
{{
    return {expr};
}}
""")
    parts.append("static HPyDef *defines[] = { %s, NULL };\n"
                 % ", ".join("&c_" + f for f in cases))
    parts.append("static HPyModuleDef moduledef = { .defines = defines };\n")
    parts.append(f"HPy_MODINIT({name}, moduledef)\n")
    so = compile_hpy_module("".join(parts), name, tmp_path, abi=abi)
    return load_hpy_module(name, so, mode=mode)


def run_cases(mod, cases):
    for name, expected in cases.items():
        got = getattr(mod, name)()
        assert got == expected and type(got) is type(expected), (name, got, expected)


# name -> (C arguments after ctx, expected value)
VALUES = {
    "empty":      ('""', None),
    "blank":      ('"  \\t "', None),
    "i_zero":     ('"i", 0', 0),
    "i_neg":      ('"i", -1', -1),
    "i_min_max":  ('"ii", INT_MIN, INT_MAX', (-2**31, 2**31 - 1)),
    "i_char":     ('"i", (char)65', 65),
    "i_short":    ('"i", (short)-300', -300),
    "I_max":      ('"I", UINT_MAX', 2**32 - 1),
    "I_small":    ('"I", (unsigned int)7', 7),
    "l_min_max":  ('"(ll)", LONG_MIN, LONG_MAX', (-2**63, 2**63 - 1)),
    "k_max":      ('"k", ULONG_MAX', 2**64 - 1),
    "L_min_max":  ('"LL", LLONG_MIN, LLONG_MAX', (-2**63, 2**63 - 1)),
    "K_max":      ('"K", ULLONG_MAX', 2**64 - 1),
    "K_zero":     ('"K", 0ULL', 0),
    "n_min_max":  ('"nn", HPY_SSIZE_T_MIN, HPY_SSIZE_T_MAX', (-2**63, 2**63 - 1)),
    "f_float":    ('"f", 1.5f', 1.5),
    "d_double":   ('"d", -0.1', -0.1),
    "d_huge":     ('"d", 1e308', 1e308),
    "d_inf":      ('"d", -HUGE_VAL', -math.inf),
    "s_ascii":    ('"s", "hello"', "hello"),
    "s_utf8":     ('"s", "h\\xc3\\xa9\\xe2\\x82\\xac"', "h\u00e9\u20ac"),
    "s_empty":    ('"s", ""', ""),
    "s_null":     ('"s", (const char *)NULL', None),
    "several":    ('"isd", 1, "two", 3.0', (1, "two", 3.0)),
    "tuple0":     ('"()"', ()),
    "tuple1":     ('"(i)", 5', (5,)),
    "tuple_sep":  ('"( i , i ,\\ti, )", 1, 2, 3', (1, 2, 3)),
    "tuple_nosep": ('"(ii)", 1, 2', (1, 2)),
    "top_sep":    ('" i,\\ts ,", 1, "x"', (1, "x")),
    "list0":      ('"[]"', []),
    "list":       ('"[i,s,[]]", 1, "a"', [1, "a", []]),
    "two_lists":  ('"[i][i]", 1, 2', ([1], [2])),
    "dict0":      ('"{}"', {}),
    "dict":       ('"{s:i, s : d,}", "a", 1, "b", 2.5', {"a": 1, "b": 2.5}),
    "dict_keys":  ('"{(ii):[s], i:{s:s}}", 1, 2, "x", 3, "k", "v"',
                   {(1, 2): ["x"], 3: {"k": "v"}}),
    "dict_dup":   ('"{s:i,s:i}", "k", 1, "k", 2', {"k": 2}),
    "nested":     ('"[(is)((f)[kk])i]", 4, "str", 0.25, 4UL, 2UL, 14267',
                   [(4, "str"), ((0.25,), [4, 2]), 14267]),
    "mixed":      ('"({s:(i,i), s:f},[i])", "A", 4, 4, "B", 0.25, 42',
                   ({"A": (4, 4), "B": 0.25}, [42])),
    "deep":       ('"' + "(" * 256 + "i" + ")" * 256 + '", 7', None),  # checked below
}


@pytest.mark.parametrize("abi", ["universal", "hybrid"])
def test_values(tmp_path, abi):
    mod = cases_module(tmp_path, {n: f"HPy_BuildValue(ctx, {args})" for n, (args, _) in VALUES.items()},
                       abi=abi)
    run_cases(mod, {n: v for n, (_, v) in VALUES.items() if n != "deep"})
    deep = mod.deep()
    for _ in range(256):
        assert type(deep) is tuple and len(deep) == 1
        deep = deep[0]
    assert deep == 7
    assert math.isnan(cases_module(tmp_path, {"nan": 'HPy_BuildValue(ctx, "d", NAN)'}).nan())


OBJECTS = r"""
HPyDef_METH(o, "o", HPyFunc_VARARGS)
static HPy o_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    /* o(which, x, y) */
    switch (HPyLong_AsLong(ctx, args[0])) {
    case 0: return HPy_BuildValue(ctx, "O", args[1]);
    case 1: return HPy_BuildValue(ctx, "S", args[1]);
    case 2: return HPy_BuildValue(ctx, "(OS)", args[1], args[2]);
    case 3: return HPy_BuildValue(ctx, "[O]{O:S}", args[1], args[1], args[2]);
    case 4: return HPy_BuildValue(ctx, "(OO)", args[1], HPy_NULL);
    case 5: return HPy_BuildValue(ctx, "O", HPy_NULL);
    case 6: return HPy_BuildValue(ctx, "[O{O:O}]", args[1], args[2], HPy_NULL);
    case 7:
        HPyErr_SetString(ctx, ctx->h_KeyError, "raised before");
        return HPy_BuildValue(ctx, "(iO)", 1, HPy_NULL);
    case 8: return HPy_BuildValue(ctx, "{O:i}", args[1], 1);         /* key may be unhashable */
    case 9: return HPy_BuildValue(ctx, "(Os)", args[1], "\xff");    /* not UTF-8 */
    case 10: return HPy_BuildValue(ctx, "(O(q))", args[1]);          /* bad unit inside */
    case 11: {
        /* a new handle passed to O stays the caller's */
        HPy fresh = HPyLong_FromLong(ctx, 1234);
        HPy res = HPy_BuildValue(ctx, "(OO)", fresh, fresh);
        HPy_Close(ctx, fresh);
        return res;
    }
    }
    return HPy_Dup(ctx, ctx->h_NotImplemented);
}
static HPyDef *defines[] = { &o, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%s, moduledef)
"""


def objects_module(tmp_path, abi="universal", mode=None):
    name = f"bv_obj_{next(_ids)}"
    so = compile_hpy_module('#include "hpy.h"\n' + OBJECTS % name, name, tmp_path, abi=abi)
    return load_hpy_module(name, so, mode=mode)


def check_objects(m):
    a, b = object(), object()
    ra, rb = sys.getrefcount(a), sys.getrefcount(b)
    assert m.o(0, a, b) is a
    assert m.o(1, a, b) is a
    t = m.o(2, a, b)
    assert t[0] is a and t[1] is b
    del t
    lst, d = m.o(3, a, b)
    assert lst[0] is a and d == {a: b}
    del lst, d
    assert m.o(11, a, b) == (1234, 1234)
    # NULL handle: SystemError unless the producer already raised
    with pytest.raises(SystemError, match="^HPy_NULL object passed to HPy_BuildValue$"):
        m.o(4, a, b)
    with pytest.raises(SystemError, match="^HPy_NULL object passed to HPy_BuildValue$"):
        m.o(5, a, b)
    with pytest.raises(SystemError, match="HPy_NULL object"):
        m.o(6, a, b)
    with pytest.raises(KeyError, match="raised before"):
        m.o(7, a, b)
    with pytest.raises(TypeError, match="unhashable"):
        m.o(8, [], b)
    with pytest.raises(UnicodeDecodeError):
        m.o(9, a, b)
    with pytest.raises(SystemError, match="bad format char 'q'"):
        m.o(10, a, b)
    # nothing built on the way to an error stays alive; O never steals
    assert sys.getrefcount(a) == ra and sys.getrefcount(b) == rb


@pytest.mark.parametrize("abi", ["universal", "hybrid"])
def test_objects(tmp_path, abi):
    check_objects(objects_module(tmp_path, abi=abi))


def test_objects_debug_no_leak(tmp_path):
    m = objects_module(tmp_path, mode=hpy.universal.MODE_DEBUG)
    m.o(0, 1, 2)   # the debug context and its constants exist before the detector
    with LeakDetector():
        check_objects(m)


W = "in the format string passed to HPy_BuildValue"
N_MESSAGE = ("HPy_BuildValue does not support the 'N' formatting unit. Instead, use the 'O' "
             "formatting unit and manually close the handle in the caller if necessary. HPy "
             "API functions never 'steal' handles and always make a duplicate handle if "
             "needed, the 'ownership' of the original handle is never 'transferred'. ")

# name -> (C arguments after ctx, exact SystemError message)
MALFORMED = {
    "bad_char":      ('"(q)", 1', f"bad format char 'q' {W}"),
    "bad_hash":      ('"s#", "ab", 2', f"bad format char '#' {W}"),
    "bad_ctrl":      ('"i\\x01", 1', f"bad format char '\\x01' {W}"),
    "bad_colon":     ('"i:i", 1, 2', f"bad format char ':' {W}"),
    "bad_byte":      ('"\\xc3\\xa9"', f"bad format char '\\xc3' {W}"),
    "bad_y":         ('"y", "b"', f"bad format char 'y' {W}"),
    "open_tuple":    ('"(i", 1', f"unmatched '(' {W}"),
    "open_list":     ('"[i", 1', f"unmatched '[' {W}"),
    "open_dict":     ('"{i:i", 1, 2', f"unmatched '{{' {W}"),
    "open_nested":   ('"([(i)k", 1, 2UL', f"unmatched '(' {W}"),
    "open_key":      ('"{i", 1', f"unmatched '{{' {W}"),
    "wrong_close1":  ('"(i]", 1', f"unmatched '(' {W}"),
    "wrong_close2":  ('"[i)", 1', f"unmatched '[' {W}"),
    "wrong_close3":  ('"{i:i]", 1, 2', f"unmatched '{{' {W}"),
    "stray_close":   ('"i)", 1', f"unmatched ')' {W}"),
    "stray_brace":   ('"}"', f"unmatched '}}' {W}"),
    "double_comma":  ('"(i,,i)", 1, 2', f"unexpected ',' {W}"),
    "leading_comma": ('"[,i]", 1', f"unexpected ',' {W}"),
    "dict_commas":   ('"{i:i,,}", 1, 2', f"unexpected ',' {W}"),
    "dict_lead":     ('"{,}"', f"unexpected ',' {W}"),
    "dict_no_comma": ('"{i:ii,}", 1, 2, 3', f"missing ',' {W}"),
    "dict_no_colon": ('"{i}", 1', f"missing ':' {W}"),
    "dict_no_value": ('"{i:}", 1', f"bad format char '}}' {W}"),
    "N_unit":        ('"N", ctx->h_None', N_MESSAGE),
    "N_nested":      ('"(iN)", 1, ctx->h_None', N_MESSAGE),
    "too_deep":      ('"' + "[" * 257 + '"', f"brackets nested more than 256 deep {W}"),
    "null_format":   ('(const char *)NULL', "NULL format string passed to HPy_BuildValue"),
}


@pytest.mark.parametrize("abi", ["universal", "hybrid"])
def test_malformed(tmp_path, abi):
    mod = cases_module(tmp_path, {n: f"HPy_BuildValue(ctx, {args})" for n, (args, _) in MALFORMED.items()},
                       abi=abi, extra='#pragma GCC diagnostic ignored "-Wformat"\n')
    for name, (_, message) in MALFORMED.items():
        with pytest.raises(SystemError) as e:
            getattr(mod, name)()
        assert str(e.value) == message, name


def test_debug_mode(tmp_path):
    cases = {n: f"HPy_BuildValue(ctx, {args})" for n, (args, _) in VALUES.items() if n != "deep"}
    cases.update({n: f"HPy_BuildValue(ctx, {args})" for n, (args, _) in MALFORMED.items()})
    mod = cases_module(tmp_path, cases, mode=hpy.universal.MODE_DEBUG)
    mod.empty()
    with LeakDetector():
        run_cases(mod, {n: v for n, (_, v) in VALUES.items() if n != "deep"})
        for name in MALFORMED:
            with pytest.raises(SystemError):
                getattr(mod, name)()
