//! Conversions of `HPyDef`s shared by modules (`hpy-universal`'s `module.rs`)
//! and types (`types.rs`).

#![allow(non_upper_case_globals)]

use crate::handle::raise;
use hpy_sys::*;
use pyo3_ffi as ffi;
use std::ffi::c_int;

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
    let Some(flags) = method_flags(meth.signature) else {
        // SAFETY: GIL held.
        unsafe { raise(ffi::PyExc_ValueError, "Unsupported HPyMeth signature") };
        return None;
    };
    // SAFETY: every cpy_trampoline has the C signature that its ml_flags
    // announce (the trampoline was generated for exactly this signature), so
    // storing it as the generic PyCFunction pointer is what CPython expects.
    let meth_ptr: ffi::PyCFunction = unsafe { std::mem::transmute(meth.cpy_trampoline) };
    Some(ffi::PyMethodDef {
        ml_name: meth.name,
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: meth_ptr },
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
    std::iter::from_fn(move || {
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
