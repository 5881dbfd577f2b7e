//! `hpy_debug.h`: the debug context over a runtime's universal context, and
//! conversions between its handles and the universal ones; plus two
//! functions of ours (`hpy_rs_debug_*`) that find leaked handles from C, as
//! `hpy.debug`'s `LeakDetector` does from Python.

use crate::{check_inner, check_members, fill_copy, name_of, refuse, require_gil};
use hpy_sys::{HPy, HPyContext, HPy_NULL, HPy_ssize_t};
use std::ffi::{c_int, CStr};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The debug context, once built, and the universal context it wraps
/// (written once, with the GIL held).
static DEBUG: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());
static INNER: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());

/// True for this library's debug context, its per-call copies and the
/// contexts `hpy_debug_ctx_init` filled: they all carry its name.
///
/// # Safety
/// `ctx` is NULL or points to a whole `HPyContext`.
unsafe fn is_debug(ctx: *mut HPyContext) -> bool {
    // SAFETY: the caller's contract.
    let name = unsafe { name_of(ctx) };
    name == Some(hpy_debug::NAME.as_ptr()) && !DEBUG.load(Ordering::Acquire).is_null()
}

/// Raises `SystemError` naming `func` unless `dctx` is a debug context.
///
/// # Safety
/// GIL held; `dctx` is NULL or points to a whole `HPyContext`.
unsafe fn check_debug(func: &CStr, dctx: *mut HPyContext) -> bool {
    // SAFETY: forwarded contract.
    let ok = unsafe { is_debug(dctx) };
    if !ok {
        refuse(func, "not a debug context (see hpy_debug_get_ctx)");
    }
    ok
}

/// The debug context wrapping `uctx`, built on first use; NULL with
/// `SystemError` if `uctx` cannot be wrapped.
///
/// # Safety
/// GIL held; `uctx` is NULL or points to a whole `HPyContext` that lives as
/// long as the process.
unsafe fn debug_ctx_for(func: &CStr, uctx: *mut HPyContext) -> *mut HPyContext {
    // SAFETY: forwarded contract.
    if !unsafe { check_inner(func, uctx) } {
        return null_mut();
    }
    let inner = INNER.load(Ordering::Acquire);
    if !inner.is_null() && inner != uctx {
        refuse(
            func,
            "the debug context already wraps another universal context",
        );
        return null_mut();
    }
    // SAFETY: GIL held; `uctx` is complete (checked) and lives forever (our
    // contract); it is the one the debug context wraps, if it exists.
    let dctx = unsafe { hpy_debug::debug_ctx(uctx) };
    INNER.store(uctx, Ordering::Release);
    DEBUG.store(dctx, Ordering::Release);
    dctx
}

/// The debug context wrapping `uctx` (the same one on every call).
///
/// # Safety
/// `uctx` is NULL or points to a whole `HPyContext` that lives as long as
/// the process.
#[no_mangle]
pub unsafe extern "C" fn hpy_debug_get_ctx(uctx: *mut HPyContext) -> *mut HPyContext {
    const F: &CStr = c"hpy_debug_get_ctx";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    unsafe { debug_ctx_for(F, uctx) }
}

/// Makes `*dctx` a debug context wrapping `uctx`: a copy of the one
/// `hpy_debug_get_ctx(uctx)` returns (same handles, same state). 0, or -1
/// with `SystemError`. A debug context already is one: it is left alone.
///
/// # Safety
/// `dctx` is NULL or points to writable memory the size of an
/// `HPyContext`, zero-filled or a context; `uctx` as for `hpy_debug_get_ctx`.
#[no_mangle]
pub unsafe extern "C" fn hpy_debug_ctx_init(dctx: *mut HPyContext, uctx: *mut HPyContext) -> c_int {
    // SAFETY: forwarded contract; `debug_ctx_for` and `is_debug` take what
    // `fill_copy` hands them (the caller's `uctx`, a non-NULL `dctx`).
    unsafe {
        fill_copy(
            c"hpy_debug_ctx_init",
            "the debug context to fill is NULL",
            dctx,
            uctx,
            debug_ctx_for,
            is_debug,
        )
    }
}

/// Makes `hpy_debug_get_ctx` return a context with the members of `dctx`
/// (a debug context, e.g. one `hpy_debug_ctx_init` filled and the caller
/// changed; none NULL): they are copied into it, but for its identity
/// (`_private`).
/// The copies the debug context hands to each call into an extension keep
/// their own members, as upstream's cached copies do.
///
/// # Safety
/// `dctx` is NULL or points to a whole `HPyContext`.
#[no_mangle]
pub unsafe extern "C" fn hpy_debug_set_ctx(dctx: *mut HPyContext) {
    const F: &CStr = c"hpy_debug_set_ctx";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    // SAFETY (both): `dctx` is a whole context when not NULL (our contract).
    if !unsafe { check_debug(F, dctx) } || !check_members(F, unsafe { &*dctx }) {
        return;
    }
    let main = DEBUG.load(Ordering::Acquire);
    if dctx != main {
        // SAFETY: both are whole contexts (`main` is ours, `dctx` by our
        // contract) and distinct; the GIL serialises every use of `main`.
        unsafe {
            let private = (*main)._private;
            main.write(*dctx);
            (*main)._private = private;
        }
    }
}

/// A new debug handle owning the universal handle `uh` (`HPy_NULL` gives
/// `HPy_NULL`).
///
/// # Safety
/// `dctx` is NULL or points to a whole `HPyContext`; `uh` is a handle of
/// the universal context, which the debug handle now owns.
#[no_mangle]
pub unsafe extern "C" fn hpy_debug_open_handle(dctx: *mut HPyContext, uh: HPy) -> HPy {
    const F: &CStr = c"hpy_debug_open_handle";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    if !unsafe { check_debug(F, dctx) } {
        return HPy_NULL;
    }
    // SAFETY: GIL held; the debug context exists (checked).
    unsafe { hpy_debug::open_handle(uh) }
}

/// The universal handle behind the debug handle `dh` (still owned by
/// `dh`). A closed or unknown handle is reported as the debug context
/// reports any invalid handle (the `on_invalid_handle` callback, else a
/// fatal error); `HPy_NULL` gives `HPy_NULL`.
///
/// # Safety
/// `dctx` is NULL or points to a whole `HPyContext`.
#[no_mangle]
pub unsafe extern "C" fn hpy_debug_unwrap_handle(dctx: *mut HPyContext, dh: HPy) -> HPy {
    const F: &CStr = c"hpy_debug_unwrap_handle";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    if !unsafe { check_debug(F, dctx) } {
        return HPy_NULL;
    }
    // SAFETY: GIL held.
    unsafe { hpy_debug::unwrap_handle(dh) }
}

/// Closes the debug handle `dh` and the universal handle it owns (reported
/// like `HPy_Close` if `dh` is invalid).
///
/// # Safety
/// `dctx` is NULL or points to a whole `HPyContext`.
#[no_mangle]
pub unsafe extern "C" fn hpy_debug_close_handle(dctx: *mut HPyContext, dh: HPy) {
    const F: &CStr = c"hpy_debug_close_handle";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    if unsafe { check_debug(F, dctx) } {
        // SAFETY: GIL held; the debug context exists (checked).
        unsafe { hpy_debug::close_handle(dh) }
    }
}

/// hpy-rs: starts a new generation of debug handles and returns its number
/// (-1 with `SystemError` if `dctx` is not a debug context).
///
/// # Safety
/// `dctx` is NULL or points to a whole `HPyContext`.
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_debug_new_generation(dctx: *mut HPyContext) -> i64 {
    const F: &CStr = c"hpy_rs_debug_new_generation";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    if !unsafe { check_debug(F, dctx) } {
        return -1;
    }
    i64::try_from(hpy_debug::new_generation()).unwrap_or(i64::MAX)
}

/// hpy-rs: the number of debug handles opened in generation `generation`
/// or later and still open; the first `size` of them (oldest first) are
/// stored in `handles`, still owned by whoever opened them. -1 with
/// `SystemError` on bad arguments.
///
/// # Safety
/// `dctx` is NULL or points to a whole `HPyContext`; `handles` points to
/// `size` writable `HPy` (or `size` is 0).
#[no_mangle]
pub unsafe extern "C" fn hpy_rs_debug_get_open_handles(
    dctx: *mut HPyContext,
    generation: i64,
    handles: *mut HPy,
    size: HPy_ssize_t,
) -> HPy_ssize_t {
    const F: &CStr = c"hpy_rs_debug_get_open_handles";
    require_gil(F);
    // SAFETY: GIL held; forwarded contract.
    if !unsafe { check_debug(F, dctx) } {
        return -1;
    }
    let Ok(size) = usize::try_from(size) else {
        refuse(F, "size is negative");
        return -1;
    };
    if handles.is_null() && size > 0 {
        refuse(F, "handles is NULL");
        return -1;
    }
    let open = hpy_debug::open_handles(u64::try_from(generation).unwrap_or(0));
    for (i, h) in open.iter().take(size).enumerate() {
        // SAFETY: `i < size`, and `handles` holds `size` HPy (our contract).
        unsafe {
            handles.add(i).write(HPy {
                _i: h.id() as isize,
            })
        };
    }
    HPy_ssize_t::try_from(open.len()).unwrap_or(HPy_ssize_t::MAX)
}
