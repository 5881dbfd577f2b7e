//! Debug tuple and list builders: each inner builder is wrapped in a
//! [`DBuilder`], so that using a builder after `Build` or `Cancel` consumed
//! it is reported (`on_invalid_builder_handle`) instead of touching a freed
//! container. Consumed builders wait in a queue as long as closed handles do.

use crate::arena::Arena;
use crate::gil::GilCell;
use crate::handles;
use crate::site::{site, Site};
use hpy_sys::*;
use std::collections::VecDeque;

#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum State {
    /// Not a builder (never used, or reused after leaving the queue).
    #[default]
    Free,
    Open,
    /// Consumed by `Build`/`Cancel`, waiting in the queue.
    Consumed,
}

/// A debug builder: the token given to the extension is its address.
#[derive(Default)]
struct DBuilder {
    /// The inner builder token (`_tup` / `_lst`).
    inner: isize,
    state: State,
}

struct Table {
    /// Every debug builder ever made: a token is recognised by its address
    /// alone (see `arena.rs`).
    slots: Arena<DBuilder>,
    /// Consumed builders, oldest first.
    closed: VecDeque<*mut DBuilder>,
    /// Builders out of the queue, to reuse.
    free: Vec<*mut DBuilder>,
}

/// Builders are touched only through this cell: with the GIL held.
static TABLE: GilCell<Table> = GilCell::new(Table {
    slots: Arena::new(),
    closed: VecDeque::new(),
    free: Vec::new(),
});

/// A debug builder for the inner builder `inner` (0, a failed `New`, stays
/// 0: the inner `Build` reports the MemoryError).
pub(crate) fn open(inner: isize) -> isize {
    if inner == 0 {
        return 0;
    }
    let p = TABLE.with(|t| t.free.pop().or_else(|| t.slots.alloc()));
    let Some(p) = p else {
        handles::fatal("out of memory for debug builders")
    };
    // SAFETY: a slot of the arena out of the queue and the free list: ours
    // alone; GIL held.
    unsafe {
        (*p).inner = inner;
        (*p).state = State::Open;
    }
    p as isize
}

enum Found {
    Open(isize),
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
        let d = unsafe { &*p };
        match d.state {
            State::Open => Found::Open(d.inner),
            State::Consumed => Found::Consumed,
            State::Free => Found::Unknown,
        }
    })
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
        Found::Open(inner) => inner,
        // SAFETY: forwarded contract.
        _ => unsafe { unwrap_invalid(b, at) },
    }
}

/// [`unwrap`] of anything but an open builder: 0 (a failed `New`), or a
/// misuse to report.
///
/// # Safety
/// GIL held.
#[cold]
#[inline(never)]
unsafe fn unwrap_invalid(b: isize, at: &'static Site) -> isize {
    if b == 0 {
        return 0;
    }
    let what = match find(b) {
        Found::Open(inner) => return inner,
        Found::Consumed => {
            "a builder was used after HPy{Tuple,List}Builder_Build or _Cancel consumed it"
        }
        Found::Unknown => {
            "a value that is not a live HPyTupleBuilder/HPyListBuilder was used as one"
        }
    };
    // SAFETY: GIL held.
    unsafe { handles::report_invalid_builder_handle(what, at) };
    0
}

/// Marks `b` consumed (after `Build`/`Cancel`); nothing if it already is.
pub(crate) fn close(b: isize) {
    let max = handles::closed_handles_queue_max_size();
    TABLE.with(|t| {
        let Some(p) = t.slots.find(b as usize) else {
            return;
        };
        // SAFETY: a slot of the arena; GIL held.
        let d = unsafe { &mut *p };
        if d.state != State::Open {
            return;
        }
        d.state = State::Consumed;
        t.closed.push_back(p);
        while t.closed.len() > max {
            let Some(old) = t.closed.pop_front() else {
                break;
            };
            // SAFETY: a slot of the arena; GIL held.
            unsafe { (*old).state = State::Free };
            t.free.push(old);
        }
    })
}

/// The inner context and one of its members.
macro_rules! inner {
    ($m:ident) => {{
        let inner = crate::inner_ctx();
        // SAFETY: the inner context is fully initialised (every member set).
        #[allow(unused_unsafe)]
        let f = unsafe { (*inner).$m.unwrap_unchecked() };
        (inner, f)
    }};
}

/// # Safety
/// Context function (`HPyTupleBuilder_Build`).
pub unsafe extern "C" fn ctx_TupleBuilder_Build(dctx: *mut HPyContext, b: HPyTupleBuilder) -> HPy {
    let _busy = crate::ctx::enter(dctx, site!(ctx_TupleBuilder_Build));
    // SAFETY: GIL held (context function); the token is unwrapped first.
    unsafe {
        let ub = HPyTupleBuilder {
            _tup: unwrap(b._tup, site!(ctx_TupleBuilder_Build, builder)),
        };
        let (inner, f) = inner!(ctx_TupleBuilder_Build);
        let r = f(inner, ub);
        close(b._tup);
        handles::wrap(r)
    }
}

/// # Safety
/// Context function (`HPyTupleBuilder_Cancel`).
pub unsafe extern "C" fn ctx_TupleBuilder_Cancel(dctx: *mut HPyContext, b: HPyTupleBuilder) {
    let _busy = crate::ctx::enter(dctx, site!(ctx_TupleBuilder_Cancel));
    // SAFETY: as in `ctx_TupleBuilder_Build`.
    unsafe {
        let ub = HPyTupleBuilder {
            _tup: unwrap(b._tup, site!(ctx_TupleBuilder_Cancel, builder)),
        };
        let (inner, f) = inner!(ctx_TupleBuilder_Cancel);
        f(inner, ub);
        close(b._tup);
    }
}

/// # Safety
/// Context function (`HPyListBuilder_Build`).
pub unsafe extern "C" fn ctx_ListBuilder_Build(dctx: *mut HPyContext, b: HPyListBuilder) -> HPy {
    let _busy = crate::ctx::enter(dctx, site!(ctx_ListBuilder_Build));
    // SAFETY: as in `ctx_TupleBuilder_Build`.
    unsafe {
        let ub = HPyListBuilder {
            _lst: unwrap(b._lst, site!(ctx_ListBuilder_Build, builder)),
        };
        let (inner, f) = inner!(ctx_ListBuilder_Build);
        let r = f(inner, ub);
        close(b._lst);
        handles::wrap(r)
    }
}

/// # Safety
/// Context function (`HPyListBuilder_Cancel`).
pub unsafe extern "C" fn ctx_ListBuilder_Cancel(dctx: *mut HPyContext, b: HPyListBuilder) {
    let _busy = crate::ctx::enter(dctx, site!(ctx_ListBuilder_Cancel));
    // SAFETY: as in `ctx_TupleBuilder_Build`.
    unsafe {
        let ub = HPyListBuilder {
            _lst: unwrap(b._lst, site!(ctx_ListBuilder_Cancel, builder)),
        };
        let (inner, f) = inner!(ctx_ListBuilder_Cancel);
        f(inner, ub);
        close(b._lst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_close_find() {
        let _gil = crate::gil::test_gil();
        assert_eq!(open(0), 0);
        let b = open(0x1234);
        assert!(matches!(find(b), Found::Open(0x1234)));
        close(b);
        assert!(matches!(find(b), Found::Consumed));
        close(b);
        assert!(matches!(find(0x8), Found::Unknown));
        assert!(matches!(find(b + 1), Found::Unknown));
    }
}
