//! Longs of every width, floats and bools.
//!
//! Conversions to C integers raise OverflowError when the value does not fit
//! (never truncate silently), except the `*Mask` variants, which wrap.

use crate::ffi;
use crate::handle::{as_obj, from_borrowed, from_owned, raise};
use core::ffi::{c_long, c_void};
use hpy_sys::{HPy, HPyContext, HPy_ssize_t};

pub unsafe extern "C" fn ctx_Long_FromInt32_t(_ctx: *mut HPyContext, value: i32) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyLong_FromLong(value as c_long) })
}

pub unsafe extern "C" fn ctx_Long_FromUInt32_t(_ctx: *mut HPyContext, value: u32) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyLong_FromUnsignedLong(value.into()) })
}

pub unsafe extern "C" fn ctx_Long_FromInt64_t(_ctx: *mut HPyContext, v: i64) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyLong_FromLongLong(v) })
}

pub unsafe extern "C" fn ctx_Long_FromUInt64_t(_ctx: *mut HPyContext, v: u64) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyLong_FromUnsignedLongLong(v) })
}

pub unsafe extern "C" fn ctx_Long_FromSize_t(_ctx: *mut HPyContext, value: usize) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyLong_FromSize_t(value) })
}

pub unsafe extern "C" fn ctx_Long_FromSsize_t(_ctx: *mut HPyContext, value: HPy_ssize_t) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyLong_FromSsize_t(value) })
}

/// `read` (`PyLong_AsLong` for 32 bits, as upstream, so that its errors and
/// messages are CPython's; `PyLong_AsLongLong` for 64) with `__index__`
/// semantics, narrowed to `T`, else an OverflowError with the message
/// `overflow` (which names the C type).
unsafe fn as_signed<W: Into<i64>, T: TryFrom<i64>>(
    h: HPy,
    read: unsafe extern "C" fn(*mut ffi::PyObject) -> W,
    overflow: &str,
) -> Option<T> {
    // SAFETY: open handle, GIL held (caller).
    let v: i64 = unsafe { read(as_obj(h)) }.into();
    // SAFETY: GIL held.
    if v == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
        return None;
    }
    match T::try_from(v) {
        Ok(x) => Some(x),
        Err(_) => {
            // SAFETY: GIL held.
            unsafe { raise(ffi::PyExc_OverflowError, overflow) };
            None
        }
    }
}

/// Like [`as_signed`], with `PyLong_AsUnsignedLong` for 32 bits and
/// `PyLong_AsUnsignedLongLong` for 64.
unsafe fn as_unsigned<W: Into<u64>, T: TryFrom<u64>>(
    h: HPy,
    read: unsafe extern "C" fn(*mut ffi::PyObject) -> W,
    overflow: &str,
) -> Option<T> {
    let o = as_obj(h);
    // SAFETY: open handle, GIL held (caller). Unsigned conversions accept
    // only ints (like CPython's PyLong_AsUnsigned*), not __index__ objects.
    unsafe {
        if ffi::PyLong_Check(o) == 0 {
            raise(ffi::PyExc_TypeError, "an integer is required");
            return None;
        }
        let v: u64 = read(o).into();
        if v == u64::MAX && !ffi::PyErr_Occurred().is_null() {
            return None;
        }
        match T::try_from(v) {
            Ok(x) => Some(x),
            Err(_) => {
                raise(ffi::PyExc_OverflowError, overflow);
                None
            }
        }
    }
}

pub unsafe extern "C" fn ctx_Long_AsInt32_t(_ctx: *mut HPyContext, h: HPy) -> i32 {
    // SAFETY: forwarded contract.
    unsafe {
        as_signed::<_, i32>(
            h,
            ffi::PyLong_AsLong,
            "Python int too large to convert to C int32_t",
        )
    }
    .unwrap_or(-1)
}

pub unsafe extern "C" fn ctx_Long_AsInt64_t(_ctx: *mut HPyContext, h: HPy) -> i64 {
    // SAFETY: forwarded contract.
    unsafe {
        as_signed::<_, i64>(
            h,
            ffi::PyLong_AsLongLong,
            "Python int too large to convert to C int64_t",
        )
    }
    .unwrap_or(-1)
}

pub unsafe extern "C" fn ctx_Long_AsSsize_t(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: open handle, GIL held. Like CPython, only real ints are accepted.
    unsafe { ffi::PyLong_AsSsize_t(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Long_AsUInt32_t(_ctx: *mut HPyContext, h: HPy) -> u32 {
    // SAFETY: forwarded contract.
    unsafe {
        as_unsigned::<_, u32>(
            h,
            ffi::PyLong_AsUnsignedLong,
            "Python int too large to convert to C uint32_t",
        )
    }
    .unwrap_or(u32::MAX)
}

pub unsafe extern "C" fn ctx_Long_AsUInt64_t(_ctx: *mut HPyContext, h: HPy) -> u64 {
    // SAFETY: forwarded contract.
    unsafe {
        as_unsigned::<_, u64>(
            h,
            ffi::PyLong_AsUnsignedLongLong,
            "Python int too large to convert to C uint64_t",
        )
    }
    .unwrap_or(u64::MAX)
}

pub unsafe extern "C" fn ctx_Long_AsSize_t(_ctx: *mut HPyContext, h: HPy) -> usize {
    // SAFETY: open handle, GIL held.
    unsafe { ffi::PyLong_AsSize_t(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Long_AsUInt32_tMask(_ctx: *mut HPyContext, h: HPy) -> u32 {
    // SAFETY: open handle, GIL held; wraps modulo 2**32 by design.
    unsafe { ffi::PyLong_AsUnsignedLongMask(as_obj(h)) as u32 }
}

pub unsafe extern "C" fn ctx_Long_AsUInt64_tMask(_ctx: *mut HPyContext, h: HPy) -> u64 {
    // SAFETY: open handle, GIL held; wraps modulo 2**64 by design.
    unsafe { ffi::PyLong_AsUnsignedLongLongMask(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Long_AsVoidPtr(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
    // SAFETY: open handle, GIL held.
    unsafe { ffi::PyLong_AsVoidPtr(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Long_AsDouble(_ctx: *mut HPyContext, h: HPy) -> f64 {
    // SAFETY: open handle, GIL held.
    unsafe { ffi::PyLong_AsDouble(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Float_FromDouble(_ctx: *mut HPyContext, v: f64) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyFloat_FromDouble(v) })
}

pub unsafe extern "C" fn ctx_Float_AsDouble(_ctx: *mut HPyContext, h: HPy) -> f64 {
    // SAFETY: open handle, GIL held.
    unsafe { ffi::PyFloat_AsDouble(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Bool_FromBool(_ctx: *mut HPyContext, v: bool) -> HPy {
    // SAFETY: GIL held; True/False are immortal singletons.
    unsafe { from_borrowed(if v { ffi::Py_True() } else { ffi::Py_False() }) }
}
