//! Small helpers of the loader and the `hpy.universal` module.

use pyo3_ffi as ffi;
use std::ffi::CString;

/// Raises `exc(msg)`.
///
/// # Safety
/// GIL held; `exc` is an exception type.
pub unsafe fn raise(exc: *mut ffi::PyObject, msg: &str) {
    let msg = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: forwarded contract; NUL-terminated message.
    unsafe { ffi::PyErr_SetString(exc, msg.as_ptr()) }
}
