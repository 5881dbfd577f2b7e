/*
 * array_hpy: a small array of doubles (a piconumpy-like `Array`) written
 * against the HPy API, the extension behind scripts/bench.py's `rk4_*`
 * workloads. bench.py builds it next to bench_hpy.c, for each ABI (universal,
 * cpython) with our hpy.devel and with upstream's; array_capi.c is the same
 * type written against Python.h, with the same semantics, operation for
 * operation.
 *
 *   Array(list_of_floats)     a copy of the list's items as doubles
 *   a + b, a - b, a * b       element-wise, both Arrays of the same size
 *   a + x, x + a, a - x, x - a, a * x, x * a
 *                             with a number x (int or float)
 *   a / x                     divided by a number
 *   len(a), a[i], a.tolist()
 *
 * Every operation returns a new Array (HPy_New + malloc of its buffer); the
 * buffer is freed by HPy_tp_destroy. Anything else returns NotImplemented
 * (so Python raises its TypeError); Arrays of different sizes raise
 * ValueError.
 */
#include <stdlib.h>
#include "hpy.h"

typedef struct {
    HPy_ssize_t size;
    double *data;
} ArrayObject;

HPyType_HELPERS(ArrayObject)

static HPyGlobal g_Array;

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

/* A new Array of `size` items (uninitialised) of type `type`. */
static HPy Array_empty(HPyContext *ctx, HPy type, HPy_ssize_t size, ArrayObject **out)
{
    ArrayObject *a = NULL;
    HPy h = HPy_New(ctx, type, &a);
    if (HPy_IsNull(h))
        return HPy_NULL;
    a->size = size;
    a->data = (double *)malloc(size > 0 ? (size_t)size * sizeof(double) : 1);
    if (a->data == NULL) {
        HPy_Close(ctx, h);
        return HPyErr_NoMemory(ctx);
    }
    *out = a;
    return h;
}

HPyDef_SLOT(Array_destroy, HPy_tp_destroy)
static void Array_destroy_impl(void *obj)
{
    free(((ArrayObject *)obj)->data);
}

/* Array(list_of_floats) */
HPyDef_SLOT(Array_new, HPy_tp_new)
static HPy Array_new_impl(HPyContext *ctx, HPy cls, const HPy *args, HPy_ssize_t nargs,
                          HPy kw)
{
    if (nargs != 1 || (!HPy_IsNull(kw) && HPy_Length(ctx, kw) != 0))
        return HPyErr_SetString(ctx, ctx->h_TypeError,
                                "Array() takes exactly one argument, a list of floats");
    if (!HPyList_Check(ctx, args[0]))
        return HPyErr_SetString(ctx, ctx->h_TypeError, "Array(): a list is expected");
    HPy_ssize_t n = HPy_Length(ctx, args[0]);
    if (n < 0)
        return HPy_NULL;
    ArrayObject *a = NULL;
    HPy h = Array_empty(ctx, cls, n, &a);
    if (HPy_IsNull(h))
        return HPy_NULL;
    for (HPy_ssize_t i = 0; i < n; i++) {
        HPy item = HPy_GetItem_i(ctx, args[0], i);
        if (HPy_IsNull(item)) {
            HPy_Close(ctx, h);
            return HPy_NULL;
        }
        double v = HPyFloat_AsDouble(ctx, item);
        HPy_Close(ctx, item);
        if (v == -1.0 && HPyErr_Occurred(ctx)) {
            HPy_Close(ctx, h);
            return HPy_NULL;
        }
        a->data[i] = v;
    }
    return h;
}

/* ------------------------------------------------------------ arithmetic */

/* `h` as a double if it is a number (int or float): 1; an Array or anything
   else: 0 (NotImplemented); error: -1. */
static int as_number(HPyContext *ctx, HPy h, double *out)
{
    if (!HPyNumber_Check(ctx, h))
        return 0;
    *out = HPyFloat_AsDouble(ctx, h);
    if (*out == -1.0 && HPyErr_Occurred(ctx))
        return -1;
    return 1;
}

/* a op b, element-wise (op is not OP_DIV) */
static HPy array_array(HPyContext *ctx, HPy type, ArrayObject *a, ArrayObject *b, int op)
{
    if (a->size != b->size)
        return HPyErr_SetString(ctx, ctx->h_ValueError, "Arrays of different sizes");
    ArrayObject *r = NULL;
    HPy h = Array_empty(ctx, type, a->size, &r);
    if (HPy_IsNull(h))
        return HPy_NULL;
    const double *x = a->data, *y = b->data;
    double *z = r->data;
    HPy_ssize_t n = a->size;
    switch (op) {
    case OP_ADD: for (HPy_ssize_t i = 0; i < n; i++) z[i] = x[i] + y[i]; break;
    case OP_SUB: for (HPy_ssize_t i = 0; i < n; i++) z[i] = x[i] - y[i]; break;
    case OP_MUL: for (HPy_ssize_t i = 0; i < n; i++) z[i] = x[i] * y[i]; break;
    }
    return h;
}

/* a op s, or s op a if `reflected` */
static HPy array_scalar(HPyContext *ctx, HPy type, ArrayObject *a, double s, int op,
                        int reflected)
{
    ArrayObject *r = NULL;
    HPy h = Array_empty(ctx, type, a->size, &r);
    if (HPy_IsNull(h))
        return HPy_NULL;
    const double *x = a->data;
    double *z = r->data;
    HPy_ssize_t n = a->size;
    switch (op) {
    case OP_ADD: for (HPy_ssize_t i = 0; i < n; i++) z[i] = x[i] + s; break;
    case OP_SUB:
        if (reflected)
            for (HPy_ssize_t i = 0; i < n; i++) z[i] = s - x[i];
        else
            for (HPy_ssize_t i = 0; i < n; i++) z[i] = x[i] - s;
        break;
    case OP_MUL: for (HPy_ssize_t i = 0; i < n; i++) z[i] = x[i] * s; break;
    case OP_DIV: for (HPy_ssize_t i = 0; i < n; i++) z[i] = x[i] / s; break;
    }
    return h;
}

/* The number slots: h1 or h2 (or both) is an Array. */
static HPy Array_binop(HPyContext *ctx, HPy h1, HPy h2, int op)
{
    HPy type = HPyGlobal_Load(ctx, g_Array);
    int is1 = HPy_TypeCheck(ctx, h1, type);
    int is2 = HPy_TypeCheck(ctx, h2, type);
    HPy res;
    double s;
    int rc;
    if (is1 && is2) {
        res = op == OP_DIV ? HPy_Dup(ctx, ctx->h_NotImplemented)
            : array_array(ctx, type, ArrayObject_AsStruct(ctx, h1),
                          ArrayObject_AsStruct(ctx, h2), op);
    }
    else if (!is1 && !is2) {
        res = HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    else if ((rc = as_number(ctx, is1 ? h2 : h1, &s)) < 0) {
        res = HPy_NULL;
    }
    else if (rc == 0 || (op == OP_DIV && is2)) {
        res = HPy_Dup(ctx, ctx->h_NotImplemented);
    }
    else {
        res = array_scalar(ctx, type, ArrayObject_AsStruct(ctx, is1 ? h1 : h2), s, op, is2);
    }
    HPy_Close(ctx, type);
    return res;
}

HPyDef_SLOT(Array_add, HPy_nb_add)
static HPy Array_add_impl(HPyContext *ctx, HPy h1, HPy h2)
{
    return Array_binop(ctx, h1, h2, OP_ADD);
}

HPyDef_SLOT(Array_sub, HPy_nb_subtract)
static HPy Array_sub_impl(HPyContext *ctx, HPy h1, HPy h2)
{
    return Array_binop(ctx, h1, h2, OP_SUB);
}

HPyDef_SLOT(Array_mul, HPy_nb_multiply)
static HPy Array_mul_impl(HPyContext *ctx, HPy h1, HPy h2)
{
    return Array_binop(ctx, h1, h2, OP_MUL);
}

HPyDef_SLOT(Array_div, HPy_nb_true_divide)
static HPy Array_div_impl(HPyContext *ctx, HPy h1, HPy h2)
{
    return Array_binop(ctx, h1, h2, OP_DIV);
}

/* ------------------------------------------------------------ sequence */

HPyDef_SLOT(Array_len, HPy_sq_length)
static HPy_ssize_t Array_len_impl(HPyContext *ctx, HPy self)
{
    return ArrayObject_AsStruct(ctx, self)->size;
}

/* negative indices are made positive by CPython (sq_item), in both ABIs */
HPyDef_SLOT(Array_item, HPy_sq_item)
static HPy Array_item_impl(HPyContext *ctx, HPy self, HPy_ssize_t i)
{
    ArrayObject *a = ArrayObject_AsStruct(ctx, self);
    if (i < 0 || i >= a->size)
        return HPyErr_SetString(ctx, ctx->h_IndexError, "Array index out of range");
    return HPyFloat_FromDouble(ctx, a->data[i]);
}

HPyDef_METH(Array_tolist, "tolist", HPyFunc_NOARGS)
static HPy Array_tolist_impl(HPyContext *ctx, HPy self)
{
    ArrayObject *a = ArrayObject_AsStruct(ctx, self);
    HPyListBuilder b = HPyListBuilder_New(ctx, a->size);
    for (HPy_ssize_t i = 0; i < a->size; i++) {
        HPy item = HPyFloat_FromDouble(ctx, a->data[i]);
        if (HPy_IsNull(item)) {
            HPyListBuilder_Cancel(ctx, b);
            return HPy_NULL;
        }
        HPyListBuilder_Set(ctx, b, i, item);
        HPy_Close(ctx, item);
    }
    return HPyListBuilder_Build(ctx, b);
}

static HPyDef *Array_defines[] = {
    &Array_new, &Array_destroy, &Array_add, &Array_sub, &Array_mul, &Array_div,
    &Array_len, &Array_item, &Array_tolist, NULL
};

static HPyType_Spec Array_spec = {
    .name = "array_hpy.Array",
    .basicsize = sizeof(ArrayObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .defines = Array_defines,
};

/* ------------------------------------------------------------ module */

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

HPyDef_SLOT(array_exec, HPy_mod_exec)
static int array_exec_impl(HPyContext *ctx, HPy m)
{
    HPy t = HPyType_FromSpec(ctx, &Array_spec, NULL);
    if (HPy_IsNull(t))
        return -1;
    HPyGlobal_Store(ctx, &g_Array, t);
    int rc = HPy_SetAttr_s(ctx, m, "Array", t);
    HPy_Close(ctx, t);
    return rc;
}

static HPyDef *module_defines[] = {&ctx_name, &array_exec, NULL};

static HPyGlobal *module_globals[] = {&g_Array, NULL};

static HPyModuleDef moduledef = {
    .doc = "a small array of doubles (HPy API), for scripts/bench.py",
    .size = 0,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(array_hpy, moduledef)
