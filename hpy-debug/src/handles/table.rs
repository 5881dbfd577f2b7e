//! The handle table: slots in an arena of chunks that never move (a debug
//! handle is its slot's address), the process-wide state behind one lock,
//! and opening, recognising and unwrapping handles.

use super::queue::List;
use super::report::{report_invalid_handle, Misuse};
use crate::rawdata::RawData;
use crate::stacktrace::StackTrace;
use hpy_sys::{HPy, HPy_NULL};
use std::ptr::null_mut;
use std::sync::{Mutex, MutexGuard};

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
    pub(super) closed: bool,
    /// A handle constant of the context (`ctx->h_None`, ...): never closed.
    pub(super) permanent: bool,
    pub(super) pins: usize,
    pub(super) trace: Option<StackTrace>,
    pub(super) raw: Vec<RawData>,
    /// Bytes of `raw` counted in `State::raw_size` (kept after close).
    pub(super) raw_counted: usize,
    /// Links of the one list the slot is in (open, closed or free); a
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

/// Slots in the first chunk; each next chunk doubles.
const FIRST_CHUNK: usize = 256;

pub(super) struct State {
    /// The arena: (start, slot count) of leaked boxed slices, never freed.
    pub(super) chunks: Vec<(*mut Slot, usize)>,
    /// Arena slots never used yet: index in the last chunk.
    pub(super) chunk_used: usize,
    /// Open handles, in opening order.
    pub(super) open: List,
    /// Recently closed handles, oldest first.
    pub(super) closed: List,
    /// Slots out of the table, to reuse.
    pub(super) free: List,
    pub(super) closed_max: usize,
    /// Budget of raw data kept (protected) for closed handles, and its use.
    pub(super) raw_max: usize,
    pub(super) raw_size: usize,
    pub(super) generation: u64,
    pub(super) on_invalid_handle: usize,
    pub(super) on_invalid_builder_handle: usize,
    /// Frames recorded per opened handle; 0 = off.
    pub(super) trace_limit: usize,
}

pub(super) struct Global(pub(super) State);
// SAFETY: the raw pointers are only dereferenced with the mutex locked (and
// the GIL held); the state never leaves the interpreter's threads.
unsafe impl Send for Global {}

static STATE: Mutex<Global> = Mutex::new(Global(State {
    chunks: Vec::new(),
    chunk_used: 0,
    open: List::new(),
    closed: List::new(),
    free: List::new(),
    closed_max: 1024,
    raw_max: 10 * 1024 * 1024,
    raw_size: 0,
    generation: 0,
    on_invalid_handle: 0,
    on_invalid_builder_handle: 0,
    trace_limit: 0,
}));

#[inline]
pub(super) fn state() -> MutexGuard<'static, Global> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The slot behind a debug handle, if it is in the table: an address inside
/// an arena chunk, on a slot boundary, whose slot is tagged as in the table.
/// Anything else given to us as a handle is garbage or long closed.
#[inline]
pub(super) fn slot_of(st: &State, dh: HPy) -> Option<*mut Slot> {
    let p = dh._i as usize;
    let size = std::mem::size_of::<Slot>();
    // Newest (largest) chunks first; there are O(log n) of them.
    for &(base, n) in st.chunks.iter().rev() {
        let b = base as usize;
        if p >= b && p < b + n * size {
            if (p - b) % size != 0 {
                return None;
            }
            let s = p as *mut Slot;
            // SAFETY: `s` is a slot of a live (leaked) chunk; lock held.
            return (unsafe { (*s).tag } == Tag::InTable).then_some(s);
        }
    }
    None
}

/// A slot out of no list, for a new handle: a freed one, else a new one
/// from the arena.
fn alloc_slot(st: &mut State) -> *mut Slot {
    if let Some(p) = st.free.pop_front() {
        return p;
    }
    let room = st.chunks.last().map_or(0, |&(_, n)| n);
    if st.chunk_used == room {
        let n = if room == 0 { FIRST_CHUNK } else { room * 2 };
        let chunk: Box<[Slot]> = (0..n).map(|_| Slot::default()).collect();
        // Leaked: slots must stay at their address for as long as a handle
        // value might be checked against them (the process lifetime).
        let base = Box::leak(chunk).as_mut_ptr();
        st.chunks.push((base, n));
        st.chunk_used = 0;
    }
    let (base, _) = st.chunks[st.chunks.len() - 1];
    // SAFETY: `chunk_used` < the last chunk's length.
    let p = unsafe { base.add(st.chunk_used) };
    st.chunk_used += 1;
    p
}

/// Releases what a slot holds besides its identity (raw data, trace).
#[inline]
pub(super) fn clear_slot(st: &mut State, s: &mut Slot) {
    st.raw_size -= s.raw_counted;
    s.raw_counted = 0;
    s.raw.clear();
    s.trace = None;
}

/// Puts `uh` into a slot of the table: a new handle (or, `permanent`, a
/// context constant, in no generation and never queued).
fn open_in(st: &mut State, uh: HPy, permanent: bool) -> HPy {
    let trace = if st.trace_limit > 0 && !permanent {
        StackTrace::capture(st.trace_limit)
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
    // SAFETY: `p` is a live arena slot in no list; lock held.
    let s = unsafe { &mut *p };
    clear_slot(st, s);
    s.tag = Tag::InTable;
    s.uh = uh;
    s.generation = generation;
    s.closed = false;
    s.permanent = permanent;
    s.trace = trace;
    if !permanent {
        // SAFETY: `p` is in no list.
        unsafe { st.open.push_back(p) };
    }
    HPy { _i: p as isize }
}

/// Opens a debug handle that owns the inner handle `uh` (NULL stays NULL).
pub(crate) fn wrap(uh: HPy) -> HPy {
    if uh.is_null() {
        return HPy_NULL;
    }
    open_in(&mut state().0, uh, false)
}

/// A debug handle for a handle constant of the inner context.
pub(crate) fn open_permanent(uh: HPy) -> HPy {
    if uh.is_null() {
        return HPy_NULL;
    }
    open_in(&mut state().0, uh, true)
}

/// The inner handle of `dh`. A closed or unknown handle is reported (see
/// [`report_invalid_handle`]) and then gives its stale inner handle
/// (closed) or `HPy_NULL` (unknown).
///
/// # Safety
/// GIL held.
pub(crate) unsafe fn unwrap(dh: HPy) -> HPy {
    if dh.is_null() {
        return HPy_NULL;
    }
    let found = {
        let g = state();
        slot_of(&g.0, dh).map(|p| {
            // SAFETY: slots in the table are live.
            let s = unsafe { &*p };
            (s.uh, s.closed)
        })
    };
    match found {
        Some((uh, false)) => uh,
        Some((uh, true)) => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle(dh, Misuse::Closed) };
            uh
        }
        None => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle(dh, Misuse::Unknown) };
            HPy_NULL
        }
    }
}

/// Ties a read-only copy of `data` to the open handle `dh` and returns it;
/// None if `dh` is not open or no memory could be had (callers then hand out
/// the original pointer).
pub(crate) fn attach_raw_data(dh: HPy, data: &[u8]) -> Option<*const u8> {
    let g = state();
    let p = slot_of(&g.0, dh)?;
    // SAFETY: slots in the table are live; the lock is held.
    let s = unsafe { &mut *p };
    if s.closed {
        return None;
    }
    // The same data asked for again (a loop over AsUTF8AndSize, say) gets the
    // same copy: one page per call would add up.
    if let Some(r) = s.raw.iter().find(|r| r.holds(data)) {
        return Some(r.as_ptr());
    }
    let r = RawData::copy(data)?;
    let ptr = r.as_ptr();
    s.raw.push(r);
    Some(ptr)
}

/// Starts a new generation and returns its number (always >= 1; the context
/// constants belong to generation 0, so they never count as leaks).
pub fn new_generation() -> u64 {
    let mut g = state();
    g.0.generation += 1;
    g.0.generation
}

/// Record the C stack (at most `limit` frames) of every handle opened from
/// now on; None or 0 turns it off.
pub fn set_handle_stack_trace_limit(limit: Option<usize>) {
    state().0.trace_limit = limit.unwrap_or(0);
}
