//! The static runtime of CPython-ABI extensions (`-DHPY_ABI_CPYTHON`),
//! shipped as `hpy/devel/lib/cpython/libhpy-ctx-cpython.a` (upstream's file
//! name; setup.py renames cargo's `libhpy_cpython_abi.a`) and linked into
//! each such extension, which thereby gets its own copy.
//!
//! A CPython-ABI extension is an ordinary CPython extension whose handles
//! are `PyObject *`s: the encoding of hpy-rs's universal runtime, so every
//! context function of `hpy-cpython` serves here unchanged. This library
//! exports, all hidden by the headers' declarations (`HPyAPI_IMPL`):
//! - `_HPyRs_cpy_ctx_<member>` for every context function: the API functions
//!   of `hpy/cpython/autogen_api.h` call these directly, and so do the API
//!   helpers in the library as shipped (feature `direct-calls`, built LTO'd
//!   in the profile `cpython-lib`, so these inline into the helpers);
//! - `_HPyRs_cpy_ctx`, the extension's `HPyContext` (`_HPyGetContext()`), with
//!   the universal layout, filled on the first module init: its data members
//!   always, its functions only without `direct-calls` (see `init_context`),
//!   so that code calling through it (the helpers as hpy-props builds them)
//!   works in this ABI too;
//! - `_HPyRs_cpy_ModuleDef_Init` (what `HPy_MODINIT`'s `PyInit_<ext>` returns)
//!   and the two trampoline helpers of `hpy/cpython/trampolines.h`;
//! - the API helpers of `hpy-helpers` with their C entry points.
//!
//! `no_std`, like everything it contains: the library shipped in `hpy.devel`
//! is built by `cargo rustc -p hpy-cpython-abi --profile cpython-lib
//! --crate-type staticlib --features extension-module,direct-calls -- --cfg
//! hpy_cpython_abi_staticlib` (setup.py, `scripts/dev-helpers.sh`), which
//! adds the allocator and the panic handler (`staticlib`). Any other build
//! (the rlib of the tests, `cargo build`) links std, which brings both.
//! Nothing here links std otherwise: CPython's API comes from
//! `hpy_cpython::ffi`, declarations of our own.

#![no_std]
#![allow(non_upper_case_globals, non_snake_case)]

#[cfg(not(hpy_cpython_abi_staticlib))]
extern crate std;
#[cfg(hpy_cpython_abi_staticlib)]
mod staticlib;

use core::ffi::{c_char, c_int, c_void};
use hpy_cpython::ffi;
use hpy_sys::{HPyContext, HPyFunc_traverseproc, HPyModuleDef};

// The helpers (HPyArg_Parse, HPy_BuildValue, ...) and the C side of them are
// part of this library; naming the crate is what links it in.
use hpy_helpers as _;

/// Where each exported function comes from: `hpy-cpython`, except the
/// trampoline dispatcher, which this ABI has no use for.
mod impls {
    pub use super::ctx_CallRealFunctionFromTrampoline;
    pub use hpy_cpython::*;
}

/// `ctx->name` in this ABI (upstream's tests compare it verbatim).
pub const NAME: &core::ffi::CStr = c"HPy CPython ABI";

/// The extension's context (`_HPyGetContext()`). Zeroed until the first
/// `PyInit_<ext>` fills it; a non-NULL `name` marks it as filled.
#[no_mangle]
pub static mut _HPyRs_cpy_ctx: HPyContext = {
    // SAFETY: HPyContext is plain data (pointers, ints, handles and
    // Option<fn>), for which all-zero is a valid value.
    unsafe { core::mem::zeroed() }
};

/// CPython-ABI trampolines call implementations directly and never use the
/// dispatcher of universal trampolines; the member still needs a value.
///
/// # Safety
/// Never safe to call: it stops the process.
pub unsafe extern "C" fn ctx_CallRealFunctionFromTrampoline(
    _ctx: *mut HPyContext,
    _sig: hpy_sys::HPyFunc_Signature,
    _func: hpy_sys::HPyCFunction,
    _args: *mut c_void,
) {
    // SAFETY: NUL-terminated message; Py_FatalError does not return.
    unsafe {
        ffi::Py_FatalError(
            c"hpy-rs: ctx_CallRealFunctionFromTrampoline called in the CPython ABI, whose trampolines call their implementation directly".as_ptr(),
        )
    }
}

/// Fills the context once. With the feature `direct-calls` (as shipped),
/// nothing in an extension calls through the table: the API functions of
/// `hpy/cpython/*.h` and the helpers call the runtime's functions by name,
/// so only the data members are set (name, ABI version, the handle
/// constants `ctx->h_None`, ...), and the linker (`--gc-sections`, which
/// `hpy.devel` passes) leaves out every function the extension does not
/// call. Without the feature (hpy-props runs the helpers over this context
/// through the table), every member is assigned; a member without an
/// implementation in `hpy-cpython` is a compile error.
///
/// # Safety
/// GIL held (it also serialises the first call).
pub unsafe fn init_context() -> *mut HPyContext {
    let p = &raw mut _HPyRs_cpy_ctx;
    // SAFETY: the GIL serialises every access to the context, and nothing
    // else holds a reference into it while it is being filled.
    let ctx = unsafe { &mut *p };
    if ctx.name.is_null() {
        #[cfg(feature = "direct-calls")]
        // SAFETY: GIL held (caller).
        unsafe {
            hpy_cpython::context::fill_data(ctx, NAME)
        };
        #[cfg(not(feature = "direct-calls"))]
        // SAFETY: GIL held (caller).
        unsafe {
            hpy_cpython::context::fill_context(ctx, NAME, ctx_CallRealFunctionFromTrampoline)
        };
    }
    p
}

/// Every context function under its C name `_HPyRs_cpy_ctx_<member>`, for
/// the direct calls of `hpy/cpython/autogen_api.h`.
mod exports {
    use super::impls;
    use hpy_sys::HPyContext;

    macro_rules! export_functions {
        ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {$(
            /// # Safety
            /// The contract of the context member of the same name.
            #[export_name = concat!("_HPyRs_cpy_", stringify!($name))]
            pub unsafe extern "C" fn $name(ctx: *mut HPyContext, $($p: $t),*) -> $ret {
                // SAFETY: same signature and contract as the member.
                unsafe { impls::$name(ctx, $($p),*) }
            }
        )*};
    }

    hpy_sys::for_each_ctx_function!(export_functions);
}

/// `PyInit_<ext>` of a CPython-ABI extension (`HPy_MODINIT`): fills the
/// context if needed and returns the module definition for CPython's
/// multi-phase initialisation.
///
/// # Safety
/// Called by `PyInit_<ext>` (GIL held) with the extension's static
/// `HPyModuleDef` and a string literal.
#[no_mangle]
pub unsafe extern "C" fn _HPyRs_cpy_ModuleDef_Init(
    def: *mut HPyModuleDef,
    ext_name: *const c_char,
) -> *mut ffi::PyObject {
    // SAFETY: forwarded contract.
    unsafe {
        init_context();
        hpy_cpython::module::module_def_init(&*def, ext_name)
    }
}

/// `tp_traverse` of a CPython-ABI type: `impl` on the object's C struct.
///
/// # Safety
/// Called by the extension's traverse trampoline, from CPython's GC.
#[no_mangle]
pub unsafe extern "C" fn _HPyRs_cpy_CallTraverse(
    impl_: HPyFunc_traverseproc,
    obj: *mut ffi::PyObject,
    visit: hpy_sys::cpy_visitproc,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { hpy_cpython::traverse(impl_, obj, visit, arg) }
}

/// The result of an `HPy_mod_create` implementation, checked like the
/// universal dispatcher does.
///
/// # Safety
/// `result` is NULL or a new reference; GIL held.
#[no_mangle]
pub unsafe extern "C" fn _HPyRs_cpy_CheckModCreateResult(
    result: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let mut r: *mut hpy_sys::cpy_PyObject = result.cast();
    // SAFETY: forwarded contract.
    unsafe { hpy_cpython::defs::reject_module_from_mod_create(&mut r) };
    r.cast()
}
