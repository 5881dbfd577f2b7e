/*
 * bench_capi: the benchmark module of bench_hpy.c written against the plain
 * CPython C API (Python.h), the baseline of scripts/bench.py. Every function
 * mirrors its HPy twin: same name, same arguments, same result; each HPy call
 * is replaced by its natural C-API equivalent (new references where HPy
 * returns a new handle, e.g. HPy_GetItem_i -> PySequence_GetItem). The HPy
 * VARARGS/KEYWORDS signatures are vectorcall-style, so their twins are
 * METH_FASTCALL(|METH_KEYWORDS); the argument-parsing twins use
 * METH_VARARGS(|METH_KEYWORDS) because PyArg_ParseTuple needs a tuple.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *Point_type;

/* ------------------------------------------------------------ calls */

static PyObject *ctx_name(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString("C API");
}

static PyObject *noargs(PyObject *self, PyObject *unused)
{
    Py_RETURN_NONE;
}

static PyObject *noargs_int(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(42);
}

static PyObject *onearg(PyObject *self, PyObject *arg)
{
    Py_RETURN_NONE;
}

static PyObject *varargs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "varargs: 2 arguments expected");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *keywords(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                          PyObject *kwnames)
{
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ loops */

#define LOOP_N(o_n, n)                                  \
    long n = PyLong_AsLong(o_n);                        \
    if (n == -1 && PyErr_Occurred())                    \
        return NULL;

static PyObject *long_roundtrip_loop(PyObject *self, PyObject *o_n)
{
    LOOP_N(o_n, n)
    long acc = 0;
    for (long i = 0; i < n; i++) {
        PyObject *h = PyLong_FromLong(i);
        if (h == NULL)
            return NULL;
        long v = PyLong_AsLong(h);
        Py_DECREF(h);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        acc += v;
    }
    return PyLong_FromLong(acc);
}

static PyObject *dup_close_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        PyObject *h = args[0];
        Py_INCREF(h);
        /* keep the compiler from cancelling the pair (HPy's are opaque calls) */
        __asm__ __volatile__("" : : "r"(h) : "memory");
        Py_DECREF(h);
    }
    Py_RETURN_NONE;
}

static PyObject *add_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LOOP_N(args[2], n)
    for (long i = 0; i < n; i++) {
        PyObject *r = PyNumber_Add(args[0], args[1]);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    Py_RETURN_NONE;
}

static PyObject *getattr_s_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        PyObject *r = PyObject_GetAttrString(args[0], "x");
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    Py_RETURN_NONE;
}

static PyObject *getattr_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LOOP_N(args[2], n)
    for (long i = 0; i < n; i++) {
        PyObject *r = PyObject_GetAttr(args[0], args[1]);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    Py_RETURN_NONE;
}

static PyObject *getitem_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        PyObject *r = PySequence_GetItem(args[0], i & 7);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    Py_RETURN_NONE;
}

static PyObject *tuple_build_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        PyObject *t = PyTuple_New(3);
        if (t == NULL)
            return NULL;
        for (int k = 0; k < 3; k++) {
            Py_INCREF(args[0]);
            PyTuple_SET_ITEM(t, k, args[0]);
        }
        Py_DECREF(t);
    }
    Py_RETURN_NONE;
}

static PyObject *buildvalue_loop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    LOOP_N(args[1], n)
    for (long i = 0; i < n; i++) {
        PyObject *t = Py_BuildValue("(iiO)", 1, 2, args[0]);
        if (t == NULL)
            return NULL;
        Py_DECREF(t);
    }
    Py_RETURN_NONE;
}

static PyObject *argparse_loop(PyObject *self, PyObject *args)
{
    long n = 0, a, b;
    double c;
    if (!PyArg_ParseTuple(args, "llld", &n, &a, &b, &c))
        return NULL;
    for (long i = 1; i < n; i++) {
        if (!PyArg_ParseTuple(args, "llld", &n, &a, &b, &c))
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *argparse_kw_loop(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"n", "a", "c", NULL};
    long n = 0, a;
    double c = 0.0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ll|d", kwlist, &n, &a, &c))
        return NULL;
    for (long i = 1; i < n; i++) {
        if (!PyArg_ParseTupleAndKeywords(args, kw, "ll|d", kwlist, &n, &a, &c))
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *new_loop(PyObject *self, PyObject *o_n)
{
    LOOP_N(o_n, n)
    PyTypeObject *tp = (PyTypeObject *)Point_type;
    for (long i = 0; i < n; i++) {
        PyObject *p = tp->tp_alloc(tp, 0);
        if (p == NULL)
            return NULL;
        Py_DECREF(p);
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ type */

typedef struct {
    PyObject_HEAD
    long x;
    long y;
} PointObject;

static PyObject *Point_new(PyTypeObject *cls, PyObject *args, PyObject *kw)
{
    PointObject *p = (PointObject *)cls->tp_alloc(cls, 0);
    if (p == NULL)
        return NULL;
    p->x = 1;
    p->y = 2;
    return (PyObject *)p;
}

static PyObject *Point_add(PyObject *a, PyObject *b)
{
    Py_INCREF(b);
    return b;
}

static PyObject *Point_call(PyObject *callable, PyObject *args, PyObject *kw)
{
    Py_RETURN_NONE;
}

static PyType_Slot Point_slots[] = {
    {Py_tp_new, Point_new},
    {Py_nb_add, Point_add},
    {Py_tp_call, Point_call},
    {0, NULL},
};

static PyType_Spec Point_spec = {
    .name = "bench_capi.Point",
    .basicsize = sizeof(PointObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Point_slots,
};

/* ------------------------------------------------------------ module */

#define FAST(name) {#name, (PyCFunction)(void (*)(void))name, METH_FASTCALL, NULL}

static PyMethodDef methods[] = {
    {"ctx_name", ctx_name, METH_NOARGS, NULL},
    {"noargs", noargs, METH_NOARGS, NULL},
    {"noargs_int", noargs_int, METH_NOARGS, NULL},
    {"onearg", onearg, METH_O, NULL},
    FAST(varargs),
    {"keywords", (PyCFunction)(void (*)(void))keywords, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"long_roundtrip_loop", long_roundtrip_loop, METH_O, NULL},
    FAST(dup_close_loop),
    FAST(add_loop),
    FAST(getattr_s_loop),
    FAST(getattr_loop),
    FAST(getitem_loop),
    FAST(tuple_build_loop),
    FAST(buildvalue_loop),
    {"argparse_loop", argparse_loop, METH_VARARGS, NULL},
    {"argparse_kw_loop", (PyCFunction)(void (*)(void))argparse_kw_loop,
     METH_VARARGS | METH_KEYWORDS, NULL},
    {"new_loop", new_loop, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static int bench_exec(PyObject *m)
{
    Point_type = PyType_FromSpec(&Point_spec);
    if (Point_type == NULL)
        return -1;
    Py_INCREF(Point_type);
    if (PyModule_AddObject(m, "Point", Point_type) < 0) {
        Py_DECREF(Point_type);
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, bench_exec},
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "bench_capi",
    .m_doc = "hpy-rs benchmark module (CPython C API)",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC PyInit_bench_capi(void)
{
    return PyModuleDef_Init(&moduledef);
}
