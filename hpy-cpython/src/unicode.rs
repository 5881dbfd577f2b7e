//! Strings and bytes.

use crate::ffi;
use crate::handle::{as_obj, from_owned, raise};
use core::ffi::c_char;
use hpy_sys::{HPy, HPyContext, HPy_NULL, HPy_ssize_t};

// SAFETY (whole module): context members called with the GIL held, open
// handles and NUL-terminated C strings (or `size` readable bytes).

pub unsafe extern "C" fn ctx_Unicode_FromString(_ctx: *mut HPyContext, utf8: *const c_char) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyUnicode_FromString(utf8) })
}

pub unsafe extern "C" fn ctx_Unicode_AsUTF8String(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyUnicode_AsUTF8String(as_obj(h)) })
}

pub unsafe extern "C" fn ctx_Unicode_AsASCIIString(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyUnicode_AsASCIIString(as_obj(h)) })
}

pub unsafe extern "C" fn ctx_Unicode_AsLatin1String(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyUnicode_AsLatin1String(as_obj(h)) })
}

/// The buffer lives as long as the string object (CPython caches it there).
pub unsafe extern "C" fn ctx_Unicode_AsUTF8AndSize(
    _ctx: *mut HPyContext,
    h: HPy,
    size: *mut HPy_ssize_t,
) -> *const c_char {
    // SAFETY: see module comment; `size` may be NULL.
    unsafe { ffi::PyUnicode_AsUTF8AndSize(as_obj(h), size) }
}

pub unsafe extern "C" fn ctx_Bytes_FromString(_ctx: *mut HPyContext, bytes: *const c_char) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyBytes_FromString(bytes) })
}

pub unsafe extern "C" fn ctx_Bytes_FromStringAndSize(
    _ctx: *mut HPyContext,
    bytes: *const c_char,
    len: HPy_ssize_t,
) -> HPy {
    if bytes.is_null() {
        // CPython would hand out uninitialised bytes to fill in later; an HPy
        // bytes object is immutable from the start, so NULL is an error
        // (checked before the size, as HPy specifies).
        // SAFETY: GIL held (context call); ValueError is an exception type.
        unsafe {
            raise(
                ffi::PyExc_ValueError,
                "NULL char * passed to HPyBytes_FromStringAndSize",
            )
        };
        return HPy_NULL;
    }
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyBytes_FromStringAndSize(bytes, len) })
}

pub unsafe extern "C" fn ctx_Bytes_Size(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: see module comment.
    unsafe { ffi::PyBytes_Size(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Bytes_GET_SIZE(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: see module comment; the caller guarantees a bytes object.
    unsafe { ffi::PyBytes_Size(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Bytes_AsString(_ctx: *mut HPyContext, h: HPy) -> *const c_char {
    // SAFETY: see module comment.
    unsafe { ffi::PyBytes_AsString(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Bytes_AS_STRING(_ctx: *mut HPyContext, h: HPy) -> *const c_char {
    // SAFETY: see module comment.
    unsafe { ffi::PyBytes_AsString(as_obj(h)) }
}
