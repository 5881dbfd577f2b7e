//! The debug and trace contexts of crate hpy-debug as a C library
//! (`libhpy_debug.so`, `libhpy_debug.a`), for a runtime that has its own
//! universal context and wants HPy's debug or trace mode over it. The API is
//! upstream's `hpy_debug.h` and `hpy_trace.h` (our headers are in
//! `hpy-sys/include`), one module per header: `debug.rs`, `trace.rs`.
//!
//! Each copy of the library (the shared one, or the static one linked into a
//! program) has its own debug and trace contexts: process-wide, built by the
//! first `hpy_*_get_ctx`, wrapping the universal context given then (another
//! one later is refused, where upstream asserts).
//!
//! Every entry point checks what it is given before using it. Without the
//! GIL (or before the interpreter is initialised) it is a fatal error naming
//! the function, as in the debug context itself; NULL, or a context of the
//! wrong kind, raises `SystemError` ("hpy_debug_unwrap_handle: ...") and
//! returns the function's error value. A context argument must point to a
//! whole `HPyContext`: its members are read to tell the kinds apart (a
//! context is this library's debug or trace context when its `name` is that
//! context's own pointer), and its name to refuse wrapping a debug or trace
//! context.

mod debug;
mod trace;

use hpy_sys::HPyContext;
use pyo3_ffi as ffi;
use std::ffi::CStr;

/// `hpy_debug_ctx_init` and `hpy_trace_ctx_init`: `*target` becomes a copy
/// of the context `wrapper_for(func, uctx)` returns (same handles or
/// counters, same state), unless it is that context or `keep(target)` says
/// it already is one of its kind. 0, or -1 with `SystemError` (`null_target`
/// says why when `target` is NULL).
///
/// # Safety
/// `target` is NULL or points to writable memory the size of an
/// `HPyContext`; `uctx` is what `wrapper_for` requires; `keep` may read a
/// non-NULL `target`.
unsafe fn fill_copy(
    func: &CStr,
    null_target: &str,
    target: *mut HPyContext,
    uctx: *mut HPyContext,
    wrapper_for: unsafe fn(&CStr, *mut HPyContext) -> *mut HPyContext,
    keep: unsafe fn(*mut HPyContext) -> bool,
) -> std::ffi::c_int {
    require_gil(func);
    if target.is_null() {
        refuse(func, null_target);
        return -1;
    }
    // SAFETY: GIL held; `uctx` as the caller promises.
    let main = unsafe { wrapper_for(func, uctx) };
    if main.is_null() {
        return -1;
    }
    // SAFETY: `target` is not NULL and context-sized (caller).
    if target != main && !unsafe { keep(target) } {
        // SAFETY: `main` is the live wrapper context; `target` is writable,
        // context-sized (caller) and not `main`, so they do not overlap.
        unsafe { target.write(*main) };
    }
    0
}

/// Fatal unless the interpreter is initialised and this thread holds the
/// GIL: everything below touches interpreter state.
fn require_gil(func: &CStr) {
    // SAFETY: both functions may be called from any thread, at any time.
    let ok = unsafe { ffi::Py_IsInitialized() != 0 && ffi::PyGILState_Check() != 0 };
    if !ok {
        let msg = format!(
            "{}: called without the GIL (or before Py_Initialize)",
            func.to_string_lossy()
        );
        eprintln!("HPy debug mode: {msg}");
        let c = std::ffi::CString::new(msg).unwrap_or_default();
        // SAFETY: a NUL-terminated message; Py_FatalError works without
        // the GIL and does not return.
        unsafe { ffi::Py_FatalError(c.as_ptr()) }
    }
}

/// Raises `SystemError("<func>: <why>")`. The GIL is held (`require_gil`
/// ran first).
fn refuse(func: &CStr, why: &str) {
    let msg = format!("{}: {why}", func.to_string_lossy());
    let c = std::ffi::CString::new(msg).unwrap_or_default();
    // SAFETY: the GIL is held; PyExc_SystemError is a live exception type
    // and the message is NUL-terminated.
    unsafe { ffi::PyErr_SetString(ffi::PyExc_SystemError, c.as_ptr()) }
}

/// `ctx->name` of `ctx`, read without following any pointer.
///
/// # Safety
/// `ctx` is NULL or points to a whole `HPyContext`.
unsafe fn name_of(ctx: *const HPyContext) -> Option<*const std::ffi::c_char> {
    // SAFETY: the caller's contract.
    (!ctx.is_null()).then(|| unsafe { (*ctx).name })
}

macro_rules! first_missing_member {
    ($(($idx:literal, $name:ident, $params:tt -> $ret:ty)),* $(,)?) => {
        |ctx: &HPyContext| -> Option<&'static str> {
            $( if ctx.$name.is_none() { return Some(stringify!($name)); } )*
            None
        }
    };
}

/// Checks that `uctx` can be wrapped: not NULL, not one of this library's
/// debug or trace contexts, the ABI version we implement, every function
/// member set. Raises `SystemError` naming `func` if not.
///
/// # Safety
/// GIL held; `uctx` is NULL or points to a whole `HPyContext`.
unsafe fn check_inner(func: &CStr, uctx: *mut HPyContext) -> bool {
    // SAFETY: the caller's contract.
    let Some(name) = (unsafe { name_of(uctx) }) else {
        refuse(func, "the universal context is NULL");
        return false;
    };
    // SAFETY: not NULL, and a whole context (the caller's contract).
    let ctx = unsafe { &*uctx };
    if is_wrapper_name(name) {
        refuse(
            func,
            "expected a universal context, got a debug or trace context",
        );
        return false;
    }
    if ctx.abi_version != hpy_sys::HPY_ABI_VERSION as i32 {
        refuse(
            func,
            &format!(
                "the context has ABI version {}, not {}",
                ctx.abi_version,
                hpy_sys::HPY_ABI_VERSION
            ),
        );
        return false;
    }
    check_members(func, ctx)
}

/// True for the name of a debug or trace context, ours (of any copy of
/// hpy-debug) or upstream's: they all start this way.
fn is_wrapper_name(name: *const std::ffi::c_char) -> bool {
    if name.is_null() {
        return false;
    }
    // SAFETY: a context's name is a NUL-terminated string (the contract of
    // every context argument: a whole HPyContext).
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    name.starts_with(b"HPy Debug Mode") || name.starts_with(b"HPy Trace Mode")
}

/// Raises `SystemError` naming `func` unless every function member of
/// `ctx` is set.
fn check_members(func: &CStr, ctx: &HPyContext) -> bool {
    match (hpy_sys::for_each_ctx_function!(first_missing_member))(ctx) {
        Some(member) => {
            refuse(func, &format!("the context has no {member}"));
            false
        }
        None => true,
    }
}
