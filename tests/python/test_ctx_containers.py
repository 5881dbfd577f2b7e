"""Container context members in hpy-cpython/src/containers.rs: dict keys and
copies, list insertion, slices, slicing and HPyIter_Next."""
import itertools
import re
import sys

import pytest

_ids = itertools.count()
SSIZE_MAX = sys.maxsize
SSIZE_MIN = -sys.maxsize - 1


def build(make_module, body):
    """Compile a module whose methods are the HPyDef_METHs in `body`."""
    name = f"ctx_containers_{next(_ids)}"
    defs = re.findall(r"HPyDef_METH\((\w+),", body)
    src = '#include "hpy.h"\n' + body + """
static HPyDef *defines[] = { %s, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%s, moduledef)
""" % (", ".join("&" + d for d in defs), name)
    return make_module(src, name=name)


def test_dict_keys_and_copy(make_module):
    mod = build(make_module, """
        HPyDef_METH(keys, "keys", HPyFunc_O)
        static HPy keys_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyDict_Keys(ctx, arg);
        }
        HPyDef_METH(copy, "copy", HPyFunc_O)
        static HPy copy_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            return HPyDict_Copy(ctx, arg);
        }
    """)
    d = {"a": 1, 2: "b", None: []}
    k = mod.keys(d)
    assert type(k) is list and k == ["a", 2, None]
    assert mod.keys({}) == []

    class D(dict):
        def keys(self):
            return ["overridden"]
    assert mod.keys(D(x=1)) == ["x"]      # reads the storage, not .keys()

    c = mod.copy(d)
    assert c == d and c is not d and type(c) is dict
    assert c[None] is d[None]              # shallow
    c["new"] = 1
    assert "new" not in d
    for bad in ([1, 2], "abc", 42, None):
        with pytest.raises(SystemError):
            mod.keys(bad)
        with pytest.raises(SystemError):
            mod.copy(bad)


def test_list_insert(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy_ssize_t i = HPyLong_AsSsize_t(ctx, args[1]);
            if (i == -1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
            if (HPyList_Insert(ctx, args[0], i, args[2]) < 0)
                return HPy_NULL;
            return HPy_Dup(ctx, args[0]);
        }
        HPyDef_METH(null_item, "null_item", HPyFunc_O)
        static HPy null_item_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            if (HPyList_Insert(ctx, arg, 0, HPy_NULL) < 0)
                return HPy_NULL;
            return HPy_Dup(ctx, ctx->h_None);
        }
    """)
    assert mod.f([1, 2, 3], 0, "x") == ["x", 1, 2, 3]
    assert mod.f([1, 2, 3], 1, "x") == [1, "x", 2, 3]
    assert mod.f([1, 2, 3], 3, "x") == [1, 2, 3, "x"]
    assert mod.f([1, 2, 3], 100, "x") == [1, 2, 3, "x"]     # clamped
    assert mod.f([1, 2, 3], -1, "x") == [1, 2, "x", 3]
    assert mod.f([1, 2, 3], -100, "x") == ["x", 1, 2, 3]
    assert mod.f([], 5, "x") == ["x"]
    with pytest.raises(SystemError):
        mod.f((1, 2), 0, "x")
    with pytest.raises(SystemError):
        mod.f("abc", 0, "x")
    with pytest.raises(OverflowError):
        mod.f([], 1 << 70, "x")
    with pytest.raises(SystemError):
        mod.null_item([])


def test_slice_unpack(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_O)
        static HPy f_impl(HPyContext *ctx, HPy self, HPy arg)
        {
            HPy_ssize_t start, stop, step;
            if (HPySlice_Unpack(ctx, arg, &start, &stop, &step) < 0)
                return HPy_NULL;
            HPy t[3] = { HPyLong_FromSsize_t(ctx, start), HPyLong_FromSsize_t(ctx, stop),
                         HPyLong_FromSsize_t(ctx, step) };
            HPy r = HPyTuple_FromArray(ctx, t, 3);
            HPy_Close(ctx, t[0]); HPy_Close(ctx, t[1]); HPy_Close(ctx, t[2]);
            return r;
        }
    """)
    assert mod.f(slice(2, 20, 2)) == (2, 20, 2)
    assert mod.f(slice(4, 20)) == (4, 20, 1)
    assert mod.f(slice(None, None, None)) == (0, SSIZE_MAX, 1)
    assert mod.f(slice(None, None, -1)) == (SSIZE_MAX, SSIZE_MIN, -1)
    assert mod.f(slice(13, -27, -1)) == (13, -27, -1)
    assert mod.f(slice(5, 1 << 129)) == (5, SSIZE_MAX, 1)              # clamped
    assert mod.f(slice(SSIZE_MIN - 1000, SSIZE_MAX + 1000)) == (SSIZE_MIN, SSIZE_MAX, 1)
    assert mod.f(slice(SSIZE_MAX, 0, -SSIZE_MAX - 1000)) == (SSIZE_MAX, 0, -SSIZE_MAX)
    with pytest.raises(ValueError):
        mod.f(slice(1, 10, 0))
    with pytest.raises(TypeError):
        mod.f(slice(1, 10, "1"))
    with pytest.raises(TypeError):
        mod.f(slice("0", 10, 1))
    with pytest.raises(TypeError, match="slice"):
        mod.f((1, 2, 3))                                          # not a slice
    with pytest.raises(TypeError):
        mod.f(None)


def test_slice_new(make_module):
    mod = build(make_module, """
        HPyDef_METH(f, "f", HPyFunc_VARARGS)
        static HPy f_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy a[3];
            for (int i = 0; i < 3; i++)   /* the string "NULL" stands for HPy_NULL */
                a[i] = HPy_RichCompareBool(ctx, args[i], args[3], HPy_EQ) ? HPy_NULL : args[i];
            return HPySlice_New(ctx, a[0], a[1], a[2]);
        }
    """)
    N = "NULL"
    assert mod.f(1, 10, 2, N) == slice(1, 10, 2)
    assert mod.f(N, 5, N, N) == slice(None, 5, None)
    assert mod.f(N, N, N, N) == slice(None, None, None)
    assert mod.f("a", [1], 2.5, N) == slice("a", [1], 2.5)   # any objects
    assert [0, 1, 2, 3, 4, 5][mod.f(1, N, 2, N)] == [1, 3, 5]


def test_get_set_del_slice(make_module):
    mod = build(make_module, """
        HPyDef_METH(get, "get", HPyFunc_VARARGS)
        static HPy get_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            return HPy_GetSlice(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]),
                                HPyLong_AsSsize_t(ctx, args[2]));
        }
        HPyDef_METH(set, "set", HPyFunc_VARARGS)
        static HPy set_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            if (HPy_SetSlice(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]),
                             HPyLong_AsSsize_t(ctx, args[2]), args[3]) < 0)
                return HPy_NULL;
            return HPy_Dup(ctx, args[0]);
        }
        HPyDef_METH(delslice, "delslice", HPyFunc_VARARGS)
        static HPy delslice_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            if (HPy_DelSlice(ctx, args[0], HPyLong_AsSsize_t(ctx, args[1]),
                             HPyLong_AsSsize_t(ctx, args[2])) < 0)
                return HPy_NULL;
            return HPy_Dup(ctx, args[0]);
        }
    """)
    assert mod.get([0, 1, 2, 3, 4], 1, 3) == [1, 2]
    assert mod.get((0, 1, 2, 3, 4), -2, 100) == (3, 4)
    assert mod.get("hello", 1, 4) == "ell"
    assert mod.get(b"hello", 3, 1) == b""
    assert mod.get(range(10), 2, 5) == range(2, 5)
    with pytest.raises(TypeError):
        mod.get(42, 0, 1)
    # a dict is looked up with the slice as a key: unhashable (TypeError)
    # until 3.12, a missing key (KeyError) since slices became hashable
    with pytest.raises(TypeError if sys.version_info < (3, 12) else KeyError):
        mod.get({1: 2}, 0, 1)

    assert mod.set([0, 1, 2, 3], 1, 3, ["a", "b", "c"]) == [0, "a", "b", "c", 3]
    assert mod.set([0, 1, 2], 0, 0, (9,)) == [9, 0, 1, 2]
    assert mod.set(bytearray(b"hello"), 0, 1, b"J") == bytearray(b"Jello")
    with pytest.raises(TypeError):
        mod.set((0, 1, 2), 0, 1, [5])          # tuples are immutable
    with pytest.raises(TypeError):
        mod.set([0, 1, 2], 0, 1, 5)            # value must be iterable
    with pytest.raises(TypeError):
        mod.set(42, 0, 1, [5])

    assert mod.delslice([0, 1, 2, 3, 4], 1, 3) == [0, 3, 4]
    assert mod.delslice([0, 1, 2], -1, 100) == [0, 1]
    with pytest.raises(TypeError):
        mod.delslice("abc", 0, 1)
    with pytest.raises(TypeError):
        mod.delslice(42, 0, 1)


def test_iter_next(make_module):
    mod = build(make_module, """
        /* returns [items...] and then "exhausted" or re-raises the error */
        HPyDef_METH(drain, "drain", HPyFunc_O)
        static HPy drain_impl(HPyContext *ctx, HPy self, HPy it)
        {
            HPy result = HPyList_New(ctx, 0);
            for (;;) {
                HPy item = HPyIter_Next(ctx, it);
                if (HPy_IsNull(item)) {
                    if (HPyErr_Occurred(ctx)) {
                        HPy_Close(ctx, result);
                        return HPy_NULL;
                    }
                    break;
                }
                HPyList_Append(ctx, result, item);
                HPy_Close(ctx, item);
            }
            /* once exhausted, it stays exhausted without an exception */
            HPy again = HPyIter_Next(ctx, it);
            if (!HPy_IsNull(again) || HPyErr_Occurred(ctx)) {
                HPy_Close(ctx, again);
                HPy_Close(ctx, result);
                HPyErr_SetString(ctx, ctx->h_AssertionError, "not exhausted");
                return HPy_NULL;
            }
            return result;
        }
    """)
    assert mod.drain(iter([1, 2, 3])) == [1, 2, 3]
    assert mod.drain(iter(())) == []
    assert mod.drain(x * 2 for x in range(4)) == [0, 2, 4, 6]

    def gen_error():
        yield 1
        raise KeyError("inside")
    with pytest.raises(KeyError, match="inside"):
        mod.drain(gen_error())

    class StopsWithStopIteration:
        def __iter__(self):
            return self

        def __next__(self):
            raise StopIteration
    assert mod.drain(StopsWithStopIteration()) == []
    with pytest.raises(TypeError, match="not an iterator"):
        mod.drain([1, 2, 3])      # iterable, but not an iterator
    with pytest.raises(TypeError, match="not an iterator"):
        mod.drain(42)


def test_getitem_i(make_module):
    # exact lists and tuples take a fast path (no int made for the index):
    # it must index exactly as obj[i] does; anything else goes through
    # PyObject_GetItem
    mod = build(make_module, """
        HPyDef_METH(getitem_i, "getitem_i", HPyFunc_VARARGS)
        static HPy getitem_i_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
        {
            HPy_ssize_t i = HPyLong_AsSsize_t(ctx, args[1]);
            if (i == -1 && HPyErr_Occurred(ctx))
                return HPy_NULL;
            return HPy_GetItem_i(ctx, args[0], i);
        }
    """)

    class MyList(list):
        def __getitem__(self, i):
            return ("mine", i)

    for seq in ([10, 20, 30], (10, 20, 30), MyList([10, 20, 30]), {-1: "d", 5: "e"},
                range(3), "abc"):
        for i in (0, 2, -1, -3, 3, -4, 5, SSIZE_MAX, SSIZE_MIN):
            try:
                expected = seq[i]
            except Exception as e:
                with pytest.raises(type(e)) as info:
                    mod.getitem_i(seq, i)
                assert str(info.value) == str(e), (seq, i)
            else:
                assert mod.getitem_i(seq, i) == expected, (seq, i)
