//! Universal handles on CPython, and the one place that turns CPython's
//! "NULL or -1 means an exception is set" into HPy return values.
//!
//! A handle's `_i` is the address of the object it refers to: opening a handle
//! is `Py_INCREF`, closing it `Py_DECREF`, and converting either way is free.
//! Extensions must treat the value as opaque; the debug context enforces that.

use crate::ffi;
use hpy_sys::{HPy, HPyListBuilder, HPyThreadState, HPyTracker, HPyTupleBuilder};

#[inline(always)]
pub fn as_obj(h: HPy) -> *mut ffi::PyObject {
    h._i as *mut ffi::PyObject
}

/// Wraps a new (owned) reference; NULL stays `HPy_NULL`.
#[inline(always)]
pub fn from_owned(o: *mut ffi::PyObject) -> HPy {
    HPy { _i: o as isize }
}

/// Opens a new handle for a borrowed reference.
///
/// # Safety
/// `o` must be NULL or a valid object, and the GIL must be held.
#[inline(always)]
pub unsafe fn from_borrowed(o: *mut ffi::PyObject) -> HPy {
    // SAFETY: caller guarantees `o` is NULL or alive, GIL held.
    unsafe { ffi::Py_XINCREF(o) };
    from_owned(o)
}

/// A new strong reference to `o`: CPython's `Py_NewRef`, which 3.8 and 3.9
/// do not have.
///
/// # Safety
/// `o` must be a valid object, and the GIL must be held.
#[inline(always)]
pub(crate) unsafe fn new_ref(o: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: caller guarantees `o` is alive, GIL held.
    unsafe { ffi::Py_INCREF(o) };
    o
}

/// The value a context function returns when it fails (with an exception set).
pub trait ErrorValue {
    const ERROR: Self;
}

macro_rules! error_values {
    ($($t:ty => $v:expr),* $(,)?) => { $(impl ErrorValue for $t { const ERROR: Self = $v; })* };
}

error_values! {
    () => (),
    i32 => -1,
    u32 => u32::MAX,
    i64 => -1,
    u64 => u64::MAX,
    isize => -1,
    usize => usize::MAX,
    f64 => -1.0,
    bool => false,
    HPy => HPy { _i: 0 },
    HPyListBuilder => HPyListBuilder { _lst: 0 },
    HPyTupleBuilder => HPyTupleBuilder { _tup: 0 },
    HPyTracker => HPyTracker { _i: 0 },
    HPyThreadState => HPyThreadState { _i: 0 },
}

impl<T> ErrorValue for *mut T {
    const ERROR: Self = core::ptr::null_mut();
}

impl<T> ErrorValue for *const T {
    const ERROR: Self = core::ptr::null();
}

/// Raises `exc` with a message (UTF-8; a NUL is kept, as CPython keeps it
/// in a str). Cold and out of line: only error paths call it.
///
/// # Safety
/// GIL held; `exc` is an exception type.
#[cold]
#[inline(never)]
pub(crate) unsafe fn raise(exc: *mut ffi::PyObject, msg: &str) {
    // SAFETY: pointer and length describe `msg` (a str's length fits
    // isize); `exc` is an exception type and the GIL is held (caller).
    // PyErr_SetObject takes its own reference to the message.
    unsafe {
        let m = ffi::PyUnicode_FromStringAndSize(msg.as_ptr().cast(), msg.len() as ffi::Py_ssize_t);
        if !m.is_null() {
            ffi::PyErr_SetObject(exc, m);
            ffi::Py_DECREF(m);
        }
    }
}

/// Stops the process with CPython's fatal error (and the Python stack): for
/// what cannot happen (a NULL function pointer the runtime needs), without
/// a panic's formatting.
#[cold]
#[inline(never)]
pub(crate) fn fatal(msg: &core::ffi::CStr) -> ! {
    // SAFETY: a NUL-terminated message; Py_FatalError does not return (it
    // may be called without the GIL: it then prints no Python stack).
    unsafe { ffi::Py_FatalError(msg.as_ptr()) }
}
