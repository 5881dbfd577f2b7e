/*
 * callgrind_ctl: what scripts/bench.py --callgrind needs from inside a worker
 * process running under `valgrind --tool=callgrind --instr-atstart=no`: start
 * the instrumentation, zero the event counters before a measured run and dump
 * them after it (callgrind's client requests, from <valgrind/callgrind.h>). Outside valgrind every request does nothing.
 * Built with the C API for each interpreter the workers use; not a variant.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <valgrind/callgrind.h>

static PyObject *running_on_valgrind(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong((long)RUNNING_ON_VALGRIND);
}

/* the worker starts with --instr-atstart=no (Python's start-up and the
   imports run about 3x faster uninstrumented) and calls this once, before
   its first measurement */
static PyObject *start_instrumentation(PyObject *self, PyObject *unused)
{
    CALLGRIND_START_INSTRUMENTATION;
    Py_RETURN_NONE;
}

static PyObject *zero_stats(PyObject *self, PyObject *unused)
{
    CALLGRIND_ZERO_STATS;
    Py_RETURN_NONE;
}

/* dump_stats(reason): writes the counts since the last zero_stats to a new
   dump file, whose "desc: Trigger:" line names `reason` */
static PyObject *dump_stats(PyObject *self, PyObject *reason)
{
    const char *s = PyUnicode_AsUTF8(reason);
    if (s == NULL)
        return NULL;
    CALLGRIND_DUMP_STATS_AT(s);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"running_on_valgrind", running_on_valgrind, METH_NOARGS, NULL},
    {"start_instrumentation", start_instrumentation, METH_NOARGS, NULL},
    {"zero_stats", zero_stats, METH_NOARGS, NULL},
    {"dump_stats", dump_stats, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "callgrind_ctl",
    .m_doc = "callgrind client requests for scripts/bench.py --callgrind",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit_callgrind_ctl(void)
{
    return PyModule_Create(&moduledef);
}
