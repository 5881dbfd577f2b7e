//! Debug tuple and list builders: each inner builder is wrapped in a
//! [`DBuilder`], so that using a builder after `Build` or `Cancel` consumed
//! it is reported (`on_invalid_builder_handle`) instead of touching a freed
//! container. Consumed builders wait in a queue as long as closed handles do.

use crate::arena::Arena;
use crate::gil::GilCell;
use crate::handles;
use crate::site::{site, Site};
use hpy_sys::*;
use std::ptr::null_mut;

#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum State {
    /// Not a builder (never used, or reused after leaving the queue).
    #[default]
    Free,
    Open,
    /// Consumed by `Build`/`Cancel`, waiting in the queue.
    Consumed,
}

/// A debug builder: the token given to the extension is its address. A
/// power-of-two size, so that recognising one is a single compare (see
/// `arena.rs`).
#[repr(C, align(32))]
struct DBuilder {
    /// The inner builder token (`_tup` / `_lst`).
    inner: isize,
    /// The link of the list it is in (consumed queue or free list).
    next: *mut DBuilder,
    state: State,
}

impl Default for DBuilder {
    fn default() -> DBuilder {
        DBuilder {
            inner: 0,
            next: null_mut(),
            state: State::Free,
        }
    }
}

struct Table {
    /// Every debug builder ever made: a token is recognised by its address
    /// alone (see `arena.rs`).
    slots: Arena<DBuilder>,
    /// Consumed builders, oldest first: an intrusive FIFO through `next`.
    closed_head: *mut DBuilder,
    closed_tail: *mut DBuilder,
    closed_len: usize,
    /// Builders out of the queue, to reuse: a stack through `next`.
    free: *mut DBuilder,
}

/// Builders are touched only through this cell: with the GIL held.
static TABLE: GilCell<Table> = GilCell::new(Table {
    slots: Arena::new(),
    closed_head: null_mut(),
    closed_tail: null_mut(),
    closed_len: 0,
    free: null_mut(),
});

/// A debug builder for the inner builder `inner` (0, a failed `New`, stays
/// 0: the inner `Build` reports the MemoryError).
#[inline(always)]
pub(crate) fn open(inner: isize) -> isize {
    if inner == 0 {
        return 0;
    }
    let p = TABLE.with(|t| {
        let p = t.free;
        if p.is_null() {
            return new_builder(t);
        }
        // SAFETY: free-list members are live arena slots; GIL held.
        t.free = unsafe { (*p).next };
        p
    });
    // SAFETY: a slot of the arena out of the queue and the free list: ours
    // alone; GIL held.
    unsafe {
        (*p).inner = inner;
        (*p).state = State::Open;
    }
    p as isize
}

#[cold]
#[inline(never)]
fn new_builder(t: &mut Table) -> *mut DBuilder {
    match t.slots.alloc() {
        Some(p) => p,
        None => handles::fatal("out of memory for debug builders"),
    }
}

enum Found {
    Open(*mut DBuilder),
    Consumed,
    Unknown,
}

#[inline(always)]
fn find(b: isize) -> Found {
    TABLE.with(|t| {
        let Some(p) = t.slots.find(b as usize) else {
            return Found::Unknown;
        };
        // SAFETY: a slot of the arena: initialised, never freed; GIL held.
        match unsafe { (*p).state } {
            State::Open => Found::Open(p),
            State::Consumed => Found::Consumed,
            State::Free => Found::Unknown,
        }
    })
}

/// The debug builder `b` if it is open (argument `at` of an API call);
/// anything else is reported (see [`unwrap_invalid`]) and gives None.
///
/// # Safety
/// GIL held.
#[inline(always)]
unsafe fn find_open(b: isize, at: &'static Site) -> Option<*mut DBuilder> {
    match find(b) {
        Found::Open(p) => Some(p),
        // SAFETY: forwarded contract.
        _ => unsafe { unwrap_invalid(b, at) },
    }
}

/// The inner builder of `b` if it is open (nothing called); None for
/// anything else, which [`unwrap`] reports.
#[inline(always)]
pub(crate) fn try_unwrap(b: isize) -> Option<isize> {
    match find(b) {
        // SAFETY: an open builder's slot is live; GIL held.
        Found::Open(p) => Some(unsafe { (*p).inner }),
        _ => None,
    }
}

/// The inner builder of `b` (argument `at` of an API call); a consumed or
/// unknown builder is reported and gives 0 (which the inner context treats
/// as a failed builder).
///
/// # Safety
/// GIL held.
#[inline(always)]
pub(crate) unsafe fn unwrap(b: isize, at: &'static Site) -> isize {
    match find(b) {
        // SAFETY: an open builder's slot is live; GIL held.
        Found::Open(p) => unsafe { (*p).inner },
        // SAFETY: forwarded contract; an open builder's slot is live.
        _ => unsafe { unwrap_invalid(b, at).map_or(0, |p| (*p).inner) },
    }
}

/// [`find_open`] of anything but an open builder: 0 (a failed `New`), or a
/// misuse to report.
///
/// # Safety
/// GIL held.
#[cold]
#[inline(never)]
unsafe fn unwrap_invalid(b: isize, at: &'static Site) -> Option<*mut DBuilder> {
    if b == 0 {
        return None;
    }
    let what = match find(b) {
        Found::Open(p) => return Some(p),
        Found::Consumed => {
            "a builder was used after HPy{Tuple,List}Builder_Build or _Cancel consumed it"
        }
        Found::Unknown => {
            "a value that is not a live HPyTupleBuilder/HPyListBuilder was used as one"
        }
    };
    // SAFETY: GIL held.
    unsafe { handles::report_invalid_builder_handle(what, at) };
    None
}

/// Marks the open builder `p` consumed (after `Build`/`Cancel`) and queues
/// it; the oldest consumed ones leave the queue beyond its size.
///
/// Nothing if it was consumed meanwhile (by code its `Build` re-entered).
///
/// # Safety
/// GIL held; `p` is a slot of the arena.
#[inline(always)]
unsafe fn consume(p: *mut DBuilder) {
    let max = handles::closed_handles_queue_max_size();
    TABLE.with(|t| {
        // SAFETY: caller contract; list members are live arena slots.
        unsafe {
            if (*p).state != State::Open {
                return;
            }
            (*p).state = State::Consumed;
            (*p).next = null_mut();
            if t.closed_tail.is_null() {
                t.closed_head = p;
            } else {
                (*t.closed_tail).next = p;
            }
            t.closed_tail = p;
            t.closed_len += 1;
            while t.closed_len > max {
                let old = t.closed_head;
                t.closed_head = (*old).next;
                if t.closed_head.is_null() {
                    t.closed_tail = null_mut();
                }
                t.closed_len -= 1;
                (*old).state = State::Free;
                (*old).next = t.free;
                t.free = old;
            }
        }
    })
}

/// `Build` or `Cancel` of builder token `$b`: found once, consumed after the
/// inner call, and the inner result passed through `$ret`.
macro_rules! build_or_cancel {
    ($dctx:expr, $b:expr, $m:ident, $ty:ident, $f:ident, $ret:expr) => {{
        let busy = crate::ctx::enter($dctx, site!($m));
        // SAFETY: GIL held (context function); the token is looked up first,
        // and an open builder's slot is live.
        unsafe {
            let p = find_open($b, site!($m, builder));
            let ub = $ty {
                $f: p.map_or(0, |p| (*p).inner),
            };
            let inner = busy.inner();
            let r = ((*inner).$m.unwrap_unchecked())(inner, ub);
            if let Some(p) = p {
                consume(p);
            }
            ($ret)(r)
        }
    }};
}

/// # Safety
/// Context function (`HPyTupleBuilder_Build`).
pub unsafe extern "C" fn ctx_TupleBuilder_Build(dctx: *mut HPyContext, b: HPyTupleBuilder) -> HPy {
    build_or_cancel!(
        dctx,
        b._tup,
        ctx_TupleBuilder_Build,
        HPyTupleBuilder,
        _tup,
        handles::wrap
    )
}

/// # Safety
/// Context function (`HPyTupleBuilder_Cancel`).
pub unsafe extern "C" fn ctx_TupleBuilder_Cancel(dctx: *mut HPyContext, b: HPyTupleBuilder) {
    build_or_cancel!(
        dctx,
        b._tup,
        ctx_TupleBuilder_Cancel,
        HPyTupleBuilder,
        _tup,
        |()| ()
    )
}

/// # Safety
/// Context function (`HPyListBuilder_Build`).
pub unsafe extern "C" fn ctx_ListBuilder_Build(dctx: *mut HPyContext, b: HPyListBuilder) -> HPy {
    build_or_cancel!(
        dctx,
        b._lst,
        ctx_ListBuilder_Build,
        HPyListBuilder,
        _lst,
        handles::wrap
    )
}

/// # Safety
/// Context function (`HPyListBuilder_Cancel`).
pub unsafe extern "C" fn ctx_ListBuilder_Cancel(dctx: *mut HPyContext, b: HPyListBuilder) {
    build_or_cancel!(
        dctx,
        b._lst,
        ctx_ListBuilder_Cancel,
        HPyListBuilder,
        _lst,
        |()| ()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Build`'s bookkeeping without an inner context.
    fn consume_token(b: isize) {
        if let Found::Open(p) = find(b) {
            // SAFETY: an open builder's slot; GIL (of the tests) held.
            unsafe { consume(p) }
        }
    }

    fn inner_of(b: isize) -> Option<isize> {
        match find(b) {
            // SAFETY: an open builder's slot; GIL (of the tests) held.
            Found::Open(p) => Some(unsafe { (*p).inner }),
            _ => None,
        }
    }

    #[test]
    fn open_close_find() {
        let _gil = crate::gil::test_gil();
        assert_eq!(open(0), 0);
        let b = open(0x1234);
        assert_eq!(inner_of(b), Some(0x1234));
        consume_token(b);
        assert!(matches!(find(b), Found::Consumed));
        consume_token(b);
        assert!(matches!(find(0x8), Found::Unknown));
        assert!(matches!(find(b + 1), Found::Unknown));
        // SAFETY: GIL (of the tests) held.
        unsafe { consume(b as *mut DBuilder) }; // consumed already: no-op
                                                // The queue keeps the most recent consumed builders; older ones are
                                                // reused (oldest out first, last freed reused first).
        handles::set_closed_handles_queue_max_size(2);
        let bs: Vec<isize> = (1..=4).map(|i| open(0x100 * i)).collect();
        for &x in &bs {
            consume_token(x);
        }
        let states: Vec<bool> = bs
            .iter()
            .map(|&x| matches!(find(x), Found::Consumed))
            .collect();
        assert_eq!(states, [false, false, true, true]);
        let again = open(0x999);
        assert_eq!(again, bs[1]);
        assert_eq!(inner_of(again), Some(0x999));
        handles::set_closed_handles_queue_max_size(1024);
    }
}
