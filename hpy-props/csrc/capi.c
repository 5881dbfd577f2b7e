/*
 * The C API side of the argument-parsing and build-value properties:
 * PyArg_ParseTuple and PyArg_ParseTupleAndKeywords handed PROPS_MAX_OUTS
 * output pointers (a format uses the first ones), Py_BuildValue handed
 * variadic arguments of the kinds the test chose (through libffi).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "props.h"
#include "variadic.h"
#include <string.h>

#define OUTS outs[0], outs[1], outs[2], outs[3], outs[4], outs[5], outs[6], \
    outs[7], outs[8], outs[9], outs[10], outs[11], outs[12], outs[13],      \
    outs[14], outs[15]

int props_capi_parse_tuple(PyObject *args, const char *fmt, void *const *outs)
{
    return PyArg_ParseTuple(args, fmt, OUTS);
}

int props_capi_parse_tuple_and_keywords(PyObject *args, PyObject *kw,
                                        const char *fmt, char **keywords,
                                        void *const *outs)
{
    return PyArg_ParseTupleAndKeywords(args, kw, fmt, keywords, OUTS);
}

/* Zero arguments passed after the real ones: a malformed format can make
   Py_BuildValue read more arguments than its units promise (its count of
   the items and its reading of them disagree on stray brackets), and then
   it reads these, NULL or 0, whatever their type, rather than what lies
   beyond the arguments. */
#define PADDING_POINTERS 16
#define PADDING_DOUBLES 8
#define MAX_VARS 64

/* Py_BuildValue(fmt, vars..., padding); *called is 0 if libffi refused. */
PyObject *props_capi_build_value(const char *fmt, size_t nvars,
                                 const unsigned char *kinds,
                                 const props_arg *vars, int *called)
{
    ffi_type *fixed_types[] = {&ffi_type_pointer};
    void *fixed[] = {&fmt};
    unsigned char all_kinds[MAX_VARS + PADDING_POINTERS + PADDING_DOUBLES];
    props_arg all[MAX_VARS + PADDING_POINTERS + PADDING_DOUBLES];
    PyObject *res = NULL;
    size_t i, n = 0;

    *called = 0;
    if (nvars > MAX_VARS)
        return NULL;
    for (i = 0; i < nvars; i++, n++) {
        all_kinds[n] = kinds[i];
        all[n] = vars[i];
    }
    for (i = 0; i < PADDING_POINTERS + PADDING_DOUBLES; i++, n++) {
        all_kinds[n] = i < PADDING_POINTERS ? PROPS_POINTER : PROPS_DOUBLE;
        memset(&all[n], 0, sizeof all[n]);
    }
    *called = props_call_variadic((void (*)(void))Py_BuildValue,
                                  &ffi_type_pointer, &res, 1, fixed_types,
                                  fixed, n, all_kinds, all) == 0;
    return res;
}
