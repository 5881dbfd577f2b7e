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

/// Where a slot is: in the table (open, permanent or queued as closed),
/// out of it but pinned (freed by the last unpin), or free for reuse.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub(super) enum Tag {
    #[default]
    Free,
    InTable,
    Detached,
}

/// What a debug handle (`HPy._i` is its address) points to.
pub(crate) struct Slot {
    pub(super) tag: Tag,
    /// The inner handle; owned while open, unless `permanent`.
    pub(super) uh: HPy,
    pub(super) generation: u64,
    /// When it was opened (a count of opened handles): orders the open
    /// handles, which are in no list (listing them is rare, opening and
    /// closing are not).
    pub(super) seq: u64,
    pub(super) closed: bool,
    /// A handle constant of the context (`ctx->h_None`, ...): never closed.
    pub(super) permanent: bool,
    pub(super) pins: u32,
    pub(super) trace: Option<StackTrace>,
    /// Protected copies of raw data handed out for this handle (usually
    /// none: an empty `Vec` costs nothing to keep or to close).
    pub(super) raw: Vec<RawData>,
    /// Bytes of `raw` counted in `State::raw_size` (kept after close).
    pub(super) raw_counted: usize,
    /// Links of the one list the slot is in (closed or free); an open,
    /// permanent or detached slot is in none.
    pub(super) prev: *mut Slot,
    pub(super) next: *mut Slot,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            tag: Tag::Free,
            uh: HPy_NULL,
            generation: 0,
            seq: 0,
            closed: false,
            permanent: false,
            pins: 0,
            trace: None,
            raw: Vec::new(),
            raw_counted: 0,
            prev: null_mut(),
            next: null_mut(),
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
/// arena (decided from the address alone, see `arena.rs`) tagged as in the
/// table. Anything else given to us as a handle is garbage or long closed.
#[inline(always)]
pub(super) fn slot_of(st: &State, dh: HPy) -> Option<*mut Slot> {
    let s = st.slots.find(dh._i as usize)?;
    // SAFETY: a slot of the arena: initialised, never freed; GIL held.
    (unsafe { (*s).tag } == Tag::InTable).then_some(s)
}

/// A slot out of no list, for a new handle: a freed one, else a new one
/// from the arena.
#[inline(never)]
fn alloc_slot(st: &mut State) -> *mut Slot {
    if let Some(p) = st.free.pop_front() {
        return p;
    }
    match st.slots.alloc() {
        Some(p) => p,
        None => fatal("out of memory for debug handles"),
    }
}

/// Releases what a slot holds besides its identity (raw data, trace).
#[inline(always)]
pub(super) fn clear_slot(st: &mut State, s: &mut Slot) {
    if s.raw_counted != 0 || !s.raw.is_empty() || s.trace.is_some() {
        clear_slot_slow(st, s);
    }
}

#[cold]
#[inline(never)]
fn clear_slot_slow(st: &mut State, s: &mut Slot) {
    st.raw_size -= s.raw_counted;
    s.raw_counted = 0;
    s.raw.clear();
    s.trace = None;
}

/// The C stack for a handle being opened (stack traces are on).
#[cold]
#[inline(never)]
fn capture_trace(limit: usize) -> Option<StackTrace> {
    StackTrace::capture(limit)
}

/// Puts `uh` into a slot of the table: a new handle (or, `permanent`, a
/// context constant, in no generation and never queued).
#[inline(always)]
fn open_in(st: &mut State, uh: HPy, permanent: bool) -> HPy {
    let trace = if st.trace_limit > 0 && !permanent {
        capture_trace(st.trace_limit)
    } else {
        None
    };
    let generation = if permanent { 0 } else { st.generation };
    // A full closed queue gives its oldest slot to the new handle.
    let reused = if !permanent && st.closed.len > 0 && st.closed.len >= st.closed_max {
        st.closed.pop_front()
    } else {
        None
    };
    let p = match reused {
        Some(p) => p,
        None => alloc_slot(st),
    };
    // SAFETY: `p` is a live arena slot in no list; GIL held.
    let s = unsafe { &mut *p };
    clear_slot(st, s);
    s.tag = Tag::InTable;
    s.uh = uh;
    s.generation = generation;
    s.closed = false;
    s.permanent = permanent;
    if trace.is_some() {
        s.trace = trace;
    }
    s.seq = st.opened;
    st.opened += 1;
    HPy { _i: p as isize }
}

/// Opens a debug handle that owns the inner handle `uh` (NULL stays NULL).
#[inline]
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
/// `at` requires a handle is fatal.
///
/// # Safety
/// GIL held.
#[inline]
pub(crate) unsafe fn unwrap(dh: HPy, at: &'static Site) -> HPy {
    if dh.is_null() {
        if !at.null_handle_ok {
            null_handle(at);
        }
        return HPy_NULL;
    }
    let found = with_state(|st| {
        slot_of(st, dh).map(|p| {
            // SAFETY: slots in the table are live.
            let s = unsafe { &*p };
            (s.uh, s.closed)
        })
    });
    match found {
        Some((uh, false)) => uh,
        // SAFETY: GIL held (our contract).
        Some((uh, true)) => unsafe { unwrap_invalid(dh, Misuse::Closed, uh, at) },
        // SAFETY: GIL held (our contract).
        None => unsafe { unwrap_invalid(dh, Misuse::Unknown, HPy_NULL, at) },
    }
}

/// Reports `dh` and gives `uh`: off the fast path of [`unwrap`].
///
/// # Safety
/// GIL held.
#[cold]
#[inline(never)]
unsafe fn unwrap_invalid(dh: HPy, what: Misuse, uh: HPy, at: &'static Site) -> HPy {
    // SAFETY: forwarded contract.
    unsafe { report_invalid_handle(dh, what, at) };
    uh
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
    if s.closed {
        return None;
    }
    // The same data asked for again (a loop over AsUTF8AndSize, say) gets the
    // same copy: one page per call would add up.
    if let Some(r) = s.raw.iter().find(|r| r.holds(data)) {
        return Some(r.as_ptr());
    }
    let origin = crate::faults::Origin { by, handle: dh._i };
    let r = match super::queue::take_pending(st, data) {
        Some(r) => {
            r.handed_out(origin);
            r
        }
        None => RawData::copy(data, origin)?,
    };
    let ptr = r.as_ptr();
    s.raw.push(r);
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
