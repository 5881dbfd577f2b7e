//! `HPyField`s: storing and loading them, exposing `HPyMember_OBJECT(_EX)`
//! members (which hold fields) as getsets, and walking an object's fields to
//! clear them or to report them to CPython's GC (`traverse`).

use super::typedata::{payload, TraverseFn};
use crate::ffi;
use crate::handle::{as_obj, fatal, from_owned, new_ref};
use core::ffi::{c_char, c_int, c_void};
use core::ptr::null_mut;
use hpy_sys::*;

// ---------------------------------------------------------------------------
// Members that hold fields

/// Closure of the getset that exposes an `HPyMember_OBJECT(_EX)` field.
pub(super) struct FieldMember {
    pub(super) offset: isize,
    pub(super) name: *const c_char,
    pub(super) ex: bool,
}

pub(super) unsafe extern "C" fn field_get(
    obj: *mut ffi::PyObject,
    closure: *mut c_void,
) -> *mut ffi::PyObject {
    // SAFETY: `closure` is the FieldMember of this getset (owned by the
    // type's data, alive while the getset is: see `SpecStorage`), its offset
    // addresses an HPyField inside `obj`.
    unsafe {
        let m = &*(closure as *const FieldMember);
        let v = *obj
            .cast::<u8>()
            .offset(m.offset)
            .cast::<*mut ffi::PyObject>();
        if v.is_null() {
            if m.ex {
                missing_attribute(obj, m.name);
                return null_mut();
            }
            return new_ref(ffi::Py_None());
        }
        new_ref(v)
    }
}

#[cold]
#[inline(never)]
unsafe fn missing_attribute(obj: *mut ffi::PyObject, name: *const c_char) {
    // SAFETY: `name` is the member's NUL-terminated name, `tp_name` the
    // type's; GIL held.
    unsafe {
        raise_format!(
            ffi::PyExc_AttributeError,
            "'%.50s' object has no attribute '%s'",
            (*ffi::Py_TYPE(obj)).tp_name,
            name,
        );
    }
}

pub(super) unsafe extern "C" fn field_set(
    obj: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
    closure: *mut c_void,
) -> c_int {
    // SAFETY: as in `field_get`; `value` is NULL (delete) or a live object.
    unsafe {
        let m = &*(closure as *const FieldMember);
        let slot = obj
            .cast::<u8>()
            .offset(m.offset)
            .cast::<*mut ffi::PyObject>();
        let old = *slot;
        if value.is_null() && old.is_null() && m.ex {
            missing_attribute(obj, m.name);
            return -1;
        }
        ffi::Py_XINCREF(value);
        *slot = value;
        ffi::Py_XDECREF(old);
        0
    }
}

// ---------------------------------------------------------------------------
// Context functions

pub unsafe extern "C" fn ctx_Field_Store(
    _ctx: *mut HPyContext,
    _target: HPy,
    field: *mut HPyField,
    h: HPy,
) {
    // SAFETY: `field` lies inside the target's payload and holds NULL or a
    // reference owned by the object; the new value gets its own reference.
    unsafe {
        let old = (*field)._i as *mut ffi::PyObject;
        ffi::Py_XINCREF(as_obj(h));
        (*field)._i = h._i;
        ffi::Py_XDECREF(old);
    }
}

pub unsafe extern "C" fn ctx_Field_Load(
    _ctx: *mut HPyContext,
    _source: HPy,
    field: HPyField,
) -> HPy {
    let o = field._i as *mut ffi::PyObject;
    // SAFETY: the field holds NULL or a live reference owned by `source`.
    unsafe { ffi::Py_XINCREF(o) };
    from_owned(o)
}

// ---------------------------------------------------------------------------
// Clearing

unsafe extern "C" fn clear_visitor(f: *mut HPyField, _arg: *mut c_void) -> c_int {
    // SAFETY: `f` points to a field inside a live object (traverse impl).
    unsafe {
        let old = (*f)._i as *mut ffi::PyObject;
        (*f)._i = 0;
        ffi::Py_XDECREF(old);
    }
    0
}

/// Releases every field of the object whose payload is `p` that the
/// traverse impls of the HPy types in its hierarchy visit (`tp_clear`,
/// `tp_dealloc`): `traverses` is its nearest HPy type's
/// `Teardown::traverses`.
///
/// # Safety
/// `p` is the payload of a valid object whose nearest HPy type has these
/// traverse impls; GIL held.
#[inline(never)]
pub(super) unsafe fn clear_fields(p: *mut c_void, traverses: &[TraverseFn]) {
    for trav in traverses {
        // SAFETY: forwarded; traverse impls receive the payload of the object.
        unsafe { trav(p, Some(clear_visitor), null_mut()) };
    }
}

// ---------------------------------------------------------------------------
// Traversal for CPython's GC: the dispatcher's `HPyFunc_TRAVERSEPROC` arm
// (`call_traverse`) and the CPython-ABI runtime (`traverse`) end here.

struct VisitArgs {
    visit: cpy_visitproc,
    arg: *mut c_void,
}

unsafe extern "C" fn forward_visit(f: *mut HPyField, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the VisitArgs of `call_traverse` (alive during the
    // traverse impl call), `f` a field inside the traversed object.
    unsafe {
        let a = &*(arg as *const VisitArgs);
        let o = (*f)._i as *mut cpy_PyObject;
        match a.visit {
            Some(visit) if !o.is_null() => visit(o, a.arg),
            _ => 0,
        }
    }
}

/// `HPyFunc_TRAVERSEPROC`: `impl(payload, visitor, arg)`, where the visitor
/// turns each `HPyField *` into the object for CPython's `visit`.
///
/// # Safety
/// `args` points to an `_HPyFunc_args_TRAVERSEPROC`, `func` is an
/// `HPyFunc_traverseproc`; GIL held.
pub unsafe fn call_traverse(func: HPyCFunction, args: *mut c_void) {
    // SAFETY: forwarded contract.
    unsafe {
        let a = &mut *(args as *mut _HPyFunc_args_TRAVERSEPROC);
        let f = core::mem::transmute::<HPyCFunction, HPyFunc_traverseproc>(func);
        a.result = traverse(f, a.self_.cast(), a.visit, a.arg);
    }
}

/// Runs the traverse implementation `func` on the payload of `obj`, reporting
/// each field's object to CPython's `visit` (the CPython-ABI trampolines call
/// this directly).
///
/// # Safety
/// `obj` is an instance of an HPy type whose `HPy_tp_traverse` is `func`;
/// `visit`/`arg` come from CPython's GC; GIL held.
pub unsafe fn traverse(
    func: HPyFunc_traverseproc,
    obj: *mut ffi::PyObject,
    visit: cpy_visitproc,
    arg: *mut c_void,
) -> c_int {
    let Some(f) = func else {
        fatal(c"hpy-rs: HPy_tp_traverse impl is NULL")
    };
    let mut v = VisitArgs { visit, arg };
    // SAFETY: forwarded contract; `v` outlives the call.
    unsafe {
        f(
            payload(obj),
            Some(forward_visit),
            (&mut v as *mut VisitArgs).cast(),
        )
    }
}
