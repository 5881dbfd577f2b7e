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

/// Handles kept on the stack per call before spilling to the heap.
const INLINE: usize = 8;

/// The handles opened for one call, closed when it returns. Small calls
/// need no allocation: the first handles and the first argument array live
/// in inline buffers. A `Conv` must not move once `arr` has handed out a
/// pointer into it (it is a local of the dispatching call).
struct Conv {
    /// The first `n_opened` handles opened, in order; the rest in `spill`.
    n_opened: usize,
    opened: [HPy; INLINE],
    /// The first argument array, if it fits; any other in `spill`.
    arr_used: bool,
    arr_inline: [HPy; INLINE],
    /// What does not fit inline (rare: boxed, so that the common call
    /// carries one pointer to test instead of two vectors to drop).
    spill: Option<Box<Spill>>,
}

#[derive(Default)]
struct Spill {
    more: Vec<HPy>,
    arrays: Vec<Vec<HPy>>,
}

impl Conv {
    fn new() -> Conv {
        Conv {
            n_opened: 0,
            opened: [HPy_NULL; INLINE],
            arr_used: false,
            arr_inline: [HPy_NULL; INLINE],
            spill: None,
        }
    }

    /// A new debug handle for the borrowed object `o`.
    #[inline(always)]
    fn h(&mut self, o: *mut cpy_PyObject) -> HPy {
        if o.is_null() {
            return HPy_NULL;
        }
        let inner = crate::inner_ctx();
        // SAFETY: `o` is a live object handed to the trampoline; GIL held;
        // FromPyObject returns a new inner handle which the debug handle owns.
        let uh = unsafe { ((*inner).ctx_FromPyObject.unwrap_unchecked())(inner, o) };
        let dh = handles::wrap(uh);
        if self.n_opened < INLINE {
            self.opened[self.n_opened] = dh;
            self.n_opened += 1;
        } else {
            self.spill
                .get_or_insert_with(Default::default)
                .more
                .push(dh);
        }
        dh
    }

    /// Debug handles for `n` borrowed objects at `items`.
    ///
    /// # Safety
    /// `items` points to `n` live objects.
    unsafe fn arr(&mut self, items: *const *mut cpy_PyObject, n: usize) -> *const HPy {
        if !self.arr_used && n <= INLINE {
            self.arr_used = true;
            for i in 0..n {
                // SAFETY: caller guarantees `n` readable items.
                let h = self.h(unsafe { *items.add(i) });
                self.arr_inline[i] = h;
            }
            return self.arr_inline.as_ptr();
        }
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
        let n = std::mem::take(&mut self.n_opened);
        for &h in &self.opened[..n] {
            // SAFETY: GIL held (we are inside a trampoline call).
            unsafe { handles::close(h, ARGS) };
        }
        if let Some(spill) = self.spill.as_mut() {
            for h in std::mem::take(&mut spill.more) {
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
unsafe fn to_py_and_close(r: HPy) -> *mut cpy_PyObject {
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
        let conv = Conv::new();
        let call = crate::ctx::switch();
        DebugCall {
            conv,
            ctx: call.ctx,
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
