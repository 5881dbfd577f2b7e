//! Small helpers of the loader and the `hpy.universal` module.

use pyo3_ffi as ffi;
use std::ffi::{c_char, CStr, CString};
use std::ptr::null_mut;

/// Raises `exc(msg)`.
///
/// # Safety
/// GIL held; `exc` is an exception type.
pub unsafe fn raise(exc: *mut ffi::PyObject, msg: &str) {
    let msg = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: forwarded contract; NUL-terminated message.
    unsafe { ffi::PyErr_SetString(exc, msg.as_ptr()) }
}

/// A single-phase module definition with no state (methods are attached by
/// [`create_module`], since a `static` cannot take the address of another
/// `static mut` in its initialiser).
pub const fn module_def(name: &'static CStr, doc: Option<&'static CStr>) -> ffi::PyModuleDef {
    ffi::PyModuleDef {
        m_base: ffi::PyModuleDef_HEAD_INIT,
        m_name: name.as_ptr(),
        m_doc: match doc {
            Some(d) => d.as_ptr(),
            None => null_mut::<c_char>(),
        },
        m_size: 0,
        m_methods: null_mut(),
        m_slots: null_mut(),
        m_traverse: None,
        m_clear: None,
        m_free: None,
    }
}

/// Creates the module of `def` with the NULL-terminated `methods` (new
/// reference, NULL with an exception set).
///
/// # Safety
/// GIL held; `def` and `methods` are statics that nothing else touches, and
/// this is called once per definition (CPython keeps pointers to both).
pub unsafe fn create_module(
    def: *mut ffi::PyModuleDef,
    methods: *mut ffi::PyMethodDef,
) -> *mut ffi::PyObject {
    // SAFETY: forwarded contract: `def` is valid and exclusively ours here.
    unsafe {
        (*def).m_methods = methods;
        ffi::PyModule_Create(def)
    }
}
