//! `HPyListBuilder`, `HPyTupleBuilder` and `HPyTracker`.
//!
//! A builder's token is the list or tuple under construction itself (0 when
//! allocating it failed; the MemoryError is reported by `Build`). Its items
//! start out NULL; `Set` fills them, and `Build` refuses (SystemError, the
//! object freed) to hand out a container with a slot that was never set.
//! A tracker's token is a `Box<Tracker>`.

use crate::ffi;
use crate::handle::{as_obj, from_owned, raise};
use alloc::{boxed::Box, vec::Vec};
use core::ffi::c_int;
use hpy_sys::{HPy, HPyContext, HPyListBuilder, HPyTracker, HPyTupleBuilder, HPy_ssize_t};

// SAFETY (whole module): every function is a context member, called by C with
// the GIL held, with open handles and with builder/tracker tokens made by the
// matching `*_New` and not yet consumed (`Build`/`Cancel`/`Close`).

/// Allocates a container of `size` NULL slots, or returns NULL with no
/// exception set (builders report errors only in `Build`).
///
/// # Safety
/// GIL held.
unsafe fn new_container(
    size: HPy_ssize_t,
    new: unsafe extern "C" fn(ffi::Py_ssize_t) -> *mut ffi::PyObject,
) -> isize {
    if size < 0 {
        return 0;
    }
    // SAFETY: GIL held; a failed allocation's MemoryError is cleared, as the
    // API says `New` never raises.
    unsafe {
        let o = new(size);
        if o.is_null() {
            ffi::PyErr_Clear();
        }
        o as isize
    }
}

/// Stores a new reference to `item` in slot `index`, dropping what was there;
/// a failed builder (no items, `len` 0), an out-of-range index or a NULL
/// item are ignored (the slot stays unset and `Build` reports it).
///
/// # Safety
/// GIL held; `items` holds `len` slots (NULL when `len` is 0).
#[inline(always)]
unsafe fn set_slot(
    items: *mut *mut ffi::PyObject,
    len: HPy_ssize_t,
    index: HPy_ssize_t,
    item: HPy,
) {
    let o = as_obj(item);
    // One unsigned comparison rejects negative indices too.
    if index as usize >= len as usize || o.is_null() {
        return;
    }
    // SAFETY: index checked against the length; the old slot value is NULL
    // or a reference the container owns.
    unsafe {
        ffi::Py_INCREF(o);
        let slot = items.offset(index);
        let old = core::ptr::replace(slot, o);
        ffi::Py_XDECREF(old);
    }
}

/// Hands out the finished container, or frees it and raises.
///
/// # Safety
/// GIL held; `c` is NULL or an owned container whose items live at `items`
/// (NULL when `len` is 0).
#[inline(always)]
unsafe fn finish(
    c: *mut ffi::PyObject,
    items: *mut *mut ffi::PyObject,
    len: HPy_ssize_t,
    api: &str,
) -> HPy {
    if c.is_null() {
        return fail(c, 0, api);
    }
    for i in 0..len {
        // SAFETY: `items` holds `len` slots (function contract).
        if unsafe { *items.offset(i) }.is_null() {
            return fail(c, i as usize, api);
        }
    }
    from_owned(c)
}

/// `finish`'s failures, out of its hot path: MemoryError for a builder whose
/// container could not be made (`c` NULL), else SystemError for the unset
/// item `i` (the container freed).
#[cold]
#[inline(never)]
fn fail(c: *mut ffi::PyObject, i: usize, api: &str) -> HPy {
    // SAFETY: GIL held; `c` is NULL or the builder's own reference.
    unsafe {
        if c.is_null() {
            ffi::PyErr_NoMemory();
        } else {
            ffi::Py_DECREF(c); // list/tuple dealloc skips NULL slots
            let api = ffi::PyUnicode_FromStringAndSize(api.as_ptr().cast(), api.len() as isize);
            if !api.is_null() {
                raise_format!(ffi::PyExc_SystemError, "%U: item %zu was never set", api, i);
                ffi::Py_DECREF(api);
            }
        }
    }
    HPy { _i: 0 }
}

/// # Safety
/// GIL held; `l` is NULL or a list.
unsafe fn list_parts(l: *mut ffi::PyObject) -> (*mut *mut ffi::PyObject, HPy_ssize_t) {
    if l.is_null() {
        return (core::ptr::null_mut(), 0);
    }
    // SAFETY: `l` is a list (see contract).
    unsafe {
        (
            (*l.cast::<ffi::PyListObject>()).ob_item,
            ffi::PyList_GET_SIZE(l),
        )
    }
}

/// # Safety
/// GIL held; `t` is NULL or a tuple.
unsafe fn tuple_parts(t: *mut ffi::PyObject) -> (*mut *mut ffi::PyObject, HPy_ssize_t) {
    if t.is_null() {
        return (core::ptr::null_mut(), 0);
    }
    // SAFETY: `t` is a tuple (see contract); its items are inline.
    unsafe {
        (
            (*t.cast::<ffi::PyTupleObject>()).ob_item.as_mut_ptr(),
            ffi::PyTuple_GET_SIZE(t),
        )
    }
}

// ---- list builder ----

pub unsafe extern "C" fn ctx_ListBuilder_New(
    _ctx: *mut HPyContext,
    size: HPy_ssize_t,
) -> HPyListBuilder {
    // SAFETY: see module comment.
    let container = unsafe { new_container(size, ffi::PyList_New) };
    HPyListBuilder { _lst: container }
}

pub unsafe extern "C" fn ctx_ListBuilder_Set(
    _ctx: *mut HPyContext,
    builder: HPyListBuilder,
    index: HPy_ssize_t,
    h_item: HPy,
) {
    // SAFETY: see module comment.
    unsafe {
        let (items, len) = list_parts(builder._lst as *mut ffi::PyObject);
        set_slot(items, len, index, h_item)
    }
}

pub unsafe extern "C" fn ctx_ListBuilder_Build(
    _ctx: *mut HPyContext,
    builder: HPyListBuilder,
) -> HPy {
    let l = builder._lst as *mut ffi::PyObject;
    // SAFETY: see module comment; the builder's reference moves to the result.
    unsafe {
        let (items, len) = list_parts(l);
        finish(l, items, len, "HPyListBuilder_Build")
    }
}

pub unsafe extern "C" fn ctx_ListBuilder_Cancel(_ctx: *mut HPyContext, builder: HPyListBuilder) {
    // SAFETY: see module comment; NULL slots are skipped by list dealloc.
    unsafe { ffi::Py_XDECREF(builder._lst as *mut ffi::PyObject) }
}

// ---- tuple builder ----

pub unsafe extern "C" fn ctx_TupleBuilder_New(
    _ctx: *mut HPyContext,
    size: HPy_ssize_t,
) -> HPyTupleBuilder {
    // SAFETY: see module comment.
    let container = unsafe { new_container(size, ffi::PyTuple_New) };
    HPyTupleBuilder { _tup: container }
}

pub unsafe extern "C" fn ctx_TupleBuilder_Set(
    _ctx: *mut HPyContext,
    builder: HPyTupleBuilder,
    index: HPy_ssize_t,
    h_item: HPy,
) {
    // SAFETY: see module comment; the tuple is not shared until Build.
    unsafe {
        let (items, len) = tuple_parts(builder._tup as *mut ffi::PyObject);
        set_slot(items, len, index, h_item)
    }
}

pub unsafe extern "C" fn ctx_TupleBuilder_Build(
    _ctx: *mut HPyContext,
    builder: HPyTupleBuilder,
) -> HPy {
    let t = builder._tup as *mut ffi::PyObject;
    // SAFETY: see module comment; the builder's reference moves to the result.
    unsafe {
        let (items, len) = tuple_parts(t);
        finish(t, items, len, "HPyTupleBuilder_Build")
    }
}

pub unsafe extern "C" fn ctx_TupleBuilder_Cancel(_ctx: *mut HPyContext, builder: HPyTupleBuilder) {
    // SAFETY: see module comment; NULL slots are skipped by tuple dealloc.
    unsafe { ffi::Py_XDECREF(builder._tup as *mut ffi::PyObject) }
}

// ---- tracker ----

/// Tracked handles. Invariant: `handles.len() < handles.capacity()`, so
/// `Add` can always record its handle before trying to grow.
struct Tracker {
    handles: Vec<HPy>,
}

const TRACKER_DEFAULT_CAPACITY: usize = 5;

/// # Safety
/// `ht` is a live tracker token.
unsafe fn tracker<'a>(ht: HPyTracker) -> &'a mut Tracker {
    // SAFETY: the token is a `Box<Tracker>` from `ctx_Tracker_New`.
    unsafe { &mut *(ht._i as *mut Tracker) }
}

pub unsafe extern "C" fn ctx_Tracker_New(_ctx: *mut HPyContext, size: HPy_ssize_t) -> HPyTracker {
    let fail = |exc, msg: &str| {
        // SAFETY: GIL held (module comment).
        unsafe { raise(exc, msg) };
        HPyTracker { _i: 0 }
    };
    let Ok(cap) = usize::try_from(size) else {
        // SAFETY: reading an exception type object with the GIL held.
        return fail(
            unsafe { ffi::PyExc_ValueError },
            "HPyTracker_New: size must not be negative",
        );
    };
    let cap = if cap == 0 {
        TRACKER_DEFAULT_CAPACITY
    } else {
        cap
    };
    let mut handles = Vec::new();
    if cap
        .checked_add(1)
        .is_none_or(|c| handles.try_reserve_exact(c).is_err())
    {
        // SAFETY: GIL held.
        unsafe { ffi::PyErr_NoMemory() };
        return HPyTracker { _i: 0 };
    }
    HPyTracker {
        _i: Box::into_raw(Box::new(Tracker { handles })) as isize,
    }
}

/// Records `h`; on -1 (MemoryError while growing) `h` is still tracked.
pub unsafe extern "C" fn ctx_Tracker_Add(_ctx: *mut HPyContext, ht: HPyTracker, h: HPy) -> c_int {
    if ht._i == 0 {
        // SAFETY: GIL held.
        unsafe {
            raise(
                ffi::PyExc_SystemError,
                "HPyTracker_Add called with a NULL tracker",
            )
        };
        return -1;
    }
    // SAFETY: see module comment.
    let t = unsafe { tracker(ht) };
    t.handles.push(h); // never reallocates: see the invariant
    if t.handles.len() == t.handles.capacity() {
        let grow = t.handles.len();
        if t.handles.try_reserve_exact(grow).is_err() {
            // SAFETY: GIL held.
            unsafe { ffi::PyErr_NoMemory() };
            return -1;
        }
    }
    0
}

pub unsafe extern "C" fn ctx_Tracker_ForgetAll(_ctx: *mut HPyContext, ht: HPyTracker) {
    if ht._i != 0 {
        // SAFETY: see module comment.
        unsafe { tracker(ht) }.handles.clear();
    }
}

/// Closes every tracked handle through `ctx` (so a debug context that reuses
/// this tracker closes its own handles) and frees the tracker.
pub unsafe extern "C" fn ctx_Tracker_Close(ctx: *mut HPyContext, ht: HPyTracker) {
    if ht._i == 0 {
        return;
    }
    // SAFETY: see module comment; the token is consumed here.
    unsafe {
        let t = Box::from_raw(ht._i as *mut Tracker);
        let close = (*ctx).ctx_Close;
        for &h in &t.handles {
            match close {
                Some(f) => f(ctx, h),
                None => ffi::Py_XDECREF(as_obj(h)),
            }
        }
    }
}
