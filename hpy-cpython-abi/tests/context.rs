//! The context of CPython-ABI extensions, filled over an embedded
//! interpreter: every member set (only the data members with
//! `direct-calls`, as shipped), the name upstream's tests expect, handle
//! constants that are the objects themselves, and the exported functions
//! behaving like the table's.

use hpy_cpython::ffi;
use hpy_sys::{HPy, HPyContext};
use std::ffi::CStr;

fn with_gil<R>(f: impl FnOnce(&HPyContext) -> R) -> R {
    // SAFETY: GIL held; the context is a static filled once.
    hpy_cpython::embed::with_gil(|| f(unsafe { &*hpy_cpython_abi::init_context() }))
}

#[cfg(not(feature = "direct-calls"))]
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

/// As shipped, nothing calls through the table: it holds the data members
/// only, so that no function is linked just because the table names it.
#[cfg(feature = "direct-calls")]
#[test]
fn only_the_data_members_are_filled() {
    macro_rules! function_names {
        ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
            vec![$(stringify!($name)),*]
        };
    }
    let functions: Vec<&str> = hpy_sys::for_each_ctx_function!(function_names);
    with_gil(|c| {
        assert_eq!(hpy_cpython::context::unfilled_members(c), functions);
        assert!(c.h_None._i != 0 && c.h_TypeError._i != 0);
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
    fn _HPyRs_cpy_ctx_Repr(ctx: *mut HPyContext, h: HPy) -> HPy;
    fn _HPyRs_cpy_ctx_Unicode_AsUTF8AndSize(
        ctx: *mut HPyContext,
        h: HPy,
        size: *mut isize,
    ) -> *const std::ffi::c_char;
    fn _HPyRs_cpy_ctx_Close(ctx: *mut HPyContext, h: HPy);
}

#[cfg(not(feature = "direct-calls"))]
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

/// With `direct-calls` (as setup.py builds this library) the helpers call
/// the exported functions by name, never the table: a helper run over a
/// copy of the context whose function members are all empty still works.
#[cfg(feature = "direct-calls")]
#[test]
fn helpers_call_the_runtime_without_the_table() {
    macro_rules! empty_functions {
        ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
            |c: &mut HPyContext| { $( c.$name = None; )* }
        };
    }
    with_gil(|c| {
        let ctx = c as *const HPyContext as *mut HPyContext;
        let mut empty = *c;
        (hpy_sys::for_each_ctx_function!(empty_functions))(&mut empty);
        assert!(empty.ctx_Tuple_FromArray.is_none() && empty.ctx_Long_FromInt64_t.is_none());
        // SAFETY: GIL held; the handles are opened and closed in pairs; the
        // out pointers are writable; `empty` keeps the constants of `c`.
        unsafe {
            let items = [
                _HPyRs_cpy_ctx_Long_FromInt64_t(ctx, 7),
                _HPyRs_cpy_ctx_Long_FromInt64_t(ctx, 8),
            ];
            let (mut pos, mut kwd) = (HPy { _i: 0 }, HPy { _i: 1 });
            let ok = hpy_helpers::helpers::pack_args_and_keywords(
                hpy_helpers::ctx::Ctx(&mut empty),
                items.as_ptr(),
                items.len(),
                HPy { _i: 0 },
                &mut pos,
                &mut kwd,
            );
            assert_eq!(ok, 1);
            assert_eq!(kwd._i, 0, "no keywords: HPy_NULL");
            let s = _HPyRs_cpy_ctx_Repr(ctx, pos);
            let utf8 = _HPyRs_cpy_ctx_Unicode_AsUTF8AndSize(ctx, s, std::ptr::null_mut());
            assert_eq!(CStr::from_ptr(utf8), c"(7, 8)");
            for h in [s, pos, items[0], items[1]] {
                _HPyRs_cpy_ctx_Close(ctx, h);
            }
        }
    });
}
