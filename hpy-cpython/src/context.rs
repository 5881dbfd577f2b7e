//! Filling an `HPyContext` table with this crate's functions: the one place
//! that expands the context declaration into assignments, shared by the
//! universal context (hpy-universal) and the context of CPython-ABI
//! extensions (hpy-cpython-abi).

use alloc::vec::Vec;
use core::ffi::{c_void, CStr};
use hpy_sys::{HPyCFunction, HPyContext, HPyFunc_Signature};

/// The one member this crate cannot implement: the dispatcher of universal
/// trampolines belongs to the runtime that loads universal binaries
/// ([`fill_context`] takes it as an argument).
pub type CallRealFunctionFromTrampoline =
    unsafe extern "C" fn(*mut HPyContext, HPyFunc_Signature, HPyCFunction, *mut c_void);

mod impls {
    pub use crate::*;

    /// Never called: [`super::fill_context`] overwrites this member with the
    /// dispatcher it is given. It exists so the expansion below can assign
    /// every member uniformly.
    pub unsafe extern "C" fn ctx_CallRealFunctionFromTrampoline(
        _: *mut hpy_sys::HPyContext,
        _: hpy_sys::HPyFunc_Signature,
        _: hpy_sys::HPyCFunction,
        _: *mut core::ffi::c_void,
    ) {
        unreachable!("replaced by fill_context")
    }
}

macro_rules! fill_functions {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
        |ctx: &mut HPyContext| { $( ctx.$name = Some(impls::$name); )* }
    };
}

macro_rules! fill_handles {
    ($(($idx:literal, $name:ident)),* $(,)?) => {
        // SAFETY: `fill_data` requires the GIL.
        |ctx: &mut HPyContext| { $( ctx.$name = unsafe { crate::constants::$name() }; )* }
    };
}

/// Assigns every member of `ctx`: name, ABI version, the handle constants and
/// every function (a member without an implementation here is a compile
/// error), with `call_real` as the trampoline dispatcher.
///
/// # Safety
/// GIL held (the constants are read from the interpreter).
pub unsafe fn fill_context(
    ctx: &mut HPyContext,
    name: &'static CStr,
    call_real: CallRealFunctionFromTrampoline,
) {
    // SAFETY: GIL held (caller).
    unsafe { fill_data(ctx, name) };
    (hpy_sys::for_each_ctx_function!(fill_functions))(ctx);
    ctx.ctx_CallRealFunctionFromTrampoline = Some(call_real);
}

/// Assigns the members of `ctx` that are data: name, ABI version and the
/// handle constants (`ctx->h_None`, ...), leaving the function members as
/// they are. Enough for a context whose functions nobody calls through the
/// table (a CPython-ABI extension calling its runtime by name), and it
/// references none of them, so a linker can leave out those not called.
///
/// # Safety
/// GIL held (the constants are read from the interpreter).
pub unsafe fn fill_data(ctx: &mut HPyContext, name: &'static CStr) {
    ctx._private = core::ptr::null_mut();
    ctx.abi_version = hpy_sys::HPY_ABI_VERSION as i32;
    (hpy_sys::for_each_ctx_handle!(fill_handles))(ctx);
    ctx.name = name.as_ptr();
}

/// The members of `ctx` still zero (all but `_private` and `abi_version`,
/// which may legitimately be 0): empty for a filled context.
pub fn unfilled_members(ctx: &HPyContext) -> Vec<&'static str> {
    let words = ctx as *const HPyContext as *const usize;
    hpy_sys::CTX_MEMBER_NAMES
        .iter()
        .enumerate()
        .filter(|(_, name)| !matches!(**name, "_private" | "abi_version"))
        // SAFETY: the struct is one pointer-sized word per member, in
        // CTX_MEMBER_NAMES order (asserted in hpy-sys).
        .filter(|(i, _)| unsafe { *words.add(*i) } == 0)
        .map(|(_, name)| *name)
        .collect()
}
