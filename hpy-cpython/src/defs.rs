//! Conversions of `HPyDef`s shared by modules (`hpy-universal`'s `module.rs`)
//! and types (`types/`).

#![allow(non_upper_case_globals)]

use crate::ffi;
use crate::handle::raise;
use core::ffi::c_int;
use hpy_sys::*;

/// `ml_flags` for an `HPyMeth` signature, as upstream's runtime maps them.
pub fn method_flags(sig: HPyFunc_Signature) -> Option<c_int> {
    Some(match sig {
        HPyFunc_VARARGS => ffi::METH_FASTCALL,
        HPyFunc_KEYWORDS => ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        HPyFunc_NOARGS => ffi::METH_NOARGS,
        HPyFunc_O => ffi::METH_O,
        _ => return None,
    })
}

/// Converts one `HPyDef_Kind_Meth` definition (ValueError for a signature
/// that is not a method signature).
///
/// # Safety
/// `meth` comes from an `HPyDef` of kind Meth; GIL held.
pub unsafe fn method_def(meth: &HPyMeth) -> Option<ffi::PyMethodDef> {
    if meth.name.is_null() {
        // A NULL ml_name would end CPython's method table early.
        // SAFETY: GIL held.
        unsafe { raise(ffi::PyExc_ValueError, "HPyDef_METH with a NULL name") };
        return None;
    }
    let Some(flags) = method_flags(meth.signature) else {
        // SAFETY: GIL held.
        unsafe { raise(ffi::PyExc_ValueError, "Unsupported HPyMeth signature") };
        return None;
    };
    if meth.cpy_trampoline.is_none() {
        // SAFETY: GIL held.
        unsafe {
            raise(
                ffi::PyExc_ValueError,
                "HPyDef_METH without a cpy_trampoline",
            )
        };
        return None;
    }
    // SAFETY: every cpy_trampoline has the C signature that its ml_flags
    // announce (the trampoline was generated for exactly this signature), so
    // storing it as the generic PyCFunction pointer is what CPython expects.
    let meth_ptr: ffi::PyCFunction = unsafe { core::mem::transmute(meth.cpy_trampoline) };
    Some(ffi::PyMethodDef {
        ml_name: meth.name,
        ml_meth: Some(meth_ptr),
        ml_flags: flags,
        ml_doc: meth.doc,
    })
}

/// Iterates over a NULL-terminated array of pointers.
///
/// # Safety
/// `arr` is NULL or points to a NULL-terminated array of valid pointers.
pub unsafe fn null_terminated<T>(arr: *mut *mut T) -> impl Iterator<Item = *mut T> {
    let mut i = 0;
    core::iter::from_fn(move || {
        if arr.is_null() {
            return None;
        }
        // SAFETY: the array is NULL-terminated (caller), and we stop there.
        let p = unsafe { *arr.add(i) };
        if p.is_null() {
            None
        } else {
            i += 1;
            Some(p)
        }
    })
}

/// After an `HPy_mod_create` impl ran: CPython would treat a real module
/// object as already initialised, which HPy does not support; turn it into
/// SystemError (the result becomes NULL).
///
/// # Safety
/// `result` is the trampoline's result field (NULL or a new reference); GIL held.
pub unsafe fn reject_module_from_mod_create(result: &mut *mut hpy_sys::cpy_PyObject) {
    let r: *mut ffi::PyObject = (*result).cast();
    // SAFETY: `r` is NULL or a new reference we own; GIL held (caller).
    unsafe {
        if !r.is_null() && ffi::PyModule_Check(r) != 0 {
            ffi::Py_DECREF(r);
            *result = core::ptr::null_mut();
            ffi::PyErr_SetString(
                ffi::PyExc_SystemError,
                c"HPy_mod_create slot returned a builtin module object. This is currently not supported.".as_ptr(),
            );
        }
    }
}
