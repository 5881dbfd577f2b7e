//! The runtime data of each HPy type (in the hidden module behind the type's
//! `ht_module`, with what CPython reads from the type's spec for as long as
//! the type lives) and the object layout it implies: the header in front of
//! the payload, where the payload starts, and the vectorcall slot of instances.

use super::compat::type_module;
use super::fields::FieldMember;
use crate::ffi;
use alloc::ffi::CString;
use alloc::{boxed::Box, vec::Vec};
use core::ffi::{c_char, c_void};
use core::ptr::{addr_of_mut, null, null_mut};
use hpy_sys::*;

/// `sizeof(_HPy_MaxAlign_t)`: the payload is aligned for any C type.
pub(super) const MAX_ALIGN: isize = 16;

#[inline]
pub(super) fn align(n: isize) -> isize {
    (n + MAX_ALIGN - 1) & !(MAX_ALIGN - 1)
}

/// Runtime data of one HPy type (module state of the type's hidden module,
/// dropped by the module's `m_free`). `alloc` comes first: CPython-ABI
/// extensions read it in place (`hpy/cpython/api.h`, `_HPy_New`).
#[repr(C)]
pub(super) struct TypeData {
    /// Set once the type exists (`create`); calls `tp_alloc` until then.
    pub(super) alloc: Alloc,
    pub(super) shape: HPyType_BuiltinShape,
    /// `header_size(shape)`, computed once: where the payload starts.
    pub(super) header: isize,
    pub(super) traverse: HPyFunc_traverseproc,
    pub(super) destroy: HPyFunc_destroyfunc,
    pub(super) vectorcall: cpy_vectorcallfunc,
    /// Set once the type exists (`create`); empty until then.
    pub(super) teardown: Teardown,
    pub(super) spec: SpecStorage,
}

/// How `HPy_New` makes an instance of exactly this type, read from the type
/// once when it is made, so that `HPy_New` needs no more than this. Its C
/// twin is `_HPyRs_NewPlan` in `hpy/cpython/api.h` (same fields, same
/// order; both sides assert its size).
#[repr(C)]
pub(super) struct Alloc {
    /// The instance size when `tp_alloc` would be `PyType_GenericAlloc` on
    /// plain memory (no GC, no items, no managed dict or weakref in front
    /// of the object): then `HPy_New` does what it does without its
    /// generic branches (`PyObject_Malloc`, zero-fill, `PyObject_Init`),
    /// as upstream's `HPy_New` always does. 0: call `tp_alloc`.
    pub(super) plain_size: usize,
    /// `TypeData::header`: where the payload starts.
    pub(super) header: isize,
    /// Where each instance's vectorcallfunc goes (`HPy_tp_call`), or 0.
    pub(super) vectorcall_offset: isize,
    /// What goes there (`TypeData::vectorcall`).
    pub(super) vectorcall: cpy_vectorcallfunc,
}

const _: () = assert!(core::mem::size_of::<Alloc>() == 4 * core::mem::size_of::<usize>());

/// The type flags that give instances a pre-header in front of the object
/// (3.11's managed dict, 3.12's managed weakref): `PyType_GenericAlloc`
/// allocates more than `tp_basicsize` for them. Bits no CPython before uses.
const PREHEADER_FLAGS: core::ffi::c_ulong = (1 << 3) | (1 << 4);

impl Alloc {
    pub(super) fn new() -> Alloc {
        Alloc {
            plain_size: 0,
            header: 0,
            vectorcall_offset: 0,
            vectorcall: None,
        }
    }

    /// The allocation plan of `tp`, a type just made by `HPyType_FromSpec`
    /// whose data is `d`.
    ///
    /// # Safety
    /// `tp` is a valid type; GIL held.
    pub(super) unsafe fn of(tp: *mut ffi::PyTypeObject, d: &TypeData) -> Alloc {
        // SAFETY: reading the fields of a valid, ready type.
        unsafe {
            let generic = (*tp).tp_alloc.map(|f| f as *const () as usize)
                == Some(ffi::PyType_GenericAlloc as *const () as usize);
            let plain = generic
                && (*tp).tp_itemsize == 0
                && (*tp).tp_flags & (ffi::Py_TPFLAGS_HAVE_GC | PREHEADER_FLAGS) == 0;
            Alloc {
                // PyType_GenericAlloc's size for no items: one item's room,
                // rounded up to a pointer
                plain_size: if plain {
                    ((*tp).tp_basicsize as usize).next_multiple_of(core::mem::size_of::<usize>())
                } else {
                    0
                },
                header: d.header,
                vectorcall_offset: if d.vectorcall.is_some() && (*tp).tp_vectorcall_offset > 0 {
                    (*tp).tp_vectorcall_offset
                } else {
                    0
                },
                vectorcall: d.vectorcall,
            }
        }
    }
}

/// What releasing an instance of this type (or of a subtype that is not an
/// HPy type) involves beyond CPython's part, read from the base chain once
/// when the type is made, so that `tp_clear` and `tp_dealloc` are
/// straight-line.
pub(super) struct Teardown {
    /// The `HPy_tp_traverse` impls of this type and of the HPy types among
    /// its bases, nearest first: together they visit every field.
    pub(super) traverses: Vec<TraverseFn>,
    /// The `HPy_tp_destroy` impls, in the same order.
    pub(super) destroys: Vec<DestroyFn>,
    /// The deallocator of the static builtin the type extends, which
    /// releases that builtin's contents and frees the memory; None when
    /// `tp_free` alone does (`object`'s deallocator is just that).
    pub(super) base_dealloc: Option<ffi::destructor>,
    /// Whether that builtin is a GC type (its deallocator untracks).
    pub(super) base_is_gc: bool,
    /// The one `HPy_tp_destroy` impl when that is all releasing an instance
    /// of exactly this type takes besides `tp_free` (no finalizer, no GC,
    /// no fields to clear, nothing else to destroy, no builtin deallocator):
    /// the common case, which `hpy_dealloc` runs straight through.
    pub(super) only_destroy: Option<DestroyFn>,
}

pub(super) type TraverseFn =
    unsafe extern "C" fn(*mut c_void, HPyFunc_visitproc, *mut c_void) -> core::ffi::c_int;
pub(super) type DestroyFn = unsafe extern "C" fn(*mut c_void);

impl Teardown {
    pub(super) fn new() -> Teardown {
        Teardown {
            traverses: Vec::new(),
            destroys: Vec::new(),
            base_dealloc: None,
            base_is_gc: false,
            only_destroy: None,
        }
    }

    /// The teardown of `tp`, a type just made by `HPyType_FromSpec`.
    ///
    /// # Safety
    /// `tp` is a valid type whose bases are alive; GIL held.
    pub(super) unsafe fn of(tp: *mut ffi::PyTypeObject) -> Teardown {
        let mut t = Teardown::new();
        // SAFETY: `tp_base` is NULL or a valid type. A static type's bases
        // are static: the HPy types are all above the first one.
        unsafe {
            let mut solid = tp;
            while !solid.is_null() {
                if let Some(d) = type_data(solid).as_ref() {
                    t.traverses.extend(d.traverse);
                    t.destroys.extend(d.destroy);
                }
                if (*solid).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 || (*solid).tp_base.is_null() {
                    break;
                }
                solid = (*solid).tp_base;
            }
            let static_builtin =
                !solid.is_null() && (*solid).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE == 0;
            if static_builtin && solid != addr_of_mut!(ffi::PyBaseObject_Type) {
                t.base_dealloc = (*solid).tp_dealloc;
                t.base_is_gc = ffi::PyType_IS_GC(solid) != 0;
            }
            if let ([destroy], true, None, None, 0) = (
                t.destroys.as_slice(),
                t.traverses.is_empty(),
                t.base_dealloc,
                (*tp).tp_finalize,
                ffi::PyType_IS_GC(tp),
            ) {
                t.only_destroy = Some(*destroy);
            }
        }
        t
    }
}

/// What CPython keeps pointers to after `PyType_FromSpec`: the method and
/// getset arrays (`tp_methods`, `tp_getset`; the descriptors in `tp_dict`
/// point into them), the closures of the getsets of field members and,
/// before 3.11 (where `tp_name` is `spec.name`), the name. The member array
/// is not here: CPython copies it into the type.
///
/// It is freed with the hidden module, which the type releases after its
/// dict (`type_dealloc` decrefs `tp_dict` before `ht_module`, or `tp_cache`
/// on 3.8), and the descriptors hold the type: nothing reads it afterwards.
pub(super) struct SpecStorage {
    pub(super) methods: Vec<ffi::PyMethodDef>,
    pub(super) getsets: Vec<ffi::PyGetSetDef>,
    /// Each from `Box::into_raw`.
    pub(super) field_members: Vec<*mut FieldMember>,
    /// From `CString::into_raw`, or NULL.
    pub(super) name: *mut c_char,
}

impl SpecStorage {
    pub(super) fn new() -> SpecStorage {
        SpecStorage {
            methods: Vec::new(),
            getsets: Vec::new(),
            field_members: Vec::new(),
            name: null_mut(),
        }
    }
}

impl Drop for SpecStorage {
    fn drop(&mut self) {
        // SAFETY: the pointers were made by `Box::into_raw` and
        // `CString::into_raw` for this storage alone, and are freed once.
        unsafe {
            for m in self.field_members.drain(..) {
                drop(Box::from_raw(m));
            }
            if !self.name.is_null() {
                drop(CString::from_raw(self.name));
            }
        }
    }
}

/// `m_free` of the hidden modules: drops the type's data.
unsafe extern "C" fn free_type_data(module: *mut c_void) {
    // SAFETY: CPython calls this once, from the dealloc of a module made from
    // `DATA_DEF`, whose state holds the `TypeData` written right after the
    // module was made (`create`); nothing reads that state afterwards.
    unsafe {
        let state = ffi::PyModule_GetState(module.cast()).cast::<TypeData>();
        if !state.is_null() {
            core::ptr::drop_in_place(state);
        }
    }
}

/// Def of the hidden per-type modules; its address identifies them (also
/// to CPython-ABI extensions, `hpy/cpython/api.h`, hence the export there).
#[cfg_attr(feature = "cpython-abi", export_name = "_HPyRs_cpy_typedata_def")]
pub(super) static mut DATA_DEF: ffi::PyModuleDef = ffi::PyModuleDef {
    m_base: ffi::PyModuleDef_HEAD_INIT,
    m_name: c"hpy.universal._typedata".as_ptr(),
    m_doc: null(),
    m_size: core::mem::size_of::<TypeData>() as ffi::Py_ssize_t,
    m_methods: null_mut(),
    m_slots: null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: Some(free_type_data),
};

/// The start of a module object, `PyModuleObject` (CPython's internal
/// header; the same fields in this order from 3.8 to 3.13), so that the
/// hot paths read a hidden module's def and state without two calls.
/// `create` checks this layout against `PyModule_GetDef`/`GetState` on
/// every module it makes, so a CPython that differs fails type creation
/// rather than reading the wrong word.
#[repr(C)]
pub(super) struct ModuleHead {
    ob_base: ffi::PyObject,
    md_dict: *mut ffi::PyObject,
    pub(super) md_def: *mut ffi::PyModuleDef,
    pub(super) md_state: *mut c_void,
}

/// The runtime data of `tp` if it was made by `HPyType_FromSpec`, else NULL.
///
/// # Safety
/// `tp` is a valid type; GIL held.
#[inline(always)]
pub(super) unsafe fn type_data(tp: *mut ffi::PyTypeObject) -> *mut TypeData {
    // SAFETY: forwarded.
    match unsafe { data_module(tp) } {
        // SAFETY: a module of `DATA_DEF` has a `TypeData` state, never NULL
        // (`DATA_DEF` has a state size: the state is allocated with the
        // module); saying so spares the callers' check.
        Some(head) => unsafe {
            let d = (*head).md_state.cast::<TypeData>();
            core::hint::assert_unchecked(!d.is_null());
            d
        },
        None => null_mut(),
    }
}

/// The runtime data of `tp`, known to be made by `HPyType_FromSpec`: the
/// state of its hidden module, without [`type_data`]'s checks.
///
/// # Safety
/// `tp` was made by `HPyType_FromSpec` and is alive; GIL held; the
/// reference does not outlive `tp`.
#[inline(always)]
pub(super) unsafe fn own_data<'a>(tp: *mut ffi::PyTypeObject) -> &'a TypeData {
    // SAFETY: such a type's module slot holds its hidden module (`create`),
    // which starts with `ModuleHead` and whose state is a `TypeData`, never
    // NULL, alive as long as the type.
    unsafe {
        let head = type_module(tp).cast::<ModuleHead>();
        debug_assert!((*head).md_def == addr_of_mut!(DATA_DEF));
        &*(*head).md_state.cast::<TypeData>()
    }
}

/// The hidden module of `tp` if it was made by `HPyType_FromSpec`.
///
/// # Safety
/// As `type_data`.
#[inline(always)]
unsafe fn data_module(tp: *mut ffi::PyTypeObject) -> Option<*mut ModuleHead> {
    // SAFETY: a heap type's module slot is NULL or a live object; an exact
    // module starts with `ModuleHead` (checked in `create`).
    unsafe {
        if (*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
            return None;
        }
        let m = type_module(tp);
        if m.is_null() || ffi::Py_TYPE(m) != addr_of_mut!(ffi::PyModule_Type) {
            return None;
        }
        let head = m.cast::<ModuleHead>();
        ((*head).md_def == addr_of_mut!(DATA_DEF)).then_some(head)
    }
}

/// The data of the nearest HPy type in `tp`'s base chain (`tp` included),
/// or NULL.
///
/// # Safety
/// As `type_data`.
#[inline(always)]
pub(super) unsafe fn nearest_data(tp: *mut ffi::PyTypeObject) -> *mut TypeData {
    // SAFETY: forwarded.
    match unsafe { nearest(tp) } {
        Some(d) => (d as *const TypeData).cast_mut(),
        None => null_mut(),
    }
}

/// [`nearest_data`] as a reference, for reading (the hot paths: it tells
/// the compiler the data pointer is not NULL).
///
/// # Safety
/// As `type_data`; the reference does not outlive `tp`'s base chain.
#[inline(always)]
pub(super) unsafe fn nearest<'a>(mut tp: *mut ffi::PyTypeObject) -> Option<&'a TypeData> {
    // SAFETY: forwarded; `tp_base` is NULL or a valid type.
    unsafe {
        while !tp.is_null() {
            if let Some(head) = data_module(tp) {
                // SAFETY: as in `type_data` (never NULL; saying so spares
                // the callers' check); the state lives as long as the type.
                let d = (*head).md_state.cast::<TypeData>();
                core::hint::assert_unchecked(!d.is_null());
                return Some(&*d);
            }
            tp = (*tp).tp_base;
        }
    }
    None
}

/// Size of the runtime header in front of the user struct, or None for an
/// invalid shape.
#[inline]
pub(super) fn header_size(shape: HPyType_BuiltinShape) -> Option<isize> {
    // SAFETY: reading the sizes of CPython's static builtin types.
    unsafe {
        let size = |tp: *mut ffi::PyTypeObject, with_item: bool| {
            (*tp).tp_basicsize + if with_item { (*tp).tp_itemsize } else { 0 }
        };
        Some(match shape {
            HPyType_BuiltinShape_Legacy => 0,
            HPyType_BuiltinShape_Object => align(core::mem::size_of::<ffi::PyObject>() as isize),
            // sizeof(PyHeapTypeObject)
            HPyType_BuiltinShape_Type => align(size(addr_of_mut!(ffi::PyType_Type), false)),
            // sizeof(PyLongObject) includes one digit
            HPyType_BuiltinShape_Long => align(size(addr_of_mut!(ffi::PyLong_Type), true)),
            HPyType_BuiltinShape_Float => align(size(addr_of_mut!(ffi::PyFloat_Type), false)),
            HPyType_BuiltinShape_Unicode => align(size(addr_of_mut!(ffi::PyUnicode_Type), false)),
            // sizeof(PyTupleObject) includes one item
            HPyType_BuiltinShape_Tuple => align(size(addr_of_mut!(ffi::PyTuple_Type), true)),
            HPyType_BuiltinShape_List => align(size(addr_of_mut!(ffi::PyList_Type), false)),
            HPyType_BuiltinShape_Dict => align(size(addr_of_mut!(ffi::PyDict_Type), false)),
            _ => return None,
        })
    }
}

/// The payload of `obj` (after the header of its nearest HPy type's shape;
/// the object itself for legacy and non-HPy types).
///
/// # Safety
/// `obj` is a valid object; GIL held.
#[inline(always)]
pub(super) unsafe fn payload(obj: *mut ffi::PyObject) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { payload_in(obj, nearest_data(ffi::Py_TYPE(obj))) }
}

/// [`payload`], given the nearest HPy type data `d` of `obj`'s type (NULL
/// for none).
///
/// # Safety
/// As `payload`, and `d` is `nearest_data(Py_TYPE(obj))`.
#[inline(always)]
pub(super) unsafe fn payload_in(obj: *mut ffi::PyObject, d: *const TypeData) -> *mut c_void {
    // SAFETY: forwarded; the header lies within the object (basicsize).
    unsafe {
        let header = if d.is_null() { 0 } else { (*d).header };
        obj.cast::<u8>().offset(header).cast()
    }
}

/// Writes the default call trampoline into a fresh instance of an HPy type
/// with `HPy_tp_call` (no-op for other types).
///
/// # Safety
/// `obj` is a valid, newly allocated instance of `tp`; GIL held.
#[inline]
pub(super) unsafe fn vectorcall_init(tp: *mut ffi::PyTypeObject, obj: *mut ffi::PyObject) {
    // SAFETY: forwarded; the type data is looked up only when needed.
    unsafe {
        if (*tp).tp_vectorcall_offset > 0 {
            vectorcall_init_in(tp, obj, nearest_data(tp));
        }
    }
}

/// [`vectorcall_init`], given `d = nearest_data(tp)` (NULL for none).
///
/// # Safety
/// As `vectorcall_init`.
#[inline]
pub(super) unsafe fn vectorcall_init_in(
    tp: *mut ffi::PyTypeObject,
    obj: *mut ffi::PyObject,
    d: *const TypeData,
) {
    // SAFETY: a positive `tp_vectorcall_offset` addresses a vectorcallfunc
    // inside every instance (we reserved it in `basicsize`).
    unsafe {
        let off = (*tp).tp_vectorcall_offset;
        if off <= 0 || d.is_null() {
            return;
        }
        if let Some(f) = (*d).vectorcall {
            obj.cast::<u8>()
                .offset(off)
                .cast::<cpy_vectorcallfunc>()
                .write_unaligned(Some(f));
        }
    }
}
