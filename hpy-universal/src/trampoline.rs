//! `ctx_CallRealFunctionFromTrampoline`: the runtime half of every universal
//! trampoline (see `hpy-sys/abi/trampolines.md`).
//!
//! The extension's trampoline packs CPython's arguments into an
//! `_HPyFunc_args_<SIG>` on its stack; here each argument becomes a handle,
//! `impl` runs, and its result goes back into `result`. Because a universal
//! handle is the object pointer itself, those conversions are free and
//! argument arrays (fastcall vectors, tuple items) are passed through as they
//! are, without copying. Handles given to `impl` are borrowed from the caller.

use hpy_sys::*;
use pyo3_ffi as ffi;
use std::ffi::c_void;

#[inline(always)]
fn h(o: *mut cpy_PyObject) -> HPy {
    HPy { _i: o as isize }
}

#[inline(always)]
fn py(h: HPy) -> *mut cpy_PyObject {
    h._i as *mut cpy_PyObject
}

#[inline(always)]
fn same<T>(x: T) -> T {
    x
}

/// The items of a tuple as a handle array (a tuple's items are contiguous).
///
/// # Safety
/// `t` is a tuple (or NULL), GIL held.
unsafe fn tuple_items(t: *mut cpy_PyObject) -> (*const HPy, HPy_ssize_t) {
    if t.is_null() {
        return (std::ptr::null(), 0);
    }
    let t: *mut ffi::PyObject = t.cast();
    // SAFETY: `t` is a tuple per the tp_new/tp_init calling convention.
    unsafe {
        let items = (*t.cast::<ffi::PyTupleObject>()).ob_item.as_ptr();
        (items.cast(), ffi::PyTuple_GET_SIZE(t))
    }
}

/// Calls `func` as `$F` with the converted fields of the `$S` behind `args`.
macro_rules! dispatch {
    ($args:ident as $S:ident, $func:ident as $F:ident, $ctx:ident,
     ($($conv:ident($($field:tt)+)),*) $(=> $res:ident)?) => {{
        // SAFETY: the trampoline for this signature passed a pointer to its
        // `$S` (trampolines.md), and `func` has the matching impl type.
        unsafe {
            let a = &mut *($args as *mut $S);
            let f: $F = std::mem::transmute::<HPyCFunction, $F>($func);
            let f = f.expect("HPy impl pointer is NULL");
            let _r = f($ctx, $($conv(dispatch!(@field a $($field)+))),*);
            $( a.result = $res(_r); )?
        }
    }};
    (@field $a:ident $f:ident) => { $a.$f };
    (@field $a:ident $e:expr) => { $e };
}

/// # Safety
/// Called only by universal trampolines, with `args` pointing to the argument
/// struct of `sig` and `func` an impl of that signature; GIL held.
pub unsafe extern "C" fn ctx_CallRealFunctionFromTrampoline(
    ctx: *mut HPyContext,
    sig: HPyFunc_Signature,
    func: HPyCFunction,
    args: *mut c_void,
) {
    match sig {
        HPyFunc_NOARGS => dispatch!(args as _HPyFunc_args_NOARGS, func as HPyFunc_noargs, ctx,
            (h(self_)) => py),
        HPyFunc_O => dispatch!(args as _HPyFunc_args_O, func as HPyFunc_o, ctx,
            (h(self_), h(arg)) => py),
        HPyFunc_VARARGS => dispatch!(args as _HPyFunc_args_VARARGS, func as HPyFunc_varargs, ctx,
            (h(self_), same((*(args as *mut _HPyFunc_args_VARARGS)).args as *const HPy),
             same((*(args as *mut _HPyFunc_args_VARARGS)).nargs as usize)) => py),
        HPyFunc_KEYWORDS => {
            // SAFETY: as in `dispatch!`.
            let nargs = unsafe { (*(args as *mut _HPyFunc_args_KEYWORDS)).nargsf }
                & !(ffi::PY_VECTORCALL_ARGUMENTS_OFFSET);
            dispatch!(args as _HPyFunc_args_KEYWORDS, func as HPyFunc_keywords, ctx,
                (h(self_), same((*(args as *mut _HPyFunc_args_KEYWORDS)).args as *const HPy),
                 same({nargs}), h(kwnames)) => py)
        }
        HPyFunc_INITPROC => {
            // SAFETY: tp_init convention: a tuple of arguments.
            let (items, n) = unsafe { tuple_items((*(args as *mut _HPyFunc_args_INITPROC)).args) };
            dispatch!(args as _HPyFunc_args_INITPROC, func as HPyFunc_initproc, ctx,
                (h(self_), same({items}), same({n}), h(kw)) => same)
        }
        HPyFunc_NEWFUNC => {
            // SAFETY: tp_new convention: a tuple of arguments.
            let (items, n) = unsafe { tuple_items((*(args as *mut _HPyFunc_args_NEWFUNC)).args) };
            dispatch!(args as _HPyFunc_args_NEWFUNC, func as HPyFunc_newfunc, ctx,
                (h(self_), same({items}), same({n}), h(kw)) => py)
        }
        HPyFunc_UNARYFUNC | HPyFunc_REPRFUNC | HPyFunc_GETITERFUNC | HPyFunc_ITERNEXTFUNC => {
            dispatch!(args as _HPyFunc_args_UNARYFUNC, func as HPyFunc_unaryfunc, ctx,
                (h(arg0)) => py)
        }
        HPyFunc_BINARYFUNC | HPyFunc_GETATTROFUNC => dispatch!(args as _HPyFunc_args_BINARYFUNC,
            func as HPyFunc_binaryfunc, ctx, (h(arg0), h(arg1)) => py),
        HPyFunc_TERNARYFUNC | HPyFunc_DESCRGETFUNC => dispatch!(args as _HPyFunc_args_TERNARYFUNC,
            func as HPyFunc_ternaryfunc, ctx, (h(arg0), h(arg1), h(arg2)) => py),
        HPyFunc_INQUIRY => dispatch!(args as _HPyFunc_args_INQUIRY, func as HPyFunc_inquiry, ctx,
            (h(arg0)) => same),
        HPyFunc_LENFUNC => dispatch!(args as _HPyFunc_args_LENFUNC, func as HPyFunc_lenfunc, ctx,
            (h(arg0)) => same),
        HPyFunc_HASHFUNC => {
            dispatch!(args as _HPyFunc_args_HASHFUNC, func as HPyFunc_hashfunc, ctx,
            (h(arg0)) => same)
        }
        HPyFunc_SSIZEARGFUNC => dispatch!(args as _HPyFunc_args_SSIZEARGFUNC,
            func as HPyFunc_ssizeargfunc, ctx, (h(arg0), same(arg1)) => py),
        HPyFunc_SSIZESSIZEARGFUNC => dispatch!(args as _HPyFunc_args_SSIZESSIZEARGFUNC,
            func as HPyFunc_ssizessizeargfunc, ctx, (h(arg0), same(arg1), same(arg2)) => py),
        HPyFunc_SSIZEOBJARGPROC => dispatch!(args as _HPyFunc_args_SSIZEOBJARGPROC,
            func as HPyFunc_ssizeobjargproc, ctx, (h(arg0), same(arg1), h(arg2)) => same),
        HPyFunc_SSIZESSIZEOBJARGPROC => dispatch!(args as _HPyFunc_args_SSIZESSIZEOBJARGPROC,
            func as HPyFunc_ssizessizeobjargproc, ctx,
            (h(arg0), same(arg1), same(arg2), h(arg3)) => same),
        HPyFunc_OBJOBJARGPROC | HPyFunc_SETATTROFUNC | HPyFunc_DESCRSETFUNC => {
            dispatch!(args as _HPyFunc_args_OBJOBJARGPROC, func as HPyFunc_objobjargproc, ctx,
                (h(arg0), h(arg1), h(arg2)) => same)
        }
        HPyFunc_OBJOBJPROC => {
            dispatch!(args as _HPyFunc_args_OBJOBJPROC, func as HPyFunc_objobjproc,
            ctx, (h(arg0), h(arg1)) => same)
        }
        HPyFunc_GETATTRFUNC => dispatch!(args as _HPyFunc_args_GETATTRFUNC,
            func as HPyFunc_getattrfunc, ctx, (h(arg0), same(arg1)) => py),
        HPyFunc_SETATTRFUNC => dispatch!(args as _HPyFunc_args_SETATTRFUNC,
            func as HPyFunc_setattrfunc, ctx, (h(arg0), same(arg1), h(arg2)) => same),
        HPyFunc_RICHCMPFUNC => dispatch!(args as _HPyFunc_args_RICHCMPFUNC,
            func as HPyFunc_richcmpfunc, ctx, (h(arg0), h(arg1), same(arg2)) => py),
        HPyFunc_GETTER => dispatch!(args as _HPyFunc_args_GETTER, func as HPyFunc_getter, ctx,
            (h(arg0), same(arg1)) => py),
        HPyFunc_SETTER => dispatch!(args as _HPyFunc_args_SETTER, func as HPyFunc_setter, ctx,
            (h(arg0), h(arg1), same(arg2)) => same),
        HPyFunc_DESTRUCTOR => dispatch!(
            args as _HPyFunc_args_DESTRUCTOR,
            func as HPyFunc_destructor,
            ctx,
            (h(arg0))
        ),
        HPyFunc_MOD_CREATE => {
            dispatch!(args as _HPyFunc_args_UNARYFUNC, func as HPyFunc_mod_create, ctx,
                (h(arg0)) => py);
            // SAFETY: the struct was just written by `dispatch!`; GIL held.
            unsafe {
                let a = &mut *(args as *mut _HPyFunc_args_UNARYFUNC);
                hpy_cpython::defs::reject_module_from_mod_create(&mut a.result);
            }
        }
        HPyFunc_CAPSULE_DESTRUCTOR => {
            // SAFETY: for this signature `args` is the capsule being
            // deallocated and `func` an `HPyFunc_Capsule_Destructor`
            // (trampolines.md); GIL held.
            unsafe { hpy_cpython::call_capsule_destructor(func, args) }
        }
        HPyFunc_TRAVERSEPROC => {
            // SAFETY: `args` is the trampoline's `_HPyFunc_args_TRAVERSEPROC`
            // and `func` an `HPyFunc_traverseproc` (trampolines.md); GIL held.
            unsafe { hpy_cpython::call_traverse(func, args) }
        }
        HPyFunc_GETBUFFERPROC => {
            // SAFETY: `args` is an `_HPyFunc_args_GETBUFFERPROC`, `func` an
            // `HPyFunc_getbufferproc`; GIL held.
            unsafe { hpy_cpython::call_getbuffer(ctx, func, args) }
        }
        HPyFunc_RELEASEBUFFERPROC => {
            // SAFETY: `args` is an `_HPyFunc_args_RELEASEBUFFERPROC`, `func`
            // an `HPyFunc_releasebufferproc`; GIL held.
            unsafe { hpy_cpython::call_releasebuffer(ctx, func, args) }
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

#[cold]
fn unsupported(sig: HPyFunc_Signature) {
    // The trampoline will return its `result` field, which we cannot know how
    // to fill for a signature we do not handle: stopping is the only safe move.
    let msg = format!(
        "hpy-rs: ctx_CallRealFunctionFromTrampoline: unsupported HPyFunc_Signature {sig}\0"
    );
    // SAFETY: NUL-terminated message; Py_FatalError does not return.
    unsafe { ffi::Py_FatalError(msg.as_ptr().cast()) }
}
