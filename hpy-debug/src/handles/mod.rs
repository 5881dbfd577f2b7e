//! Debug handles: the handle table, generations, the closed-handles queue,
//! allocation stack traces, raw data tied to a handle's lifetime, and the
//! invalid-handle reporting.
//!
//! A debug handle is the address of a `Slot`. Closed slots wait in a FIFO
//! queue (so a use after close is recognised); when the queue is full the
//! oldest one is reused for the next handle, or freed when the queue
//! overflows. Python `DebugHandle` objects ([`HandleRef`]) pin a slot: a
//! pinned slot leaving the table stays out of use until its last pin goes.
//!
//! Every operation is O(1) (but listing handles) and takes no lock (the GIL
//! guards the state, see `gil.rs`): slots live in an arena that never frees
//! or moves them (`arena.rs`), a slot "freed" goes to a free list; the closed
//! queue (a FIFO) and the free list (a stack) are intrusive singly linked
//! lists through the slots (open handles are in no list: listing them scans
//! the arena). A handle is recognised as one of ours by its address alone
//! (inside the arena, on a slot boundary: no unknown memory is read) and
//! then the slot's `tag`: using one is a range check and a bit test, opening
//! one a pop and a few stores, closing one a few stores and a push (and, in
//! a full queue, moving the oldest closed slot to the free list). Closing
//! allocates nothing; a slot keeps its raw data and stack trace behind one
//! pointer, NULL for most handles, so that none of this touches them.
//!
//! # Files
//! - `table`: slots, the arena and the state; opening and unwrapping.
//! - `queue`: closing, the closed-handles queue and its raw-data budget.
//! - `report`: invalid-handle reports and callbacks, and the views of slots
//!   behind `DebugHandle` and the leak reports.

mod queue;
mod report;
mod table;

pub(crate) use queue::{close, close_result, flush_raw_data, take_result};
pub use queue::{
    closed_handles_queue_max_size, protected_raw_data_max_size, set_closed_handles_queue_max_size,
    set_protected_raw_data_max_size,
};
pub use report::{
    closed_handles, open_handles, set_on_invalid_builder_handle, set_on_invalid_handle,
    stack_trace_hint, HandleRef,
};
pub(crate) use report::{fatal, null_string, report_invalid_builder_handle};
pub(crate) use table::{attach_raw_data, open_permanent, try_unwrap, unwrap, wrap};
pub use table::{new_generation, set_handle_stack_trace_limit};

#[cfg(test)]
mod tests {
    use super::table::{slot_of, with_state, Slot, Tag};
    use super::*;
    use hpy_sys::HPy;

    // One test: the state is process-wide.
    #[test]
    fn table_reuse_pins_and_generations() {
        let _gil = crate::gil::test_gil();
        let gen = new_generation();
        assert!(gen >= 1);
        let k = open_permanent(HPy { _i: 0x10 });
        assert!(open_handles(0).iter().all(|h| h.id() != k._i as usize));
        let a = wrap(HPy { _i: 0x20 });
        let refs = open_handles(gen);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].id(), a._i as usize);
        assert_eq!(refs[0].inner_handle().map(|h| h._i), Some(0x20));
        assert_eq!(refs[0].raw_data_size(), -1);
        let by = crate::site::site!(ctx_Bytes_AsString);
        let p = attach_raw_data(a, b"abc\0", by).unwrap();
        assert_eq!(attach_raw_data(a, b"abc\0", by), Some(p));
        assert_eq!(refs[0].raw_data_size(), 4);
        // Closing without an inner context: mark closed by hand.
        with_state(|st| {
            // SAFETY: `a` is a live slot; GIL (of the tests) held.
            let s = unsafe { &mut *(a._i as *mut Slot) };
            s.tag = Tag::Closed;
            s.extra = None;
            // SAFETY: `a` is open: in no list.
            unsafe { st.closed.push_back(a._i as *mut Slot) };
        });
        assert!(refs[0].is_closed());
        assert!(refs[0].inner_handle().is_none());
        // A full queue hands its oldest slot to the next handle, which the
        // pinned reference sees.
        set_closed_handles_queue_max_size(0);
        let b = wrap(HPy { _i: 0x30 });
        assert_eq!(b._i, a._i);
        assert!(!refs[0].is_closed());
        assert_eq!(refs[0].inner_handle().map(|h| h._i), Some(0x30));
        set_closed_handles_queue_max_size(1024);
        // Garbage is recognised as such from its value alone.
        let local = 0u64;
        let garbage = [
            1,
            0x10,
            a._i + 8,
            a._i - 1,
            &local as *const u64 as isize,
            isize::MAX,
            -1,
        ];
        with_state(|st| {
            assert!(slot_of(st, a).is_some());
            for g in garbage {
                assert!(slot_of(st, HPy { _i: g }).is_none(), "{g:#x}");
            }
        });
    }

    /// Closes `h` by hand (no inner context in unit tests), as `close`
    /// does: marked closed, queued, its raw data kept pending.
    fn close_by_hand(h: HPy) {
        with_state(|st| {
            let p = h._i as *mut Slot;
            // SAFETY: `h` is an open slot of the table; GIL (of the tests) held.
            let s = unsafe { &mut *p };
            s.tag = Tag::Closed;
            // SAFETY: an open slot is in no list.
            unsafe { st.closed.push_back(p) };
            if !s.raw().is_empty() {
                super::queue::keep_raw(st, p, s);
            }
        });
    }

    #[test]
    fn closed_raw_data_is_reused_then_protected_in_batches() {
        let _gil = crate::gil::test_gil();
        let a = wrap(HPy { _i: 0x40 });
        let by = crate::site::site!(ctx_Unicode_AsUTF8AndSize);
        let p = attach_raw_data(a, b"kw\0", by).unwrap();
        close_by_hand(a);
        // Pending: the same bytes for a new handle reuse the copy...
        let b = wrap(HPy { _i: 0x50 });
        assert_eq!(attach_raw_data(b, b"kw\0", by), Some(p));
        let slot = |h: HPy| h._i as *mut Slot;
        // SAFETY: slots of the arena; GIL (of the tests) held.
        assert!(unsafe { (*slot(a)).raw().is_empty() });
        // ...in the closed handle's own record (no allocation), which then
        // has nothing left to protect.
        // SAFETY: as above.
        assert!(unsafe { (*slot(a)).extra.is_none() });
        with_state(|st| assert!(!st.pending.contains(&slot(a))));
        // ...other bytes get a copy of their own.
        let q = attach_raw_data(b, b"other\0", by).unwrap();
        assert_ne!(p, q);
        close_by_hand(b);
        // SAFETY: as above.
        let protected = || unsafe { (*slot(b)).raw().iter().all(|r| r.is_protected()) };
        assert!(!protected());
        flush_raw_data();
        assert!(protected());
        // SAFETY: as above.
        assert_eq!(unsafe { (*slot(b)).raw().len() }, 2);
        // Leave no closed handle behind for the other test: a queue of size
        // 0 hands its oldest slots to new handles.
        set_closed_handles_queue_max_size(0);
        let reused = [wrap(HPy { _i: 0x60 }), wrap(HPy { _i: 0x70 })];
        assert_eq!(reused.map(|h| h._i), [a._i, b._i]);
        set_closed_handles_queue_max_size(1024);
    }
}
