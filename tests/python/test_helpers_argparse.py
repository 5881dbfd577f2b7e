"""HPyArg_Parse, HPyArg_ParseKeywords and HPyArg_ParseKeywordsDict
(hpy-helpers/src/argparse/): every format unit in and out of range, the
markers, keyword matching, every error a caller or an extension can provoke,
tracker ownership; in the universal, hybrid and CPython ABIs and under the
debug context.

The extension is a harness: `parse(fmt, *args)` calls HPyArg_Parse with the
format given from Python and 24 output slots, and returns, for each unit, the
raw bytes it wrote (decoded here with `struct`), the object (`O`), the string
(`s`), or None if the slot was left untouched.
"""
import gc
import itertools
import math
import re
import struct
import sys

import pytest

import hpy.universal
from hpy.debug import LeakDetector

from conftest import compile_hpy_module, load_cpython_module, load_hpy_module

_ids = itertools.count()

SOURCE = r"""
#include <string.h>
#include "hpy.h"

#define NSLOTS 24
typedef union { unsigned char bytes[8]; void *p; HPy h; } slot_t;

#define SLOTS(s) &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], \
    &s[8], &s[9], &s[10], &s[11], &s[12], &s[13], &s[14], &s[15], &s[16], \
    &s[17], &s[18], &s[19], &s[20], &s[21], &s[22], &s[23]

static int untouched(const slot_t *s)
{
    for (int i = 0; i < 8; i++)
        if (s->bytes[i] != 0xA5)
            return 0;
    return 1;
}

/* One item per unit of `fmt`: None (untouched), the object (O), the string
   (s) or the slot's 8 bytes. */
static HPy collect(HPyContext *ctx, const char *fmt, slot_t *slots)
{
    HPy list = HPyList_New(ctx, 0);
    int k = 0;
    for (const char *c = fmt; *c && *c != ':' && *c != ';' && k < NSLOTS; c++) {
        if (*c == '|' || *c == '$')
            continue;
        slot_t *s = &slots[k++];
        HPy item;
        if (untouched(s))
            item = HPy_Dup(ctx, ctx->h_None);
        else if (*c == 'O')
            item = HPy_Dup(ctx, s->h);
        else if (*c == 's')
            item = HPyUnicode_FromString(ctx, (const char *)s->p);
        else
            item = HPyBytes_FromStringAndSize(ctx, (const char *)s->bytes, 8);
        HPyList_Append(ctx, list, item);
        HPy_Close(ctx, item);
    }
    return list;
}

/* The keywords array from a tuple of str; `names` keeps the items open. */
static const char **keywords_of(HPyContext *ctx, HPy tuple, HPy *names)
{
    static const char *kws[NSLOTS + 1];
    HPy_ssize_t n = HPy_Length(ctx, tuple);
    if (n > NSLOTS)
        n = NSLOTS;
    for (HPy_ssize_t i = 0; i < n; i++) {
        names[i] = HPy_GetItem_i(ctx, tuple, i);
        kws[i] = HPyUnicode_AsUTF8AndSize(ctx, names[i], NULL);
    }
    kws[n] = NULL;
    names[n] = HPy_NULL;
    return kws;
}

static void close_all(HPyContext *ctx, HPy *names)
{
    for (int i = 0; !HPy_IsNull(names[i]); i++)
        HPy_Close(ctx, names[i]);
}

/* parse(fmt, *args) */
HPyDef_METH(parse, "parse", HPyFunc_VARARGS)
static HPy parse_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    slot_t s[NSLOTS];
    memset(s, 0xA5, sizeof s);
    const char *fmt = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
    if (!HPyArg_Parse(ctx, NULL, args + 1, nargs - 1, fmt, SLOTS(s)))
        return HPy_NULL;
    return collect(ctx, fmt, s);
}

/* parse_ht(fmt, *args): the same with a tracker */
HPyDef_METH(parse_ht, "parse_ht", HPyFunc_VARARGS)
static HPy parse_ht_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    slot_t s[NSLOTS];
    HPyTracker ht;
    memset(s, 0xA5, sizeof s);
    const char *fmt = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
    if (!HPyArg_Parse(ctx, &ht, args + 1, nargs - 1, fmt, SLOTS(s)))
        return HPy_NULL;
    HPy res = collect(ctx, fmt, s);
    HPyTracker_Close(ctx, ht);
    return res;
}

/* kw(fmt, keywords_tuple, use_tracker, *args, **kwargs) */
HPyDef_METH(kw, "kw", HPyFunc_KEYWORDS)
static HPy kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                   HPy kwnames)
{
    slot_t s[NSLOTS];
    HPy names[NSLOTS + 1];
    HPyTracker ht;
    int use_ht = HPy_IsTrue(ctx, args[2]);
    memset(s, 0xA5, sizeof s);
    const char *fmt = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
    const char **kws = keywords_of(ctx, args[1], names);
    int ok = HPyArg_ParseKeywords(ctx, use_ht ? &ht : NULL, args + 3, nargs - 3,
                                  kwnames, fmt, kws, SLOTS(s));
    HPy res = ok ? collect(ctx, fmt, s) : HPy_NULL;
    if (ok && use_ht)
        HPyTracker_Close(ctx, ht);
    close_all(ctx, names);
    return res;
}

/* kwdict(fmt, keywords_tuple, use_tracker, args_tuple, dict_or_None) */
HPyDef_METH(kwdict, "kwdict", HPyFunc_VARARGS)
static HPy kwdict_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    slot_t s[NSLOTS];
    HPy names[NSLOTS + 1], pos[NSLOTS];
    HPyTracker ht;
    int use_ht = HPy_IsTrue(ctx, args[2]);
    HPy_ssize_t n = HPy_Length(ctx, args[3]);
    memset(s, 0xA5, sizeof s);
    for (HPy_ssize_t i = 0; i < n; i++)
        pos[i] = HPy_GetItem_i(ctx, args[3], i);
    const char *fmt = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
    const char **kws = keywords_of(ctx, args[1], names);
    HPy kw = HPy_Is(ctx, args[4], ctx->h_None) ? HPy_NULL : args[4];
    int ok = HPyArg_ParseKeywordsDict(ctx, use_ht ? &ht : NULL, pos, n, kw, fmt,
                                      kws, SLOTS(s));
    HPy res = ok ? collect(ctx, fmt, s) : HPy_NULL;
    if (ok && use_ht)
        HPyTracker_Close(ctx, ht);
    for (HPy_ssize_t i = 0; i < n; i++)
        HPy_Close(ctx, pos[i]);
    close_all(ctx, names);
    return res;
}

/* A conventional caller, as an extension writes it. */
HPyDef_METH(point, "point", HPyFunc_KEYWORDS)
static HPy point_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                      HPy kwnames)
{
    static const char *kwlist[] = { "x", "y", "label", "scale", NULL };
    long x, y = 0;
    HPy label = HPy_NULL;
    double scale = 1.0;
    HPyTracker ht;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "l|lO$d:point",
                              kwlist, &x, &y, &label, &scale))
        return HPy_NULL;
    HPy items[4];
    items[0] = HPyLong_FromLong(ctx, x);
    items[1] = HPyLong_FromLong(ctx, y);
    items[2] = HPy_Dup(ctx, HPy_IsNull(label) ? ctx->h_None : label);
    items[3] = HPyFloat_FromDouble(ctx, scale);
    HPy res = HPyTuple_FromArray(ctx, items, 4);
    for (int i = 0; i < 4; i++)
        HPy_Close(ctx, items[i]);
    HPyTracker_Close(ctx, ht);
    return res;
}

/* misuse(case, *args): C-level mistakes, which must raise, not crash */
HPyDef_METH(misuse, "misuse", HPyFunc_VARARGS)
static HPy misuse_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    static const char *kwlist[] = { "a", NULL };
    long v = 42;
    long case_ = HPyLong_AsLong(ctx, args[0]);
    const HPy *rest = args + 1;
    size_t nrest = nargs - 1;
    int ok;
    switch (case_) {
    case 0: /* no args at all: NULL array */
        ok = HPyArg_Parse(ctx, NULL, NULL, 0, "|l", &v);
        break;
    case 1:
        ok = HPyArg_Parse(ctx, NULL, rest, nrest, "l", (long *)NULL);
        break;
    case 2:
        ok = HPyArg_Parse(ctx, NULL, rest, nrest, NULL, &v);
        break;
    case 3:
        ok = HPyArg_ParseKeywords(ctx, NULL, rest, nrest, HPy_NULL, "l", NULL, &v);
        break;
    case 4:
        ok = HPyArg_ParseKeywordsDict(ctx, NULL, rest, -1, HPy_NULL, "l", kwlist, &v);
        break;
    case 5: /* NULL args with nargs > 0 */
        ok = HPyArg_Parse(ctx, NULL, NULL, 2, "|ll", &v, &v);
        break;
    case 6:
        ok = HPyArg_ParseKeywords(ctx, NULL, NULL, 0, HPy_NULL, "|l", kwlist, &v);
        break;
    case 7:
        ok = HPyArg_ParseKeywordsDict(ctx, NULL, NULL, 0, HPy_NULL, "|l", kwlist, &v);
        break;
    default:
        return HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    if (!ok)
        return HPy_NULL;
    return HPyLong_FromLong(ctx, v);
}

static HPyDef *defines[] = { &parse, &parse_ht, &kw, &kwdict, &point, &misuse, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%(name)s, moduledef)
"""

MODES = {
    "universal": ("universal", None),
    "hybrid": ("hybrid", None),
    "debug": ("universal", hpy.universal.MODE_DEBUG),
    "cpython": ("cpython", None),
}


@pytest.fixture(scope="module", params=list(MODES))
def mod(request, tmp_path_factory):
    abi, mode = MODES[request.param]
    name = f"helpers_argparse_{next(_ids)}"
    so = compile_hpy_module(SOURCE % {"name": name}, name, tmp_path_factory.mktemp(name), abi=abi)
    if abi == "cpython":
        m = load_cpython_module(name, so)
    else:
        m = load_hpy_module(name, so, mode=mode)
    m.mode = request.param
    return m


# struct codes of the C output types, by unit
CTYPES = {"b": "B", "B": "B", "h": "h", "H": "H", "i": "i", "I": "I", "l": "l",
          "k": "L", "L": "q", "K": "Q", "n": "n", "f": "f", "d": "d", "p": "i"}


def decode(fmt, raw):
    units = [c for c in re.split("[:;]", fmt)[0] if c not in "|$"]
    return [r if r is None or c in "Os" else struct.unpack_from(CTYPES[c], r)[0]
            for c, r in zip(units, raw)]


def P(mod, fmt, *args):
    """HPyArg_Parse(fmt, args), decoded."""
    return decode(fmt, mod.parse(fmt, *args))


def K(mod, fmt, keywords, *args, ht=True, **kwargs):
    """HPyArg_ParseKeywords, decoded."""
    return decode(fmt, mod.kw(fmt, tuple(keywords), ht, *args, **kwargs))


def D(mod, fmt, keywords, args, kw, ht=True):
    """HPyArg_ParseKeywordsDict, decoded."""
    return decode(fmt, mod.kwdict(fmt, tuple(keywords), ht, tuple(args), kw))


def raises(exc, msg, f, *args, **kwargs):
    with pytest.raises(exc) as e:
        f(*args, **kwargs)
    if msg is not None:
        assert str(e.value) == msg
    return e.value


LONG_BITS = 8 * struct.calcsize("l")
LMIN, LMAX = -2**(LONG_BITS - 1), 2**(LONG_BITS - 1) - 1


class Index:
    """Not an int, but usable as one (__index__)."""
    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


# The integer units convert with CPython's PyLong_As* functions, which until
# 3.10 still took a float through its __int__ (with a DeprecationWarning)
# and named the expected type differently in their TypeError.
NOT_AN_INT = ("'str' object cannot be interpreted as an integer"
              if sys.version_info >= (3, 10) else "an integer is required (got type str)")


def float_to_integer_unit(mod, unit, value):
    if sys.version_info >= (3, 10):
        raises(TypeError, None, P, mod, unit, value)
    else:
        with pytest.warns(DeprecationWarning, match="__int__"):
            assert P(mod, unit, value) == [int(value)]


# ---- integer units with range checks ----

@pytest.mark.parametrize("unit, lo, hi, what", [
    ("b", 0, 255, "unsigned byte integer"),
    ("h", -2**15, 2**15 - 1, "signed short integer"),
    ("i", -2**31, 2**31 - 1, "signed integer"),
])
def test_checked_units(mod, unit, lo, hi, what):
    for v in (lo, lo + 1, 0, 1, hi - 1, hi):
        assert P(mod, unit, v) == [v]
    assert P(mod, unit, True) == [1]
    assert P(mod, unit, Index(hi)) == [hi]
    raises(OverflowError, f"function {what} is greater than maximum", P, mod, unit, hi + 1)
    raises(OverflowError, f"function {what} is less than minimum", P, mod, unit, lo - 1)
    raises(OverflowError, f"f() {what} is greater than maximum", P, mod, unit + ":f", hi + 1)
    raises(OverflowError, "custom", P, mod, unit + ";custom", lo - 1)
    # beyond C long: the runtime's own error
    raises(OverflowError, None, P, mod, unit, 2**70)
    raises(TypeError, None, P, mod, unit, "1")
    float_to_integer_unit(mod, unit, 1.0)


@pytest.mark.parametrize("unit, lo, hi", [
    ("l", LMIN, LMAX),
    ("L", -2**63, 2**63 - 1),
    ("n", -2**63, 2**63 - 1),
])
def test_wide_signed_units(mod, unit, lo, hi):
    for v in (lo, -1, 0, 1, hi):
        assert P(mod, unit, v) == [v]
    if unit == "n":
        # like PyLong_AsSsize_t, `n` takes no __index__
        raises(TypeError, None, P, mod, unit, Index(-5))
    else:
        assert P(mod, unit, Index(-5)) == [-5]
    e = raises(OverflowError, None, P, mod, unit, hi + 1)
    assert "too large" in str(e) or "too big" in str(e)
    raises(OverflowError, None, P, mod, unit, lo - 1)
    raises(TypeError, None, P, mod, unit, "1")
    if unit == "n":
        raises(TypeError, None, P, mod, unit, 2.5)     # PyLong_AsSsize_t: ints only
    else:
        float_to_integer_unit(mod, unit, 2.5)


@pytest.mark.parametrize("unit, bits", [
    ("B", 8), ("H", 16), ("I", 32), ("k", LONG_BITS), ("K", 64),
])
def test_mask_units(mod, unit, bits):
    m = 2**bits
    for v in (0, 1, m - 1):
        assert P(mod, unit, v) == [v]
    assert P(mod, unit, -1) == [m - 1]
    assert P(mod, unit, m) == [0]
    assert P(mod, unit, m + 5) == [5]
    assert P(mod, unit, -m + 1) == [1]
    assert P(mod, unit, 2**100 + 3) == [3]
    assert P(mod, unit, Index(m + 2)) == [2]
    raises(TypeError, None, P, mod, unit, "1")
    float_to_integer_unit(mod, unit, 1.0)


def test_integer_conversion_error_propagates(mod):
    class Bad:
        def __index__(self):
            raise ZeroDivisionError("from __index__")
    for unit in "bBhHiIlkLK":
        raises(ZeroDivisionError, "from __index__", P, mod, unit, Bad())


# ---- floats ----

def test_f_and_d(mod):
    assert P(mod, "d", 1.5) == [1.5]
    assert P(mod, "d", -2) == [-2.0]
    assert P(mod, "d", 0.1) == [0.1]
    assert P(mod, "f", 0.1) == [struct.unpack("f", struct.pack("f", 0.1))[0]]
    assert P(mod, "f", 1e300) == [math.inf]
    assert P(mod, "d", math.inf) == [math.inf]
    assert math.isnan(P(mod, "f", math.nan)[0])
    assert P(mod, "fd", 3, 2**60) == [3.0, float(2**60)]

    class F:
        def __float__(self):
            return 2.25
    assert P(mod, "fd", F(), F()) == [2.25, 2.25]
    for unit in "fd":
        raises(TypeError, None, P, mod, unit, "x")
        raises(TypeError, None, P, mod, unit, None)
        raises(OverflowError, None, P, mod, unit, 2**2000)


# ---- objects, truth values, strings ----

def test_O(mod):
    o = object()
    before = sys.getrefcount(o)
    assert P(mod, "O", o)[0] is o
    assert P(mod, "OO", 1, "a") == [1, "a"]
    assert mod.parse_ht("OO", o, None) == [o, None]
    assert sys.getrefcount(o) == before


def test_p(mod):
    cases = [(0, 0), (1, 1), (-1, 1), (True, 1), (False, 0), ([], 0), ([0], 1),
             ("", 0), ("0", 1), (None, 0), (object(), 1), (0.0, 0)]
    for v, expected in cases:
        assert P(mod, "p", v) == [expected]

    class Bad:
        def __bool__(self):
            raise RuntimeError("no truth")
    raises(RuntimeError, "no truth", P, mod, "p", Bad())


def test_s(mod):
    assert P(mod, "s", "hello HPy") == ["hello HPy"]
    assert P(mod, "s", "") == [""]
    assert P(mod, "s", "h\xe9llo \u20ac \U0001F600") == ["h\xe9llo \u20ac \U0001F600"]

    class S(str):
        pass
    assert P(mod, "s", S("sub")) == ["sub"]
    raises(ValueError, "function embedded null character", P, mod, "s", "a\0b")
    raises(ValueError, "g() embedded null character", P, mod, "s:g", "\0")
    raises(TypeError, "function a str is required", P, mod, "s", b"bytes")
    raises(TypeError, "function a str is required", P, mod, "s", 1)
    raises(TypeError, "nope", P, mod, "s;nope", None)
    # not encodable as UTF-8: upstream reports a SystemError
    raises(SystemError, "function unicode conversion error", P, mod, "s", "\udc80")


def test_every_unit_at_once(mod):
    fmt = "bBhHiIlkLKnfdOps"
    o = object()
    args = (1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11, 1.5, 2.5, o, [1], "text")
    assert P(mod, fmt, *args) == [1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11, 1.5, 2.5, o, 1, "text"]
    assert K(mod, fmt, "abcdefghijklmnop", *args) == P(mod, fmt, *args)


# ---- HPyArg_Parse: optional arguments, counts, messages ----

def test_optional_outputs_untouched(mod):
    fmt = "|bBhHiIlkLKnfdOps"
    assert P(mod, fmt) == [None] * 16
    assert P(mod, fmt, 7, 7) == [7, 7] + [None] * 14
    assert K(mod, fmt, "abcdefghijklmnop") == [None] * 16
    assert K(mod, fmt, "abcdefghijklmnop", o=[], p="x") == [None] * 14 + [0, "x"]
    assert D(mod, fmt, "abcdefghijklmnop", (), {"m": 2}) == [None] * 12 + [2.0, None, None, None]
    assert P(mod, "l|l", 1) == [1, None]
    assert P(mod, "|") == []
    assert P(mod, "") == []
    assert P(mod, "l|", 3) == [3]


def test_parse_counts(mod):
    raises(TypeError, "function required positional argument missing", P, mod, "ll", 1)
    raises(TypeError, "function required positional argument missing", P, mod, "l")
    raises(TypeError, "function mismatched args (too many arguments for fmt)", P, mod, "l", 1, 2)
    raises(TypeError, "function mismatched args (too many arguments for fmt)", P, mod, "", 1)
    raises(TypeError, "function mismatched args (too many arguments for fmt)", P, mod, "|l", 1, 2)
    raises(TypeError, "add() required positional argument missing", P, mod, "OO:add", 1)
    raises(TypeError, "add() mismatched args (too many arguments for fmt)", P, mod, "O:add", 1, 2)
    raises(TypeError, "custom message", P, mod, "OO;custom message", 1)
    # the first ':' or ';' wins; the rest is text
    raises(TypeError, "a;b() required positional argument missing", P, mod, "O:a;b")
    raises(TypeError, "a:b", P, mod, "O;a:b")
    raises(TypeError, "() required positional argument missing", P, mod, "O:")
    raises(TypeError, "", P, mod, "O;")


def test_message_lengths(mod):
    # upstream's limits: 200 bytes of name, 511 bytes in all
    name = "n" * 300
    raises(TypeError, "n" * 200 + "() required positional argument missing", P, mod, "O:" + name)
    text = "m" * 600
    raises(TypeError, "m" * 511, P, mod, "O;" + text)
    # cut on a character boundary
    e = raises(TypeError, None, P, mod, "O:" + "\u20ac" * 100)
    assert str(e) == "\u20ac" * 66 + "() required positional argument missing"


def test_parse_with_tracker(mod):
    o = object()
    before = sys.getrefcount(o)
    assert mod.parse_ht("O|Ol", o) == [o, None, None]
    raises(TypeError, None, mod.parse_ht, "OO", o)        # tracker closed on failure
    raises(SystemError, None, mod.parse_ht, "OZ", o)
    gc.collect()
    assert sys.getrefcount(o) == before


# ---- malformed format strings ----

def test_unknown_units(mod):
    for fmt in ("Z", "lZ", "O$O", "lx", "l#", "l(", "e", "\xe9"):
        raises(SystemError, "function unknown arg format code", P, mod, fmt, 1, 2)
    raises(SystemError, "two_add() unknown arg format code", P, mod, "ZZ:two_add", "a")
    raises(SystemError, "mine", P, mod, "Z;mine", "a")
    # found before the arguments are looked at
    raises(SystemError, "function unknown arg format code", P, mod, "lZ")
    raises(SystemError, "function unknown arg format code", K, mod, "lZ", "ab")
    raises(SystemError, "function unknown arg format code", D, mod, "lZ", "ab", (), None)
    raises(SystemError, "f() unknown arg format code", K, mod, "lz:f", "ab", 1, 2)


@pytest.mark.parametrize("fmt, problem", [
    ("O||O", "'|' appears twice (at offset 2)"),
    ("|O|", "'|' appears twice (at offset 2)"),
])
def test_bad_markers_parse(mod, fmt, problem):
    raises(SystemError, f'HPyArg_Parse: bad format string "{fmt}": {problem}', P, mod, fmt, 1, 2)


@pytest.mark.parametrize("fmt, problem", [
    ("O$|O", "'|' after '$' (at offset 2)"),
    ("O|$O|", "'|' after '$' (at offset 4)"),
    ("O$O$", "'$' appears twice (at offset 3)"),
    ("||OO", "'|' appears twice (at offset 1)"),
])
def test_bad_markers_keywords(mod, fmt, problem):
    raises(SystemError, f'HPyArg_ParseKeywords: bad format string "{fmt}": {problem}',
           K, mod, fmt, "ab", 1)
    raises(SystemError, f'HPyArg_ParseKeywordsDict: bad format string "{fmt}": {problem}',
           D, mod, fmt, "ab", (1,), None)


def test_keyword_list_mismatch(mod):
    raises(TypeError, "function mismatched args (too few keywords for fmt)", K, mod, "OOO", "ab", 1, 2, 3)
    raises(TypeError, "f() mismatched args (too few keywords for fmt)", K, mod, "OOO:f", "ab")
    raises(TypeError, "function mismatched args (too many keywords for fmt)", K, mod, "O", "ab", 1, 2)
    raises(TypeError, "function mismatched args (too many keywords for fmt)", K, mod, "", "a")
    raises(TypeError, "x", D, mod, "l;x", "ab", (1,), None)
    raises(TypeError, "function mismatched args (too few keywords for fmt)", D, mod, "ll", "a", (1, 2), None)
    raises(SystemError, "function empty keyword parameter name", K, mod, "lll", ["", "b", ""])
    raises(SystemError, "g() empty keyword parameter name", D, mod, "ll:g", ["a", ""], (), None)
    raises(SystemError,
           'HPyArg_ParseKeywords: bad format string "l$l": keyword-only unit \'l\' (number 2) '
           'has no keyword name', K, mod, "l$l", ["", ""], 1)


def test_O_needs_a_tracker(mod):
    msg = ("function HPyArg_ParseKeywords cannot use the format character 'O' unless an "
           "HPyTracker is provided. Please supply an HPyTracker.")
    raises(SystemError, msg, K, mod, "O", "a", 1, ht=False)
    raises(SystemError, msg, K, mod, "l|O", "ab", ht=False)
    raises(SystemError, msg, D, mod, "O", "a", (1,), None, ht=False)
    # other units need none
    assert K(mod, "lsp", "abc", 1, "x", c=2, ht=False) == [1, "x", 1]
    assert D(mod, "lpd", "abc", (1,), {"b": "y", "c": 0}, ht=False) == [1, 1, 0.0]


# ---- HPyArg_ParseKeywords ----

def test_keywords_matching(mod):
    assert K(mod, "ll", "ab", 1, 2) == [1, 2]
    assert K(mod, "ll", "ab", 1, b=2) == [1, 2]
    assert K(mod, "ll", "ab", b=2, a=1) == [1, 2]
    assert K(mod, "l|ll", "abc", 1, c=3) == [1, None, 3]
    assert K(mod, "O|O", ["", "b"], 1) == [1, None]
    assert K(mod, "O|O", ["", "b"], 1, b=2) == [1, 2]
    assert K(mod, "O$O", "ab", 1, b=2) == [1, 2]
    assert K(mod, "O$O", "ab", a=1, b=2) == [1, 2]
    assert K(mod, "O|$O", "ab", a=1) == [1, None]
    assert K(mod, "s|s", ["first", "second"], second="2", first="1") == ["1", "2"]
    assert K(mod, "l", ["\xe9t\xe9"], **{"\xe9t\xe9": 5}) == [5]


def test_keywords_errors(mod):
    raises(TypeError, "function no value for required argument", K, mod, "ll", "ab", 1)
    raises(TypeError, "function no value for required argument", K, mod, "ll", "ab", b=1)
    raises(TypeError, "function no value for required argument", K, mod, "O|O", ["", "b"], a=1, b=2)
    raises(TypeError, "add_two() no value for required argument", K, mod, "OO:add_two", "ab", 1)
    raises(TypeError, "function keyword only argument passed as positional argument",
           K, mod, "O$O", "ab", 1, 2)
    raises(TypeError, "function mismatched args (too many arguments for fmt)", K, mod, "l|l", "ab", 1, 2, 3)
    raises(TypeError, "function got multiple values for argument 'a'", K, mod, "l|l", "ab", 1, a=2)
    raises(TypeError, "f() got multiple values for argument 'b'", K, mod, "ll:f", "ab", 1, 2, b=3)
    raises(TypeError, "function got an unexpected keyword argument 'c'", K, mod, "l|l", "ab", 1, c=2)
    raises(TypeError, "function got an unexpected keyword argument 'a'", K, mod, "O|O", ["", "b"], 1, a=2)
    raises(TypeError, "oops", K, mod, "l|l;oops", "ab", a=1, zz=2)
    # a unit's conversion error comes first (units are matched in order)
    raises(OverflowError, "function signed short integer is greater than maximum",
           K, mod, "hh", "ab", a=2**15, b=2**15)


def test_keywords_tracker(mod):
    o, p = object(), object()
    ro, rp = sys.getrefcount(o), sys.getrefcount(p)
    assert K(mod, "OO", "ab", o, b=p) == [o, p]
    assert K(mod, "O|O", "ab", p) == [p, None]
    # failing after `O` has produced handles: the parser closes the tracker
    raises(TypeError, None, K, mod, "OOl", "abc", o, p, "x")
    raises(TypeError, None, K, mod, "OO|l", "abc", o, b=p, d=1)
    raises(TypeError, None, K, mod, "OO", "ab", o)
    gc.collect()
    assert sys.getrefcount(o) == ro and sys.getrefcount(p) == rp


def test_keywords_kwnames_in_c(mod):
    assert mod.point(1) == (1, 0, None, 1.0)
    assert mod.point(1, 2, "lbl", scale=3) == (1, 2, "lbl", 3.0)
    assert mod.point(y=5, x=4) == (4, 5, None, 1.0)
    raises(TypeError, "point() keyword only argument passed as positional argument",
           mod.point, 1, 2, 3, 4)
    raises(TypeError, "point() no value for required argument", mod.point, y=1)
    raises(TypeError, "point() got an unexpected keyword argument 'z'", mod.point, 1, z=1)
    raises(TypeError, NOT_AN_INT, mod.point, "a")


# ---- HPyArg_ParseKeywordsDict ----

def test_dict_matching(mod):
    assert D(mod, "O|O", "ab", (), {"a": 3, "b": 2}) == [3, 2]
    assert D(mod, "O|O", "ab", (3, 2), {}) == [3, 2]
    assert D(mod, "O|O", "ab", (3,), None) == [3, None]
    assert D(mod, "O|O", "ab", (), {"a": 3}) == [3, None]
    assert D(mod, "ls", "ab", (1,), {"b": "text"}) == [1, "text"]
    assert D(mod, "l$d", "ab", (1,), {"b": 2}) == [1, 2.0]
    assert D(mod, "l|l", ["", "b"], (1,), {"b": 2}) == [1, 2]


def test_dict_errors(mod):
    raises(TypeError, "function no value for required argument", D, mod, "O|O", "ab", (), {})
    raises(TypeError, "function no value for required argument", D, mod, "O|O", "ab", (), None)
    raises(TypeError, "function keyword only argument passed as positional argument",
           D, mod, "l$l", "ab", (1, 2), None)
    raises(TypeError, "function mismatched args (too many arguments for fmt)",
           D, mod, "l", "a", (1, 2), None)
    raises(TypeError, "function got multiple values for argument 'a'", D, mod, "l|l", "ab", (1,), {"a": 1})
    raises(TypeError, "function got an unexpected keyword argument 'c'", D, mod, "l|l", "ab", (1,), {"c": 1})
    raises(TypeError, "function keywords must be strings", D, mod, "l|l", "ab", (1,), {1: 1})
    raises(TypeError, "function no value for required argument", D, mod, "l|l", ["", "b"], (), {"": 1})
    raises(TypeError, None, D, mod, "l", "a", (), {"a": "x"})
    raises(SystemError, "function unicode conversion error", D, mod, "s", "a", (), {"a": "\ud800"})

    class Mapping:
        def __getitem__(self, key):
            if key == "a":
                return 11
            raise KeyError(key)
    # any mapping works (unknown keys are only checked in a dict)
    assert D(mod, "l|l", "ab", (), Mapping()) == [11, None]

    class Broken:
        def __getitem__(self, key):
            raise RuntimeError("broken mapping")
    raises(RuntimeError, "broken mapping", D, mod, "l", "a", (), Broken())


def test_dict_tracker(mod):
    o, p = object(), object()
    ro, rp = sys.getrefcount(o), sys.getrefcount(p)
    d = {"a": o, "b": p}
    assert D(mod, "OO", "ab", (), d) == [o, p]
    assert D(mod, "O|O", "ab", (o,), {"b": p}) == [o, p]
    raises(TypeError, None, D, mod, "OOl", "abc", (), {"a": o, "b": p, "c": "x"})
    raises(TypeError, None, D, mod, "OO", "ab", (), {"a": o, "b": p, "c": 1})
    del d
    gc.collect()
    assert sys.getrefcount(o) == ro and sys.getrefcount(p) == rp


# ---- C-level misuse ----

def test_misuse(mod):
    assert mod.misuse(0) == 42
    raises(SystemError, "HPyArg_Parse: NULL output pointer for format unit 'l'", mod.misuse, 1, 5)
    raises(SystemError, "HPyArg_Parse: the format string is NULL", mod.misuse, 2, 5)
    raises(SystemError, "HPyArg_ParseKeywords: the keywords array is NULL", mod.misuse, 3, 5)
    raises(SystemError, "HPyArg_ParseKeywordsDict: negative nargs (-1)", mod.misuse, 4)
    raises(SystemError, "HPyArg_Parse: args is NULL but nargs is 2", mod.misuse, 5)
    assert mod.misuse(6) == 42
    assert mod.misuse(7) == 42


# ---- handle hygiene under the debug context ----

def test_debug_no_leaks(mod):
    if mod.mode != "debug":
        pytest.skip("debug context only")
    o = object()
    with LeakDetector():
        P(mod, "lO|s", 1, o, "x")
        mod.parse_ht("O", o)
        K(mod, "O|Os", "abc", o, c="y")
        K(mod, "O|Os", "abc", o, b=o)
        D(mod, "O|Os", "abc", (o,), {"b": o, "c": "z"})
        D(mod, "l|s", "ab", (1,), {"b": "z"})
        D(mod, "l|d", "ab", (1,), {"b": 2}, ht=False)
        for bad in (lambda: K(mod, "OOl", "abc", o, o, "x"),
                    lambda: K(mod, "O", "a", o, q=1),
                    lambda: D(mod, "OOl", "abc", (), {"a": o, "b": o, "c": "x"}),
                    lambda: D(mod, "O|O", "ab", (o,), {"a": o}),
                    lambda: D(mod, "O", "a", (), {"a": o, "zz": 1}),
                    lambda: P(mod, "lZ", 1),
                    lambda: mod.point(1, z=2)):
            with pytest.raises((TypeError, SystemError)):
                bad()
