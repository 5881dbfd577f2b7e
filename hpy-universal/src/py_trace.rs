//! `hpy.universal._trace` (a module named `hpy.trace._trace`, which
//! `python/hpy/trace` re-exports): the Python face of the trace context
//! (`hpy-debug/src/trace.rs`): its counters and trace functions.

use hpy_debug::trace::{self, Hook};
use pyo3_ffi as ffi;
use std::ffi::c_char;
use std::ptr::null_mut;

/// A dict `{member name: value}` (new reference, NULL with an exception set).
///
/// # Safety
/// GIL held.
unsafe fn counter_dict(values: impl Iterator<Item = (&'static str, u64)>) -> *mut ffi::PyObject {
    // SAFETY: GIL held; every object created here is checked and released.
    unsafe {
        let d = ffi::PyDict_New();
        if d.is_null() {
            return null_mut();
        }
        for (name, value) in values {
            let k = ffi::PyUnicode_FromStringAndSize(
                name.as_ptr().cast(),
                name.len() as ffi::Py_ssize_t,
            );
            let v = ffi::PyLong_FromUnsignedLongLong(value);
            let ok = !k.is_null() && !v.is_null() && ffi::PyDict_SetItem(d, k, v) == 0;
            ffi::Py_XDECREF(k);
            ffi::Py_XDECREF(v);
            if !ok {
                ffi::Py_DECREF(d);
                return null_mut();
            }
        }
        d
    }
}

unsafe extern "C" fn get_call_counts(
    _m: *mut ffi::PyObject,
    _a: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: called by CPython with the GIL held.
    unsafe { counter_dict(trace::call_counts()) }
}

unsafe extern "C" fn get_durations(
    _m: *mut ffi::PyObject,
    _a: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: called by CPython with the GIL held.
    unsafe { counter_dict(trace::durations()) }
}

/// What one argument of `set_trace_functions` asks for: NULL (not given)
/// leaves the function as it is, None clears it, a callable replaces it.
///
/// # Safety
/// GIL held; `arg` is NULL or an object.
unsafe fn check_trace_function(
    arg: *mut ffi::PyObject,
    keyword: &str,
) -> Result<Option<*mut ffi::PyObject>, ()> {
    // SAFETY: GIL held; `arg` is NULL or valid.
    unsafe {
        if arg.is_null() {
            Ok(None)
        } else if arg == ffi::Py_None() {
            Ok(Some(null_mut()))
        } else if ffi::PyCallable_Check(arg) != 0 {
            Ok(Some(arg))
        } else {
            let tp = std::ffi::CStr::from_ptr((*ffi::Py_TYPE(arg)).tp_name).to_string_lossy();
            let msg = format!("Expected a callable object or None for {keyword}, got '{tp}'");
            crate::util::raise(ffi::PyExc_TypeError, &msg);
            Err(())
        }
    }
}

unsafe extern "C" fn set_trace_functions(
    _m: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let mut kwlist: [*mut c_char; 3] = [
        c"on_enter".as_ptr() as *mut c_char,
        c"on_exit".as_ptr() as *mut c_char,
        null_mut(),
    ];
    let (mut on_enter, mut on_exit): (*mut ffi::PyObject, *mut ffi::PyObject) =
        (null_mut(), null_mut());
    // SAFETY: called by CPython with the GIL held; "|OO" fills two borrowed
    // object pointers (left NULL when not given).
    unsafe {
        if ffi::PyArg_ParseTupleAndKeywords(
            args,
            kwargs,
            c"|OO:set_trace_functions".as_ptr(),
            // (`char **` until 3.12, `char *const *` since 3.13)
            kwlist.as_mut_ptr() as _,
            &mut on_enter,
            &mut on_exit,
        ) == 0
        {
            return null_mut();
        }
        // Both are checked before either is changed.
        let Ok(on_enter) = check_trace_function(on_enter, "on_enter") else {
            return null_mut();
        };
        let Ok(on_exit) = check_trace_function(on_exit, "on_exit") else {
            return null_mut();
        };
        if let Some(f) = on_enter {
            trace::set_trace_function(Hook::OnEnter, f);
        }
        if let Some(f) = on_exit {
            trace::set_trace_function(Hook::OnExit, f);
        }
        let none = ffi::Py_None();
        ffi::Py_INCREF(none);
        none
    }
}

unsafe extern "C" fn get_frequency(
    _m: *mut ffi::PyObject,
    _a: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // The trace context times calls with `std::time::Instant`, which is
    // CLOCK_MONOTONIC on the platforms we support.
    let mut res = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `res` is a valid out-pointer.
    let ok = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut res) } == 0;
    let res_ns = (res.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(res.tv_nsec as u64);
    let hz = if ok && res_ns > 0 {
        1_000_000_000 / res_ns
    } else {
        1_000_000_000
    };
    // SAFETY: called by CPython with the GIL held.
    unsafe { ffi::PyLong_FromUnsignedLongLong(hz) }
}

macro_rules! meth {
    ($name:literal, $flags:expr, $meth:expr, $doc:literal) => {
        ffi::PyMethodDef {
            ml_name: $name.as_ptr(),
            ml_meth: $meth,
            ml_flags: $flags,
            ml_doc: $doc.as_ptr(),
        }
    };
}

static mut METHODS: [ffi::PyMethodDef; 5] = [
    meth!(
        c"get_call_counts",
        ffi::METH_NOARGS,
        ffi::PyMethodDefPointer { PyCFunction: get_call_counts },
        c"get_call_counts()\n--\n\nA dict {name: number of calls} of every HPy API function called through the trace context (names as in the context, e.g. 'ctx_Add')."
    ),
    meth!(
        c"get_durations",
        ffi::METH_NOARGS,
        ffi::PyMethodDefPointer { PyCFunction: get_durations },
        c"get_durations()\n--\n\nA dict {name: total time in nanoseconds} spent in every HPy API function called through the trace context (trace functions excluded)."
    ),
    meth!(
        c"set_trace_functions",
        ffi::METH_VARARGS | ffi::METH_KEYWORDS,
        ffi::PyMethodDefPointer { PyCFunctionWithKeywords: set_trace_functions },
        c"set_trace_functions(on_enter=<unchanged>, on_exit=<unchanged>)\n--\n\nSet the functions called with the API function's name when an HPy API function is entered or exited. None removes a function; an argument not given leaves it unchanged. An exception raised by one of them is a fatal error."
    ),
    meth!(
        c"get_frequency",
        ffi::METH_NOARGS,
        ffi::PyMethodDefPointer { PyCFunction: get_frequency },
        c"get_frequency()\n--\n\nResolution of the clock used for the durations, in Hertz."
    ),
    ffi::PyMethodDef::zeroed(),
];

static mut MODULE_DEF: ffi::PyModuleDef = crate::util::module_def(
    c"hpy.trace._trace",
    Some(c"HPy trace mode: call counts, durations and trace functions of the trace context."),
);

/// Creates the `_trace` module (new reference, NULL with an exception set).
///
/// # Safety
/// GIL held; called once, from `PyInit_universal`.
pub unsafe fn create() -> *mut ffi::PyObject {
    // SAFETY: GIL held; called once; the statics are only touched here.
    unsafe { crate::util::create_module(&raw mut MODULE_DEF, (&raw mut METHODS).cast()) }
}
