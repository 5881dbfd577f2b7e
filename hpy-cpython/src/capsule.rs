//! Capsules. A destructor is an `HPyCapsule_Destructor` made by
//! `HPyCapsule_DESTRUCTOR`: its `cpy_trampoline` becomes the PyCapsule
//! destructor, and calls back through `ctx_CallRealFunctionFromTrampoline`
//! with `HPyFunc_CAPSULE_DESTRUCTOR`, which runs `impl(name, pointer, context)`.

use crate::ffi;
use crate::handle::{as_obj, from_owned, raise};
use core::ffi::{c_char, c_int, c_void};
use hpy_sys::{self as sys, _HPyCapsule_key, HPy, HPyCapsule_Destructor, HPyContext};

// SAFETY (whole module): every function is a context member, called by C with
// the GIL held and with open handles; names are NUL-terminated or NULL; a
// destructor pointer is NULL or points to a static `HPyCapsule_Destructor`.

/// The CPython destructor for `d`: `Ok(None)` for no destructor, `Err` (with
/// ValueError raised) if the struct lacks one of its functions.
///
/// # Safety
/// GIL held; `d` is NULL or valid for reads.
unsafe fn cpy_destructor(
    d: *const HPyCapsule_Destructor,
) -> Result<Option<ffi::PyCapsule_Destructor>, ()> {
    if d.is_null() {
        return Ok(None);
    }
    // SAFETY: `d` is valid (contract).
    let d = unsafe { &*d };
    match (d.cpy_trampoline, d.impl_) {
        // SAFETY: both are `void (*)(PyObject *)`; `cpy_PyObject` is the
        // opaque C spelling of `PyObject`.
        (Some(t), Some(_)) => Ok(Some(unsafe {
            core::mem::transmute::<
                unsafe extern "C" fn(*mut hpy_sys::cpy_PyObject),
                ffi::PyCapsule_Destructor,
            >(t)
        })),
        _ => {
            // SAFETY: GIL held.
            unsafe { raise(ffi::PyExc_ValueError, "Invalid HPyCapsule destructor") };
            Err(())
        }
    }
}

pub unsafe extern "C" fn ctx_Capsule_New(
    _ctx: *mut HPyContext,
    pointer: *mut c_void,
    utf8_name: *const c_char,
    destructor: *mut HPyCapsule_Destructor,
) -> HPy {
    // SAFETY: see module comment; CPython rejects a NULL pointer (ValueError).
    unsafe {
        match cpy_destructor(destructor) {
            Ok(d) => from_owned(ffi::PyCapsule_New(pointer, utf8_name, d)),
            Err(()) => HPy { _i: 0 },
        }
    }
}

/// Reads the attribute selected by `key`; `utf8_name` is checked only for the
/// pointer. NULL with ValueError if `capsule` is not a valid capsule.
pub unsafe extern "C" fn ctx_Capsule_Get(
    _ctx: *mut HPyContext,
    capsule: HPy,
    key: _HPyCapsule_key,
    utf8_name: *const c_char,
) -> *mut c_void {
    let c = as_obj(capsule);
    // SAFETY: see module comment; CPython validates the capsule.
    unsafe {
        match key {
            sys::HPyCapsule_key_Pointer => ffi::PyCapsule_GetPointer(c, utf8_name),
            sys::HPyCapsule_key_Name => ffi::PyCapsule_GetName(c) as *mut c_void,
            sys::HPyCapsule_key_Context => ffi::PyCapsule_GetContext(c),
            sys::HPyCapsule_key_Destructor => {
                raise(
                    ffi::PyExc_ValueError,
                    "Invalid operation: get HPyCapsule_key_Destructor",
                );
                core::ptr::null_mut()
            }
            _ => {
                raise_format!(
                    ffi::PyExc_SystemError,
                    "HPyCapsule_Get: invalid key %u",
                    key
                );
                core::ptr::null_mut()
            }
        }
    }
}

pub unsafe extern "C" fn ctx_Capsule_Set(
    _ctx: *mut HPyContext,
    capsule: HPy,
    key: _HPyCapsule_key,
    value: *mut c_void,
) -> c_int {
    let c = as_obj(capsule);
    // SAFETY: see module comment; CPython validates the capsule (and rejects
    // a NULL pointer). For the name key `value` is a C string that outlives
    // the capsule; for the destructor key an `HPyCapsule_Destructor *`.
    unsafe {
        match key {
            sys::HPyCapsule_key_Pointer => ffi::PyCapsule_SetPointer(c, value),
            sys::HPyCapsule_key_Name => ffi::PyCapsule_SetName(c, value as *const c_char),
            sys::HPyCapsule_key_Context => ffi::PyCapsule_SetContext(c, value),
            sys::HPyCapsule_key_Destructor => {
                match cpy_destructor(value as *const HPyCapsule_Destructor) {
                    Ok(d) => ffi::PyCapsule_SetDestructor(c, d),
                    Err(()) => -1,
                }
            }
            _ => {
                raise_format!(
                    ffi::PyExc_SystemError,
                    "HPyCapsule_Set: invalid key %u",
                    key
                );
                -1
            }
        }
    }
}

/// Nonzero for a capsule with a non-NULL pointer and this name; never fails.
pub unsafe extern "C" fn ctx_Capsule_IsValid(
    _ctx: *mut HPyContext,
    capsule: HPy,
    utf8_name: *const c_char,
) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyCapsule_IsValid(as_obj(capsule), utf8_name) }
}

/// Runs an `HPyCapsule_DESTRUCTOR` impl for `capsule` (which is being
/// deallocated): the `HPyFunc_CAPSULE_DESTRUCTOR` case of
/// `ctx_CallRealFunctionFromTrampoline`.
///
/// # Safety
/// GIL held; `capsule` is a valid capsule; `func` is NULL or a
/// `void (*)(const char *, void *, void *)`.
pub unsafe fn call_capsule_destructor(func: hpy_sys::HPyCFunction, capsule: *mut c_void) {
    let c: *mut ffi::PyObject = capsule.cast();
    // SAFETY: see function contract; `HPyCFunction` and the impl type are
    // both (optional) C function pointers.
    unsafe {
        let f = core::mem::transmute::<hpy_sys::HPyCFunction, hpy_sys::HPyFunc_Capsule_Destructor>(
            func,
        );
        let Some(f) = f else { return };
        // A capsule in tp_dealloc is valid, so these lookups cannot fail and
        // leave any exception being propagated untouched.
        let name = ffi::PyCapsule_GetName(c);
        let pointer = ffi::PyCapsule_GetPointer(c, name);
        let context = ffi::PyCapsule_GetContext(c);
        f(name, pointer, context);
    }
}
