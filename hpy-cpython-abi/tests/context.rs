//! The context of CPython-ABI extensions, filled over an embedded
//! interpreter: every member set, the name upstream's tests expect, handle
//! constants that are the objects themselves, and the exported functions
//! behaving like the table's.

use hpy_sys::{HPy, HPyContext};
use pyo3_ffi as ffi;
use std::ffi::CStr;

fn with_gil<R>(f: impl FnOnce(&HPyContext) -> R) -> R {
    // SAFETY: GIL held; the context is a static filled once.
    hpy_cpython::embed::with_gil(|| f(unsafe { &*hpy_cpython_abi::init_context() }))
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
        assert_eq!(unsafe { CStr::from_ptr(c.name) }, c"HPy CPython ABI");
    });
}

#[test]
fn the_context_is_the_exported_static() {
    with_gil(|c| {
        assert!(std::ptr::eq(c, &raw const hpy_cpython_abi::_HPyRs_cpy_ctx));
    });
}

#[test]
fn handles_are_objects() {
    with_gil(|c| {
        // SAFETY: GIL held; reading interpreter globals.
        unsafe {
            assert_eq!(c.h_None._i, ffi::Py_None() as isize);
            assert_eq!(c.h_TypeError._i, ffi::PyExc_TypeError as isize);
            assert_eq!(c.h_ListType._i, (&raw mut ffi::PyList_Type) as isize);
        }
    });
}

extern "C" {
    // exported by hpy-cpython-abi for the CPython-ABI headers
    fn _HPyRs_cpy_ctx_Long_FromInt64_t(ctx: *mut HPyContext, v: i64) -> HPy;
    fn _HPyRs_cpy_ctx_Long_AsInt64_t(ctx: *mut HPyContext, h: HPy) -> i64;
}

#[test]
fn table_and_direct_calls_agree() {
    with_gil(|c| {
        let ctx = c as *const HPyContext as *mut HPyContext;
        // SAFETY: GIL held; handles are opened and closed in pairs; the
        // exported functions have the members' signatures.
        unsafe {
            let direct = _HPyRs_cpy_ctx_Long_FromInt64_t(ctx, 1234);
            let s = (c.ctx_Str.unwrap())(ctx, direct);
            let utf8 = (c.ctx_Unicode_AsUTF8AndSize.unwrap())(ctx, s, std::ptr::null_mut());
            assert_eq!(CStr::from_ptr(utf8), c"1234");
            let from_table = (c.ctx_Long_FromInt64_t.unwrap())(ctx, -5);
            assert_eq!(_HPyRs_cpy_ctx_Long_AsInt64_t(ctx, from_table), -5);
            (c.ctx_Close.unwrap())(ctx, s);
            (c.ctx_Close.unwrap())(ctx, direct);
            (c.ctx_Close.unwrap())(ctx, from_table);
        }
    });
}
