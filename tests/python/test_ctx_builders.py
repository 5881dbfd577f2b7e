"""HPyListBuilder, HPyTupleBuilder and HPyTracker (hpy-cpython/src/builders.rs),
including reference counts: nothing may leak on Cancel, on a failed Build or
when a tracker closes."""
import itertools
import re
import sys

import pytest

_ids = itertools.count()


def build(make_module, body, defs=None):
    """Compile a module whose methods are `defs` (default: the HPyDef_METHs
    in `body`)."""
    name = f"ctx_builders_{next(_ids)}"
    defs = defs or re.findall(r"HPyDef_METH\((\w+),", body)
    src = '#include "hpy.h"\n' + body + """
static HPyDef *defines[] = { %s, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(%s, moduledef)
""" % (", ".join("&" + d for d in defs), name)
    return make_module(src, name=name)


BUILDER_SRC = """
    /* f(kind, size, *items): items are (index, value) pairs; kind is one of
       "build", "cancel"; returns the built object or None after cancel. */
    #define BUILDER_FUNC(NAME, B, PREFIX)                                         \\
    HPyDef_METH(NAME, #NAME, HPyFunc_VARARGS)                                     \\
    static HPy NAME##_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs) \\
    {                                                                             \\
        int cancel = HPy_RichCompareBool(ctx, args[0], args[1], HPy_EQ);          \\
        HPy_ssize_t size = HPyLong_AsSsize_t(ctx, args[2]);                       \\
        if (size == -1 && HPyErr_Occurred(ctx))                                   \\
            return HPy_NULL;                                                      \\
        B b = PREFIX##_New(ctx, size);                                            \\
        if (HPyErr_Occurred(ctx)) /* New never raises */                          \\
            return HPy_NULL;                                                      \\
        for (size_t i = 3; i + 1 < nargs; i += 2)                                 \\
            PREFIX##_Set(ctx, b, HPyLong_AsSsize_t(ctx, args[i]), args[i + 1]);   \\
        if (cancel) {                                                             \\
            PREFIX##_Cancel(ctx, b);                                              \\
            return HPy_Dup(ctx, ctx->h_None);                                     \\
        }                                                                         \\
        return PREFIX##_Build(ctx, b);                                            \\
    }
    BUILDER_FUNC(lst, HPyListBuilder, HPyListBuilder)
    BUILDER_FUNC(tup, HPyTupleBuilder, HPyTupleBuilder)
"""


@pytest.fixture
def bmod(make_module):
    return build(make_module, BUILDER_SRC, defs=["lst", "tup"])


@pytest.mark.parametrize("kind, conv", [("lst", list), ("tup", tuple)])
def test_builder_build(bmod, kind, conv):
    f = getattr(bmod, kind)
    assert f("build", "cancel", 3, 0, "a", 1, "b", 2, "c") == conv(["a", "b", "c"])
    assert f("build", "cancel", 3, 2, "c", 0, "a", 1, "b") == conv(["a", "b", "c"])
    assert f("build", "cancel", 0) == conv()
    r = f("build", "cancel", 2, 0, [1], 1, None)
    assert type(r) is conv and r == conv([[1], None])


@pytest.mark.parametrize("kind", ["lst", "tup"])
def test_builder_no_leaks(bmod, kind):
    f = getattr(bmod, kind)
    item = object()
    base = sys.getrefcount(item)
    # cancel frees the container and the items in it
    assert f("cancel", "cancel", 3, 0, item, 1, item, 2, item) is None
    assert f("cancel", "cancel", 3, 1, item) is None      # partly filled
    assert sys.getrefcount(item) == base
    # setting the same index twice releases the first item
    r = f("build", "cancel", 1, 0, item, 0, item, 0, "x")
    assert r[0] == "x" and sys.getrefcount(item) == base
    # a successful build keeps exactly one reference per slot
    r = f("build", "cancel", 2, 0, item, 1, item)
    assert sys.getrefcount(item) == base + 2
    del r
    assert sys.getrefcount(item) == base


@pytest.mark.parametrize("kind, api", [("lst", "HPyListBuilder_Build"),
                                       ("tup", "HPyTupleBuilder_Build")])
def test_builder_errors(bmod, kind, api):
    f = getattr(bmod, kind)
    item = object()
    base = sys.getrefcount(item)
    # a slot that was never set: error, and the items set so far are freed
    with pytest.raises(SystemError, match=api + ": item 1 was never set"):
        f("build", "cancel", 3, 0, item, 2, item)
    assert sys.getrefcount(item) == base
    # out-of-range indices are ignored by Set and reported by Build
    with pytest.raises(SystemError, match="item 0 was never set"):
        f("build", "cancel", 1, 5, item)
    with pytest.raises(SystemError, match="never set"):
        f("build", "cancel", 2, -1, item, 1, item)
    assert sys.getrefcount(item) == base
    # a builder whose allocation failed reports MemoryError in Build ...
    with pytest.raises(MemoryError):
        f("build", "cancel", -1)
    with pytest.raises(MemoryError):
        f("build", "cancel", sys.maxsize, 0, item)
    assert sys.getrefcount(item) == base
    # ... and can be cancelled quietly
    assert f("cancel", "cancel", -1, 0, item) is None
    assert f("cancel", "cancel", sys.maxsize) is None


TRACKER_SRC = """
    /* track(size, obj, n, mode): tracks n new handles to obj in a tracker
       made with HPyTracker_New(size); mode 0 closes the tracker, mode 1
       forgets all handles first (and returns them in a list, closing them
       itself), mode 2 returns the refcount delta seen before closing. */
    HPyDef_METH(track, "track", HPyFunc_VARARGS)
    static HPy track_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
    {
        HPy_ssize_t size = HPyLong_AsSsize_t(ctx, args[0]);
        long n = HPyLong_AsLong(ctx, args[2]);
        long mode = HPyLong_AsLong(ctx, args[3]);
        if (HPyErr_Occurred(ctx))
            return HPy_NULL;
        HPyTracker ht = HPyTracker_New(ctx, size);
        if (HPy_IsNull(ht))
            return HPy_NULL;
        HPy result = HPy_NULL;
        HPyListBuilder lb = HPyListBuilder_New(ctx, n);
        for (long i = 0; i < n; i++) {
            HPy h = HPy_Dup(ctx, args[1]);
            if (mode == 1)
                HPyListBuilder_Set(ctx, lb, i, h);
            if (HPyTracker_Add(ctx, ht, h) < 0) {
                HPyListBuilder_Cancel(ctx, lb);
                HPyTracker_Close(ctx, ht);
                return HPy_NULL;
            }
        }
        if (mode == 1) {
            HPyTracker_ForgetAll(ctx, ht);
            result = HPyListBuilder_Build(ctx, lb);
            /* the tracker no longer owns the handles: close them here */
            for (long i = 0; i < n; i++)
                HPy_Close(ctx, args[1]);
        } else {
            HPyListBuilder_Cancel(ctx, lb);
            result = HPyLong_FromLong(ctx, n);
        }
        HPyTracker_Close(ctx, ht);
        return result;
    }
    HPyDef_METH(add_after_forget, "add_after_forget", HPyFunc_O)
    static HPy add_after_forget_impl(HPyContext *ctx, HPy self, HPy arg)
    {
        HPyTracker ht = HPyTracker_New(ctx, 1);
        if (HPy_IsNull(ht))
            return HPy_NULL;
        HPyTracker_Add(ctx, ht, HPy_Dup(ctx, arg));
        HPyTracker_ForgetAll(ctx, ht);
        HPy_Close(ctx, arg);                 /* we own the forgotten one */
        HPyTracker_Add(ctx, ht, HPy_Dup(ctx, arg));
        HPyTracker_Add(ctx, ht, HPy_Dup(ctx, arg));
        HPyTracker_Close(ctx, ht);           /* closes the two new ones */
        return HPy_Dup(ctx, ctx->h_None);
    }
"""


def test_tracker(make_module):
    mod = build(make_module, TRACKER_SRC)
    obj = object()
    base = sys.getrefcount(obj)
    for size in (0, 1, 5, 100):
        for n in (0, 1, 6, 7, 250):      # 250 handles forces several resizes
            assert mod.track(size, obj, n, 0) == n
            assert sys.getrefcount(obj) == base, (size, n)
    # ForgetAll: the handles stay open after Close (the list holds them)
    lst = mod.track(0, obj, 12, 1)
    assert lst == [obj] * 12
    del lst
    assert sys.getrefcount(obj) == base
    assert mod.add_after_forget(obj) is None
    assert sys.getrefcount(obj) == base


def test_tracker_errors(make_module):
    mod = build(make_module, TRACKER_SRC)
    with pytest.raises(ValueError, match="negative"):
        mod.track(-1, None, 0, 0)
    with pytest.raises(MemoryError):
        mod.track(sys.maxsize, None, 0, 0)
    with pytest.raises(MemoryError):
        mod.track(sys.maxsize // 16, None, 0, 0)   # too big to allocate
