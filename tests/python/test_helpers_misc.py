"""HPyHelpers_AddType, HPyHelpers_PackArgsAndKeywords, HPyStructSequence_NewType
and HPyStructSequence_New (hpy-helpers/src/helpers.rs, structseq.rs): success
paths, every error an extension can provoke, and handle hygiene under the
debug context."""
import gc
import itertools
import sys
import weakref

import pytest

import hpy.universal
from hpy.debug import LeakDetector

from conftest import compile_hpy_module, load_hpy_module

_ids = itertools.count()

SOURCE = r"""
#include <stdint.h>
#include "hpy.h"

/* ---------------- HPyHelpers_AddType ---------------- */

static HPyType_Spec thing_spec = { .name = "helpers_misc.Thing" };

/* add_type(obj, name_or_None, mode) */
HPyDef_METH(add_type, "add_type", HPyFunc_VARARGS)
static HPy add_type_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy obj = args[0];
    const char *name = NULL;
    HPyType_Spec *spec = &thing_spec;
    HPyType_SpecParam int_base[] = {
        { HPyType_SpecParam_Base, ctx->h_LongType }, { (HPyType_SpecParam_Kind)0 } };
    HPyType_SpecParam bool_base[] = {
        { HPyType_SpecParam_Base, ctx->h_BoolType }, { (HPyType_SpecParam_Kind)0 } };
    HPyType_SpecParam *params = NULL;
    if (!HPy_Is(ctx, args[1], ctx->h_None))
        name = HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
    switch (HPyLong_AsLong(ctx, args[2])) {
    case 0: break;
    case 1: params = int_base; break;
    case 2: params = bool_base; break;      /* bool is final: FromSpec fails */
    case 3: spec = NULL; break;
    case 4: obj = HPy_NULL; break;
    }
    int r = HPyHelpers_AddType(ctx, obj, name, spec, params);
    if (r == 0)
        return HPy_NULL;
    return HPyLong_FromLong(ctx, r);
}

/* ---------------- HPyHelpers_PackArgsAndKeywords ---------------- */

/* The result as a tuple (args-or-None, kwargs-or-None), closing both. */
static HPy pair(HPyContext *ctx, HPy a, HPy b)
{
    HPy items[2] = { HPy_IsNull(a) ? ctx->h_None : a, HPy_IsNull(b) ? ctx->h_None : b };
    HPy res = HPyTuple_FromArray(ctx, items, 2);
    HPy_Close(ctx, a);
    HPy_Close(ctx, b);
    return res;
}

HPyDef_METH(pack, "pack", HPyFunc_KEYWORDS)
static HPy pack_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    HPy a = HPy_NULL, k = HPy_NULL;
    if (!HPyHelpers_PackArgsAndKeywords(ctx, args, nargs, kwnames, &a, &k))
        return HPy_NULL;
    return pair(ctx, a, k);
}

/* pack_raw(flags, nargs, kwnames, *items): flags 1 = args NULL, 2 = out args
   NULL, 4 = out kwd NULL; nargs -1 = SIZE_MAX; kwnames Ellipsis = HPy_NULL.
   The outputs must stay untouched on failure. */
HPyDef_METH(pack_raw, "pack_raw", HPyFunc_VARARGS)
static HPy pack_raw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long flags = HPyLong_AsLong(ctx, args[0]);
    long n = HPyLong_AsLong(ctx, args[1]);
    HPy kwnames = HPy_Is(ctx, args[2], ctx->h_Ellipsis) ? HPy_NULL : args[2];
    const HPy *items = (flags & 1) ? NULL : args + 3;
    HPy marker = { 0x5a5a };
    HPy a = marker, k = marker;
    int r = HPyHelpers_PackArgsAndKeywords(ctx, items, n < 0 ? SIZE_MAX : (size_t)n, kwnames,
                                           (flags & 2) ? NULL : &a, (flags & 4) ? NULL : &k);
    if (!r) {
        if (a._i != marker._i || k._i != marker._i)
            HPyErr_SetString(ctx, ctx->h_AssertionError, "output written on failure");
        return HPy_NULL;
    }
    return pair(ctx, a, k);
}

/* ---------------- struct sequences ---------------- */

static HPyStructSequence_Field point_fields[] = {
    { "x", "the x" }, { "y", NULL }, { NULL, "hidden" }, { NULL, NULL } };
static HPyStructSequence_Field odd_fields[] = {
    { "class", NULL }, { "x", NULL }, { "x", NULL }, { "_private", NULL }, { "ok", NULL },
    { NULL, NULL } };
static HPyStructSequence_Field no_fields[] = { { NULL, NULL } };
static HPyStructSequence_Field bad_utf8_fields[] = { { "a\xff", NULL }, { NULL, NULL } };

HPyDef_METH(new_type, "new_type", HPyFunc_O)
static HPy new_type_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPyStructSequence_Desc desc = { "helpers_misc.Point", "A point.", point_fields };
    point_fields[2].name = HPyStructSequence_UnnamedField;
    switch (HPyLong_AsLong(ctx, arg)) {
    case 0: break;
    case 1: desc.name = "NoDot"; desc.doc = NULL; desc.fields = no_fields; break;
    case 2: desc.name = "a.b.Odd"; desc.fields = odd_fields; break;
    case 3: return HPyStructSequence_NewType(ctx, NULL);
    case 4: desc.name = NULL; break;
    case 5: desc.fields = NULL; break;
    case 6: desc.name = "helpers_misc.Bad\xff"; break;
    case 7: desc.name = "helpers_misc\xff.Bad"; break;
    case 8: desc.fields = bad_utf8_fields; break;
    case 9: desc.doc = "bad \xff doc"; break;
    case 10: desc.name = "helpers_misc.my-type"; break;
    case 11: desc.name = "helpers_misc.class"; break;
    }
    return HPyStructSequence_NewType(ctx, &desc);
}

HPyDef_METH(new_inst, "new_inst", HPyFunc_VARARGS)
static HPy new_inst_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    return HPyStructSequence_New(ctx, args[0], (HPy_ssize_t)nargs - 1, (HPy *)args + 1);
}

/* new_raw(flags, nargs, type): flags 1 = type HPy_NULL, 2 = args NULL;
   otherwise the items are nargs (<= 4) Nones. */
HPyDef_METH(new_raw, "new_raw", HPyFunc_VARARGS)
static HPy new_raw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long flags = HPyLong_AsLong(ctx, args[0]);
    HPy_ssize_t n = HPyLong_AsSsize_t(ctx, args[1]);
    HPy nones[4] = { ctx->h_None, ctx->h_None, ctx->h_None, ctx->h_None };
    return HPyStructSequence_New(ctx, (flags & 1) ? HPy_NULL : args[2], n,
                                 (flags & 2) ? NULL : nones);
}

HPyDef_METH(unnamed_field, "unnamed_field", HPyFunc_NOARGS)
static HPy unnamed_field_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, HPyStructSequence_UnnamedField);
}

static HPyDef *defines[] = {
    &add_type, &pack, &pack_raw, &new_type, &new_inst, &new_raw, &unnamed_field, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%(name)s, moduledef)
"""


def build(tmp_path, abi="universal", mode=None):
    name = f"helpers_misc_{next(_ids)}"
    so = compile_hpy_module(SOURCE % {"name": name}, name, tmp_path, abi=abi)
    return load_hpy_module(name, so, mode=mode)


@pytest.fixture
def mod(tmp_path):
    return build(tmp_path)


class Target:
    """Something to add types to."""


# ---- HPyHelpers_AddType ----

def test_add_type(mod):
    t = Target()
    assert mod.add_type(t, "Thing", 0) == 1
    assert isinstance(t.Thing, type)
    assert t.Thing.__name__ == "Thing" and t.Thing.__module__ == "helpers_misc"
    assert isinstance(t.Thing(), t.Thing)
    # the helper closed its handle: once the attribute is gone, the type dies
    w = weakref.ref(t.Thing)
    del t.Thing
    gc.collect()
    assert w() is None


def test_add_type_to_module_with_params(mod):
    assert mod.add_type(mod, "IntThing", 1) == 1
    assert issubclass(mod.IntThing, int)
    assert mod.IntThing(7) == 7 and isinstance(mod.IntThing(), mod.IntThing)


def test_add_type_from_spec_fails(mod):
    t = Target()
    with pytest.raises(TypeError, match="bool"):
        mod.add_type(t, "Thing", 2)
    assert not hasattr(t, "Thing")


def test_add_type_setattr_fails(mod):
    with pytest.raises(AttributeError):
        mod.add_type(None, "Thing", 0)
    with pytest.raises(AttributeError):
        mod.add_type(42, "Thing", 0)


@pytest.mark.parametrize("name, mode, msg", [
    (None, 0, "HPyHelpers_AddType: name must not be NULL"),
    ("Thing", 3, "HPyHelpers_AddType: spec must not be NULL"),
    ("Thing", 4, "HPyHelpers_AddType: obj must not be HPy_NULL"),
])
def test_add_type_null_arguments(mod, name, mode, msg):
    with pytest.raises(SystemError) as e:
        mod.add_type(Target(), name, mode)
    assert str(e.value) == msg


# ---- HPyHelpers_PackArgsAndKeywords ----

def test_pack(mod):
    a, b = object(), object()
    assert mod.pack() == (None, None)
    args, kw = mod.pack(a, b, 3)
    assert args == (a, b, 3) and args[0] is a and kw is None
    assert mod.pack(x=a, y=2) == (None, {"x": a, "y": 2})
    args, kw = mod.pack(1, 2, z=b, a=a)
    assert args == (1, 2) and kw == {"z": b, "a": a}
    assert list(kw) == ["z", "a"] and kw["z"] is b


def test_pack_raw_success(mod):
    # keyword values follow the positional ones; kwnames HPy_NULL = none
    assert mod.pack_raw(0, 2, ("k",), 1, 2, 3) == ((1, 2), {"k": 3})
    assert mod.pack_raw(0, 0, ("k", "j"), 1, 2) == (None, {"k": 1, "j": 2})
    assert mod.pack_raw(0, 1, ..., 5) == ((5,), None)
    assert mod.pack_raw(0, 1, (), 5) == ((5,), None)
    # a repeated name keeps the last value, as a dict update would
    assert mod.pack_raw(0, 0, ("k", "k"), 1, 2) == (None, {"k": 2})
    # args may be NULL when there is nothing to read
    assert mod.pack_raw(1, 0, ..., 1) == (None, None)
    assert mod.pack_raw(1, 0, ()) == (None, None)


@pytest.mark.parametrize("flags, msg", [
    (2, "argument 'out_pos_args' must not be NULL"),
    (4, "argument 'out_kwd' must not be NULL"),
    (6, "argument 'out_pos_args' must not be NULL"),
])
def test_pack_null_outputs(mod, flags, msg):
    with pytest.raises(SystemError) as e:
        mod.pack_raw(flags, 1, ..., 1)
    assert str(e.value) == msg


@pytest.mark.parametrize("kwnames, got", [(None, "NoneType"), (["k"], "list"), ("k", "str")])
def test_pack_kwnames_not_a_tuple(mod, kwnames, got):
    with pytest.raises(TypeError) as e:
        mod.pack_raw(0, 0, kwnames, 1)
    assert str(e.value) == (
        f"HPyHelpers_PackArgsAndKeywords: kwnames must be a tuple or HPy_NULL, not '{got}'")


def test_pack_null_args(mod):
    msg = "HPyHelpers_PackArgsAndKeywords: args must not be NULL when there are arguments"
    with pytest.raises(SystemError) as e:
        mod.pack_raw(1, 2, ..., 1, 2)
    assert str(e.value) == msg
    with pytest.raises(SystemError) as e:
        mod.pack_raw(1, 0, ("k",), 1)
    assert str(e.value) == msg


def test_pack_nargs_too_large(mod):
    with pytest.raises(SystemError, match=r"^HPyHelpers_PackArgsAndKeywords: nargs is too large"):
        mod.pack_raw(0, -1, ..., 1)
    with pytest.raises(SystemError, match=r"^HPyHelpers_PackArgsAndKeywords: nargs is too large"):
        mod.pack_raw(0, -1, ("k",), 1)


def test_pack_unhashable_name(mod):
    with pytest.raises(TypeError, match="unhashable"):
        mod.pack_raw(0, 1, ("k", []), 1, 2, 3)


# ---- struct sequences ----

def test_unnamed_field_marker(mod):
    assert mod.unnamed_field() == "_"


def test_structseq_type(mod):
    Point = mod.new_type(0)
    assert isinstance(Point, type) and issubclass(Point, tuple)
    assert Point.__name__ == Point.__qualname__ == "Point"
    assert Point.__module__ == "helpers_misc"
    assert Point.__doc__ == "A point."
    assert Point.n_fields == 3
    # the unnamed field is renamed away from the public names
    assert Point._fields == ("x", "y", "_2")
    p = mod.new_inst(Point, 1, "two", None)
    assert type(p) is Point and p == (1, "two", None)
    assert p.x == 1 and p.y == "two" and p[2] is None and len(p) == 3
    assert repr(p) == "Point(x=1, y='two', _2=None)"
    # every type is new
    assert mod.new_type(0) is not Point


def test_structseq_type_without_module_or_fields(mod):
    T = mod.new_type(1)
    assert T.__name__ == T.__qualname__ == "NoDot"
    assert T.__module__ == "builtins"
    assert T.__doc__ is None
    assert T.n_fields == 0
    assert mod.new_inst(T) == () and type(mod.new_inst(T)) is T
    assert mod.new_raw(2, 0, T) == ()


def test_structseq_type_invalid_field_names(mod):
    T = mod.new_type(2)
    assert T.__module__ == "a.b" and T.__name__ == "Odd"
    assert T._fields == ("_0", "x", "_2", "_3", "ok")
    assert T.n_fields == 5
    assert mod.new_inst(T, 1, 2, 3, 4, 5).ok == 5


def test_structseq_calling_type_directly(mod):
    Point = mod.new_type(0)
    assert Point(1, 2, 3) == (1, 2, 3)
    # namedtuple's own error, naming its __new__ as the interpreter does
    new = {(3, 8): "__new__", (3, 9): "<lambda>"}.get(sys.version_info[:2], r"Point\.__new__")
    with pytest.raises(TypeError, match=r"^%s\(\)" % new):
        Point(1, 2, 3, 4)


@pytest.mark.parametrize("mode, name", [(10, "my-type"), (11, "class")])
def test_structseq_type_name_not_an_identifier(mod, mode, name):
    T = mod.new_type(mode)
    assert T.__name__ == T.__qualname__ == name and T.__module__ == "helpers_misc"
    assert T._fields == ("x", "y", "_2") and T.n_fields == 3
    assert mod.new_inst(T, 1, 2, 3).y == 2
    assert repr(mod.new_inst(T, 1, 2, 3)) == f"{name}(x=1, y=2, _2=3)"


@pytest.mark.parametrize("mode, msg", [
    (3, "HPyStructSequence_NewType: desc must not be NULL"),
    (4, "Struct sequence descriptor does not define the name field."),
    (5, "HPyStructSequence_NewType: the descriptor's fields must not be NULL"),
])
def test_structseq_bad_descriptor(mod, mode, msg):
    with pytest.raises(SystemError) as e:
        mod.new_type(mode)
    assert str(e.value) == msg


@pytest.mark.parametrize("mode", [6, 7, 8, 9])
def test_structseq_not_utf8(mod, mode):
    with pytest.raises(UnicodeDecodeError):
        mod.new_type(mode)


def test_structseq_new_keeps_items(mod):
    Point = mod.new_type(0)
    a = object()
    before = sys.getrefcount(a)
    p = mod.new_inst(Point, a, a, a)
    assert p.x is a and p[2] is a
    assert sys.getrefcount(a) == before + 3
    del p
    assert sys.getrefcount(a) == before


@pytest.mark.parametrize("items", [(1, 2), (1, 2, 3, 4), ()])
def test_structseq_new_wrong_count(mod, items):
    Point = mod.new_type(0)
    with pytest.raises(TypeError) as e:
        mod.new_inst(Point, *items)
    assert str(e.value) == f"expected exactly 3 arguments but got {len(items)}"


def test_structseq_new_not_a_structseq(mod):
    with pytest.raises(TypeError) as e:
        mod.new_inst(str, 1)
    assert str(e.value) == "object '<class 'str'>' does not look like a struct sequence type "
    # an instance has n_fields too, but it is not a type
    p = mod.new_inst(mod.new_type(0), 1, 2, 3)
    with pytest.raises(TypeError, match="does not look like a struct sequence type"):
        mod.new_inst(p, 1, 2, 3)

    class Fake:
        n_fields = "three"
    with pytest.raises(TypeError, match="does not look like a struct sequence type"):
        mod.new_inst(Fake)

    class Raises(type):
        @property
        def n_fields(cls):
            raise RuntimeError("boom")
    with pytest.raises(TypeError, match="does not look like a struct sequence type"):
        mod.new_inst(Raises("R", (), {}))


@pytest.mark.parametrize("flags, n, msg", [
    (1, 0, "HPyStructSequence_New: type must not be HPy_NULL"),
    (0, -1, "HPyStructSequence_New: nargs must not be negative (got -1)"),
    (2, 3, "HPyStructSequence_New: args must not be NULL when nargs > 0"),
])
def test_structseq_new_bad_arguments(mod, flags, n, msg):
    Point = mod.new_type(0)
    with pytest.raises(SystemError) as e:
        mod.new_raw(flags, n, Point)
    assert str(e.value) == msg


# ---- other ABIs and modes ----

def test_hybrid(tmp_path):
    m = build(tmp_path, abi="hybrid")
    t = Target()
    assert m.add_type(t, "Thing", 1) == 1 and t.Thing(3) == 3
    assert m.pack(1, k=2) == ((1,), {"k": 2})
    with pytest.raises(SystemError):
        m.pack_raw(2, 1, ..., 1)
    Point = m.new_type(0)
    assert m.new_inst(Point, 1, 2, 3).y == 2
    with pytest.raises(TypeError):
        m.new_inst(Point, 1)
    assert m.unnamed_field() == "_"


def test_debug_mode_closes_every_handle(tmp_path):
    # loading first creates the debug context (and its constants) outside
    # the detector's generation
    m = build(tmp_path, mode=hpy.universal.MODE_DEBUG)
    t = Target()

    def raises(exc, f, *args):
        with pytest.raises(exc):
            f(*args)

    with LeakDetector():
        assert m.add_type(t, "Thing", 1) == 1 and t.Thing(2) == 2
        raises(TypeError, m.add_type, t, "Bad", 2)
        raises(AttributeError, m.add_type, None, "Thing", 0)
        raises(SystemError, m.add_type, t, None, 0)

        assert m.pack(1, "2", k=3, j=4) == ((1, "2"), {"k": 3, "j": 4})
        assert m.pack() == (None, None)
        raises(TypeError, m.pack_raw, 0, 1, ("k", []), 1, 2, 3)
        raises(TypeError, m.pack_raw, 0, 0, ["k"], 1)
        raises(SystemError, m.pack_raw, 4, 1, ("k",), 1, 2)
        raises(SystemError, m.pack_raw, 1, 1, ("k",), 1, 2)

        Point = m.new_type(0)
        assert m.new_inst(Point, 1, 2, 3) == (1, 2, 3)
        assert m.new_type(1).__module__ == "builtins"
        assert m.new_type(2)._fields[0] == "_0"
        assert m.new_type(11).__name__ == "class"
        for mode in (3, 4, 5):
            raises(SystemError, m.new_type, mode)
        for mode in (6, 7, 8, 9):
            raises(UnicodeDecodeError, m.new_type, mode)
        raises(TypeError, m.new_inst, Point, 1)
        raises(TypeError, m.new_inst, str, 1)
        raises(TypeError, m.new_inst, 5)
        raises(SystemError, m.new_raw, 1, 0, Point)
        raises(SystemError, m.new_raw, 2, 3, Point)
