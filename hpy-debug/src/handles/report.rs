//! Reporting: invalid handles and builders (the `on_invalid_*` callbacks, or
//! a fatal error with the stacks involved), and the Python-side views of
//! slots (`HandleRef`, the open and closed lists) that `DebugHandle`'s repr
//! and the leak reports of `hpy.debug` are made of.

use super::queue::{close, List};
use super::table::{slot_of, with_state, Slot, State, Tag};
use crate::site::Site;
use crate::stacktrace::{self, StackTrace};
use hpy_sys::HPy;
use pyo3_ffi as ffi;
use std::ptr::NonNull;

/// Ways to misuse a handle.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Misuse {
    /// Used or closed after it was closed.
    Closed,
    /// Not a handle we know: closed long ago, or never a handle.
    Unknown,
    /// A context constant (`ctx->h_None`, ...) closed, e.g. returned without
    /// `HPy_Dup`.
    ClosedConstant,
}

/// Calls the `on_invalid_handle` callback, or prints what happened (the API
/// function and argument `at`, where the handle was opened if stack traces
/// are on, where it was misused) and aborts the process when none is set.
///
/// # Safety
/// GIL held.
#[cold]
pub(crate) unsafe fn report_invalid_handle(dh: HPy, what: Misuse, at: &'static Site) {
    let (cb, alloc_trace) = with_state(|st| {
        let alloc = slot_of(st, dh).and_then(|p| {
            // SAFETY: slots in the table are live.
            unsafe { &*p }.trace().map(StackTrace::format)
        });
        (st.on_invalid_handle, alloc)
    });
    if cb != 0 {
        // SAFETY: GIL held; `cb` is kept alive by the state.
        unsafe { call_callback(cb) };
        return;
    }
    let detail = match what {
        Misuse::Closed => format!("handle {:#x} was used after it was closed", dh._i),
        Misuse::Unknown => format!(
            "{:#x} is not a handle of the debug context (closed long ago, or never a handle)",
            dh._i
        ),
        Misuse::ClosedConstant => String::from(
            "a context constant (ctx->h_None, ctx->h_True, ...) was closed; a function that \
             returns one must return HPy_Dup(ctx, ctx->h_...) instead",
        ),
    };
    let mut report = format!("HPy debug mode: {}: {detail}\n", at.describe());
    match alloc_trace {
        Some(t) => report.push_str(&format!("The handle was opened at:\n{t}\n")),
        None if what == Misuse::Closed => {
            report.push_str(&format!("({})\n", stack_trace_hint()));
        }
        None => {}
    }
    eprint!("{report}");
    misused_at();
    // SAFETY: NUL-terminated message; does not return.
    unsafe { ffi::Py_FatalError(c"Invalid usage of already closed handle".as_ptr()) }
}

/// `HPy_NULL` given where argument `at` requires a handle: fatal (the inner
/// function would crash on it).
#[cold]
#[inline(never)]
pub(crate) fn null_handle(at: &'static Site) -> ! {
    fatal(&format!(
        "{}: HPy_NULL where a handle is required",
        at.describe()
    ))
}

/// A NULL `const char *` given where argument `at` requires a string.
#[cold]
#[inline(never)]
pub(crate) fn null_string(at: &'static Site) -> ! {
    fatal(&format!(
        "{}: NULL where a string is required",
        at.describe()
    ))
}

/// Prints the C stack of the misuse being reported (our own frames left
/// out).
fn misused_at() {
    if let Some(t) = stacktrace::current(stacktrace::DEFAULT_LIMIT) {
        eprintln!("Invalid use at:\n{t}");
    }
}

/// Calls the `on_invalid_builder_handle` callback, or aborts when none is set.
///
/// # Safety
/// GIL held.
#[cold]
pub(crate) unsafe fn report_invalid_builder_handle(what: &str, at: &'static Site) {
    let cb = with_state(|st| st.on_invalid_builder_handle);
    if cb != 0 {
        // SAFETY: GIL held; `cb` is kept alive by the state.
        unsafe { call_callback(cb) };
        return;
    }
    eprintln!("HPy debug mode: {}: {what}", at.describe());
    misused_at();
    // SAFETY: NUL-terminated message; does not return.
    unsafe { ffi::Py_FatalError(c"Invalid usage of already closed builder".as_ptr()) }
}

/// Aborts with `msg` (prefixed with "HPy debug mode: ") after the C stack,
/// for misuses that have no callback. `msg` names the API function.
#[cold]
pub(crate) fn fatal(msg: &str) -> ! {
    eprintln!("HPy debug mode: {msg}");
    misused_at();
    let c = std::ffi::CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: NUL-terminated message; does not return.
    unsafe { ffi::Py_FatalError(c.as_ptr()) }
}

/// Runs a report callback; it gets no arguments, its errors are printed,
/// and an exception pending in the caller survives it.
///
/// # Safety
/// GIL held; `cb` is a live callable.
#[allow(deprecated)] // PyErr_Fetch/Restore (3.12 deprecates them; the replacement is 3.12+)
unsafe fn call_callback(cb: usize) {
    // SAFETY: GIL held; a strong reference is held for the call.
    unsafe {
        let cb = cb as *mut ffi::PyObject;
        ffi::Py_INCREF(cb);
        let (mut t, mut v, mut tb) = (
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        let r: *mut ffi::PyObject = hpy_cpython::compat::call_no_args(cb.cast()).cast();
        if r.is_null() {
            ffi::PyErr_WriteUnraisable(cb);
        } else {
            ffi::Py_DECREF(r);
        }
        ffi::PyErr_Restore(t, v, tb);
        ffi::Py_DECREF(cb);
    }
}

/// # Safety
/// GIL held; `cb` is NULL or an object (a new reference is taken).
unsafe fn set_callback(slot: fn(&mut State) -> &mut usize, cb: *mut ffi::PyObject) {
    // SAFETY: GIL held, `cb` NULL or valid.
    unsafe { ffi::Py_XINCREF(cb) };
    let old = with_state(|st| std::mem::replace(slot(st), cb as usize));
    // SAFETY: `old` was a strong reference we held (or NULL); the state is
    // no longer borrowed when the DECREF runs arbitrary code.
    unsafe { ffi::Py_XDECREF(old as *mut ffi::PyObject) };
}

/// `set_on_invalid_handle(callable|None)`: NULL clears.
///
/// # Safety
/// GIL held; `cb` NULL or a valid object.
pub unsafe fn set_on_invalid_handle(cb: *mut ffi::PyObject) {
    // SAFETY: forwarded contract.
    unsafe { set_callback(|s| &mut s.on_invalid_handle, cb) }
}

/// `set_on_invalid_builder_handle(callable|None)`: NULL clears.
///
/// # Safety
/// GIL held; `cb` NULL or a valid object.
pub unsafe fn set_on_invalid_builder_handle(cb: *mut ffi::PyObject) {
    // SAFETY: forwarded contract.
    unsafe { set_callback(|s| &mut s.on_invalid_builder_handle, cb) }
}

/// A Python-side reference to a debug handle's slot (`hpy.debug._debug.DebugHandle`):
/// it sees the slot's current state, including its reuse for a newer handle.
pub struct HandleRef(NonNull<Slot>);

impl HandleRef {
    fn pin(st: &mut State, p: *mut Slot) -> HandleRef {
        let _ = st; // the borrowed state proves exclusive access
                    // SAFETY: `p` is a live slot of the table; GIL held.
        unsafe { (*p).pins += 1 };
        // SAFETY: slots are arena addresses: never NULL.
        HandleRef(unsafe { NonNull::new_unchecked(p) })
    }

    fn with<R>(&self, f: impl FnOnce(&Slot) -> R) -> R {
        // SAFETY: a pinned slot stays allocated; the state is borrowed (GIL
        // held), so nothing changes the slot meanwhile.
        with_state(|_| f(unsafe { self.0.as_ref() }))
    }

    /// The handle's identity: the slot address (the `HPy` value it had).
    pub fn id(&self) -> usize {
        self.0.as_ptr() as usize
    }

    pub fn is_closed(&self) -> bool {
        self.with(|s| s.tag != Tag::Open && s.tag != Tag::Permanent)
    }

    /// The inner handle, while the handle is open.
    pub fn inner_handle(&self) -> Option<HPy> {
        self.with(|s| s.tag.usable().then_some(s.uh))
    }

    /// Bytes of raw data tied to the handle, or -1 if none.
    pub fn raw_data_size(&self) -> i64 {
        self.with(|s| {
            if s.raw().is_empty() {
                -1
            } else {
                s.raw().iter().map(|r| r.len() as i64).sum()
            }
        })
    }

    /// Where the handle was opened, if stack traces were on.
    pub fn allocation_stack_trace(&self) -> Option<String> {
        self.with(|s| s.trace().map(StackTrace::format))
    }

    /// Closes the handle if it is open (for tests and leak clean-up).
    ///
    /// # Safety
    /// GIL held.
    pub unsafe fn force_close(&self) {
        let open = self.with(|s| s.tag == Tag::Open);
        if open {
            // SAFETY: forwarded contract; the handle is open.
            unsafe {
                close(
                    HPy {
                        _i: self.id() as isize,
                    },
                    const { &Site::entry("DebugHandle._force_close") },
                )
            }
        }
    }
}

impl Drop for HandleRef {
    fn drop(&mut self) {
        let p = self.0.as_ptr();
        with_state(|st| {
            // SAFETY: pinned, so live; GIL held.
            let s = unsafe { &mut *p };
            s.pins -= 1;
            if s.pins == 0 && s.tag == Tag::Detached {
                s.tag = Tag::Free;
                // SAFETY: out of the table and no pin left: a detached slot
                // is in no list.
                unsafe { st.free.push_front(p) };
            }
        })
    }
}

/// Open handles created in generation `gen` or later, oldest first.
pub fn open_handles(gen: u64) -> Vec<HandleRef> {
    with_state(|st| {
        let mut open: Vec<(u64, *mut Slot)> = st
            .slots
            .slots()
            .filter(|&p| {
                // SAFETY: arena slots are initialised and never freed.
                let s = unsafe { &*p };
                s.tag == Tag::Open && s.generation >= gen
            })
            // SAFETY: as above.
            .map(|p| (unsafe { (*p).seq }, p))
            .collect();
        open.sort_unstable_by_key(|&(seq, _)| seq);
        open.into_iter()
            .map(|(_, p)| HandleRef::pin(st, p))
            .collect()
    })
}

/// Pins the slots of one of the state's lists from generation `gen` on.
fn pin_list(st: &mut State, gen: u64, list: fn(&State) -> &List) -> Vec<HandleRef> {
    let slots: Vec<*mut Slot> = list(st)
        .iter()
        // SAFETY: slots in the table are live.
        .filter(|&p| unsafe { (*p).generation } >= gen)
        .collect();
    slots.into_iter().map(|p| HandleRef::pin(st, p)).collect()
}

/// Closed handles still in the queue, created in generation `gen` or later,
/// oldest first.
pub fn closed_handles(gen: u64) -> Vec<HandleRef> {
    with_state(|st| pin_list(st, gen, |st| &st.closed))
}

/// Shown in a handle's description when it has no allocation stack trace.
/// Cheap: whether stack traces can be recorded is found out once (taking
/// and symbolizing a stack per call made a `DebugHandle`'s repr 15x slower).
pub fn stack_trace_hint() -> &'static str {
    static SUPPORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *SUPPORTED.get_or_init(crate::stacktrace::supported) {
        "To see where it was opened, record stack traces with \
         hpy.debug.set_handle_stack_trace_limit(n)"
    } else {
        crate::stacktrace::UNSUPPORTED
    }
}
