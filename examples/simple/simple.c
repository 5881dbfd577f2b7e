/*
 * simple: a small HPy extension written against the public HPy API.
 *
 * It builds unchanged for every HPy ABI (python setup.py --hpy-abi=universal
 * build_ext --inplace, or --hpy-abi=hybrid, or --hpy-abi=cpython) and shows
 * one or more functions of each calling convention:
 *
 *   HPyFunc_NOARGS    answer(), context_name(), abi_version(), bump()
 *   HPyFunc_O         double(x), square(x), truthy(x), first(seq), type_name(x)
 *   HPyFunc_VARARGS   add_ints(*ints), mean(*numbers), apply(f, *args),
 *                     get_attr(obj, name), set_item(d, key, value),
 *                     checked_div(a, b)
 *   HPyFunc_KEYWORDS  greet(name, greeting=<module greeting>, punctuation="!"),
 *                     scale(x, factor=2, offset=0)
 *
 * plus a module-level HPyGlobal (the counter behind bump()) and an
 * HPy_mod_exec slot that initialises it and sets module attributes.
 * Argument unpacking is done by hand on purpose (no HPyArg_Parse).
 */
#include <string.h>
#include "hpy.h"

/* counter used by bump(); a module-level global handle */
static HPyGlobal g_counter;

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */

static int check_nargs(HPyContext *ctx, const char *fname, size_t nargs,
                       size_t min, size_t max)
{
    if (nargs < min || nargs > max) {
        /* keep the message simple: no HPyErr_Format helper needed */
        (void)fname;
        HPyErr_SetString(ctx, ctx->h_TypeError,
                         "wrong number of arguments");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* HPyFunc_NOARGS                                                      */
/* ------------------------------------------------------------------ */

HPyDef_METH(answer, "answer", HPyFunc_NOARGS,
            .doc = "answer() -> 42")
static HPy answer_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, 42);
}

HPyDef_METH(context_name, "context_name", HPyFunc_NOARGS,
            .doc = "Name of the HPy context this module runs with.")
static HPy context_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

HPyDef_METH(abi_version, "abi_version", HPyFunc_NOARGS,
            .doc = "(ctx->abi_version, HPY_ABI_VERSION, HPY_ABI) as seen from C.")
static HPy abi_version_impl(HPyContext *ctx, HPy self)
{
    HPy items[3];
    items[0] = HPyLong_FromLong(ctx, (long)ctx->abi_version);
    items[1] = HPyLong_FromLong(ctx, (long)HPY_ABI_VERSION);
    items[2] = HPyUnicode_FromString(ctx, HPY_ABI);
    HPy result = HPy_NULL;
    if (!HPy_IsNull(items[0]) && !HPy_IsNull(items[1]) && !HPy_IsNull(items[2]))
        result = HPyTuple_FromArray(ctx, items, 3);
    for (int i = 0; i < 3; i++)
        HPy_Close(ctx, items[i]);
    return result;
}

HPyDef_METH(bump, "bump", HPyFunc_NOARGS,
            .doc = "Increment the module counter (an HPyGlobal) and return it.")
static HPy bump_impl(HPyContext *ctx, HPy self)
{
    HPy current = HPyGlobal_Load(ctx, g_counter);
    if (HPy_IsNull(current))
        return HPy_NULL;
    HPy one = HPyLong_FromLong(ctx, 1);
    if (HPy_IsNull(one)) {
        HPy_Close(ctx, current);
        return HPy_NULL;
    }
    HPy next = HPy_Add(ctx, current, one);
    HPy_Close(ctx, current);
    HPy_Close(ctx, one);
    if (HPy_IsNull(next))
        return HPy_NULL;
    HPyGlobal_Store(ctx, &g_counter, next);
    return next;
}

/* ------------------------------------------------------------------ */
/* HPyFunc_O                                                           */
/* ------------------------------------------------------------------ */

HPyDef_METH(double_, "double", HPyFunc_O, .doc = "double(x) -> x + x")
static HPy double__impl(HPyContext *ctx, HPy self, HPy x)
{
    return HPy_Add(ctx, x, x);
}

HPyDef_METH(square, "square", HPyFunc_O, .doc = "square(x) -> x * x")
static HPy square_impl(HPyContext *ctx, HPy self, HPy x)
{
    return HPy_Multiply(ctx, x, x);
}

HPyDef_METH(truthy, "truthy", HPyFunc_O, .doc = "truthy(x) -> bool(x)")
static HPy truthy_impl(HPyContext *ctx, HPy self, HPy x)
{
    int res = HPy_IsTrue(ctx, x);
    if (res < 0)
        return HPy_NULL;
    return HPyBool_FromLong(ctx, res);
}

HPyDef_METH(first, "first", HPyFunc_O, .doc = "first(seq) -> seq[0]")
static HPy first_impl(HPyContext *ctx, HPy self, HPy seq)
{
    return HPy_GetItem_i(ctx, seq, 0);
}

HPyDef_METH(type_name, "type_name", HPyFunc_O,
            .doc = "type_name(x) -> type(x).__name__")
static HPy type_name_impl(HPyContext *ctx, HPy self, HPy x)
{
    HPy tp = HPy_Type(ctx, x);
    if (HPy_IsNull(tp))
        return HPy_NULL;
    HPy name = HPy_GetAttr_s(ctx, tp, "__name__");
    HPy_Close(ctx, tp);
    return name;
}

/* ------------------------------------------------------------------ */
/* HPyFunc_VARARGS                                                     */
/* ------------------------------------------------------------------ */

HPyDef_METH(add_ints, "add_ints", HPyFunc_VARARGS,
            .doc = "add_ints(*ints) -> sum computed with C longs")
static HPy add_ints_impl(HPyContext *ctx, HPy self,
                         const HPy *args, size_t nargs)
{
    long total = 0;
    for (size_t i = 0; i < nargs; i++) {
        long v = HPyLong_AsLong(ctx, args[i]);
        if (v == -1 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        total += v;
    }
    return HPyLong_FromLong(ctx, total);
}

HPyDef_METH(mean, "mean", HPyFunc_VARARGS,
            .doc = "mean(*numbers) -> arithmetic mean as a float")
static HPy mean_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs == 0) {
        HPyErr_SetString(ctx, ctx->h_ValueError,
                         "mean() needs at least one number");
        return HPy_NULL;
    }
    double sum = 0.0;
    for (size_t i = 0; i < nargs; i++) {
        double v = HPyFloat_AsDouble(ctx, args[i]);
        if (v == -1.0 && HPyErr_Occurred(ctx))
            return HPy_NULL;
        sum += v;
    }
    return HPyFloat_FromDouble(ctx, sum / (double)nargs);
}

HPyDef_METH(apply, "apply", HPyFunc_VARARGS,
            .doc = "apply(f, *args) -> f(*args), through HPy_Call")
static HPy apply_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs < 1) {
        HPyErr_SetString(ctx, ctx->h_TypeError,
                         "apply() needs a callable");
        return HPy_NULL;
    }
    if (!HPyCallable_Check(ctx, args[0])) {
        HPyErr_SetString(ctx, ctx->h_TypeError,
                         "apply(): first argument must be callable");
        return HPy_NULL;
    }
    return HPy_Call(ctx, args[0], args + 1, nargs - 1, HPy_NULL);
}

HPyDef_METH(get_attr, "get_attr", HPyFunc_VARARGS,
            .doc = "get_attr(obj, name) -> getattr(obj, name)")
static HPy get_attr_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (check_nargs(ctx, "get_attr", nargs, 2, 2) < 0)
        return HPy_NULL;
    HPy_ssize_t size;
    const char *name = HPyUnicode_AsUTF8AndSize(ctx, args[1], &size);
    if (name == NULL)
        return HPy_NULL;
    return HPy_GetAttr_s(ctx, args[0], name);
}

HPyDef_METH(set_item, "set_item", HPyFunc_VARARGS,
            .doc = "set_item(d, key, value): d[key] = value; returns d[key]")
static HPy set_item_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (check_nargs(ctx, "set_item", nargs, 3, 3) < 0)
        return HPy_NULL;
    const char *key = HPyUnicode_AsUTF8AndSize(ctx, args[1], NULL);
    if (key == NULL)
        return HPy_NULL;
    if (HPy_SetItem_s(ctx, args[0], key, args[2]) < 0)
        return HPy_NULL;
    return HPy_GetItem_s(ctx, args[0], key);
}

HPyDef_METH(checked_div, "checked_div", HPyFunc_VARARGS,
            .doc = "checked_div(a, b) -> a // b on C longs; ValueError if b == 0")
static HPy checked_div_impl(HPyContext *ctx, HPy self,
                            const HPy *args, size_t nargs)
{
    if (check_nargs(ctx, "checked_div", nargs, 2, 2) < 0)
        return HPy_NULL;
    long a = HPyLong_AsLong(ctx, args[0]);
    if (a == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    long b = HPyLong_AsLong(ctx, args[1]);
    if (b == -1 && HPyErr_Occurred(ctx))
        return HPy_NULL;
    if (b == 0) {
        HPyErr_SetString(ctx, ctx->h_ValueError,
                         "simple.checked_div: division by zero");
        return HPy_NULL;
    }
    long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q -= 1;    /* floor division, like Python's // */
    return HPyLong_FromLong(ctx, q);
}

/* ------------------------------------------------------------------ */
/* HPyFunc_KEYWORDS                                                    */
/* ------------------------------------------------------------------ */

/* Find the value passed for keyword `name`: keyword values follow the
   positional ones in `args`, in the order of the `kwnames` tuple.
   Returns 1 and sets *out (borrowed) if found, 0 if not, -1 on error. */
static int find_kwarg(HPyContext *ctx, const HPy *args, size_t nargs,
                      HPy kwnames, const char *name, HPy *out)
{
    if (HPy_IsNull(kwnames))
        return 0;
    HPy_ssize_t nkw = HPy_Length(ctx, kwnames);
    if (nkw < 0)
        return -1;
    for (HPy_ssize_t i = 0; i < nkw; i++) {
        HPy key = HPy_GetItem_i(ctx, kwnames, i);
        if (HPy_IsNull(key))
            return -1;
        const char *s = HPyUnicode_AsUTF8AndSize(ctx, key, NULL);
        int match = (s != NULL && strcmp(s, name) == 0);
        HPy_Close(ctx, key);
        if (s == NULL)
            return -1;
        if (match) {
            *out = args[nargs + (size_t)i];
            return 1;
        }
    }
    return 0;
}

/* Reject keywords other than the `n` names in `allowed`. */
static int check_kwnames(HPyContext *ctx, HPy kwnames,
                         const char *const *allowed, int n)
{
    if (HPy_IsNull(kwnames))
        return 0;
    HPy_ssize_t nkw = HPy_Length(ctx, kwnames);
    if (nkw < 0)
        return -1;
    for (HPy_ssize_t i = 0; i < nkw; i++) {
        HPy key = HPy_GetItem_i(ctx, kwnames, i);
        if (HPy_IsNull(key))
            return -1;
        const char *s = HPyUnicode_AsUTF8AndSize(ctx, key, NULL);
        int ok = 0;
        for (int j = 0; s != NULL && j < n; j++)
            if (strcmp(s, allowed[j]) == 0)
                ok = 1;
        HPy_Close(ctx, key);
        if (s == NULL)
            return -1;
        if (!ok) {
            HPyErr_SetString(ctx, ctx->h_TypeError,
                             "unexpected keyword argument");
            return -1;
        }
    }
    return 0;
}

/* Positional argument `pos` or keyword `name` (borrowed), else `dflt`. */
static int get_param(HPyContext *ctx, const HPy *args, size_t nargs,
                     HPy kwnames, size_t pos, const char *name,
                     HPy dflt, HPy *out)
{
    HPy kw = HPy_NULL;
    int found = find_kwarg(ctx, args, nargs, kwnames, name, &kw);
    if (found < 0)
        return -1;
    if (pos < nargs) {
        if (found) {
            HPyErr_SetString(ctx, ctx->h_TypeError,
                             "argument given by name and position");
            return -1;
        }
        *out = args[pos];
    } else if (found) {
        *out = kw;
    } else {
        *out = dflt;
    }
    return 0;
}

HPyDef_METH(greet, "greet", HPyFunc_KEYWORDS,
            .doc = "greet(name, greeting=simple.greeting, punctuation='!') -> str")
static HPy greet_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                      HPy kwnames)
{
    static const char *const allowed[] = {"name", "greeting", "punctuation"};
    HPy name, greeting, punctuation;
    HPy result = HPy_NULL;
    HPy h_default_greeting = HPy_NULL, h_default_punct = HPy_NULL;
    HPy sep = HPy_NULL, t1 = HPy_NULL, t2 = HPy_NULL, t3 = HPy_NULL;

    if (nargs > 3) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "greet() takes at most 3 arguments");
        return HPy_NULL;
    }
    if (check_kwnames(ctx, kwnames, allowed, 3) < 0)
        return HPy_NULL;
    if (get_param(ctx, args, nargs, kwnames, 0, "name", HPy_NULL, &name) < 0)
        return HPy_NULL;
    if (HPy_IsNull(name)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "greet() missing argument 'name'");
        return HPy_NULL;
    }
    /* the default greeting is the module attribute set by the exec slot */
    h_default_greeting = HPy_GetAttr_s(ctx, self, "greeting");
    if (HPy_IsNull(h_default_greeting))
        goto done;
    h_default_punct = HPyUnicode_FromString(ctx, "!");
    if (HPy_IsNull(h_default_punct))
        goto done;
    if (get_param(ctx, args, nargs, kwnames, 1, "greeting",
                  h_default_greeting, &greeting) < 0)
        goto done;
    if (get_param(ctx, args, nargs, kwnames, 2, "punctuation",
                  h_default_punct, &punctuation) < 0)
        goto done;
    if (!HPyUnicode_Check(ctx, name) || !HPyUnicode_Check(ctx, greeting) ||
            !HPyUnicode_Check(ctx, punctuation)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "greet() arguments must be str");
        goto done;
    }
    /* greeting + ", " + name + punctuation, with the number protocol */
    sep = HPyUnicode_FromString(ctx, ", ");
    if (HPy_IsNull(sep))
        goto done;
    t1 = HPy_Add(ctx, greeting, sep);
    if (HPy_IsNull(t1))
        goto done;
    t2 = HPy_Add(ctx, t1, name);
    if (HPy_IsNull(t2))
        goto done;
    t3 = HPy_Add(ctx, t2, punctuation);
    result = t3;
    t3 = HPy_NULL;
 done:
    HPy_Close(ctx, h_default_greeting);
    HPy_Close(ctx, h_default_punct);
    HPy_Close(ctx, sep);
    HPy_Close(ctx, t1);
    HPy_Close(ctx, t2);
    HPy_Close(ctx, t3);
    return result;
}

HPyDef_METH(scale, "scale", HPyFunc_KEYWORDS,
            .doc = "scale(x, factor=2, offset=0) -> x * factor + offset")
static HPy scale_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs,
                      HPy kwnames)
{
    static const char *const allowed[] = {"x", "factor", "offset"};
    HPy x, factor, offset;
    HPy result = HPy_NULL;
    HPy two = HPy_NULL, zero = HPy_NULL, prod = HPy_NULL;

    if (nargs > 3) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "scale() takes at most 3 arguments");
        return HPy_NULL;
    }
    if (check_kwnames(ctx, kwnames, allowed, 3) < 0)
        return HPy_NULL;
    if (get_param(ctx, args, nargs, kwnames, 0, "x", HPy_NULL, &x) < 0)
        return HPy_NULL;
    if (HPy_IsNull(x)) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "scale() missing argument 'x'");
        return HPy_NULL;
    }
    two = HPyLong_FromLong(ctx, 2);
    zero = HPyLong_FromLong(ctx, 0);
    if (HPy_IsNull(two) || HPy_IsNull(zero))
        goto done;
    if (get_param(ctx, args, nargs, kwnames, 1, "factor", two, &factor) < 0)
        goto done;
    if (get_param(ctx, args, nargs, kwnames, 2, "offset", zero, &offset) < 0)
        goto done;
    prod = HPy_Multiply(ctx, x, factor);
    if (HPy_IsNull(prod))
        goto done;
    result = HPy_Add(ctx, prod, offset);
 done:
    HPy_Close(ctx, two);
    HPy_Close(ctx, zero);
    HPy_Close(ctx, prod);
    return result;
}

/* ------------------------------------------------------------------ */
/* module                                                              */
/* ------------------------------------------------------------------ */

HPyDef_SLOT(simple_exec, HPy_mod_exec)
static int simple_exec_impl(HPyContext *ctx, HPy m)
{
    HPy zero = HPyLong_FromLong(ctx, 0);
    if (HPy_IsNull(zero))
        return -1;
    HPyGlobal_Store(ctx, &g_counter, zero);
    HPy_Close(ctx, zero);

    HPy greeting = HPyUnicode_FromString(ctx, "Hello");
    if (HPy_IsNull(greeting))
        return -1;
    int rc = HPy_SetAttr_s(ctx, m, "greeting", greeting);
    HPy_Close(ctx, greeting);
    if (rc < 0)
        return -1;

    HPy abi = HPyUnicode_FromString(ctx, HPY_ABI);
    if (HPy_IsNull(abi))
        return -1;
    rc = HPy_SetAttr_s(ctx, m, "hpy_abi", abi);
    HPy_Close(ctx, abi);
    return rc;
}

static HPyDef *module_defines[] = {
    &answer, &context_name, &abi_version, &bump,
    &double_, &square, &truthy, &first, &type_name,
    &add_ints, &mean, &apply, &get_attr, &set_item, &checked_div,
    &greet, &scale,
    &simple_exec,
    NULL
};

static HPyGlobal *module_globals[] = {
    &g_counter,
    NULL
};

static HPyModuleDef moduledef = {
    .doc = "simple: an example HPy extension (built for the " HPY_ABI " ABI)",
    .size = 0,
    .defines = module_defines,
    .globals = module_globals,
};

HPy_MODINIT(simple, moduledef)
