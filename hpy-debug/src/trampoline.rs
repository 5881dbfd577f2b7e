//! `ctx_CallRealFunctionFromTrampoline` of the debug context: like the
//! universal one, but every `PyObject *` argument becomes a fresh debug
//! handle, the impl runs with a context copy of its own (see `ctx.rs`), the
//! argument handles are closed after the call (one the impl closed itself is
//! reported), and then the result handle becomes a new reference and is
//! closed. Signatures whose impl receives no handles (capsule destructors,
//! traverse, destroy) are handed to the inner context unchanged.

use crate::handles;
use hpy_sys::*;
use pyo3_ffi as ffi;
use std::ffi::c_void;

/// Handles kept on the stack per call before spilling to the heap.
const INLINE: usize = 8;

/// The handles opened for one call, closed when it returns. Small calls
/// need no allocation: the first handles and the first argument array live
/// in inline buffers. A `Conv` must not move once `arr` has handed out a
/// pointer into it (it is a local of the dispatching call).
struct Conv {
    /// The first `n_opened` handles opened, in order; the rest in `more`.
    opened: [HPy; INLINE],
    n_opened: usize,
    more: Vec<HPy>,
    /// The first argument array, if it fits; any other in `arrays`.
    arr_inline: [HPy; INLINE],
    arr_used: bool,
    arrays: Vec<Vec<HPy>>,
}

impl Default for Conv {
    fn default() -> Conv {
        Conv {
            opened: [HPy_NULL; INLINE],
            n_opened: 0,
            more: Vec::new(),
            arr_inline: [HPy_NULL; INLINE],
            arr_used: false,
            arrays: Vec::new(),
        }
    }
}

impl Conv {
    /// A new debug handle for the borrowed object `o`.
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
            self.more.push(dh);
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
        self.arrays.push(v);
        p
    }

    /// Closes the argument handles (reporting any the impl closed).
    fn close_args(&mut self) {
        let n = std::mem::take(&mut self.n_opened);
        let more = std::mem::take(&mut self.more);
        for &h in self.opened[..n].iter().chain(more.iter()) {
            // SAFETY: GIL held (we are inside a trampoline call).
            unsafe { handles::close(h) };
        }
    }

    /// A new reference for the result handle, which is then closed.
    fn py(&mut self, r: HPy) -> *mut cpy_PyObject {
        // SAFETY: GIL held (inside a trampoline call).
        unsafe { to_py_and_close(r) }
    }
}

impl Drop for Conv {
    fn drop(&mut self) {
        self.close_args();
    }
}

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
        let uh = handles::unwrap(r);
        let o = if uh.is_null() {
            std::ptr::null_mut()
        } else {
            ((*inner).ctx_AsPyObject.unwrap_unchecked())(inner, uh)
        };
        handles::close_result(r);
        o
    }
}

#[inline(always)]
fn same<T>(x: T) -> T {
    x
}

/// The items of a tuple (NULL → empty).
///
/// # Safety
/// `t` is NULL or a tuple; GIL held.
unsafe fn tuple_items(t: *mut cpy_PyObject) -> (*const *mut cpy_PyObject, usize) {
    if t.is_null() {
        return (std::ptr::null(), 0);
    }
    let t: *mut ffi::PyObject = t.cast();
    // SAFETY: `t` is a tuple (tp_new/tp_init convention).
    unsafe {
        let items = (*t.cast::<ffi::PyTupleObject>()).ob_item.as_ptr();
        (items.cast(), ffi::PyTuple_GET_SIZE(t) as usize)
    }
}

/// Calls `func` as `$F` with arguments built from the `$S` behind `args`
/// (`$a` names the struct, `$c` the converter) and a context copy of its own,
/// closes the argument handles, then stores the converted result.
macro_rules! call {
    ($args:ident as $S:ident, $func:ident as $F:ident,
     |$a:ident, $c:ident| ($($arg:expr),*) $(=> $res:ident)?) => {{
        // SAFETY: the trampoline for this signature passed a pointer to its
        // `$S` (trampolines.md), and `func` has the matching impl type.
        unsafe {
            let $a = &mut *($args as *mut $S);
            let f: $F = std::mem::transmute::<HPyCFunction, $F>($func);
            let f = f.expect("HPy impl pointer is NULL");
            let mut $c = Conv::default();
            let call = crate::ctx::switch();
            let _r = f(call.ctx, $($arg),*);
            drop(call);
            $c.close_args();
            $( $a.result = $c.$res(_r); )?
        }
    }};
}

/// # Safety
/// Called only by trampolines of an extension loaded with the debug context,
/// with `args` the argument struct of `sig` and `func` an impl of it; GIL held.
pub unsafe extern "C" fn ctx_CallRealFunctionFromTrampoline(
    _dctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
) {
    match sig {
        HPyFunc_NOARGS => call!(args as _HPyFunc_args_NOARGS, func as HPyFunc_noargs,
            |a, c| (c.h(a.self_)) => py),
        HPyFunc_O => call!(args as _HPyFunc_args_O, func as HPyFunc_o,
            |a, c| (c.h(a.self_), c.h(a.arg)) => py),
        HPyFunc_VARARGS => call!(args as _HPyFunc_args_VARARGS, func as HPyFunc_varargs,
            |a, c| (c.h(a.self_), c.arr(a.args, a.nargs as usize), a.nargs as usize) => py),
        HPyFunc_KEYWORDS => call!(args as _HPyFunc_args_KEYWORDS, func as HPyFunc_keywords,
            |a, c| (c.h(a.self_), {
                let n = a.nargsf & !(ffi::PY_VECTORCALL_ARGUMENTS_OFFSET);
                let nkw = if a.kwnames.is_null() { 0 }
                    else { ffi::PyTuple_GET_SIZE(a.kwnames.cast()) as usize };
                c.arr(a.args, n + nkw)
            }, a.nargsf & !(ffi::PY_VECTORCALL_ARGUMENTS_OFFSET), c.h(a.kwnames)) => py),
        HPyFunc_INITPROC => call!(args as _HPyFunc_args_INITPROC, func as HPyFunc_initproc,
            |a, c| (c.h(a.self_), { let (p, n) = tuple_items(a.args); c.arr(p, n) },
                tuple_items(a.args).1 as HPy_ssize_t, c.h(a.kw)) => same_),
        HPyFunc_NEWFUNC => call!(args as _HPyFunc_args_NEWFUNC, func as HPyFunc_newfunc,
            |a, c| (c.h(a.self_), { let (p, n) = tuple_items(a.args); c.arr(p, n) },
                tuple_items(a.args).1 as HPy_ssize_t, c.h(a.kw)) => py),
        HPyFunc_UNARYFUNC | HPyFunc_REPRFUNC | HPyFunc_GETITERFUNC | HPyFunc_ITERNEXTFUNC => {
            call!(args as _HPyFunc_args_UNARYFUNC, func as HPyFunc_unaryfunc,
                |a, c| (c.h(a.arg0)) => py)
        }
        HPyFunc_BINARYFUNC | HPyFunc_GETATTROFUNC => call!(args as _HPyFunc_args_BINARYFUNC,
            func as HPyFunc_binaryfunc, |a, c| (c.h(a.arg0), c.h(a.arg1)) => py),
        HPyFunc_TERNARYFUNC | HPyFunc_DESCRGETFUNC => call!(
            args as _HPyFunc_args_TERNARYFUNC, func as HPyFunc_ternaryfunc,
            |a, c| (c.h(a.arg0), c.h(a.arg1), c.h(a.arg2)) => py),
        HPyFunc_INQUIRY => call!(args as _HPyFunc_args_INQUIRY, func as HPyFunc_inquiry,
            |a, c| (c.h(a.arg0)) => same_),
        HPyFunc_LENFUNC => call!(args as _HPyFunc_args_LENFUNC, func as HPyFunc_lenfunc,
            |a, c| (c.h(a.arg0)) => same_),
        HPyFunc_HASHFUNC => call!(args as _HPyFunc_args_HASHFUNC, func as HPyFunc_hashfunc,
            |a, c| (c.h(a.arg0)) => same_),
        HPyFunc_SSIZEARGFUNC => call!(args as _HPyFunc_args_SSIZEARGFUNC,
            func as HPyFunc_ssizeargfunc, |a, c| (c.h(a.arg0), a.arg1) => py),
        HPyFunc_SSIZESSIZEARGFUNC => call!(args as _HPyFunc_args_SSIZESSIZEARGFUNC,
            func as HPyFunc_ssizessizeargfunc, |a, c| (c.h(a.arg0), a.arg1, a.arg2) => py),
        HPyFunc_SSIZEOBJARGPROC => call!(args as _HPyFunc_args_SSIZEOBJARGPROC,
            func as HPyFunc_ssizeobjargproc, |a, c| (c.h(a.arg0), a.arg1, c.h(a.arg2)) => same_),
        HPyFunc_SSIZESSIZEOBJARGPROC => call!(args as _HPyFunc_args_SSIZESSIZEOBJARGPROC,
            func as HPyFunc_ssizessizeobjargproc,
            |a, c| (c.h(a.arg0), a.arg1, a.arg2, c.h(a.arg3)) => same_),
        HPyFunc_OBJOBJARGPROC | HPyFunc_SETATTROFUNC | HPyFunc_DESCRSETFUNC => call!(
            args as _HPyFunc_args_OBJOBJARGPROC, func as HPyFunc_objobjargproc,
            |a, c| (c.h(a.arg0), c.h(a.arg1), c.h(a.arg2)) => same_),
        HPyFunc_OBJOBJPROC => call!(args as _HPyFunc_args_OBJOBJPROC,
            func as HPyFunc_objobjproc, |a, c| (c.h(a.arg0), c.h(a.arg1)) => same_),
        HPyFunc_GETATTRFUNC => call!(args as _HPyFunc_args_GETATTRFUNC,
            func as HPyFunc_getattrfunc, |a, c| (c.h(a.arg0), a.arg1) => py),
        HPyFunc_SETATTRFUNC => call!(args as _HPyFunc_args_SETATTRFUNC,
            func as HPyFunc_setattrfunc, |a, c| (c.h(a.arg0), a.arg1, c.h(a.arg2)) => same_),
        HPyFunc_RICHCMPFUNC => call!(args as _HPyFunc_args_RICHCMPFUNC,
            func as HPyFunc_richcmpfunc, |a, c| (c.h(a.arg0), c.h(a.arg1), a.arg2) => py),
        HPyFunc_GETTER => call!(args as _HPyFunc_args_GETTER, func as HPyFunc_getter,
            |a, c| (c.h(a.arg0), a.arg1) => py),
        HPyFunc_SETTER => call!(args as _HPyFunc_args_SETTER, func as HPyFunc_setter,
            |a, c| (c.h(a.arg0), c.h(a.arg1), a.arg2) => same_),
        HPyFunc_DESTRUCTOR => call!(
            args as _HPyFunc_args_DESTRUCTOR,
            func as HPyFunc_destructor,
            |a, c| (c.h(a.arg0))
        ),
        HPyFunc_MOD_CREATE => {
            // SAFETY: the trampoline passed its argument struct, `func` is
            // an `HPyFunc_mod_create`; GIL held.
            unsafe {
                let a = &mut *(args as *mut _HPyFunc_args_UNARYFUNC);
                let f = std::mem::transmute::<HPyCFunction, HPyFunc_mod_create>(func)
                    .expect("HPy impl pointer is NULL");
                let mut c = Conv::default();
                let call = crate::ctx::switch();
                let r = f(call.ctx, c.h(a.arg0));
                drop(call);
                c.close_args();
                a.result = c.py(r);
                hpy_cpython::defs::reject_module_from_mod_create(&mut a.result);
            }
        }
        HPyFunc_GETBUFFERPROC => {
            // SAFETY: the trampoline passed its argument struct (`view` is
            // CPython's Py_buffer to fill), `func` is an HPyFunc_getbufferproc;
            // GIL held.
            unsafe { getbuffer(func, &mut *(args as *mut _HPyFunc_args_GETBUFFERPROC)) }
        }
        HPyFunc_RELEASEBUFFERPROC => {
            // SAFETY: as above, for HPyFunc_releasebufferproc.
            unsafe { releasebuffer(func, &mut *(args as *mut _HPyFunc_args_RELEASEBUFFERPROC)) }
        }
        _ => {
            // No handles involved (capsule destructors, traverse, destroy):
            // the inner context's dispatcher does the work.
            let inner = crate::inner_ctx();
            // SAFETY: same contract as ours, forwarded; GIL held.
            unsafe {
                ((*inner)
                    .ctx_CallRealFunctionFromTrampoline
                    .unwrap_unchecked())(inner, sig, func, args)
            }
        }
    }
}

trait Same {
    fn same_<T>(&mut self, x: T) -> T;
}

impl Same for Conv {
    fn same_<T>(&mut self, x: T) -> T {
        same(x)
    }
}

/// `HPyFunc_GETBUFFERPROC`: the impl fills an `HPy_buffer` whose `obj` is a
/// debug handle; it becomes the view's (new) reference and is closed.
///
/// # Safety
/// GIL held; `a` is the trampoline's argument struct, `func` its impl.
unsafe fn getbuffer(func: HPyCFunction, a: &mut _HPyFunc_args_GETBUFFERPROC) {
    // SAFETY: forwarded contract; `view` is a CPython Py_buffer.
    unsafe {
        let f = std::mem::transmute::<HPyCFunction, HPyFunc_getbufferproc>(func)
            .expect("HPy impl pointer is NULL");
        let mut c = Conv::default();
        let mut hb: HPy_buffer = std::mem::zeroed();
        let call = crate::ctx::switch();
        a.result = f(call.ctx, c.h(a.self_), &mut hb, a.flags);
        drop(call);
        c.close_args();
        let view = &mut *a.view.cast::<ffi::Py_buffer>();
        if a.result < 0 {
            view.obj = std::ptr::null_mut();
            return;
        }
        view.buf = hb.buf;
        view.obj = to_py_and_close(hb.obj).cast();
        view.len = hb.len;
        view.itemsize = hb.itemsize;
        view.readonly = hb.readonly;
        view.ndim = hb.ndim;
        view.format = hb.format;
        view.shape = hb.shape;
        view.strides = hb.strides;
        view.suboffsets = hb.suboffsets;
        view.internal = hb.internal;
    }
}

/// `HPyFunc_RELEASEBUFFERPROC`: the impl reads an `HPy_buffer` copied from
/// the view, its `obj` a debug handle open for the call.
///
/// # Safety
/// GIL held; `a` is the trampoline's argument struct, `func` its impl.
unsafe fn releasebuffer(func: HPyCFunction, a: &mut _HPyFunc_args_RELEASEBUFFERPROC) {
    // SAFETY: forwarded contract; `view` is a CPython Py_buffer.
    unsafe {
        let f = std::mem::transmute::<HPyCFunction, HPyFunc_releasebufferproc>(func)
            .expect("HPy impl pointer is NULL");
        let mut c = Conv::default();
        let v = &*a.view.cast::<ffi::Py_buffer>();
        let mut hb = hpy_cpython::hpy_buffer_from_view(v, c.h(v.obj.cast()));
        let call = crate::ctx::switch();
        f(call.ctx, c.h(a.self_), &mut hb);
        drop(call);
        c.close_args();
    }
}
