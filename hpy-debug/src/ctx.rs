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
//! and Reenter) asks `PyGILState_Check`.

use crate::gil::GilCell;
use crate::site::Site;
use hpy_sys::HPyContext;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Copies made up front: a saved context stays detectable for at least this
/// many later calls.
pub(crate) const POOL_SIZE: usize = 16;

const MAGIC: u64 = 0x4850_7944_6562_7567; // "HPyDebug"

/// What `ctx->_private` of every debug context points to. `valid` is only
/// changed with the GIL held (an atomic so that it can be shared, used with
/// plain loads and stores: no locked instruction per API call).
pub(crate) struct CtxInfo {
    magic: u64,
    valid: AtomicBool,
    /// The thread the copy's call runs on (0: the main context, no call).
    thread: AtomicUsize,
    /// The call is between `HPy_LeavePythonExecution` and
    /// `HPy_ReenterPythonExecution`.
    left: AtomicBool,
}

struct Pool {
    /// A copy of the main context to make more copies from.
    template: Option<Box<HPyContext>>,
    /// Copies not in use by any call, least recently used first.
    free: VecDeque<*mut HPyContext>,
}

/// The copies are leaked, immutable after creation (but for the flag behind
/// `_private`), and handed out through this cell: with the GIL held.
static POOL: GilCell<Pool> = GilCell::new(Pool {
    template: None,
    free: VecDeque::new(),
});

fn new_info(valid: bool) -> *mut std::ffi::c_void {
    Box::into_raw(Box::new(CtxInfo {
        magic: MAGIC,
        valid: AtomicBool::new(valid),
        thread: AtomicUsize::new(0),
        left: AtomicBool::new(false),
    }))
    .cast()
}

fn new_copy(template: &HPyContext) -> *mut HPyContext {
    let mut copy = Box::new(*template);
    copy._private = new_info(false);
    Box::into_raw(copy)
}

/// Gives the freshly filled main context its identity and makes the first
/// copies (which start invalid).
pub(crate) fn init(main: &mut HPyContext) {
    main._private = new_info(true);
    POOL.with(|pool| {
        for _ in 0..POOL_SIZE {
            pool.free.push_back(new_copy(main));
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
/// cannot be used by anything that function's work re-enters.
pub(crate) struct Busy(&'static CtxInfo);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.valid.store(true, Ordering::Relaxed);
    }
}

/// Checks that API function `at` may run now: the GIL is held and `dctx`
/// may be used (aborting if not), and marks the context busy.
#[inline(always)]
pub(crate) fn enter(dctx: *mut HPyContext, at: &'static Site) -> Busy {
    match info(dctx) {
        // A load and a store, not a swap: the GIL serialises the calls.
        Some(i) if i.valid.load(Ordering::Relaxed) => {
            let on_its_thread = i.thread.load(Ordering::Relaxed) == current_thread();
            if !on_its_thread || i.left.load(Ordering::Relaxed) {
                check_gil(i, at);
            }
            i.valid.store(false, Ordering::Relaxed);
            Busy(i)
        }
        _ => wrong_context(Some(at)),
    }
}

/// `enter` for the two functions that run without the GIL
/// (`HPy_LeavePythonExecution`, `HPy_ReenterPythonExecution`).
#[inline(always)]
pub(crate) fn enter_without_gil(dctx: *mut HPyContext, at: &'static Site) -> Busy {
    match info(dctx) {
        Some(i) if i.valid.load(Ordering::Relaxed) => {
            i.valid.store(false, Ordering::Relaxed);
            Busy(i)
        }
        _ => wrong_context(Some(at)),
    }
}

/// Notes that the call `dctx` belongs to left (or re-entered) Python
/// execution.
pub(crate) fn set_left_python(dctx: *mut HPyContext, left: bool) {
    if let Some(i) = info(dctx) {
        i.left.store(left, Ordering::Relaxed);
    }
}

/// An identity of the current thread, never 0 (where there is none, a
/// value no context records: every call takes the slow check).
#[inline(always)]
fn current_thread() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: pthread_self has no preconditions.
        unsafe { libc::pthread_self() as usize }
    }
    #[cfg(not(unix))]
    {
        usize::MAX
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
    pub(crate) ctx: *mut HPyContext,
    info: &'static CtxInfo,
}

/// A copy of the debug context for one call into the extension.
#[inline]
pub(crate) fn switch() -> CallCtx {
    let ctx = POOL.with(|pool| match pool.free.pop_front() {
        Some(c) => c,
        None => match &pool.template {
            Some(t) => new_copy(t),
            None => wrong_context(None), // no debug context yet: cannot happen
        },
    });
    let Some(info) = info(ctx) else {
        wrong_context(None)
    };
    info.thread.store(current_thread(), Ordering::Relaxed);
    info.left.store(false, Ordering::Relaxed);
    info.valid.store(true, Ordering::Relaxed);
    CallCtx { ctx, info }
}

impl Drop for CallCtx {
    #[inline]
    fn drop(&mut self) {
        self.info.valid.store(false, Ordering::Relaxed);
        POOL.with(|pool| pool.free.push_back(self.ctx));
    }
}
