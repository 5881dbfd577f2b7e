//! Context identity checks: an extension must use the context it was handed,
//! only for the duration of that call.
//!
//! The main debug context (the one the loader gives the extension) is used
//! by its trampolines only. Each call into the extension runs with a copy of
//! it taken from a pool: valid while that call runs, returned to the back of
//! the pool afterwards (so it is handed out again only after the others).
//! Each context function also marks its context busy while it runs, so a
//! context saved in a global and used later, or used from code its own call
//! re-entered, is caught: "Wrong HPy Context!" and abort. Every active call
//! has its own copy (the pool grows with nesting), so nesting and threads
//! never make a correct use look wrong.
//!
//! Every context function but `HPy_LeavePythonExecution` and
//! `HPy_ReenterPythonExecution` also needs the GIL, so a call between Leave
//! and Reenter, or from a thread that never took the GIL, is a fatal error
//! naming the function. Cheaply: a copy records the thread its call runs on
//! (which holds the GIL then) and whether that call left Python execution;
//! a call from that thread, not between Leave and Reenter, needs no more.
//! Anything else (another thread, the main context, a call between Leave
//! and Reenter) asks `PyGILState_Check`. Both checks are one word per
//! context (`CtxInfo::state`: that thread's key while the context is usable
//! on the fast path, 0 while busy or between calls), so the usual call costs
//! one compare, one store on entry and one on exit.

use crate::gil::GilCell;
use crate::site::Site;
use hpy_sys::HPyContext;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Copies made up front: a saved context stays detectable for at least this
/// many later calls.
pub(crate) const POOL_SIZE: usize = 16;

const MAGIC: u64 = 0x4850_7944_6562_7567; // "HPyDebug"

/// `CtxInfo::state` of a context that may be used but only after the slow
/// checks (the main context; a call that left Python execution).
const SLOW: usize = 1;

/// What `ctx->_private` of every debug context points to. The atomics are
/// only changed with the GIL held (atomics so that they can be shared, used
/// with plain loads and stores: no locked instruction per API call).
pub(crate) struct CtxInfo {
    magic: u64,
    /// 0 while the context may not be used (its call is over, or it is
    /// busy in a context function); else [`fast_key`] of the thread its
    /// call runs on when that call is in Python execution (one compare lets
    /// a call through), else [`SLOW`].
    state: AtomicUsize,
    /// The thread the copy's call runs on (0: the main context, no call).
    thread: AtomicUsize,
    /// The call is between `HPy_LeavePythonExecution` and
    /// `HPy_ReenterPythonExecution`.
    left: AtomicBool,
    /// The context this is the `_private` of.
    ctx: *mut HPyContext,
    /// The next copy in the pool (touched only through `POOL`).
    next: Cell<*const CtxInfo>,
}

impl CtxInfo {
    /// The state a usable context has, from its thread and `left`.
    fn usable_state(&self) -> usize {
        let thread = self.thread.load(Ordering::Relaxed);
        if thread == 0 || self.left.load(Ordering::Relaxed) {
            SLOW
        } else {
            fast_key(thread)
        }
    }
}

/// Copies not in use by any call, least recently used first: an intrusive
/// FIFO through `CtxInfo::next` (popping and pushing are a few stores).
struct Pool {
    /// A copy of the main context to make more copies from.
    template: Option<Box<HPyContext>>,
    head: *const CtxInfo,
    tail: *const CtxInfo,
}

impl Pool {
    fn push_back(&mut self, i: &'static CtxInfo) {
        i.next.set(std::ptr::null());
        if self.tail.is_null() {
            self.head = i;
        } else {
            // SAFETY: pool members are leaked `CtxInfo`s.
            unsafe { (*self.tail).next.set(i) };
        }
        self.tail = i;
    }

    fn pop_front(&mut self) -> Option<&'static CtxInfo> {
        if self.head.is_null() {
            return None;
        }
        // SAFETY: pool members are leaked `CtxInfo`s.
        let i: &'static CtxInfo = unsafe { &*self.head };
        self.head = i.next.get();
        if self.head.is_null() {
            self.tail = std::ptr::null();
        }
        Some(i)
    }
}

/// The copies are leaked, immutable after creation (but for the state behind
/// `_private`), and handed out through this cell: with the GIL held.
static POOL: GilCell<Pool> = GilCell::new(Pool {
    template: None,
    head: std::ptr::null(),
    tail: std::ptr::null(),
});

fn new_info(ctx: *mut HPyContext, state: usize) -> &'static CtxInfo {
    Box::leak(Box::new(CtxInfo {
        magic: MAGIC,
        state: AtomicUsize::new(state),
        thread: AtomicUsize::new(0),
        left: AtomicBool::new(false),
        ctx,
        next: Cell::new(std::ptr::null()),
    }))
}

fn new_copy(template: &HPyContext) -> &'static CtxInfo {
    let copy = Box::into_raw(Box::new(*template));
    let info = new_info(copy, 0);
    // SAFETY: just allocated, not shared yet.
    unsafe { (*copy)._private = (info as *const CtxInfo).cast_mut().cast() };
    info
}

/// Gives the freshly filled main context its identity and makes the first
/// copies (which start unusable).
pub(crate) fn init(main: &mut HPyContext) {
    main._private = (new_info(main, SLOW) as *const CtxInfo).cast_mut().cast();
    POOL.with(|pool| {
        for _ in 0..POOL_SIZE {
            pool.push_back(new_copy(main));
        }
        pool.template = Some(Box::new(*main));
    })
}

/// True for the main debug context and its copies.
pub(crate) fn is_debug_ctx(ctx: *mut HPyContext) -> bool {
    info(ctx).is_some()
}

#[inline(always)]
fn info(ctx: *mut HPyContext) -> Option<&'static CtxInfo> {
    if ctx.is_null() {
        return None;
    }
    // SAFETY: `ctx` is a context pointer handed to us by an extension (any
    // HPyContext starts with `name`, `_private`); debug contexts' `_private`
    // is a leaked `CtxInfo`, checked by its magic number.
    unsafe {
        let p = (*ctx)._private as *const CtxInfo;
        if p.is_null() || (*p).magic != MAGIC {
            None
        } else {
            Some(&*p)
        }
    }
}

#[cold]
#[inline(never)]
fn wrong_context(at: Option<&'static Site>) -> ! {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let call = at.map(|s| format!(" (in {})", s.api)).unwrap_or_default();
    let _ = writeln!(
        err,
        "Error: Wrong HPy Context!{call}\nAn HPyContext is valid only inside the call that \
         received it (it must not be saved in a global variable and used later, nor \
         used by code that the call re-entered): use the ctx argument of the current call."
    );
    if let Some(trace) = crate::stacktrace::current(crate::stacktrace::DEFAULT_LIMIT) {
        let _ = writeln!(err, "Current stack:\n{trace}");
    }
    let _ = err.flush();
    std::process::abort()
}

/// While alive, the context a context function was called with is busy: it
/// cannot be used by anything that function's work re-enters. Dropping it
/// makes the context usable again.
pub(crate) struct Busy {
    info: &'static CtxInfo,
    /// The state to restore.
    state: usize,
}

impl Busy {
    /// Notes that the call the context belongs to left (or re-entered)
    /// Python execution.
    pub(crate) fn set_left_python(&mut self, left: bool) {
        self.info.left.store(left, Ordering::Relaxed);
        self.state = self.info.usable_state();
    }
}

impl Drop for Busy {
    #[inline(always)]
    fn drop(&mut self) {
        self.info.state.store(self.state, Ordering::Relaxed);
    }
}

/// Checks that API function `at` may run now: the GIL is held and `dctx`
/// may be used (aborting if not), and marks the context busy. The usual
/// case (a copy used on its call's thread, in Python execution) is one
/// compare.
#[inline(always)]
pub(crate) fn enter(dctx: *mut HPyContext, at: &'static Site) -> Busy {
    let Some(i) = info(dctx) else {
        wrong_context(Some(at))
    };
    let state = i.state.load(Ordering::Relaxed);
    if state != fast_key(current_thread()) {
        enter_slow(i, state, at);
    }
    // A load and a store, not a swap: the GIL serialises the calls.
    i.state.store(0, Ordering::Relaxed);
    Busy { info: i, state }
}

/// The checks of `enter` off its fast path: the context is usable, and the
/// GIL held.
#[cold]
#[inline(never)]
fn enter_slow(i: &CtxInfo, state: usize, at: &'static Site) {
    if state == 0 {
        wrong_context(Some(at))
    }
    check_gil(i, at);
}

/// `enter` for the two functions that run without the GIL
/// (`HPy_LeavePythonExecution`, `HPy_ReenterPythonExecution`).
#[inline(always)]
pub(crate) fn enter_without_gil(dctx: *mut HPyContext, at: &'static Site) -> Busy {
    match info(dctx) {
        Some(i) if i.state.load(Ordering::Relaxed) != 0 => {
            let state = i.state.load(Ordering::Relaxed);
            i.state.store(0, Ordering::Relaxed);
            Busy { info: i, state }
        }
        _ => wrong_context(Some(at)),
    }
}

/// An identity of the current thread, never 0 (where there is none, a
/// value no context records: every call takes the slow check).
#[inline(always)]
fn current_thread() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: pthread_self has no preconditions.
        unsafe { libc::pthread_self() as usize | 1 }
    }
    #[cfg(not(unix))]
    {
        usize::MAX
    }
}

/// The state of a usable copy whose call runs on `thread` (a value of
/// [`current_thread`]) in Python execution: what `enter` compares with.
#[inline(always)]
fn fast_key(thread: usize) -> usize {
    if cfg!(unix) {
        thread
    } else {
        SLOW
    }
}

/// The GIL check off the fast path: fatal if this thread does not hold it.
#[cold]
#[inline(never)]
fn check_gil(i: &CtxInfo, at: &'static Site) {
    // SAFETY: PyGILState_Check has no preconditions (any thread, GIL or not).
    if unsafe { pyo3_ffi::PyGILState_Check() } != 0 {
        return;
    }
    let how =
        if i.left.load(Ordering::Relaxed) && i.thread.load(Ordering::Relaxed) == current_thread() {
            "between HPy_LeavePythonExecution and HPy_ReenterPythonExecution"
        } else {
            "from a thread that does not hold the GIL"
        };
    crate::handles::fatal(&format!(
        "{}: called without the GIL ({how}); only HPy_ReenterPythonExecution may be \
         called there",
        at.api
    ))
}

/// The context one call into the extension runs with (valid meanwhile).
/// Dropping it invalidates the copy and returns it to the pool.
pub(crate) struct CallCtx {
    info: &'static CtxInfo,
}

impl CallCtx {
    #[inline(always)]
    pub(crate) fn ctx(&self) -> *mut HPyContext {
        self.info.ctx
    }
}

/// A copy of the debug context for one call into the extension.
#[inline(always)]
pub(crate) fn switch() -> CallCtx {
    let info = POOL.with(|pool| match pool.pop_front() {
        Some(i) => i,
        None => more_copies(pool),
    });
    let thread = current_thread();
    info.thread.store(thread, Ordering::Relaxed);
    info.left.store(false, Ordering::Relaxed);
    info.state.store(fast_key(thread), Ordering::Relaxed);
    CallCtx { info }
}

/// A new copy, when every copy is in use (calls nested deeper than ever).
#[cold]
#[inline(never)]
fn more_copies(pool: &mut Pool) -> &'static CtxInfo {
    match &pool.template {
        Some(t) => new_copy(t),
        None => wrong_context(None), // no debug context yet: cannot happen
    }
}

impl Drop for CallCtx {
    #[inline(always)]
    fn drop(&mut self) {
        self.info.state.store(0, Ordering::Relaxed);
        POOL.with(|pool| pool.push_back(self.info));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(ctx: *mut HPyContext) -> usize {
        info(ctx).unwrap().state.load(Ordering::Relaxed)
    }

    // One test: the pool is process-wide.
    #[test]
    fn state_word_follows_calls_busy_and_leave() {
        let _gil = crate::gil::test_gil();
        // SAFETY: HPyContext is plain data; all-zero is valid for it.
        let main: &'static mut HPyContext = Box::leak(Box::new(unsafe { std::mem::zeroed() }));
        init(main);
        assert!(is_debug_ctx(main) && !is_debug_ctx(std::ptr::null_mut()));
        assert_eq!(state(main), SLOW);
        let me = fast_key(current_thread());
        // A call's copy is usable on this thread at once...
        let call = switch();
        let c = call.ctx();
        assert_ne!(c, main as *mut HPyContext);
        assert_eq!(state(c), me);
        let at = crate::site::site!(ctx_Dup);
        {
            // ...busy (0) while a context function runs, usable after.
            let _busy = enter(c, at);
            assert_eq!(state(c), 0);
        }
        assert_eq!(state(c), me);
        {
            let mut busy = enter(c, at);
            busy.set_left_python(true);
        }
        assert_eq!(
            state(c),
            SLOW,
            "after Leave: every call takes the slow path"
        );
        {
            let mut busy = enter_without_gil(c, at);
            busy.set_left_python(false);
        }
        assert_eq!(state(c), me);
        // A nested call gets another copy; both end unusable, and the pool
        // hands them out again only after the others (FIFO).
        let inner_call = switch();
        let c2 = inner_call.ctx();
        assert_ne!(c2, c);
        drop(inner_call);
        drop(call);
        assert_eq!((state(c), state(c2)), (0, 0));
        let later: Vec<CallCtx> = (0..POOL_SIZE).map(|_| switch()).collect();
        let seen: Vec<*mut HPyContext> = later.iter().map(CallCtx::ctx).collect();
        assert_eq!(&seen[POOL_SIZE - 2..], &[c2, c]);
        assert!(seen[..POOL_SIZE - 2].iter().all(|&x| x != c && x != c2));
    }
}
