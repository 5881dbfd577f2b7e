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

/* ---------------------------------------------------------------------
   Methods
   --------------------------------------------------------------------- */

/* METH_NOARGS: CPython passes (self, NULL). */
#define _HPyFunc_TRAMPOLINE_HPyFunc_NOARGS(SYM, IMPL) \
    static PyObject *SYM(PyObject *self, PyObject *_hpy_ignored) \
    { \
        (void)_hpy_ignored; \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self))); \
    }

/* METH_O */
#define _HPyFunc_TRAMPOLINE_HPyFunc_O(SYM, IMPL) \
    static PyObject *SYM(PyObject *self, PyObject *arg) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), _py2h(arg))); \
    }

/* METH_FASTCALL: a C array of nargs objects is an array of nargs handles. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_VARARGS(SYM, IMPL) \
    static PyObject *SYM(PyObject *self, PyObject *const *args, HPy_ssize_t nargs) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args, \
                          (size_t)nargs)); \
    }

/* METH_FASTCALL | METH_KEYWORDS, which is also the vectorcall signature
   (HPy_tp_call, HPyCallFunction): nargsf may carry
   PY_VECTORCALL_ARGUMENTS_OFFSET, which the implementation must not see. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_KEYWORDS(SYM, IMPL) \
    static PyObject *SYM(PyObject *self, PyObject *const *args, size_t nargsf, \
                         PyObject *kwnames) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), (const HPy *)args, \
                          (size_t)PyVectorcall_NARGS(nargsf), _py2h(kwnames))); \
    }

/* ---------------------------------------------------------------------
   Slots with a non-uniform calling convention
   --------------------------------------------------------------------- */

/* The items of the argument tuple of tp_new/tp_init, as a handle array. */
static inline const HPy *_HPyRs_cpy_tuple_items(PyObject *args)
{
    return (const HPy *)((PyTupleObject *)args)->ob_item;
}

/* tp_init: (self, args tuple, kwargs dict or NULL) */
#define _HPyFunc_TRAMPOLINE_HPyFunc_INITPROC(SYM, IMPL) \
    static int SYM(PyObject *self, PyObject *args, PyObject *kw) \
    { \
        return IMPL(_HPyGetContext(), _py2h(self), _HPyRs_cpy_tuple_items(args), \
                    (HPy_ssize_t)PyTuple_GET_SIZE(args), _py2h(kw)); \
    }

/* tp_new: (type, args tuple, kwargs dict or NULL) */
#define _HPyFunc_TRAMPOLINE_HPyFunc_NEWFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *self, PyObject *args, PyObject *kw) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(self), _HPyRs_cpy_tuple_items(args), \
                          (HPy_ssize_t)PyTuple_GET_SIZE(args), _py2h(kw))); \
    }

/* tp_richcompare: CPython's operator numbers are HPy's. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_RICHCMPFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, PyObject *arg1, int op) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1), \
                          (HPy_RichCmpOp)op)); \
    }

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

/* HPy_tp_destroy has no CPython counterpart: the runtime calls the
   implementation from its own deallocator and never registers this
   function. Reaching it means something is badly wrong. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTROYFUNC(SYM, IMPL) \
    static void SYM(void) { abort(); }

/* HPy_mod_create: CPython's Py_mod_create signature. */
#define _HPyFunc_TRAMPOLINE_HPyFunc_MOD_CREATE(SYM, IMPL) \
    static PyObject *SYM(PyObject *spec, PyModuleDef *def) \
    { \
        (void)def; \
        return _HPyRs_cpy_CheckModCreateResult( \
            _h2py(IMPL(_HPyGetContext(), _py2h(spec)))); \
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

/* ---------------------------------------------------------------------
   Slots whose arguments map one-to-one (objects become handles, integers
   and raw pointers pass through).
   --------------------------------------------------------------------- */

#define _HPyFunc_TRAMPOLINE_HPyFunc_UNARYFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0))); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_BINARYFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, PyObject *arg1) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1))); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_TERNARYFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, PyObject *arg1, PyObject *arg2) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1), _py2h(arg2))); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_INQUIRY(SYM, IMPL) \
    static int SYM(PyObject *arg0) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_LENFUNC(SYM, IMPL) \
    static HPy_ssize_t SYM(PyObject *arg0) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZEARGFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, HPy_ssize_t arg1) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), arg1)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZESSIZEARGFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, HPy_ssize_t arg1, HPy_ssize_t arg2) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), arg1, arg2)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZEOBJARGPROC(SYM, IMPL) \
    static int SYM(PyObject *arg0, HPy_ssize_t arg1, PyObject *arg2) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0), arg1, _py2h(arg2)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_SSIZESSIZEOBJARGPROC(SYM, IMPL) \
    static int SYM(PyObject *arg0, HPy_ssize_t arg1, HPy_ssize_t arg2, PyObject *arg3) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0), arg1, arg2, _py2h(arg3)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_OBJOBJARGPROC(SYM, IMPL) \
    static int SYM(PyObject *arg0, PyObject *arg1, PyObject *arg2) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1), _py2h(arg2)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_FREEFUNC(SYM, IMPL) \
    static void SYM(void *arg0) \
    { \
        IMPL(_HPyGetContext(), arg0); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_GETATTRFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, char *arg1) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), arg1)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_GETATTROFUNC(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, PyObject *arg1) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1))); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_SETATTRFUNC(SYM, IMPL) \
    static int SYM(PyObject *arg0, char *arg1, PyObject *arg2) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0), arg1, _py2h(arg2)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_SETATTROFUNC(SYM, IMPL) \
    static int SYM(PyObject *arg0, PyObject *arg1, PyObject *arg2) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1), _py2h(arg2)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_REPRFUNC(SYM, IMPL) \
    _HPyFunc_TRAMPOLINE_HPyFunc_UNARYFUNC(SYM, IMPL)

#define _HPyFunc_TRAMPOLINE_HPyFunc_HASHFUNC(SYM, IMPL) \
    static HPy_hash_t SYM(PyObject *arg0) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_GETITERFUNC(SYM, IMPL) \
    _HPyFunc_TRAMPOLINE_HPyFunc_UNARYFUNC(SYM, IMPL)

#define _HPyFunc_TRAMPOLINE_HPyFunc_ITERNEXTFUNC(SYM, IMPL) \
    _HPyFunc_TRAMPOLINE_HPyFunc_UNARYFUNC(SYM, IMPL)

#define _HPyFunc_TRAMPOLINE_HPyFunc_DESCRGETFUNC(SYM, IMPL) \
    _HPyFunc_TRAMPOLINE_HPyFunc_TERNARYFUNC(SYM, IMPL)

#define _HPyFunc_TRAMPOLINE_HPyFunc_DESCRSETFUNC(SYM, IMPL) \
    _HPyFunc_TRAMPOLINE_HPyFunc_OBJOBJARGPROC(SYM, IMPL)

#define _HPyFunc_TRAMPOLINE_HPyFunc_GETTER(SYM, IMPL) \
    static PyObject *SYM(PyObject *arg0, void *arg1) \
    { \
        return _h2py(IMPL(_HPyGetContext(), _py2h(arg0), arg1)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_SETTER(SYM, IMPL) \
    static int SYM(PyObject *arg0, PyObject *arg1, void *arg2) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1), arg2); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_OBJOBJPROC(SYM, IMPL) \
    static int SYM(PyObject *arg0, PyObject *arg1) \
    { \
        return IMPL(_HPyGetContext(), _py2h(arg0), _py2h(arg1)); \
    }

#define _HPyFunc_TRAMPOLINE_HPyFunc_DESTRUCTOR(SYM, IMPL) \
    static void SYM(PyObject *arg0) \
    { \
        IMPL(_HPyGetContext(), _py2h(arg0)); \
    }

#endif /* HPY_RS_CPYTHON_TRAMPOLINES_H */
