//! Errors beyond the basics in `object`: errno-based errors, new exception
//! classes, warnings and unraisable exceptions.

use crate::ffi;
use crate::handle::{as_obj, from_owned};
use core::ffi::{c_char, c_int};
use hpy_sys::{HPy, HPyContext, HPy_ssize_t};

// SAFETY (whole module): every function is a context member, called by C with
// the GIL held, with open handles (or HPy_NULL where the API allows it) and
// NUL-terminated C strings (or NULL where the API allows it).

/// Raises `h_type(errno, strerror(errno), filename)`; always returns HPy_NULL.
/// Nothing runs between the caller and CPython reading `errno`.
pub unsafe extern "C" fn ctx_Err_SetFromErrnoWithFilename(
    _ctx: *mut HPyContext,
    h_type: HPy,
    filename_fsencoded: *const c_char,
) -> HPy {
    // SAFETY: see module comment; CPython returns NULL in every case.
    from_owned(unsafe { ffi::PyErr_SetFromErrnoWithFilename(as_obj(h_type), filename_fsencoded) })
}

pub unsafe extern "C" fn ctx_Err_SetFromErrnoWithFilenameObjects(
    _ctx: *mut HPyContext,
    h_type: HPy,
    filename1: HPy,
    filename2: HPy,
) {
    // SAFETY: see module comment; both filenames may be NULL.
    unsafe {
        ffi::PyErr_SetFromErrnoWithFilenameObjects(
            as_obj(h_type),
            as_obj(filename1),
            as_obj(filename2),
        );
    }
}

pub unsafe extern "C" fn ctx_Err_NewException(
    _ctx: *mut HPyContext,
    utf8_name: *const c_char,
    base: HPy,
    dict: HPy,
) -> HPy {
    // SAFETY: see module comment; base and dict may be NULL.
    from_owned(unsafe { ffi::PyErr_NewException(utf8_name, as_obj(base), as_obj(dict)) })
}

pub unsafe extern "C" fn ctx_Err_NewExceptionWithDoc(
    _ctx: *mut HPyContext,
    utf8_name: *const c_char,
    utf8_doc: *const c_char,
    base: HPy,
    dict: HPy,
) -> HPy {
    // SAFETY: see module comment; doc, base and dict may be NULL.
    from_owned(unsafe {
        ffi::PyErr_NewExceptionWithDoc(utf8_name, utf8_doc, as_obj(base), as_obj(dict))
    })
}

pub unsafe extern "C" fn ctx_Err_WarnEx(
    _ctx: *mut HPyContext,
    category: HPy,
    utf8_message: *const c_char,
    stack_level: HPy_ssize_t,
) -> c_int {
    // SAFETY: see module comment; a NULL category means RuntimeWarning.
    unsafe { ffi::PyErr_WarnEx(as_obj(category), utf8_message, stack_level) }
}

pub unsafe extern "C" fn ctx_Err_WriteUnraisable(_ctx: *mut HPyContext, obj: HPy) {
    // SAFETY: see module comment; obj may be NULL.
    unsafe { ffi::PyErr_WriteUnraisable(as_obj(obj)) }
}
