//! Debug handles: the handle table, generations, the closed-handles queue and
//! the invalid-handle reporting.

use hpy_sys::{HPy, HPy_NULL};
use pyo3_ffi as ffi;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// What a debug handle (`HPy._i` is its address) points to.
struct DHandle {
    /// The inner (universal) handle; owned unless `permanent`.
    uh: HPy,
    id: u64,
    generation: u64,
    closed: bool,
    /// Handle constants of the context: never really closed.
    permanent: bool,
}

struct State {
    /// Open handles by id (ids grow, so this is also opening order).
    open: BTreeMap<u64, *mut DHandle>,
    /// Addresses of every allocated `DHandle` (open or in the closed queue):
    /// anything else given to us as a handle is garbage or long closed.
    known: BTreeSet<usize>,
    /// Recently closed handles, oldest first, at most `closed_max`.
    closed: VecDeque<*mut DHandle>,
    closed_max: usize,
    raw_data_max: i64,
    next_id: u64,
    generation: u64,
    on_invalid_handle: usize,
    on_invalid_builder_handle: usize,
    stack_trace_limit: Option<i64>,
}

struct Global(State);
// SAFETY: the raw pointers are only dereferenced with the GIL held (and the
// mutex locked); the state is never used outside the interpreter.
unsafe impl Send for Global {}

static STATE: Mutex<Global> = Mutex::new(Global(State {
    open: BTreeMap::new(),
    known: BTreeSet::new(),
    closed: VecDeque::new(),
    closed_max: 1024,
    raw_data_max: 1024 * 1024 * 10,
    next_id: 1,
    generation: 0,
    on_invalid_handle: 0,
    on_invalid_builder_handle: 0,
    stack_trace_limit: None,
}));

fn state() -> MutexGuard<'static, Global> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A snapshot of one debug handle, for `hpy.debug._debug`.
#[derive(Clone, Copy)]
pub struct HandleInfo {
    pub id: u64,
    pub generation: u64,
    pub is_closed: bool,
    /// The inner handle (only meaningful while the handle is open).
    pub uh: HPy,
}

fn info(d: *mut DHandle) -> HandleInfo {
    // SAFETY: `d` is a live DHandle from the table (mutex held by caller).
    let d = unsafe { &*d };
    HandleInfo { id: d.id, generation: d.generation, is_closed: d.closed, uh: d.uh }
}

fn open_in(st: &mut State, uh: HPy, permanent: bool) -> HPy {
    let id = st.next_id;
    st.next_id += 1;
    let d = Box::into_raw(Box::new(DHandle {
        uh,
        id,
        generation: st.generation,
        closed: false,
        permanent,
    }));
    st.open.insert(id, d);
    st.known.insert(d as usize);
    HPy { _i: d as isize }
}

/// Drops the oldest closed handles beyond the queue's maximum size.
fn evict(st: &mut State) {
    while st.closed.len() > st.closed_max {
        let d = st.closed.pop_front().unwrap();
        st.known.remove(&(d as usize));
        // SAFETY: `d` came from Box::into_raw and is no longer referenced by
        // the table.
        drop(unsafe { Box::from_raw(d) });
    }
}

/// Opens a debug handle that owns the inner handle `uh`.
pub(crate) fn wrap(uh: HPy) -> HPy {
    if uh.is_null() {
        return HPy_NULL;
    }
    open_in(&mut state().0, uh, false)
}

/// A debug handle for a handle constant of the inner context.
pub(crate) fn open_permanent(uh: HPy) -> HPy {
    if uh.is_null() {
        return HPy_NULL;
    }
    open_in(&mut state().0, uh, true)
}

enum Lookup {
    Open(HPy),
    Closed(HPy),
    Unknown,
}

fn lookup(dh: HPy) -> Lookup {
    let st = state();
    if !st.0.known.contains(&(dh._i as usize)) {
        return Lookup::Unknown;
    }
    // SAFETY: `known` holds only live DHandle allocations.
    let d = unsafe { &*(dh._i as *const DHandle) };
    if d.closed {
        Lookup::Closed(d.uh)
    } else {
        Lookup::Open(d.uh)
    }
}

/// The inner handle of `dh`; a closed or unknown handle is reported (see
/// [`report_invalid_handle`]) and then gives the stale inner handle (closed)
/// or `HPy_NULL` (unknown).
///
/// # Safety
/// GIL held.
pub(crate) unsafe fn unwrap(dh: HPy) -> HPy {
    if dh.is_null() {
        return HPy_NULL;
    }
    match lookup(dh) {
        Lookup::Open(uh) => uh,
        Lookup::Closed(uh) => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle() };
            uh
        }
        Lookup::Unknown => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle() };
            HPy_NULL
        }
    }
}

/// Closes `dh`: marks it closed, queues it and closes its inner handle.
///
/// # Safety
/// GIL held; the debug context is initialised.
pub(crate) unsafe fn close(dh: HPy) {
    if dh.is_null() {
        return;
    }
    let uh = {
        let mut g = state();
        let st = &mut g.0;
        let p = dh._i as *mut DHandle;
        if !st.known.contains(&(p as usize)) {
            None
        } else {
            // SAFETY: `known` holds only live DHandle allocations.
            let d = unsafe { &mut *p };
            if d.closed {
                None
            } else {
                d.closed = true;
                st.open.remove(&d.id);
                let uh = if d.permanent { HPy_NULL } else { d.uh };
                st.closed.push_back(p);
                evict(st);
                Some(uh)
            }
        }
    };
    match uh {
        // SAFETY: GIL held.
        None => unsafe { report_invalid_handle() },
        Some(uh) if !uh.is_null() => {
            let inner = crate::inner_ctx();
            // SAFETY: `uh` is an open handle of the inner context, owned by
            // the debug handle just closed; GIL held.
            unsafe { ((*inner).ctx_Close.unwrap())(inner, uh) }
        }
        Some(_) => {}
    }
}

/// Calls the `on_invalid_handle` callback, or aborts when none is set.
///
/// # Safety
/// GIL held.
pub(crate) unsafe fn report_invalid_handle() {
    let cb = state().0.on_invalid_handle;
    // SAFETY: GIL held; messages are NUL-terminated.
    unsafe { call_report(cb, c"Invalid usage of already closed handle") }
}

/// Calls the `on_invalid_builder_handle` callback, or aborts when none is set.
///
/// # Safety
/// GIL held.
#[allow(dead_code)]
pub(crate) unsafe fn report_invalid_builder_handle() {
    let cb = state().0.on_invalid_builder_handle;
    // SAFETY: GIL held; messages are NUL-terminated.
    unsafe { call_report(cb, c"Invalid usage of already closed builder") }
}

/// # Safety
/// GIL held; `cb` is 0 or a callable object kept alive by the state.
unsafe fn call_report(cb: usize, fatal: &std::ffi::CStr) {
    if cb == 0 {
        // SAFETY: NUL-terminated message; does not return.
        unsafe { ffi::Py_FatalError(fatal.as_ptr()) }
    }
    // SAFETY: GIL held; `cb` is a live callable (strong reference taken for
    // the call); any pending exception is saved around the call and restored.
    unsafe {
        let cb = cb as *mut ffi::PyObject;
        ffi::Py_INCREF(cb);
        let (mut t, mut v, mut tb) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        let r = ffi::PyObject_CallNoArgs(cb);
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
    let old = std::mem::replace(slot(&mut state().0), cb as usize);
    // SAFETY: `old` was a strong reference we held (or NULL); the lock is
    // released before the DECREF can run arbitrary code.
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

pub fn new_generation() -> u64 {
    let mut g = state();
    g.0.generation += 1;
    g.0.generation
}

/// Open handles created in generation `gen` or later, oldest first.
pub fn open_handles(gen: u64) -> Vec<HandleInfo> {
    let g = state();
    g.0.open.values().copied().map(info).filter(|i| i.generation >= gen).collect()
}

/// Closed handles still in the queue, created in generation `gen` or later.
pub fn closed_handles(gen: u64) -> Vec<HandleInfo> {
    let g = state();
    g.0.closed.iter().copied().map(info).filter(|i| i.generation >= gen).collect()
}

/// The current state of the handle with this id, if it is open or queued.
pub fn handle_info(id: u64) -> Option<HandleInfo> {
    let g = state();
    if let Some(&d) = g.0.open.get(&id) {
        return Some(info(d));
    }
    g.0.closed.iter().copied().map(info).find(|i| i.id == id)
}

/// Closes the open handle with this id; false if it is not open.
///
/// # Safety
/// GIL held; the debug context is initialised.
pub unsafe fn force_close(id: u64) -> bool {
    let d = state().0.open.get(&id).copied();
    match d {
        Some(d) => {
            // SAFETY: forwarded contract; `d` is an open handle.
            unsafe { close(HPy { _i: d as isize }) };
            true
        }
        None => false,
    }
}

pub fn closed_handles_queue_max_size() -> usize {
    state().0.closed_max
}

pub fn set_closed_handles_queue_max_size(n: usize) {
    let mut g = state();
    g.0.closed_max = n;
    evict(&mut g.0);
}

/// Stored only: raw-data protection arrives with the full debug-mode issue.
pub fn protected_raw_data_max_size() -> i64 {
    state().0.raw_data_max
}

pub fn set_protected_raw_data_max_size(n: i64) {
    state().0.raw_data_max = n;
}

/// Stored only: handle stack traces are not collected yet.
pub fn set_handle_stack_trace_limit(limit: Option<i64>) {
    state().0.stack_trace_limit = limit;
}
