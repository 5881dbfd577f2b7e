//! What CPython's headers define as macros or `static inline` functions,
//! written out as they read on each version (they are compiled into every
//! extension, so they are part of the ABI). `#[inline(always)]`: each is a
//! few instructions on a hot path, as in C.

use super::*;
use core::ffi::{c_int, c_ulong};

/// `Py_TYPE`.
///
/// # Safety
/// `o` is a live object.
#[inline(always)]
pub unsafe fn Py_TYPE(o: *mut PyObject) -> *mut PyTypeObject {
    // SAFETY: a live object's header is readable (caller).
    unsafe { (*o).ob_type }
}

/// `Py_REFCNT`.
///
/// # Safety
/// `o` is a live object.
#[inline(always)]
pub unsafe fn Py_REFCNT(o: *mut PyObject) -> Py_ssize_t {
    // SAFETY: a live object's header is readable (caller).
    unsafe { (*o).ob_refcnt }
}

/// `Py_SIZE`.
///
/// # Safety
/// `o` is a live variable-size object.
#[inline(always)]
pub unsafe fn Py_SIZE(o: *mut PyObject) -> Py_ssize_t {
    // SAFETY: variable-size objects start with a `PyVarObject` (caller).
    unsafe { (*o.cast::<PyVarObject>()).ob_size }
}

/// The low 32 bits of a 64-bit reference count (`ob_refcnt_split[0]` on a
/// little-endian machine), which 3.12+ keeps saturated for immortal objects.
#[cfg(all(Py_3_12, target_pointer_width = "64"))]
#[inline(always)]
unsafe fn refcnt_low(o: *mut PyObject) -> *mut u32 {
    let at = if cfg!(target_endian = "big") { 4 } else { 0 };
    // SAFETY: `ob_refcnt` is 8 bytes at the start of the live object.
    unsafe { (&raw mut (*o).ob_refcnt).cast::<u8>().add(at).cast() }
}

/// `_Py_IsImmortal` (3.12+).
#[cfg(Py_3_12)]
#[inline(always)]
unsafe fn is_immortal(o: *mut PyObject) -> bool {
    #[cfg(target_pointer_width = "64")]
    // SAFETY: a live object (callers').
    return unsafe { (*refcnt_low(o) as i32) < 0 };
    #[cfg(not(target_pointer_width = "64"))]
    // SAFETY: a live object (callers').
    return unsafe { (*o).ob_refcnt == (u32::MAX >> 2) as Py_ssize_t };
}

/// `Py_INCREF`: from 3.12 an immortal object's count is never changed (on
/// 64-bit, a saturating add of the low half, as CPython's).
///
/// # Safety
/// GIL held; `o` is a live object.
#[inline(always)]
pub unsafe fn Py_INCREF(o: *mut PyObject) {
    #[cfg(all(Py_3_12, target_pointer_width = "64"))]
    // SAFETY: a live object (caller); the GIL serialises the update.
    unsafe {
        let low = refcnt_low(o);
        let new = (*low).wrapping_add(1);
        if new != 0 {
            *low = new;
        }
    }
    #[cfg(all(Py_3_12, not(target_pointer_width = "64")))]
    // SAFETY: as above.
    unsafe {
        if !is_immortal(o) {
            (*o).ob_refcnt += 1;
        }
    }
    #[cfg(not(Py_3_12))]
    // SAFETY: as above.
    unsafe {
        (*o).ob_refcnt += 1
    }
}

/// `Py_DECREF`: the object is deallocated when its count reaches zero;
/// from 3.12 immortal objects are left alone.
///
/// # Safety
/// GIL held; `o` is a live object whose reference the caller owns.
#[inline(always)]
pub unsafe fn Py_DECREF(o: *mut PyObject) {
    // SAFETY: a live object (caller); the GIL serialises the update, and the
    // last reference going away is what `_Py_Dealloc` is for.
    unsafe {
        #[cfg(Py_3_12)]
        if is_immortal(o) {
            return;
        }
        (*o).ob_refcnt -= 1;
        if (*o).ob_refcnt == 0 {
            _Py_Dealloc(o);
        }
    }
}

/// `Py_XINCREF`.
///
/// # Safety
/// As `Py_INCREF`, or `o` is NULL.
#[inline(always)]
pub unsafe fn Py_XINCREF(o: *mut PyObject) {
    if !o.is_null() {
        // SAFETY: not NULL, so a live object (caller).
        unsafe { Py_INCREF(o) }
    }
}

/// `Py_XDECREF`.
///
/// # Safety
/// As `Py_DECREF`, or `o` is NULL.
#[inline(always)]
pub unsafe fn Py_XDECREF(o: *mut PyObject) {
    if !o.is_null() {
        // SAFETY: not NULL, so a live owned reference (caller).
        unsafe { Py_DECREF(o) }
    }
}

/// `Py_None` (a borrowed reference).
#[inline(always)]
pub fn Py_None() -> *mut PyObject {
    &raw mut _Py_NoneStruct
}

/// `Py_True` (a borrowed reference).
#[inline(always)]
pub fn Py_True() -> *mut PyObject {
    &raw mut _Py_TrueStruct
}

/// `Py_False` (a borrowed reference).
#[inline(always)]
pub fn Py_False() -> *mut PyObject {
    &raw mut _Py_FalseStruct
}

/// `Py_Ellipsis` (a borrowed reference).
#[inline(always)]
pub fn Py_Ellipsis() -> *mut PyObject {
    &raw mut _Py_EllipsisObject
}

/// `Py_NotImplemented` (a borrowed reference).
#[inline(always)]
pub fn Py_NotImplemented() -> *mut PyObject {
    &raw mut _Py_NotImplementedStruct
}

/// `PyType_HasFeature`, reading `tp_flags` (as CPython does outside the
/// limited API).
///
/// # Safety
/// `t` is a live type.
#[inline(always)]
pub unsafe fn PyType_HasFeature(t: *mut PyTypeObject, feature: c_ulong) -> c_int {
    // SAFETY: a live type (caller).
    unsafe { ((*t).tp_flags & feature != 0) as c_int }
}

/// `PyType_IS_GC`.
///
/// # Safety
/// `t` is a live type.
#[inline(always)]
pub unsafe fn PyType_IS_GC(t: *mut PyTypeObject) -> c_int {
    // SAFETY: forwarded.
    unsafe { PyType_HasFeature(t, Py_TPFLAGS_HAVE_GC) }
}

/// `PyObject_TypeCheck`: `o`'s type is `t` or a subtype of it.
///
/// # Safety
/// GIL held; `o` a live object, `t` a live type.
#[inline(always)]
pub unsafe fn PyObject_TypeCheck(o: *mut PyObject, t: *mut PyTypeObject) -> c_int {
    // SAFETY: forwarded.
    unsafe { (Py_TYPE(o) == t || PyType_IsSubtype(Py_TYPE(o), t) != 0) as c_int }
}

/// The `Py*_Check` macros that test a subclass flag of the object's type.
macro_rules! flag_checks {
    ($($name:ident => $flag:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` (", stringify!($flag), ").")]
        ///
        /// # Safety
        /// `o` is a live object.
        #[inline(always)]
        pub unsafe fn $name(o: *mut PyObject) -> c_int {
            // SAFETY: forwarded.
            unsafe { PyType_HasFeature(Py_TYPE(o), $flag) }
        }
    )*};
}

flag_checks! {
    PyLong_Check => Py_TPFLAGS_LONG_SUBCLASS,
    PyList_Check => Py_TPFLAGS_LIST_SUBCLASS,
    PyTuple_Check => Py_TPFLAGS_TUPLE_SUBCLASS,
    PyBytes_Check => Py_TPFLAGS_BYTES_SUBCLASS,
    PyUnicode_Check => Py_TPFLAGS_UNICODE_SUBCLASS,
    PyDict_Check => Py_TPFLAGS_DICT_SUBCLASS,
    PyType_Check => Py_TPFLAGS_TYPE_SUBCLASS,
}

/// The `Py*_CheckExact` macros (and checks of types without subclasses)
/// that compare the object's type with one built-in type.
macro_rules! exact_checks {
    ($($name:ident => $ty:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` (the type is `", stringify!($ty), "`).")]
        ///
        /// # Safety
        /// `o` is a live object.
        #[inline(always)]
        pub unsafe fn $name(o: *mut PyObject) -> c_int {
            // SAFETY: a live object (caller); only the static's address is taken.
            unsafe { (Py_TYPE(o) == &raw mut $ty) as c_int }
        }
    )*};
}

exact_checks! {
    PyList_CheckExact => PyList_Type,
    PyTuple_CheckExact => PyTuple_Type,
    PySlice_Check => PySlice_Type,
    PyCode_Check => PyCode_Type,
}

/// `PyModule_Check`.
///
/// # Safety
/// GIL held; `o` is a live object.
#[inline(always)]
pub unsafe fn PyModule_Check(o: *mut PyObject) -> c_int {
    // SAFETY: forwarded; only the static's address is taken.
    unsafe { PyObject_TypeCheck(o, &raw mut PyModule_Type) }
}

/// `PyTuple_GET_SIZE`.
///
/// # Safety
/// `t` is a live tuple.
#[inline(always)]
pub unsafe fn PyTuple_GET_SIZE(t: *mut PyObject) -> Py_ssize_t {
    // SAFETY: forwarded.
    unsafe { Py_SIZE(t) }
}

/// The address of item `i` of tuple `t`.
#[inline(always)]
unsafe fn tuple_item(t: *mut PyObject, i: Py_ssize_t) -> *mut *mut PyObject {
    // SAFETY: `i` is within the tuple's items (callers').
    unsafe {
        (&raw mut (*t.cast::<PyTupleObject>()).ob_item)
            .cast::<*mut PyObject>()
            .offset(i)
    }
}

/// `PyTuple_GET_ITEM` (a borrowed reference).
///
/// # Safety
/// `t` is a live tuple and `0 <= i < len(t)`.
#[inline(always)]
pub unsafe fn PyTuple_GET_ITEM(t: *mut PyObject, i: Py_ssize_t) -> *mut PyObject {
    // SAFETY: in bounds (caller).
    unsafe { *tuple_item(t, i) }
}

/// `PyTuple_SET_ITEM`: steals `v`, without releasing the item it replaces.
///
/// # Safety
/// `t` is a live tuple and `0 <= i < len(t)`.
#[inline(always)]
pub unsafe fn PyTuple_SET_ITEM(t: *mut PyObject, i: Py_ssize_t, v: *mut PyObject) {
    // SAFETY: in bounds (caller).
    unsafe { *tuple_item(t, i) = v }
}

/// `PyList_GET_SIZE`.
///
/// # Safety
/// `l` is a live list.
#[inline(always)]
pub unsafe fn PyList_GET_SIZE(l: *mut PyObject) -> Py_ssize_t {
    // SAFETY: forwarded.
    unsafe { Py_SIZE(l) }
}

/// `PyList_SET_ITEM`: steals `v`, without releasing the item it replaces.
///
/// # Safety
/// `l` is a live list and `0 <= i < len(l)`.
#[inline(always)]
pub unsafe fn PyList_SET_ITEM(l: *mut PyObject, i: Py_ssize_t, v: *mut PyObject) {
    // SAFETY: in bounds of the list's item array (caller).
    unsafe { *(*l.cast::<PyListObject>()).ob_item.offset(i) = v }
}

/// `PyVectorcall_NARGS`: the argument count of a vectorcall's `nargsf`.
#[inline(always)]
pub fn PyVectorcall_NARGS(nargsf: usize) -> Py_ssize_t {
    (nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET) as Py_ssize_t
}
