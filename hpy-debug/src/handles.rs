//! Debug handles: the handle table, generations, the closed-handles queue,
//! allocation stack traces, raw data tied to a handle's lifetime, and the
//! invalid-handle reporting.
//!
//! A debug handle is the address of a [`Slot`]. Closed slots wait in a FIFO
//! queue (so a use after close is recognised); when the queue is full the
//! oldest one is reused for the next handle, or freed when the queue
//! overflows. Python `DebugHandle` objects ([`HandleRef`]) pin a slot: a
//! pinned slot leaving the table stays out of use until its last pin goes.
//!
//! Every operation is O(1) (but listing handles): slots live in an arena of
//! chunks that are never freed or moved, a slot "freed" goes to a free list;
//! the open handles, the closed queue and the free list are intrusive doubly
//! linked lists through the slots; a handle is recognised as one of ours by
//! its address (inside a chunk, on a slot boundary) and the slot's `tag`.

use crate::rawdata::RawData;
use crate::stacktrace::{self, StackTrace};
use hpy_sys::{HPy, HPy_NULL};
use pyo3_ffi as ffi;
use std::ptr::{null_mut, NonNull};
use std::sync::{Mutex, MutexGuard};

/// Where a slot is: in the table (open, permanent or queued as closed),
/// out of it but pinned (freed by the last unpin), or free for reuse.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum Tag {
    #[default]
    Free,
    InTable,
    Detached,
}

/// What a debug handle (`HPy._i` is its address) points to.
pub(crate) struct Slot {
    tag: Tag,
    /// The inner handle; owned while open, unless `permanent`.
    uh: HPy,
    generation: u64,
    closed: bool,
    /// A handle constant of the context (`ctx->h_None`, ...): never closed.
    permanent: bool,
    pins: usize,
    trace: Option<StackTrace>,
    raw: Vec<RawData>,
    /// Bytes of `raw` counted in `State::raw_size` (kept after close).
    raw_counted: usize,
    /// Links of the one list the slot is in (open, closed or free); a
    /// permanent or detached slot is in none.
    prev: *mut Slot,
    next: *mut Slot,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            tag: Tag::Free,
            uh: HPy_NULL,
            generation: 0,
            closed: false,
            permanent: false,
            pins: 0,
            trace: None,
            raw: Vec::new(),
            raw_counted: 0,
            prev: null_mut(),
            next: null_mut(),
        }
    }
}

/// An intrusive doubly linked list of slots, oldest first.
struct List {
    head: *mut Slot,
    tail: *mut Slot,
    len: usize,
}

impl List {
    const fn new() -> List {
        List {
            head: null_mut(),
            tail: null_mut(),
            len: 0,
        }
    }

    /// # Safety
    /// `p` is a live arena slot in no list; the state lock is held.
    unsafe fn push_back(&mut self, p: *mut Slot) {
        // SAFETY: caller contract; list members are live arena slots.
        unsafe {
            (*p).prev = self.tail;
            (*p).next = null_mut();
            if self.tail.is_null() {
                self.head = p;
            } else {
                (*self.tail).next = p;
            }
        }
        self.tail = p;
        self.len += 1;
    }

    /// # Safety
    /// `p` is in this list; the state lock is held.
    unsafe fn remove(&mut self, p: *mut Slot) {
        // SAFETY: caller contract; list members are live arena slots.
        unsafe {
            let (prev, next) = ((*p).prev, (*p).next);
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).next = next;
            }
            if next.is_null() {
                self.tail = prev;
            } else {
                (*next).prev = prev;
            }
            (*p).prev = null_mut();
            (*p).next = null_mut();
        }
        self.len -= 1;
    }

    fn pop_front(&mut self) -> Option<*mut Slot> {
        let p = self.head;
        if p.is_null() {
            return None;
        }
        // SAFETY: `p` is this list's head.
        unsafe { self.remove(p) };
        Some(p)
    }

    fn iter(&self) -> impl Iterator<Item = *mut Slot> + '_ {
        std::iter::successors((!self.head.is_null()).then_some(self.head), |&p| {
            // SAFETY: list members are live arena slots (lock held by the
            // borrower of the state).
            let n = unsafe { (*p).next };
            (!n.is_null()).then_some(n)
        })
    }
}

/// Slots in the first chunk; each next chunk doubles.
const FIRST_CHUNK: usize = 256;

struct State {
    /// The arena: (start, slot count) of leaked boxed slices, never freed.
    chunks: Vec<(*mut Slot, usize)>,
    /// Arena slots never used yet: index in the last chunk.
    chunk_used: usize,
    /// Open handles, in opening order.
    open: List,
    /// Recently closed handles, oldest first.
    closed: List,
    /// Slots out of the table, to reuse.
    free: List,
    closed_max: usize,
    /// Budget of raw data kept (protected) for closed handles, and its use.
    raw_max: usize,
    raw_size: usize,
    generation: u64,
    on_invalid_handle: usize,
    on_invalid_builder_handle: usize,
    /// Frames recorded per opened handle; 0 = off.
    trace_limit: usize,
}

struct Global(State);
// SAFETY: the raw pointers are only dereferenced with the mutex locked (and
// the GIL held); the state never leaves the interpreter's threads.
unsafe impl Send for Global {}

static STATE: Mutex<Global> = Mutex::new(Global(State {
    chunks: Vec::new(),
    chunk_used: 0,
    open: List::new(),
    closed: List::new(),
    free: List::new(),
    closed_max: 1024,
    raw_max: 10 * 1024 * 1024,
    raw_size: 0,
    generation: 0,
    on_invalid_handle: 0,
    on_invalid_builder_handle: 0,
    trace_limit: 0,
}));

fn state() -> MutexGuard<'static, Global> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The slot behind a debug handle, if it is in the table: an address inside
/// an arena chunk, on a slot boundary, whose slot is tagged as in the table.
/// Anything else given to us as a handle is garbage or long closed.
fn slot_of(st: &State, dh: HPy) -> Option<*mut Slot> {
    let p = dh._i as usize;
    let size = std::mem::size_of::<Slot>();
    // Newest (largest) chunks first; there are O(log n) of them.
    for &(base, n) in st.chunks.iter().rev() {
        let b = base as usize;
        if p >= b && p < b + n * size {
            if (p - b) % size != 0 {
                return None;
            }
            let s = p as *mut Slot;
            // SAFETY: `s` is a slot of a live (leaked) chunk; lock held.
            return (unsafe { (*s).tag } == Tag::InTable).then_some(s);
        }
    }
    None
}

/// A slot out of no list, for a new handle: a freed one, else a new one
/// from the arena.
fn alloc_slot(st: &mut State) -> *mut Slot {
    if let Some(p) = st.free.pop_front() {
        return p;
    }
    let room = st.chunks.last().map_or(0, |&(_, n)| n);
    if st.chunk_used == room {
        let n = if room == 0 { FIRST_CHUNK } else { room * 2 };
        let chunk: Box<[Slot]> = (0..n).map(|_| Slot::default()).collect();
        // Leaked: slots must stay at their address for as long as a handle
        // value might be checked against them (the process lifetime).
        let base = Box::leak(chunk).as_mut_ptr();
        st.chunks.push((base, n));
        st.chunk_used = 0;
    }
    let (base, _) = st.chunks[st.chunks.len() - 1];
    // SAFETY: `chunk_used` < the last chunk's length.
    let p = unsafe { base.add(st.chunk_used) };
    st.chunk_used += 1;
    p
}

/// Releases what a slot holds besides its identity (raw data, trace).
fn clear_slot(st: &mut State, s: &mut Slot) {
    st.raw_size -= s.raw_counted;
    s.raw_counted = 0;
    s.raw.clear();
    s.trace = None;
}

/// Takes a slot (in no list) out of the table for good: freed now, or by
/// its last pin.
fn release(st: &mut State, p: *mut Slot) {
    // SAFETY: `p` was in the table, so it is a live arena slot; lock held.
    let s = unsafe { &mut *p };
    clear_slot(st, s);
    if s.pins > 0 {
        s.tag = Tag::Detached;
    } else {
        s.tag = Tag::Free;
        // SAFETY: `p` is in no list.
        unsafe { st.free.push_back(p) };
    }
}

/// Frees the oldest closed handle if the queue is over its maximum size.
/// One per close: after the maximum is lowered, the queue shrinks
/// gradually (opening a handle also takes one from a full queue).
fn evict(st: &mut State) {
    if st.closed.len > st.closed_max {
        if let Some(p) = st.closed.pop_front() {
            release(st, p);
        }
    }
}

fn open_in(st: &mut State, uh: HPy, permanent: bool) -> HPy {
    let trace = if st.trace_limit > 0 && !permanent {
        StackTrace::capture(st.trace_limit)
    } else {
        None
    };
    let generation = if permanent { 0 } else { st.generation };
    // A full closed queue gives its oldest slot to the new handle.
    let reused = if !permanent && st.closed.len > 0 && st.closed.len >= st.closed_max {
        st.closed.pop_front()
    } else {
        None
    };
    let p = match reused {
        Some(p) => p,
        None => alloc_slot(st),
    };
    // SAFETY: `p` is a live arena slot in no list; lock held.
    let s = unsafe { &mut *p };
    clear_slot(st, s);
    s.tag = Tag::InTable;
    s.uh = uh;
    s.generation = generation;
    s.closed = false;
    s.permanent = permanent;
    s.trace = trace;
    if !permanent {
        // SAFETY: `p` is in no list.
        unsafe { st.open.push_back(p) };
    }
    HPy { _i: p as isize }
}

/// Opens a debug handle that owns the inner handle `uh` (NULL stays NULL).
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

/// The inner handle of `dh`. A closed or unknown handle is reported (see
/// [`report_invalid_handle`]) and then gives its stale inner handle
/// (closed) or `HPy_NULL` (unknown).
///
/// # Safety
/// GIL held.
pub(crate) unsafe fn unwrap(dh: HPy) -> HPy {
    if dh.is_null() {
        return HPy_NULL;
    }
    let found = {
        let g = state();
        slot_of(&g.0, dh).map(|p| {
            // SAFETY: slots in the table are live.
            let s = unsafe { &*p };
            (s.uh, s.closed)
        })
    };
    match found {
        Some((uh, false)) => uh,
        Some((uh, true)) => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle(dh, Misuse::Closed) };
            uh
        }
        None => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle(dh, Misuse::Unknown) };
            HPy_NULL
        }
    }
}

/// Closes `dh`: marks it closed, queues it, protects or frees its raw data
/// and closes its inner handle. Closing a closed, unknown or constant handle
/// is reported (and changes nothing).
///
/// # Safety
/// GIL held; the debug context is initialised.
pub(crate) unsafe fn close(dh: HPy) {
    // SAFETY: forwarded contract.
    unsafe { close_with(dh, false) }
}

/// Closes the result handle of a call into the extension, after its value
/// was taken: a result that is already closed (an argument returned without
/// `HPy_Dup`) was reported when it was unwrapped, so only closing a context
/// constant is reported here.
///
/// # Safety
/// GIL held; the debug context is initialised.
pub(crate) unsafe fn close_result(dh: HPy) {
    // SAFETY: forwarded contract.
    unsafe { close_with(dh, true) }
}

/// # Safety
/// GIL held; the debug context is initialised.
unsafe fn close_with(dh: HPy, quiet: bool) {
    if dh.is_null() {
        return;
    }
    let outcome = {
        let mut g = state();
        let st = &mut g.0;
        match slot_of(st, dh) {
            None => Err(Misuse::Unknown),
            Some(p) => {
                // SAFETY: slots in the table are live.
                let s = unsafe { &mut *p };
                if s.permanent {
                    Err(Misuse::ClosedConstant)
                } else if s.closed {
                    Err(Misuse::Closed)
                } else {
                    s.closed = true;
                    // SAFETY: an open, non-permanent slot is in `open`.
                    unsafe { st.open.remove(p) };
                    // Keep (unreadable) what fits in the budget, so that a
                    // use after close faults; free the rest now.
                    let mut kept = Vec::new();
                    for r in s.raw.drain(..) {
                        if st.raw_size + r.len() <= st.raw_max {
                            r.protect();
                            st.raw_size += r.len();
                            s.raw_counted += r.len();
                            kept.push(r);
                        }
                    }
                    s.raw = kept;
                    let uh = s.uh;
                    // SAFETY: `p` just left `open`: in no list.
                    unsafe { st.closed.push_back(p) };
                    evict(st);
                    Ok(uh)
                }
            }
        }
    };
    match outcome {
        Err(Misuse::Closed | Misuse::Unknown) if quiet => {}
        Err(m) => {
            // SAFETY: GIL held.
            unsafe { report_invalid_handle(dh, m) }
        }
        Ok(uh) => {
            let inner = crate::inner_ctx();
            // SAFETY: `uh` is an open handle of the inner context, owned by
            // the debug handle just closed; GIL held. (This may run __del__.)
            unsafe { ((*inner).ctx_Close.unwrap_unchecked())(inner, uh) }
        }
    }
}

/// Ties a read-only copy of `data` to the open handle `dh` and returns it;
/// None if `dh` is not open or no memory could be had (callers then hand out
/// the original pointer).
pub(crate) fn attach_raw_data(dh: HPy, data: &[u8]) -> Option<*const u8> {
    let g = state();
    let p = slot_of(&g.0, dh)?;
    // SAFETY: slots in the table are live; the lock is held.
    let s = unsafe { &mut *p };
    if s.closed {
        return None;
    }
    // The same data asked for again (a loop over AsUTF8AndSize, say) gets the
    // same copy: one page per call would add up.
    if let Some(r) = s.raw.iter().find(|r| r.holds(data)) {
        return Some(r.as_ptr());
    }
    let r = RawData::copy(data)?;
    let ptr = r.as_ptr();
    s.raw.push(r);
    Some(ptr)
}

/// Calls the `on_invalid_handle` callback, or prints what happened and
/// aborts the process (`HPy_FatalError`) when none is set.
///
/// # Safety
/// GIL held.
pub(crate) unsafe fn report_invalid_handle(dh: HPy, what: Misuse) {
    let (cb, trace_on, alloc_trace) = {
        let g = state();
        let st = &g.0;
        let alloc = slot_of(st, dh).and_then(|p| {
            // SAFETY: slots in the table are live.
            unsafe { &*p }.trace.as_ref().map(StackTrace::format)
        });
        (st.on_invalid_handle, st.trace_limit > 0, alloc)
    };
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
    let mut report = format!("HPy debug mode: {detail}\n");
    if let Some(t) = alloc_trace {
        report.push_str(&format!("The handle was opened at:\n{t}\n"));
    }
    if trace_on {
        if let Some(t) = stacktrace::current(stacktrace::DEFAULT_LIMIT) {
            report.push_str(&format!("Invalid use at:\n{t}\n"));
        }
    }
    eprint!("{report}");
    // SAFETY: NUL-terminated message; does not return.
    unsafe { ffi::Py_FatalError(c"Invalid usage of already closed handle".as_ptr()) }
}

/// Calls the `on_invalid_builder_handle` callback, or aborts when none is set.
///
/// # Safety
/// GIL held.
pub(crate) unsafe fn report_invalid_builder_handle(what: &str) {
    let cb = state().0.on_invalid_builder_handle;
    if cb != 0 {
        // SAFETY: GIL held; `cb` is kept alive by the state.
        unsafe { call_callback(cb) };
        return;
    }
    eprintln!("HPy debug mode: {what}");
    if let Some(t) = stacktrace::current(stacktrace::DEFAULT_LIMIT) {
        eprintln!("Invalid use at:\n{t}");
    }
    // SAFETY: NUL-terminated message; does not return.
    unsafe { ffi::Py_FatalError(c"Invalid usage of already closed builder".as_ptr()) }
}

/// Aborts with `msg` after the C stack, for misuses that have no callback.
pub(crate) fn fatal(msg: &str) -> ! {
    if let Some(t) = stacktrace::current(stacktrace::DEFAULT_LIMIT) {
        eprintln!("HPy debug mode: C stack at the error:\n{t}");
    }
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
        let r = hpy_cpython::compat::call_no_args(cb);
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

/// Starts a new generation and returns its number (always >= 1; the context
/// constants belong to generation 0, so they never count as leaks).
pub fn new_generation() -> u64 {
    let mut g = state();
    g.0.generation += 1;
    g.0.generation
}

/// A Python-side reference to a debug handle's slot (`hpy.debug._debug.DebugHandle`):
/// it sees the slot's current state, including its reuse for a newer handle.
pub struct HandleRef(NonNull<Slot>);

impl HandleRef {
    fn pin(st: &State, p: *mut Slot) -> HandleRef {
        let _ = st; // the lock proves exclusive access
                    // SAFETY: `p` is a live slot of the table; lock held.
        unsafe { (*p).pins += 1 };
        // SAFETY: slots are arena addresses: never NULL.
        HandleRef(unsafe { NonNull::new_unchecked(p) })
    }

    fn with<R>(&self, f: impl FnOnce(&Slot) -> R) -> R {
        let _g = state();
        // SAFETY: a pinned slot stays allocated; the lock is held.
        f(unsafe { self.0.as_ref() })
    }

    /// The handle's identity: the slot address (the `HPy` value it had).
    pub fn id(&self) -> usize {
        self.0.as_ptr() as usize
    }

    pub fn is_closed(&self) -> bool {
        self.with(|s| s.closed || s.tag != Tag::InTable)
    }

    /// The inner handle, while the handle is open.
    pub fn inner_handle(&self) -> Option<HPy> {
        self.with(|s| (!s.closed && s.tag == Tag::InTable).then_some(s.uh))
    }

    /// Bytes of raw data tied to the handle, or -1 if none.
    pub fn raw_data_size(&self) -> i64 {
        self.with(|s| {
            if s.raw.is_empty() {
                -1
            } else {
                s.raw.iter().map(|r| r.len() as i64).sum()
            }
        })
    }

    /// Where the handle was opened, if stack traces were on.
    pub fn allocation_stack_trace(&self) -> Option<String> {
        self.with(|s| s.trace.as_ref().map(StackTrace::format))
    }

    /// Closes the handle if it is open (for tests and leak clean-up).
    ///
    /// # Safety
    /// GIL held.
    pub unsafe fn force_close(&self) {
        let open = self.with(|s| !s.closed && s.tag == Tag::InTable && !s.permanent);
        if open {
            // SAFETY: forwarded contract; the handle is open.
            unsafe {
                close(HPy {
                    _i: self.id() as isize,
                })
            }
        }
    }
}

impl Drop for HandleRef {
    fn drop(&mut self) {
        let mut g = state();
        let p = self.0.as_ptr();
        // SAFETY: pinned, so live; lock held.
        let s = unsafe { &mut *p };
        s.pins -= 1;
        if s.pins == 0 && s.tag == Tag::Detached {
            s.tag = Tag::Free;
            // SAFETY: out of the table and no pin left: a detached slot is
            // in no list.
            unsafe { g.0.free.push_back(p) };
        }
    }
}

/// Open handles created in generation `gen` or later, oldest first.
pub fn open_handles(gen: u64) -> Vec<HandleRef> {
    let g = state();
    let st = &g.0;
    st.open
        .iter()
        // SAFETY: slots in the table are live.
        .filter(|&p| unsafe { (*p).generation } >= gen)
        .map(|p| HandleRef::pin(st, p))
        .collect()
}

/// Closed handles still in the queue, created in generation `gen` or later,
/// oldest first.
pub fn closed_handles(gen: u64) -> Vec<HandleRef> {
    let g = state();
    let st = &g.0;
    st.closed
        .iter()
        // SAFETY: slots in the table are live.
        .filter(|&p| unsafe { (*p).generation } >= gen)
        .map(|p| HandleRef::pin(st, p))
        .collect()
}

pub fn closed_handles_queue_max_size() -> usize {
    state().0.closed_max
}

/// Takes effect as handles open and close (the queue is not trimmed now).
pub fn set_closed_handles_queue_max_size(n: usize) {
    state().0.closed_max = n;
}

pub fn protected_raw_data_max_size() -> usize {
    state().0.raw_max
}

pub fn set_protected_raw_data_max_size(n: usize) {
    state().0.raw_max = n;
}

/// Record the C stack (at most `limit` frames) of every handle opened from
/// now on; None or 0 turns it off.
pub fn set_handle_stack_trace_limit(limit: Option<usize>) {
    state().0.trace_limit = limit.unwrap_or(0);
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

/// Held by the unit tests that change or depend on the process-wide queue
/// size (the builders' queue uses it too); tests run on parallel threads.
#[cfg(test)]
pub(crate) static QUEUE_SIZE_TEST_LOCK: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the state is process-wide.
    #[test]
    fn table_reuse_pins_and_generations() {
        let _queue_size = QUEUE_SIZE_TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let gen = new_generation();
        assert!(gen >= 1);
        let k = open_permanent(HPy { _i: 0x10 });
        assert!(open_handles(0).iter().all(|h| h.id() != k._i as usize));
        let a = wrap(HPy { _i: 0x20 });
        let refs = open_handles(gen);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].id(), a._i as usize);
        assert_eq!(refs[0].inner_handle().map(|h| h._i), Some(0x20));
        assert_eq!(refs[0].raw_data_size(), -1);
        let p = attach_raw_data(a, b"abc\0").unwrap();
        assert_eq!(attach_raw_data(a, b"abc\0"), Some(p));
        assert_eq!(refs[0].raw_data_size(), 4);
        // Closing without an inner context: mark closed by hand.
        {
            let mut g = state();
            let st = &mut g.0;
            // SAFETY: `a` is a live slot; lock held.
            let s = unsafe { &mut *(a._i as *mut Slot) };
            s.closed = true;
            s.raw.clear();
            // SAFETY: `a` is open: in `open`; then in no list.
            unsafe {
                st.open.remove(a._i as *mut Slot);
                st.closed.push_back(a._i as *mut Slot);
            }
        }
        assert!(refs[0].is_closed());
        assert!(refs[0].inner_handle().is_none());
        // A full queue hands its oldest slot to the next handle, which the
        // pinned reference sees.
        set_closed_handles_queue_max_size(0);
        let b = wrap(HPy { _i: 0x30 });
        assert_eq!(b._i, a._i);
        assert!(!refs[0].is_closed());
        assert_eq!(refs[0].inner_handle().map(|h| h._i), Some(0x30));
        set_closed_handles_queue_max_size(1024);
    }
}
