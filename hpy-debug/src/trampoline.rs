//! `ctx_CallRealFunctionFromTrampoline` of the debug context: hpy-cpython's
//! one dispatcher with the debug crossing (`DebugCall`): every `PyObject *`
//! argument becomes a fresh debug handle, the impl runs with a context copy
//! of its own (see `ctx.rs`), the argument handles are closed after the call
//! (one the impl closed itself is reported), and then the result handle
//! becomes a new reference and is closed. Signatures whose impl receives no
//! handles (capsule destructors, traverse, destroy) are handed to the inner
//! context unchanged.

use crate::handles;
use crate::site::Site;
use hpy_cpython::context::CallRealFunctionFromTrampoline;
use hpy_cpython::trampoline::{call_real_function, Crossing};
use hpy_sys::*;
use std::ffi::c_void;
use std::mem::{ManuallyDrop, MaybeUninit};

/// Handles kept on the stack per call before spilling to the heap.
const INLINE: usize = 8;

/// The handles opened for one call, closed when it returns. Small calls
/// need no allocation: the first handles live in an inline buffer, and an
/// argument array that fits is a part of it (its handles are opened one
/// after the other). A `Conv` must not move once `arr` has handed out a
/// pointer into it (it is a local of the dispatching call).
struct Conv {
    /// The first `n` handles opened, in order (the rest in `spill`).
    n: usize,
    hs: [MaybeUninit<HPy>; INLINE],
    /// What does not fit inline (rare: boxed, so that the common call
    /// carries one pointer to test; dropped by `close_spilled`).
    spill: ManuallyDrop<Option<Box<Spill>>>,
}

#[derive(Default)]
struct Spill {
    more: Vec<HPy>,
    arrays: Vec<Vec<HPy>>,
}

/// A new debug handle for the borrowed object `o` (not NULL).
#[inline(always)]
fn open_arg(o: *mut cpy_PyObject) -> HPy {
    let inner = crate::inner_ctx();
    // SAFETY: `o` is a live object handed to the trampoline; GIL held;
    // FromPyObject returns a new inner handle which the debug handle owns.
    let uh = unsafe { ((*inner).ctx_FromPyObject.unwrap_unchecked())(inner, o) };
    handles::wrap(uh)
}

impl Conv {
    #[inline(always)]
    fn new() -> Conv {
        Conv {
            n: 0,
            hs: [MaybeUninit::uninit(); INLINE],
            spill: ManuallyDrop::new(None),
        }
    }

    /// Records `dh` to be closed after the call.
    #[inline(always)]
    fn record(&mut self, dh: HPy) {
        if self.n < INLINE {
            self.hs[self.n].write(dh);
            self.n += 1;
        } else {
            self.record_spilled(dh);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_spilled(&mut self, dh: HPy) {
        self.spill
            .get_or_insert_with(Default::default)
            .more
            .push(dh);
    }

    /// A new debug handle for the borrowed object `o`.
    #[inline(always)]
    fn h(&mut self, o: *mut cpy_PyObject) -> HPy {
        if o.is_null() {
            return HPy_NULL;
        }
        let dh = open_arg(o);
        self.record(dh);
        dh
    }

    /// Debug handles for `n` borrowed objects at `items`.
    ///
    /// # Safety
    /// `items` points to `n` live objects.
    #[inline(always)]
    unsafe fn arr(&mut self, items: *const *mut cpy_PyObject, n: usize) -> *const HPy {
        if n > INLINE - self.n {
            // SAFETY: forwarded contract.
            return unsafe { self.arr_spilled(items, n) };
        }
        let start = self.n;
        for i in 0..n {
            // SAFETY: caller guarantees `n` readable items.
            let o = unsafe { *items.add(i) };
            let dh = if o.is_null() { HPy_NULL } else { open_arg(o) };
            self.hs[start + i].write(dh);
        }
        self.n = start + n;
        self.hs[start..].as_ptr().cast()
    }

    /// # Safety
    /// As [`Conv::arr`].
    #[cold]
    #[inline(never)]
    unsafe fn arr_spilled(&mut self, items: *const *mut cpy_PyObject, n: usize) -> *const HPy {
        let v: Vec<HPy> = (0..n)
            // SAFETY: caller guarantees `n` readable items.
            .map(|i| self.h(unsafe { *items.add(i) }))
            .collect();
        let p = v.as_ptr();
        self.spill
            .get_or_insert_with(Default::default)
            .arrays
            .push(v);
        p
    }

    /// Closes the argument handles (reporting any the impl closed).
    #[inline(always)]
    fn close_args(&mut self) {
        let n = std::mem::take(&mut self.n);
        for h in &self.hs[..n] {
            // SAFETY: the first `n` are initialised; GIL held (we are inside
            // a trampoline call).
            unsafe { handles::close(h.assume_init(), ARGS) };
        }
        if self.spill.is_some() {
            self.close_spilled();
        }
    }

    /// Closes the spilled handles and frees the spill.
    #[cold]
    #[inline(never)]
    fn close_spilled(&mut self) {
        if let Some(spill) = self.spill.take() {
            for h in spill.more {
                // SAFETY: as above.
                unsafe { handles::close(h, ARGS) };
            }
        }
    }
}

impl Drop for Conv {
    #[inline(always)]
    fn drop(&mut self) {
        self.close_args();
    }
}

/// What reports about the handles of a call into the extension name: its
/// arguments (closed after the call: the function must not close them) and
/// its result.
const ARGS: &Site = &Site::entry("an extension function's argument (closed after the call)");
const RESULT: &Site = &Site::entry("an extension function's result");

/// A new reference to what the debug handle `r` holds; `r` is then closed.
/// NULL stays NULL; a result that is not open is reported.
///
/// # Safety
/// GIL held.
#[inline(always)]
unsafe fn to_py_and_close(r: HPy) -> *mut cpy_PyObject {
    // SAFETY: forwarded contract.
    match unsafe { handles::take_result(r) } {
        Some(uh) => {
            let inner = crate::inner_ctx();
            // SAFETY: `uh` is an open inner handle that we own now (its debug
            // handle is closed): a new reference to its object, then closed.
            unsafe {
                let o = ((*inner).ctx_AsPyObject.unwrap_unchecked())(inner, uh);
                ((*inner).ctx_Close.unwrap_unchecked())(inner, uh);
                o
            }
        }
        // SAFETY: forwarded contract.
        None => unsafe { to_py_and_close_slow(r) },
    }
}

/// [`to_py_and_close`] of anything but an open handle: `HPy_NULL`, or a
/// misuse to report.
///
/// # Safety
/// GIL held.
#[cold]
#[inline(never)]
unsafe fn to_py_and_close_slow(r: HPy) -> *mut cpy_PyObject {
    if r.is_null() {
        return std::ptr::null_mut();
    }
    let inner = crate::inner_ctx();
    // SAFETY: GIL held; `unwrap` reports an invalid handle (and gives its
    // stale inner handle, whose object the caller still references, or
    // NULL); AsPyObject gives a new reference.
    unsafe {
        let uh = handles::unwrap(r, RESULT);
        let o = if uh.is_null() {
            std::ptr::null_mut()
        } else {
            ((*inner).ctx_AsPyObject.unwrap_unchecked())(inner, uh)
        };
        handles::close_result(r, RESULT);
        o
    }
}

/// One call's crossing: its handles and its context copy.
struct DebugCall {
    conv: Conv,
    ctx: *mut HPyContext,
    call: Option<crate::ctx::CallCtx>,
}

impl Crossing for DebugCall {
    #[inline(always)]
    fn enter(_dctx: *mut HPyContext) -> Self {
        let call = crate::ctx::switch();
        DebugCall {
            conv: Conv::new(),
            ctx: call.ctx(),
            call: Some(call),
        }
    }
    #[inline(always)]
    fn ctx(&self) -> *mut HPyContext {
        self.ctx
    }
    #[inline(always)]
    fn obj(&mut self, o: *mut cpy_PyObject) -> HPy {
        self.conv.h(o)
    }
    #[inline(always)]
    unsafe fn array(&mut self, items: *const *mut cpy_PyObject, n: usize) -> *const HPy {
        // SAFETY: forwarded contract.
        unsafe { self.conv.arr(items, n) }
    }
    #[inline(always)]
    fn leave(&mut self) {
        drop(self.call.take());
        self.conv.close_args();
        // Raw data of the handles closed during the call is made unreadable
        // before control returns to Python (see `handles/queue.rs`).
        handles::flush_raw_data();
    }
    #[inline(always)]
    unsafe fn result(&mut self, r: HPy) -> *mut cpy_PyObject {
        // SAFETY: forwarded contract.
        unsafe { to_py_and_close(r) }
    }
    /// No handles involved: the inner context's dispatcher does the work.
    unsafe fn without_handles(
        _dctx: *mut HPyContext,
        sig: HPyFunc_Signature,
        func: HPyCFunction,
        args: *mut c_void,
    ) {
        let inner = crate::inner_ctx();
        // SAFETY: same contract as ours, forwarded; GIL held.
        unsafe {
            ((*inner)
                .ctx_CallRealFunctionFromTrampoline
                .unwrap_unchecked())(inner, sig, func, args)
        }
    }
}

/// The debug context's dispatcher.
pub const ctx_CallRealFunctionFromTrampoline: CallRealFunctionFromTrampoline =
    call_real_function::<DebugCall>;
