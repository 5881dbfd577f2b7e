"""Context members for errors: errno-based errors, new exception classes,
warnings and unraisable exceptions (hpy-cpython/src/err.rs)."""
import errno
import itertools
import re
import sys
import warnings

import pytest

_ids = itertools.count()


def build(make_module, body):
    """Compile a module whose methods are the HPyDef_METHs in `body`."""
    name = f"ctx_err_{next(_ids)}"
    defs = re.findall(r"HPyDef_METH\((\w+),", body)
    src = '#include <errno.h>\n#include "hpy.h"\n' + body + """
static HPyDef *defines[] = { %s, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%s, moduledef)
""" % (", ".join("&" + d for d in defs), name)
    return make_module(src, name=name)


def test_set_from_errno_with_filename(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            const char *fn = HPy_Is(ctx, arg, ctx->h_None) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, arg, NULL);
            errno = ENOENT;
            HPy r = HPyErr_SetFromErrnoWithFilename(ctx, ctx->h_OSError, fn);
            if (!HPy_IsNull(r))
                return HPyUnicode_FromString(ctx, "not NULL!");
            return HPy_NULL;
        }
        HPyDef_METH(g, "g", HPyFunc_NOARGS)
        static HPy g_impl(HPyContext *ctx, HPy self)
        {
            errno = EACCES;
            return HPyErr_SetFromErrnoWithFilename(ctx, ctx->h_ValueError, "x.txt");
        }
    """)
    with pytest.raises(FileNotFoundError) as e:
        mod.f("some/file.txt")
    assert e.value.errno == errno.ENOENT
    assert e.value.filename == "some/file.txt"
    assert e.value.strerror
    with pytest.raises(FileNotFoundError) as e:
        mod.f(None)
    assert e.value.filename is None
    with pytest.raises(ValueError) as e:
        mod.g()
    assert e.value.args[0] == errno.EACCES and e.value.args[2] == "x.txt"


def test_set_from_errno_with_filename_objects(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy f1 = HPy_Is(ctx, args[0], ctx->h_None) ? HPy_NULL : args[0];
            HPy f2 = HPy_Is(ctx, args[1], ctx->h_None) ? HPy_NULL : args[1];
            errno = EEXIST;
            return HPyErr_SetFromErrnoWithFilenameObjects(ctx, ctx->h_OSError, f1, f2);
        }
        HPyDef_METH(g, "g", HPyFunc_O)
        static HPy g_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            errno = EPERM;
            return HPyErr_SetFromErrnoWithFilenameObject(ctx, ctx->h_OSError, arg);
        }
        HPyDef_METH(h, "h", HPyFunc_NOARGS)
        static HPy h_impl(HPyContext *ctx, HPy self)
        {
            errno = ENOENT;
            return HPyErr_SetFromErrno(ctx, ctx->h_OSError);
        }
    """)
    with pytest.raises(FileExistsError) as e:
        mod.f("a", "b")
    assert (e.value.errno, e.value.filename, e.value.filename2) == (errno.EEXIST, "a", "b")
    with pytest.raises(FileExistsError) as e:
        mod.f(None, None)
    assert e.value.filename is None and e.value.filename2 is None
    with pytest.raises(PermissionError) as e:
        mod.g("p")
    assert e.value.filename == "p"
    with pytest.raises(FileNotFoundError):
        mod.h()


def test_new_exception(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
            if (name == NULL)
                return HPy_NULL;
            HPy base = HPy_Is(ctx, args[1], ctx->h_None) ? HPy_NULL : args[1];
            HPy dict = HPy_Is(ctx, args[2], ctx->h_None) ? HPy_NULL : args[2];
            if (nargs == 4) {
                const char *doc = HPy_Is(ctx, args[3], ctx->h_None) ? NULL :
                    HPyUnicode_AsUTF8AndSize(ctx, args[3], NULL);
                return HPyErr_NewExceptionWithDoc(ctx, name, doc, base, dict);
            }
            return HPyErr_NewException(ctx, name, base, dict);
        }
    """)
    E = mod.f("mymod.MyError", None, None)
    assert issubclass(E, Exception) and E.__name__ == "MyError" and E.__module__ == "mymod"
    E2 = mod.f("mymod.Sub", E, {"x": 1})
    assert issubclass(E2, E) and E2.x == 1
    E3 = mod.f("mymod.Multi", (KeyError, E), None)
    assert issubclass(E3, KeyError) and issubclass(E3, E)
    D = mod.f("mymod.Doc", None, None, "the docstring")
    assert D.__doc__ == "the docstring"
    D2 = mod.f("mymod.NoDoc", ValueError, None, None)
    assert D2.__doc__ is None and issubclass(D2, ValueError)
    with pytest.raises(SystemError):
        mod.f("nodot", None, None)          # name must be module.Name
    with pytest.raises(SystemError):
        mod.f("nodot", None, None, "doc")
    with pytest.raises(TypeError):
        mod.f("m.Bad", None, None, 42)       # doc must be str (AsUTF8 fails)


def test_warn_ex(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy cat = HPy_Is(ctx, args[0], ctx->h_None) ? HPy_NULL : args[0];
            const char *msg = HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
            if (HPyErr_WarnEx(ctx, cat, msg, HPyLong_AsSsize_t(ctx, args[2])) < 0)
                return HPy_NULL;
            return HPy_Dup(ctx, ctx->h_None);
        }
    """)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert mod.f(UserWarning, "careful", 1) is None
        assert mod.f(None, "default category", 1) is None
        assert mod.f(DeprecationWarning, "old", 2) is None
    assert [(x.category, str(x.message)) for x in w] == [
        (UserWarning, "careful"), (RuntimeWarning, "default category"),
        (DeprecationWarning, "old")]
    # a C function has no frame: stack_level 1 is the Python caller of mod.f,
    # stack_level 2 the caller's caller (pytest)
    assert w[0].filename == __file__
    assert w[2].filename != __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="boom"):
            mod.f(UserWarning, "boom", 1)


def test_write_unraisable(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPyErr_SetString(ctx, ctx->h_ValueError, "lost error");
            HPyErr_WriteUnraisable(ctx, HPy_Is(ctx, arg, ctx->h_None) ? HPy_NULL : arg);
            if (HPyErr_Occurred(ctx))
                return HPy_NULL;   /* must have been cleared */
            return HPyLong_FromLong(ctx, 7);
        }
    """)
    seen = []
    old = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        assert mod.f("ctx object") == 7
        assert mod.f(None) == 7
    finally:
        sys.unraisablehook = old
    assert len(seen) == 2
    assert seen[0].exc_type is ValueError and str(seen[0].exc_value) == "lost error"
    assert seen[0].object == "ctx object"
    assert seen[1].object is None
