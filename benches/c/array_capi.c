/*
 * array_capi: array_hpy.c's `Array` (a small array of doubles) written
 * against the plain CPython C API (Python.h), the baseline of
 * scripts/bench.py's `rk4_*` workloads. Same semantics, operation for
 * operation: each HPy call is replaced by its natural C-API equivalent
 * (HPy_New -> tp_alloc, HPyGlobal_Load + HPy_TypeCheck -> PyObject_TypeCheck
 * on a static type pointer, HPy_tp_destroy -> the buffer freed in
 * tp_dealloc, HPyListBuilder -> PyList_New + PyList_SET_ITEM).
 *
 *   Array(list_of_floats)     a copy of the list's items as doubles
 *   a + b, a - b, a * b       element-wise, both Arrays of the same size
 *   a + x, x + a, a - x, x - a, a * x, x * a
 *                             with a number x (int or float)
 *   a / x                     divided by a number
 *   len(a), a[i], a.tolist()
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t size;
    double *data;
} ArrayObject;

static PyTypeObject *Array_type;

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

/* A new Array of `size` items (uninitialised) of type `type`. */
static PyObject *Array_empty(PyTypeObject *type, Py_ssize_t size, ArrayObject **out)
{
    ArrayObject *a = (ArrayObject *)type->tp_alloc(type, 0);
    if (a == NULL)
        return NULL;
    a->size = size;
    a->data = (double *)malloc(size > 0 ? (size_t)size * sizeof(double) : 1);
    if (a->data == NULL) {
        Py_DECREF(a);
        return PyErr_NoMemory();
    }
    *out = a;
    return (PyObject *)a;
}

static void Array_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    free(((ArrayObject *)self)->data);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* Array(list_of_floats) */
static PyObject *Array_new(PyTypeObject *cls, PyObject *args, PyObject *kw)
{
    if (PyTuple_GET_SIZE(args) != 1 || (kw != NULL && PyDict_GET_SIZE(kw) != 0)) {
        PyErr_SetString(PyExc_TypeError,
                        "Array() takes exactly one argument, a list of floats");
        return NULL;
    }
    PyObject *list = PyTuple_GET_ITEM(args, 0);
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "Array(): a list is expected");
        return NULL;
    }
    Py_ssize_t n = PyObject_Length(list);
    if (n < 0)
        return NULL;
    ArrayObject *a = NULL;
    PyObject *h = Array_empty(cls, n, &a);
    if (h == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_GetItem(list, i);
        if (item == NULL) {
            Py_DECREF(h);
            return NULL;
        }
        double v = PyFloat_AsDouble(item);
        Py_DECREF(item);
        if (v == -1.0 && PyErr_Occurred()) {
            Py_DECREF(h);
            return NULL;
        }
        a->data[i] = v;
    }
    return h;
}

/* ------------------------------------------------------------ arithmetic */

/* `o` as a double if it is a number (int or float): 1; an Array or anything
   else: 0 (NotImplemented); error: -1. */
static int as_number(PyObject *o, double *out)
{
    if (!PyNumber_Check(o))
        return 0;
    *out = PyFloat_AsDouble(o);
    if (*out == -1.0 && PyErr_Occurred())
        return -1;
    return 1;
}

/* a op b, element-wise (op is not OP_DIV) */
static PyObject *array_array(PyTypeObject *type, ArrayObject *a, ArrayObject *b, int op)
{
    if (a->size != b->size) {
        PyErr_SetString(PyExc_ValueError, "Arrays of different sizes");
        return NULL;
    }
    ArrayObject *r = NULL;
    PyObject *h = Array_empty(type, a->size, &r);
    if (h == NULL)
        return NULL;
    const double *x = a->data, *y = b->data;
    double *z = r->data;
    Py_ssize_t n = a->size;
    switch (op) {
    case OP_ADD: for (Py_ssize_t i = 0; i < n; i++) z[i] = x[i] + y[i]; break;
    case OP_SUB: for (Py_ssize_t i = 0; i < n; i++) z[i] = x[i] - y[i]; break;
    case OP_MUL: for (Py_ssize_t i = 0; i < n; i++) z[i] = x[i] * y[i]; break;
    }
    return h;
}

/* a op s, or s op a if `reflected` */
static PyObject *array_scalar(PyTypeObject *type, ArrayObject *a, double s, int op,
                              int reflected)
{
    ArrayObject *r = NULL;
    PyObject *h = Array_empty(type, a->size, &r);
    if (h == NULL)
        return NULL;
    const double *x = a->data;
    double *z = r->data;
    Py_ssize_t n = a->size;
    switch (op) {
    case OP_ADD: for (Py_ssize_t i = 0; i < n; i++) z[i] = x[i] + s; break;
    case OP_SUB:
        if (reflected)
            for (Py_ssize_t i = 0; i < n; i++) z[i] = s - x[i];
        else
            for (Py_ssize_t i = 0; i < n; i++) z[i] = x[i] - s;
        break;
    case OP_MUL: for (Py_ssize_t i = 0; i < n; i++) z[i] = x[i] * s; break;
    case OP_DIV: for (Py_ssize_t i = 0; i < n; i++) z[i] = x[i] / s; break;
    }
    return h;
}

/* The number slots: o1 or o2 (or both) is an Array. */
static PyObject *Array_binop(PyObject *o1, PyObject *o2, int op)
{
    PyTypeObject *type = Array_type;
    int is1 = PyObject_TypeCheck(o1, type);
    int is2 = PyObject_TypeCheck(o2, type);
    double s;
    int rc;
    if (is1 && is2) {
        if (op == OP_DIV)
            Py_RETURN_NOTIMPLEMENTED;
        return array_array(type, (ArrayObject *)o1, (ArrayObject *)o2, op);
    }
    if (!is1 && !is2)
        Py_RETURN_NOTIMPLEMENTED;
    if ((rc = as_number(is1 ? o2 : o1, &s)) < 0)
        return NULL;
    if (rc == 0 || (op == OP_DIV && is2))
        Py_RETURN_NOTIMPLEMENTED;
    return array_scalar(type, (ArrayObject *)(is1 ? o1 : o2), s, op, is2);
}

static PyObject *Array_add(PyObject *o1, PyObject *o2)
{
    return Array_binop(o1, o2, OP_ADD);
}

static PyObject *Array_sub(PyObject *o1, PyObject *o2)
{
    return Array_binop(o1, o2, OP_SUB);
}

static PyObject *Array_mul(PyObject *o1, PyObject *o2)
{
    return Array_binop(o1, o2, OP_MUL);
}

static PyObject *Array_div(PyObject *o1, PyObject *o2)
{
    return Array_binop(o1, o2, OP_DIV);
}

/* ------------------------------------------------------------ sequence */

static Py_ssize_t Array_len(PyObject *self)
{
    return ((ArrayObject *)self)->size;
}

/* negative indices are made positive by CPython (sq_item) */
static PyObject *Array_item(PyObject *self, Py_ssize_t i)
{
    ArrayObject *a = (ArrayObject *)self;
    if (i < 0 || i >= a->size) {
        PyErr_SetString(PyExc_IndexError, "Array index out of range");
        return NULL;
    }
    return PyFloat_FromDouble(a->data[i]);
}

static PyObject *Array_tolist(PyObject *self, PyObject *unused)
{
    ArrayObject *a = (ArrayObject *)self;
    PyObject *list = PyList_New(a->size);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < a->size; i++) {
        PyObject *item = PyFloat_FromDouble(a->data[i]);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

static PyMethodDef Array_methods[] = {
    {"tolist", Array_tolist, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Array_slots[] = {
    {Py_tp_new, Array_new},
    {Py_tp_dealloc, Array_dealloc},
    {Py_nb_add, Array_add},
    {Py_nb_subtract, Array_sub},
    {Py_nb_multiply, Array_mul},
    {Py_nb_true_divide, Array_div},
    {Py_sq_length, Array_len},
    {Py_sq_item, Array_item},
    {Py_tp_methods, Array_methods},
    {0, NULL},
};

static PyType_Spec Array_spec = {
    .name = "array_capi.Array",
    .basicsize = sizeof(ArrayObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Array_slots,
};

/* ------------------------------------------------------------ module */

static PyObject *ctx_name(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString("C API");
}

static PyMethodDef methods[] = {
    {"ctx_name", ctx_name, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static int array_exec(PyObject *m)
{
    Array_type = (PyTypeObject *)PyType_FromSpec(&Array_spec);
    if (Array_type == NULL)
        return -1;
    Py_INCREF(Array_type);
    if (PyModule_AddObject(m, "Array", (PyObject *)Array_type) < 0) {
        Py_DECREF(Array_type);
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, array_exec},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "array_capi",
    .m_doc = "a small array of doubles (CPython C API), for scripts/bench.py",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC PyInit_array_capi(void)
{
    return PyModuleDef_Init(&moduledef);
}
