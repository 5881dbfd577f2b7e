//! The HPy debug and trace contexts: contexts that wrap an inner (universal)
//! context. The trace context is `trace.rs`; everything else here is the
//! debug context. Their Python faces (`hpy.debug._debug`, `hpy.trace._trace`)
//! are HPy modules written with hpy-core (`py/`), exported under upstream's
//! entry points (`HPyInit__debug`, `HPyInit__trace`, ...).
//!
//! Every handle the debug context gives out is the address of a slot of the
//! handle table (`handles/`) holding the inner handle; every context
//! function is a wrapper, generated from the one context declaration
//! (`for_each_ctx_function!`), that checks its context may be used now
//! (`ctx.rs`), unwraps its `HPy` arguments (reporting closed or unknown
//! handles), calls the inner function and wraps the `HPy` it returns. Only
//! the members that need more are written by hand (`special.rs`,
//! `builders.rs`), and the trampoline dispatch lives in `trampoline.rs`.
//! `rawdata.rs` protects the `char *` tied to a handle, `stacktrace.rs`
//! records where handles were opened.
//!
//! All state is process-wide and guarded by the GIL (`gil.rs`): every entry
//! into the debug context holds it, so no state has a lock of its own.

#![allow(non_snake_case, non_upper_case_globals)]

mod arena;
mod builders;
mod ctx;
mod faults;
mod gil;
mod handles;
mod py;
mod rawdata;
mod site;
mod special;
mod stacktrace;
pub mod trace;
mod trampoline;
mod wrappers;

pub use handles::{
    closed_handles, closed_handles_queue_max_size, new_generation, open_handles,
    protected_raw_data_max_size, set_closed_handles_queue_max_size, set_handle_stack_trace_limit,
    set_on_invalid_builder_handle, set_on_invalid_handle, set_protected_raw_data_max_size,
    stack_trace_hint, HandleRef,
};
pub use hpy_sys as sys;

use hpy_sys::{HPy, HPyContext};
use std::sync::atomic::{AtomicPtr, Ordering};

/// `ctx->name` of the debug context.
pub const NAME: &std::ffi::CStr = c"HPy Debug Mode ABI (hpy-rs)";

static DEBUG_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(std::ptr::null_mut());
static INNER_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(std::ptr::null_mut());

/// The inner context the debug context wraps.
#[inline]
pub(crate) fn inner_ctx() -> *mut HPyContext {
    INNER_CTX.load(Ordering::Relaxed)
}

macro_rules! fill_functions {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
        |ctx: &mut HPyContext| { $( ctx.$name = Some(impls::$name); )* }
    };
}

macro_rules! fill_handles {
    ($(($idx:literal, $name:ident)),* $(,)?) => {
        |ctx: &mut HPyContext, inner: &HPyContext| {
            $( ctx.$name = handles::open_permanent(inner.$name); )*
        }
    };
}

/// Where each member comes from: the generated wrappers, except the ones
/// written by hand (explicit imports shadow the glob).
mod impls {
    pub use crate::builders::{
        ctx_ListBuilder_Build, ctx_ListBuilder_Cancel, ctx_TupleBuilder_Build,
        ctx_TupleBuilder_Cancel,
    };
    pub use crate::special::{
        ctx_AsStruct_Dict, ctx_AsStruct_Float, ctx_AsStruct_Legacy, ctx_AsStruct_List,
        ctx_AsStruct_Long, ctx_AsStruct_Object, ctx_AsStruct_Tuple, ctx_AsStruct_Type,
        ctx_AsStruct_Unicode, ctx_Bytes_AS_STRING, ctx_Bytes_AsString, ctx_Call, ctx_CallMethod,
        ctx_Close, ctx_ContextVar_Get, ctx_LeavePythonExecution, ctx_ReenterPythonExecution,
        ctx_Tracker_Add, ctx_Tracker_Close, ctx_Tracker_ForgetAll, ctx_Tracker_New,
        ctx_Tuple_FromArray, ctx_TypeCheck, ctx_Type_FromSpec, ctx_Type_GenericNew,
        ctx_Type_GetName, ctx_Type_IsSubtype, ctx_Unicode_AsUTF8AndSize, ctx_Unicode_Substring,
    };
    pub use crate::trampoline::ctx_CallRealFunctionFromTrampoline;
    pub use crate::wrappers::*;
}

/// The process-wide debug context wrapping `inner` (built on first use, never
/// freed; later calls return the same context and ignore `inner`).
///
/// # Safety
/// GIL held; `inner` is a fully initialised context that lives forever.
pub unsafe fn debug_ctx(inner: *mut HPyContext) -> *mut HPyContext {
    let p = DEBUG_CTX.load(Ordering::Acquire);
    if !p.is_null() {
        return p;
    }
    INNER_CTX.store(inner, Ordering::Release);
    // SAFETY: HPyContext is plain data (pointers, ints, Option<fn>); all-zero
    // is valid for it and every member is assigned below.
    let mut ctx: Box<HPyContext> = Box::new(unsafe { std::mem::zeroed() });
    ctx.name = NAME.as_ptr();
    ctx.abi_version = hpy_sys::HPY_ABI_VERSION as i32;
    // SAFETY: the caller guarantees `inner` is valid.
    let inner_ref = unsafe { &*inner };
    (hpy_sys::for_each_ctx_handle!(fill_handles))(&mut ctx, inner_ref);
    (hpy_sys::for_each_ctx_function!(fill_functions))(&mut ctx);
    ctx::init(&mut ctx);
    faults::install();
    let p = Box::into_raw(ctx);
    DEBUG_CTX.store(p, Ordering::Release);
    p
}

/// True if `ctx` is the debug context or one of the copies it hands to
/// calls into extensions.
pub fn is_debug_ctx(ctx: *mut HPyContext) -> bool {
    ctx::is_debug_ctx(ctx)
}

/// Opens a debug handle owning the inner handle `uh` (`HPy_NULL` stays NULL).
///
/// # Safety
/// GIL held; the debug context is initialised.
pub unsafe fn open_handle(uh: HPy) -> HPy {
    handles::wrap(uh)
}

/// The inner handle of a debug handle (reports invalid handles).
///
/// # Safety
/// GIL held.
pub unsafe fn unwrap_handle(dh: HPy) -> HPy {
    // SAFETY: forwarded contract.
    unsafe { handles::unwrap(dh, const { &site::Site::entry("hpy_debug_unwrap_handle") }) }
}

/// Closes a debug handle (and its inner handle).
///
/// # Safety
/// GIL held; the debug context is initialised.
pub unsafe fn close_handle(dh: HPy) {
    // SAFETY: forwarded contract.
    unsafe { handles::close(dh, const { &site::Site::entry("hpy_debug_close_handle") }) }
}
