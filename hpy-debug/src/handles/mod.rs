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
//! Every operation is O(1) (but listing handles): slots live in an arena of
//! chunks that are never freed or moved, a slot "freed" goes to a free list;
//! the open handles, the closed queue and the free list are intrusive doubly
//! linked lists through the slots; a handle is recognised as one of ours by
//! its address (inside a chunk, on a slot boundary) and the slot's `tag`.
//!
//! # Files
//! - `table`: slots, the arena and the state; opening and unwrapping.
//! - `queue`: closing, the closed-handles queue and its raw-data budget.
//! - `report`: invalid-handle reports and callbacks, and the views of slots
//!   behind `DebugHandle` and the leak reports.

mod queue;
mod report;
mod table;

pub(crate) use queue::{close, close_result};
pub use queue::{
    closed_handles_queue_max_size, protected_raw_data_max_size, set_closed_handles_queue_max_size,
    set_protected_raw_data_max_size,
};
pub use report::{
    closed_handles, open_handles, set_on_invalid_builder_handle, set_on_invalid_handle,
    stack_trace_hint, HandleRef,
};
pub(crate) use report::{fatal, report_invalid_builder_handle};
pub(crate) use table::{attach_raw_data, open_permanent, unwrap, wrap};
pub use table::{new_generation, set_handle_stack_trace_limit};

/// Held by the unit tests that change or depend on the process-wide queue
/// size (the builders' queue uses it too); tests run on parallel threads.
#[cfg(test)]
pub(crate) static QUEUE_SIZE_TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::table::{state, Slot};
    use super::*;
    use hpy_sys::HPy;

    // One test: the state is process-wide.
    #[test]
    fn table_reuse_pins_and_generations() {
        let _queue_size = QUEUE_SIZE_TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
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
        let p = attach_raw_data(a, b"abc\0").unwrap();
        assert_eq!(attach_raw_data(a, b"abc\0"), Some(p));
        assert_eq!(refs[0].raw_data_size(), 4);
        // Closing without an inner context: mark closed by hand.
        {
            let mut g = state();
            let st = &mut g.0;
            // SAFETY: `a` is a live slot; lock held.
            let s = unsafe { &mut *(a._i as *mut Slot) };
            s.closed = true;
            s.raw.clear();
            // SAFETY: `a` is open: in `open`; then in no list.
            unsafe {
                st.open.remove(a._i as *mut Slot);
                st.closed.push_back(a._i as *mut Slot);
            }
        }
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
    }
}
