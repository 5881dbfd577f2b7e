//! Dicts, lists, slices and iteration beyond the basics in `object`.

use crate::ffi;
use crate::handle::{as_obj, from_owned};
use core::ffi::c_int;
use hpy_sys::{HPy, HPyContext, HPy_ssize_t};

// SAFETY (whole module): every function is a context member, called by C with
// the GIL held and with open handles (or HPy_NULL where the API allows it);
// out-pointers are valid for writes.

/// List of the keys in the dict storage; SystemError if `h` is not a dict.
pub unsafe extern "C" fn ctx_Dict_Keys(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: see module comment; CPython rejects non-dicts with SystemError.
    from_owned(unsafe { ffi::PyDict_Keys(as_obj(h)) })
}

pub unsafe extern "C" fn ctx_Dict_Copy(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: see module comment; CPython rejects non-dicts with SystemError.
    from_owned(unsafe { ffi::PyDict_Copy(as_obj(h)) })
}

pub unsafe extern "C" fn ctx_List_Insert(
    _ctx: *mut HPyContext,
    h_list: HPy,
    index: HPy_ssize_t,
    h_item: HPy,
) -> c_int {
    // SAFETY: see module comment; CPython rejects non-lists and a NULL item
    // with SystemError and clamps the index.
    unsafe { ffi::PyList_Insert(as_obj(h_list), index, as_obj(h_item)) }
}

/// Reads start/stop/step of a slice, clamped to the `HPy_ssize_t` range.
pub unsafe extern "C" fn ctx_Slice_Unpack(
    _ctx: *mut HPyContext,
    slice: HPy,
    start: *mut HPy_ssize_t,
    stop: *mut HPy_ssize_t,
    step: *mut HPy_ssize_t,
) -> c_int {
    let o = as_obj(slice);
    // SAFETY: see module comment. PySlice_Unpack reads the slice's fields
    // without a type check, so check first.
    unsafe {
        if ffi::PySlice_Check(o) == 0 {
            raise_format!(
                ffi::PyExc_TypeError,
                "HPySlice_Unpack expected a slice object, got '%s'",
                (*ffi::Py_TYPE(o)).tp_name,
            );
            return -1;
        }
        ffi::PySlice_Unpack(o, start, stop, step)
    }
}

/// `slice(start, stop, step)`; a HPy_NULL bound means None.
pub unsafe extern "C" fn ctx_Slice_New(
    _ctx: *mut HPyContext,
    start: HPy,
    stop: HPy,
    step: HPy,
) -> HPy {
    // SAFETY: see module comment; CPython maps NULL to None.
    from_owned(unsafe { ffi::PySlice_New(as_obj(start), as_obj(stop), as_obj(step)) })
}

pub unsafe extern "C" fn ctx_GetSlice(
    _ctx: *mut HPyContext,
    obj: HPy,
    start: HPy_ssize_t,
    end: HPy_ssize_t,
) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PySequence_GetSlice(as_obj(obj), start, end) })
}

pub unsafe extern "C" fn ctx_SetSlice(
    _ctx: *mut HPyContext,
    obj: HPy,
    start: HPy_ssize_t,
    end: HPy_ssize_t,
    value: HPy,
) -> c_int {
    // SAFETY: see module comment (a NULL value deletes, as in CPython).
    unsafe { ffi::PySequence_SetSlice(as_obj(obj), start, end, as_obj(value)) }
}

pub unsafe extern "C" fn ctx_DelSlice(
    _ctx: *mut HPyContext,
    obj: HPy,
    start: HPy_ssize_t,
    end: HPy_ssize_t,
) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PySequence_DelSlice(as_obj(obj), start, end) }
}

/// The next item; HPy_NULL *without* an exception once the iterator is
/// exhausted, HPy_NULL with one on error (including "not an iterator").
pub unsafe extern "C" fn ctx_Iter_Next(_ctx: *mut HPyContext, obj: HPy) -> HPy {
    let o = as_obj(obj);
    // SAFETY: see module comment. PyIter_Next calls tp_iternext without a
    // check, so reject non-iterators first.
    unsafe {
        if ffi::PyIter_Check(o) == 0 {
            raise_format!(
                ffi::PyExc_TypeError,
                "'%s' object is not an iterator",
                (*ffi::Py_TYPE(o)).tp_name,
            );
            return HPy { _i: 0 };
        }
        // PyIter_Next swallows StopIteration and returns NULL with no error.
        from_owned(ffi::PyIter_Next(o))
    }
}
