//! Context members that have no implementation over CPython yet.
//!
//! Each name listed here becomes a function with the member's exact signature
//! (looked up in the context declaration) that raises `SystemError` naming the
//! member and returns the member's error value. Implementing a member means
//! deleting its line here; the universal table then picks the real function.

use hpy_sys::HPyContext;
use pyo3_ffi as ffi;

#[cold]
unsafe fn not_implemented(name: &str) {
    // SAFETY: context members are called with the GIL held.
    unsafe {
        crate::handle::raise(
            ffi::PyExc_SystemError,
            &format!("{name} is not implemented yet in hpy-rs"),
        )
    }
}

macro_rules! placeholder {
    (($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)) => {
        #[allow(unused_variables)]
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, $($p: $t),*) -> $ret {
            // SAFETY: raising an exception with the GIL held.
            unsafe { not_implemented(stringify!($name)) };
            <$ret as crate::ErrorValue>::ERROR
        }
    };
}

macro_rules! not_implemented {
    ($($name:ident)*) => { $( hpy_sys::with_ctx_function!($name, placeholder); )* };
}

not_implemented! {
    ctx_Err_SetFromErrnoWithFilename
    ctx_Err_SetFromErrnoWithFilenameObjects
    ctx_Err_NewException
    ctx_Err_NewExceptionWithDoc
    ctx_Err_WarnEx
    ctx_Err_WriteUnraisable
    ctx_Type_FromSpec
    ctx_Type_GenericNew
    ctx_AsStruct_Object
    ctx_AsStruct_Legacy
    ctx_New
    ctx_Unicode_FromWideChar
    ctx_Unicode_DecodeFSDefault
    ctx_Unicode_DecodeFSDefaultAndSize
    ctx_Unicode_EncodeFSDefault
    ctx_Unicode_ReadChar
    ctx_Unicode_DecodeASCII
    ctx_Unicode_DecodeLatin1
    ctx_ListBuilder_New
    ctx_ListBuilder_Set
    ctx_ListBuilder_Build
    ctx_ListBuilder_Cancel
    ctx_TupleBuilder_New
    ctx_TupleBuilder_Set
    ctx_TupleBuilder_Build
    ctx_TupleBuilder_Cancel
    ctx_Tracker_New
    ctx_Tracker_Add
    ctx_Tracker_ForgetAll
    ctx_Tracker_Close
    ctx_Field_Store
    ctx_Field_Load
    ctx_ReenterPythonExecution
    ctx_LeavePythonExecution
    ctx_Global_Store
    ctx_Global_Load
    ctx_AsStruct_Type
    ctx_AsStruct_Long
    ctx_AsStruct_Float
    ctx_AsStruct_Unicode
    ctx_AsStruct_Tuple
    ctx_AsStruct_List
    ctx_Type_GetBuiltinShape
    ctx_Capsule_New
    ctx_Capsule_Get
    ctx_Capsule_IsValid
    ctx_Capsule_Set
    ctx_Compile_s
    ctx_EvalCode
    ctx_ContextVar_New
    ctx_ContextVar_Get
    ctx_ContextVar_Set
    ctx_Type_GetName
    ctx_Type_IsSubtype
    ctx_Unicode_FromEncodedObject
    ctx_Unicode_Substring
    ctx_Dict_Keys
    ctx_Dict_Copy
    ctx_Slice_Unpack
    ctx_SetCallFunction
    ctx_AsStruct_Dict
    ctx_List_Insert
    ctx_GetSlice
    ctx_SetSlice
    ctx_DelSlice
    ctx_Iter_Next
    ctx_Slice_New
}
