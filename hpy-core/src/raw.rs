//! The raw layer: one inline `unsafe` function per context member, under
//! its C name (`raw::ctx_GetItem_i(ctx, h, i)`), the only place where Rust
//! code calls the HPy API. Expanded from `hpy_sys::for_each_ctx_function!`,
//! so every member of `hpy/context.h` is here. The safe API is built on it;
//! code that works with raw handles (the API helpers) calls it directly.
//!
//! Universal ABI: `hpy_sys::call`, through the table of the context the call
//! received (the universal, debug or trace context: whichever the loader
//! chose); a member the context leaves empty panics, which the entry point
//! turns into an exception. CPython ABI (`cpython-abi`): straight into
//! `hpy-cpython`'s function of the same name, with no table in between.

#![allow(non_snake_case, dead_code)]

#[cfg(feature = "cpython-abi")]
use hpy_sys::*;

#[cfg(feature = "cpython-abi")]
mod direct {
    pub use hpy_cpython::*;

    /// CPython-ABI trampolines call their implementation directly; the
    /// dispatcher of universal trampolines is never reached.
    ///
    /// # Safety
    /// Never safe to call: it stops the process.
    pub unsafe extern "C" fn ctx_CallRealFunctionFromTrampoline(
        _ctx: *mut hpy_sys::HPyContext,
        _sig: hpy_sys::HPyFunc_Signature,
        _func: hpy_sys::HPyCFunction,
        _args: *mut core::ffi::c_void,
    ) {
        // SAFETY: a NUL-terminated message; Py_FatalError does not return.
        unsafe {
            hpy_cpython::ffi::Py_FatalError(
                c"hpy-core: ctx_CallRealFunctionFromTrampoline in the CPython ABI".as_ptr(),
            )
        }
    }
}

/// Universal ABI: hpy-sys's call layer (through the table), which the API
/// helpers use too.
#[cfg(not(feature = "cpython-abi"))]
pub use hpy_sys::call::*;

#[cfg(feature = "cpython-abi")]
macro_rules! direct_calls {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {$(
        /// Calls the context function of the same name directly.
        ///
        /// # Safety
        /// `ctx` is the live context of the current call and the arguments
        /// meet the member's contract (HPy's API documentation).
        #[inline(always)]
        pub unsafe fn $name(ctx: *mut HPyContext, $($p: $t),*) -> $ret {
            // SAFETY: the same function the table would hold.
            unsafe { direct::$name(ctx, $($p),*) }
        }
    )*};
}

#[cfg(feature = "cpython-abi")]
hpy_sys::for_each_ctx_function!(direct_calls);

/// The dispatcher the CPython-ABI context holds (it is never called).
#[cfg(feature = "cpython-abi")]
pub fn ctx_CallRealFunctionFromTrampoline_fn(
) -> hpy_cpython::context::CallRealFunctionFromTrampoline {
    direct::ctx_CallRealFunctionFromTrampoline
}
