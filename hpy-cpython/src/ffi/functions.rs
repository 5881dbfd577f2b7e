//! The functions and data CPython exports that the runtime calls, by
//! header. All are exported by 3.8 to 3.13 unless a cfg says otherwise;
//! what some versions have only as macros or inline functions is in
//! `inline` (or `crate::compat`, where versions differ in more than a name).

use super::{
    wchar_t, PyCapsule_Destructor, PyModuleDef, PyObject, PyThreadState, PyTypeObject, PyType_Spec,
    Py_UCS4, Py_hash_t, Py_ssize_t,
};
use core::ffi::{c_char, c_double, c_int, c_long, c_longlong, c_ulong, c_ulonglong, c_void};

/// `PyGILState_STATE` (an enum in C, of `int` size).
pub type PyGILState_STATE = c_int;

extern "C" {
    // Built-in types.
    pub static mut PyBaseObject_Type: PyTypeObject;
    pub static mut PyBool_Type: PyTypeObject;
    pub static mut PyBytes_Type: PyTypeObject;
    pub static mut PyCapsule_Type: PyTypeObject;
    pub static mut PyCode_Type: PyTypeObject;
    pub static mut PyComplex_Type: PyTypeObject;
    pub static mut PyDict_Type: PyTypeObject;
    pub static mut PyFloat_Type: PyTypeObject;
    pub static mut PyList_Type: PyTypeObject;
    pub static mut PyLong_Type: PyTypeObject;
    pub static mut PyMemoryView_Type: PyTypeObject;
    pub static mut PyModule_Type: PyTypeObject;
    pub static mut PySlice_Type: PyTypeObject;
    pub static mut PyTuple_Type: PyTypeObject;
    pub static mut PyType_Type: PyTypeObject;
    pub static mut PyUnicode_Type: PyTypeObject;

    // The singletons (`Py_None` and friends in `inline` take their
    // addresses; only the object header is declared).
    pub static mut _Py_NoneStruct: PyObject;
    pub static mut _Py_TrueStruct: PyObject;
    pub static mut _Py_FalseStruct: PyObject;
    pub static mut _Py_EllipsisObject: PyObject;
    pub static mut _Py_NotImplementedStruct: PyObject;

    // pyerrors.h: the built-in exceptions.
    pub static mut PyExc_ArithmeticError: *mut PyObject;
    pub static mut PyExc_AssertionError: *mut PyObject;
    pub static mut PyExc_AttributeError: *mut PyObject;
    pub static mut PyExc_BaseException: *mut PyObject;
    pub static mut PyExc_BlockingIOError: *mut PyObject;
    pub static mut PyExc_BrokenPipeError: *mut PyObject;
    pub static mut PyExc_BufferError: *mut PyObject;
    pub static mut PyExc_BytesWarning: *mut PyObject;
    pub static mut PyExc_ChildProcessError: *mut PyObject;
    pub static mut PyExc_ConnectionAbortedError: *mut PyObject;
    pub static mut PyExc_ConnectionError: *mut PyObject;
    pub static mut PyExc_ConnectionRefusedError: *mut PyObject;
    pub static mut PyExc_ConnectionResetError: *mut PyObject;
    pub static mut PyExc_DeprecationWarning: *mut PyObject;
    pub static mut PyExc_EOFError: *mut PyObject;
    pub static mut PyExc_Exception: *mut PyObject;
    pub static mut PyExc_FileExistsError: *mut PyObject;
    pub static mut PyExc_FileNotFoundError: *mut PyObject;
    pub static mut PyExc_FloatingPointError: *mut PyObject;
    pub static mut PyExc_FutureWarning: *mut PyObject;
    pub static mut PyExc_GeneratorExit: *mut PyObject;
    pub static mut PyExc_ImportError: *mut PyObject;
    pub static mut PyExc_ImportWarning: *mut PyObject;
    pub static mut PyExc_IndentationError: *mut PyObject;
    pub static mut PyExc_IndexError: *mut PyObject;
    pub static mut PyExc_InterruptedError: *mut PyObject;
    pub static mut PyExc_IsADirectoryError: *mut PyObject;
    pub static mut PyExc_KeyError: *mut PyObject;
    pub static mut PyExc_KeyboardInterrupt: *mut PyObject;
    pub static mut PyExc_LookupError: *mut PyObject;
    pub static mut PyExc_MemoryError: *mut PyObject;
    pub static mut PyExc_ModuleNotFoundError: *mut PyObject;
    pub static mut PyExc_NameError: *mut PyObject;
    pub static mut PyExc_NotADirectoryError: *mut PyObject;
    pub static mut PyExc_NotImplementedError: *mut PyObject;
    pub static mut PyExc_OSError: *mut PyObject;
    pub static mut PyExc_OverflowError: *mut PyObject;
    pub static mut PyExc_PendingDeprecationWarning: *mut PyObject;
    pub static mut PyExc_PermissionError: *mut PyObject;
    pub static mut PyExc_ProcessLookupError: *mut PyObject;
    pub static mut PyExc_RecursionError: *mut PyObject;
    pub static mut PyExc_ReferenceError: *mut PyObject;
    pub static mut PyExc_ResourceWarning: *mut PyObject;
    pub static mut PyExc_RuntimeError: *mut PyObject;
    pub static mut PyExc_RuntimeWarning: *mut PyObject;
    pub static mut PyExc_StopAsyncIteration: *mut PyObject;
    pub static mut PyExc_StopIteration: *mut PyObject;
    pub static mut PyExc_SyntaxError: *mut PyObject;
    pub static mut PyExc_SyntaxWarning: *mut PyObject;
    pub static mut PyExc_SystemError: *mut PyObject;
    pub static mut PyExc_SystemExit: *mut PyObject;
    pub static mut PyExc_TabError: *mut PyObject;
    pub static mut PyExc_TimeoutError: *mut PyObject;
    pub static mut PyExc_TypeError: *mut PyObject;
    pub static mut PyExc_UnboundLocalError: *mut PyObject;
    pub static mut PyExc_UnicodeDecodeError: *mut PyObject;
    pub static mut PyExc_UnicodeEncodeError: *mut PyObject;
    pub static mut PyExc_UnicodeError: *mut PyObject;
    pub static mut PyExc_UnicodeTranslateError: *mut PyObject;
    pub static mut PyExc_UnicodeWarning: *mut PyObject;
    pub static mut PyExc_UserWarning: *mut PyObject;
    pub static mut PyExc_ValueError: *mut PyObject;
    pub static mut PyExc_Warning: *mut PyObject;
    pub static mut PyExc_ZeroDivisionError: *mut PyObject;

    // pyerrors.h
    pub fn PyErr_Clear();
    pub fn PyErr_ExceptionMatches(exc: *mut PyObject) -> c_int;
    pub fn PyErr_NewException(
        name: *const c_char,
        base: *mut PyObject,
        dict: *mut PyObject,
    ) -> *mut PyObject;
    pub fn PyErr_NewExceptionWithDoc(
        name: *const c_char,
        doc: *const c_char,
        base: *mut PyObject,
        dict: *mut PyObject,
    ) -> *mut PyObject;
    /// Always returns NULL (with the exception set).
    pub fn PyErr_Format(exc: *mut PyObject, format: *const c_char, ...) -> *mut PyObject;
    pub fn PyErr_NoMemory() -> *mut PyObject;
    pub fn PyErr_Occurred() -> *mut PyObject;
    pub fn PyErr_SetFromErrnoWithFilename(
        exc: *mut PyObject,
        filename: *const c_char,
    ) -> *mut PyObject;
    pub fn PyErr_SetFromErrnoWithFilenameObjects(
        exc: *mut PyObject,
        filename: *mut PyObject,
        filename2: *mut PyObject,
    ) -> *mut PyObject;
    pub fn PyErr_SetObject(exc: *mut PyObject, value: *mut PyObject);
    pub fn PyErr_SetString(exc: *mut PyObject, message: *const c_char);
    pub fn PyErr_WarnEx(
        category: *mut PyObject,
        message: *const c_char,
        stack_level: Py_ssize_t,
    ) -> c_int;
    pub fn PyErr_WriteUnraisable(obj: *mut PyObject);
    pub fn Py_FatalError(message: *const c_char) -> !;

    // object.h
    pub fn PyObject_ASCII(o: *mut PyObject) -> *mut PyObject;
    pub fn PyObject_Bytes(o: *mut PyObject) -> *mut PyObject;
    pub fn PyObject_Repr(o: *mut PyObject) -> *mut PyObject;
    pub fn PyObject_Str(o: *mut PyObject) -> *mut PyObject;
    pub fn PyObject_GetAttr(o: *mut PyObject, name: *mut PyObject) -> *mut PyObject;
    pub fn PyObject_GetAttrString(o: *mut PyObject, name: *const c_char) -> *mut PyObject;
    pub fn PyObject_HasAttr(o: *mut PyObject, name: *mut PyObject) -> c_int;
    pub fn PyObject_HasAttrString(o: *mut PyObject, name: *const c_char) -> c_int;
    pub fn PyObject_SetAttr(o: *mut PyObject, name: *mut PyObject, v: *mut PyObject) -> c_int;
    pub fn PyObject_SetAttrString(o: *mut PyObject, name: *const c_char, v: *mut PyObject)
        -> c_int;
    pub fn PyObject_Hash(o: *mut PyObject) -> Py_hash_t;
    pub fn PyObject_IsTrue(o: *mut PyObject) -> c_int;
    pub fn PyObject_RichCompare(a: *mut PyObject, b: *mut PyObject, op: c_int) -> *mut PyObject;
    pub fn PyObject_RichCompareBool(a: *mut PyObject, b: *mut PyObject, op: c_int) -> c_int;
    pub fn PyObject_CallFinalizerFromDealloc(o: *mut PyObject) -> c_int;
    pub fn PyCallable_Check(o: *mut PyObject) -> c_int;
    pub fn PyType_IsSubtype(a: *mut PyTypeObject, b: *mut PyTypeObject) -> c_int;
    pub fn PyType_Ready(t: *mut PyTypeObject) -> c_int;
    pub fn PyType_GenericAlloc(t: *mut PyTypeObject, nitems: Py_ssize_t) -> *mut PyObject;
    pub fn PyType_FromSpecWithBases(spec: *mut PyType_Spec, bases: *mut PyObject) -> *mut PyObject;
    #[cfg(Py_3_9)]
    pub fn PyType_FromModuleAndSpec(
        module: *mut PyObject,
        spec: *mut PyType_Spec,
        bases: *mut PyObject,
    ) -> *mut PyObject;
    #[cfg(Py_3_12)]
    pub fn PyType_FromMetaclass(
        meta: *mut PyTypeObject,
        module: *mut PyObject,
        spec: *mut PyType_Spec,
        bases: *mut PyObject,
    ) -> *mut PyObject;
    /// What `Py_DECREF` calls when the count reaches zero.
    pub fn _Py_Dealloc(o: *mut PyObject);

    // objimpl.h
    pub fn PyObject_Malloc(size: usize) -> *mut c_void;
    /// Sets the type (a new reference to it if it is a heap type) and a
    /// reference count of 1 on freshly allocated memory; returns `o`.
    pub fn PyObject_Init(o: *mut PyObject, tp: *mut PyTypeObject) -> *mut PyObject;
    /// The count of 1 (and tracemalloc's note) of `PyObject_Init`, public
    /// and exported from 3.9 on (cpython/object.h; inline before).
    #[cfg(Py_3_9)]
    pub fn _Py_NewReference(o: *mut PyObject);
    pub fn PyObject_GC_Track(o: *mut c_void);
    pub fn PyObject_GC_UnTrack(o: *mut c_void);

    // abstract.h
    pub fn PyObject_Call(
        callable: *mut PyObject,
        args: *mut PyObject,
        kwargs: *mut PyObject,
    ) -> *mut PyObject;
    #[cfg(Py_3_11)]
    pub fn PyObject_Vectorcall(
        callable: *mut PyObject,
        args: *const *mut PyObject,
        nargsf: usize,
        kwnames: *mut PyObject,
    ) -> *mut PyObject;
    #[cfg(Py_3_9)]
    pub fn PyObject_VectorcallMethod(
        name: *mut PyObject,
        args: *const *mut PyObject,
        nargsf: usize,
        kwnames: *mut PyObject,
    ) -> *mut PyObject;
    pub fn PyVectorcall_Call(
        callable: *mut PyObject,
        tuple: *mut PyObject,
        dict: *mut PyObject,
    ) -> *mut PyObject;
    pub fn PyObject_GetItem(o: *mut PyObject, key: *mut PyObject) -> *mut PyObject;
    pub fn PyObject_SetItem(o: *mut PyObject, key: *mut PyObject, v: *mut PyObject) -> c_int;
    pub fn PyObject_DelItem(o: *mut PyObject, key: *mut PyObject) -> c_int;
    pub fn PyObject_Size(o: *mut PyObject) -> Py_ssize_t;
    pub fn PyObject_GetIter(o: *mut PyObject) -> *mut PyObject;
    pub fn PyIter_Check(o: *mut PyObject) -> c_int;
    pub fn PyIter_Next(o: *mut PyObject) -> *mut PyObject;
    pub fn PyMapping_Check(o: *mut PyObject) -> c_int;
    pub fn PySequence_Contains(s: *mut PyObject, o: *mut PyObject) -> c_int;
    pub fn PySequence_GetItem(s: *mut PyObject, i: Py_ssize_t) -> *mut PyObject;
    pub fn PySequence_GetSlice(s: *mut PyObject, i1: Py_ssize_t, i2: Py_ssize_t) -> *mut PyObject;
    pub fn PySequence_SetSlice(
        s: *mut PyObject,
        i1: Py_ssize_t,
        i2: Py_ssize_t,
        v: *mut PyObject,
    ) -> c_int;
    pub fn PySequence_DelSlice(s: *mut PyObject, i1: Py_ssize_t, i2: Py_ssize_t) -> c_int;
    pub fn PyNumber_Check(o: *mut PyObject) -> c_int;
    pub fn PyNumber_Index(o: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Long(o: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Float(o: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Negative(o: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Positive(o: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Absolute(o: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Invert(o: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Add(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Subtract(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Multiply(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_MatrixMultiply(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_FloorDivide(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_TrueDivide(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Remainder(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Divmod(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Power(a: *mut PyObject, b: *mut PyObject, c: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Lshift(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Rshift(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_And(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Xor(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_Or(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceAdd(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceSubtract(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceMultiply(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceMatrixMultiply(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceFloorDivide(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceTrueDivide(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceRemainder(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlacePower(
        a: *mut PyObject,
        b: *mut PyObject,
        c: *mut PyObject,
    ) -> *mut PyObject;
    pub fn PyNumber_InPlaceLshift(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceRshift(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceAnd(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceXor(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;
    pub fn PyNumber_InPlaceOr(a: *mut PyObject, b: *mut PyObject) -> *mut PyObject;

    // longobject.h, floatobject.h
    pub fn PyLong_FromLong(v: c_long) -> *mut PyObject;
    pub fn PyLong_FromUnsignedLong(v: c_ulong) -> *mut PyObject;
    pub fn PyLong_FromLongLong(v: c_longlong) -> *mut PyObject;
    pub fn PyLong_FromUnsignedLongLong(v: c_ulonglong) -> *mut PyObject;
    pub fn PyLong_FromSsize_t(v: Py_ssize_t) -> *mut PyObject;
    pub fn PyLong_FromSize_t(v: usize) -> *mut PyObject;
    pub fn PyLong_AsLong(o: *mut PyObject) -> c_long;
    pub fn PyLong_AsUnsignedLong(o: *mut PyObject) -> c_ulong;
    pub fn PyLong_AsUnsignedLongMask(o: *mut PyObject) -> c_ulong;
    pub fn PyLong_AsLongLong(o: *mut PyObject) -> c_longlong;
    pub fn PyLong_AsUnsignedLongLong(o: *mut PyObject) -> c_ulonglong;
    pub fn PyLong_AsUnsignedLongLongMask(o: *mut PyObject) -> c_ulonglong;
    pub fn PyLong_AsSsize_t(o: *mut PyObject) -> Py_ssize_t;
    pub fn PyLong_AsSize_t(o: *mut PyObject) -> usize;
    pub fn PyLong_AsDouble(o: *mut PyObject) -> c_double;
    pub fn PyLong_AsVoidPtr(o: *mut PyObject) -> *mut c_void;
    pub fn PyFloat_FromDouble(v: c_double) -> *mut PyObject;
    pub fn PyFloat_AsDouble(o: *mut PyObject) -> c_double;

    // bytesobject.h, unicodeobject.h
    pub fn PyBytes_FromString(s: *const c_char) -> *mut PyObject;
    pub fn PyBytes_FromStringAndSize(s: *const c_char, len: Py_ssize_t) -> *mut PyObject;
    pub fn PyBytes_AsString(o: *mut PyObject) -> *mut c_char;
    pub fn PyBytes_Size(o: *mut PyObject) -> Py_ssize_t;
    pub fn PyUnicode_FromString(s: *const c_char) -> *mut PyObject;
    pub fn PyUnicode_FromFormat(format: *const c_char, ...) -> *mut PyObject;
    pub fn PyUnicode_FromStringAndSize(s: *const c_char, len: Py_ssize_t) -> *mut PyObject;
    pub fn PyUnicode_FromWideChar(w: *const wchar_t, len: Py_ssize_t) -> *mut PyObject;
    pub fn PyUnicode_FromEncodedObject(
        o: *mut PyObject,
        encoding: *const c_char,
        errors: *const c_char,
    ) -> *mut PyObject;
    pub fn PyUnicode_AsUTF8(o: *mut PyObject) -> *const c_char;
    pub fn PyUnicode_AsUTF8AndSize(o: *mut PyObject, size: *mut Py_ssize_t) -> *const c_char;
    pub fn PyUnicode_AsUTF8String(o: *mut PyObject) -> *mut PyObject;
    pub fn PyUnicode_AsASCIIString(o: *mut PyObject) -> *mut PyObject;
    pub fn PyUnicode_AsLatin1String(o: *mut PyObject) -> *mut PyObject;
    pub fn PyUnicode_DecodeASCII(
        s: *const c_char,
        len: Py_ssize_t,
        errors: *const c_char,
    ) -> *mut PyObject;
    pub fn PyUnicode_DecodeLatin1(
        s: *const c_char,
        len: Py_ssize_t,
        errors: *const c_char,
    ) -> *mut PyObject;
    pub fn PyUnicode_DecodeFSDefault(s: *const c_char) -> *mut PyObject;
    pub fn PyUnicode_DecodeFSDefaultAndSize(s: *const c_char, len: Py_ssize_t) -> *mut PyObject;
    pub fn PyUnicode_EncodeFSDefault(o: *mut PyObject) -> *mut PyObject;
    pub fn PyUnicode_ReadChar(o: *mut PyObject, index: Py_ssize_t) -> Py_UCS4;
    pub fn PyUnicode_Substring(
        o: *mut PyObject,
        start: Py_ssize_t,
        end: Py_ssize_t,
    ) -> *mut PyObject;

    // tupleobject.h, listobject.h, dictobject.h, sliceobject.h
    pub fn PyTuple_New(len: Py_ssize_t) -> *mut PyObject;
    pub fn PyList_New(len: Py_ssize_t) -> *mut PyObject;
    pub fn PyList_Append(l: *mut PyObject, item: *mut PyObject) -> c_int;
    pub fn PyList_Insert(l: *mut PyObject, index: Py_ssize_t, item: *mut PyObject) -> c_int;
    pub fn PyDict_New() -> *mut PyObject;
    pub fn PyDict_Copy(d: *mut PyObject) -> *mut PyObject;
    pub fn PyDict_Keys(d: *mut PyObject) -> *mut PyObject;
    pub fn PyDict_SetItemString(d: *mut PyObject, key: *const c_char, v: *mut PyObject) -> c_int;
    pub fn PySlice_New(
        start: *mut PyObject,
        stop: *mut PyObject,
        step: *mut PyObject,
    ) -> *mut PyObject;
    pub fn PySlice_Unpack(
        slice: *mut PyObject,
        start: *mut Py_ssize_t,
        stop: *mut Py_ssize_t,
        step: *mut Py_ssize_t,
    ) -> c_int;

    // pycapsule.h, context.h
    pub fn PyCapsule_New(
        pointer: *mut c_void,
        name: *const c_char,
        destructor: Option<PyCapsule_Destructor>,
    ) -> *mut PyObject;
    pub fn PyCapsule_GetPointer(capsule: *mut PyObject, name: *const c_char) -> *mut c_void;
    pub fn PyCapsule_GetName(capsule: *mut PyObject) -> *const c_char;
    pub fn PyCapsule_GetContext(capsule: *mut PyObject) -> *mut c_void;
    pub fn PyCapsule_IsValid(capsule: *mut PyObject, name: *const c_char) -> c_int;
    pub fn PyCapsule_SetPointer(capsule: *mut PyObject, pointer: *mut c_void) -> c_int;
    pub fn PyCapsule_SetName(capsule: *mut PyObject, name: *const c_char) -> c_int;
    pub fn PyCapsule_SetContext(capsule: *mut PyObject, context: *mut c_void) -> c_int;
    pub fn PyCapsule_SetDestructor(
        capsule: *mut PyObject,
        destructor: Option<PyCapsule_Destructor>,
    ) -> c_int;
    pub fn PyContextVar_New(name: *const c_char, default: *mut PyObject) -> *mut PyObject;
    pub fn PyContextVar_Get(
        var: *mut PyObject,
        default: *mut PyObject,
        value: *mut *mut PyObject,
    ) -> c_int;
    pub fn PyContextVar_Set(var: *mut PyObject, value: *mut PyObject) -> *mut PyObject;

    // moduleobject.h, modsupport.h, import.h
    pub fn PyModuleDef_Init(def: *mut PyModuleDef) -> *mut PyObject;
    pub fn PyModule_Create2(def: *mut PyModuleDef, apiver: c_int) -> *mut PyObject;
    pub fn PyModule_FromDefAndSpec2(
        def: *mut PyModuleDef,
        spec: *mut PyObject,
        apiver: c_int,
    ) -> *mut PyObject;
    pub fn PyModule_ExecDef(module: *mut PyObject, def: *mut PyModuleDef) -> c_int;
    pub fn PyModule_GetState(module: *mut PyObject) -> *mut c_void;
    pub fn PyImport_ImportModule(name: *const c_char) -> *mut PyObject;

    // ceval.h, pythonrun.h, pystate.h, pylifecycle.h
    pub fn PyEval_SaveThread() -> *mut PyThreadState;
    pub fn PyEval_RestoreThread(tstate: *mut PyThreadState);
    pub fn PyEval_GetBuiltins() -> *mut PyObject;
    pub fn PyEval_EvalCode(
        code: *mut PyObject,
        globals: *mut PyObject,
        locals: *mut PyObject,
    ) -> *mut PyObject;
    pub fn Py_CompileString(
        source: *const c_char,
        filename: *const c_char,
        start: c_int,
    ) -> *mut PyObject;
    pub fn PyGILState_Ensure() -> PyGILState_STATE;
    pub fn PyGILState_Release(state: PyGILState_STATE);
    pub fn Py_InitializeEx(initsigs: c_int);
}
