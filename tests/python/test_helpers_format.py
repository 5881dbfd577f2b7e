"""HPyUnicode_FromFormat(V) and HPyErr_Format (hpy-helpers/src/format.rs):
every conversion with its flags and bounds, NULL arguments, every kind of
malformed format, errors raised by the objects formatted; also in hybrid and
debug mode."""
import itertools
import sys

import pytest

import hpy.universal
from hpy.debug import LeakDetector

from conftest import compile_hpy_module, load_hpy_module

_ids = itertools.count()

PRELUDE = r"""
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include "hpy.h"

/* HPyUnicode_FromFormatV through a variadic wrapper of our own */
static inline HPy via_v(HPyContext *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    HPy res = HPyUnicode_FromFormatV(ctx, fmt, ap);
    va_end(ap);
    return res;
}
"""


def cases_module(tmp_path, exprs, abi="universal", mode=None):
    """A module with one function per entry of `exprs` (name -> C expression
    of the HPy to return; `ctx` and the call's positional `args` in scope)."""
    name = f"fmt_{next(_ids)}"
    parts = [PRELUDE]
    for fname, expr in exprs.items():
        parts.append(f"""
HPyDef_METH(c_{fname}, "{fname}", HPyFunc_VARARGS)
static HPy c_{fname}_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{{
    return {expr};
}}
""")
    parts.append("static HPyDef *defines[] = { %s, NULL };\n"
                 % ", ".join("&c_" + f for f in exprs))
    parts.append("static HPyModuleDef moduledef = { .defines = defines };\n")
    parts.append(f"HPy_MODINIT({name}, moduledef)\n")
    so = compile_hpy_module("".join(parts), name, tmp_path, abi=abi)
    return load_hpy_module(name, so, mode=mode)


class Obj:
    def __str__(self):
        return "str-\u00e9"

    def __repr__(self):
        return "repr-\u20ac"


class Failing:
    def __str__(self):
        raise ZeroDivisionError("from __str__")

    __repr__ = __str__


# name -> (arguments of HPyUnicode_FromFormat after ctx, Python args, expected):
# expected is the str, or (exception type, exact message)
S, V, O = SystemError, ValueError, OverflowError
CASES = {
    # literal text and %%
    "plain":      ('"just text"', (), "just text"),
    "empty":      ('""', (), ""),
    "percent":    ('"100%% sure %%%d", 5', (), "100% sure %5"),
    "long_text":  ('"' + "abc" * 2000 + '%d", 1', (), "abc" * 2000 + "1"),
    # %c
    "c_ascii":    ('"[%c]", \'w\'', (), "[w]"),
    "c_latin1":   ('"%c", 0xe9', (), "\u00e9"),
    "c_bmp":      ('"%c", 0x20ac', (), "\u20ac"),
    "c_astral":   ('"%c%c", 0x1f600, 0x10ffff', (), "\U0001f600\U0010ffff"),
    "c_nul":      ('"a%cb", 0', (), "a\0b"),
    "c_surrogate": ('"%c", 0xd800', (), "\ud800"),
    "c_negative": ('"%c", -1', (), (O, "character argument not in range(0x110000)")),
    "c_too_big":  ('"%c", 0x110000', (), (O, "character argument not in range(0x110000)")),
    # integers, every size, with their bounds
    "d_int":      ('"%d %i", INT_MIN, INT_MAX', (), f"{-2**31} {2**31 - 1}"),
    "d_short":    ('"%d", (short)-7', (), "-7"),
    "u_int":      ('"%u", UINT_MAX', (), str(2**32 - 1)),
    "ld":         ('"%ld %li", LONG_MIN, LONG_MAX', (), f"{-2**63} {2**63 - 1}"),
    "lu":         ('"%lu", ULONG_MAX', (), str(2**64 - 1)),
    "lld":        ('"%lld %lli", LLONG_MIN, LLONG_MAX', (), f"{-2**63} {2**63 - 1}"),
    "llu":        ('"%llu", ULLONG_MAX', (), str(2**64 - 1)),
    "zd":         ('"%zd %zi", HPY_SSIZE_T_MIN, HPY_SSIZE_T_MAX', (), f"{-2**63} {2**63 - 1}"),
    "zu":         ('"%zu", SIZE_MAX', (), str(2**64 - 1)),
    "x":          ('"%x %x %x", 0, 255, INT_MAX', (), "0 ff 7fffffff"),
    "x_negative": ('"%x %x", -1, INT_MIN', (), "ffffffff 80000000"),
    # width, precision, 0 flag on numbers
    "i_pads":     ('"[%6d|%06d|%.4d|%6.4d|%06.4d|%2.1d|%.0d]", -42, -42, -42, -42, -42, -42, 0',
                   (), "[   -42|-00042|-0042| -0042|-00042|-42|0]"),
    "u_pads":     ('"[%4u|%04lu|%.3llu|%5.3zu]", 7u, 7ul, 7ull, (size_t)7', (),
                   "[   7|0007|007|  007]"),
    "x_pads":     ('"[%4x|%04x|%.3x|%00x]", 10, 10, 10, 10', (), "[   a|000a|00a|a]"),
    "zero_width": ('"[%0d|%00d|%0.d]", 5, 5, 5', (), "[5|5|5]"),
    # %p
    "p":          ('"%p", (void *)0xbeef', (), "0xbeef"),
    "p_null":     ('"%p", (void *)NULL', (), "0x0"),
    # %s: width in characters, precision in bytes
    "s":          ('"<%s>", "h\\xc3\\xa9llo"', (), "<h\u00e9llo>"),
    "s_width":    ('"<%4s|%1s>", "\\xc3\\xa9", "ab"', (), "<   \u00e9|ab>"),
    "s_prec":     ('"<%.2s|%5.2s|%.0s|%.s>", "abc", "abc", "abc", "abc"', (), "<ab|   ab||abc>"),
    "s_prec_cut": ('"<%.2s>", "a\\xe2\\x82\\xac"', (), "<a>"),
    "s_null":     ('"%s", (const char *)NULL', (),
                   (S, "null c string passed as value for formatting unit '%s'")),
    "s_not_utf8": ('"%s", "\\xff"', (), UnicodeDecodeError),
    # a %s argument with 0xed (which leads surrogates): a real character or
    # a surrogate, let through
    "s_ed":       ('"<%s>", "\\xed\\x95\\x9c"', (), "<\ud55c>"),
    "s_surrogate": ('"<%s>", "\\xed\\xa0\\x80"', (), "<\ud800>"),
    "s_ed_bad":   ('"%s", "\\xed\\xff"', (), UnicodeDecodeError),
    # %U, %V, %S, %R, %A: width and precision in characters
    "U":          ('"<%U|%6U|%.2U|%6.3U>", args[0], args[0], args[0], args[0]', ("\u20acur\u0398pe",),
                   "<\u20acur\u0398pe|\u20acur\u0398pe|\u20acu|   \u20acur>"),
    "U_nul":      ('"%U", args[0]', ("a\0b",), "a\0b"),
    "U_astral":   ('"%.1U", args[0]', ("\U0001f600x",), "\U0001f600"),
    "U_null":     ('"%U", HPy_NULL', (), (S, "HPy_NULL passed as value for formatting unit '%U'")),
    "U_not_str":  ('"%U", args[0]', (42,), (S, "formatting unit '%U' expects a str, not 'int'")),
    "V_obj":      ('"%V", args[0], "unused"', ("obj",), "obj"),
    "V_cstr":     ('"%4.2V", HPy_NULL, "\\xc3\\xa9t\\xc3\\xa9"', (), "   \u00e9"),
    "V_both_null": ('"%V", HPy_NULL, (const char *)NULL', (),
                    (S, "HPy_NULL and a null c string passed as values for formatting unit '%V'")),
    "V_not_str":  ('"%V", args[0], "x"', (b"x",), (S, "formatting unit '%V' expects a str, not 'bytes'")),
    "SRA":        ('"%S %R %A", args[0], args[0], args[0]', (Obj(),),
                   "str-\u00e9 repr-\u20ac repr-\\u20ac"),
    "SRA_builtin": ('"%S %R %A", args[0], args[0], args[0]', ("\u00e9",), "\u00e9 '\u00e9' '\\xe9'"),
    "SRA_width":  ('"[%6S|%.3R|%6.2A]", args[0], args[0], args[0]', ("ab",), "[    ab|'ab|    'a]"),
    "S_null":     ('"%S", HPy_NULL', (),
                   (S, "HPy_NULL passed as value for formatting unit '%S' or '%R' or '%A'")),
    "R_null":     ('"%R", HPy_NULL', (),
                   (S, "HPy_NULL passed as value for formatting unit '%S' or '%R' or '%A'")),
    "A_null":     ('"%A", HPy_NULL', (),
                   (S, "HPy_NULL passed as value for formatting unit '%S' or '%R' or '%A'")),
    "S_raises":   ('"%d %S", 1, args[0]', (Failing(),), (ZeroDivisionError, "from __str__")),
    "R_raises":   ('"%R", args[0]', (Failing(),), (ZeroDivisionError, "from __str__")),
    # malformed formats
    "unknown":    ('"%y%d", 1', (), (S, "invalid format string")),
    "unknown2":   ('"%04.2y"', (), (S, "invalid format string")),
    "late_bad":   ('"%u %? %u", 1u, 2u', (), (S, "invalid format string")),
    "pct_flags":  ('"%0%"', (), (S, "invalid format string")),
    "pct_width":  ('"%2%"', (), (S, "invalid format string")),
    "pct_prec":   ('"%.1%"', (), (S, "invalid format string")),
    "trailing":   ('"abc%"', (), (S, "invalid format string")),
    "trailing_w": ('"abc%5"', (), (S, "invalid format string")),
    "trailing_p": ('"abc%.5"', (), (S, "invalid format string")),
    "trailing_l": ('"%ll"', (), (S, "invalid format string")),
    "lx":         ('"%lx", 1L', (), (S, "invalid format string")),
    "zx":         ('"%zx", (size_t)1', (), (S, "invalid format string")),
    "ls":         ('"%ls", "a"', (), (S, "invalid format string")),
    "jd":         ('"%jd", (intmax_t)1', (), (S, "invalid format string")),
    "td":         ('"%td", (ptrdiff_t)1', (), (S, "invalid format string")),
    "X":          ('"%X", 1', (), (S, "invalid format string")),
    "minus":      ('"%-5d", 1', (), (S, "invalid format string")),
    "star":       ('"%*d", 5, 1', (), (S, "invalid format string")),
    "non_ascii":  ('"caf\\xc3\\xa9 %d", 1', (),
                   (V, "expected an ASCII-encoded format string, got a non-ASCII byte: 0xc3")),
    "non_ascii2": ('"%d \\x80", 1', (),
                   (V, "expected an ASCII-encoded format string, got a non-ASCII byte: 0x80")),
    "zero_c":     ('"%04c", 65', (), (S, "formatting unit '%c' does not support 0-padding")),
    "zero_p":     ('"%0p", (void *)0', (), (S, "formatting unit '%p' does not support 0-padding")),
    "zero_s":     ('"%05s", "a"', (), (S, "formatting unit '%s' does not support 0-padding")),
    "zero_U":     ('"%0U", args[0]', ("a",), (S, "formatting unit '%U' does not support 0-padding")),
    "zero_V":     ('"%0V", args[0], "a"', ("a",), (S, "formatting unit '%V' does not support 0-padding")),
    "zero_S":     ('"%0S", args[0]', ("a",), (S, "formatting unit '%S' does not support 0-padding")),
    "zero_R":     ('"%0R", args[0]', ("a",), (S, "formatting unit '%R' does not support 0-padding")),
    "zero_A":     ('"%0A", args[0]', ("a",), (S, "formatting unit '%A' does not support 0-padding")),
    "width_c":    ('"%2c", 65', (), (S, "formatting unit '%c' does not support width nor precision")),
    "prec_c":     ('"%.2c", 65', (), (S, "formatting unit '%c' does not support width nor precision")),
    "width_p":    ('"%8.2p", (void *)0', (), (S, "formatting unit '%p' does not support width nor precision")),
    "width_big":  ('"%9223372036854775808d", 1', (), (V, "width too big")),
    "prec_big":   ('"%.99999999999999999999d", 1', (), (V, "precision too big")),
    "width_huge": ('"%9223372036854775807d", 1', (),
                   (MemoryError, "cannot allocate memory for string format")),
    "prec_huge":  ('"%.9223372036854775000s", "a"', (), "a"),
    "null_fmt":   ('(const char *)NULL', (),
                   (S, "NULL format string passed to HPyUnicode_FromFormat")),
}


def check(mod, cases):
    for name, (_, args, expected) in cases.items():
        f = getattr(mod, name)
        if isinstance(expected, str):
            got = f(*args)
            assert type(got) is str and got == expected, (name, got, expected)
        elif isinstance(expected, tuple):
            exc, message = expected
            with pytest.raises(exc) as e:
                f(*args)
            assert str(e.value) == message, name
        else:
            with pytest.raises(expected):
                f(*args)


@pytest.mark.parametrize("abi, entry", [("universal", "HPyUnicode_FromFormat"),
                                        ("universal", "via_v"),
                                        ("hybrid", "HPyUnicode_FromFormat")])
def test_from_format(tmp_path, abi, entry):
    mod = cases_module(tmp_path, {n: f"{entry}(ctx, {c})" for n, (c, _, _) in CASES.items()}, abi=abi)
    check(mod, CASES)


def test_from_format_debug_no_leak(tmp_path):
    mod = cases_module(tmp_path, {n: f"HPyUnicode_FromFormat(ctx, {c})" for n, (c, _, _) in CASES.items()},
                       mode=hpy.universal.MODE_DEBUG)
    mod.plain()
    with LeakDetector():
        check(mod, CASES)


def test_no_reference_leak(tmp_path):
    mod = cases_module(tmp_path, {"f": 'HPyUnicode_FromFormat(ctx, "%U%V%S%R%A", '
                                       'args[0], args[0], "", args[1], args[1], args[1])'})
    s, o = "text", Obj()
    rs, ro = sys.getrefcount(s), sys.getrefcount(o)
    for _ in range(10):
        assert mod.f(s, o) == "texttextstr-\u00e9repr-\u20acrepr-\\u20ac"
    assert sys.getrefcount(s) == rs and sys.getrefcount(o) == ro


ERR_FORMAT = {
    "value":      'HPyErr_Format(ctx, ctx->h_ValueError, "bad %S: %d%%", args[0], 42)',
    "custom":     'HPyErr_Format(ctx, args[0], "%s-%R", "x", args[1])',
    "replaces":   '(HPyErr_SetString(ctx, ctx->h_KeyError, "old"), '
                  'HPyErr_Format(ctx, ctx->h_TypeError, "new %U", args[0]))',
    "fmt_error":  'HPyErr_Format(ctx, ctx->h_ValueError, "%d %y", 1)',
    "obj_error":  'HPyErr_Format(ctx, ctx->h_ValueError, "%S", args[0])',
    "null_type":  'HPyErr_Format(ctx, HPy_NULL, "x")',
    "null_fmt":   'HPyErr_Format(ctx, ctx->h_ValueError, (const char *)NULL)',
    "returns":    '(HPy_IsNull(HPyErr_Format(ctx, ctx->h_ValueError, "x")) ? '
                  '(HPyErr_Clear(ctx), HPyUnicode_FromString(ctx, "returned HPy_NULL")) : HPy_NULL)',
}


class MyError(Exception):
    pass


def check_err_format(mod):
    with pytest.raises(ValueError) as e:
        mod.value("thing")
    assert str(e.value) == "bad thing: 42%" and e.value.args == ("bad thing: 42%",)
    with pytest.raises(MyError) as e:
        mod.custom(MyError, [1])
    assert str(e.value) == "x-[1]"
    with pytest.raises(TypeError) as e:
        mod.replaces("it")
    assert str(e.value) == "new it" and e.value.__context__ is None
    # a formatting failure is the error raised
    with pytest.raises(SystemError, match="^invalid format string$"):
        mod.fmt_error()
    with pytest.raises(ZeroDivisionError, match="from __str__"):
        mod.obj_error(Failing())
    with pytest.raises(SystemError, match="^HPy_NULL exception type passed to HPyErr_Format$"):
        mod.null_type()
    with pytest.raises(SystemError, match="^NULL format string passed to HPyErr_Format$"):
        mod.null_fmt()
    assert mod.returns() == "returned HPy_NULL"


@pytest.mark.parametrize("abi", ["universal", "hybrid"])
def test_err_format(tmp_path, abi):
    check_err_format(cases_module(tmp_path, ERR_FORMAT, abi=abi))


def test_err_format_debug_no_leak(tmp_path):
    mod = cases_module(tmp_path, ERR_FORMAT, mode=hpy.universal.MODE_DEBUG)
    mod.returns()
    with LeakDetector():
        check_err_format(mod)
