"""Globals, context variables, compile/eval, leaving and re-entering Python
execution, HPyType_GetName / HPyType_IsSubtype (hpy-cpython/src/misc.rs),
plus the builtin shape of types HPy did not create."""
import abc
import collections
import contextvars
import itertools
import re
import sys
import threading

import pytest

_ids = itertools.count()


def build(make_module, body, globals_=()):
    """Compile a module whose methods are the HPyDef_METHs in `body` and whose
    HPyGlobals are `globals_`."""
    name = f"ctx_misc_{next(_ids)}"
    defs = re.findall(r"HPyDef_METH\((\w+),", body)
    src = '#include <unistd.h>\n#include "hpy.h"\n' + body + """
static HPyDef *defines[] = { %s, NULL };
static HPyGlobal *globals[] = { %s NULL };
static HPyModuleDef moduledef = { .defines = defines, .globals = globals };
HPy_MODINIT(%s, moduledef)
""" % (", ".join("&" + d for d in defs), "".join("&%s, " % g for g in globals_), name)
    return make_module(src, name=name)


# ---- HPyGlobal ----

def test_global_store_load(make_module):
    mod = build(make_module, """
        static HPyGlobal g1, g2;
        HPyDef_METH(store, "store", HPyFunc_VARARGS)
        static HPy store_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPyGlobal_Store(ctx, HPyLong_AsLong(ctx, args[0]) == 1 ? &g1 : &g2, args[1]);
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(load, "load", HPyFunc_O)
        static HPy load_impl(HPyContext *ctx, HPy self, HPy which)
        {
            return HPyGlobal_Load(ctx, HPyLong_AsLong(ctx, which) == 1 ? g1 : g2);
        }
    """, globals_=("g1", "g2"))
    a, b = object(), object()
    ra, rb = sys.getrefcount(a), sys.getrefcount(b)
    mod.store(1, a)
    assert sys.getrefcount(a) == ra + 1        # the global owns a reference
    assert mod.load(1) is a
    assert mod.load(1) is a
    assert sys.getrefcount(a) == ra + 1        # Load returns a new handle, no leak
    mod.store(2, "second")
    assert mod.load(2) == "second" and mod.load(1) is a
    mod.store(1, b)                            # replacing releases the old value
    assert sys.getrefcount(a) == ra
    assert sys.getrefcount(b) == rb + 1
    assert mod.load(1) is b
    mod.store(1, b)                            # storing the same object again
    assert sys.getrefcount(b) == rb + 1
    mod.store(1, None)
    assert sys.getrefcount(b) == rb
    assert mod.load(1) is None


# ---- context variables ----

CONTEXTVAR_SRC = """
    HPyDef_METH(new, "new", HPyFunc_VARARGS)
    static HPy new_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
        if (name == NULL)
            return HPy_NULL;
        return HPyContextVar_New(ctx, name, nargs > 1 ? args[1] : HPy_NULL);
    }
    /* get(var[, default]) -> ("value", v) or ("missing",) */
    HPyDef_METH(get, "get", HPyFunc_VARARGS)
    static HPy get_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPy result = HPy_NULL;
        if (HPyContextVar_Get(ctx, args[0], nargs > 1 ? args[1] : HPy_NULL, &result) < 0) {
            if (!HPy_IsNull(result))
                HPyErr_SetString(ctx, ctx->h_AssertionError, "result not NULL on error");
            return HPy_NULL;
        }
        if (HPy_IsNull(result))
            return HPyUnicode_FromString(ctx, "<missing>");
        return result;
    }
    HPyDef_METH(set, "set", HPyFunc_VARARGS)
    static HPy set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPyContextVar_Set(ctx, args[0], args[1]);
    }
"""


def test_contextvar(make_module):
    mod = build(make_module, CONTEXTVAR_SRC)
    v = mod.new("my_var")
    assert isinstance(v, contextvars.ContextVar) and v.name == "my_var"
    assert mod.get(v) == "<missing>"
    assert mod.get(v, 42) == 42
    tok = mod.set(v, "hello")
    assert isinstance(tok, contextvars.Token) and tok.var is v
    assert mod.get(v) == "hello" and v.get() == "hello"
    assert mod.get(v, 42) == "hello"
    v.reset(tok)
    assert mod.get(v) == "<missing>"

    d = mod.new("with_default", 7)
    assert d.get() == 7 and mod.get(d) == 7
    assert mod.get(d, 8) == 8          # the explicit default wins
    # values are per-context
    ctx = contextvars.copy_context()
    ctx.run(mod.set, d, "inner")
    assert ctx[d] == "inner" and mod.get(d) == 7

    with pytest.raises(TypeError):
        mod.get("not a var")
    with pytest.raises(TypeError):
        mod.set(42, 1)
    with pytest.raises(TypeError):
        mod.new(123)                   # name must be a string


# ---- compile and eval ----

EVAL_SRC = """
    HPyDef_METH(compile, "compile", HPyFunc_VARARGS)
    static HPy compile_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        const char *src = HPyUnicode_AsUTF8AndSize(ctx, args[0], NULL);
        const char *fn = HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
        long kind = HPyLong_AsLong(ctx, args[2]);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
        return HPy_Compile_s(ctx, src, fn, (HPy_SourceKind)kind);
    }
    HPyDef_METH(eval, "eval", HPyFunc_VARARGS)
    static HPy eval_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        return HPy_EvalCode(ctx, args[0], args[1], nargs > 2 ? args[2] : HPy_NULL);
    }
"""


def test_compile(make_module):
    mod = build(make_module, EVAL_SRC)
    c = mod.compile("1 + 2", "expr.py", 0)                 # HPy_SourceKind_Expr
    assert c.co_filename == "expr.py" and eval(c) == 3
    c = mod.compile("x = 1\ny = x + 1\n", "file.py", 1)      # HPy_SourceKind_File
    ns = {}
    assert eval(c, ns) is None and ns["y"] == 2
    c = mod.compile("z = 5", "single.py", 2)                # HPy_SourceKind_Single
    ns = {}
    exec(c, ns)
    assert ns["z"] == 5
    with pytest.raises(SyntaxError):
        mod.compile("1 +.", "bad.py", 0)
    with pytest.raises(SyntaxError):
        mod.compile("x = 1", "stmt.py", 0)                   # not an expression
    with pytest.raises(SystemError, match="invalid source kind"):
        mod.compile("1 + 2", "kind.py", 777)
    with pytest.raises(SystemError, match="invalid source kind"):
        mod.compile("1 + 2", "kind.py", -1)


def test_eval_code(make_module):
    mod = build(make_module, EVAL_SRC)
    assert mod.eval(compile("a + b", "e.py", "eval"), {}, {"a": 2, "b": 3}) == 5
    loc = {"a": 10, "b": 20}
    assert mod.eval(compile("x = a + b", "e.py", "exec"), {}, loc) is None
    assert loc["x"] == 30
    g = {"a": 1}
    assert mod.eval(compile("b = a * 5", "e.py", "exec"), g) is None   # locals NULL
    assert g["b"] == 5
    c = mod.compile("len('abc') + q", "e.py", 0)
    if sys.version_info >= (3, 10):
        assert mod.eval(c, {"q": 1}, {}) == 4              # builtins found
    else:
        # before 3.10, PyEval_EvalCode gave globals without __builtins__
        # a namespace of builtins holding only None
        with pytest.raises(NameError, match="len"):
            mod.eval(c, {"q": 1}, {})
        assert mod.eval(c, {"q": 1, "__builtins__": __builtins__}, {}) == 4
    assert mod.eval(compile("k", "e.py", "eval"), {}, collections.ChainMap({"k": 9})) == 9
    with pytest.raises(ValueError):
        mod.eval(compile("raise ValueError", "e.py", "exec"), {"__builtins__": __builtins__}, {})
    with pytest.raises(NameError):
        mod.eval(compile("undefined_name", "e.py", "eval"), {}, {})
    with pytest.raises(TypeError, match="code object"):
        mod.eval("1 + 2", {}, {})
    with pytest.raises(TypeError, match="globals must be a dict"):
        mod.eval(compile("1", "e.py", "eval"), [], {})
    with pytest.raises(TypeError, match="locals must be a mapping"):
        mod.eval(compile("1", "e.py", "eval"), {}, 42)


# ---- leaving Python execution ----

def test_leave_reenter_python(make_module):
    mod = build(make_module, """
        static volatile int flag;
        /* releases the GIL and waits (up to ~5s) for another thread to call
           poke(); that thread can only run if the GIL was released */
        HPyDef_METH(wait_for_poke, "wait_for_poke", HPyFunc_NOARGS)
        static HPy wait_for_poke_impl(HPyContext *ctx, HPy self)
        {
            int seen = 0;
            HPy_BEGIN_LEAVE_PYTHON(ctx)
            for (int i = 0; i < 5000 && !seen; i++) {
                seen = flag;
                usleep(1000);
            }
            HPy_END_LEAVE_PYTHON(ctx)
            flag = 0;
            return HPyBool_FromLong(ctx, seen);   /* usable again after reentering */
        }
        HPyDef_METH(poke, "poke", HPyFunc_NOARGS)
        static HPy poke_impl(HPyContext *ctx, HPy self)
        {
            flag = 1;
            return HPy_Dup(ctx, ctx->h_None);
        }
        HPyDef_METH(explicit, "explicit", HPyFunc_NOARGS)
        static HPy explicit_impl(HPyContext *ctx, HPy self)
        {
            HPyThreadState st = HPy_LeavePythonExecution(ctx);
            HPy_ReenterPythonExecution(ctx, st);
            return HPyLong_FromLong(ctx, 42);
        }
    """)
    assert mod.explicit() == 42
    started = threading.Event()

    def poker():
        started.wait()
        mod.poke()
    t = threading.Thread(target=poker)
    t.start()
    started.set()
    assert mod.wait_for_poke() is True
    t.join()


# ---- types ----

TYPE_SRC = """
    HPyDef_METH(name, "name", HPyFunc_O)
    static HPy name_impl(HPyContext *ctx, HPy self, HPy t)
    {
        const char *n = HPyType_GetName(ctx, t);
        if (n == NULL)
            return HPy_NULL;
        return HPyUnicode_FromString(ctx, n);
    }
    HPyDef_METH(is_subtype, "is_subtype", HPyFunc_VARARGS)
    static HPy is_subtype_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        int r = HPyType_IsSubtype(ctx, args[0], args[1]);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;    /* never fails */
        return HPyLong_FromLong(ctx, r);
    }
"""


def test_type_get_name(make_module):
    mod = build(make_module, TYPE_SRC)
    assert mod.name(int) == "int"
    assert mod.name(type) == "type"
    assert mod.name(collections.OrderedDict) == "OrderedDict"   # static, dotted tp_name
    assert mod.name(threading.Thread) == "Thread"

    class Local:
        pass
    assert mod.name(Local) == "Local"
    Local.__name__ = "Renamed"          # heap types read ht_name
    assert mod.name(Local) == "Renamed"
    assert mod.name(type("dyn.amic", (), {})) == "dyn.amic"
    with pytest.raises(TypeError):
        mod.name(42)
    with pytest.raises(TypeError):
        mod.name("int")


def test_type_is_subtype(make_module):
    mod = build(make_module, TYPE_SRC)
    assert mod.is_subtype(bool, int)
    assert mod.is_subtype(int, int)
    assert mod.is_subtype(int, object)
    assert not mod.is_subtype(int, bool)
    assert not mod.is_subtype(str, int)

    class Base(abc.ABC):
        pass
    Base.register(int)
    assert issubclass(int, Base)
    assert not mod.is_subtype(int, Base)    # no __subclasscheck__

    class Derived(Base):
        pass
    assert mod.is_subtype(Derived, Base)
    # non-types: false, never an error
    assert mod.is_subtype(1, int) == 0
    assert mod.is_subtype(int, 1) == 0


# ---- builtin shape of types that HPy did not create ----

def test_builtin_shape_of_non_hpy_types(make_module):
    """Types not made by HPyType_FromSpec report the Legacy shape (-1); a
    non-type is an error (-2 with an exception set)."""
    mod = build(make_module, """
        HPyDef_METH(shape, "shape", HPyFunc_O)
        static HPy shape_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPyType_BuiltinShape s = _HPyType_GetBuiltinShape(ctx, arg);
            if (s == (HPyType_BuiltinShape)-2)
                return HPy_NULL;
            return HPyLong_FromLong(ctx, (long)s);
        }
    """)
    assert mod.shape(int) == -1
    assert mod.shape(dict) == -1
    with pytest.raises(TypeError):
        mod.shape(1)
