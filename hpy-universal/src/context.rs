//! The universal context: one `HPyContext` whose every slot is filled from
//! the context declaration (`for_each_ctx_function!`), so a member without an
//! implementation in `hpy-cpython` is a compile error, never a NULL slot.

use hpy_sys::HPyContext;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Where each member's implementation comes from: `hpy-cpython`, except the
/// members that belong to the runtime itself.
mod impls {
    pub use crate::trampoline::ctx_CallRealFunctionFromTrampoline;
    pub use hpy_cpython::*;
}

pub const NAME: &std::ffi::CStr = c"HPy Universal ABI (hpy-rs, CPython backend)";

static UNIVERSAL: AtomicPtr<HPyContext> = AtomicPtr::new(std::ptr::null_mut());

macro_rules! fill_functions {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
        |ctx: &mut HPyContext| { $( ctx.$name = Some(impls::$name); )* }
    };
}

macro_rules! fill_handles {
    ($(($idx:literal, $name:ident)),* $(,)?) => {
        // SAFETY: called from `universal_ctx` with the GIL held.
        |ctx: &mut HPyContext| { $( ctx.$name = unsafe { hpy_cpython::constants::$name() }; )* }
    };
}

/// Builds the context table; every member is assigned.
fn build() -> Box<HPyContext> {
    // SAFETY: HPyContext is plain data (pointers, ints and Option<fn>); the
    // all-zero pattern is valid for it, and every member is overwritten below.
    let mut ctx: Box<HPyContext> = Box::new(unsafe { std::mem::zeroed() });
    ctx.name = NAME.as_ptr();
    ctx._private = std::ptr::null_mut();
    ctx.abi_version = hpy_sys::HPY_ABI_VERSION as i32;
    (hpy_sys::for_each_ctx_handle!(fill_handles))(&mut ctx);
    (hpy_sys::for_each_ctx_function!(fill_functions))(&mut ctx);
    ctx
}

/// The process-wide universal context (built on first use, never freed).
///
/// Must be called with the GIL held (the GIL also serialises the first build).
pub fn universal_ctx() -> *mut HPyContext {
    let p = UNIVERSAL.load(Ordering::Acquire);
    if !p.is_null() {
        return p;
    }
    let p = Box::into_raw(build());
    UNIVERSAL.store(p, Ordering::Release);
    p
}
