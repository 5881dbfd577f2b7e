/*
 * Assorted convenience macros of the HPy API.
 */
#include "hpy.h"

#ifndef HPY_RS_MACROS_H
#define HPY_RS_MACROS_H

/* HPy_New(ctx, type, &ptr): allocate an instance of a pure HPy type and
   store the address of its C struct into ptr (any pointer type). The cast
   to void ** is what makes "&ptr" acceptable for any struct pointer. */
#define HPy_New(ctx, cls, data) _HPy_New((ctx), (cls), (void **)(data))

/* Comparison operator codes passed to rich-compare slots; the numbers are
   the same as CPython's Py_LT .. Py_GE. */
typedef enum {
    HPy_LT = 0,
    HPy_LE = 1,
    HPy_EQ = 2,
    HPy_NE = 3,
    HPy_GT = 4,
    HPy_GE = 5,
} HPy_RichCmpOp;

/* Inside an HPy_tp_richcompare implementation: compare two C values with
   operator `op` and return True/False. Works for any pair of values that
   support the C comparison operators, hence a macro. */
#define HPy_RETURN_RICHCOMPARE(ctx, val1, val2, op)                         \
    do {                                                                    \
        int _hpy_cmp_res = 0;                                               \
        switch (op) {                                                       \
        case HPy_LT: _hpy_cmp_res = (val1) <  (val2); break;                \
        case HPy_LE: _hpy_cmp_res = (val1) <= (val2); break;                \
        case HPy_EQ: _hpy_cmp_res = (val1) == (val2); break;                \
        case HPy_NE: _hpy_cmp_res = (val1) != (val2); break;                \
        case HPy_GT: _hpy_cmp_res = (val1) >  (val2); break;                \
        case HPy_GE: _hpy_cmp_res = (val1) >= (val2); break;                \
        default:                                                            \
            HPy_FatalError((ctx), "HPy_RETURN_RICHCOMPARE: bad HPy_RichCmpOp"); \
        }                                                                   \
        return HPy_Dup((ctx), _hpy_cmp_res ? (ctx)->h_True : (ctx)->h_False); \
    } while (0)

/* pid_t helpers. Python.h tells us sizeof(pid_t) in hybrid builds; without
   it, assume pid_t is an int (true on every platform HPy targets). */
#if !defined(SIZEOF_PID_T) || SIZEOF_PID_T == SIZEOF_INT
#  define _HPy_PARSE_PID "i"
#  define HPyLong_FromPid HPyLong_FromLong
#  define HPyLong_AsPid HPyLong_AsLong
#elif SIZEOF_PID_T == SIZEOF_LONG
#  define _HPy_PARSE_PID "l"
#  define HPyLong_FromPid HPyLong_FromLong
#  define HPyLong_AsPid HPyLong_AsLong
#elif defined(SIZEOF_LONG_LONG) && SIZEOF_PID_T == SIZEOF_LONG_LONG
#  define _HPy_PARSE_PID "L"
#  define HPyLong_FromPid HPyLong_FromLongLong
#  define HPyLong_AsPid HPyLong_AsLongLong
#else
#  error "hpy.h: unsupported sizeof(pid_t)"
#endif

/* Release the GIL (or the runtime's equivalent) around a block:
       HPy_BEGIN_LEAVE_PYTHON(ctx)
           ... code that must not touch Python objects ...
       HPy_END_LEAVE_PYTHON(ctx)
   The two macros open and close one C block. */
#define HPy_BEGIN_LEAVE_PYTHON(context)                                     \
    {                                                                       \
        HPyThreadState _token = HPy_LeavePythonExecution(context);

#define HPy_END_LEAVE_PYTHON(context)                                       \
        HPy_ReenterPythonExecution(context, _token);                        \
    }

#endif /* HPY_RS_MACROS_H */
