/*
 * CPython types that appear in HPy declarations.
 *
 * A few parts of the API hand CPython objects across (legacy methods and
 * slots, HPy_AsPyObject/HPy_FromPyObject, and the cpy_trampoline members of
 * HPyDef, whose signatures are what CPython calls). The cpy_* names let
 * those declarations be written once for every ABI:
 *   - hybrid and cpython: they are the real CPython types from <Python.h>;
 *   - universal: they are incomplete structs, so the declarations compile
 *     but nothing can be done with the objects themselves.
 */
#include "hpy.h"

#ifndef HPY_RS_CPY_TYPES_H
#define HPY_RS_CPY_TYPES_H

#if defined(HPY_ABI_UNIVERSAL)
typedef struct FORBIDDEN_cpy_PyObject cpy_PyObject;
typedef struct FORBIDDEN_PyMethodDef cpy_PyMethodDef;
typedef struct FORBIDDEN_PyModuleDef cpy_PyModuleDef;
typedef struct FORBIDDEN_bufferinfo cpy_Py_buffer;
#else
typedef PyObject cpy_PyObject;
typedef PyMethodDef cpy_PyMethodDef;
typedef PyModuleDef cpy_PyModuleDef;
typedef Py_buffer cpy_Py_buffer;
#endif

/* Function pointer shapes CPython uses for methods (METH_FASTCALL form),
   GC visiting, getset descriptors, capsule destructors and vectorcall. */
typedef cpy_PyObject *(*cpy_PyCFunction)(cpy_PyObject *, cpy_PyObject *const *, HPy_ssize_t);
typedef int (*cpy_visitproc)(cpy_PyObject *, void *);
typedef cpy_PyObject *(*cpy_getter)(cpy_PyObject *, void *);
typedef int (*cpy_setter)(cpy_PyObject *, cpy_PyObject *, void *);
typedef void (*cpy_PyCapsule_Destructor)(cpy_PyObject *);
typedef cpy_PyObject *(*cpy_vectorcallfunc)(cpy_PyObject *callable,
                                            cpy_PyObject *const *args,
                                            size_t nargsf,
                                            cpy_PyObject *kwnames);

#endif /* HPY_RS_CPY_TYPES_H */
