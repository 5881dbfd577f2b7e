//! The universal context as built over an embedded interpreter: every member
//! filled, handle constants pointing at the right objects, and a round trip
//! through a few functions.

use hpy_sys::{HPy, HPyContext};
use pyo3_ffi as ffi;
use std::ffi::CStr;

fn with_gil<R>(f: impl FnOnce(&HPyContext) -> R) -> R {
    // SAFETY: GIL held; the context is built once and never freed.
    hpy_cpython::embed::with_gil(|| f(unsafe { &*hpy_universal::universal_ctx() }))
}

#[test]
fn every_member_is_filled() {
    with_gil(|c| {
        assert_eq!(
            hpy_cpython::context::unfilled_members(c),
            Vec::<&str>::new()
        );
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
            let type_error = ffi::PyExc_TypeError;
            assert_eq!(c.h_TypeError._i as *mut ffi::PyObject, type_error);
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
