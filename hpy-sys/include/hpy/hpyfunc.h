/*
 * Calling conventions of HPy implementation functions.
 *
 * Every function an extension hands to HPy (method, slot, getter, ...) has
 * one of the signatures enumerated in HPyFunc_Signature. They are declared
 * once, in hpy-sys/hpyfunc.txt, from which `cargo xtask gen` writes
 * hpy/autogen_hpyfunc.h (included below):
 *   - the enum HPyFunc_Signature;
 *   - the function pointer typedef HPyFunc_<lowercase name>;
 *   - _HPyFunc_DECLARE_HPyFunc_<NAME>(SYM): a static prototype for SYM;
 * and, via hpy/universal/trampolines.h or hpy/cpython/trampolines.h
 * (depending on the ABI), the CPython-facing trampoline.
 * HPyFunc_VARARGS, KEYWORDS, NOARGS and O are CPython's METH_FASTCALL,
 * METH_FASTCALL | METH_KEYWORDS, METH_NOARGS and METH_O.
 */
#include "hpy.h"

#ifndef HPY_RS_HPYFUNC_H
#define HPY_RS_HPYFUNC_H

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

#include "hpy/autogen_hpyfunc.h"

/* HPy_tp_destroy has no CPython counterpart, in either ABI: the runtime calls
   the implementation from its own deallocator and never registers this
   function. Reaching it means something is badly wrong. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTROYFUNC(SYM, IMPL) \
    static void SYM(void) { abort(); }

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
