//! Closing handles: a closed handle's slot waits in a FIFO queue (so a use
//! after close is recognised, and its raw data stays protected within a
//! budget) until the queue is full. Also the intrusive lists the table keeps
//! its slots in (closed, free).
//!
//! Raw data of a closed handle is protected in batches, not one `mprotect`
//! per close: it is pending until the call into the extension returns, or an
//! API function that reads caller memory (a `const` pointer argument, such
//! as `HPyUnicode_FromString(ctx, s)`) is entered, or enough is pending.
//! Meanwhile the same bytes asked for again (the same keyword name looked up
//! on every call of a loop, say) reuse the pending copy instead of making a
//! new one, so a loop in C that hands out and closes raw data makes no
//! system call after its first iteration.

use super::report::{report_invalid_handle, Misuse};
use super::table::{clear_slot, slot_of, with_state, Extra, Slot, State, Tag};
use crate::rawdata::RawData;
use crate::site::Site;
use hpy_sys::HPy;
use std::ptr::null_mut;

/// An intrusive singly linked list of slots (slots only ever leave it at
/// its front): the closed queue is a FIFO (oldest first), the free list a
/// stack.
pub(super) struct List {
    pub(super) head: *mut Slot,
    pub(super) tail: *mut Slot,
    pub(super) len: usize,
}

impl List {
    pub(super) const fn new() -> List {
        List {
            head: null_mut(),
            tail: null_mut(),
            len: 0,
        }
    }

    /// # Safety
    /// `p` is a live arena slot in no list; GIL held.
    #[inline(always)]
    pub(super) unsafe fn push_back(&mut self, p: *mut Slot) {
        // SAFETY: caller contract; list members are live arena slots.
        unsafe {
            (*p).next = null_mut();
            if self.tail.is_null() {
                self.head = p;
            } else {
                (*self.tail).next = p;
            }
        }
        self.tail = p;
        self.len += 1;
    }

    /// Puts `p` first: the free list is a stack (the slot freed last, still
    /// in the cache, is reused first).
    ///
    /// # Safety
    /// `p` is a live arena slot in no list; GIL held.
    #[inline(always)]
    pub(super) unsafe fn push_front(&mut self, p: *mut Slot) {
        // SAFETY: caller contract.
        unsafe { (*p).next = self.head };
        if self.head.is_null() {
            self.tail = p;
        }
        self.head = p;
        self.len += 1;
    }

    /// # Safety
    /// The list is not empty; GIL held.
    #[inline(always)]
    pub(super) unsafe fn pop_front_unchecked(&mut self) -> *mut Slot {
        let p = self.head;
        // SAFETY: caller contract: `p` is this list's (live) head.
        self.head = unsafe { (*p).next };
        if self.head.is_null() {
            self.tail = null_mut();
        }
        self.len -= 1;
        p
    }

    #[inline]
    pub(super) fn pop_front(&mut self) -> Option<*mut Slot> {
        // SAFETY: checked not empty.
        (!self.head.is_null()).then(|| unsafe { self.pop_front_unchecked() })
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = *mut Slot> + '_ {
        std::iter::successors((!self.head.is_null()).then_some(self.head), |&p| {
            // SAFETY: list members are live arena slots (GIL held by the
            // borrower of the state).
            let n = unsafe { (*p).next };
            (!n.is_null()).then_some(n)
        })
    }
}

/// Takes a slot (in no list) out of the table for good: freed now, or by
/// its last pin.
#[inline(always)]
fn release(st: &mut State, p: *mut Slot) {
    // SAFETY: `p` was in the table, so it is a live arena slot; GIL held.
    let s = unsafe { &mut *p };
    clear_slot(st, s);
    if s.pins > 0 {
        s.tag = Tag::Detached;
    } else {
        s.tag = Tag::Free;
        // SAFETY: `p` is in no list.
        unsafe { st.free.push_front(p) };
    }
}

/// Closes `dh` (argument `at` of an API call): marks it closed, queues it,
/// protects or frees its raw data and closes its inner handle. Closing a
/// closed, unknown or constant handle is reported (and changes nothing).
///
/// # Safety
/// GIL held; the debug context is initialised.
#[inline(always)]
pub(crate) unsafe fn close(dh: HPy, at: &'static Site) {
    // SAFETY: forwarded contract.
    unsafe { close_with(dh, false, at) }
}

/// Closes the result handle of a call into the extension, after its value
/// was taken: a result that is already closed (an argument returned without
/// `HPy_Dup`) was reported when it was unwrapped, so only closing a context
/// constant is reported here.
///
/// # Safety
/// GIL held; the debug context is initialised.
#[inline(always)]
pub(crate) unsafe fn close_result(dh: HPy, at: &'static Site) {
    // SAFETY: forwarded contract.
    unsafe { close_with(dh, true, at) }
}

/// Takes the inner handle out of `dh`, the result of a call into the
/// extension, and closes `dh` without closing the inner handle, which the
/// caller now owns: one lookup for what `unwrap` then `close_result` do.
/// Anything but an open handle is left to those two (None).
///
/// # Safety
/// GIL held.
#[inline(always)]
pub(crate) unsafe fn take_result(dh: HPy) -> Option<HPy> {
    with_state(|st| {
        let p = st.slots.find(dh._i as usize)?;
        // SAFETY: a slot of the arena: initialised, never freed; GIL held.
        let s = unsafe { &mut *p };
        if s.tag != Tag::Open {
            return None;
        }
        Some(close_open(st, p, s))
    })
}

/// Marks the open slot `p` closed and queues it (the oldest queued one is
/// freed if the queue is over its size); gives its inner handle, which the
/// caller closes.
#[inline(always)]
fn close_open(st: &mut State, p: *mut Slot, s: &mut Slot) -> HPy {
    s.tag = Tag::Closed;
    if s.extra.is_some() {
        keep_raw(st, p, s);
    }
    // SAFETY: `p` was open: in no list.
    unsafe { st.closed.push_back(p) };
    // One per close: after the maximum is lowered, the queue shrinks
    // gradually (opening a handle also takes one from a full queue).
    if st.closed.len > st.closed_max {
        // SAFETY: the queue holds at least `p`.
        let old = unsafe { st.closed.pop_front_unchecked() };
        release(st, old);
    }
    s.uh
}

/// The fast path: an open handle is marked closed and queued (the oldest
/// queued one freed if the queue is over its size), then its inner handle
/// closed; anything else goes to [`close_invalid`].
///
/// # Safety
/// GIL held; the debug context is initialised.
#[inline(always)]
unsafe fn close_with(dh: HPy, quiet: bool, at: &'static Site) {
    let uh = with_state(|st| {
        let p = st.slots.find(dh._i as usize)?;
        // SAFETY: a slot of the arena: initialised, never freed; GIL held.
        let s = unsafe { &mut *p };
        if s.tag != Tag::Open {
            return None;
        }
        Some(close_open(st, p, s))
    });
    match uh {
        Some(uh) => {
            let inner = crate::inner_ctx();
            // SAFETY: `uh` is an open handle of the inner context, owned by
            // the debug handle just closed; GIL held. (This may run __del__.)
            unsafe { ((*inner).ctx_Close.unwrap_unchecked())(inner, uh) }
        }
        // SAFETY: forwarded contract.
        None => unsafe { close_invalid(dh, quiet, at) },
    }
}

/// Closing anything but an open handle: `HPy_NULL` (nothing to do), a
/// constant, a closed or an unknown handle (reported unless `quiet`).
///
/// # Safety
/// GIL held.
#[cold]
#[inline(never)]
unsafe fn close_invalid(dh: HPy, quiet: bool, at: &'static Site) {
    if dh.is_null() {
        return;
    }
    let tag = with_state(|st| {
        // SAFETY: slots in the table are live; GIL held.
        slot_of(st, dh).map(|p| unsafe { (*p).tag })
    });
    let what = match tag {
        Some(Tag::Permanent) => Misuse::ClosedConstant,
        Some(_) => Misuse::Closed,
        None => Misuse::Unknown,
    };
    if !(quiet && what != Misuse::ClosedConstant) {
        // SAFETY: GIL held.
        unsafe { report_invalid_handle(dh, what, at) }
    }
}

/// Pending slots beyond which closing protects at once.
const PENDING_MAX: usize = 64;

/// Pending slots searched for a copy to reuse (the most recent ones).
const REUSE_WINDOW: usize = 8;

/// Keeps the raw data of a slot being closed that fits in the budget, to be
/// made unreadable (see the module's text) so that a use after close faults;
/// frees the rest now (which makes it unreadable too).
#[cold]
#[inline(never)]
pub(super) fn keep_raw(st: &mut State, p: *mut Slot, s: &mut Slot) {
    let Some(e) = s.extra.as_mut() else {
        return;
    };
    let mut i = 0;
    while i < e.raw.len() {
        let len = e.raw[i].len();
        if st.raw_size + len <= st.raw_max {
            st.raw_size += len;
            e.raw_counted += len;
            i += 1;
        } else {
            drop(e.raw.swap_remove(i));
        }
    }
    if !e.raw.is_empty() {
        st.pending.push(p);
        if st.pending.len() > PENDING_MAX {
            protect_pending(st);
        }
    }
}

/// Makes the pending raw data unreadable.
#[cold]
pub(super) fn protect_pending(st: &mut State) {
    for p in st.pending.drain(..) {
        // SAFETY: arena slots are never freed; GIL held.
        let s = unsafe { &*p };
        // A slot reused since is open (its data live), or in no table.
        if s.tag == Tag::Closed {
            for r in s.raw() {
                r.protect();
            }
        }
    }
}

/// Protects the raw data of the handles closed so far (a no-op, one test,
/// when there is none).
#[inline(always)]
pub(crate) fn flush_raw_data() {
    with_state(|st| {
        if !st.pending.is_empty() {
            protect_pending(st);
        }
    })
}

/// A pending copy holding exactly `data`, taken from its closed handle, for
/// a new handle asking for the same bytes. A closed handle left without raw
/// data leaves the pending list, and gives its emptied `Extra` too if it
/// holds nothing else (the new handle then needs no allocation: a loop
/// handing out the same bytes again and again allocates nothing).
pub(super) fn take_pending(st: &mut State, data: &[u8]) -> Option<(RawData, Option<Box<Extra>>)> {
    let n = st.pending.len();
    for i in (n.saturating_sub(REUSE_WINDOW)..n).rev() {
        // SAFETY: arena slots are never freed; GIL held.
        let s = unsafe { &mut *st.pending[i] };
        if s.tag != Tag::Closed {
            continue;
        }
        let Some(e) = s.extra.as_mut() else {
            continue;
        };
        if let Some(j) = e
            .raw
            .iter()
            .position(|r| !r.is_protected() && r.holds(data))
        {
            let r = e.raw.swap_remove(j);
            e.raw_counted -= r.len();
            st.raw_size -= r.len();
            let mut emptied = None;
            if e.raw.is_empty() {
                st.pending.remove(i);
                if e.trace.is_none() {
                    emptied = s.extra.take();
                }
            }
            return Some((r, emptied));
        }
    }
    None
}

pub fn closed_handles_queue_max_size() -> usize {
    with_state(|st| st.closed_max)
}

/// Takes effect as handles open and close (the queue is not trimmed now).
pub fn set_closed_handles_queue_max_size(n: usize) {
    with_state(|st| st.closed_max = n);
}

pub fn protected_raw_data_max_size() -> usize {
    with_state(|st| st.raw_max)
}

pub fn set_protected_raw_data_max_size(n: usize) {
    with_state(|st| st.raw_max = n);
}
