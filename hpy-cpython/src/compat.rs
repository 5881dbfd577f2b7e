//! CPython API that is missing or different on some of the versions we
//! support (3.8 to 3.13), behind one version-neutral name each. The cfgs
//! come from `build.rs` (`Py_3_9` is set for 3.9 and later).
//!
//! 3.8's vectorcall is provisional: `PyObject_Vectorcall` is the inline
//! `_PyObject_Vectorcall`, whose private helpers lack the `tstate` argument
//! that pyo3-ffi's inline version passes them, so 3.8 gets its own copy here.

use pyo3_ffi as ffi;

/// `PyObject_Vectorcall`.
///
/// # Safety
/// As CPython's: GIL held, `callable` a live object, `args` holding
/// `PyVectorcall_NARGS(nargsf)` live objects then one per name in `kwnames`
/// (NULL or a tuple of strings).
#[inline(always)]
pub unsafe fn vectorcall(
    callable: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    #[cfg(Py_3_9)]
    // SAFETY: forwarded to CPython under the caller's guarantees.
    return unsafe { ffi::PyObject_Vectorcall(callable, args, nargsf, kwnames) };
    #[cfg(not(Py_3_9))]
    // SAFETY: as CPython 3.8's inline `_PyObject_Vectorcall`: the flag says
    // that the type stores a vectorcallfunc at `tp_vectorcall_offset` in its
    // instances; otherwise tp_call is used.
    unsafe {
        let tp = ffi::Py_TYPE(callable);
        let func = if (*tp).tp_flags & ffi::Py_TPFLAGS_HAVE_VECTORCALL != 0 {
            *callable
                .cast::<u8>()
                .offset((*tp).tp_vectorcall_offset)
                .cast::<Option<ffi::vectorcallfunc>>()
        } else {
            None
        };
        match func {
            None => {
                py38::_PyObject_MakeTpCall(callable, args, ffi::PyVectorcall_NARGS(nargsf), kwnames)
            }
            Some(f) => py38::_Py_CheckFunctionResult(
                callable,
                f(callable, args, nargsf, kwnames),
                core::ptr::null(),
            ),
        }
    }
}

/// `PyObject_CallNoArgs` (3.9+).
///
/// # Safety
/// GIL held, `func` a live object.
#[inline]
pub unsafe fn call_no_args(func: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: no arguments.
    unsafe { vectorcall(func, core::ptr::null(), 0, core::ptr::null_mut()) }
}

/// `PyObject_CallOneArg` (3.9+).
///
/// # Safety
/// GIL held, `func` and `arg` live objects.
#[inline]
pub unsafe fn call_one_arg(
    func: *mut ffi::PyObject,
    arg: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let args = [arg];
    // SAFETY: one live positional argument, no keywords.
    unsafe { vectorcall(func, args.as_ptr(), 1, core::ptr::null_mut()) }
}

/// 3.8's signatures of the private helpers of `_PyObject_Vectorcall`.
#[cfg(not(Py_3_9))]
mod py38 {
    use core::ffi::c_char;
    use pyo3_ffi::{PyObject, Py_ssize_t};

    extern "C" {
        pub fn _PyObject_MakeTpCall(
            callable: *mut PyObject,
            args: *const *mut PyObject,
            nargs: Py_ssize_t,
            keywords: *mut PyObject,
        ) -> *mut PyObject;
        pub fn _Py_CheckFunctionResult(
            callable: *mut PyObject,
            result: *mut PyObject,
            where_: *const c_char,
        ) -> *mut PyObject;
    }
}
