"""Malformed HPyType_Spec and HPyType_SpecParam input: each is a Python
exception with a message saying what is wrong, never a crash."""
import re

import pytest

from conftest import compile_hpy_module, load_hpy_module

SOURCE = r"""
#include "hpy.h"
#include <stddef.h>

typedef struct { long v; } BObject;

HPyDef_MEMBER(B_badmember, "bad", (HPyMember_FieldType)999, offsetof(BObject, v))
static HPyDef B_badkind = { .kind = (HPyDef_Kind)77 };
static HPyDef B_badslot = { .kind = HPyDef_Kind_Slot,
    .slot = { .slot = (HPySlot_Slot)9999, .impl = (HPyCFunction)1, .cpy_trampoline = (void *)1 } };
static HPyDef B_nullname_meth = { .kind = HPyDef_Kind_Meth,
    .meth = { .name = NULL, .impl = (HPyCFunction)1, .cpy_trampoline = (void *)1,
              .signature = HPyFunc_NOARGS } };

static HPyDef *badmember_defs[] = { &B_badmember, NULL };
static HPyDef *badkind_defs[] = { &B_badkind, NULL };
static HPyDef *badslot_defs[] = { &B_badslot, NULL };
static HPyDef *nullname_defs[] = { &B_nullname_meth, NULL };

static HPyType_Spec specs[] = {
    /* 0 */ { .name = NULL, .basicsize = sizeof(BObject) },
    /* 1 */ { .name = "m.B1", .basicsize = sizeof(BObject), .defines = badmember_defs },
    /* 2 */ { .name = "m.B2", .basicsize = sizeof(BObject), .defines = badkind_defs },
    /* 3 */ { .name = "m.B3", .basicsize = sizeof(BObject), .defines = badslot_defs },
    /* 4 */ { .name = "m.B4", .basicsize = -8 },
    /* 5 */ { .name = "m.B5", .basicsize = sizeof(BObject), .itemsize = -1 },
    /* 6 */ { .name = "m.B6", .basicsize = sizeof(BObject), .defines = nullname_defs },
    /* 7 */ { .name = "m.Ok", .basicsize = sizeof(BObject) },
    /* a pointer that must never be read: .legacy_slots without the legacy shape */
    /* 8 */ { .name = "m.B8", .basicsize = sizeof(BObject), .legacy_slots = (void *)1 },
    /* 9 */ { .name = "m.B9", .basicsize = sizeof(BObject), .legacy_slots = (void *)1,
              .builtin_shape = HPyType_BuiltinShape_Long },
    /* 10 */ { .name = "m.B10", .basicsize = sizeof(BObject), .legacy_slots = (void *)1,
               .builtin_shape = (HPyType_BuiltinShape)42 },
};

HPyDef_METH(make, "make", HPyFunc_O)
static HPy make_impl(HPyContext *ctx, HPy self, HPy arg)
{
    long i = HPyLong_AsLong(ctx, arg);
    if (i < 0)
        return HPyType_FromSpec(ctx, NULL, NULL);
    return HPyType_FromSpec(ctx, &specs[i], NULL);
}

/* make_params(kind1, value1, kind2, value2, ...) on the good spec;
   a value of Ellipsis (...) is passed as HPy_NULL */
HPyDef_METH(make_params, "make_params", HPyFunc_VARARGS)
static HPy make_params_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPyType_SpecParam params[4];
    size_t i, n = 0;
    for (i = 0; i + 1 < nargs && n < 3; i += 2, n++) {
        params[n].kind = (HPyType_SpecParam_Kind)HPyLong_AsLong(ctx, args[i]);
        params[n].object = HPy_Is(ctx, args[i + 1], ctx->h_Ellipsis) ? HPy_NULL : args[i + 1];
    }
    params[n].kind = (HPyType_SpecParam_Kind)0;
    params[n].object = HPy_NULL;
    return HPyType_FromSpec(ctx, &specs[7], params);
}

static HPyDef *defines[] = { &make, &make_params, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(badspecs, moduledef)
"""

BASE, BASES_TUPLE, METACLASS = 1, 2, 3
NULL = ...  # make_params passes it as HPy_NULL
# upstream's message, exactly
LEGACY_SLOTS = "^" + re.escape("cannot specify .legacy_slots without setting "
                               ".builtin_shape=HPyType_BuiltinShape_Legacy") + "$"


@pytest.fixture(params=["universal", "debug", "cpython"])
def mod(request, make_module, tmp_path):
    name = f"badspecs_{request.param}"
    source = SOURCE.replace("badspecs", name)
    if request.param == "debug":
        so = compile_hpy_module(source, name, tmp_path)
        import hpy.universal
        return load_hpy_module(name, so, mode=hpy.universal.MODE_DEBUG)
    return make_module(source, name=name, abi=request.param)


@pytest.mark.parametrize("index,exc,pattern", [
    (-1, SystemError, "HPyType_FromSpec: spec is NULL"),
    (0, SystemError, "HPyType_Spec.name is NULL"),
    (1, ValueError, r"type 'm.B1': member 'bad' has an unknown HPyMember type \(999\)"),
    (2, TypeError, "unknown HPyDef kind 77"),
    (3, ValueError, r"type 'm.B3': unknown slot number 9999"),
    (4, ValueError, r"type 'm.B4': negative basicsize \(-8\)"),
    (5, ValueError, r"type 'm.B5': negative itemsize \(-1\)"),
    (6, ValueError, "type 'm.B6': a method definition has a NULL name"),
    # .legacy_slots is (void *)1: rejected before it is read
    (8, TypeError, LEGACY_SLOTS),
    (9, TypeError, LEGACY_SLOTS),
    (10, TypeError, LEGACY_SLOTS),
])
def test_malformed_spec(mod, index, exc, pattern):
    with pytest.raises(exc, match=pattern):
        mod.make(index)
    # the interpreter is still fine, and a good spec still works
    assert mod.make(7).__name__ == "Ok"


class Plain:
    "a base whose instances are a bare PyObject (m.Ok's struct follows it)"
    __slots__ = ()


def test_bad_params(mod):
    assert mod.make_params(BASE, Plain).__base__ is Plain
    with pytest.raises(TypeError):
        mod.make_params(BASE, 42)
    with pytest.raises(TypeError, match="HPyType_SpecParam_BasesTuple of 'm.Ok' is not a tuple"):
        mod.make_params(BASES_TUPLE, [int])
    with pytest.raises((TypeError, ValueError)):
        mod.make_params(BASE, int, BASES_TUPLE, (int,))
    with pytest.raises(TypeError):
        mod.make_params(METACLASS, "not a type")
    with pytest.raises(TypeError, match="unknown HPyType_SpecParam"):
        mod.make_params(99, int)


@pytest.mark.parametrize("params,what", [
    ((BASE, NULL), "Base"),
    ((BASE, int, BASE, NULL), "Base"),
    ((METACLASS, NULL), "Metaclass"),
    ((METACLASS, NULL, BASE, int), "Metaclass"),
    ((BASE, int, METACLASS, NULL), "Metaclass"),
    ((BASES_TUPLE, NULL), "BasesTuple"),
    ((METACLASS, type, BASES_TUPLE, NULL), "BasesTuple"),
])
def test_null_param(mod, params, what):
    with pytest.raises(TypeError, match=f"^HPyType_FromSpec: type 'm.Ok': "
                                        f"HPyType_SpecParam_{what} is HPy_NULL$"):
        mod.make_params(*params)
    # the interpreter is still fine, and good params still work
    assert mod.make_params(BASE, Plain, METACLASS, type).__base__ is Plain
