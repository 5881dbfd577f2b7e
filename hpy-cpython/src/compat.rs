//! CPython API that is missing or different on some of the versions we
//! support (3.8 to 3.13), behind one version-neutral name each. The cfgs
//! come from `build.rs` (`Py_3_9` is set for 3.9 and later).
//!
//! Before 3.11, `PyObject_Vectorcall` is an inline function of the headers
//! (`_PyObject_Vectorcall` on 3.8), so it is written out here over the
//! private functions it calls, whose signatures changed in 3.9 (`tstate`).

use crate::ffi;

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
    #[cfg(Py_3_11)]
    // SAFETY: forwarded to CPython under the caller's guarantees.
    return unsafe { ffi::PyObject_Vectorcall(callable, args, nargsf, kwnames) };
    #[cfg(not(Py_3_11))]
    // SAFETY: as the headers' inline version: the flag says that the type
    // stores a vectorcallfunc at `tp_vectorcall_offset` in its instances;
    // otherwise tp_call is used.
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
                before_3_11::make_tp_call(callable, args, ffi::PyVectorcall_NARGS(nargsf), kwnames)
            }
            Some(f) => {
                before_3_11::check_function_result(callable, f(callable, args, nargsf, kwnames))
            }
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

/// The private helpers of the inline `PyObject_Vectorcall` before 3.11; from
/// 3.9 they take the thread state first.
#[cfg(not(Py_3_11))]
mod before_3_11 {
    use crate::ffi::{PyObject, Py_ssize_t};
    use core::ffi::c_char;
    use core::ptr::null;

    #[cfg(Py_3_9)]
    type Tstate = *mut crate::ffi::PyThreadState;

    extern "C" {
        #[cfg(not(Py_3_9))]
        fn _PyObject_MakeTpCall(
            callable: *mut PyObject,
            args: *const *mut PyObject,
            nargs: Py_ssize_t,
            keywords: *mut PyObject,
        ) -> *mut PyObject;
        #[cfg(not(Py_3_9))]
        fn _Py_CheckFunctionResult(
            callable: *mut PyObject,
            result: *mut PyObject,
            where_: *const c_char,
        ) -> *mut PyObject;
        #[cfg(Py_3_9)]
        fn PyThreadState_Get() -> Tstate;
        #[cfg(Py_3_9)]
        fn _PyObject_MakeTpCall(
            tstate: Tstate,
            callable: *mut PyObject,
            args: *const *mut PyObject,
            nargs: Py_ssize_t,
            keywords: *mut PyObject,
        ) -> *mut PyObject;
        #[cfg(Py_3_9)]
        fn _Py_CheckFunctionResult(
            tstate: Tstate,
            callable: *mut PyObject,
            result: *mut PyObject,
            where_: *const c_char,
        ) -> *mut PyObject;
    }

    /// `_PyObject_MakeTpCall`: the call through `tp_call`.
    ///
    /// # Safety
    /// As `vectorcall`, with `nargs` the plain count.
    #[inline(always)]
    pub(super) unsafe fn make_tp_call(
        callable: *mut PyObject,
        args: *const *mut PyObject,
        nargs: Py_ssize_t,
        kwnames: *mut PyObject,
    ) -> *mut PyObject {
        #[cfg(not(Py_3_9))]
        // SAFETY: forwarded.
        return unsafe { _PyObject_MakeTpCall(callable, args, nargs, kwnames) };
        #[cfg(Py_3_9)]
        // SAFETY: forwarded; the GIL is held, so this thread has a state.
        return unsafe {
            _PyObject_MakeTpCall(PyThreadState_Get(), callable, args, nargs, kwnames)
        };
    }

    /// `_Py_CheckFunctionResult`: a NULL result with an exception set, or a
    /// result without one (SystemError otherwise).
    ///
    /// # Safety
    /// GIL held; `result` is what calling `callable` returned.
    #[inline(always)]
    pub(super) unsafe fn check_function_result(
        callable: *mut PyObject,
        result: *mut PyObject,
    ) -> *mut PyObject {
        #[cfg(not(Py_3_9))]
        // SAFETY: forwarded.
        return unsafe { _Py_CheckFunctionResult(callable, result, null()) };
        #[cfg(Py_3_9)]
        // SAFETY: forwarded; the GIL is held, so this thread has a state.
        return unsafe { _Py_CheckFunctionResult(PyThreadState_Get(), callable, result, null()) };
    }
}
