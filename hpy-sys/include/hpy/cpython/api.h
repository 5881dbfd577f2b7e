/*
 * The CPython ABI (-DHPY_ABI_CPYTHON): an HPy extension compiled as an
 * ordinary CPython extension.
 *
 *   - A handle is the PyObject * it refers to, and so are HPyField and
 *     HPyGlobal values: converting is a cast. hpy-rs's universal runtime on
 *     CPython uses the very same encoding, which is why the static runtime
 *     linked into CPython-ABI extensions (libhpy-ctx-cpython.a) is made of
 *     the universal context's functions, unchanged.
 *   - _HPyGetContext() is the extension's own context, a hidden global of
 *     the static runtime that HPy_MODINIT's PyInit_<ext> fills before
 *     anything else runs. Its table has the universal layout, so code that
 *     calls through it (such as the API helpers) works in this ABI too.
 *   - The hottest API functions are mapped onto Python.h below, by hand.
 *     `cargo xtask gen` reads this file: every line starting with
 *     HPyAPI_FUNC names a function that hpy/cpython/autogen_api.h then does
 *     not generate. All other API functions call the static runtime's
 *     implementation of their context member directly.
 *
 * The mappings must behave exactly like the runtime's functions (crate
 * hpy-cpython); tests/python/test_cpython_abi.py runs the same C code in both
 * ABIs.
 */
#include "hpy.h"

#ifndef HPY_RS_CPYTHON_API_H
#define HPY_RS_CPYTHON_API_H

/* ---- handles <-> objects ------------------------------------------------ */

static inline PyObject *_h2py(HPy h) { return (PyObject *)h._i; }
static inline HPy _py2h(PyObject *o) { return _hconv((intptr_t)o); }
static inline PyObject *_hf2py(HPyField f) { return (PyObject *)f._i; }
static inline PyObject *_hg2py(HPyGlobal g) { return (PyObject *)g._i; }

/* ---- the context --------------------------------------------------------- */

/* Defined by the static runtime; hidden, so every extension has its own. */
extern HPyAPI_IMPL struct _HPyContext_s _HPyRs_cpy_ctx;

static inline HPyContext *_HPyGetContext(void) { return &_HPyRs_cpy_ctx; }

/* ---- objects -------------------------------------------------------------- */

HPyAPI_FUNC HPy HPy_Dup(HPyContext *ctx, HPy h)
{
    (void)ctx;
    Py_XINCREF(_h2py(h));
    return h;
}

HPyAPI_FUNC void HPy_Close(HPyContext *ctx, HPy h)
{
    (void)ctx;
    Py_XDECREF(_h2py(h));
}

HPyAPI_FUNC HPy HPy_FromPyObject(HPyContext *ctx, PyObject *obj)
{
    (void)ctx;
    Py_XINCREF(obj);
    return _py2h(obj);
}

HPyAPI_FUNC PyObject *HPy_AsPyObject(HPyContext *ctx, HPy h)
{
    (void)ctx;
    Py_XINCREF(_h2py(h));
    return _h2py(h);
}

HPyAPI_FUNC int HPy_Is(HPyContext *ctx, HPy obj, HPy other)
{
    (void)ctx;
    return obj._i == other._i;
}

HPyAPI_FUNC int HPy_IsTrue(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyObject_IsTrue(_h2py(h));
}

HPyAPI_FUNC HPy HPy_Type(HPyContext *ctx, HPy obj)
{
    PyObject *t = (PyObject *)Py_TYPE(_h2py(obj));
    (void)ctx;
    Py_INCREF(t);
    return _py2h(t);
}

HPyAPI_FUNC int HPy_TypeCheck(HPyContext *ctx, HPy obj, HPy type)
{
    (void)ctx;
    return PyObject_TypeCheck(_h2py(obj), (PyTypeObject *)_h2py(type));
}

HPyAPI_FUNC HPy_ssize_t HPy_Length(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyObject_Size(_h2py(h));
}

HPyAPI_FUNC HPy_hash_t HPy_Hash(HPyContext *ctx, HPy obj)
{
    (void)ctx;
    return PyObject_Hash(_h2py(obj));
}

HPyAPI_FUNC HPy HPy_Repr(HPyContext *ctx, HPy obj)
{
    (void)ctx;
    return _py2h(PyObject_Repr(_h2py(obj)));
}

HPyAPI_FUNC HPy HPy_Str(HPyContext *ctx, HPy obj)
{
    (void)ctx;
    return _py2h(PyObject_Str(_h2py(obj)));
}

HPyAPI_FUNC HPy HPy_RichCompare(HPyContext *ctx, HPy v, HPy w, int op)
{
    (void)ctx;
    return _py2h(PyObject_RichCompare(_h2py(v), _h2py(w), op));
}

HPyAPI_FUNC int HPy_RichCompareBool(HPyContext *ctx, HPy v, HPy w, int op)
{
    (void)ctx;
    return PyObject_RichCompareBool(_h2py(v), _h2py(w), op);
}

HPyAPI_FUNC HPy HPy_GetAttr(HPyContext *ctx, HPy obj, HPy name)
{
    (void)ctx;
    return _py2h(PyObject_GetAttr(_h2py(obj), _h2py(name)));
}

HPyAPI_FUNC HPy HPy_GetAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name)
{
    (void)ctx;
    return _py2h(PyObject_GetAttrString(_h2py(obj), utf8_name));
}

HPyAPI_FUNC int HPy_SetAttr(HPyContext *ctx, HPy obj, HPy name, HPy value)
{
    (void)ctx;
    return PyObject_SetAttr(_h2py(obj), _h2py(name), _h2py(value));
}

HPyAPI_FUNC int HPy_SetAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name, HPy value)
{
    (void)ctx;
    return PyObject_SetAttrString(_h2py(obj), utf8_name, _h2py(value));
}

HPyAPI_FUNC HPy HPy_GetItem(HPyContext *ctx, HPy obj, HPy key)
{
    (void)ctx;
    return _py2h(PyObject_GetItem(_h2py(obj), _h2py(key)));
}

/* Exact lists and tuples index as PySequence_GetItem does; an index in
   range reads the item directly (what list_item/tuple_item do), anything
   else (negative, out of range, other types) is the runtime's. */
HPyAPI_IMPL HPy _HPyRs_cpy_ctx_GetItem_i(HPyContext *ctx, HPy obj, HPy_ssize_t idx);

HPyAPI_FUNC HPy HPy_GetItem_i(HPyContext *ctx, HPy obj, HPy_ssize_t idx)
{
    PyObject *o = _h2py(obj), *item;
    if (PyList_CheckExact(o)) {
        if ((size_t)idx >= (size_t)PyList_GET_SIZE(o))
            return _py2h(PySequence_GetItem(o, (Py_ssize_t)idx));
        item = PyList_GET_ITEM(o, idx);
    } else if (PyTuple_CheckExact(o)) {
        if ((size_t)idx >= (size_t)PyTuple_GET_SIZE(o))
            return _py2h(PySequence_GetItem(o, (Py_ssize_t)idx));
        item = PyTuple_GET_ITEM(o, idx);
    } else {
        return _HPyRs_cpy_ctx_GetItem_i(ctx, obj, idx);
    }
    Py_INCREF(item);
    return _py2h(item);
}

HPyAPI_FUNC int HPy_SetItem(HPyContext *ctx, HPy obj, HPy key, HPy value)
{
    (void)ctx;
    return PyObject_SetItem(_h2py(obj), _h2py(key), _h2py(value));
}

/* `args` holds nargs positional values and then one per name in kwnames; a
   handle array is a PyObject * array. (Python 3.8 has vectorcall under its
   provisional name.) */
#if PY_VERSION_HEX < 0x03090000
#  define _HPyRs_cpy_Vectorcall _PyObject_Vectorcall
#else
#  define _HPyRs_cpy_Vectorcall PyObject_Vectorcall
#endif

HPyAPI_FUNC HPy HPy_Call(HPyContext *ctx, HPy callable, const HPy *args, size_t nargs, HPy kwnames)
{
    (void)ctx;
    return _py2h(_HPyRs_cpy_Vectorcall(_h2py(callable), (PyObject *const *)args,
                                       nargs, _h2py(kwnames)));
}

/* ---- numbers --------------------------------------------------------------- */

HPyAPI_FUNC HPy HPyLong_FromInt32_t(HPyContext *ctx, int32_t value)
{
    (void)ctx;
    return _py2h(PyLong_FromLong((long)value));
}

HPyAPI_FUNC HPy HPyLong_FromUInt32_t(HPyContext *ctx, uint32_t value)
{
    (void)ctx;
    return _py2h(PyLong_FromUnsignedLong((unsigned long)value));
}

HPyAPI_FUNC HPy HPyLong_FromInt64_t(HPyContext *ctx, int64_t v)
{
    (void)ctx;
    return _py2h(PyLong_FromLongLong((long long)v));
}

HPyAPI_FUNC HPy HPyLong_FromUInt64_t(HPyContext *ctx, uint64_t v)
{
    (void)ctx;
    return _py2h(PyLong_FromUnsignedLongLong((unsigned long long)v));
}

HPyAPI_FUNC HPy HPyLong_FromSize_t(HPyContext *ctx, size_t value)
{
    (void)ctx;
    return _py2h(PyLong_FromSize_t(value));
}

HPyAPI_FUNC HPy HPyLong_FromSsize_t(HPyContext *ctx, HPy_ssize_t value)
{
    (void)ctx;
    return _py2h(PyLong_FromSsize_t((Py_ssize_t)value));
}

/* long long is 64 bits wherever CPython runs, so no range check is needed
   (the 32-bit and unsigned variants check types and ranges in the runtime). */
HPyAPI_FUNC int64_t HPyLong_AsInt64_t(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return (int64_t)PyLong_AsLongLong(_h2py(h));
}

HPyAPI_FUNC HPy_ssize_t HPyLong_AsSsize_t(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return (HPy_ssize_t)PyLong_AsSsize_t(_h2py(h));
}

HPyAPI_FUNC double HPyLong_AsDouble(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyLong_AsDouble(_h2py(h));
}

HPyAPI_FUNC HPy HPyFloat_FromDouble(HPyContext *ctx, double v)
{
    (void)ctx;
    return _py2h(PyFloat_FromDouble(v));
}

HPyAPI_FUNC double HPyFloat_AsDouble(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyFloat_AsDouble(_h2py(h));
}

HPyAPI_FUNC HPy HPyBool_FromBool(HPyContext *ctx, bool v)
{
    (void)ctx;
    return _py2h(PyBool_FromLong(v ? 1 : 0));
}

HPyAPI_FUNC HPy HPy_Add(HPyContext *ctx, HPy h1, HPy h2)
{
    (void)ctx;
    return _py2h(PyNumber_Add(_h2py(h1), _h2py(h2)));
}

HPyAPI_FUNC HPy HPy_Subtract(HPyContext *ctx, HPy h1, HPy h2)
{
    (void)ctx;
    return _py2h(PyNumber_Subtract(_h2py(h1), _h2py(h2)));
}

HPyAPI_FUNC HPy HPy_Multiply(HPyContext *ctx, HPy h1, HPy h2)
{
    (void)ctx;
    return _py2h(PyNumber_Multiply(_h2py(h1), _h2py(h2)));
}

HPyAPI_FUNC HPy HPy_FloorDivide(HPyContext *ctx, HPy h1, HPy h2)
{
    (void)ctx;
    return _py2h(PyNumber_FloorDivide(_h2py(h1), _h2py(h2)));
}

HPyAPI_FUNC HPy HPy_TrueDivide(HPyContext *ctx, HPy h1, HPy h2)
{
    (void)ctx;
    return _py2h(PyNumber_TrueDivide(_h2py(h1), _h2py(h2)));
}

HPyAPI_FUNC HPy HPy_Remainder(HPyContext *ctx, HPy h1, HPy h2)
{
    (void)ctx;
    return _py2h(PyNumber_Remainder(_h2py(h1), _h2py(h2)));
}

/* ---- errors ------------------------------------------------------------------ */

HPyAPI_FUNC int HPyErr_Occurred(HPyContext *ctx)
{
    (void)ctx;
    return PyErr_Occurred() != NULL;
}

HPyAPI_FUNC HPy HPyErr_SetString(HPyContext *ctx, HPy h_type, const char *utf8_message)
{
    (void)ctx;
    PyErr_SetString(_h2py(h_type), utf8_message);
    return HPy_NULL;
}

HPyAPI_FUNC HPy HPyErr_SetObject(HPyContext *ctx, HPy h_type, HPy h_value)
{
    (void)ctx;
    PyErr_SetObject(_h2py(h_type), _h2py(h_value));
    return HPy_NULL;
}

HPyAPI_FUNC int HPyErr_ExceptionMatches(HPyContext *ctx, HPy exc)
{
    (void)ctx;
    return PyErr_ExceptionMatches(_h2py(exc));
}

HPyAPI_FUNC void HPyErr_Clear(HPyContext *ctx)
{
    (void)ctx;
    PyErr_Clear();
}

/* ---- containers ------------------------------------------------------------------ */

HPyAPI_FUNC int HPyTuple_Check(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyTuple_Check(_h2py(h));
}

HPyAPI_FUNC int HPyList_Check(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyList_Check(_h2py(h));
}

HPyAPI_FUNC int HPyDict_Check(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyDict_Check(_h2py(h));
}

HPyAPI_FUNC int HPyUnicode_Check(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyUnicode_Check(_h2py(h));
}

HPyAPI_FUNC int HPyBytes_Check(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return PyBytes_Check(_h2py(h));
}

HPyAPI_FUNC int HPyList_Append(HPyContext *ctx, HPy h_list, HPy h_item)
{
    (void)ctx;
    return PyList_Append(_h2py(h_list), _h2py(h_item));
}

HPyAPI_FUNC HPy HPyDict_New(HPyContext *ctx)
{
    (void)ctx;
    return _py2h(PyDict_New());
}

HPyAPI_FUNC HPy HPyTuple_FromArray(HPyContext *ctx, const HPy items[], HPy_ssize_t n)
{
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    HPy_ssize_t i;
    (void)ctx;
    if (t == NULL)
        return HPy_NULL;
    for (i = 0; i < n; i++) {
        PyObject *o = _h2py(items[i]);
        Py_INCREF(o);
        PyTuple_SET_ITEM(t, i, o);
    }
    return _py2h(t);
}

/* ---- builders ------------------------------------------------------------- */

/* As hpy-cpython's builders.rs: the token is the tuple or list itself (0 when
   it could not be made, MemoryError cleared), items start NULL, Set ignores
   a failed builder, an index out of range or HPy_NULL, and Build hands out
   the container only when every item was set; otherwise the runtime's Build
   raises (and frees it). While it is built, the container's reference count
   also counts its unset slots (builders.rs says why that is sound): New adds
   the size, Set takes one off for each slot it fills first, and a count of
   1 at Build means that every slot was set. Cancel gives the runtime the
   count to put right. */
HPyAPI_IMPL HPy _HPyRs_cpy_ctx_TupleBuilder_Build(HPyContext *ctx, HPyTupleBuilder builder);
HPyAPI_IMPL HPy _HPyRs_cpy_ctx_ListBuilder_Build(HPyContext *ctx, HPyListBuilder builder);
HPyAPI_IMPL void _HPyRs_cpy_ctx_TupleBuilder_Cancel(HPyContext *ctx, HPyTupleBuilder builder);
HPyAPI_IMPL void _HPyRs_cpy_ctx_ListBuilder_Cancel(HPyContext *ctx, HPyListBuilder builder);

static inline intptr_t _HPyRs_cpy_builder_new(PyObject *(*new_)(Py_ssize_t), HPy_ssize_t size)
{
    /* a negative size fails as an allocation does (CPython's SystemError);
       the count grows by the size read back, which need not survive the call */
    PyObject *c = new_((Py_ssize_t)size);
    if (c == NULL)
        PyErr_Clear();
    else
        c->ob_refcnt += Py_SIZE(c);
    return (intptr_t)c;
}

static inline void _HPyRs_cpy_builder_set(PyObject *c, PyObject **items, Py_ssize_t len,
                                          HPy_ssize_t index, HPy h_item)
{
    PyObject *o = _h2py(h_item), *old;
    /* one unsigned comparison rejects negative indices too; `items` is NULL
       only for an empty list, where every index is out of range */
    if ((size_t)index >= (size_t)len || o == NULL)
        return;
    Py_INCREF(o);
    old = items[index];
    items[index] = o;
    if (old == NULL)
        c->ob_refcnt--;
    else
        Py_DECREF(old);
}

HPyAPI_FUNC HPyTupleBuilder HPyTupleBuilder_New(HPyContext *ctx, HPy_ssize_t size)
{
    HPyTupleBuilder b;
    (void)ctx;
    b._tup = _HPyRs_cpy_builder_new(PyTuple_New, size);
    return b;
}

HPyAPI_FUNC void HPyTupleBuilder_Set(HPyContext *ctx, HPyTupleBuilder builder,
                                     HPy_ssize_t index, HPy h_item)
{
    PyObject *t = (PyObject *)builder._tup;
    (void)ctx;
    if (t != NULL)
        _HPyRs_cpy_builder_set(t, ((PyTupleObject *)t)->ob_item, PyTuple_GET_SIZE(t), index,
                               h_item);
}

HPyAPI_FUNC HPy HPyTupleBuilder_Build(HPyContext *ctx, HPyTupleBuilder builder)
{
    PyObject *t = (PyObject *)builder._tup;
    if (t != NULL && t->ob_refcnt == 1)
        return _py2h(t);
    return _HPyRs_cpy_ctx_TupleBuilder_Build(ctx, builder);
}

HPyAPI_FUNC void HPyTupleBuilder_Cancel(HPyContext *ctx, HPyTupleBuilder builder)
{
    _HPyRs_cpy_ctx_TupleBuilder_Cancel(ctx, builder);
}

HPyAPI_FUNC HPyListBuilder HPyListBuilder_New(HPyContext *ctx, HPy_ssize_t size)
{
    HPyListBuilder b;
    (void)ctx;
    b._lst = _HPyRs_cpy_builder_new(PyList_New, size);
    return b;
}

HPyAPI_FUNC void HPyListBuilder_Set(HPyContext *ctx, HPyListBuilder builder,
                                    HPy_ssize_t index, HPy h_item)
{
    PyObject *l = (PyObject *)builder._lst;
    (void)ctx;
    if (l != NULL)
        _HPyRs_cpy_builder_set(l, ((PyListObject *)l)->ob_item, PyList_GET_SIZE(l), index,
                               h_item);
}

HPyAPI_FUNC HPy HPyListBuilder_Build(HPyContext *ctx, HPyListBuilder builder)
{
    PyObject *l = (PyObject *)builder._lst;
    if (l != NULL && l->ob_refcnt == 1)
        return _py2h(l);
    return _HPyRs_cpy_ctx_ListBuilder_Build(ctx, builder);
}

HPyAPI_FUNC void HPyListBuilder_Cancel(HPyContext *ctx, HPyListBuilder builder)
{
    _HPyRs_cpy_ctx_ListBuilder_Cancel(ctx, builder);
}

/* ---- fields, globals and the C struct of instances ----------------------------- */

/* The new value is referenced before the old one is released, so that code
   run by the old value's destructor already sees the new one. */
HPyAPI_FUNC void HPyField_Store(HPyContext *ctx, HPy target_object, HPyField *target_field, HPy h)
{
    PyObject *old = _hf2py(*target_field);
    (void)ctx;
    (void)target_object;
    Py_XINCREF(_h2py(h));
    target_field->_i = h._i;
    Py_XDECREF(old);
}

HPyAPI_FUNC HPy HPyField_Load(HPyContext *ctx, HPy source_object, HPyField source_field)
{
    (void)ctx;
    (void)source_object;
    Py_XINCREF(_hf2py(source_field));
    return _py2h(_hf2py(source_field));
}

HPyAPI_FUNC void HPyGlobal_Store(HPyContext *ctx, HPyGlobal *global, HPy h)
{
    PyObject *old = _hg2py(*global);
    (void)ctx;
    Py_XINCREF(_h2py(h));
    global->_i = h._i;
    Py_XDECREF(old);
}

HPyAPI_FUNC HPy HPyGlobal_Load(HPyContext *ctx, HPyGlobal global)
{
    (void)ctx;
    Py_XINCREF(_hg2py(global));
    return _py2h(_hg2py(global));
}

/* Pure HPy types (HPyType_BuiltinShape_Object) put the C struct after a
   header of sizeof(PyObject) rounded up to 16 bytes, the alignment the
   runtime gives every payload (MAX_ALIGN in hpy-cpython's types/typedata.rs). */
#define _HPyRs_cpy_OBJECT_HEADER_SIZE ((sizeof(PyObject) + 15) / 16 * 16)

HPyAPI_FUNC void *_HPy_AsStruct_Object(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return (void *)((char *)_h2py(h) + _HPyRs_cpy_OBJECT_HEADER_SIZE);
}

HPyAPI_FUNC void *_HPy_AsStruct_Legacy(HPyContext *ctx, HPy h)
{
    (void)ctx;
    return (void *)_h2py(h);
}

/* ---- HPy_New ---------------------------------------------------------------- */

/* What the runtime reads, when it makes a type, about making its instances:
   the first field of the type's data (hpy-cpython's types/typedata.rs,
   `Alloc`, whose fields these are, in this order), which lives in the state
   of a hidden module, the type's ht_module (tp_cache before 3.9), made from
   the def `_HPyRs_cpy_typedata_def`. */
typedef struct {
    size_t plain_size;             /* instance size if allocated as plain memory, else 0 */
    HPy_ssize_t header;            /* where the payload starts */
    HPy_ssize_t vectorcall_offset; /* where the call function goes, or 0 */
    vectorcallfunc vectorcall;     /* what goes there */
} _HPyRs_NewPlan;
/* its size, as typedata.rs asserts too (C and C++ alike) */
typedef char _HPyRs_NewPlan_size_check[sizeof(_HPyRs_NewPlan) == 4 * sizeof(void *) ? 1 : -1];

extern HPyAPI_IMPL PyModuleDef _HPyRs_cpy_typedata_def;

/* The start of a module object (as typedata.rs's `ModuleHead`, which the
   runtime checks against every hidden module it makes). */
typedef struct {
    PyObject_HEAD
    PyObject *md_dict;
    PyModuleDef *md_def;
    void *md_state;
} _HPyRs_ModuleHead;

HPyAPI_IMPL HPy _HPyRs_cpy_ctx_New(HPyContext *ctx, HPy h_type, void **data);

/* The runtime's HPy_New; *data is NULL when it fails, as in the universal ABI. */
static inline HPy _HPyRs_cpy_new_slow(HPyContext *ctx, HPy h_type, void **data)
{
    void *payload = NULL;
    HPy result = _HPyRs_cpy_ctx_New(ctx, h_type, &payload);
    *data = payload;
    return result;
}

/* PyObject_Init's work, without its call: the type (an HPy type is a heap
   type: a new reference to it) and a count of 1 through _Py_NewReference,
   public and exported from 3.9 on (on 3.8 PyObject_INIT is inline). */
static inline void _HPyRs_object_init(PyObject *obj, PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030E0000
    Py_SET_TYPE(obj, tp);
    Py_INCREF(tp);
    _Py_NewReference(obj);
#else
    (void)PyObject_INIT(obj, tp);
#endif
}

/* As the runtime's HPy_New for an HPy type whose instances are plain memory
   (the common case, found from the type in a few loads); anything else goes
   to the runtime. */
HPyAPI_FUNC HPy _HPy_New(HPyContext *ctx, HPy h_type, void **data)
{
    PyTypeObject *tp = (PyTypeObject *)_h2py(h_type);
    _HPyRs_ModuleHead *m;
    const _HPyRs_NewPlan *plan;
    PyObject *obj;
    if (!PyType_Check(tp) || !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE))
        return _HPyRs_cpy_new_slow(ctx, h_type, data);
#if PY_VERSION_HEX >= 0x03090000
    m = (_HPyRs_ModuleHead *)((PyHeapTypeObject *)tp)->ht_module;
#else
    m = (_HPyRs_ModuleHead *)tp->tp_cache;
#endif
    if (m == NULL || Py_TYPE(m) != &PyModule_Type || m->md_def != &_HPyRs_cpy_typedata_def)
        return _HPyRs_cpy_new_slow(ctx, h_type, data);
    plan = (const _HPyRs_NewPlan *)m->md_state;
    if (plan->plain_size == 0)
        return _HPyRs_cpy_new_slow(ctx, h_type, data);
    obj = (PyObject *)PyObject_Malloc(plan->plain_size);
    if (obj == NULL) {
        *data = NULL;
        PyErr_NoMemory();
        return HPy_NULL;
    }
    memset(obj, 0, plan->plain_size);
    _HPyRs_object_init(obj, tp);
    if (plan->vectorcall_offset != 0)
        *(vectorcallfunc *)((char *)obj + plan->vectorcall_offset) = plan->vectorcall;
    *data = (char *)obj + plan->header;
    return _py2h(obj);
}

#endif /* HPY_RS_CPYTHON_API_H */
