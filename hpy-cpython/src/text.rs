//! The rest of the unicode API: wide chars, the filesystem encoding, codecs,
//! single code points and substrings.

use crate::ffi;
use crate::handle::{as_obj, from_owned};
use core::ffi::c_char;
use hpy_sys::{HPy, HPyContext, HPy_UCS4, HPy_ssize_t};

// SAFETY (whole module): context members called with the GIL held, open
// handles, and C buffers that are NUL-terminated or hold `size` readable
// units, as each API documents.

/// Raises TypeError unless `o` is a str; CPython's own check for some of these
/// entry points is only a debug assertion.
///
/// # Safety
/// GIL held, `o` a valid object.
unsafe fn require_str(o: *mut ffi::PyObject, api: &core::ffi::CStr) -> bool {
    // SAFETY: see function contract.
    unsafe {
        if ffi::PyUnicode_Check(o) != 0 {
            return true;
        }
        raise_format!(
            ffi::PyExc_TypeError,
            "%s expected a str object, got '%s'",
            api.as_ptr(),
            (*ffi::Py_TYPE(o)).tp_name,
        );
    }
    false
}

pub unsafe extern "C" fn ctx_Unicode_FromWideChar(
    _ctx: *mut HPyContext,
    w: *const hpy_sys::wchar_t,
    size: HPy_ssize_t,
) -> HPy {
    // SAFETY: see module comment; `wchar_t` is the same C type on both sides
    // (size -1 means NUL-terminated).
    from_owned(unsafe { ffi::PyUnicode_FromWideChar(w.cast(), size) })
}

pub unsafe extern "C" fn ctx_Unicode_DecodeFSDefault(
    _ctx: *mut HPyContext,
    v: *const c_char,
) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyUnicode_DecodeFSDefault(v) })
}

pub unsafe extern "C" fn ctx_Unicode_DecodeFSDefaultAndSize(
    _ctx: *mut HPyContext,
    v: *const c_char,
    size: HPy_ssize_t,
) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyUnicode_DecodeFSDefaultAndSize(v, size) })
}

pub unsafe extern "C" fn ctx_Unicode_EncodeFSDefault(_ctx: *mut HPyContext, h: HPy) -> HPy {
    let o = as_obj(h);
    // SAFETY: see module comment.
    unsafe {
        if !require_str(o, c"HPyUnicode_EncodeFSDefault") {
            return HPy { _i: 0 };
        }
        from_owned(ffi::PyUnicode_EncodeFSDefault(o))
    }
}

/// Code point at `index`; `(HPy_UCS4)-1` with TypeError/IndexError on error.
pub unsafe extern "C" fn ctx_Unicode_ReadChar(
    _ctx: *mut HPyContext,
    h: HPy,
    index: HPy_ssize_t,
) -> HPy_UCS4 {
    // SAFETY: see module comment; CPython checks the type and the range.
    unsafe { ffi::PyUnicode_ReadChar(as_obj(h), index) }
}

pub unsafe extern "C" fn ctx_Unicode_DecodeASCII(
    _ctx: *mut HPyContext,
    ascii: *const c_char,
    size: HPy_ssize_t,
    errors: *const c_char,
) -> HPy {
    // SAFETY: see module comment; `errors` may be NULL (strict).
    from_owned(unsafe { ffi::PyUnicode_DecodeASCII(ascii, size, errors) })
}

pub unsafe extern "C" fn ctx_Unicode_DecodeLatin1(
    _ctx: *mut HPyContext,
    latin1: *const c_char,
    size: HPy_ssize_t,
    errors: *const c_char,
) -> HPy {
    // SAFETY: see module comment; `errors` may be NULL (strict).
    from_owned(unsafe { ffi::PyUnicode_DecodeLatin1(latin1, size, errors) })
}

pub unsafe extern "C" fn ctx_Unicode_FromEncodedObject(
    _ctx: *mut HPyContext,
    obj: HPy,
    encoding: *const c_char,
    errors: *const c_char,
) -> HPy {
    // SAFETY: see module comment; NULL obj is a SystemError in CPython,
    // NULL encoding/errors mean UTF-8/strict.
    from_owned(unsafe { ffi::PyUnicode_FromEncodedObject(as_obj(obj), encoding, errors) })
}

/// `str[start:end]` by code point; negative indices raise IndexError.
pub unsafe extern "C" fn ctx_Unicode_Substring(
    _ctx: *mut HPyContext,
    str: HPy,
    start: HPy_ssize_t,
    end: HPy_ssize_t,
) -> HPy {
    let o = as_obj(str);
    // SAFETY: see module comment; the type is checked before CPython, which
    // only asserts it.
    unsafe {
        if !require_str(o, c"HPyUnicode_Substring") {
            return HPy { _i: 0 };
        }
        from_owned(ffi::PyUnicode_Substring(o, start, end))
    }
}
