/*
 * Compile-only exercise of the public headers: every HPyDef_* macro, every
 * trampoline signature, the type helpers, HPy_MODINIT and a sample of the
 * inline and out-of-line helpers. check.sh builds this file as C (gnu11,
 * c99), as C++, in universal and hybrid mode, and as a shared object whose
 * exported symbols it inspects. Nothing here is ever run.
 */
#include <hpy.h>

/* no-op unless built with -DHPY_EMBEDDED_MODULES */
HPY_MOD_EMBEDDABLE(usage)

/* ---- object layouts and their helpers -------------------------------- */

typedef struct {
    long x;
    double y;
    HPyField payload;
    HPy_ssize_t count;
} PointObject;
HPyType_HELPERS(PointObject)

typedef struct {
    int extra;
} TupleSub;
HPyType_HELPERS(TupleSub, HPyType_BuiltinShape_Tuple)

typedef struct {
    char data[16];
} LegacyThing;
HPyType_LEGACY_HELPERS(LegacyThing)

/* An HPyDef may be declared before (or without) its definition, as a file
   listing the HPyDefs of another would (upstream's test_extern_def): the
   hidden visibility of the definition must not clash with this plain
   declaration. check.sh (step 2c) links such a pair of files. */
extern HPyDef m_noargs;

/* ---- methods: the four method signatures ----------------------------- */

HPyDef_METH(m_noargs, "m_noargs", HPyFunc_NOARGS)
static HPy m_noargs_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPy_Dup(ctx, ctx->h_None);
}

HPyDef_METH(m_o, "m_o", HPyFunc_O, .doc = "one argument")
static HPy m_o_impl(HPyContext *ctx, HPy self, HPy arg)
{
    (void)self;
    return HPyTuple_Pack(ctx, 2, arg, arg);
}

HPyDef_METH(m_varargs, "m_varargs", HPyFunc_VARARGS, .doc = "positional")
static HPy m_varargs_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long a = 0;
    HPy b = HPy_NULL;
    (void)self;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "l|O", &a, &b))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, a);
}

HPyDef_METH(m_keywords, "m_keywords", HPyFunc_KEYWORDS)
static HPy m_keywords_impl(HPyContext *ctx, HPy self, const HPy *args,
                           size_t nargs, HPy kwnames)
{
    static const char *kwlist[] = { "a", "b", NULL };
    HPyTracker ht;
    long a = 0, b = 0;
    (void)self;
    if (!HPyArg_ParseKeywords(ctx, &ht, args, nargs, kwnames, "l|l", kwlist, &a, &b))
        return HPy_NULL;
    HPyTracker_Close(ctx, ht);
    return HPy_BuildValue(ctx, "(ll)", a, b);
}

HPyDef_METH_IMPL(m_custom, "m_custom", custom_named_impl, HPyFunc_NOARGS, .doc = "custom impl name")
static HPy custom_named_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromFormat(ctx, "%d-%s", 42, "x");
}

/* ---- slots: one per slot signature ----------------------------------- */

HPyDef_SLOT(p_new, HPy_tp_new)
static HPy p_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    PointObject *p;
    HPy h;
    static const char *kwlist[] = { "x", NULL };
    long x = 0;
    if (!HPyArg_ParseKeywordsDict(ctx, NULL, args, nargs, kw, "|l", kwlist, &x))
        return HPy_NULL;
    h = HPy_New(ctx, cls, &p);
    if (HPy_IsNull(h))
        return HPy_NULL;
    p->x = x;
    p->y = 0.0;
    p->payload = HPyField_NULL;
    return h;
}

HPyDef_SLOT(p_init, HPy_tp_init)
static int p_init_impl(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
{
    (void)ctx; (void)self; (void)args; (void)nargs; (void)kw;
    return 0;
}

HPyDef_SLOT(p_repr, HPy_tp_repr)
static HPy p_repr_impl(HPyContext *ctx, HPy self)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    return HPyUnicode_FromFormat(ctx, "Point(%ld)", p->x);
}

HPyDef_SLOT(p_str, HPy_tp_str)
static HPy p_str_impl(HPyContext *ctx, HPy self)
{
    return HPy_Repr(ctx, self);
}

HPyDef_SLOT(p_hash, HPy_tp_hash)
static HPy_hash_t p_hash_impl(HPyContext *ctx, HPy self)
{
    return (HPy_hash_t)PointObject_AsStruct(ctx, self)->x;
}

HPyDef_SLOT(p_richcmp, HPy_tp_richcompare)
static HPy p_richcmp_impl(HPyContext *ctx, HPy self, HPy other, HPy_RichCmpOp op)
{
    long a = PointObject_AsStruct(ctx, self)->x;
    long b = HPyLong_AsLong(ctx, other);
    HPy_RETURN_RICHCOMPARE(ctx, a, b, op);
}

HPyDef_SLOT(p_traverse, HPy_tp_traverse)
static int p_traverse_impl(void *object, HPyFunc_visitproc visit, void *arg)
{
    PointObject *p = (PointObject *)object;
    HPy_VISIT(&p->payload);
    return 0;
}

HPyDef_SLOT(p_destroy, HPy_tp_destroy)
static void p_destroy_impl(void *object)
{
    (void)object;
}

HPyDef_SLOT(p_finalize, HPy_tp_finalize)
static void p_finalize_impl(HPyContext *ctx, HPy self)
{
    (void)ctx; (void)self;
}

HPyDef_SLOT(p_call, HPy_tp_call)
static HPy p_call_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
{
    HPy tuple, kw;
    (void)self;
    if (!HPyHelpers_PackArgsAndKeywords(ctx, args, nargs, kwnames, &tuple, &kw))
        return HPy_NULL;
    HPy_Close(ctx, kw);
    return tuple;
}

HPyDef_SLOT(p_descr_get, HPy_tp_descr_get)
static HPy p_descr_get_impl(HPyContext *ctx, HPy self, HPy obj, HPy type)
{
    (void)obj; (void)type;
    return HPy_Dup(ctx, self);
}

HPyDef_SLOT(p_add, HPy_nb_add)
static HPy p_add_impl(HPyContext *ctx, HPy a, HPy b)
{
    return HPy_Add(ctx, a, b);
}

HPyDef_SLOT(p_pow, HPy_nb_power)
static HPy p_pow_impl(HPyContext *ctx, HPy a, HPy b, HPy c)
{
    return HPy_Power(ctx, a, b, c);
}

HPyDef_SLOT(p_neg, HPy_nb_negative)
static HPy p_neg_impl(HPyContext *ctx, HPy a)
{
    return HPy_Negative(ctx, a);
}

HPyDef_SLOT(p_bool, HPy_nb_bool)
static int p_bool_impl(HPyContext *ctx, HPy self)
{
    return PointObject_AsStruct(ctx, self)->x != 0;
}

HPyDef_SLOT(p_len, HPy_sq_length)
static HPy_ssize_t p_len_impl(HPyContext *ctx, HPy self)
{
    return PointObject_AsStruct(ctx, self)->count;
}

HPyDef_SLOT(p_item, HPy_sq_item)
static HPy p_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    (void)self;
    return HPyLong_FromSsize_t(ctx, i);
}

HPyDef_SLOT(p_ass_item, HPy_sq_ass_item)
static int p_ass_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i, HPy value)
{
    return HPy_SetItem_i(ctx, self, i, value);
}

HPyDef_SLOT(p_contains, HPy_sq_contains)
static int p_contains_impl(HPyContext *ctx, HPy self, HPy item)
{
    (void)self;
    return HPy_IsTrue(ctx, item);
}

HPyDef_SLOT(p_ass_sub, HPy_mp_ass_subscript)
static int p_ass_sub_impl(HPyContext *ctx, HPy self, HPy key, HPy value)
{
    if (HPy_IsNull(value))
        return HPy_DelItem(ctx, self, key);
    return HPy_SetItem(ctx, self, key, value);
}

HPyDef_SLOT(p_getbuf, HPy_bf_getbuffer)
static int p_getbuf_impl(HPyContext *ctx, HPy self, HPy_buffer *view, int flags)
{
    PointObject *p = PointObject_AsStruct(ctx, self);
    (void)flags;
    view->buf = &p->x;
    view->obj = HPy_Dup(ctx, self);
    view->len = (HPy_ssize_t)sizeof(p->x);
    view->itemsize = view->len;
    view->readonly = 1;
    view->ndim = 0;
    view->format = NULL;
    view->shape = view->strides = view->suboffsets = NULL;
    view->internal = NULL;
    return 0;
}

HPyDef_SLOT(p_relbuf, HPy_bf_releasebuffer)
static void p_relbuf_impl(HPyContext *ctx, HPy self, HPy_buffer *view)
{
    (void)ctx; (void)self; (void)view;
}

HPyDef_SLOT_IMPL(p_sub, custom_subtract, HPy_nb_subtract)
static HPy custom_subtract(HPyContext *ctx, HPy a, HPy b)
{
    return HPy_Subtract(ctx, a, b);
}

/* ---- members and descriptors ------------------------------------------ */

HPyDef_MEMBER(p_member_x, "x", HPyMember_LONG, offsetof(PointObject, x))
HPyDef_MEMBER(p_member_y, "y", HPyMember_DOUBLE, offsetof(PointObject, y),
              .readonly = 1, .doc = "read-only y")

HPyDef_GET(p_get_only, "get_only", .doc = "getter only")
static HPy p_get_only_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    return HPyField_Load(ctx, self, PointObject_AsStruct(ctx, self)->payload);
}

HPyDef_SET(p_set_only, "set_only")
static int p_set_only_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)closure;
    HPyField_Store(ctx, self, &PointObject_AsStruct(ctx, self)->payload, value);
    return 0;
}

static int getset_closure_marker;

HPyDef_GETSET(p_both, "both", .doc = "both", .closure = (void *)&getset_closure_marker)
static HPy p_both_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)self; (void)closure;
    return HPyBool_FromLong(ctx, 1);
}
static int p_both_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)closure;
    return HPy_SetAttr_s(ctx, self, "both_value", value);
}

HPyDef_GET_IMPL(p_get_named, "get_named", named_getter)
static HPy named_getter(HPyContext *ctx, HPy self, void *closure)
{
    (void)self; (void)closure;
    return HPyFloat_FromDouble(ctx, 1.5);
}

HPyDef_SET_IMPL(p_set_named, "set_named", named_setter)
static int named_setter(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)ctx; (void)self; (void)value; (void)closure;
    return 0;
}

HPyDef_GETSET_IMPL(p_getset_named, "getset_named", gs_get, gs_set, .doc = "named pair")
static HPy gs_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)self; (void)closure;
    return HPy_Dup(ctx, ctx->h_None);
}
static int gs_set(HPyContext *ctx, HPy self, HPy value, void *closure)
{
    (void)ctx; (void)self; (void)value; (void)closure;
    return 0;
}

/* ---- call function and capsule destructor ----------------------------- */

HPyDef_CALL_FUNCTION(p_special_call)
static HPy p_special_call_impl(HPyContext *ctx, HPy callable, const HPy *args,
                               size_t nargs, HPy kwnames)
{
    (void)callable; (void)args; (void)kwnames;
    return HPyLong_FromSize_t(ctx, nargs);
}

HPyCapsule_DESTRUCTOR(my_capsule_destructor)
static void my_capsule_destructor_impl(const char *name, void *pointer, void *context)
{
    (void)name; (void)context;
    free(pointer);
}

HPyDef_METH(m_capsules, "m_capsules", HPyFunc_NOARGS)
static HPy m_capsules_impl(HPyContext *ctx, HPy self)
{
    HPy cap = HPyCapsule_New(ctx, malloc(8), "usage.cap", &my_capsule_destructor);
    HPy obj = HPy_NULL;
    (void)self;
    if (HPy_IsNull(cap))
        return HPy_NULL;
    if (HPyCapsule_GetPointer(ctx, cap, "usage.cap") == NULL ||
        HPyCapsule_SetDestructor(ctx, cap, &my_capsule_destructor) < 0) {
        HPy_Close(ctx, cap);
        return HPy_NULL;
    }
    obj = HPyType_GenericNew(ctx, ctx->h_BaseObjectType, NULL, 0, HPy_NULL);
    if (!HPy_IsNull(obj) && HPy_SetCallFunction(ctx, obj, &p_special_call) < 0) {
        HPy_Close(ctx, obj);
        obj = HPy_NULL;
    }
    HPy_Close(ctx, obj);
    return cap;
}

/* ---- signatures only reachable through HPyFunc_DECLARE/TRAMPOLINE ------ */

HPyFunc_DECLARE(f_ssizessizearg, HPyFunc_SSIZESSIZEARGFUNC);
HPyFunc_TRAMPOLINE(f_ssizessizearg_tr, f_ssizessizearg, HPyFunc_SSIZESSIZEARGFUNC)
static HPy f_ssizessizearg(HPyContext *ctx, HPy o, HPy_ssize_t a, HPy_ssize_t b)
{
    return HPyUnicode_Substring(ctx, o, a, b);
}

HPyFunc_DECLARE(f_ssizessizeobjarg, HPyFunc_SSIZESSIZEOBJARGPROC);
HPyFunc_TRAMPOLINE(f_ssizessizeobjarg_tr, f_ssizessizeobjarg, HPyFunc_SSIZESSIZEOBJARGPROC)
static int f_ssizessizeobjarg(HPyContext *ctx, HPy o, HPy_ssize_t a, HPy_ssize_t b, HPy v)
{
    (void)ctx; (void)o; (void)a; (void)b; (void)v;
    return 0;
}

HPyFunc_DECLARE(f_free, HPyFunc_FREEFUNC);
HPyFunc_TRAMPOLINE(f_free_tr, f_free, HPyFunc_FREEFUNC)
static void f_free(HPyContext *ctx, void *p)
{
    (void)ctx;
    free(p);
}

HPyFunc_DECLARE(f_getattr, HPyFunc_GETATTRFUNC);
HPyFunc_TRAMPOLINE(f_getattr_tr, f_getattr, HPyFunc_GETATTRFUNC)
static HPy f_getattr(HPyContext *ctx, HPy o, char *name)
{
    return HPy_GetAttr_s(ctx, o, name);
}

HPyFunc_DECLARE(f_getattro, HPyFunc_GETATTROFUNC);
HPyFunc_TRAMPOLINE(f_getattro_tr, f_getattro, HPyFunc_GETATTROFUNC)
static HPy f_getattro(HPyContext *ctx, HPy o, HPy name)
{
    return HPy_GetAttr(ctx, o, name);
}

HPyFunc_DECLARE(f_setattr, HPyFunc_SETATTRFUNC);
HPyFunc_TRAMPOLINE(f_setattr_tr, f_setattr, HPyFunc_SETATTRFUNC)
static int f_setattr(HPyContext *ctx, HPy o, char *name, HPy v)
{
    if (HPy_IsNull(v))
        return HPy_DelAttr_s(ctx, o, name);
    return HPy_SetAttr_s(ctx, o, name, v);
}

HPyFunc_DECLARE(f_setattro, HPyFunc_SETATTROFUNC);
HPyFunc_TRAMPOLINE(f_setattro_tr, f_setattro, HPyFunc_SETATTROFUNC)
static int f_setattro(HPyContext *ctx, HPy o, HPy name, HPy v)
{
    if (HPy_IsNull(v))
        return HPy_DelAttr(ctx, o, name);
    return HPy_SetAttr(ctx, o, name, v);
}

HPyFunc_DECLARE(f_getiter, HPyFunc_GETITERFUNC);
HPyFunc_TRAMPOLINE(f_getiter_tr, f_getiter, HPyFunc_GETITERFUNC)
static HPy f_getiter(HPyContext *ctx, HPy o)
{
    return HPy_Dup(ctx, o);
}

HPyFunc_DECLARE(f_iternext, HPyFunc_ITERNEXTFUNC);
HPyFunc_TRAMPOLINE(f_iternext_tr, f_iternext, HPyFunc_ITERNEXTFUNC)
static HPy f_iternext(HPyContext *ctx, HPy o)
{
    (void)o;
    return HPyErr_SetObject(ctx, ctx->h_StopIteration, ctx->h_None);
}

HPyFunc_DECLARE(f_descrget, HPyFunc_DESCRGETFUNC);
HPyFunc_TRAMPOLINE(f_descrget_tr, f_descrget, HPyFunc_DESCRGETFUNC)
static HPy f_descrget(HPyContext *ctx, HPy self, HPy obj, HPy type)
{
    (void)obj; (void)type;
    return HPy_Dup(ctx, self);
}

HPyFunc_DECLARE(f_descrset, HPyFunc_DESCRSETFUNC);
HPyFunc_TRAMPOLINE(f_descrset_tr, f_descrset, HPyFunc_DESCRSETFUNC)
static int f_descrset(HPyContext *ctx, HPy self, HPy obj, HPy value)
{
    (void)ctx; (void)self; (void)obj; (void)value;
    return 0;
}

/* keep the stand-alone trampolines referenced (and compiled: mod_exec reads
   the volatile pointer, so even -O2 keeps the array and what it lists) */
typedef void (*any_fn)(void);
static any_fn standalone_trampolines[] = {
    (any_fn)f_ssizessizearg_tr, (any_fn)f_ssizessizeobjarg_tr, (any_fn)f_free_tr,
    (any_fn)f_getattr_tr, (any_fn)f_getattro_tr, (any_fn)f_setattr_tr,
    (any_fn)f_setattro_tr, (any_fn)f_getiter_tr, (any_fn)f_iternext_tr,
    (any_fn)f_descrget_tr, (any_fn)f_descrset_tr,
};
static any_fn *volatile standalone_trampolines_ref = standalone_trampolines;

/* ---- more helpers and macros ------------------------------------------ */

static HPyGlobal g_cache;
static HPyGlobal g_other;

HPyDef_METH(m_misc, "m_misc", HPyFunc_O)
static HPy m_misc_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_ssize_t start = 0, stop = 10, step = 1, n;
    HPy t, res;
    long long ll = HPyLong_AsLongLong(ctx, arg);
    unsigned long long ull = HPyLong_AsUnsignedLongLongMask(ctx, arg);
    unsigned long ul = HPyLong_AsUnsignedLong(ctx, arg) + HPyLong_AsUnsignedLongMask(ctx, arg);
    (void)self;
    if (HPySlice_Unpack(ctx, arg, &start, &stop, &step) < 0)
        return HPy_NULL;
    n = HPySlice_AdjustIndices(ctx, 10, &start, &stop, step);
    HPy_BEGIN_LEAVE_PYTHON(ctx)
        n += 1;
    HPy_END_LEAVE_PYTHON(ctx)
    HPyGlobal_Store(ctx, &g_cache, arg);
    t = HPyTuple_Pack(ctx, 3, HPyLong_FromLongLong(ctx, ll),
                      HPyLong_FromUnsignedLongLong(ctx, ull),
                      HPyLong_FromUnsignedLong(ctx, ul));
    res = HPy_CallMethodTupleDict_s(ctx, "count", t, t, HPy_NULL);
    HPy_Close(ctx, t);
    if (HPy_IsNull(res))
        return HPyErr_Format(ctx, ctx->h_ValueError, "failed after %zd", n);
    HPy_Close(ctx, res);
    res = HPyLong_FromPid(ctx, (long)HPyLong_AsPid(ctx, arg));
    HPy_Close(ctx, res);
    if (HPy_AsVoidP(HPy_FromVoidP(NULL)) != NULL)
        return HPyErr_SetFromErrno(ctx, ctx->h_OSError);
    if (n > 100)
        return HPyErr_SetFromErrnoWithFilenameObject(ctx, ctx->h_OSError, arg);
    return HPy_CallMethodTupleDict(ctx, arg, arg, arg, HPy_NULL);
}

static HPyStructSequence_Field seq_fields[] = {
    { "a", "first" },
    { NULL, NULL },   /* replaced by HPyStructSequence_UnnamedField below */
    { NULL, NULL },
};
static HPyStructSequence_Desc seq_desc = { "usage.Seq", "doc", seq_fields };

static HPyDef *point_defines[] = {
    &p_new, &p_init, &p_repr, &p_str, &p_hash, &p_richcmp, &p_traverse,
    &p_destroy, &p_finalize, &p_call, &p_descr_get, &p_add, &p_pow, &p_neg,
    &p_bool, &p_len, &p_item, &p_ass_item, &p_contains, &p_ass_sub,
    &p_getbuf, &p_relbuf, &p_sub, &p_member_x, &p_member_y, &p_get_only,
    &p_set_only, &p_both, &p_get_named, &p_set_named, &p_getset_named,
    NULL
};

static HPyType_Spec point_spec = {
    .name = "usage.Point",
    .basicsize = sizeof(PointObject),
    .itemsize = 0,
    .flags = HPy_TPFLAGS_DEFAULT | HPy_TPFLAGS_BASETYPE | HPy_TPFLAGS_HAVE_GC,
    .builtin_shape = SHAPE(PointObject),
    .legacy_slots = NULL,
    .defines = point_defines,
    .doc = "a point",
};

static HPyType_Spec tuple_spec = {
    .name = "usage.TupleSub",
    .basicsize = sizeof(TupleSub),
    .itemsize = 0,
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = SHAPE(TupleSub),
    .legacy_slots = NULL,
    .defines = NULL,
    .doc = NULL,
};

static HPyType_Spec legacy_spec = {
    .name = "usage.Legacy",
    .basicsize = sizeof(LegacyThing),
    .itemsize = 0,
    .flags = HPy_TPFLAGS_DEFAULT,
    .builtin_shape = SHAPE(LegacyThing),
    .legacy_slots = NULL,
    .defines = NULL,
    .doc = NULL,
};

HPyDef_SLOT(mod_exec, HPy_mod_exec)
static int mod_exec_impl(HPyContext *ctx, HPy m)
{
    HPyType_SpecParam params[] = {
        { HPyType_SpecParam_Base, ctx->h_TupleType },
        { (HPyType_SpecParam_Kind)0, HPy_NULL },
    };
    HPy seq;
    if (!HPyHelpers_AddType(ctx, m, "Point", &point_spec, NULL))
        return -1;
    if (!HPyHelpers_AddType(ctx, m, "TupleSub", &tuple_spec, params))
        return -1;
    if (!HPyHelpers_AddType(ctx, m, "Legacy", &legacy_spec, NULL))
        return -1;
    seq_fields[1].name = HPyStructSequence_UnnamedField;
    seq = HPyStructSequence_NewType(ctx, &seq_desc);
    if (HPy_IsNull(seq))
        return -1;
    HPy_Close(ctx, seq);
    (void)TupleSub_AsStruct; (void)LegacyThing_AsStruct;
    if (standalone_trampolines_ref == NULL)
        return -1;
    return 0;
}

HPyDef_SLOT(mod_create, HPy_mod_create)
static HPy mod_create_impl(HPyContext *ctx, HPy spec)
{
    (void)spec;
    return HPyErr_SetString(ctx, ctx->h_SystemError, "compile-only");
}

static HPyDef *module_defines[] = {
    &m_noargs, &m_o, &m_varargs, &m_keywords, &m_custom, &m_capsules,
    &m_misc, &mod_exec, &mod_create,
    NULL
};

static HPyGlobal *module_globals[] = { &g_cache, &g_other, NULL };

static HPyModuleDef moduledef = {
    .doc = "header usage test",
    .size = 0,
    .legacy_methods = NULL,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(usage, moduledef)
