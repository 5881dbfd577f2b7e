/* An extension that calls every API helper once (tests/python/test_extension_size.py):
 * argument parsing with and without keywords, build-value, FromFormat, HPyErr_Format,
 * the type and argument-packing helpers, struct sequences. */
#include "hpy.h"

HPyDef_METH(parse, "parse", HPyFunc_VARARGS)
static HPy parse_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a; double b = 0.0; const char *s = "";
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "l|ds:parse", &a, &b, &s))
        return HPy_NULL;
    return HPy_BuildValue(ctx, "(ldsO)", a, b, s, ctx->h_None);
}

HPyDef_METH(parse_kw, "parse_kw", HPyFunc_KEYWORDS)
static HPy parse_kw_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    static const char *kwlist[] = {"a", "b", NULL};
    int a, b = 1;
    HPyTracker ht;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "i|i", kwlist, &a, &b))
        return HPy_NULL;
    HPy packed_args, packed_kw;
    if (!HPyHelpers_PackArgsAndKeywords(ctx, args, nargs, kwnames, &packed_args, &packed_kw)) {
        HPyTracker_Close(ctx, ht);
        return HPy_NULL;
    }
    HPy_Close(ctx, packed_args);
    HPy_Close(ctx, packed_kw);
    HPyTracker_Close(ctx, ht);
    if (a < 0)
        return HPyErr_Format(ctx, ctx->h_ValueError, "a must be >= 0, not %d", a);
    return HPyUnicode_FromFormat(ctx, "%d and %d", a, b);
}

static HPyStructSequence_Field point_fields[] = {{"x", NULL}, {"y", NULL}, {NULL, NULL}};
static HPyStructSequence_Desc point_desc = {"every_helper.Point", NULL, point_fields};

HPyDef_METH(point, "point", HPyFunc_VARARGS)
static HPy point_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    HPy type = HPyStructSequence_NewType(ctx, &point_desc);
    if (HPy_IsNull(type))
        return HPy_NULL;
    HPy r = HPyStructSequence_New(ctx, type, (HPy_ssize_t)nargs, (HPy *)args);
    HPy_Close(ctx, type);
    return r;
}

typedef struct { long v; } ThingObject;
HPyType_HELPERS(ThingObject)
static HPyType_Spec thing_spec = {.name = "every_helper.Thing", .basicsize = sizeof(ThingObject)};

HPyDef_SLOT(every_helper_exec, HPy_mod_exec)
static int every_helper_exec_impl(HPyContext *ctx, HPy m)
{
    return HPyHelpers_AddType(ctx, m, "Thing", &thing_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = {&parse, &parse_kw, &point, &every_helper_exec, NULL};
static HPyModuleDef moduledef = {.doc = "calls every API helper", .defines = module_defines};
HPy_MODINIT(every_helper, moduledef)
