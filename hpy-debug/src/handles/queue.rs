//! Closing handles: a closed handle's slot waits in a FIFO queue (so a use
//! after close is recognised, and its raw data stays protected within a
//! budget) until the queue is full. Also the intrusive lists the table keeps
//! its slots in (open, closed, free).

use super::report::{report_invalid_handle, Misuse};
use super::table::{clear_slot, slot_of, state, Slot, State, Tag};
use hpy_sys::HPy;
use std::ptr::null_mut;

/// An intrusive doubly linked list of slots, oldest first.
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
    /// `p` is a live arena slot in no list; the state lock is held.
    #[inline]
    pub(super) unsafe fn push_back(&mut self, p: *mut Slot) {
        // SAFETY: caller contract; list members are live arena slots.
        unsafe {
            (*p).prev = self.tail;
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

    /// # Safety
    /// `p` is in this list; the state lock is held.
    #[inline]
    pub(super) unsafe fn remove(&mut self, p: *mut Slot) {
        // SAFETY: caller contract; list members are live arena slots.
        unsafe {
            let (prev, next) = ((*p).prev, (*p).next);
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).next = next;
            }
            if next.is_null() {
                self.tail = prev;
            } else {
                (*next).prev = prev;
            }
            (*p).prev = null_mut();
            (*p).next = null_mut();
        }
        self.len -= 1;
    }

    #[inline]
    pub(super) fn pop_front(&mut self) -> Option<*mut Slot> {
        let p = self.head;
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` is this list's head.
        unsafe { self.remove(p) };
        Some(p)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = *mut Slot> + '_ {
        std::iter::successors((!self.head.is_null()).then_some(self.head), |&p| {
            // SAFETY: list members are live arena slots (lock held by the
            // borrower of the state).
            let n = unsafe { (*p).next };
            (!n.is_null()).then_some(n)
        })
    }
}

/// Takes a slot (in no list) out of the table for good: freed now, or by
/// its last pin.
fn release(st: &mut State, p: *mut Slot) {
    // SAFETY: `p` was in the table, so it is a live arena slot; lock held.
    let s = unsafe { &mut *p };
    clear_slot(st, s);
    if s.pins > 0 {
        s.tag = Tag::Detached;
    } else {
        s.tag = Tag::Free;
        // SAFETY: `p` is in no list.
        unsafe { st.free.push_back(p) };
    }
}

/// Frees the oldest closed handle if the queue is over its maximum size.
/// One per close: after the maximum is lowered, the queue shrinks
/// gradually (opening a handle also takes one from a full queue).
fn evict(st: &mut State) {
    if st.closed.len > st.closed_max {
        if let Some(p) = st.closed.pop_front() {
            release(st, p);
        }
    }
}

/// Closes `dh`: marks it closed, queues it, protects or frees its raw data
/// and closes its inner handle. Closing a closed, unknown or constant handle
/// is reported (and changes nothing).
///
/// # Safety
/// GIL held; the debug context is initialised.
pub(crate) unsafe fn close(dh: HPy) {
    // SAFETY: forwarded contract.
    unsafe { close_with(dh, false) }
}

/// Closes the result handle of a call into the extension, after its value
/// was taken: a result that is already closed (an argument returned without
/// `HPy_Dup`) was reported when it was unwrapped, so only closing a context
/// constant is reported here.
///
/// # Safety
/// GIL held; the debug context is initialised.
pub(crate) unsafe fn close_result(dh: HPy) {
    // SAFETY: forwarded contract.
    unsafe { close_with(dh, true) }
}

/// # Safety
/// GIL held; the debug context is initialised.
unsafe fn close_with(dh: HPy, quiet: bool) {
    if dh.is_null() {
        return;
    }
    let outcome = {
        let mut g = state();
        let st = &mut g.0;
        match slot_of(st, dh) {
            None => Err(Misuse::Unknown),
            Some(p) => {
                // SAFETY: slots in the table are live.
                let s = unsafe { &mut *p };
                if s.permanent {
                    Err(Misuse::ClosedConstant)
                } else if s.closed {
                    Err(Misuse::Closed)
                } else {
                    s.closed = true;
                    // SAFETY: an open, non-permanent slot is in `open`.
                    unsafe { st.open.remove(p) };
                    // Keep (unreadable) what fits in the budget, so that a
                    // use after close faults; free the rest now.
                    let mut kept = Vec::new();
                    for r in s.raw.drain(..) {
                        if st.raw_size + r.len() <= st.raw_max {
                            r.protect();
                            st.raw_size += r.len();
                            s.raw_counted += r.len();
                            kept.push(r);
                        }
                    }
                    s.raw = kept;
                    let uh = s.uh;
                    // SAFETY: `p` just left `open`: in no list.
                    unsafe { st.closed.push_back(p) };
                    evict(st);
                    Ok(uh)
                }
            }
        }
    };
    match outcome {
        Err(Misuse::Closed | Misuse::Unknown) if quiet => {}
        Err(m) => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle(dh, m) }
        }
        Ok(uh) => {
            let inner = crate::inner_ctx();
            // SAFETY: `uh` is an open handle of the inner context, owned by
            // the debug handle just closed; GIL held. (This may run __del__.)
            unsafe { ((*inner).ctx_Close.unwrap_unchecked())(inner, uh) }
        }
    }
}

pub fn closed_handles_queue_max_size() -> usize {
    state().0.closed_max
}

/// Takes effect as handles open and close (the queue is not trimmed now).
pub fn set_closed_handles_queue_max_size(n: usize) {
    state().0.closed_max = n;
}

pub fn protected_raw_data_max_size() -> usize {
    state().0.raw_max
}

pub fn set_protected_raw_data_max_size(n: usize) {
    state().0.raw_max = n;
}
