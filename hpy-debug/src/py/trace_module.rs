//! `hpy.trace._trace` (`hpy.universal._trace`, re-exported by
//! `python/hpy/trace`): the trace context's counters and trace functions.

use super::PyRef;
use crate::trace::{self, Hook};
use hpy_core::prelude::*;

/// A dict `{member name: value}`, in context order.
fn counter_dict(
    ctx: Context<'_>,
    values: impl Iterator<Item = (&'static str, u64)>,
) -> HPyResult<Handle<'_>> {
    let d = hpy_core::new_dict(ctx)?;
    for (name, value) in values {
        d.set_item(name, value)?;
    }
    Ok(d)
}

/// A dict {name: number of calls} of every HPy API function called through
/// the trace context (names as in the context, e.g. 'ctx_Add').
#[hpy_def]
fn get_call_counts(ctx: Context<'_>) -> HPyResult<Handle<'_>> {
    counter_dict(ctx, trace::call_counts())
}

/// A dict {name: total time in nanoseconds} spent in every HPy API function
/// called through the trace context (trace functions excluded).
#[hpy_def]
fn get_durations(ctx: Context<'_>) -> HPyResult<Handle<'_>> {
    counter_dict(ctx, trace::durations())
}

/// One argument of `set_trace_functions`.
enum TraceFunction<'c> {
    /// Not given: the function stays as it is.
    Unchanged,
    /// `None`: no function.
    Clear,
    /// Anything else (checked to be callable before anything changes).
    Set(Handle<'c>),
}

impl<'c> FromHPy<'c> for TraceFunction<'c> {
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        Ok(if obj.is_none() {
            TraceFunction::Clear
        } else {
            TraceFunction::Set(obj.dup())
        })
    }
}

impl TraceFunction<'_> {
    fn check(&self, keyword: &str) -> HPyResult<()> {
        match self {
            TraceFunction::Set(f) if !f.is_callable() => Err(exc::TypeError::new_err(format!(
                "Expected a callable object or None for {keyword}, got '{}'",
                f.type_name()
            ))),
            _ => Ok(()),
        }
    }

    /// What to store: `None` leaves the function unchanged, else the
    /// object (NULL: no function), taken as a CPython reference.
    fn object(&self) -> HPyResult<Option<PyRef>> {
        match self {
            TraceFunction::Unchanged => Ok(None),
            TraceFunction::Clear => Ok(Some(PyRef::NULL)),
            TraceFunction::Set(f) => PyRef::of(f).map(Some),
        }
    }
}

/// Sets the functions called with the API function's name when an HPy API
/// function is entered or exited. None removes a function; an argument not
/// given leaves it unchanged. An exception raised by one of them is a fatal
/// error.
#[hpy_def(signature = (on_enter = TraceFunction::Unchanged, on_exit = TraceFunction::Unchanged))]
fn set_trace_functions(on_enter: TraceFunction<'_>, on_exit: TraceFunction<'_>) -> HPyResult<()> {
    // both are checked and converted before either is changed
    on_enter.check("on_enter")?;
    on_exit.check("on_exit")?;
    let (on_enter, on_exit) = (on_enter.object()?, on_exit.object()?);
    for (hook, f) in [(Hook::OnEnter, on_enter), (Hook::OnExit, on_exit)] {
        if let Some(f) = f {
            // SAFETY: called from Python (interpreter lock held); NULL or a
            // live callable, of which the trace context takes a reference.
            unsafe { trace::set_trace_function(hook, f.as_ptr()) };
        }
    }
    Ok(())
}

/// Resolution of the clock used for the durations, in Hertz.
#[hpy_def]
fn get_frequency() -> u64 {
    // The trace context times calls with `std::time::Instant`, which is
    // CLOCK_MONOTONIC on the platforms we support.
    let mut res = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `res` is a valid out-pointer.
    let ok = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut res) } == 0;
    let res_ns = (res.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(res.tv_nsec as u64);
    if ok && res_ns > 0 {
        1_000_000_000 / res_ns
    } else {
        1_000_000_000
    }
}

/// HPy trace mode: call counts, durations and trace functions of the trace
/// context.
#[hpy_module]
mod _trace {
    pub use super::{get_call_counts, get_durations, get_frequency, set_trace_functions};
}
