"""Capsules (hpy-cpython/src/capsule.rs) and the HPyFunc_CAPSULE_DESTRUCTOR
case of ctx_CallRealFunctionFromTrampoline (hpy-universal/src/trampoline.rs)."""
import gc
import itertools
import re

import pytest

_ids = itertools.count()


def build(make_module, body):
    """Compile a module whose methods are the HPyDef_METHs in `body`."""
    name = f"ctx_capsule_{next(_ids)}"
    defs = re.findall(r"HPyDef_METH\((\w+),", body)
    src = '#include <string.h>\n#include "hpy.h"\n' + body + """
static HPyDef *defines[] = { %s, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%s, moduledef)
""" % (", ".join("&" + d for d in defs), name)
    return make_module(src, name=name)


SRC = r"""
    static int payload[4];              /* capsule pointers are &payload[i] */
    static char names[4][16] = { "cap.zero", "cap.one", "cap.two", "cap.three" };
    static int context_value[4];

    static long index_of(void *p, void *base, size_t elem, int n)
    {
        for (int i = 0; i < n; i++)
            if (p == (char *)base + i * elem)
                return i;
        return -1;
    }
    static HPy ssize(HPyContext *ctx, long v) { return HPyLong_FromLong(ctx, v); }
    static HPy none(HPyContext *ctx) { return HPy_Dup(ctx, ctx->h_None); }
    /* a string argument, or NULL for None */
    static const char *opt_str(HPyContext *ctx, HPy h)
    {
        return HPy_Is(ctx, h, ctx->h_None) ? NULL : HPyUnicode_AsUTF8AndSize(ctx, h, NULL);
    }

    /* what the destructor saw last: indices of name, pointer and context */
    static long log_calls, log_name = -9, log_ptr = -9, log_ctx = -9;
    HPyCapsule_DESTRUCTOR(my_destructor)
    static void my_destructor_impl(const char *name, void *pointer, void *context)
    {
        log_calls++;
        log_name = name == NULL ? -1 : index_of((void *)name, names, sizeof(names[0]), 4);
        log_ptr = index_of(pointer, payload, sizeof(int), 4);
        log_ctx = context == NULL ? -1 : index_of(context, context_value, sizeof(int), 4);
    }
    static HPyCapsule_Destructor broken1 = { NULL, my_destructor_impl };
    static HPyCapsule_Destructor broken2 = { my_destructor_trampoline, NULL };

    HPyDef_METH(destructor_log, "destructor_log", HPyFunc_NOARGS)
    static HPy destructor_log_impl(HPyContext *ctx, HPy self)
    {
        HPy items[4] = { ssize(ctx, log_calls), ssize(ctx, log_name),
                         ssize(ctx, log_ptr), ssize(ctx, log_ctx) };
        HPy r = HPyTuple_FromArray(ctx, items, 4);
        for (int i = 0; i < 4; i++)
            HPy_Close(ctx, items[i]);
        log_calls = 0; log_name = log_ptr = log_ctx = -9;
        return r;
    }

    static HPyCapsule_Destructor *pick_destructor(long d)
    {
        switch (d) {
        case 1: return &my_destructor;
        case 2: return &broken1;
        case 3: return &broken2;
        default: return NULL;
        }
    }

    /* new(ptr_index or -1 for NULL, name_index or -1 for NULL, destructor 0..3) */
    HPyDef_METH(new, "new", HPyFunc_VARARGS)
    static HPy new_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long p = HPyLong_AsLong(ctx, args[0]), n = HPyLong_AsLong(ctx, args[1]);
        long d = HPyLong_AsLong(ctx, args[2]);
        return HPyCapsule_New(ctx, p < 0 ? NULL : &payload[p], n < 0 ? NULL : names[n],
                              pick_destructor(d));
    }

    /* get_pointer(capsule, name or None) -> payload index */
    HPyDef_METH(get_pointer, "get_pointer", HPyFunc_VARARGS)
    static HPy get_pointer_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        void *p = HPyCapsule_GetPointer(ctx, args[0], opt_str(ctx, args[1]));
        if (p == NULL)
            return HPy_NULL;
        return ssize(ctx, index_of(p, payload, sizeof(int), 4));
    }

    HPyDef_METH(get_name, "get_name", HPyFunc_O)
    static HPy get_name_impl(HPyContext *ctx, HPy self, HPy c)
    {
        const char *name = HPyCapsule_GetName(ctx, c);
        if (name == NULL)
            return HPyErr_Occurred(ctx) ? HPy_NULL : none(ctx);
        return HPyUnicode_FromString(ctx, name);
    }

    HPyDef_METH(get_context, "get_context", HPyFunc_O)
    static HPy get_context_impl(HPyContext *ctx, HPy self, HPy c)
    {
        void *p = HPyCapsule_GetContext(ctx, c);
        if (p == NULL)
            return HPyErr_Occurred(ctx) ? HPy_NULL : none(ctx);
        return ssize(ctx, index_of(p, context_value, sizeof(int), 4));
    }

    /* get_raw(capsule, key): the generic accessor with any key */
    HPyDef_METH(get_raw, "get_raw", HPyFunc_VARARGS)
    static HPy get_raw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        void *p = HPyCapsule_Get(ctx, args[0], (_HPyCapsule_key)HPyLong_AsLong(ctx, args[1]), NULL);
        if (p == NULL && HPyErr_Occurred(ctx))
            return HPy_NULL;
        return none(ctx);
    }

    /* set(capsule, key, value): value is an index (-1 = NULL) */
    HPyDef_METH(set, "set", HPyFunc_VARARGS)
    static HPy set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        long key = HPyLong_AsLong(ctx, args[1]), v = HPyLong_AsLong(ctx, args[2]);
        int r;
        switch (key) {
        case 0: r = HPyCapsule_SetPointer(ctx, args[0], v < 0 ? NULL : &payload[v]); break;
        case 1: r = HPyCapsule_SetName(ctx, args[0], v < 0 ? NULL : names[v]); break;
        case 2: r = HPyCapsule_SetContext(ctx, args[0], v < 0 ? NULL : &context_value[v]); break;
        case 3: r = HPyCapsule_SetDestructor(ctx, args[0], pick_destructor(v)); break;
        default: r = HPyCapsule_Set(ctx, args[0], (_HPyCapsule_key)key, NULL);
        }
        if (r < 0)
            return HPy_NULL;
        return none(ctx);
    }

    HPyDef_METH(is_valid, "is_valid", HPyFunc_VARARGS)
    static HPy is_valid_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        int r = HPyCapsule_IsValid(ctx, args[0], opt_str(ctx, args[1]));
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;   /* IsValid never fails */
        return HPyBool_FromLong(ctx, r);
    }
"""

POINTER, NAME, CONTEXT, DESTRUCTOR = 0, 1, 2, 3


@pytest.fixture
def mod(make_module):
    m = build(make_module, SRC)
    m.destructor_log()
    return m


def test_new_and_get(mod):
    c = mod.new(1, 2, 0)
    assert type(c).__name__ == "PyCapsule"
    assert mod.get_pointer(c, "cap.two") == 1
    assert mod.get_name(c) == "cap.two"
    assert mod.get_context(c) is None
    anon = mod.new(3, -1, 0)
    assert mod.get_pointer(anon, None) == 3
    assert mod.get_name(anon) is None
    with pytest.raises(ValueError):
        mod.get_pointer(c, "cap.one")      # wrong name
    with pytest.raises(ValueError):
        mod.get_pointer(c, None)
    with pytest.raises(ValueError):
        mod.get_pointer(anon, "cap.one")
    with pytest.raises(ValueError):
        mod.new(-1, 0, 0)                  # NULL pointer
    for not_a_capsule in ("hello", 42, None):
        with pytest.raises(ValueError):
            mod.get_pointer(not_a_capsule, None)
        with pytest.raises(ValueError):
            mod.get_name(not_a_capsule)
        with pytest.raises(ValueError):
            mod.get_context(not_a_capsule)
    with pytest.raises(ValueError, match="HPyCapsule_key_Destructor"):
        mod.get_raw(c, DESTRUCTOR)
    with pytest.raises(SystemError):
        mod.get_raw(c, 99)
    assert mod.get_raw(c, CONTEXT) is None


def test_is_valid(mod):
    c = mod.new(0, 0, 0)
    assert mod.is_valid(c, "cap.zero") is True
    assert mod.is_valid(c, "cap.one") is False
    assert mod.is_valid(c, None) is False
    anon = mod.new(0, -1, 0)
    assert mod.is_valid(anon, None) is True
    assert mod.is_valid(anon, "cap.zero") is False
    assert mod.is_valid("hello", None) is False
    assert mod.is_valid(42, "cap.zero") is False


def test_set(mod):
    c = mod.new(0, 0, 0)
    assert mod.set(c, POINTER, 2) is None
    assert mod.get_pointer(c, "cap.zero") == 2
    assert mod.set(c, NAME, 3) is None
    assert mod.get_name(c) == "cap.three"
    assert mod.get_pointer(c, "cap.three") == 2
    assert mod.set(c, NAME, -1) is None
    assert mod.get_name(c) is None
    assert mod.set(c, CONTEXT, 1) is None
    assert mod.get_context(c) == 1
    assert mod.set(c, CONTEXT, -1) is None
    assert mod.get_context(c) is None
    with pytest.raises(ValueError):
        mod.set(c, POINTER, -1)            # NULL pointer
    assert mod.get_pointer(c, None) == 2   # unchanged
    with pytest.raises(SystemError):
        mod.set(c, 42, 0)                  # invalid key
    for key in (POINTER, NAME, CONTEXT, DESTRUCTOR):
        with pytest.raises(ValueError):
            mod.set("not a capsule", key, 0)


def test_destructor(mod):
    c = mod.new(2, 1, 1)
    mod.set(c, CONTEXT, 3)
    del c
    gc.collect()
    assert mod.destructor_log() == (1, 1, 2, 3)   # calls, name, pointer, context
    c = mod.new(0, -1, 1)
    del c
    assert mod.destructor_log() == (1, -1, 0, -1)
    # no destructor: nothing is called
    c = mod.new(0, 0, 0)
    del c
    assert mod.destructor_log()[0] == 0


def test_set_destructor(mod):
    c = mod.new(1, 0, 0)
    assert mod.set(c, DESTRUCTOR, 1) is None
    del c
    assert mod.destructor_log() == (1, 0, 1, -1)
    c = mod.new(1, 0, 1)
    assert mod.set(c, DESTRUCTOR, 0) is None      # NULL removes it
    del c
    assert mod.destructor_log()[0] == 0


def test_invalid_destructor(mod):
    with pytest.raises(ValueError, match="Invalid HPyCapsule destructor"):
        mod.new(0, 0, 2)
    with pytest.raises(ValueError, match="Invalid HPyCapsule destructor"):
        mod.new(0, 0, 3)
    c = mod.new(0, 0, 1)
    with pytest.raises(ValueError, match="Invalid HPyCapsule destructor"):
        mod.set(c, DESTRUCTOR, 2)
    del c   # the original destructor is still in place
    assert mod.destructor_log()[0] == 1
