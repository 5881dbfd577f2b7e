//! The universal context as built over an embedded interpreter: every member
//! filled, handle constants pointing at the right objects, and a round trip
//! through a few functions.

use hpy_sys::{HPy, HPyContext};
use pyo3_ffi as ffi;
use std::ffi::CStr;
use std::sync::Once;

fn with_gil<R>(f: impl FnOnce(&HPyContext) -> R) -> R {
    static INIT: Once = Once::new();
    // SAFETY: initialise the interpreter once; the test threads then take the GIL.
    INIT.call_once(|| unsafe {
        ffi::Py_InitializeEx(0);
        ffi::PyEval_SaveThread();
    });
    // SAFETY: the interpreter is initialised; PyGILState_Ensure/Release pair;
    // the context is built (under the GIL) once and never freed.
    unsafe {
        let g = ffi::PyGILState_Ensure();
        let r = f(&*hpy_universal::universal_ctx());
        ffi::PyGILState_Release(g);
        r
    }
}

#[test]
fn every_member_is_filled() {
    with_gil(|c| {
        let words = c as *const HPyContext as *const usize;
        for (i, name) in hpy_sys::CTX_MEMBER_NAMES.iter().enumerate() {
            if matches!(*name, "_private" | "abi_version") {
                continue;
            }
            // SAFETY: the struct is 276 pointer-sized words (asserted in hpy-sys).
            let w = unsafe { *words.add(i) };
            assert_ne!(w, 0, "context member {name} (index {i}) is NULL");
        }
        assert_eq!(c.abi_version, 0);
        // SAFETY: `name` is a static C string.
        let name = unsafe { CStr::from_ptr(c.name) }.to_str().unwrap();
        assert!(name.starts_with("HPy Universal ABI"), "{name}");
    });
}

#[test]
fn handle_constants_are_the_builtin_objects() {
    with_gil(|c| {
        // SAFETY: GIL held; reading interpreter globals.
        unsafe {
            assert_eq!(c.h_None._i as *mut ffi::PyObject, ffi::Py_None());
            assert_eq!(c.h_True._i as *mut ffi::PyObject, ffi::Py_True());
            assert_eq!(
                c.h_TypeError._i as *mut ffi::PyObject,
                *(&raw const ffi::PyExc_TypeError)
            );
            assert_eq!(
                c.h_DictType._i as *mut ffi::PyObject,
                (&raw mut ffi::PyDict_Type).cast()
            );
            assert_ne!(ffi::PyDict_Check(c.h_Builtins._i as *mut ffi::PyObject), 0);
        }
    });
}

#[test]
fn functions_round_trip() {
    with_gil(|c| {
        let cp = c as *const HPyContext as *mut HPyContext;
        // SAFETY: GIL held; every pointer was checked non-NULL above and has
        // the member's C signature.
        unsafe {
            let h: HPy = c.ctx_Long_FromInt64_t.unwrap()(cp, -1234567890123);
            assert!(!h.is_null());
            assert_eq!(c.ctx_Long_AsInt64_t.unwrap()(cp, h), -1234567890123);
            // out of range for int32: OverflowError, -1
            assert_eq!(c.ctx_Long_AsInt32_t.unwrap()(cp, h), -1);
            assert_eq!(
                c.ctx_Err_ExceptionMatches.unwrap()(cp, c.h_OverflowError),
                1
            );
            c.ctx_Err_Clear.unwrap()(cp);
            let two = c.ctx_Long_FromInt32_t.unwrap()(cp, 2);
            let prod = c.ctx_Multiply.unwrap()(cp, h, two);
            assert_eq!(c.ctx_Long_AsInt64_t.unwrap()(cp, prod), -2469135780246);
            for x in [h, two, prod] {
                c.ctx_Close.unwrap()(cp, x);
            }
            assert_eq!(c.ctx_Err_Occurred.unwrap()(cp), 0);
        }
    });
}
