/*
 * Universal-ABI trampolines (used by both the universal and hybrid ABIs).
 *
 * A trampoline is the function CPython actually calls for an HPy method,
 * slot or descriptor. It has exactly CPython's C signature for that kind of
 * function. It does not call the HPy implementation itself: it packs its
 * arguments into an _HPyFunc_args_<SIG> block on its own stack and passes
 * that block, the signature and the implementation to the runtime through
 * ctx_CallRealFunctionFromTrampoline, using the context the loader handed
 * to HPyInitGlobalContext_<ext> (_ctx_for_trampolines). The runtime turns
 * the CPython arguments into handles, calls the implementation, converts
 * the outcome back and stores it in the block's `result` field, which the
 * trampoline then returns.
 *
 * The layout of every _HPyFunc_args_<SIG> block is part of the ABI.
 */
#include "hpy.h"

#ifndef HPY_RS_UNIVERSAL_TRAMPOLINES_H
#define HPY_RS_UNIVERSAL_TRAMPOLINES_H

/* Hand an argument block to the runtime. */
#define _HPY_TRAMPOLINE_DISPATCH(SIGNAME, IMPL, ARGS)                        \
    _HPy_CallRealFunctionFromTrampoline(_ctx_for_trampolines,               \
                                        HPyFunc_##SIGNAME,                  \
                                        _HPy_FUNC_CAST(HPyCFunction, IMPL), \
                                        (ARGS))

/* ---------------------------------------------------------------------
   Methods
   --------------------------------------------------------------------- */

/* METH_NOARGS: CPython passes (self, NULL). */
typedef struct {
    cpy_PyObject *self;
    cpy_PyObject *result;
} _HPyFunc_args_NOARGS;
#define _HPyFunc_TRAMPOLINE_HPyFunc_NOARGS(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *self, cpy_PyObject *_hpy_ignored) \
    { \
        _HPyFunc_args_NOARGS _a; \
        (void)_hpy_ignored; \
        _a.self = self; \
        _HPY_TRAMPOLINE_DISPATCH(NOARGS, IMPL, &_a); \
        return _a.result; \
    }

/* METH_O */
typedef struct {
    cpy_PyObject *self;
    cpy_PyObject *arg;
    cpy_PyObject *result;
} _HPyFunc_args_O;
#define _HPyFunc_TRAMPOLINE_HPyFunc_O(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *self, cpy_PyObject *arg) \
    { \
        _HPyFunc_args_O _a; \
        _a.self = self; _a.arg = arg; \
        _HPY_TRAMPOLINE_DISPATCH(O, IMPL, &_a); \
        return _a.result; \
    }

/* METH_FASTCALL: a C array of nargs positional arguments. */
typedef struct {
    cpy_PyObject *self;
    cpy_PyObject *const *args;
    HPy_ssize_t nargs;
    cpy_PyObject *result;
} _HPyFunc_args_VARARGS;
#define _HPyFunc_TRAMPOLINE_HPyFunc_VARARGS(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *self, cpy_PyObject *const *args, \
                             HPy_ssize_t nargs) \
    { \
        _HPyFunc_args_VARARGS _a; \
        _a.self = self; _a.args = args; _a.nargs = nargs; \
        _HPY_TRAMPOLINE_DISPATCH(VARARGS, IMPL, &_a); \
        return _a.result; \
    }

/* METH_FASTCALL | METH_KEYWORDS, which is also the vectorcall signature
   (used for HPy_tp_call and HPyCallFunction). nargsf may carry
   PY_VECTORCALL_ARGUMENTS_OFFSET; the runtime strips it. */
typedef struct {
    cpy_PyObject *self;
    cpy_PyObject *const *args;
    size_t nargsf;
    cpy_PyObject *kwnames;
    cpy_PyObject *result;
} _HPyFunc_args_KEYWORDS;
#define _HPyFunc_TRAMPOLINE_HPyFunc_KEYWORDS(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *self, cpy_PyObject *const *args, \
                             size_t nargsf, cpy_PyObject *kwnames) \
    { \
        _HPyFunc_args_KEYWORDS _a; \
        _a.self = self; _a.args = args; _a.nargsf = nargsf; \
        _a.kwnames = kwnames; \
        _HPY_TRAMPOLINE_DISPATCH(KEYWORDS, IMPL, &_a); \
        return _a.result; \
    }

/* ---------------------------------------------------------------------
   Slots with a non-uniform calling convention
   --------------------------------------------------------------------- */

/* tp_init: (self, args tuple, kwargs dict or NULL) */
typedef struct {
    cpy_PyObject *self;
    cpy_PyObject *args;
    cpy_PyObject *kw;
    int result;
} _HPyFunc_args_INITPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_INITPROC(SYM, IMPL) \
    static int SYM(cpy_PyObject *self, cpy_PyObject *args, cpy_PyObject *kw) \
    { \
        _HPyFunc_args_INITPROC _a; \
        _a.self = self; _a.args = args; _a.kw = kw; \
        _HPY_TRAMPOLINE_DISPATCH(INITPROC, IMPL, &_a); \
        return _a.result; \
    }

/* tp_new: (type, args tuple, kwargs dict or NULL) */
typedef struct {
    cpy_PyObject *self;
    cpy_PyObject *args;
    cpy_PyObject *kw;
    cpy_PyObject *result;
} _HPyFunc_args_NEWFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_NEWFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *self, cpy_PyObject *args, \
                             cpy_PyObject *kw) \
    { \
        _HPyFunc_args_NEWFUNC _a; \
        _a.self = self; _a.args = args; _a.kw = kw; \
        _HPY_TRAMPOLINE_DISPATCH(NEWFUNC, IMPL, &_a); \
        return _a.result; \
    }

/* tp_richcompare: CPython passes the operator as a plain int. */
typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    HPy_RichCmpOp arg2;
    cpy_PyObject *result;
} _HPyFunc_args_RICHCMPFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_RICHCMPFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, cpy_PyObject *arg1, int op) \
    { \
        _HPyFunc_args_RICHCMPFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = (HPy_RichCmpOp)op; \
        _HPY_TRAMPOLINE_DISPATCH(RICHCMPFUNC, IMPL, &_a); \
        return _a.result; \
    }

/* bf_getbuffer: the runtime fills the CPython Py_buffer from the HPy_buffer
   the implementation produced. */
typedef struct {
    cpy_PyObject *self;
    cpy_Py_buffer *view;
    int flags;
    int result;
} _HPyFunc_args_GETBUFFERPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_GETBUFFERPROC(SYM, IMPL) \
    static int SYM(cpy_PyObject *self, cpy_Py_buffer *view, int flags) \
    { \
        _HPyFunc_args_GETBUFFERPROC _a; \
        _a.self = self; _a.view = view; _a.flags = flags; \
        _HPY_TRAMPOLINE_DISPATCH(GETBUFFERPROC, IMPL, &_a); \
        return _a.result; \
    }

/* bf_releasebuffer: no result. */
typedef struct {
    cpy_PyObject *self;
    cpy_Py_buffer *view;
} _HPyFunc_args_RELEASEBUFFERPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_RELEASEBUFFERPROC(SYM, IMPL) \
    static void SYM(cpy_PyObject *self, cpy_Py_buffer *view) \
    { \
        _HPyFunc_args_RELEASEBUFFERPROC _a; \
        _a.self = self; _a.view = view; \
        _HPY_TRAMPOLINE_DISPATCH(RELEASEBUFFERPROC, IMPL, &_a); \
    }

/* tp_traverse: the runtime wraps CPython's visit/arg into an HPy visitor
   and calls the implementation with the object's payload. */
typedef struct {
    cpy_PyObject *self;
    cpy_visitproc visit;
    void *arg;
    int result;
} _HPyFunc_args_TRAVERSEPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_TRAVERSEPROC(SYM, IMPL) \
    static int SYM(cpy_PyObject *self, cpy_visitproc visit, void *arg) \
    { \
        _HPyFunc_args_TRAVERSEPROC _a; \
        _a.self = self; _a.visit = visit; _a.arg = arg; \
        _HPY_TRAMPOLINE_DISPATCH(TRAVERSEPROC, IMPL, &_a); \
        return _a.result; \
    }

/* HPy_tp_destroy has no CPython counterpart: the runtime calls the
   implementation directly from its own deallocator and never registers
   this function. Reaching it means something is badly wrong. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTROYFUNC(SYM, IMPL) \
    static void SYM(void) { abort(); }

/* HPy_mod_create: CPython's Py_mod_create signature. The block has the
   same layout as the UNARYFUNC one, which is what is passed. */
typedef struct {
    cpy_PyObject *spec;
    cpy_PyObject *result;
} _HPyFunc_args_MOD_CREATE;
#define _HPyFunc_TRAMPOLINE_HPyFunc_MOD_CREATE(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *spec, cpy_PyModuleDef *def) \
    { \
        _HPyFunc_args_UNARYFUNC _a; \
        (void)def; \
        _a.arg0 = spec; \
        _HPY_TRAMPOLINE_DISPATCH(MOD_CREATE, IMPL, &_a); \
        return _a.result; \
    }

/* Capsule destructors: the "argument block" is the capsule itself. */
#define HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM, IMPL) \
    static void SYM(cpy_PyObject *capsule) \
    { \
        _HPY_TRAMPOLINE_DISPATCH(CAPSULE_DESTRUCTOR, IMPL, (void *)capsule); \
    }

/* ---------------------------------------------------------------------
   Slots whose arguments map one-to-one (objects become handles, integers
   and raw pointers pass through).
   --------------------------------------------------------------------- */

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *result;
} _HPyFunc_args_UNARYFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_UNARYFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_UNARYFUNC _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(UNARYFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    cpy_PyObject *result;
} _HPyFunc_args_BINARYFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_BINARYFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, cpy_PyObject *arg1) \
    { \
        _HPyFunc_args_BINARYFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; \
        _HPY_TRAMPOLINE_DISPATCH(BINARYFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    cpy_PyObject *arg2;
    cpy_PyObject *result;
} _HPyFunc_args_TERNARYFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_TERNARYFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, cpy_PyObject *arg1, cpy_PyObject *arg2) \
    { \
        _HPyFunc_args_TERNARYFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(TERNARYFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    int result;
} _HPyFunc_args_INQUIRY;
#define _HPyFunc_TRAMPOLINE_HPyFunc_INQUIRY(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_INQUIRY _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(INQUIRY, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    HPy_ssize_t result;
} _HPyFunc_args_LENFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_LENFUNC(SYM, IMPL) \
    static HPy_ssize_t SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_LENFUNC _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(LENFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    HPy_ssize_t arg1;
    cpy_PyObject *result;
} _HPyFunc_args_SSIZEARGFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZEARGFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, HPy_ssize_t arg1) \
    { \
        _HPyFunc_args_SSIZEARGFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; \
        _HPY_TRAMPOLINE_DISPATCH(SSIZEARGFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    HPy_ssize_t arg1;
    HPy_ssize_t arg2;
    cpy_PyObject *result;
} _HPyFunc_args_SSIZESSIZEARGFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZESSIZEARGFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, HPy_ssize_t arg1, HPy_ssize_t arg2) \
    { \
        _HPyFunc_args_SSIZESSIZEARGFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(SSIZESSIZEARGFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    HPy_ssize_t arg1;
    cpy_PyObject *arg2;
    int result;
} _HPyFunc_args_SSIZEOBJARGPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZEOBJARGPROC(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, HPy_ssize_t arg1, cpy_PyObject *arg2) \
    { \
        _HPyFunc_args_SSIZEOBJARGPROC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(SSIZEOBJARGPROC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    HPy_ssize_t arg1;
    HPy_ssize_t arg2;
    cpy_PyObject *arg3;
    int result;
} _HPyFunc_args_SSIZESSIZEOBJARGPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZESSIZEOBJARGPROC(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, HPy_ssize_t arg1, HPy_ssize_t arg2, cpy_PyObject *arg3) \
    { \
        _HPyFunc_args_SSIZESSIZEOBJARGPROC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; _a.arg3 = arg3; \
        _HPY_TRAMPOLINE_DISPATCH(SSIZESSIZEOBJARGPROC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    cpy_PyObject *arg2;
    int result;
} _HPyFunc_args_OBJOBJARGPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_OBJOBJARGPROC(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, cpy_PyObject *arg1, cpy_PyObject *arg2) \
    { \
        _HPyFunc_args_OBJOBJARGPROC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(OBJOBJARGPROC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    void *arg0;
} _HPyFunc_args_FREEFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_FREEFUNC(SYM, IMPL) \
    static void SYM(void *arg0) \
    { \
        _HPyFunc_args_FREEFUNC _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(FREEFUNC, IMPL, &_a); \
    }

typedef struct {
    cpy_PyObject *arg0;
    char *arg1;
    cpy_PyObject *result;
} _HPyFunc_args_GETATTRFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_GETATTRFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, char *arg1) \
    { \
        _HPyFunc_args_GETATTRFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; \
        _HPY_TRAMPOLINE_DISPATCH(GETATTRFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    cpy_PyObject *result;
} _HPyFunc_args_GETATTROFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_GETATTROFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, cpy_PyObject *arg1) \
    { \
        _HPyFunc_args_GETATTROFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; \
        _HPY_TRAMPOLINE_DISPATCH(GETATTROFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    char *arg1;
    cpy_PyObject *arg2;
    int result;
} _HPyFunc_args_SETATTRFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_SETATTRFUNC(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, char *arg1, cpy_PyObject *arg2) \
    { \
        _HPyFunc_args_SETATTRFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(SETATTRFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    cpy_PyObject *arg2;
    int result;
} _HPyFunc_args_SETATTROFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_SETATTROFUNC(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, cpy_PyObject *arg1, cpy_PyObject *arg2) \
    { \
        _HPyFunc_args_SETATTROFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(SETATTROFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *result;
} _HPyFunc_args_REPRFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_REPRFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_REPRFUNC _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(REPRFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    HPy_hash_t result;
} _HPyFunc_args_HASHFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_HASHFUNC(SYM, IMPL) \
    static HPy_hash_t SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_HASHFUNC _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(HASHFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *result;
} _HPyFunc_args_GETITERFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_GETITERFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_GETITERFUNC _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(GETITERFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *result;
} _HPyFunc_args_ITERNEXTFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_ITERNEXTFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_ITERNEXTFUNC _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(ITERNEXTFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    cpy_PyObject *arg2;
    cpy_PyObject *result;
} _HPyFunc_args_DESCRGETFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESCRGETFUNC(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, cpy_PyObject *arg1, cpy_PyObject *arg2) \
    { \
        _HPyFunc_args_DESCRGETFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(DESCRGETFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    cpy_PyObject *arg2;
    int result;
} _HPyFunc_args_DESCRSETFUNC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESCRSETFUNC(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, cpy_PyObject *arg1, cpy_PyObject *arg2) \
    { \
        _HPyFunc_args_DESCRSETFUNC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(DESCRSETFUNC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    void *arg1;
    cpy_PyObject *result;
} _HPyFunc_args_GETTER;
#define _HPyFunc_TRAMPOLINE_HPyFunc_GETTER(SYM, IMPL) \
    static cpy_PyObject *SYM(cpy_PyObject *arg0, void *arg1) \
    { \
        _HPyFunc_args_GETTER _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; \
        _HPY_TRAMPOLINE_DISPATCH(GETTER, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    void *arg2;
    int result;
} _HPyFunc_args_SETTER;
#define _HPyFunc_TRAMPOLINE_HPyFunc_SETTER(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, cpy_PyObject *arg1, void *arg2) \
    { \
        _HPyFunc_args_SETTER _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; _a.arg2 = arg2; \
        _HPY_TRAMPOLINE_DISPATCH(SETTER, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
    cpy_PyObject *arg1;
    int result;
} _HPyFunc_args_OBJOBJPROC;
#define _HPyFunc_TRAMPOLINE_HPyFunc_OBJOBJPROC(SYM, IMPL) \
    static int SYM(cpy_PyObject *arg0, cpy_PyObject *arg1) \
    { \
        _HPyFunc_args_OBJOBJPROC _a; \
        _a.arg0 = arg0; _a.arg1 = arg1; \
        _HPY_TRAMPOLINE_DISPATCH(OBJOBJPROC, IMPL, &_a); \
        return _a.result; \
    }

typedef struct {
    cpy_PyObject *arg0;
} _HPyFunc_args_DESTRUCTOR;
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTRUCTOR(SYM, IMPL) \
    static void SYM(cpy_PyObject *arg0) \
    { \
        _HPyFunc_args_DESTRUCTOR _a; \
        _a.arg0 = arg0; \
        _HPY_TRAMPOLINE_DISPATCH(DESTRUCTOR, IMPL, &_a); \
    }
#endif /* HPY_RS_UNIVERSAL_TRAMPOLINES_H */
