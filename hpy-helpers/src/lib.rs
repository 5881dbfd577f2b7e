//! The HPy API helpers: `HPyArg_Parse*`, `HPy_BuildValue`,
//! `HPyUnicode_FromFormat(V)`, `HPyErr_Format`, `HPyHelpers_*` and struct
//! sequences.
//!
//! They are part of the API, not the ABI: every extension carries its own
//! copy and reaches the interpreter only through the context it was handed.
//! This crate is built as a static library (`libhpy-extra-<abi>.a` in
//! `hpy.devel`) that bundles the C entry points of `hpy-sys/runtime/*.c`; the
//! C side turns variable arguments into a [`va::VaArgs`] cursor and calls the
//! `hpy_rs_*` functions below, which hold the logic.
//!
//! Failures are Python exceptions whose message names the public function
//! and, for format strings, the offending unit.
//!
//! `no_std`, without `alloc`: an extension carries this library, and it
//! should weigh what upstream's C helpers weigh. Messages are built on the
//! stack ([`message`]); the rare long buffer grows on the C heap
//! (`smallvec`). Nothing here panics on any input (no `unwrap`, no indexing
//! that can fail); should a panic happen anyway, in the static library it
//! aborts the process with a message (`panic`), and where this crate is an
//! rlib inside a Rust program, unwinding stops at the `extern "C"` entry
//! points, which abort too.

#![no_std]

use core::ffi::{c_char, c_int};
use hpy_sys::{
    HPy, HPyContext, HPyStructSequence_Desc, HPyTracker, HPyType_Spec, HPyType_SpecParam,
    HPy_ssize_t,
};

pub mod ctx;
pub mod message;
#[cfg(hpy_helpers_staticlib)]
mod panic;
pub mod va;

pub mod argparse;
pub mod buildvalue;
pub mod format;
pub mod helpers;
mod smallvec;
pub mod structseq;

use ctx::Ctx;
use va::{VaArgs, VaCursor};

/// # Safety
/// Called by `HPyArg_Parse` (argparse.c) with its own arguments and a live cursor.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_arg_parse(
    ctx: *mut HPyContext,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    fmt: *const c_char,
    va: *mut VaCursor,
) -> c_int {
    // SAFETY: forwarded from the C caller (see the function's contract).
    unsafe { argparse::parse(Ctx(ctx), ht, args, nargs, fmt, VaArgs::new(va)) }
}

/// # Safety
/// Called by `HPyArg_ParseKeywords` with its own arguments and a live cursor.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_arg_parse_keywords(
    ctx: *mut HPyContext,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: *mut VaCursor,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe {
        argparse::parse_keywords(
            Ctx(ctx),
            ht,
            args,
            nargs,
            kwnames,
            fmt,
            keywords,
            VaArgs::new(va),
        )
    }
}

/// # Safety
/// Called by `HPyArg_ParseKeywordsDict` with its own arguments and a live cursor.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_arg_parse_keywords_dict(
    ctx: *mut HPyContext,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: HPy_ssize_t,
    kw: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: *mut VaCursor,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe {
        argparse::parse_keywords_dict(
            Ctx(ctx),
            ht,
            args,
            nargs,
            kw,
            fmt,
            keywords,
            VaArgs::new(va),
        )
    }
}

/// # Safety
/// Called by `HPy_BuildValue` with its own arguments and a live cursor.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_build_value(
    ctx: *mut HPyContext,
    fmt: *const c_char,
    va: *mut VaCursor,
) -> HPy {
    // SAFETY: forwarded from the C caller.
    unsafe { buildvalue::build_value(Ctx(ctx), fmt, VaArgs::new(va)) }
}

/// # Safety
/// Called by `HPyUnicode_FromFormat(V)` with its own arguments and a live cursor.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_unicode_from_format(
    ctx: *mut HPyContext,
    fmt: *const c_char,
    va: *mut VaCursor,
) -> HPy {
    // SAFETY: forwarded from the C caller.
    unsafe { format::unicode_from_format(Ctx(ctx), fmt, VaArgs::new(va)) }
}

/// # Safety
/// Called by `HPyErr_Format` with its own arguments and a live cursor.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_err_format(
    ctx: *mut HPyContext,
    h_type: HPy,
    fmt: *const c_char,
    va: *mut VaCursor,
) -> HPy {
    // SAFETY: forwarded from the C caller.
    unsafe { format::err_format(Ctx(ctx), h_type, fmt, VaArgs::new(va)) }
}

/// # Safety
/// Called by `HPyHelpers_AddType` with its own arguments.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_helpers_add_type(
    ctx: *mut HPyContext,
    obj: HPy,
    name: *const c_char,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe { helpers::add_type(Ctx(ctx), obj, name, spec, params) }
}

/// # Safety
/// Called by `HPyHelpers_PackArgsAndKeywords` with its own arguments.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_helpers_pack_args_and_keywords(
    ctx: *mut HPyContext,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
    out_args_tuple: *mut HPy,
    out_kwd: *mut HPy,
) -> c_int {
    // SAFETY: forwarded from the C caller.
    unsafe {
        helpers::pack_args_and_keywords(Ctx(ctx), args, nargs, kwnames, out_args_tuple, out_kwd)
    }
}

/// # Safety
/// Called by `HPyStructSequence_NewType` with its own arguments.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_structseq_new_type(
    ctx: *mut HPyContext,
    desc: *mut HPyStructSequence_Desc,
) -> HPy {
    // SAFETY: forwarded from the C caller.
    unsafe { structseq::new_type(Ctx(ctx), desc) }
}

/// # Safety
/// Called by `HPyStructSequence_New` with its own arguments.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_structseq_new(
    ctx: *mut HPyContext,
    ty: HPy,
    nargs: HPy_ssize_t,
    args: *mut HPy,
) -> HPy {
    // SAFETY: forwarded from the C caller.
    unsafe { structseq::new(Ctx(ctx), ty, nargs, args) }
}

/// Whether `bytes` holds `b`: a plain loop, where `<[u8]>::contains` would
/// bring in core's `memchr` (with its unwind table entry: it weighs more
/// than the short texts searched here save).
#[allow(clippy::manual_contains)]
pub(crate) fn has_byte(bytes: &[u8], b: u8) -> bool {
    bytes.iter().any(|&x| x == b)
}
