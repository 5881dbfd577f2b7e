//! The universal context: one `HPyContext` whose every slot is filled from
//! the context declaration (`hpy_cpython::context::fill_context` expands
//! `for_each_ctx_function!`), so a member without an implementation in
//! `hpy-cpython` is a compile error, never a NULL slot; the trampoline
//! dispatcher is this crate's. Its `_private` points at itself: the mark
//! that lets trampolines built with our headers skip the dispatcher.

use hpy_sys::HPyContext;
use std::sync::atomic::{AtomicPtr, Ordering};

pub const NAME: &std::ffi::CStr = c"HPy Universal ABI (hpy-rs, CPython backend)";

static UNIVERSAL: AtomicPtr<HPyContext> = AtomicPtr::new(std::ptr::null_mut());

/// Builds the context table; every member is assigned.
fn build() -> Box<HPyContext> {
    // SAFETY: HPyContext is plain data (pointers, ints and Option<fn>); the
    // all-zero pattern is valid for it, and every member is overwritten below.
    let mut ctx: Box<HPyContext> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: `universal_ctx` is called with the GIL held.
    unsafe {
        hpy_cpython::context::fill_context(
            &mut ctx,
            NAME,
            crate::trampoline::ctx_CallRealFunctionFromTrampoline,
        )
    };
    // The mark of a context whose handles are the objects themselves,
    // borrowed, in CPython's default layout: extensions built with our
    // headers then call their implementations without the argument block
    // and the dispatcher (`hpy_sys::direct`). Set only if this interpreter
    // lays a tuple out as the mark promises (not a `Py_TRACE_REFS` build).
    if default_layout() {
        // SAFETY: the box never moves; handles are the objects (the
        // `Borrowed` crossing) and the layout was just checked.
        unsafe { hpy_sys::direct::mark(&mut *ctx) };
    }
    ctx
}

/// Whether a tuple is where `hpy_sys::direct` says: its size, then its items.
fn default_layout() -> bool {
    use pyo3_ffi as ffi;
    // SAFETY: GIL held (`universal_ctx`); a fresh 1-tuple holding a new
    // reference to None, read within its allocation, then released.
    unsafe {
        let t = ffi::PyTuple_New(1);
        if t.is_null() {
            ffi::PyErr_Clear();
            return false;
        }
        let item = ffi::Py_None();
        ffi::Py_INCREF(item);
        ffi::PyTuple_SetItem(t, 0, item);
        let c = t.cast::<hpy_sys::cpy_PyObject>();
        let ok =
            hpy_sys::direct::tuple_len(c) == 1 && *hpy_sys::direct::tuple_items(c) == item.cast();
        ffi::Py_DECREF(t);
        ok
    }
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
