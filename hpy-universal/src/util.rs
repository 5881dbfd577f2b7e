//! Small helpers shared by the loader and module creation.

use pyo3_ffi as ffi;
use std::ffi::{c_char, CStr, CString};

/// Raises `exc(msg)`.
///
/// # Safety
/// GIL held; `exc` is an exception type.
pub unsafe fn raise(exc: *mut ffi::PyObject, msg: &str) {
    let msg = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: forwarded contract; NUL-terminated message.
    unsafe { ffi::PyErr_SetString(exc, msg.as_ptr()) }
}

pub trait CStrLeak {
    /// A copy that is never freed (for definitions CPython keeps forever).
    fn leak_copy(&self) -> *const c_char;
}

impl CStrLeak for CStr {
    fn leak_copy(&self) -> *const c_char {
        CString::from(self).into_raw()
    }
}
