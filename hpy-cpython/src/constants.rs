//! The handle constants of the context (`ctx->h_None`, `ctx->h_TypeError`, ...).
//!
//! One function per constant, named like the member; the universal table calls
//! each of them once when the context is built. The objects are immortal or
//! kept alive by the interpreter, so the handles are never closed.

use crate::ffi;
use crate::handle::from_owned;
use hpy_sys::HPy;

fn type_obj(t: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    t.cast()
}

unsafe fn builtins() -> *mut ffi::PyObject {
    // SAFETY: GIL held by the caller (context construction). The dict is the
    // interpreter's builtins; keep one reference for the context's lifetime.
    unsafe {
        let b = ffi::PyEval_GetBuiltins();
        ffi::Py_XINCREF(b);
        b
    }
}

macro_rules! constants {
    ($($name:ident => $value:expr,)*) => {$(
        /// The value of the context member of the same name.
        ///
        /// # Safety
        /// The GIL must be held.
        #[allow(unused_unsafe)]
        pub unsafe fn $name() -> HPy {
            // SAFETY: reading interpreter globals with the GIL held.
            from_owned(unsafe { $value })
        }
    )*};
}

constants! {
    h_None => ffi::Py_None(),
    h_True => ffi::Py_True(),
    h_False => ffi::Py_False(),
    h_NotImplemented => ffi::Py_NotImplemented(),
    h_Ellipsis => ffi::Py_Ellipsis(),
    h_BaseException => ffi::PyExc_BaseException,
    h_Exception => ffi::PyExc_Exception,
    h_StopAsyncIteration => ffi::PyExc_StopAsyncIteration,
    h_StopIteration => ffi::PyExc_StopIteration,
    h_GeneratorExit => ffi::PyExc_GeneratorExit,
    h_ArithmeticError => ffi::PyExc_ArithmeticError,
    h_LookupError => ffi::PyExc_LookupError,
    h_AssertionError => ffi::PyExc_AssertionError,
    h_AttributeError => ffi::PyExc_AttributeError,
    h_BufferError => ffi::PyExc_BufferError,
    h_EOFError => ffi::PyExc_EOFError,
    h_FloatingPointError => ffi::PyExc_FloatingPointError,
    h_OSError => ffi::PyExc_OSError,
    h_ImportError => ffi::PyExc_ImportError,
    h_ModuleNotFoundError => ffi::PyExc_ModuleNotFoundError,
    h_IndexError => ffi::PyExc_IndexError,
    h_KeyError => ffi::PyExc_KeyError,
    h_KeyboardInterrupt => ffi::PyExc_KeyboardInterrupt,
    h_MemoryError => ffi::PyExc_MemoryError,
    h_NameError => ffi::PyExc_NameError,
    h_OverflowError => ffi::PyExc_OverflowError,
    h_RuntimeError => ffi::PyExc_RuntimeError,
    h_RecursionError => ffi::PyExc_RecursionError,
    h_NotImplementedError => ffi::PyExc_NotImplementedError,
    h_SyntaxError => ffi::PyExc_SyntaxError,
    h_IndentationError => ffi::PyExc_IndentationError,
    h_TabError => ffi::PyExc_TabError,
    h_ReferenceError => ffi::PyExc_ReferenceError,
    h_SystemError => ffi::PyExc_SystemError,
    h_SystemExit => ffi::PyExc_SystemExit,
    h_TypeError => ffi::PyExc_TypeError,
    h_UnboundLocalError => ffi::PyExc_UnboundLocalError,
    h_UnicodeError => ffi::PyExc_UnicodeError,
    h_UnicodeEncodeError => ffi::PyExc_UnicodeEncodeError,
    h_UnicodeDecodeError => ffi::PyExc_UnicodeDecodeError,
    h_UnicodeTranslateError => ffi::PyExc_UnicodeTranslateError,
    h_ValueError => ffi::PyExc_ValueError,
    h_ZeroDivisionError => ffi::PyExc_ZeroDivisionError,
    h_BlockingIOError => ffi::PyExc_BlockingIOError,
    h_BrokenPipeError => ffi::PyExc_BrokenPipeError,
    h_ChildProcessError => ffi::PyExc_ChildProcessError,
    h_ConnectionError => ffi::PyExc_ConnectionError,
    h_ConnectionAbortedError => ffi::PyExc_ConnectionAbortedError,
    h_ConnectionRefusedError => ffi::PyExc_ConnectionRefusedError,
    h_ConnectionResetError => ffi::PyExc_ConnectionResetError,
    h_FileExistsError => ffi::PyExc_FileExistsError,
    h_FileNotFoundError => ffi::PyExc_FileNotFoundError,
    h_InterruptedError => ffi::PyExc_InterruptedError,
    h_IsADirectoryError => ffi::PyExc_IsADirectoryError,
    h_NotADirectoryError => ffi::PyExc_NotADirectoryError,
    h_PermissionError => ffi::PyExc_PermissionError,
    h_ProcessLookupError => ffi::PyExc_ProcessLookupError,
    h_TimeoutError => ffi::PyExc_TimeoutError,
    h_Warning => ffi::PyExc_Warning,
    h_UserWarning => ffi::PyExc_UserWarning,
    h_DeprecationWarning => ffi::PyExc_DeprecationWarning,
    h_PendingDeprecationWarning => ffi::PyExc_PendingDeprecationWarning,
    h_SyntaxWarning => ffi::PyExc_SyntaxWarning,
    h_RuntimeWarning => ffi::PyExc_RuntimeWarning,
    h_FutureWarning => ffi::PyExc_FutureWarning,
    h_ImportWarning => ffi::PyExc_ImportWarning,
    h_UnicodeWarning => ffi::PyExc_UnicodeWarning,
    h_BytesWarning => ffi::PyExc_BytesWarning,
    h_ResourceWarning => ffi::PyExc_ResourceWarning,
    h_BaseObjectType => type_obj(&raw mut ffi::PyBaseObject_Type),
    h_TypeType => type_obj(&raw mut ffi::PyType_Type),
    h_BoolType => type_obj(&raw mut ffi::PyBool_Type),
    h_LongType => type_obj(&raw mut ffi::PyLong_Type),
    h_FloatType => type_obj(&raw mut ffi::PyFloat_Type),
    h_UnicodeType => type_obj(&raw mut ffi::PyUnicode_Type),
    h_TupleType => type_obj(&raw mut ffi::PyTuple_Type),
    h_ListType => type_obj(&raw mut ffi::PyList_Type),
    h_ComplexType => type_obj(&raw mut ffi::PyComplex_Type),
    h_BytesType => type_obj(&raw mut ffi::PyBytes_Type),
    h_MemoryViewType => type_obj(&raw mut ffi::PyMemoryView_Type),
    h_CapsuleType => type_obj(&raw mut ffi::PyCapsule_Type),
    h_SliceType => type_obj(&raw mut ffi::PySlice_Type),
    h_Builtins => builtins(),
    h_DictType => type_obj(&raw mut ffi::PyDict_Type),
}
