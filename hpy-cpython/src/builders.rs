//! `HPyListBuilder`, `HPyTupleBuilder` and `HPyTracker`.
//!
//! A builder's token is the list or tuple under construction itself (0 when
//! allocating it failed; the MemoryError is reported by `Build`). Its items
//! start out NULL; `Set` fills them, and `Build` refuses (SystemError, the
//! object freed) to hand out a container with a slot that was never set.
//! A tracker's token is a `Box<Tracker>`.
//!
//! # Counting unset slots
//! So that `Build` knows in one comparison whether every slot was set, the
//! container's reference count, while it is being built, also counts its
//! unset slots: `New` adds the size, `Set` takes one off when it fills an
//! empty slot. The container is the builder's alone until `Build` (nobody
//! else holds or releases a reference; the GC only reads the count and sees
//! an object it must keep), so a count of exactly 1 means one reference and
//! no unset slot; anything else sends `Build` to the scan, which puts the
//! true count back before it frees the container. (A size-0 tuple is
//! CPython's shared empty tuple: it has no slots, nothing is added, and
//! `Build` finds its count is not 1 and scans nothing.) `hpy/cpython/api.h`
//! does the same inline, the CPython ABI's builders.

use crate::ffi;
use crate::handle::{as_obj, from_owned, raise};
use alloc::{boxed::Box, vec::Vec};
use core::ffi::c_int;
use core::ptr::addr_of_mut;
use hpy_sys::{HPy, HPyContext, HPyListBuilder, HPyTracker, HPyTupleBuilder, HPy_ssize_t};

// SAFETY (whole module): every function is a context member, called by C with
// the GIL held, with open handles and with builder/tracker tokens made by the
// matching `*_New` and not yet consumed (`Build`/`Cancel`/`Close`).

/// The reference count of `o`, as a word (the first field of every object,
/// a union whose `ob_refcnt` member is this word from 3.12).
///
/// # Safety
/// `o` is a valid object.
#[inline(always)]
unsafe fn refcnt(o: *mut ffi::PyObject) -> *mut ffi::Py_ssize_t {
    // SAFETY: `o` is valid (contract); only the address is taken.
    unsafe { addr_of_mut!((*o).ob_refcnt).cast() }
}

/// Allocates a container of `size` NULL slots, its reference count counting
/// them (see the module's notes), or returns NULL with no exception set
/// (builders report errors only in `Build`).
///
/// # Safety
/// GIL held.
unsafe fn new_container(
    size: HPy_ssize_t,
    new: unsafe extern "C" fn(ffi::Py_ssize_t) -> *mut ffi::PyObject,
) -> isize {
    // SAFETY: GIL held; a negative size fails like a failed allocation
    // (CPython's SystemError), and either error is cleared, as the API says
    // `New` never raises; a new container is ours alone, and its `ob_size`
    // is `size` (read back, so that `size` need not survive the call).
    unsafe {
        let o = new(size);
        if o.is_null() {
            ffi::PyErr_Clear();
        } else {
            *refcnt(o) += (*o.cast::<ffi::PyVarObject>()).ob_size;
        }
        o as isize
    }
}

/// Stores a new reference to `item` in slot `index`, dropping what was there
/// (or counting one unset slot fewer); a failed builder (no items, `len` 0),
/// an out-of-range index or a NULL item are ignored (the slot stays unset
/// and `Build` reports it).
///
/// # Safety
/// GIL held; `c` is NULL or a container being built whose items live at
/// `items` and are `len` (NULL and 0 when `c` is NULL).
#[inline(always)]
unsafe fn set_slot(
    c: *mut ffi::PyObject,
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
    // SAFETY: index checked against the length, so `c` is a container; the
    // old slot value is NULL or a reference the container owns.
    unsafe {
        ffi::Py_INCREF(o);
        let slot = items.offset(index);
        let old = core::ptr::replace(slot, o);
        if old.is_null() {
            *refcnt(c) -= 1;
        } else {
            ffi::Py_DECREF(old);
        }
    }
}

/// Hands out the finished container, or frees it and raises.
///
/// # Safety
/// GIL held; `c` is NULL or a container being built whose items live at
/// `items` (NULL when `len` is 0).
#[inline(always)]
unsafe fn finish(
    c: *mut ffi::PyObject,
    items: *mut *mut ffi::PyObject,
    len: HPy_ssize_t,
    api: &str,
) -> HPy {
    // SAFETY: `c` is a valid object when not NULL.
    if !c.is_null() && unsafe { *refcnt(c) } == 1 {
        return from_owned(c);
    }
    // SAFETY: forwarded.
    unsafe { finish_scan(c, items, len, api) }
}

/// `finish` when the count is not 1: a container with unset slots (freed,
/// SystemError naming the first), a failed builder (MemoryError), or one
/// whose count is not the builder's (the empty tuple, which is shared).
///
/// # Safety
/// As `finish`.
#[cold]
#[inline(never)]
unsafe fn finish_scan(
    c: *mut ffi::PyObject,
    items: *mut *mut ffi::PyObject,
    len: HPy_ssize_t,
    api: &str,
) -> HPy {
    // SAFETY: GIL held; `c` is NULL or the builder's own reference, with
    // `len` slots at `items`.
    unsafe {
        if c.is_null() {
            ffi::PyErr_NoMemory();
            return HPy { _i: 0 };
        }
        let Some(first) = release_unset(c, items, len) else {
            return from_owned(c);
        };
        ffi::Py_DECREF(c); // list/tuple dealloc skips NULL slots
        let api = ffi::PyUnicode_FromStringAndSize(api.as_ptr().cast(), api.len() as isize);
        if !api.is_null() {
            raise_format!(
                ffi::PyExc_SystemError,
                "%U: item %zu was never set",
                api,
                first
            );
            ffi::Py_DECREF(api);
        }
    }
    HPy { _i: 0 }
}

/// Takes the unset slots of `c` back out of its reference count; returns the
/// first unset slot, None if there is none.
///
/// # Safety
/// GIL held; `c` is a container being built with `len` slots at `items`.
unsafe fn release_unset(
    c: *mut ffi::PyObject,
    items: *mut *mut ffi::PyObject,
    len: HPy_ssize_t,
) -> Option<HPy_ssize_t> {
    let mut first = None;
    let mut unset = 0;
    for i in 0..len {
        // SAFETY: `items` holds `len` slots (contract).
        if unsafe { *items.offset(i) }.is_null() {
            first.get_or_insert(i);
            unset += 1;
        }
    }
    // SAFETY: the count includes `unset` (see the module's notes).
    unsafe { *refcnt(c) -= unset };
    first
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

/// Frees a builder's container (NULL: nothing), its unset slots taken out of
/// its count first.
///
/// # Safety
/// GIL held; `c` is NULL or a container being built with `len` slots at
/// `items`.
unsafe fn cancel(c: *mut ffi::PyObject, items: *mut *mut ffi::PyObject, len: HPy_ssize_t) {
    if c.is_null() {
        return;
    }
    // SAFETY: forwarded; NULL slots are skipped by list and tuple dealloc.
    unsafe {
        release_unset(c, items, len);
        ffi::Py_DECREF(c);
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
        let l = builder._lst as *mut ffi::PyObject;
        let (items, len) = list_parts(l);
        set_slot(l, items, len, index, h_item)
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
    let l = builder._lst as *mut ffi::PyObject;
    // SAFETY: see module comment.
    unsafe {
        let (items, len) = list_parts(l);
        cancel(l, items, len)
    }
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
        let t = builder._tup as *mut ffi::PyObject;
        let (items, len) = tuple_parts(t);
        set_slot(t, items, len, index, h_item)
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
    let t = builder._tup as *mut ffi::PyObject;
    // SAFETY: see module comment.
    unsafe {
        let (items, len) = tuple_parts(t);
        cancel(t, items, len)
    }
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
