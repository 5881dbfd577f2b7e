//! `hpy_trace.h`: the trace context over a runtime's universal context, and
//! the names of the functions it counts.

use crate::{check_inner, fill_copy, name_of, refuse, require_gil};
use hpy_debug::trace::{self, Hook};
use hpy_sys::{HPyContext, CTX_MEMBER_NAMES};
use std::ffi::{c_char, c_int, CStr};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The universal context the trace context wraps (written once, with the
/// GIL held).
static INNER: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());

/// The trace context wrapping `uctx`, built on first use; NULL with
/// `SystemError` if `uctx` cannot be wrapped.
///
/// # Safety
/// GIL held; `uctx` is NULL or points to a whole `HPyContext` that lives as
/// long as the process.
unsafe fn trace_ctx_for(func: &CStr, uctx: *mut HPyContext) -> *mut HPyContext {
    // SAFETY: forwarded contract.
    if !unsafe { check_inner(func, uctx) } {
        return null_mut();
    }
    let inner = INNER.load(Ordering::Acquire);
    if !inner.is_null() && inner != uctx {
        refuse(
            func,
            "the trace context already wraps another universal context",
        );
        return null_mut();
    }
    INNER.store(uctx, Ordering::Release);
    // SAFETY: GIL held; `uctx` is complete (checked), lives forever (our
    // contract) and is the one the trace context wraps, if it exists.
    unsafe { trace::trace_ctx(uctx) }
}

/// The trace context wrapping `uctx` (the same one on every call).
///
/// # Safety
/// `uctx` is NULL or points to a whole `HPyContext` that lives as long as
/// the process.
#[no_mangle]
pub unsafe extern "C" fn hpy_trace_get_ctx(uctx: *mut HPyContext) -> *mut HPyContext {
    const F: &CStr = c"hpy_trace_get_ctx";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    unsafe { trace_ctx_for(F, uctx) }
}

/// Makes `*tctx` a trace context wrapping `uctx`: a copy of the one
/// `hpy_trace_get_ctx(uctx)` returns (its calls count in the same
/// counters). 0, or -1 with `SystemError`.
///
/// # Safety
/// `tctx` is NULL or points to writable memory the size of an
/// `HPyContext`; `uctx` as for `hpy_trace_get_ctx`.
#[no_mangle]
pub unsafe extern "C" fn hpy_trace_ctx_init(tctx: *mut HPyContext, uctx: *mut HPyContext) -> c_int {
    /// A trace context is filled again: there is nothing of its own to keep.
    unsafe fn never(_: *mut HPyContext) -> bool {
        false
    }
    // SAFETY: forwarded contract; `trace_ctx_for` takes the caller's `uctx`.
    unsafe {
        fill_copy(
            c"hpy_trace_ctx_init",
            "the trace context to fill is NULL",
            tctx,
            uctx,
            trace_ctx_for,
            never,
        )
    }
}

/// Releases what the trace context holds: its trace functions (the
/// `on_enter`/`on_exit` callables). Counters and durations stay (they are
/// process-wide). 0, or -1 with `SystemError` if `tctx` is not a trace
/// context.
///
/// # Safety
/// `tctx` is NULL or points to a whole `HPyContext`.
#[no_mangle]
pub unsafe extern "C" fn hpy_trace_ctx_free(tctx: *mut HPyContext) -> c_int {
    const F: &CStr = c"hpy_trace_ctx_free";
    require_gil(F);
    // SAFETY: forwarded contract.
    let name = unsafe { name_of(tctx) };
    if name != Some(trace::NAME.as_ptr()) || INNER.load(Ordering::Acquire).is_null() {
        refuse(F, "not a trace context (see hpy_trace_get_ctx)");
        return -1;
    }
    for hook in [Hook::OnEnter, Hook::OnExit] {
        // SAFETY: GIL held; NULL clears the function.
        unsafe { trace::set_trace_function(hook, null_mut()) };
    }
    0
}

/// Context fields before the first member (`name`, `_private`,
/// `abi_version`): upstream numbers members from the first handle.
const HEADER_FIELDS: usize = 3;

macro_rules! function_names {
    ($(($idx:literal, $name:ident, $params:tt -> $ret:ty)),* $(,)?) => {{
        let mut names: [Option<&CStr>; CTX_MEMBER_NAMES.len()] = [None; CTX_MEMBER_NAMES.len()];
        $(
            names[$idx] = match CStr::from_bytes_with_nul(concat!(stringify!($name), "\0").as_bytes()) {
                Ok(name) => Some(name),
                Err(_) => panic!("a member name with a NUL byte"),
            };
        )*
        names
    }};
}

/// The name of every function member at its position in the context.
const FUNCTION_NAMES: [Option<&CStr>; CTX_MEMBER_NAMES.len()] =
    hpy_sys::for_each_ctx_function!(function_names);

/// The number of context functions the trace context counts.
#[no_mangle]
pub extern "C" fn hpy_trace_get_nfunc() -> c_int {
    FUNCTION_NAMES.iter().flatten().count() as c_int
}

/// The name (`"ctx_Dup"`) of context member `idx`, numbered from the first
/// handle as upstream does; `""` for a handle, NULL past the last member.
#[no_mangle]
pub extern "C" fn hpy_trace_get_func_name(idx: c_int) -> *const c_char {
    let Some(pos) = usize::try_from(idx)
        .ok()
        .and_then(|i| i.checked_add(HEADER_FIELDS))
        .filter(|&p| p < FUNCTION_NAMES.len())
    else {
        return std::ptr::null();
    };
    FUNCTION_NAMES[pos].unwrap_or(c"").as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_numbered_from_the_first_handle() {
        assert_eq!(CTX_MEMBER_NAMES[HEADER_FIELDS], "h_None");
        let name = |i| {
            let p = hpy_trace_get_func_name(i);
            // SAFETY: non-NULL results are static C strings.
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap())
        };
        assert_eq!(name(0), Some(""));
        // upstream 0.9.0's numbers (its trace_func_table)
        assert_eq!(name(77), Some("ctx_Dup"));
        assert_eq!(name(78), Some("ctx_Close"));
        let last = (CTX_MEMBER_NAMES.len() - HEADER_FIELDS) as c_int;
        assert_eq!(name(last - 1), Some("ctx_Slice_New"));
        assert_eq!(name(last), None);
        assert_eq!(name(-1), None);
        assert_eq!(
            hpy_trace_get_nfunc() as usize,
            hpy_sys::CTX_FUNCTION_NAMES.len()
        );
    }
}
