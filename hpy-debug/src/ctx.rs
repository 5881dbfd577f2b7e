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
//! on the fast path, 0 between calls, and a [`BUSY`] bit), so the usual call
//! costs one compare and one store on entry, and clearing a bit on exit. The
//! thread's key is its thread pointer, one register read (no call: a
//! wrapper keeps fewer values alive across it).

use crate::gil::GilCell;
use crate::site::Site;
use hpy_sys::HPyContext;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Copies made up front: a saved context stays detectable for at least this
/// many later calls.
pub(crate) const POOL_SIZE: usize = 16;

/// (32 bits: compared with one instruction on every call.)
const MAGIC: u32 = 0x4450_7948; // "HPyD"

/// `CtxInfo::state` of a context that may be used but only after the slow
/// checks (the main context; a call that left Python execution).
const SLOW: usize = 1;

/// The bit of `CtxInfo::state` set while a context function runs with the
/// context (thread keys are odd and aligned: bit 1 is free in all of them).
const BUSY: usize = 2;

/// What `ctx->_private` of every debug context points to. The atomics are
/// only changed with the GIL held (atomics so that they can be shared, used
/// with plain loads and stores: no locked instruction per API call).
/// `repr(C)`: the magic number comes first, where `info` reads it behind
/// any context's `_private`.
#[repr(C)]
pub(crate) struct CtxInfo {
    magic: u32,
    /// 0 while the context may not be used (its call is over); else
    /// [`fast_key`] of the thread its call runs on when that call is in
    /// Python execution (one compare lets a call through), else [`SLOW`];
    /// plus [`BUSY`] while a context function runs with it.
    state: AtomicUsize,
    /// The thread the copy's call runs on (0: the main context, no call).
    thread: AtomicUsize,
    /// The call is between `HPy_LeavePythonExecution` and
    /// `HPy_ReenterPythonExecution`.
    left: AtomicBool,
    /// The context this is the `_private` of.
    ctx: *mut HPyContext,
    /// The inner context (read here by every wrapper: the line `state` is on).
    inner: *mut HPyContext,
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
        inner: crate::inner_ctx(),
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
/// makes the context usable again. One pointer: the less a wrapper keeps
/// alive across its inner call, the fewer registers it saves.
pub(crate) struct Busy {
    info: &'static CtxInfo,
}

impl Busy {
    /// The inner context, for the wrapper's call.
    #[inline(always)]
    pub(crate) fn inner(&self) -> *mut HPyContext {
        self.info.inner
    }

    /// Notes that the call the context belongs to left (or re-entered)
    /// Python execution.
    pub(crate) fn set_left_python(&mut self, left: bool) {
        self.info.left.store(left, Ordering::Relaxed);
        let state = self.info.usable_state() | BUSY;
        self.info.state.store(state, Ordering::Relaxed);
    }
}

impl Drop for Busy {
    #[inline(always)]
    fn drop(&mut self) {
        // A load and a store, not a locked RMW: the GIL serialises the calls.
        let state = self.info.state.load(Ordering::Relaxed);
        self.info.state.store(state & !BUSY, Ordering::Relaxed);
    }
}

/// Checks that API function `at` may run now: the GIL is held and `dctx`
/// may be used (aborting if not), and marks the context busy. The usual
/// case (a copy used on its call's thread, in Python execution, not busy)
/// is one compare and one store.
#[inline(always)]
pub(crate) fn enter(dctx: *mut HPyContext, at: &'static Site) -> Busy {
    let Some(i) = info(dctx) else {
        wrong_context(Some(at))
    };
    let key = fast_key(current_thread());
    if i.state.load(Ordering::Relaxed) == key {
        i.state.store(key | BUSY, Ordering::Relaxed);
    } else {
        enter_slow(i, at);
    }
    Busy { info: i }
}

/// `enter` when it needs no more than one compare (see `enter`), else None
/// (nothing changed): the wrappers' fast path, which calls nothing before
/// the inner function.
#[inline(always)]
pub(crate) fn try_enter(dctx: *mut HPyContext) -> Option<Busy> {
    let i = info(dctx)?;
    let key = fast_key(current_thread());
    if i.state.load(Ordering::Relaxed) != key {
        return None;
    }
    i.state.store(key | BUSY, Ordering::Relaxed);
    Some(Busy { info: i })
}

/// `enter` off its fast path: the checks (the context is usable: not
/// between calls, not busy; the GIL is held), then the context marked busy.
#[cold]
#[inline(never)]
fn enter_slow(i: &CtxInfo, at: &'static Site) {
    let state = i.state.load(Ordering::Relaxed);
    if state == 0 || state & BUSY != 0 {
        wrong_context(Some(at))
    }
    check_gil(i, at);
    i.state.store(state | BUSY, Ordering::Relaxed);
}

/// `enter` for the two functions that run without the GIL
/// (`HPy_LeavePythonExecution`, `HPy_ReenterPythonExecution`).
#[inline(always)]
pub(crate) fn enter_without_gil(dctx: *mut HPyContext, at: &'static Site) -> Busy {
    match info(dctx) {
        Some(i) => {
            let state = i.state.load(Ordering::Relaxed);
            if state == 0 || state & BUSY != 0 {
                wrong_context(Some(at))
            }
            i.state.store(state | BUSY, Ordering::Relaxed);
            Busy { info: i }
        }
        None => wrong_context(Some(at)),
    }
}

/// An identity of the current thread, odd and with bit 1 clear (where there
/// is none, a value no context records: every call takes the slow check).
/// Where the platform's TLS ABI keeps the thread pointer in a register, it
/// is that register (thread control blocks are aligned far beyond 4 bytes):
/// one instruction, no call.
#[inline(always)]
fn current_thread() -> usize {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        let tp: usize;
        // SAFETY: the x86-64 ELF TLS ABI (variant II) requires the word at
        // %fs:0 to hold the thread control block's own address, on every
        // thread of a Linux process (libc sets it up before any code of ours
        // can run on a thread); reading it has no side effects.
        unsafe {
            std::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) tp,
                options(nostack, readonly, preserves_flags, pure))
        };
        tp | 1
    }
    #[cfg(all(target_arch = "aarch64", target_os = "linux"))]
    {
        let tp: usize;
        // SAFETY: TPIDR_EL0 is the thread pointer register, readable from
        // user space and set per thread by libc; reading it has no effects.
        unsafe {
            std::arch::asm!("mrs {}, tpidr_el0", out(reg) tp,
                options(nomem, nostack, preserves_flags, pure))
        };
        tp | 1
    }
    #[cfg(all(
        unix,
        not(all(
            any(target_arch = "x86_64", target_arch = "aarch64"),
            target_os = "linux"
        ))
    ))]
    {
        // SAFETY: pthread_self has no preconditions.
        (unsafe { libc::pthread_self() } as usize) << 2 | 1
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
            // ...busy while a context function runs, usable after.
            let _busy = enter(c, at);
            assert_eq!(state(c), me | BUSY);
        }
        assert_eq!(state(c), me);
        {
            let mut busy = enter(c, at);
            busy.set_left_python(true);
            assert_eq!(state(c), SLOW | BUSY);
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
