/*
 * Calling conventions of HPy implementation functions.
 *
 * Every function an extension hands to HPy (method, slot, getter, ...) has
 * one of the signatures enumerated in HPyFunc_Signature. For each of them
 * this header provides:
 *   - the function pointer typedef HPyFunc_<lowercase name>;
 *   - _HPyFunc_DECLARE_HPyFunc_<NAME>(SYM): a static prototype for SYM;
 * and, via hpy/universal/trampolines.h or hpy/cpython/trampolines.h
 * (depending on the ABI), the CPython-facing trampoline.
 */
#include "hpy.h"

#ifndef HPY_RS_HPYFUNC_H
#define HPY_RS_HPYFUNC_H

/* The numbering is part of the ABI: it is what the runtime's dispatcher
   switches on in ctx_CallRealFunctionFromTrampoline. */
typedef enum {
    HPyFunc_VARARGS = 1,              /* CPython: METH_FASTCALL */
    HPyFunc_KEYWORDS = 2,             /* CPython: METH_FASTCALL | METH_KEYWORDS */
    HPyFunc_NOARGS = 3,               /* CPython: METH_NOARGS */
    HPyFunc_O = 4,                    /* CPython: METH_O */
    HPyFunc_DESTROYFUNC = 5,
    HPyFunc_GETBUFFERPROC = 6,
    HPyFunc_RELEASEBUFFERPROC = 7,
    HPyFunc_UNARYFUNC = 8,
    HPyFunc_BINARYFUNC = 9,
    HPyFunc_TERNARYFUNC = 10,
    HPyFunc_INQUIRY = 11,
    HPyFunc_LENFUNC = 12,
    HPyFunc_SSIZEARGFUNC = 13,
    HPyFunc_SSIZESSIZEARGFUNC = 14,
    HPyFunc_SSIZEOBJARGPROC = 15,
    HPyFunc_SSIZESSIZEOBJARGPROC = 16,
    HPyFunc_OBJOBJARGPROC = 17,
    HPyFunc_FREEFUNC = 18,
    HPyFunc_GETATTRFUNC = 19,
    HPyFunc_GETATTROFUNC = 20,
    HPyFunc_SETATTRFUNC = 21,
    HPyFunc_SETATTROFUNC = 22,
    HPyFunc_REPRFUNC = 23,
    HPyFunc_HASHFUNC = 24,
    HPyFunc_RICHCMPFUNC = 25,
    HPyFunc_GETITERFUNC = 26,
    HPyFunc_ITERNEXTFUNC = 27,
    HPyFunc_DESCRGETFUNC = 28,
    HPyFunc_DESCRSETFUNC = 29,
    HPyFunc_INITPROC = 30,
    HPyFunc_NEWFUNC = 31,
    HPyFunc_GETTER = 32,
    HPyFunc_SETTER = 33,
    HPyFunc_OBJOBJPROC = 34,
    HPyFunc_TRAVERSEPROC = 35,
    HPyFunc_DESTRUCTOR = 36,
    HPyFunc_CAPSULE_DESTRUCTOR = 37,
    HPyFunc_VECTORCALLFUNC = 38,
    HPyFunc_MOD_CREATE = 39,
} HPyFunc_Signature;

/* Buffer export descriptor used by HPy_bf_getbuffer / HPy_bf_releasebuffer.
   It mirrors CPython's Py_buffer, except that `obj` is an HPy handle (owned
   by the struct once getbuffer succeeded). */
typedef struct {
    void *buf;
    HPy obj;
    HPy_ssize_t len;
    HPy_ssize_t itemsize;
    int readonly;
    int ndim;
    char *format;
    HPy_ssize_t *shape;
    HPy_ssize_t *strides;
    HPy_ssize_t *suboffsets;
    void *internal;
} HPy_buffer;

/* Visitor handed to HPy_tp_traverse implementations; it is called once per
   HPyField the object owns. */
typedef int (*HPyFunc_visitproc)(HPyField *, void *);

/* For use in HPy_tp_traverse implementations whose parameters are named
   `visit` and `arg`: report one HPyField (null fields are skipped) and
   propagate a non-zero result of the visitor. */
#define HPy_VISIT(hpyfield)                                                 \
    do {                                                                    \
        HPyField *_hpy_visit_f = (hpyfield);                                \
        if (!HPyField_IsNull(*_hpy_visit_f)) {                              \
            int _hpy_visit_rc = visit(_hpy_visit_f, arg);                   \
            if (_hpy_visit_rc != 0)                                         \
                return _hpy_visit_rc;                                       \
        }                                                                   \
    } while (0)

/* --- implementation function types ----------------------------------- */

typedef HPy (*HPyFunc_noargs)(HPyContext *ctx, HPy self);
typedef HPy (*HPyFunc_o)(HPyContext *ctx, HPy self, HPy arg);
typedef HPy (*HPyFunc_varargs)(HPyContext *ctx, HPy self, const HPy *args, size_t nargs);
typedef HPy (*HPyFunc_keywords)(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames);
typedef HPy (*HPyFunc_unaryfunc)(HPyContext *ctx, HPy);
typedef HPy (*HPyFunc_binaryfunc)(HPyContext *ctx, HPy, HPy);
typedef HPy (*HPyFunc_ternaryfunc)(HPyContext *ctx, HPy, HPy, HPy);
typedef int (*HPyFunc_inquiry)(HPyContext *ctx, HPy);
typedef HPy_ssize_t (*HPyFunc_lenfunc)(HPyContext *ctx, HPy);
typedef HPy (*HPyFunc_ssizeargfunc)(HPyContext *ctx, HPy, HPy_ssize_t);
typedef HPy (*HPyFunc_ssizessizeargfunc)(HPyContext *ctx, HPy, HPy_ssize_t, HPy_ssize_t);
typedef int (*HPyFunc_ssizeobjargproc)(HPyContext *ctx, HPy, HPy_ssize_t, HPy);
typedef int (*HPyFunc_ssizessizeobjargproc)(HPyContext *ctx, HPy, HPy_ssize_t, HPy_ssize_t, HPy);
typedef int (*HPyFunc_objobjargproc)(HPyContext *ctx, HPy, HPy, HPy);
typedef void (*HPyFunc_freefunc)(HPyContext *ctx, void *);
typedef HPy (*HPyFunc_getattrfunc)(HPyContext *ctx, HPy, char *);
typedef HPy (*HPyFunc_getattrofunc)(HPyContext *ctx, HPy, HPy);
typedef int (*HPyFunc_setattrfunc)(HPyContext *ctx, HPy, char *, HPy);
typedef int (*HPyFunc_setattrofunc)(HPyContext *ctx, HPy, HPy, HPy);
typedef HPy (*HPyFunc_reprfunc)(HPyContext *ctx, HPy);
typedef HPy_hash_t (*HPyFunc_hashfunc)(HPyContext *ctx, HPy);
typedef HPy (*HPyFunc_richcmpfunc)(HPyContext *ctx, HPy, HPy, HPy_RichCmpOp);
typedef HPy (*HPyFunc_getiterfunc)(HPyContext *ctx, HPy);
typedef HPy (*HPyFunc_iternextfunc)(HPyContext *ctx, HPy);
typedef HPy (*HPyFunc_descrgetfunc)(HPyContext *ctx, HPy, HPy, HPy);
typedef int (*HPyFunc_descrsetfunc)(HPyContext *ctx, HPy, HPy, HPy);
typedef int (*HPyFunc_initproc)(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw);
typedef HPy (*HPyFunc_newfunc)(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw);
typedef HPy (*HPyFunc_getter)(HPyContext *ctx, HPy, void *);
typedef int (*HPyFunc_setter)(HPyContext *ctx, HPy, HPy, void *);
typedef int (*HPyFunc_objobjproc)(HPyContext *ctx, HPy, HPy);
typedef int (*HPyFunc_getbufferproc)(HPyContext *ctx, HPy, HPy_buffer *, int);
typedef void (*HPyFunc_releasebufferproc)(HPyContext *ctx, HPy, HPy_buffer *);
/* no context: the runtime may call it in the middle of a GC pass */
typedef int (*HPyFunc_traverseproc)(void *object, HPyFunc_visitproc visit, void *arg);
typedef void (*HPyFunc_destructor)(HPyContext *ctx, HPy);
/* no context: called on the raw payload while the object is being freed */
typedef void (*HPyFunc_destroyfunc)(void *);
typedef HPy (*HPyFunc_mod_create)(HPyContext *ctx, HPy);

/* --- static prototypes, one macro per signature ------------------------ */

#define _HPyFunc_DECLARE_HPyFunc_NOARGS(SYM) \
    static HPy SYM(HPyContext *ctx, HPy self)
#define _HPyFunc_DECLARE_HPyFunc_O(SYM) \
    static HPy SYM(HPyContext *ctx, HPy self, HPy arg)
#define _HPyFunc_DECLARE_HPyFunc_VARARGS(SYM) \
    static HPy SYM(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
#define _HPyFunc_DECLARE_HPyFunc_KEYWORDS(SYM) \
    static HPy SYM(HPyContext *ctx, HPy self, const HPy *args, size_t nargs, HPy kwnames)
#define _HPyFunc_DECLARE_HPyFunc_UNARYFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_BINARYFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_TERNARYFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_INQUIRY(SYM) \
    static int SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_LENFUNC(SYM) \
    static HPy_ssize_t SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_SSIZEARGFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, HPy_ssize_t)
#define _HPyFunc_DECLARE_HPyFunc_SSIZESSIZEARGFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, HPy_ssize_t, HPy_ssize_t)
#define _HPyFunc_DECLARE_HPyFunc_SSIZEOBJARGPROC(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy_ssize_t, HPy)
#define _HPyFunc_DECLARE_HPyFunc_SSIZESSIZEOBJARGPROC(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy_ssize_t, HPy_ssize_t, HPy)
#define _HPyFunc_DECLARE_HPyFunc_OBJOBJARGPROC(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_FREEFUNC(SYM) \
    static void SYM(HPyContext *ctx, void *)
#define _HPyFunc_DECLARE_HPyFunc_GETATTRFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, char *)
#define _HPyFunc_DECLARE_HPyFunc_GETATTROFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_SETATTRFUNC(SYM) \
    static int SYM(HPyContext *ctx, HPy, char *, HPy)
#define _HPyFunc_DECLARE_HPyFunc_SETATTROFUNC(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_REPRFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_HASHFUNC(SYM) \
    static HPy_hash_t SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_RICHCMPFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, HPy, HPy_RichCmpOp)
#define _HPyFunc_DECLARE_HPyFunc_GETITERFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_ITERNEXTFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_DESCRGETFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_DESCRSETFUNC(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_INITPROC(SYM) \
    static int SYM(HPyContext *ctx, HPy self, const HPy *args, HPy_ssize_t nargs, HPy kw)
#define _HPyFunc_DECLARE_HPyFunc_NEWFUNC(SYM) \
    static HPy SYM(HPyContext *ctx, HPy type, const HPy *args, HPy_ssize_t nargs, HPy kw)
#define _HPyFunc_DECLARE_HPyFunc_GETTER(SYM) \
    static HPy SYM(HPyContext *ctx, HPy, void *)
#define _HPyFunc_DECLARE_HPyFunc_SETTER(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy, void *)
#define _HPyFunc_DECLARE_HPyFunc_OBJOBJPROC(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy)
#define _HPyFunc_DECLARE_HPyFunc_GETBUFFERPROC(SYM) \
    static int SYM(HPyContext *ctx, HPy, HPy_buffer *, int)
#define _HPyFunc_DECLARE_HPyFunc_RELEASEBUFFERPROC(SYM) \
    static void SYM(HPyContext *ctx, HPy, HPy_buffer *)
#define _HPyFunc_DECLARE_HPyFunc_TRAVERSEPROC(SYM) \
    static int SYM(void *object, HPyFunc_visitproc visit, void *arg)
#define _HPyFunc_DECLARE_HPyFunc_DESTRUCTOR(SYM) \
    static void SYM(HPyContext *ctx, HPy)
#define _HPyFunc_DECLARE_HPyFunc_DESTROYFUNC(SYM) \
    static void SYM(void *)
#define _HPyFunc_DECLARE_HPyFunc_MOD_CREATE(SYM) \
    static HPy SYM(HPyContext *ctx, HPy)

/* HPyFunc_DECLARE(SYM, SIG): prototype SYM with signature SIG.
   HPyFunc_TRAMPOLINE(SYM, IMPL, SIG): define the static CPython-callable
   function SYM that forwards to IMPL (which has signature SIG).

   Each also declares a throw-away enumerator initialised with SIG. That does
   nothing at run time, but a misspelt SIG then produces a plain "undeclared
   identifier" error naming it, rather than a confusing error about a
   missing _HPyFunc_* macro. */
#define HPyFunc_DECLARE(SYM, SIG)                                           \
    enum { SYM##_sig = (SIG) };                                             \
    _HPyFunc_DECLARE_##SIG(SYM)

#define HPyFunc_TRAMPOLINE(SYM, IMPL, SIG)                                  \
    enum { SYM##_sig = (SIG) };                                             \
    _HPyFunc_TRAMPOLINE_##SIG(SYM, IMPL)

#endif /* HPY_RS_HPYFUNC_H */
