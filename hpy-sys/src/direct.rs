//! The universal ABI's direct path, Rust side (the C side is
//! `hpy/universal/trampolines.h`, `_HPY_RS_DIRECT_CONTEXT` and the
//! `_HPyRs_u_*` helpers). hpy-rs's universal context marks itself with a
//! `_private` that points at itself; the mark says that a handle is the
//! object itself, borrowed, and that objects have CPython's default layout,
//! whose few facts the direct path needs are here. The runtime sets the mark
//! ([`mark`]), trampolines test it ([`is_marked`]).

use crate::{cpy_PyObject, HPyContext, HPy_ssize_t};

/// `PY_VECTORCALL_ARGUMENTS_OFFSET`: the top bit of a vectorcall's count.
pub const ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

/// Marks `ctx` as a context of the direct path.
///
/// # Safety
/// `ctx` is live and never moves; its handles are the objects, borrowed,
/// and objects have CPython's default layout ([`tuple_len`], [`tuple_items`]).
pub unsafe fn mark(ctx: *mut HPyContext) {
    // SAFETY: a live context (contract); only its own field's address is
    // stored in it.
    unsafe { (*ctx)._private = core::ptr::addr_of_mut!((*ctx)._private).cast() }
}

/// Whether `ctx` carries the mark of [`mark`].
///
/// # Safety
/// `ctx` is a live context.
#[inline(always)]
pub unsafe fn is_marked(ctx: *mut HPyContext) -> bool {
    // SAFETY: reading a field of a live context (contract).
    unsafe { (*ctx)._private == core::ptr::addr_of_mut!((*ctx)._private).cast() }
}

/// The size of a tuple: its third word.
///
/// # Safety
/// `t` is a tuple, under a marked context.
#[inline(always)]
pub unsafe fn tuple_len(t: *mut cpy_PyObject) -> HPy_ssize_t {
    // SAFETY: within the tuple's header (contract).
    unsafe { *(t as *const HPy_ssize_t).add(2) }
}

/// The items of a tuple: from its fourth word on.
///
/// # Safety
/// `t` is a tuple, under a marked context.
#[inline(always)]
pub unsafe fn tuple_items(t: *mut cpy_PyObject) -> *const *mut cpy_PyObject {
    // SAFETY: the items follow the header (contract).
    unsafe { (t as *const *mut cpy_PyObject).add(3) }
}
