//! Debug tuple and list builders: each inner builder is wrapped in a
//! [`DBuilder`], so that using a builder after `Build` or `Cancel` consumed
//! it is reported (`on_invalid_builder_handle`) instead of touching a freed
//! container. Consumed builders wait in a queue as long as closed handles do.

use crate::handles;
use hpy_sys::*;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

struct DBuilder {
    /// The inner builder token (`_tup` / `_lst`).
    inner: isize,
    closed: bool,
}

struct Table {
    /// Addresses of live `DBuilder`s (open or queued as consumed).
    known: BTreeSet<usize>,
    closed: VecDeque<*mut DBuilder>,
}

struct Global(Table);
// SAFETY: the pointers are only dereferenced with the mutex locked and the
// GIL held.
unsafe impl Send for Global {}

static TABLE: Mutex<Global> = Mutex::new(Global(Table {
    known: BTreeSet::new(),
    closed: VecDeque::new(),
}));

fn table() -> MutexGuard<'static, Global> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A debug builder for the inner builder `inner` (0, a failed `New`, stays
/// 0: the inner `Build` reports the MemoryError).
pub(crate) fn open(inner: isize) -> isize {
    if inner == 0 {
        return 0;
    }
    let p = Box::into_raw(Box::new(DBuilder {
        inner,
        closed: false,
    }));
    table().0.known.insert(p as usize);
    p as isize
}

enum Found {
    Open(isize),
    Consumed,
    Unknown,
}

fn find(b: isize) -> Found {
    let g = table();
    if !g.0.known.contains(&(b as usize)) {
        return Found::Unknown;
    }
    // SAFETY: `known` holds only live DBuilder allocations; lock held.
    let d = unsafe { &*(b as *const DBuilder) };
    if d.closed {
        Found::Consumed
    } else {
        Found::Open(d.inner)
    }
}

/// The inner builder of `b`; a consumed or unknown builder is reported and
/// gives 0 (which the inner context treats as a failed builder).
///
/// # Safety
/// GIL held.
pub(crate) unsafe fn unwrap(b: isize) -> isize {
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
    unsafe { handles::report_invalid_builder_handle(what) };
    0
}

/// Marks `b` consumed (after `Build`/`Cancel`); nothing if it already is.
pub(crate) fn close(b: isize) {
    let mut g = table();
    let t = &mut g.0;
    if b == 0 || !t.known.contains(&(b as usize)) {
        return;
    }
    let p = b as *mut DBuilder;
    // SAFETY: `known` holds only live DBuilder allocations; lock held.
    let d = unsafe { &mut *p };
    if d.closed {
        return;
    }
    d.closed = true;
    t.closed.push_back(p);
    let max = handles::closed_handles_queue_max_size();
    while t.closed.len() > max {
        let Some(old) = t.closed.pop_front() else {
            break;
        };
        t.known.remove(&(old as usize));
        // SAFETY: out of the table: nothing refers to it any more.
        drop(unsafe { Box::from_raw(old) });
    }
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
    let _busy = crate::ctx::enter(dctx);
    // SAFETY: GIL held (context function); the token is unwrapped first.
    unsafe {
        let ub = HPyTupleBuilder {
            _tup: unwrap(b._tup),
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
    let _busy = crate::ctx::enter(dctx);
    // SAFETY: as in `ctx_TupleBuilder_Build`.
    unsafe {
        let ub = HPyTupleBuilder {
            _tup: unwrap(b._tup),
        };
        let (inner, f) = inner!(ctx_TupleBuilder_Cancel);
        f(inner, ub);
        close(b._tup);
    }
}

/// # Safety
/// Context function (`HPyListBuilder_Build`).
pub unsafe extern "C" fn ctx_ListBuilder_Build(dctx: *mut HPyContext, b: HPyListBuilder) -> HPy {
    let _busy = crate::ctx::enter(dctx);
    // SAFETY: as in `ctx_TupleBuilder_Build`.
    unsafe {
        let ub = HPyListBuilder {
            _lst: unwrap(b._lst),
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
    let _busy = crate::ctx::enter(dctx);
    // SAFETY: as in `ctx_TupleBuilder_Build`.
    unsafe {
        let ub = HPyListBuilder {
            _lst: unwrap(b._lst),
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
        let _queue_size = handles::QUEUE_SIZE_TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        assert_eq!(open(0), 0);
        let b = open(0x1234);
        assert!(matches!(find(b), Found::Open(0x1234)));
        close(b);
        assert!(matches!(find(b), Found::Consumed));
        close(b);
        assert!(matches!(find(0x8), Found::Unknown));
    }
}
