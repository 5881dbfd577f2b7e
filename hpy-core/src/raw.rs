//! The raw layer: one inline `unsafe` function per context member, under
//! its C name (`raw::ctx_GetItem_i(ctx, h, i)`), the only place where Rust
//! code calls the HPy API. Expanded from `hpy_sys::for_each_ctx_function!`,
//! so every member of `hpy/context.h` is here. The safe API is built on it;
//! code that works with raw handles (the API helpers) calls it directly.
//!
//! Universal ABI: through the table of the context the call received (the
//! universal, debug or trace context: whichever the loader chose). CPython
//! ABI (`cpython-abi`): straight into `hpy-cpython`'s function of the same
//! name, with no table in between.

#![allow(non_snake_case, dead_code)]

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
            pyo3_ffi::Py_FatalError(
                c"hpy-core: ctx_CallRealFunctionFromTrampoline in the CPython ABI".as_ptr(),
            )
        }
    }
}

/// A member the running context left empty (an older runtime): a panic,
/// which the entry point turns into a Python exception. `#[inline]` (and
/// cold): each crate gets its own copy, so using `raw` links nothing else of
/// hpy-core into a C extension (the helper library).
#[cold]
#[inline]
fn missing(name: &str) -> ! {
    panic!("the HPy runtime provides no {name}")
}

macro_rules! raw_functions {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {$(
        /// Calls the context member of the same name.
        ///
        /// # Safety
        /// `ctx` is the live context of the current call and the arguments
        /// meet the member's contract (HPy's API documentation).
        #[inline(always)]
        pub unsafe fn $name(ctx: *mut HPyContext, $($p: $t),*) -> $ret {
            #[cfg(not(feature = "cpython-abi"))]
            {
                // SAFETY: `ctx` points to a live context (caller).
                match unsafe { (*ctx).$name } {
                    // SAFETY: the member's contract is the caller's.
                    Some(f) => unsafe { f(ctx, $($p),*) },
                    None => missing(stringify!($name)),
                }
            }
            #[cfg(feature = "cpython-abi")]
            {
                // SAFETY: the same function the table would hold.
                unsafe { direct::$name(ctx, $($p),*) }
            }
        }
    )*};
}

hpy_sys::for_each_ctx_function!(raw_functions);

/// The dispatcher the CPython-ABI context holds (it is never called).
#[cfg(feature = "cpython-abi")]
pub fn ctx_CallRealFunctionFromTrampoline_fn(
) -> hpy_cpython::context::CallRealFunctionFromTrampoline {
    direct::ctx_CallRealFunctionFromTrampoline
}
