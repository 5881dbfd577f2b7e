/*
 * CPython-ABI trampolines: the functions CPython calls for HPy methods,
 * slots and descriptors when the extension is built with -DHPY_ABI_CPYTHON.
 *
 * Each has exactly CPython's C signature for its kind of function and calls
 * the implementation itself, with the extension's context
 * (_HPyGetContext()): handles are the objects, so arguments and results are
 * only cast, and argument arrays (fastcall vectors, tuple items) are passed
 * as they are. Handles given to the implementation are borrowed from the
 * caller. The public macros (HPyDef_METH, ...) are the ones of hpydef.h; only
 * the _HPyFunc_TRAMPOLINE_<SIG> expansions differ from the universal ABI
 * (hpy/universal/trampolines.h).
 *
 * Two of them call the static runtime: traverse, which needs to know where
 * the C struct of an object starts, and HPy_mod_create, whose result is
 * checked there (with the same message as in the universal ABI).
 */
#include "hpy.h"

#ifndef HPY_RS_CPYTHON_TRAMPOLINES_H
#define HPY_RS_CPYTHON_TRAMPOLINES_H

/* Static runtime (libhpy-ctx-cpython.a). */

/* Calls an HPy_tp_traverse implementation on the C struct of `self`, with a
   visitor that reports each HPyField's object to CPython's `visit`. */
HPyAPI_IMPL int _HPyRs_cpy_CallTraverse(HPyFunc_traverseproc impl, PyObject *self,
                                        visitproc visit, void *arg);
/* Result of an HPy_mod_create implementation: a module object becomes
   SystemError (and NULL), anything else is returned unchanged. */
HPyAPI_IMPL PyObject *_HPyRs_cpy_CheckModCreateResult(PyObject *result);

/* The items of the argument tuple of tp_new/tp_init, as a handle array
   (the `tuple_items` conversion of hpyfunc.txt). */
static inline const HPy *_HPyRs_cpy_tuple_items(PyObject *args)
{
    return (const HPy *)((PyTupleObject *)args)->ob_item;
}

/* ---------------------------------------------------------------------
   The signatures marked `hand` in hpy-sys/hpyfunc.txt
   --------------------------------------------------------------------- */

/* bf_getbuffer: the implementation fills an HPy_buffer; on success its
   fields move into CPython's Py_buffer, and the `obj` handle becomes the
   view's reference. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_GETBUFFERPROC(SYM, IMPL) \
    static int SYM(PyObject *self, Py_buffer *view, int flags) \
    { \
        HPy_buffer _hb; \
        int _r; \
        memset(&_hb, 0, sizeof(_hb)); \
        _r = IMPL(_HPyGetContext(), _py2h(self), &_hb, flags); \
        if (_r < 0) { \
            view->obj = NULL; \
            return _r; \
        } \
        view->buf = _hb.buf; \
        view->obj = _h2py(_hb.obj); \
        view->len = _hb.len; \
        view->itemsize = _hb.itemsize; \
        view->readonly = _hb.readonly; \
        view->ndim = _hb.ndim; \
        view->format = _hb.format; \
        view->shape = _hb.shape; \
        view->strides = _hb.strides; \
        view->suboffsets = _hb.suboffsets; \
        view->internal = _hb.internal; \
        return _r; \
    }

/* bf_releasebuffer: the implementation reads an HPy_buffer copied from the
   view; its `obj` handle is borrowed from the view. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_RELEASEBUFFERPROC(SYM, IMPL) \
    static void SYM(PyObject *self, Py_buffer *view) \
    { \
        HPy_buffer _hb; \
        _hb.buf = view->buf; \
        _hb.obj = _py2h(view->obj); \
        _hb.len = view->len; \
        _hb.itemsize = view->itemsize; \
        _hb.readonly = view->readonly; \
        _hb.ndim = view->ndim; \
        _hb.format = view->format; \
        _hb.shape = view->shape; \
        _hb.strides = view->strides; \
        _hb.suboffsets = view->suboffsets; \
        _hb.internal = view->internal; \
        IMPL(_HPyGetContext(), _py2h(self), &_hb); \
    }

/* tp_traverse: the runtime knows where the object's C struct starts. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_TRAVERSEPROC(SYM, IMPL) \
    static int SYM(PyObject *self, visitproc visit, void *arg) \
    { \
        return _HPyRs_cpy_CallTraverse(IMPL, self, visit, arg); \
    }

/* Capsule destructors get the capsule's contents and no context. A capsule
   being deallocated is valid, so the lookups cannot fail. */
#define HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM, IMPL) \
    static void SYM(PyObject *capsule) \
    { \
        const char *_name = PyCapsule_GetName(capsule); \
        IMPL(_name, PyCapsule_GetPointer(capsule, _name), \
             PyCapsule_GetContext(capsule)); \
    }

/* The trampolines of every signature of hpy-sys/hpyfunc.txt not written
   above (objects are cast to handles and back, arrays passed as they are). */
#include "hpy/cpython/autogen_trampolines.h"

#endif /* HPY_RS_CPYTHON_TRAMPOLINES_H */
