"""Unicode context members in hpy-cpython/src/text.rs: wide chars, the
filesystem encoding, ASCII/Latin-1 decoding, decoding objects, single code
points and substrings."""
import itertools
import os
import re

import pytest

_ids = itertools.count()


def build(make_module, body):
    """Compile a module whose methods are the HPyDef_METHs in `body`."""
    name = f"ctx_unicode_{next(_ids)}"
    defs = re.findall(r"HPyDef_METH\((\w+),", body)
    src = '#include <wchar.h>\n#include "hpy.h"\n' + body + """
static HPyDef *defines[] = { %s, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%s, moduledef)
""" % (", ".join("&" + d for d in defs), name)
    return make_module(src, name=name)


def test_from_wide_char(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            static const wchar_t w[] = L"h\\u00e9llo \\U0001F600!";
            return HPyUnicode_FromWideChar(ctx, w, HPyLong_AsSsize_t(ctx, arg));
        }
        HPyDef_METH(bad, "bad", HPyFunc_NOARGS)
        static HPy bad_impl(HPyContext *ctx, HPy self)
        {
            static const wchar_t w[] = { 0x110000, 0 };   /* not a code point */
            return HPyUnicode_FromWideChar(ctx, w, 1);
        }
    """)
    assert mod.f(-1) == "h\u00e9llo \U0001F600!"     # -1: NUL-terminated
    assert mod.f(5) == "h\u00e9llo"
    assert mod.f(0) == ""
    with pytest.raises(ValueError):
        mod.bad()


def test_decode_fs_default(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            const char *s = HPyBytes_AsString(ctx, arg);
            if (s == NULL)
                return HPy_NULL;
            return HPyUnicode_DecodeFSDefault(ctx, s);
        }
        HPyDef_METH(g, "g", HPyFunc_VARARGS)
        static HPy g_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            const char *s = HPyBytes_AsString(ctx, args[0]);
            if (s == NULL)
                return HPy_NULL;
            return HPyUnicode_DecodeFSDefaultAndSize(ctx, s, HPyLong_AsSsize_t(ctx, args[1]));
        }
        HPyDef_METH(e, "e", HPyFunc_O)
        static HPy e_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyUnicode_EncodeFSDefault(ctx, arg);
        }
    """)
    raw = "caf\u00e9/\u20ac.txt".encode("utf-8")
    assert mod.f(raw) == os.fsdecode(raw)
    assert mod.f(b"abc\xff") == os.fsdecode(b"abc\xff")  # surrogateescape
    assert mod.g(b"hello world", 5) == "hello"
    assert mod.g(b"a\0b", 3) == "a\0b"
    assert mod.e("caf\u00e9") == os.fsencode("caf\u00e9")
    assert mod.e("x\udcffy") == b"x\xffy"
    assert mod.e(mod.f(b"abc\xff")) == b"abc\xff"
    with pytest.raises(TypeError):
        mod.e(b"bytes")
    with pytest.raises(TypeError):
        mod.e(42)
    assert mod.e("nul\0inside") == b"nul\0inside"   # like os.fsencode


def test_read_char(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy_UCS4 c = HPyUnicode_ReadChar(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]));
            if (c == (HPy_UCS4)-1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
            return HPyLong_FromUnsignedLong(ctx, c);
        }
    """)
    s = "a\u00e9\u20ac\U0001F600"
    assert [mod.f(s, i) for i in range(4)] == [ord(c) for c in s]
    with pytest.raises(IndexError):
        mod.f(s, 4)
    with pytest.raises(IndexError):
        mod.f(s, -1)
    with pytest.raises(IndexError):
        mod.f("", 0)
    with pytest.raises(TypeError):
        mod.f(b"abc", 0)


def test_decode_ascii_latin1(make_module):
    mod = build(make_module, """
        static HPy decode(HPyContext *ctx, const HPy *args, int latin1)
        {
            HPy_ssize_t n = HPyBytes_Size(ctx, args[0]);
            const char *s = HPyBytes_AsString(ctx, args[0]);
            if (s == NULL)
                return HPy_NULL;
            const char *errors = HPy_Is(ctx, args[1], ctx->h_None) ? NULL :
                HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
            return latin1 ? HPyUnicode_DecodeLatin1(ctx, s, n, errors)
                          : HPyUnicode_DecodeASCII(ctx, s, n, errors);
        }
        HPyDef_METH(a, "a", HPyFunc_VARARGS)
        static HPy a_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return decode(ctx, args, 0);
        }
        HPyDef_METH(l, "l", HPyFunc_VARARGS)
        static HPy l_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return decode(ctx, args, 1);
        }
    """)
    assert mod.a(b"hello\0x", None) == "hello\0x"
    with pytest.raises(UnicodeDecodeError):
        mod.a(b"caf\xe9", None)
    with pytest.raises(UnicodeDecodeError):
        mod.a(b"caf\xe9", "strict")
    assert mod.a(b"caf\xe9", "replace") == "caf\ufffd"
    assert mod.a(b"caf\xe9", "ignore") == "caf"
    with pytest.raises(LookupError):
        mod.a(b"caf\xe9", "no-such-handler")
    assert mod.l(bytes(range(256)), None) == bytes(range(256)).decode("latin-1")
    assert mod.l(b"", None) == ""


def test_from_encoded_object(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            const char *enc = HPy_Is(ctx, args[1], ctx->h_None) ? NULL :
                HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
            const char *errors = HPy_Is(ctx, args[2], ctx->h_None) ? NULL :
                HPyUnicode_AsUTF8AndSize(ctx, args[2], NULL);
            return HPyUnicode_FromEncodedObject(ctx, args[0], enc, errors);
        }
        HPyDef_METH(null, "null", HPyFunc_NOARGS)
        static HPy null_impl(HPyContext *ctx, HPy self)
        {
            return HPyUnicode_FromEncodedObject(ctx, HPy_NULL, NULL, NULL);
        }
    """)
    assert mod.f("h\u00e9".encode(), None, None) == "h\u00e9"       # default UTF-8
    assert mod.f(b"h\xe9", "latin-1", None) == "h\u00e9"
    assert mod.f(bytearray(b"abc"), "ascii", None) == "abc"
    assert mod.f(memoryview(b"xyz"), None, None) == "xyz"
    assert mod.f(b"\xff", None, "replace") == "\ufffd"
    with pytest.raises(UnicodeDecodeError):
        mod.f(b"\xff", None, None)
    with pytest.raises(LookupError):
        mod.f(b"abc", "no-such-codec", None)
    with pytest.raises(TypeError):
        mod.f("already str", None, None)
    with pytest.raises(TypeError):
        mod.f(42, None, None)
    with pytest.raises(SystemError):
        mod.null()


def test_substring(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPyUnicode_Substring(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]),
                                        HPyLong_AsSsize_t(ctx, args[2]));
        }
    """)
    s = "h\u00e9llo \U0001F600 world"
    assert mod.f(s, 0, len(s)) == s
    assert mod.f(s, 1, 5) == s[1:5]
    assert mod.f(s, 6, 7) == "\U0001F600"
    assert mod.f(s, 3, 100) == s[3:]       # end is clamped
    assert mod.f(s, 5, 2) == ""
    assert mod.f(s, 100, 200) == ""
    with pytest.raises(IndexError):
        mod.f(s, -1, 3)
    with pytest.raises(IndexError):
        mod.f(s, 0, -3)
    with pytest.raises(TypeError):
        mod.f(b"bytes", 0, 1)
    with pytest.raises(TypeError):
        mod.f([1, 2, 3], 0, 1)
