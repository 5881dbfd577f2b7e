/*
 * bench_hpy: the benchmark extension, written once against the HPy API and
 * compiled for each ABI (universal, cpython) by scripts/bench.py, with our
 * hpy.devel and with upstream's. bench_capi.c is the same module written
 * against Python.h; both define the same functions with the same behaviour,
 * so that the driver can time them side by side.
 *
 * Two kinds of function:
 *   - call-overhead functions with trivial bodies, called from a Python loop
 *     (the driver subtracts the cost of the empty loop);
 *   - `*_loop(..., n)` functions that repeat one API operation n times in C,
 *     so the time per iteration is the cost of that operation alone.
 */
#include <stddef.h>
#include "hpy.h"

static HPyGlobal g_Point;

/* ------------------------------------------------------------ calls */

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

HPyDef_METH(noargs, "noargs", HPyFunc_NOARGS)
static HPy noargs_impl(HPyContext *ctx, HPy self)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(noargs_int, "noargs_int", HPyFunc_NOARGS)
static HPy noargs_int_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(onearg, "onearg", HPyFunc_O)
static HPy onearg_impl(HPyContext *ctx, HPy self, HPy arg)
{
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(varargs, "varargs", HPyFunc_VARARGS)
static HPy varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs != 2)
        return HPyErr_SetString(ctx, ctx->h_TypeError, "varargs: 2 arguments expected");
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(keywords, "keywords", HPyFunc_KEYWORDS)
static HPy keywords_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                         HPy kwnames)
{
    return HPy_Dup(ctx, ctx->h_None);
}

/* ------------------------------------------------------------ loops */

#define LOOP_N(h_n, n)                                  \
    long n = HPyLong_AsLong(ctx, h_n);                  \
    if (n == -1 && HPyErr_Occurred(ctx))                \
        return HPy_NULL;

HPyDef_METH(long_roundtrip_loop, "long_roundtrip_loop", HPyFunc_O)
static HPy long_roundtrip_loop_impl(HPyContext *ctx, HPy self, HPy h_n)
{
    LOOP_N(h_n, n)
    long acc = 0;
    for (long i = 0; i < n; i++) {
        HPy h = HPyLong_FromLong(ctx, i);
        if (HPy_IsNull(h))
            return HPy_NULL;
        long v = HPyLong_AsLong(ctx, h);
        HPy_Close(ctx, h);
        if (v == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        acc += v;
    }
    return HPyLong_FromLong(ctx, acc);
}

HPyDef_METH(dup_close_loop, "dup_close_loop", HPyFunc_VARARGS)
static HPy dup_close_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        HPy h = HPy_Dup(ctx, args[0]);
        HPy_Close(ctx, h);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(add_loop, "add_loop", HPyFunc_VARARGS)
static HPy add_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    LOOP_N(args[2], n)
    for (long i = 0; i < n; i++) {
        HPy r = HPy_Add(ctx, args[0], args[1]);
        if (HPy_IsNull(r))
            return HPy_NULL;
        HPy_Close(ctx, r);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(getattr_s_loop, "getattr_s_loop", HPyFunc_VARARGS)
static HPy getattr_s_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        HPy r = HPy_GetAttr_s(ctx, args[0], "x");
        if (HPy_IsNull(r))
            return HPy_NULL;
        HPy_Close(ctx, r);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(getattr_loop, "getattr_loop", HPyFunc_VARARGS)
static HPy getattr_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    LOOP_N(args[2], n)
    for (long i = 0; i < n; i++) {
        HPy r = HPy_GetAttr(ctx, args[0], args[1]);
        if (HPy_IsNull(r))
            return HPy_NULL;
        HPy_Close(ctx, r);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

/* seq has 8 items; works for lists and tuples alike */
HPyDef_METH(getitem_loop, "getitem_loop", HPyFunc_VARARGS)
static HPy getitem_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        HPy r = HPy_GetItem_i(ctx, args[0], i & 7);
        if (HPy_IsNull(r))
            return HPy_NULL;
        HPy_Close(ctx, r);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(tuple_build_loop, "tuple_build_loop", HPyFunc_VARARGS)
static HPy tuple_build_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        HPyTupleBuilder b = HPyTupleBuilder_New(ctx, 3);
        HPyTupleBuilder_Set(ctx, b, 0, args[0]);
        HPyTupleBuilder_Set(ctx, b, 1, args[0]);
        HPyTupleBuilder_Set(ctx, b, 2, args[0]);
        HPy t = HPyTupleBuilder_Build(ctx, b);
        if (HPy_IsNull(t))
            return HPy_NULL;
        HPy_Close(ctx, t);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(buildvalue_loop, "buildvalue_loop", HPyFunc_VARARGS)
static HPy buildvalue_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        HPy t = HPy_BuildValue(ctx, "(iiO)", 1, 2, args[0]);
        if (HPy_IsNull(t))
            return HPy_NULL;
        HPy_Close(ctx, t);
    }
    return HPy_Dup(ctx, ctx->h_None);
}

/* argparse_loop(n, a, b, c): parse "llld" n times */
HPyDef_METH(argparse_loop, "argparse_loop", HPyFunc_VARARGS)
static HPy argparse_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long n = 0, a, b;
    double c;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "llld", &n, &a, &b, &c))
        return HPy_NULL;
    for (long i = 1; i < n; i++) {
        if (!HPyArg_Parse(ctx, NULL, args, nargs, "llld", &n, &a, &b, &c))
            return HPy_NULL;
    }
    return HPy_Dup(ctx, ctx->h_None);
}

/* argparse_kw_loop(n, a, c=...): parse "ll|d" with keywords n times */
HPyDef_METH(argparse_kw_loop, "argparse_kw_loop", HPyFunc_KEYWORDS)
static HPy argparse_kw_loop_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                                 HPy kwnames)
{
    static const char *kwlist[] = {"n", "a", "c", NULL};
    long n = 0, a;
    double c = 0.0;
    if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "ll|d", kwlist, &n, &a, &c))
        return HPy_NULL;
    for (long i = 1; i < n; i++) {
        if (!HPyArg_ParseKeywords(ctx, NULL, args, nargs, kwnames, "ll|d", kwlist, &n, &a, &c))
            return HPy_NULL;
    }
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(new_loop, "new_loop", HPyFunc_O)
static HPy new_loop_impl(HPyContext *ctx, HPy self, HPy h_n)
{
    LOOP_N(h_n, n)
    HPy cls = HPyGlobal_Load(ctx, g_Point);
    for (long i = 0; i < n; i++) {
        void *data;
        HPy p = HPy_New(ctx, cls, &data);
        if (HPy_IsNull(p)) {
            HPy_Close(ctx, cls);
            return HPy_NULL;
        }
        HPy_Close(ctx, p);
    }
    HPy_Close(ctx, cls);
    return HPy_Dup(ctx, ctx->h_None);
}

/* ------------------------------------------------------------ type */

typedef struct {
    long x;
    long y;
} PointObject;

HPyType_HELPERS(PointObject)

HPyDef_SLOT(Point_new, HPy_tp_new)
static HPy Point_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs,
                          HPy kw)
{
    PointObject *p;
    HPy h = HPy_New(ctx, cls, &p);
    if (HPy_IsNull(h))
        return HPy_NULL;
    p->x = 1;
    p->y = 2;
    return h;
}

/* p + q returns q */
HPyDef_SLOT(Point_add, HPy_nb_add)
static HPy Point_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    return HPy_Dup(ctx, b);
}

HPyDef_SLOT(Point_call, HPy_tp_call)
static HPy Point_call_impl(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs,
                           HPy kwnames)
{
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *Point_defines[] = {&Point_new, &Point_add, &Point_call, NULL};

static HPyType_Spec Point_spec = {
    .name = "bench_hpy.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .defines = Point_defines,
};

/* ------------------------------------------------------------ module */

HPyDef_SLOT(bench_exec, HPy_mod_exec)
static int bench_exec_impl(HPyContext *ctx, HPy m)
{
    HPy t = HPyType_FromSpec(ctx, &Point_spec, NULL);
    if (HPy_IsNull(t))
        return -1;
    HPyGlobal_Store(ctx, &g_Point, t);
    int rc = HPy_SetAttr_s(ctx, m, "Point", t);
    HPy_Close(ctx, t);
    return rc;
}

static HPyDef *module_defines[] = {
    &ctx_name, &noargs, &noargs_int, &onearg, &varargs, &keywords,
    &long_roundtrip_loop, &dup_close_loop, &add_loop, &getattr_s_loop, &getattr_loop,
    &getitem_loop, &tuple_build_loop, &buildvalue_loop, &argparse_loop,
    &argparse_kw_loop, &new_loop,
    &bench_exec,
    NULL
};

static HPyGlobal *module_globals[] = {&g_Point, NULL};

static HPyModuleDef moduledef = {
    .doc = "hpy-rs benchmark module (HPy API)",
    .size = 0,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(bench_hpy, moduledef)
