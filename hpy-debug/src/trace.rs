//! The HPy trace context: wraps an inner context (the universal one) and, for
//! every API call, counts it, times it on the monotonic clock (in
//! nanoseconds, like upstream's `get_durations`) and calls the
//! optional Python `on_enter`/`on_exit` functions with the member's name.
//!
//! Unlike the debug context it does not translate handles: arguments and
//! results pass through unchanged. The wrappers are generated from the context
//! declaration (`for_each_ctx_function!`); two members are handed over from the
//! inner context untouched (see [`PASSED_THROUGH`]). All state is process-wide.
//! Its Python face, `hpy.trace._trace`, is hpy-universal's `py_trace.rs`.

use hpy_sys::{HPyContext, CTX_MEMBER_NAMES};
use pyo3_ffi as ffi;
use std::ffi::CStr;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// `ctx->name` of the trace context.
pub const NAME: &CStr = c"HPy Trace Mode ABI (hpy-rs)";

macro_rules! passed_through {
    ($($name:ident),* $(,)?) => {
        /// Members the trace context takes from the inner context as they
        /// are, like upstream: `ctx_FatalError` never returns (there is no
        /// exit to time), and the trampoline dispatch runs the extension's
        /// own function, whose API calls are traced one by one (timing the
        /// dispatch would count them twice). They still appear, with zero
        /// calls, in [`call_counts`] and [`durations`].
        pub const PASSED_THROUGH: &[&str] = &[$(stringify!($name)),*];

        fn take_passed_through(ctx: &mut HPyContext, inner: &HPyContext) {
            $( ctx.$name = inner.$name; )*
        }
    };
}

passed_through!(ctx_FatalError, ctx_CallRealFunctionFromTrampoline);

const NMEMBERS: usize = CTX_MEMBER_NAMES.len();

/// Indexed by member position in the context (the X-macros' index), so a
/// wrapper finds its counters without a lookup; handle slots stay at zero.
/// Updated with a plain load and store (no locked instruction): API calls
/// hold the GIL, which serialises them; only the two members that run
/// without it (`LeavePythonExecution`, `ReenterPythonExecution`) could lose
/// a count to a race, never corrupt one.
static CALL_COUNTS: [AtomicU64; NMEMBERS] = [const { AtomicU64::new(0) }; NMEMBERS];
static DURATIONS_NS: [AtomicU64; NMEMBERS] = [const { AtomicU64::new(0) }; NMEMBERS];

/// Strong references to the Python callables, or NULL. Written with the GIL
/// held; read without it only to skip the slow path.
static ON_ENTER: AtomicPtr<ffi::PyObject> = AtomicPtr::new(null_mut());
static ON_EXIT: AtomicPtr<ffi::PyObject> = AtomicPtr::new(null_mut());

static TRACE_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());
static INNER_CTX: AtomicPtr<HPyContext> = AtomicPtr::new(null_mut());

macro_rules! function_table {
    ($(($idx:literal, $name:ident, $params:tt -> $ret:ty)),* $(,)?) => {
        [$(($idx, stringify!($name))),*]
    };
}

/// Every function member as (index in the context, name), in context order.
const FUNCTIONS: &[(usize, &str)] = &hpy_sys::for_each_ctx_function!(function_table);

/// The number of calls of every function member since the process started,
/// keyed by member name (`"ctx_Add"`).
pub fn call_counts() -> impl Iterator<Item = (&'static str, u64)> {
    FUNCTIONS
        .iter()
        .map(|&(i, name)| (name, CALL_COUNTS[i].load(Ordering::Relaxed)))
}

/// The total time spent in every function member, in nanoseconds, keyed by
/// member name. Only the inner call is timed, not the trace functions.
pub fn durations() -> impl Iterator<Item = (&'static str, u64)> {
    FUNCTIONS
        .iter()
        .map(|&(i, name)| (name, DURATIONS_NS[i].load(Ordering::Relaxed)))
}

/// Which trace function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// Called before the inner function, after the call is counted.
    OnEnter,
    /// Called after the inner function returned and its duration is recorded.
    OnExit,
}

impl Hook {
    fn slot(self) -> &'static AtomicPtr<ffi::PyObject> {
        match self {
            Hook::OnEnter => &ON_ENTER,
            Hook::OnExit => &ON_EXIT,
        }
    }

    fn fatal_message(self) -> &'static str {
        match self {
            Hook::OnEnter => "error when executing on-enter trace function",
            Hook::OnExit => "error when executing on-exit trace function",
        }
    }
}

/// Sets (`func` non-NULL: a new strong reference is taken) or clears (NULL)
/// a trace function.
///
/// # Safety
/// GIL held; `func` is NULL or a live object (the caller checks it is callable).
pub unsafe fn set_trace_function(hook: Hook, func: *mut ffi::PyObject) {
    // SAFETY: GIL held; `func` is NULL or valid.
    unsafe { ffi::Py_XINCREF(func) };
    let old = hook.slot().swap(func, Ordering::AcqRel);
    // SAFETY: `old` is the strong reference the slot held (or NULL); it is
    // released after the slot no longer points to it.
    unsafe { ffi::Py_XDECREF(old) };
}

macro_rules! fill_handles {
    ($(($idx:literal, $name:ident)),* $(,)?) => {
        |ctx: &mut HPyContext, inner: &HPyContext| { $( ctx.$name = inner.$name; )* }
    };
}

macro_rules! fill_functions {
    ($(($idx:literal, $name:ident, $params:tt -> $ret:ty)),* $(,)?) => {
        |ctx: &mut HPyContext| { $( ctx.$name = Some(wrappers::$name); )* }
    };
}

/// The process-wide trace context wrapping `inner` (built on first use, never
/// freed; later calls return the same context and ignore `inner`).
///
/// # Safety
/// GIL held; `inner` is a fully initialised context that lives forever.
pub unsafe fn trace_ctx(inner: *mut HPyContext) -> *mut HPyContext {
    let p = TRACE_CTX.load(Ordering::Acquire);
    if !p.is_null() {
        return p;
    }
    INNER_CTX.store(inner, Ordering::Release);
    // SAFETY: HPyContext is plain data (pointers, ints, Option<fn>); all-zero
    // is valid for it and every member is assigned below.
    let mut ctx: Box<HPyContext> = Box::new(unsafe { std::mem::zeroed() });
    ctx.name = NAME.as_ptr();
    ctx._private = null_mut();
    ctx.abi_version = hpy_sys::HPY_ABI_VERSION as i32;
    // SAFETY: the caller guarantees `inner` is valid.
    let inner_ref = unsafe { &*inner };
    (hpy_sys::for_each_ctx_handle!(fill_handles))(&mut ctx, inner_ref);
    (hpy_sys::for_each_ctx_function!(fill_functions))(&mut ctx);
    take_passed_through(&mut ctx, inner_ref);
    let p = Box::into_raw(ctx);
    TRACE_CTX.store(p, Ordering::Release);
    p
}

/// True if `ctx` is the trace context.
pub fn is_trace_ctx(ctx: *mut HPyContext) -> bool {
    !ctx.is_null() && TRACE_CTX.load(Ordering::Acquire) == ctx
}

/// Adds `n` to a counter (see [`CALL_COUNTS`] on why not `fetch_add`).
#[inline(always)]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

/// The monotonic clock in nanoseconds (`CLOCK_MONOTONIC`, read through the
/// vDSO: no system call, and none of `Instant`'s conversions).
#[cfg(unix)]
#[inline(always)]
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-parameter; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

#[cfg(not(unix))]
#[inline(always)]
fn now_ns() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// Counts the call and runs `on_enter` if set.
#[inline(always)]
fn enter(idx: usize) {
    bump(&CALL_COUNTS[idx], 1);
    if !ON_ENTER.load(Ordering::Relaxed).is_null() {
        call_hook(Hook::OnEnter, idx);
    }
}

/// Records the duration since `start` (from [`now_ns`]) and runs `on_exit`
/// if set.
#[inline(always)]
fn exit(idx: usize, start: u64) {
    bump(&DURATIONS_NS[idx], now_ns().wrapping_sub(start));
    if !ON_EXIT.load(Ordering::Relaxed).is_null() {
        call_hook(Hook::OnExit, idx);
    }
}

/// Calls the trace function `hook` with the member's name. The GIL is taken
/// for the call, because `ctx_ReenterPythonExecution` enters and
/// `ctx_LeavePythonExecution` exits without it; a pending exception is kept
/// aside so that the Python code runs with a clean error state. An exception
/// raised by the trace function cannot be reported through an arbitrary API
/// call, so, like upstream, it is fatal (Python prints it first).
#[cold]
#[inline(never)]
#[allow(deprecated)] // PyErr_Fetch/Restore (3.12 deprecates them; the replacement is 3.12+)
fn call_hook(hook: Hook, idx: usize) {
    // SAFETY: called from a context function, i.e. by a thread that Python
    // knows (with or without the GIL, see above), so PyGILState_Ensure can
    // take the GIL; the callable is read and a strong reference taken with
    // the GIL held; the pending exception is restored before releasing it.
    unsafe {
        let gil = ffi::PyGILState_Ensure();
        let func = hook.slot().load(Ordering::Acquire);
        if !func.is_null() {
            ffi::Py_INCREF(func);
            let (mut t, mut v, mut tb) = (null_mut(), null_mut(), null_mut());
            ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
            let name = CTX_MEMBER_NAMES[idx];
            let arg = ffi::PyUnicode_FromStringAndSize(
                name.as_ptr().cast(),
                name.len() as ffi::Py_ssize_t,
            );
            let res: *mut ffi::PyObject = if arg.is_null() {
                null_mut()
            } else {
                hpy_cpython::compat::call_one_arg(func.cast(), arg.cast()).cast()
            };
            ffi::Py_XDECREF(arg);
            ffi::Py_DECREF(func);
            if res.is_null() {
                let msg = format!("{} (while tracing {name})\0", hook.fatal_message());
                ffi::Py_FatalError(msg.as_ptr().cast());
            }
            ffi::Py_DECREF(res);
            ffi::PyErr_Restore(t, v, tb);
        }
        ffi::PyGILState_Release(gil);
    }
}

/// Reached only if the inner context has an empty slot, which a context built
/// from the same declaration cannot have.
#[cold]
fn missing(name: &str) -> ! {
    let msg = format!("hpy-rs trace context: the inner context has no {name}\0");
    // SAFETY: NUL-terminated message; does not return.
    unsafe { ffi::Py_FatalError(msg.as_ptr().cast()) }
}

/// One wrapper per function member: count, time, forward to the inner
/// context with the same arguments, report.
mod wrappers {
    use super::{enter, exit, missing, now_ns, INNER_CTX};
    use hpy_sys::*;
    use std::sync::atomic::Ordering;

    macro_rules! wrappers {
        ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => { $(
            pub(crate) unsafe extern "C" fn $name(_tctx: *mut HPyContext, $($p: $t),*) -> $ret {
                let inner = INNER_CTX.load(Ordering::Relaxed);
                // SAFETY: the trace context only exists once `trace_ctx` has
                // stored the inner context, which lives forever.
                let Some(f) = (unsafe { (*inner).$name }) else { missing(stringify!($name)) };
                enter($idx);
                let start = now_ns();
                // SAFETY: called by an extension through the trace context
                // with that member's C contract; the inner member gets the
                // very same arguments (handles are shared by both contexts).
                let r = unsafe { f(inner, $($p),*) };
                exit($idx, start);
                r
            }
        )* };
    }

    hpy_sys::for_each_ctx_function!(wrappers);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_member_is_listed_once_by_name() {
        assert_eq!(FUNCTIONS.len(), hpy_sys::CTX_FUNCTION_NAMES.len());
        for (&(i, name), expected) in FUNCTIONS.iter().zip(hpy_sys::CTX_FUNCTION_NAMES) {
            assert_eq!(name, expected);
            assert_eq!(CTX_MEMBER_NAMES[i], name);
        }
        for &name in PASSED_THROUGH {
            assert!(FUNCTIONS.iter().any(|&(_, n)| n == name), "{name}");
        }
    }

    #[test]
    fn counters_start_at_zero_and_cover_every_function() {
        assert!(call_counts().all(|(_, n)| n == 0));
        assert_eq!(durations().count(), hpy_sys::CTX_FUNCTION_NAMES.len());
        assert!(call_counts().any(|(n, _)| n == "ctx_Add"));
    }
}
