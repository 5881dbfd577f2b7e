//! The handle table: slots in an arena that never moves them (a debug
//! handle is its slot's address), the process-wide state (guarded by the
//! GIL, see `gil.rs`), and opening, recognising and unwrapping handles.

use super::queue::List;
use super::report::{fatal, null_handle, report_invalid_handle, Misuse};
use crate::arena::Arena;
use crate::gil::GilCell;
use crate::rawdata::RawData;
use crate::site::Site;
use crate::stacktrace::StackTrace;
use hpy_sys::{HPy, HPy_NULL};
use std::ptr::null_mut;

/// Where a slot is. One byte tested on every use of a handle: the values
/// a handle may be used in have bit 0 set (see [`Tag::usable`]).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
#[repr(u8)]
pub(super) enum Tag {
    /// Out of the table, in the free list.
    #[default]
    Free = 0,
    /// In the table: an open handle...
    Open = 1,
    /// ...a handle constant of the context (`ctx->h_None`, ...): never
    /// closed...
    Permanent = 3,
    /// ...or a closed handle waiting in the closed queue.
    Closed = 4,
    /// Out of the table but pinned (freed by the last unpin).
    Detached = 8,
}

impl Tag {
    /// Open or permanent: a handle that may be used.
    #[inline(always)]
    pub(super) fn usable(self) -> bool {
        self as u8 & 1 != 0
    }

    pub(super) fn in_table(self) -> bool {
        matches!(self, Tag::Open | Tag::Permanent | Tag::Closed)
    }
}

/// What a debug handle (`HPy._i` is its address) points to. One cache line
/// (a power of two, so recognising a slot's address is a mask): the hot
/// fields inline, what few handles have (raw data, a stack trace) behind
/// one pointer that is NULL for the others.
#[repr(C, align(64))]
pub(crate) struct Slot {
    /// The inner handle; owned while open, unless permanent.
    pub(super) uh: HPy,
    pub(super) tag: Tag,
    pub(super) pins: u32,
    pub(super) generation: u64,
    /// When it was opened (a count of opened handles): orders the open
    /// handles, which are in no list (listing them is rare, opening and
    /// closing are not).
    pub(super) seq: u64,
    /// The link of the one list the slot is in (closed or free); an open,
    /// permanent or detached slot is in none.
    pub(super) next: *mut Slot,
    /// Raw data and stack trace, for the few handles that have them.
    pub(super) extra: Option<Box<Extra>>,
}

/// What a slot rarely has.
#[derive(Default)]
pub(super) struct Extra {
    pub(super) trace: Option<StackTrace>,
    /// Protected copies of raw data handed out for this handle.
    pub(super) raw: Vec<RawData>,
    /// Bytes of `raw` counted in `State::raw_size` (kept after close).
    pub(super) raw_counted: usize,
}

impl Slot {
    /// The raw data handed out for this handle (none for most).
    pub(super) fn raw(&self) -> &[RawData] {
        self.extra.as_ref().map_or(&[], |e| &e.raw)
    }

    pub(super) fn trace(&self) -> Option<&StackTrace> {
        self.extra.as_ref().and_then(|e| e.trace.as_ref())
    }
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            uh: HPy_NULL,
            tag: Tag::Free,
            pins: 0,
            generation: 0,
            seq: 0,
            next: null_mut(),
            extra: None,
        }
    }
}

pub(super) struct State {
    /// Every slot ever made (a slot's address is a handle's value).
    pub(super) slots: Arena<Slot>,
    /// Handles opened so far (the next `Slot::seq`).
    pub(super) opened: u64,
    /// Recently closed handles, oldest first.
    pub(super) closed: List,
    /// Slots out of the table, to reuse.
    pub(super) free: List,
    pub(super) closed_max: usize,
    /// Budget of raw data kept (protected) for closed handles, and its use.
    pub(super) raw_max: usize,
    pub(super) raw_size: usize,
    /// Closed slots whose raw data is not protected yet (see `queue.rs`).
    pub(super) pending: Vec<*mut Slot>,
    /// Emptied `Extra`s, to reuse (see `clear_slot_slow`); boxed because
    /// they move in and out of slots as boxes.
    #[allow(clippy::vec_box)]
    pub(super) spare: Vec<Box<Extra>>,
    pub(super) generation: u64,
    pub(super) on_invalid_handle: usize,
    pub(super) on_invalid_builder_handle: usize,
    /// Frames recorded per opened handle; 0 = off.
    pub(super) trace_limit: usize,
}

/// The state of the handle table, and of the slots it points to: both are
/// touched only through this cell, i.e. with the GIL held.
static STATE: GilCell<State> = GilCell::new(State {
    slots: Arena::new(),
    opened: 0,
    closed: List::new(),
    free: List::new(),
    closed_max: 1024,
    raw_max: 10 * 1024 * 1024,
    raw_size: 0,
    pending: Vec::new(),
    spare: Vec::new(),
    generation: 0,
    on_invalid_handle: 0,
    on_invalid_builder_handle: 0,
    trace_limit: 0,
});

/// Runs `f` on the table's state (GIL held; `f` must not call into Python
/// nor back into the table).
#[inline(always)]
pub(super) fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(f)
}

/// The slot behind a debug handle, if it is in the table: a slot of the
/// arena (decided from the address alone, see `arena.rs`) in the table.
/// Anything else given to us as a handle is garbage or long closed.
#[inline(always)]
pub(super) fn slot_of(st: &State, dh: HPy) -> Option<*mut Slot> {
    let s = st.slots.find(dh._i as usize)?;
    // SAFETY: a slot of the arena: initialised, never freed; GIL held.
    unsafe { (*s).tag }.in_table().then_some(s)
}

/// A slot out of no list, for a new handle: a freed one, else a new one
/// from the arena.
#[inline(always)]
fn alloc_slot(st: &mut State) -> *mut Slot {
    match st.free.pop_front() {
        Some(p) => p,
        None => new_slot(st),
    }
}

#[cold]
#[inline(never)]
fn new_slot(st: &mut State) -> *mut Slot {
    match st.slots.alloc() {
        Some(p) => p,
        None => fatal("out of memory for debug handles"),
    }
}

/// Releases what a slot holds besides its identity (raw data, trace): one
/// test when it never held any.
#[inline(always)]
pub(super) fn clear_slot(st: &mut State, s: &mut Slot) {
    if s.extra.is_some() {
        clear_slot_slow(st, s);
    }
}

/// `Extra`s kept for reuse.
const SPARE_MAX: usize = 64;

/// Takes the slot's `Extra` away, emptied, to the spares: the next handle
/// given raw data (a keyword name looked up in every call, say) reuses it
/// and its vector instead of allocating.
#[cold]
#[inline(never)]
fn clear_slot_slow(st: &mut State, s: &mut Slot) {
    if let Some(mut e) = s.extra.take() {
        st.raw_size -= e.raw_counted;
        e.raw_counted = 0;
        e.raw.clear();
        e.trace = None;
        spare(st, e);
    }
}

/// Keeps the emptied `e` for reuse (within [`SPARE_MAX`]).
fn spare(st: &mut State, e: Box<Extra>) {
    debug_assert!(e.raw.is_empty() && e.raw_counted == 0 && e.trace.is_none());
    if st.spare.len() < SPARE_MAX {
        st.spare.push(e);
    }
}

/// The slot's `Extra`, made (or taken from the spares) if it has none.
fn extra_of<'s>(st: &mut State, s: &'s mut Slot) -> &'s mut Extra {
    s.extra
        .get_or_insert_with(|| st.spare.pop().unwrap_or_default())
}

/// Puts `uh` into a slot of the table: a new handle (or, `permanent`, a
/// context constant, in no generation and never queued).
#[inline(always)]
fn open_in(st: &mut State, uh: HPy, permanent: bool) -> HPy {
    // A full closed queue gives its oldest slot to the new handle.
    let n = st.closed.len;
    let p = if !permanent && n > 0 && n >= st.closed_max {
        // SAFETY: the queue is not empty.
        unsafe { st.closed.pop_front_unchecked() }
    } else {
        alloc_slot(st)
    };
    // SAFETY: `p` is a live arena slot in no list; GIL held.
    let s = unsafe { &mut *p };
    clear_slot(st, s);
    s.uh = uh;
    if permanent {
        s.tag = Tag::Permanent;
        s.generation = 0;
    } else {
        s.tag = Tag::Open;
        s.generation = st.generation;
        if st.trace_limit > 0 {
            record_trace(st, s);
        }
    }
    s.seq = st.opened;
    st.opened += 1;
    HPy { _i: p as isize }
}

/// Records the C stack where the handle of `s` is opened (stack traces are
/// on).
#[cold]
#[inline(never)]
fn record_trace(st: &mut State, s: &mut Slot) {
    if let Some(t) = StackTrace::capture(st.trace_limit) {
        extra_of(st, s).trace = Some(t);
    }
}

/// Opens a debug handle that owns the inner handle `uh` (NULL stays NULL).
#[inline(always)]
pub(crate) fn wrap(uh: HPy) -> HPy {
    if uh.is_null() {
        return HPy_NULL;
    }
    with_state(|st| open_in(st, uh, false))
}

/// A debug handle for a handle constant of the inner context.
pub(crate) fn open_permanent(uh: HPy) -> HPy {
    if uh.is_null() {
        return HPy_NULL;
    }
    with_state(|st| open_in(st, uh, true))
}

/// The inner handle of `dh`, argument `at` of an API call. A closed or
/// unknown handle is reported (see [`report_invalid_handle`]) and then gives
/// its stale inner handle (closed) or `HPy_NULL` (unknown); `HPy_NULL` where
/// `at` requires a handle is fatal. The fast path is a range check and a
/// test of the slot's tag.
///
/// # Safety
/// GIL held.
#[inline(always)]
pub(crate) unsafe fn unwrap(dh: HPy, at: &'static Site) -> HPy {
    match try_unwrap(dh) {
        Some(uh) => uh,
        // SAFETY: GIL held (our contract).
        None => unsafe { unwrap_slow(dh, at) },
    }
}

/// The inner handle of `dh` if it is usable (open or a constant): a range
/// check and a bit test, nothing called. None for anything else, which
/// [`unwrap`] reports.
#[inline(always)]
pub(crate) fn try_unwrap(dh: HPy) -> Option<HPy> {
    with_state(|st| {
        st.slots.find(dh._i as usize).and_then(|p| {
            // SAFETY: a slot of the arena: initialised, never freed; GIL held.
            let s = unsafe { &*p };
            s.tag.usable().then_some(s.uh)
        })
    })
}

/// [`unwrap`] of anything but a usable handle: `HPy_NULL`, or a closed or
/// unknown handle (reported; gives the stale inner handle of a closed one).
///
/// # Safety
/// GIL held.
#[cold]
#[inline(never)]
unsafe fn unwrap_slow(dh: HPy, at: &'static Site) -> HPy {
    if dh.is_null() {
        if !at.null_handle_ok {
            null_handle(at);
        }
        return HPy_NULL;
    }
    let closed = with_state(|st| {
        slot_of(st, dh).map(|p| {
            // SAFETY: slots in the table are live.
            let s = unsafe { &*p };
            s.uh
        })
    });
    match closed {
        Some(uh) => {
            // SAFETY: GIL held (our contract).
            unsafe { report_invalid_handle(dh, Misuse::Closed, at) };
            uh
        }
        None => {
            // SAFETY: GIL held (our contract).
            unsafe { report_invalid_handle(dh, Misuse::Unknown, at) };
            HPy_NULL
        }
    }
}

/// Ties a read-only copy of `data`, handed out by API function `by`, to the
/// open handle `dh` and returns it; None if `dh` is not open or no memory
/// could be had (callers then hand out the original pointer).
pub(crate) fn attach_raw_data(dh: HPy, data: &[u8], by: &'static Site) -> Option<*const u8> {
    with_state(|st| attach_in(st, dh, data, by))
}

fn attach_in(st: &mut State, dh: HPy, data: &[u8], by: &'static Site) -> Option<*const u8> {
    let p = slot_of(st, dh)?;
    // SAFETY: slots in the table are live; GIL held.
    let s = unsafe { &mut *p };
    if s.tag != Tag::Open {
        return None;
    }
    // The same data asked for again (a loop over AsUTF8AndSize, say) gets the
    // same copy: one page per call would add up.
    if let Some(r) = s.raw().iter().find(|r| r.holds(data)) {
        return Some(r.as_ptr());
    }
    let origin = crate::faults::Origin { by, handle: dh._i };
    let (r, emptied) = match super::queue::take_pending(st, data) {
        Some((r, emptied)) => {
            r.handed_out(origin);
            (r, emptied)
        }
        None => (RawData::copy(data, origin)?, None),
    };
    let ptr = r.as_ptr();
    match emptied {
        // The closed handle's record, with room for `r`: no allocation.
        Some(e) if s.extra.is_none() => s.extra = Some(e),
        Some(e) => spare(st, e),
        None => {}
    }
    extra_of(st, s).raw.push(r);
    Some(ptr)
}

/// Starts a new generation and returns its number (always >= 1; the context
/// constants belong to generation 0, so they never count as leaks).
pub fn new_generation() -> u64 {
    with_state(|st| {
        st.generation += 1;
        st.generation
    })
}

/// Record the C stack (at most `limit` frames) of every handle opened from
/// now on; None or 0 turns it off.
pub fn set_handle_stack_trace_limit(limit: Option<usize>) {
    with_state(|st| st.trace_limit = limit.unwrap_or(0));
}
