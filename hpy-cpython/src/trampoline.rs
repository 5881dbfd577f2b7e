//! The one dispatcher behind every `ctx_CallRealFunctionFromTrampoline` (see
//! `hpy-sys/abi/trampolines.md`): the universal context's is
//! `call_real_function::<Borrowed>`, the debug context's
//! `call_real_function::<its own Crossing>`.
//!
//! A universal trampoline packs CPython's arguments into an
//! `_HPyFunc_args_<SIG>` on its stack; here each argument is converted as
//! `hpy-sys/hpyfunc.txt` declares (one arm per `for_each_hpyfunc!` entry),
//! `impl` runs, and its result goes back into `result`. How a handle crosses
//! is the [`Crossing`]: free in universal mode ([`Borrowed`]: a universal
//! handle *is* the object pointer, and argument arrays are passed as they
//! are), a debug handle opened and closed around the call in debug mode.
//! Everything is `#[inline(always)]`, so each context gets its own
//! monomorphized `match`, as fast as one written by hand.

// HPyFunc_* are C names, matched as constants.
#![allow(non_upper_case_globals)]

use crate::defs::reject_module_from_mod_create;
use crate::ffi;
use crate::handle::fatal;
use core::ffi::c_void;
use hpy_sys::*;

/// How handles cross between a trampoline's CPython objects and `impl`, for
/// one call: `enter` before the arguments are converted, `leave` after
/// `impl` returned, before its result is converted.
pub trait Crossing: Sized {
    fn enter(ctx: *mut HPyContext) -> Self;
    /// The context `impl` runs with.
    fn ctx(&self) -> *mut HPyContext;
    /// A handle for the borrowed object `o` (NULL stays `HPy_NULL`).
    fn obj(&mut self, o: *mut cpy_PyObject) -> HPy;
    /// Handles for the `n` borrowed objects at `items`.
    ///
    /// # Safety
    /// `items` points to `n` live objects; GIL held.
    unsafe fn array(&mut self, items: *const *mut cpy_PyObject, n: usize) -> *const HPy;
    fn leave(&mut self);
    /// A new reference for `impl`'s result handle `r` (NULL stays NULL).
    ///
    /// # Safety
    /// GIL held; `r` was returned by `impl` in this call.
    unsafe fn result(&mut self, r: HPy) -> *mut cpy_PyObject;
    /// The signatures whose impl gets no handles (`hand` in hpyfunc.txt:
    /// traverse, capsule destructors, destroy) and unknown ones.
    ///
    /// # Safety
    /// As [`call_real_function`].
    unsafe fn without_handles(
        ctx: *mut HPyContext,
        sig: HPyFunc_Signature,
        func: HPyCFunction,
        args: *mut c_void,
    );
}

/// The universal context's crossing: a handle is the `PyObject *` itself,
/// and `impl` borrows the caller's references.
pub struct Borrowed(*mut HPyContext);

impl Crossing for Borrowed {
    #[inline(always)]
    fn enter(ctx: *mut HPyContext) -> Self {
        Borrowed(ctx)
    }
    #[inline(always)]
    fn ctx(&self) -> *mut HPyContext {
        self.0
    }
    #[inline(always)]
    fn obj(&mut self, o: *mut cpy_PyObject) -> HPy {
        HPy { _i: o as isize }
    }
    #[inline(always)]
    unsafe fn array(&mut self, items: *const *mut cpy_PyObject, _n: usize) -> *const HPy {
        items.cast()
    }
    #[inline(always)]
    fn leave(&mut self) {}
    #[inline(always)]
    unsafe fn result(&mut self, r: HPy) -> *mut cpy_PyObject {
        r._i as *mut cpy_PyObject // `impl`'s new reference, handed on
    }
    #[inline(always)]
    unsafe fn without_handles(
        _ctx: *mut HPyContext,
        sig: HPyFunc_Signature,
        func: HPyCFunction,
        args: *mut c_void,
    ) {
        match sig {
            HPyFunc_CAPSULE_DESTRUCTOR => {
                // SAFETY: for this signature `args` is the capsule being
                // deallocated and `func` an `HPyFunc_Capsule_Destructor`
                // (trampolines.md); GIL held.
                unsafe { crate::call_capsule_destructor(func, args) }
            }
            HPyFunc_TRAVERSEPROC => {
                // SAFETY: `args` is the trampoline's `_HPyFunc_args_TRAVERSEPROC`
                // and `func` an `HPyFunc_traverseproc` (trampolines.md); GIL held.
                unsafe { crate::call_traverse(func, args) }
            }
            HPyFunc_DESTROYFUNC => {
                // HPy_tp_destroy is never registered with CPython: the runtime
                // calls `impl(payload)` from its own tp_dealloc, and the
                // extension's trampoline aborts before reaching us.
                // SAFETY: NUL-terminated message; Py_FatalError does not return.
                unsafe {
                    ffi::Py_FatalError(
                        c"hpy-rs: HPy_tp_destroy must not be called through a trampoline".as_ptr(),
                    )
                }
            }
            _ => unsupported(sig),
        }
    }
}

#[cold]
fn unsupported(sig: HPyFunc_Signature) {
    // The trampoline will return its `result` field, which we cannot know how
    // to fill for a signature we do not handle: stopping is the only safe move.
    let mut digits = [0u8; 11];
    let mut i = digits.len() - 1; // the last byte stays the NUL
    let mut n = sig;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Without core::fmt: the message, then the number in the fatal line.
    // SAFETY: pointer and length describe the message; fd 2 is the
    // standard error (a bad descriptor only makes `write` fail).
    unsafe {
        let msg = b"hpy-rs: ctx_CallRealFunctionFromTrampoline: unsupported HPyFunc_Signature ";
        libc::write(2, msg.as_ptr().cast(), msg.len());
    }
    // SAFETY: `digits[i..]` is NUL-terminated (its last byte); Py_FatalError
    // does not return.
    unsafe { ffi::Py_FatalError(digits[i..].as_ptr().cast()) }
}

/// `nargsf` without `PY_VECTORCALL_ARGUMENTS_OFFSET`.
#[inline(always)]
fn nargs(nargsf: usize) -> usize {
    nargsf & !ffi::PY_VECTORCALL_ARGUMENTS_OFFSET
}

/// The number of keyword arguments of a vectorcall (`kwnames` may be NULL).
///
/// # Safety
/// `kwnames` is NULL or a tuple; GIL held.
#[inline(always)]
unsafe fn kwcount(kwnames: *mut cpy_PyObject) -> usize {
    if kwnames.is_null() {
        0
    } else {
        // SAFETY: a tuple, per the vectorcall convention.
        unsafe { ffi::PyTuple_GET_SIZE(kwnames.cast()) as usize }
    }
}

/// The items of a tuple (NULL → empty; a tuple's items are contiguous).
///
/// # Safety
/// `t` is NULL or a tuple; GIL held.
#[inline(always)]
unsafe fn tuple_items(t: *mut cpy_PyObject) -> (*const *mut cpy_PyObject, usize) {
    if t.is_null() {
        return (core::ptr::null(), 0);
    }
    let t: *mut ffi::PyObject = t.cast();
    // SAFETY: `t` is a tuple (tp_new/tp_init convention).
    unsafe {
        let items = (*t.cast::<ffi::PyTupleObject>()).ob_item.as_ptr();
        (items.cast(), ffi::PyTuple_GET_SIZE(t) as usize)
    }
}

/// One impl argument, converted from the block `$a` as hpyfunc.txt says.
macro_rules! arg {
    ($c:ident, $a:ident, obj($f:ident)) => {
        $c.obj($a.$f)
    };
    ($c:ident, $a:ident, val($f:ident)) => {
        $a.$f
    };
    ($c:ident, $a:ident, cast($f:ident)) => {
        $a.$f as _
    };
    ($c:ident, $a:ident, array($f:ident, $n:ident)) => {
        $c.array($a.$f, $a.$n as usize)
    };
    ($c:ident, $a:ident, kwarray($f:ident, $nf:ident, $kw:ident)) => {
        $c.array($a.$f, nargs($a.$nf) + kwcount($a.$kw))
    };
    ($c:ident, $a:ident, nargsf($f:ident)) => {
        nargs($a.$f)
    };
    ($c:ident, $a:ident, tuple_items($f:ident)) => {{
        let (items, n) = tuple_items($a.$f);
        $c.array(items, n)
    }};
    ($c:ident, $a:ident, tuple_len($f:ident)) => {
        tuple_items($a.$f).1 as HPy_ssize_t
    };
}

/// Stores `impl`'s result `$r` into the block `$a` as hpyfunc.txt says.
macro_rules! result {
    ($c:ident, $a:ident, $r:ident, obj) => {
        $a.result = $c.result($r)
    };
    ($c:ident, $a:ident, $r:ident, val) => {
        $a.result = $r
    };
    ($c:ident, $a:ident, $r:ident, module) => {{
        $a.result = $c.result($r);
        reject_module_from_mod_create(&mut $a.result);
    }};
    ($c:ident, $a:ident, $r:ident, void) => {
        let () = $r;
    };
}

/// The `match` over every signature of `for_each_hpyfunc!`, plus the buffer
/// slots (hand-written: they convert a whole `Py_buffer`).
macro_rules! arms {
    ($( ($sig:path, $F:ty, $S:ty, ($($conv:ident($($f:ident),+)),*) -> $res:ident) ),* $(,)?) => {
        #[inline(always)]
        unsafe fn arms<C: Crossing>(
            ctx: *mut HPyContext,
            sig: HPyFunc_Signature,
            func: HPyCFunction,
            args: *mut c_void,
        ) -> bool {
            match sig {
                $( $sig => {
                    // SAFETY: the trampoline of `$sig` passed its `$S`
                    // (trampolines.md) and `func` has the matching impl type
                    // `$F` (the caller's contract); GIL held.
                    unsafe {
                        let a = &mut *args.cast::<$S>();
                        // Never NULL: a trampoline passes the impl its
                        // `HPyDef` was made with (hpydef.h).
                        let f = core::mem::transmute::<HPyCFunction, $F>(func)
                            .unwrap_unchecked();
                        let mut c = C::enter(ctx);
                        let r = f(c.ctx(), $(arg!(c, a, $conv($($f),+))),*);
                        c.leave();
                        result!(c, a, r, $res);
                    }
                }
                )*
                HPyFunc_GETBUFFERPROC => {
                    // SAFETY: the trampoline passed its block and `func` is
                    // an `HPyFunc_getbufferproc` (the caller's contract).
                    unsafe { getbuffer::<C>(ctx, func, &mut *args.cast()) }
                }
                HPyFunc_RELEASEBUFFERPROC => {
                    // SAFETY: as above, for `HPyFunc_releasebufferproc`.
                    unsafe { releasebuffer::<C>(ctx, func, &mut *args.cast()) }
                }
                _ => return false,
            }
            true
        }
    };
}

hpy_sys::for_each_hpyfunc!(arms);

/// `ctx_CallRealFunctionFromTrampoline` of a context whose handles cross as
/// `C` says.
///
/// # Safety
/// Called only by universal trampolines (through the context), with `args`
/// pointing to the argument block of `sig` and `func` an impl of `sig`; GIL
/// held.
pub unsafe extern "C" fn call_real_function<C: Crossing>(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
) {
    // SAFETY: our own contract is theirs.
    let done = unsafe { arms::<C>(ctx, sig, func, args) };
    if !done {
        // SAFETY: as above.
        unsafe { C::without_handles(ctx, sig, func, args) }
    }
}

/// `HPyFunc_GETBUFFERPROC`: the impl fills an `HPy_buffer`; on success its
/// fields move into CPython's `Py_buffer`, its `obj` handle becoming the
/// view's reference.
///
/// # Safety
/// GIL held; `a` is the trampoline's block, `func` an `HPyFunc_getbufferproc`.
// Out of line: its `HPy_buffer` would otherwise grow every call's stack frame.
#[inline(never)]
unsafe fn getbuffer<C: Crossing>(
    ctx: *mut HPyContext,
    func: HPyCFunction,
    a: &mut _HPyFunc_args_GETBUFFERPROC,
) {
    // SAFETY: forwarded contract; `view` is CPython's Py_buffer.
    unsafe {
        let f = core::mem::transmute::<HPyCFunction, HPyFunc_getbufferproc>(func)
            .unwrap_or_else(|| fatal(c"hpy-rs: HPy impl pointer is NULL"));
        let mut hb: HPy_buffer = core::mem::zeroed();
        let mut c = C::enter(ctx);
        a.result = f(c.ctx(), c.obj(a.self_), &mut hb, a.flags);
        c.leave();
        let view = &mut *a.view.cast::<ffi::Py_buffer>();
        if a.result < 0 {
            view.obj = core::ptr::null_mut();
            return;
        }
        view.buf = hb.buf;
        view.obj = c.result(hb.obj).cast();
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
/// CPython's `Py_buffer`, its `obj` a handle for the view's object.
///
/// # Safety
/// GIL held; `a` is the trampoline's block, `func` an
/// `HPyFunc_releasebufferproc`.
// Out of line: its `HPy_buffer` would otherwise grow every call's stack frame.
#[inline(never)]
unsafe fn releasebuffer<C: Crossing>(
    ctx: *mut HPyContext,
    func: HPyCFunction,
    a: &mut _HPyFunc_args_RELEASEBUFFERPROC,
) {
    // SAFETY: forwarded contract; `view` is CPython's Py_buffer.
    unsafe {
        let f = core::mem::transmute::<HPyCFunction, HPyFunc_releasebufferproc>(func)
            .unwrap_or_else(|| fatal(c"hpy-rs: HPy impl pointer is NULL"));
        let v = &*a.view.cast::<ffi::Py_buffer>();
        let mut c = C::enter(ctx);
        let mut hb = hpy_buffer_from_view(v, c.obj(v.obj.cast()));
        f(c.ctx(), c.obj(a.self_), &mut hb);
        c.leave();
    }
}

/// CPython's `Py_buffer` as the `HPy_buffer` a releasebuffer impl reads, with
/// `obj` given as a handle (its encoding is the crossing's).
#[inline(always)]
fn hpy_buffer_from_view(v: &ffi::Py_buffer, obj: HPy) -> HPy_buffer {
    HPy_buffer {
        buf: v.buf,
        obj,
        len: v.len,
        itemsize: v.itemsize,
        readonly: v.readonly,
        ndim: v.ndim,
        format: v.format,
        shape: v.shape,
        strides: v.strides,
        suboffsets: v.suboffsets,
        internal: v.internal,
    }
}
