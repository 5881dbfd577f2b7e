//! What modules and types are declared with (`moduleobject.h`,
//! `methodobject.h`, `descrobject.h`/`structmember.h`, `object.h`'s type
//! specs), and the API's constants (flags, slot numbers, start symbols).

use super::{PyObject, Py_ssize_t};
use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

/// `PyCFunction`: what `PyMethodDef.ml_meth` holds, whatever the calling
/// convention its `ml_flags` announce (the function is cast to it).
pub type PyCFunction = unsafe extern "C" fn(*mut PyObject, *mut PyObject) -> *mut PyObject;

/// `PyMethodDef`.
#[repr(C)]
pub struct PyMethodDef {
    pub ml_name: *const c_char,
    pub ml_meth: Option<PyCFunction>,
    pub ml_flags: c_int,
    pub ml_doc: *const c_char,
}

/// `PyMemberDef` (`type` is a Rust keyword: `type_code`).
#[repr(C)]
pub struct PyMemberDef {
    pub name: *const c_char,
    pub type_code: c_int,
    pub offset: Py_ssize_t,
    pub flags: c_int,
    pub doc: *const c_char,
}

/// `getter` of `PyGetSetDef`.
pub type getter = unsafe extern "C" fn(*mut PyObject, *mut c_void) -> *mut PyObject;
/// `setter` of `PyGetSetDef`.
pub type setter = unsafe extern "C" fn(*mut PyObject, *mut PyObject, *mut c_void) -> c_int;

/// `PyGetSetDef`.
#[repr(C)]
pub struct PyGetSetDef {
    pub name: *const c_char,
    pub get: Option<getter>,
    pub set: Option<setter>,
    pub doc: *const c_char,
    pub closure: *mut c_void,
}

/// `PyType_Slot`.
#[repr(C)]
pub struct PyType_Slot {
    pub slot: c_int,
    pub pfunc: *mut c_void,
}

/// `PyType_Spec`.
#[repr(C)]
pub struct PyType_Spec {
    pub name: *const c_char,
    pub basicsize: c_int,
    pub itemsize: c_int,
    pub flags: c_uint,
    pub slots: *mut PyType_Slot,
}

/// `PyModuleDef_Base`.
#[repr(C)]
pub struct PyModuleDef_Base {
    pub ob_base: PyObject,
    pub m_init: Option<unsafe extern "C" fn() -> *mut PyObject>,
    pub m_index: Py_ssize_t,
    pub m_copy: *mut PyObject,
}

/// `PyModuleDef_HEAD_INIT`. Its reference count is 1 on every version
/// (3.12 makes it immortal only inside the interpreter).
pub const PyModuleDef_HEAD_INIT: PyModuleDef_Base = PyModuleDef_Base {
    ob_base: PyObject {
        ob_refcnt: 1,
        ob_type: core::ptr::null_mut(),
    },
    m_init: None,
    m_index: 0,
    m_copy: core::ptr::null_mut(),
};

/// `PyModuleDef_Slot`.
#[repr(C)]
pub struct PyModuleDef_Slot {
    pub slot: c_int,
    pub value: *mut c_void,
}

/// `PyModuleDef`.
#[repr(C)]
pub struct PyModuleDef {
    pub m_base: PyModuleDef_Base,
    pub m_name: *const c_char,
    pub m_doc: *const c_char,
    pub m_size: Py_ssize_t,
    pub m_methods: *mut PyMethodDef,
    pub m_slots: *mut PyModuleDef_Slot,
    pub m_traverse: Option<super::traverseproc>,
    pub m_clear: Option<super::inquiry>,
    pub m_free: Option<super::freefunc>,
}

/// `PyCapsule_Destructor`.
pub type PyCapsule_Destructor = unsafe extern "C" fn(*mut PyObject);

// `PyMethodDef.ml_flags`.
pub const METH_NOARGS: c_int = 0x0004;
pub const METH_O: c_int = 0x0008;
pub const METH_KEYWORDS: c_int = 0x0002;
pub const METH_FASTCALL: c_int = 0x0080;

// `PyMemberDef`: the type of a `Py_ssize_t` member (`T_PYSSIZET` before
// 3.12) and the read-only flag (`READONLY` before 3.12).
pub const Py_T_PYSSIZET: c_int = 19;
pub const Py_READONLY: c_int = 1;

// `tp_flags`.
pub const Py_TPFLAGS_HEAPTYPE: c_ulong = 1 << 9;
pub const Py_TPFLAGS_HAVE_VECTORCALL: c_ulong = 1 << 11;
pub const Py_TPFLAGS_READY: c_ulong = 1 << 12;
pub const Py_TPFLAGS_HAVE_GC: c_ulong = 1 << 14;
pub const Py_TPFLAGS_LONG_SUBCLASS: c_ulong = 1 << 24;
pub const Py_TPFLAGS_LIST_SUBCLASS: c_ulong = 1 << 25;
pub const Py_TPFLAGS_TUPLE_SUBCLASS: c_ulong = 1 << 26;
pub const Py_TPFLAGS_BYTES_SUBCLASS: c_ulong = 1 << 27;
pub const Py_TPFLAGS_UNICODE_SUBCLASS: c_ulong = 1 << 28;
pub const Py_TPFLAGS_DICT_SUBCLASS: c_ulong = 1 << 29;
pub const Py_TPFLAGS_TYPE_SUBCLASS: c_ulong = 1 << 31;

// Type slot numbers (`typeslots.h`).
pub const Py_tp_call: c_int = 50;
pub const Py_tp_clear: c_int = 51;
pub const Py_tp_dealloc: c_int = 52;
pub const Py_tp_doc: c_int = 56;
pub const Py_tp_methods: c_int = 64;
pub const Py_tp_new: c_int = 65;
pub const Py_tp_members: c_int = 72;
pub const Py_tp_getset: c_int = 73;

// Module slots.
pub const Py_mod_create: c_int = 1;
pub const Py_mod_exec: c_int = 2;

/// The `apiver` that `PyModule_Create` passes.
pub const PYTHON_API_VERSION: c_int = 1013;

// The start symbols of `Py_CompileString`.
pub const Py_single_input: c_int = 256;
pub const Py_file_input: c_int = 257;
pub const Py_eval_input: c_int = 258;

/// The flag a vectorcall's `nargsf` may carry besides the count.
pub const PY_VECTORCALL_ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);
