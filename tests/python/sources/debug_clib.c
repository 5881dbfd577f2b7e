/* A runtime's use of libhpy_debug (hpy_debug.h, hpy_trace.h), driven by
 * tests/python/test_debug_clib.py: embed CPython, take hpy.universal's
 * universal context, wrap it in the debug context through the C API, open
 * and close handles through it, leak one, list the leaks, and finally use a
 * closed handle, which the debug mode reports (naming the API function) and
 * stops the process on. Everything seen is printed; the test checks it.
 */
#include "hpy.h"
#include "hpy_debug.h"
#include "hpy_trace.h"
#include <stdio.h>
#include <string.h>

#define HVAL(h) ((unsigned long)(h)._i)

static int failures = 0;

/* A member a runtime replaces in its copy of the debug context. */
static double replaced_Float_AsDouble(HPyContext *ctx, HPy h)
{
    return 4.5;
}

static void check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok)
        failures++;
}

/* Prints and clears the pending exception: "refused: <message>". */
static void print_refusal(const char *call)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (value == NULL) {
        printf("FAILED: %s set no exception\n", call);
        failures++;
    } else {
        PyObject *s = PyObject_Str(value);
        printf("refused: %s: %s: %s\n", call, ((PyTypeObject *)type)->tp_name,
               s ? PyUnicode_AsUTF8(s) : "?");
        Py_XDECREF(s);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* The repr of a debug handle, through the debug context. */
static void print_repr(HPyContext *dctx, const char *label, HPy h)
{
    HPy r = HPy_Repr(dctx, h);
    HPy_ssize_t n;
    const char *s = HPyUnicode_AsUTF8AndSize(dctx, r, &n);
    printf("%s 0x%lx: %s\n", label, HVAL(h), s ? s : "?");
    HPy_Close(dctx, r);
}

int main(void)
{
    Py_Initialize();
    /* PyCapsule_Import imports only the top-level package */
    PyObject *universal = PyImport_ImportModule("hpy.universal");
    HPyContext *uctx = NULL;
    if (universal != NULL)
        uctx = (HPyContext *)PyCapsule_Import("hpy.universal._context", 0);
    if (uctx == NULL) {
        PyErr_Print();
        return 2;
    }
    printf("universal context: %s\n", uctx->name);

    /* What the C API refuses, before and after the debug context exists. */
    check(hpy_debug_get_ctx(NULL) == NULL, "hpy_debug_get_ctx(NULL) is NULL");
    print_refusal("hpy_debug_get_ctx(NULL)");
    check(HPy_IsNull(hpy_debug_open_handle(uctx, uctx->h_None)),
          "hpy_debug_open_handle(uctx, ...) is HPy_NULL");
    print_refusal("hpy_debug_open_handle(uctx, ...)");

    HPyContext *dctx = hpy_debug_get_ctx(uctx);
    if (dctx == NULL) {
        PyErr_Print();
        return 2;
    }
    printf("debug context: %s\n", dctx->name);
    check(hpy_debug_get_ctx(uctx) == dctx, "the same debug context every time");
    check(hpy_debug_get_ctx(dctx) == NULL, "a debug context is not wrapped");
    print_refusal("hpy_debug_get_ctx(dctx)");
    check(hpy_rs_debug_get_open_handles(dctx, 0, NULL, -1) == -1,
          "a negative size is refused");
    print_refusal("hpy_rs_debug_get_open_handles(size=-1)");

    struct _HPyContext_s copy;
    memset(&copy, 0, sizeof(copy));
    check(hpy_debug_ctx_init(&copy, uctx) == 0 && copy.ctx_Dup == dctx->ctx_Dup,
          "hpy_debug_ctx_init fills a copy of the debug context");

    int64_t gen = hpy_rs_debug_new_generation(dctx);
    printf("generation: %lld\n", (long long)gen);

    /* Handles through the debug context: two closed, one leaked. */
    HPy one = HPyLong_FromLong(dctx, 1);
    HPy two = HPyLong_FromLong(&copy, 2);
    HPy leaked = HPyUnicode_FromString(dctx, "leaked by debug_clib.c");
    printf("opened 0x%lx 0x%lx 0x%lx\n", HVAL(one), HVAL(two), HVAL(leaked));
    HPy_Close(dctx, two);

    /* A universal handle wrapped, unwrapped and closed through the C API. */
    PyObject *answer = PyLong_FromLong(42);
    HPy uh = HPy_FromPyObject(uctx, answer);
    Py_DECREF(answer);
    HPy dh = hpy_debug_open_handle(dctx, uh);
    check(hpy_debug_unwrap_handle(dctx, dh)._i == uh._i, "hpy_debug_unwrap_handle gives back uh");
    check(HPyLong_AsLong(dctx, dh) == 42, "the debug handle reads 42");
    hpy_debug_close_handle(dctx, dh);

    /* One handle (`one`) is still to be closed: two are open now. */
    HPy open[8];
    HPy_ssize_t n = hpy_rs_debug_get_open_handles(dctx, gen, open, 8);
    printf("open before closing: %zd\n", (Py_ssize_t)n);
    HPy_Close(dctx, one);

    n = hpy_rs_debug_get_open_handles(dctx, gen, open, 8);
    printf("leaks: %zd\n", (Py_ssize_t)n);
    for (HPy_ssize_t i = 0; i < n && i < 8; i++)
        print_repr(dctx, "leak: handle", open[i]);

    /* The trace context over the same universal context. */
    HPyContext *tctx = hpy_trace_get_ctx(uctx);
    check(tctx != NULL && tctx != dctx, "hpy_trace_get_ctx");
    printf("trace context: %s\n", tctx ? tctx->name : "?");
    HPy t = HPyLong_FromLong(tctx, 7);
    check(HPyLong_AsLong(tctx, t) == 7, "calls through the trace context");
    HPy_Close(tctx, t);
    printf("trace: %d functions, member 77 is %s\n", hpy_trace_get_nfunc(),
           hpy_trace_get_func_name(77));
    check(hpy_trace_ctx_free(dctx) == -1, "hpy_trace_ctx_free(dctx) is refused");
    print_refusal("hpy_trace_ctx_free(dctx)");
    check(hpy_trace_ctx_free(tctx) == 0, "hpy_trace_ctx_free(tctx)");

    /* hpy_debug_set_ctx: the members of a filled copy, not its identity */
    hpy_debug_set_ctx(uctx);
    print_refusal("hpy_debug_set_ctx(uctx)");
    void *identity = dctx->_private;
    copy.ctx_Float_AsDouble = replaced_Float_AsDouble;
    hpy_debug_set_ctx(&copy);
    check(HPyFloat_AsDouble(dctx, leaked) == 4.5 && dctx->_private == identity,
          "hpy_debug_set_ctx replaces a member and keeps the identity");
    copy.ctx_Float_AsDouble = NULL;
    hpy_debug_set_ctx(&copy);
    print_refusal("hpy_debug_set_ctx(NULL member)");

    /* The Python faces, as a runtime linking the library gets them. */
    const char *names[2][3] = {{"get_open_handles", "new_generation", "set_on_invalid_handle"},
                               {"get_call_counts", "set_trace_functions", NULL}};
    HPyModuleDef *defs[2] = {HPyInit__debug(), HPyInit__trace()};
    for (int m = 0; m < 2; m++) {
        int found = 0, wanted = 0;
        for (int w = 0; w < 3 && names[m][w]; w++, wanted++)
            for (HPyDef **d = defs[m] ? defs[m]->defines : NULL; d && *d; d++)
                if ((*d)->kind == HPyDef_Kind_Meth && strcmp((*d)->meth.name, names[m][w]) == 0)
                    found++;
        printf("module definition %s: %d of %d functions found\n",
               m == 0 ? "HPyInit__debug" : "HPyInit__trace", found, wanted);
        check(found == wanted, "the module definitions list their functions");
    }

    printf("failures: %d\n", failures);
    /* Use after close: the debug mode names the API function and stops the
       process (Py_FatalError), so this comes last. */
    printf("using closed handle 0x%lx\n", HVAL(one));
    fflush(stdout);
    HPy_Repr(dctx, one);
    printf("not reported\n");
    return 1;
}
