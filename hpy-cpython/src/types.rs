//! HPy types over CPython: `HPyType_FromSpec`, instances (`HPy_New`,
//! `*_AsStruct`), `HPyField`s and the HPy call protocol.
//!
//! # Object layout
//! A pure HPy type (any shape but Legacy) does not put `PyObject_HEAD` in its
//! C struct: the runtime places a *header* in front of it, the C struct of the
//! builtin it extends (`PyObject`, `PyLongObject`, …) rounded up to the
//! maximal alignment (16 on x86_64). `basicsize = header + spec.basicsize`, the
//! payload (what `HPy_New` and `*_AsStruct` return) starts at `obj + header`
//! and `HPyMember` offsets are relative to it. Header sizes are derived at run
//! time from the builtin types' own sizes, so they are right for the running
//! CPython. Legacy types have no header (their struct starts with
//! `PyObject_HEAD`).
//!
//! # Per-type runtime data
//! Each HPy type needs a little data at run time: its shape, its
//! `HPy_tp_traverse` and `HPy_tp_destroy` impls and the default call
//! trampoline. It lives in the *module state* of a small hidden module object
//! that is passed to `PyType_FromModuleAndSpec` (or `PyType_FromMetaclass`),
//! i.e. stored in the heap type's documented `ht_module` slot. Reaching it
//! from a type is O(1) — two loads and two pointer compares (is the module
//! ours? see `type_data`) — with no global table, the type owns it (CPython
//! decrefs `ht_module` when the type dies), and it survives renaming the type
//! (unlike stashing it behind `tp_name`). `PyType_GetModuleByDef` stays
//! correct because the hidden module is a real module with its own def.
//! CPython 3.8 has neither `ht_module` nor `PyType_FromModuleAndSpec`; there
//! the module goes into `tp_cache`, a slot 3.8 leaves NULL and owns the same
//! way (decref'd when the type dies, visited by the GC, not inherited).
//! 3.8 also ignores the buffer slots and `__vectorcalloffset__` in a spec:
//! `Py38Extras` sets them on the finished type.
//!
//! # HPyField
//! A field holds a strong reference: its `_i` is the `PyObject *`, as for
//! handles. `HPyMember_OBJECT`/`OBJECT_EX` members hold fields, so they are
//! exposed as getset descriptors. Fields are released by `tp_clear` (added
//! when the type has `HPy_tp_traverse`, which visits them) and by the
//! runtime's `tp_dealloc`, as upstream does.
//!
//! # Call protocol
//! `HPy_tp_call` reserves a `vectorcallfunc` at the aligned end of
//! `basicsize` (`__vectorcalloffset__`), sets `tp_call = PyVectorcall_Call`
//! and stores the slot's trampoline in every new instance (`HPy_New`,
//! `HPyType_GenericNew`, or the default `tp_new` added when the spec has
//! none); `HPy_SetCallFunction` overwrites it per object.

#![allow(non_upper_case_globals)]

use crate::defs::{method_def, null_terminated};
use crate::handle::{as_obj, from_owned, new_ref, raise};
use hpy_sys::*;
use pyo3_ffi as ffi;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::ptr::{addr_of_mut, null, null_mut};

// SAFETY (whole module): context members are called by C with the GIL held
// and with open handles (valid `PyObject *`s); the slot functions defined here
// are called by CPython with the GIL held and a valid object of the type they
// were installed on; specs and defines are the extension's static data.

/// `sizeof(_HPy_MaxAlign_t)`: the payload is aligned for any C type.
const MAX_ALIGN: isize = 16;

const HPY_NULL: HPy = HPy { _i: 0 };

fn align(n: isize) -> isize {
    (n + MAX_ALIGN - 1) & !(MAX_ALIGN - 1)
}

/// Runtime data of one HPy type (module state of the type's hidden module).
#[repr(C)]
#[derive(Clone, Copy)]
struct TypeData {
    shape: HPyType_BuiltinShape,
    traverse: HPyFunc_traverseproc,
    destroy: HPyFunc_destroyfunc,
    vectorcall: cpy_vectorcallfunc,
}

/// Def of the hidden per-type modules; its address identifies them.
static mut DATA_DEF: ffi::PyModuleDef = ffi::PyModuleDef {
    m_base: ffi::PyModuleDef_HEAD_INIT,
    m_name: c"hpy.universal._typedata".as_ptr(),
    m_doc: null(),
    m_size: std::mem::size_of::<TypeData>() as ffi::Py_ssize_t,
    m_methods: null_mut(),
    m_slots: null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

/// The runtime data of `tp` if it was made by `HPyType_FromSpec`, else NULL.
///
/// # Safety
/// `tp` is a valid type; GIL held.
unsafe fn type_data(tp: *mut ffi::PyTypeObject) -> *mut TypeData {
    // SAFETY: a heap type's module slot is NULL or a live object; a module
    // made from `DATA_DEF` has a `TypeData` state.
    unsafe {
        if (*tp).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
            return null_mut();
        }
        let m = type_module(tp);
        if m.is_null()
            || ffi::Py_TYPE(m) != addr_of_mut!(ffi::PyModule_Type)
            || ffi::PyModule_GetDef(m) != addr_of_mut!(DATA_DEF)
        {
            return null_mut();
        }
        ffi::PyModule_GetState(m).cast()
    }
}

/// The module of heap type `tp` (NULL for none): `ht_module`, or
/// `tp_cache` on 3.8 (see the module comment).
///
/// # Safety
/// `tp` is a valid heap type.
#[inline(always)]
unsafe fn type_module(tp: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    #[cfg(Py_3_9)]
    // SAFETY: heap types are `PyHeapTypeObject`s.
    return unsafe { (*tp.cast::<ffi::PyHeapTypeObject>()).ht_module };
    #[cfg(not(Py_3_9))]
    // SAFETY: `tp` is a valid type.
    return unsafe { (*tp).tp_cache };
}

/// `PyType_FromModuleAndSpec`; on 3.8 `PyType_FromSpecWithBases` and the
/// module stored in `tp_cache` (see `type_module`).
///
/// # Safety
/// GIL held; `module` a live module, `spec` a valid spec, `bases` NULL or a
/// tuple.
unsafe fn from_module_and_spec(
    module: *mut ffi::PyObject,
    spec: *mut ffi::PyType_Spec,
    bases: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    #[cfg(Py_3_9)]
    // SAFETY: forwarded.
    return unsafe { ffi::PyType_FromModuleAndSpec(module, spec, bases) };
    #[cfg(not(Py_3_9))]
    // SAFETY: forwarded; the new type's `tp_cache` is NULL and owned by it.
    unsafe {
        let tp = ffi::PyType_FromSpecWithBases(spec, bases);
        if !tp.is_null() {
            ffi::Py_INCREF(module);
            (*tp.cast::<ffi::PyTypeObject>()).tp_cache = module;
        }
        tp
    }
}

/// What CPython 3.8's `PyType_FromSpec` would not take from a spec: the
/// buffer slots (it has no slot numbers for them) and the vectorcall offset
/// (it ignores the `__vectorcalloffset__` member, and its `PyType_Ready`
/// must not see the vectorcall flag without it).
#[cfg(not(Py_3_9))]
struct Py38Extras {
    getbuffer: *mut c_void,
    releasebuffer: *mut c_void,
    vectorcall_offset: Option<isize>,
}

#[cfg(not(Py_3_9))]
impl Py38Extras {
    /// Takes them out of `slots` (which ends with its sentinel) and `flags`.
    ///
    /// # Safety
    /// The `Py_tp_members` slot, if any, points to an array ended by a NULL name.
    unsafe fn take(slots: &mut Vec<ffi::PyType_Slot>, flags: &mut std::ffi::c_ulong) -> Self {
        let mut out = Py38Extras {
            getbuffer: null_mut(),
            releasebuffer: null_mut(),
            vectorcall_offset: None,
        };
        slots.retain(|s| {
            if s.slot == HPy_bf_getbuffer as c_int {
                out.getbuffer = s.pfunc;
            } else if s.slot == HPy_bf_releasebuffer as c_int {
                out.releasebuffer = s.pfunc;
            } else {
                return true;
            }
            false
        });
        for s in slots.iter().filter(|s| s.slot == ffi::Py_tp_members) {
            let p = s.pfunc as *const ffi::PyMemberDef;
            // SAFETY: a member array ends with a NULL name (caller).
            unsafe {
                for i in 0..count_until(p, |m| m.name.is_null()) {
                    if cstr_eq((*p.add(i)).name, c"__vectorcalloffset__") {
                        out.vectorcall_offset = Some((*p.add(i)).offset);
                    }
                }
            }
        }
        if *flags & ffi::Py_TPFLAGS_HAVE_VECTORCALL == 0 {
            out.vectorcall_offset = None;
        }
        *flags &= !ffi::Py_TPFLAGS_HAVE_VECTORCALL;
        out
    }

    /// Sets them on the new heap type `tp`.
    ///
    /// # Safety
    /// `tp` was made from the spec they were taken from; GIL held.
    unsafe fn apply(&self, tp: *mut ffi::PyTypeObject) {
        // SAFETY: heap types are `PyHeapTypeObject`s; the function pointers
        // are the spec's trampolines of the matching signatures.
        unsafe {
            if !self.getbuffer.is_null() || !self.releasebuffer.is_null() {
                let ht = tp.cast::<ffi::PyHeapTypeObject>();
                if (*tp).tp_as_buffer.is_null() {
                    (*tp).tp_as_buffer = addr_of_mut!((*ht).as_buffer);
                }
                let procs = &mut *(*tp).tp_as_buffer;
                if !self.getbuffer.is_null() {
                    procs.bf_getbuffer = Some(
                        std::mem::transmute::<*mut c_void, ffi::getbufferproc>(self.getbuffer),
                    );
                }
                if !self.releasebuffer.is_null() {
                    procs.bf_releasebuffer = Some(std::mem::transmute::<
                        *mut c_void,
                        ffi::releasebufferproc,
                    >(self.releasebuffer));
                }
            }
            if let Some(off) = self.vectorcall_offset {
                (*tp).tp_vectorcall_offset = off;
                (*tp).tp_flags |= ffi::Py_TPFLAGS_HAVE_VECTORCALL;
            }
        }
    }
}

/// The data of the nearest HPy type in `tp`'s base chain (`tp` included).
///
/// # Safety
/// As `type_data`.
unsafe fn nearest_data(mut tp: *mut ffi::PyTypeObject) -> *mut TypeData {
    // SAFETY: forwarded; `tp_base` is NULL or a valid type.
    unsafe {
        while !tp.is_null() {
            let d = type_data(tp);
            if !d.is_null() {
                return d;
            }
            tp = (*tp).tp_base;
        }
    }
    null_mut()
}

/// Size of the runtime header in front of the user struct, or None for an
/// invalid shape.
fn header_size(shape: HPyType_BuiltinShape) -> Option<isize> {
    // SAFETY: reading the sizes of CPython's static builtin types.
    unsafe {
        let size = |tp: *mut ffi::PyTypeObject, with_item: bool| {
            (*tp).tp_basicsize + if with_item { (*tp).tp_itemsize } else { 0 }
        };
        Some(match shape {
            HPyType_BuiltinShape_Legacy => 0,
            HPyType_BuiltinShape_Object => align(std::mem::size_of::<ffi::PyObject>() as isize),
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
unsafe fn payload(obj: *mut ffi::PyObject) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { payload_in(obj, nearest_data(ffi::Py_TYPE(obj))) }
}

/// [`payload`], given the nearest HPy type data `d` of `obj`'s type (NULL
/// for none).
///
/// # Safety
/// As `payload`, and `d` is `nearest_data(Py_TYPE(obj))`.
unsafe fn payload_in(obj: *mut ffi::PyObject, d: *const TypeData) -> *mut c_void {
    // SAFETY: forwarded; the header lies within the object (basicsize).
    unsafe {
        let header = if d.is_null() {
            0
        } else {
            header_size((*d).shape).unwrap_or(0)
        };
        obj.cast::<u8>().offset(header).cast()
    }
}

/// Writes the default call trampoline into a fresh instance of an HPy type
/// with `HPy_tp_call` (no-op for other types).
///
/// # Safety
/// `obj` is a valid, newly allocated instance of `tp`; GIL held.
unsafe fn vectorcall_init(tp: *mut ffi::PyTypeObject, obj: *mut ffi::PyObject) {
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
unsafe fn vectorcall_init_in(
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

// ---------------------------------------------------------------------------
// Slot functions installed by the runtime itself.

/// `tp_clear` of types with `HPy_tp_traverse`: releases every field that the
/// traverse impls of the HPy types in the hierarchy visit.
unsafe extern "C" fn hpy_clear(obj: *mut ffi::PyObject) -> c_int {
    // SAFETY: see module comment.
    unsafe { clear_fields(obj) };
    0
}

unsafe extern "C" fn clear_visitor(f: *mut HPyField, _arg: *mut c_void) -> c_int {
    // SAFETY: `f` points to a field inside a live object (traverse impl).
    unsafe {
        let old = (*f)._i as *mut ffi::PyObject;
        (*f)._i = 0;
        ffi::Py_XDECREF(old);
    }
    0
}

/// # Safety
/// `obj` is a valid object; GIL held.
unsafe fn clear_fields(obj: *mut ffi::PyObject) {
    // SAFETY: forwarded; traverse impls receive the payload of `obj`.
    unsafe {
        let p = payload(obj);
        let mut tp = ffi::Py_TYPE(obj);
        while !tp.is_null() {
            let d = type_data(tp);
            if !d.is_null() {
                if let Some(trav) = (*d).traverse {
                    trav(p, Some(clear_visitor), null_mut());
                }
            }
            tp = (*tp).tp_base;
        }
    }
}

/// `tp_dealloc` of types with `HPy_tp_traverse` or `HPy_tp_destroy`.
unsafe extern "C" fn hpy_dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: see module comment; `obj` has refcount 0 and is ours to free.
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        if (*tp).tp_finalize.is_some() && ffi::PyObject_CallFinalizerFromDealloc(obj) < 0 {
            return; // resurrected
        }
        if ffi::PyType_IS_GC(tp) != 0 {
            ffi::PyObject_GC_UnTrack(obj.cast());
        }
        clear_fields(obj);
        let p = payload(obj);
        let mut t = tp;
        while !t.is_null() {
            let d = type_data(t);
            if !d.is_null() {
                if let Some(destroy) = (*d).destroy {
                    destroy(p);
                }
            }
            t = (*t).tp_base;
        }
        // Let the static builtin the type extends release its own contents
        // (list items, …) and free the memory; `object` just calls tp_free.
        let mut solid = tp;
        while (*solid).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE != 0 && !(*solid).tp_base.is_null() {
            solid = (*solid).tp_base;
        }
        match (*solid).tp_dealloc {
            Some(dealloc) if (*solid).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 => {
                if ffi::PyType_IS_GC(solid) != 0 {
                    // Builtin deallocators expect a tracked object, as in
                    // CPython's subtype_dealloc.
                    ffi::PyObject_GC_Track(obj.cast());
                }
                dealloc(obj)
            }
            _ => ((*tp).tp_free.expect("tp_free"))(obj.cast()),
        }
        ffi::Py_DECREF(tp.cast());
    }
}

unsafe extern "C" fn hpy_default_new(
    tp: *mut ffi::PyTypeObject,
    args: *mut ffi::PyObject,
    kw: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: see module comment. The `tp_new` to delegate to is the first
    // one above the HPy type(s) that use this function.
    unsafe {
        let ours = |t: *mut ffi::PyTypeObject| {
            (*t).tp_new.map(|f| f as *const ()) == Some(hpy_default_new as *const ())
        };
        let mut base = tp;
        while !base.is_null() && !ours(base) {
            base = (*base).tp_base;
        }
        while !base.is_null() && ours(base) {
            base = (*base).tp_base;
        }
        let Some(new) = (if base.is_null() { None } else { (*base).tp_new }) else {
            raise(
                ffi::PyExc_TypeError,
                "cannot create instances of this HPy type",
            );
            return null_mut();
        };
        let r = new(tp, args, kw);
        if !r.is_null() {
            vectorcall_init(tp, r);
        }
        r
    }
}

/// Closure of the getset that exposes an `HPyMember_OBJECT(_EX)` field.
struct FieldMember {
    offset: isize,
    name: *const c_char,
    ex: bool,
}

unsafe extern "C" fn field_get(
    obj: *mut ffi::PyObject,
    closure: *mut c_void,
) -> *mut ffi::PyObject {
    // SAFETY: `closure` is the leaked FieldMember of this getset, its offset
    // addresses an HPyField inside `obj`.
    unsafe {
        let m = &*(closure as *const FieldMember);
        let v = *obj
            .cast::<u8>()
            .offset(m.offset)
            .cast::<*mut ffi::PyObject>();
        if v.is_null() {
            if m.ex {
                missing_attribute(obj, m.name);
                return null_mut();
            }
            return new_ref(ffi::Py_None());
        }
        new_ref(v)
    }
}

unsafe fn missing_attribute(obj: *mut ffi::PyObject, name: *const c_char) {
    // SAFETY: `name` is the member's NUL-terminated name; GIL held.
    unsafe {
        let tn = CStr::from_ptr((*ffi::Py_TYPE(obj)).tp_name).to_string_lossy();
        let n = CStr::from_ptr(name).to_string_lossy();
        let tn: String = tn.chars().take(50).collect();
        raise(
            ffi::PyExc_AttributeError,
            &format!("'{tn}' object has no attribute '{n}'"),
        );
    }
}

unsafe extern "C" fn field_set(
    obj: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
    closure: *mut c_void,
) -> c_int {
    // SAFETY: as in `field_get`; `value` is NULL (delete) or a live object.
    unsafe {
        let m = &*(closure as *const FieldMember);
        let slot = obj
            .cast::<u8>()
            .offset(m.offset)
            .cast::<*mut ffi::PyObject>();
        let old = *slot;
        if value.is_null() && old.is_null() && m.ex {
            missing_attribute(obj, m.name);
            return -1;
        }
        ffi::Py_XINCREF(value);
        *slot = value;
        ffi::Py_XDECREF(old);
        0
    }
}

// ---------------------------------------------------------------------------
// HPyType_FromSpec

fn leak<T>(v: Vec<T>) -> *mut T {
    Box::leak(v.into_boxed_slice()).as_mut_ptr()
}

fn cstr_eq(p: *const c_char, s: &CStr) -> bool {
    // SAFETY: `p` is NULL or a NUL-terminated name from a definition.
    !p.is_null() && unsafe { CStr::from_ptr(p) } == s
}

/// The spec params, validated.
struct Params {
    bases: *mut ffi::PyObject, // owned tuple or NULL
    meta: *mut ffi::PyTypeObject,
}

impl Drop for Params {
    fn drop(&mut self) {
        // SAFETY: `bases` is NULL or our reference; GIL held.
        unsafe { ffi::Py_XDECREF(self.bases) };
    }
}

unsafe fn parse_params(params: *mut HPyType_SpecParam, name: &str) -> Option<Params> {
    let mut out = Params {
        bases: null_mut(),
        meta: null_mut(),
    };
    if params.is_null() {
        return Some(out);
    }
    // SAFETY: `params` is an array ended by kind == 0 (API contract), read
    // up to that entry; each `object` is an open handle or HPy_NULL, and
    // HPy_NULL is rejected in the first loop, before any object is used.
    unsafe {
        let mut all = Vec::new();
        let mut p = params;
        while (*p).kind != 0 {
            all.push(*p);
            p = p.add(1);
        }
        let (mut n_base, mut n_tuple) = (0, 0);
        for p in &all {
            let what = match p.kind {
                HPyType_SpecParam_Base => {
                    n_base += 1;
                    "Base"
                }
                HPyType_SpecParam_BasesTuple => {
                    n_tuple += 1;
                    "BasesTuple"
                }
                HPyType_SpecParam_Metaclass => "Metaclass",
                _ => {
                    raise(
                        ffi::PyExc_TypeError,
                        &format!("unknown HPyType_SpecParam specification for '{name}'"),
                    );
                    return None;
                }
            };
            // Every object below is used as a live object (increfed,
            // type-checked): reject HPy_NULL before touching any of them.
            if p.object.is_null() {
                raise(
                    ffi::PyExc_TypeError,
                    &format!(
                        "HPyType_FromSpec: type '{name}': HPyType_SpecParam_{what} is HPy_NULL"
                    ),
                );
                return None;
            }
        }
        if n_tuple > 1 {
            raise(
                ffi::PyExc_TypeError,
                "multiple specifications of HPyType_SpecParam_BasesTuple",
            );
            return None;
        }
        if n_base > 0 && n_tuple > 0 {
            raise(
                ffi::PyExc_TypeError,
                "cannot specify both HPyType_SpecParam_Base and HPytype_SpecParam_BasesTuple",
            );
            return None;
        }
        for p in &all {
            if p.kind == HPyType_SpecParam_Metaclass {
                if !out.meta.is_null() {
                    raise(
                        ffi::PyExc_ValueError,
                        "metaclass was specified multiple times",
                    );
                    return None;
                }
                let m = as_obj(p.object);
                if ffi::PyType_Check(m) == 0 {
                    let r = ffi::PyObject_Repr(m);
                    let s = if r.is_null() {
                        ffi::PyErr_Clear();
                        String::from("?")
                    } else {
                        let u = ffi::PyUnicode_AsUTF8(r);
                        let s = if u.is_null() {
                            ffi::PyErr_Clear();
                            String::from("?")
                        } else {
                            CStr::from_ptr(u).to_string_lossy().into_owned()
                        };
                        ffi::Py_DECREF(r);
                        s
                    };
                    raise(
                        ffi::PyExc_TypeError,
                        &format!("Metaclass '{s}' is not a subclass of 'type'."),
                    );
                    return None;
                }
                out.meta = m.cast();
            }
        }
        if n_tuple == 1 {
            let t = all
                .iter()
                .find(|p| p.kind == HPyType_SpecParam_BasesTuple)
                .map_or(null_mut(), |p| as_obj(p.object));
            // CPython reads the bases as a tuple without checking (`t` is
            // not NULL: checked above)
            if ffi::PyTuple_Check(t) == 0 {
                raise(
                    ffi::PyExc_TypeError,
                    &format!("HPyType_SpecParam_BasesTuple of '{name}' is not a tuple"),
                );
                return None;
            }
            out.bases = new_ref(t);
        } else if n_base > 0 {
            let bases: Vec<_> = all
                .iter()
                .filter(|p| p.kind == HPyType_SpecParam_Base)
                .collect();
            let t = ffi::PyTuple_New(bases.len() as ffi::Py_ssize_t);
            if t.is_null() {
                return None;
            }
            for (i, p) in bases.iter().enumerate() {
                ffi::PyTuple_SET_ITEM(t, i as ffi::Py_ssize_t, new_ref(as_obj(p.object)));
            }
            out.bases = t;
        }
    }
    Some(out)
}

/// A type with a metaclass: `PyType_FromMetaclass` from 3.12, before that
/// `from_metaclass_compat`.
///
/// # Safety
/// As `from_module_and_spec`; `meta` is a type.
unsafe fn from_metaclass(
    meta: *mut ffi::PyTypeObject,
    module: *mut ffi::PyObject,
    spec: *mut ffi::PyType_Spec,
    bases: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    #[cfg(Py_3_12)]
    // SAFETY: forwarded.
    return unsafe { ffi::PyType_FromMetaclass(meta, module, spec, bases) };
    #[cfg(not(Py_3_12))]
    // SAFETY: forwarded.
    return unsafe { from_metaclass_compat(meta, module, spec, bases) };
}

fn is_pure(d: *mut TypeData) -> bool {
    // SAFETY: `d` is NULL or a live TypeData.
    !d.is_null() && unsafe { (*d).shape } != HPyType_BuiltinShape_Legacy
}

pub unsafe extern "C" fn ctx_Type_FromSpec(
    _ctx: *mut HPyContext,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> HPy {
    if spec.is_null() {
        // SAFETY: GIL held (context call).
        unsafe { raise(ffi::PyExc_SystemError, "HPyType_FromSpec: spec is NULL") };
        return HPY_NULL;
    }
    // SAFETY: see module comment; `spec` is not NULL.
    match unsafe { type_from_spec(&*spec, params) } {
        Some(t) => from_owned(t),
        None => HPY_NULL,
    }
}

/// Rejects what CPython would silently misread in a spec: negative sizes,
/// definitions without a name, and member types or slots HPy does not have.
///
/// # Safety
/// GIL held; `defs` point to the extension's definitions.
unsafe fn check_spec(spec: &HPyType_Spec, defs: &[&HPyDef], name: &str) -> Option<()> {
    let fail = |msg: String| {
        // SAFETY: GIL held (caller).
        unsafe {
            raise(
                ffi::PyExc_ValueError,
                &format!("HPyType_FromSpec: type '{name}': {msg}"),
            )
        };
        None
    };
    if spec.basicsize < 0 {
        return fail(format!("negative basicsize ({})", spec.basicsize));
    }
    if spec.itemsize < 0 {
        return fail(format!("negative itemsize ({})", spec.itemsize));
    }
    for d in defs {
        // SAFETY: the union member read is the one `kind` selects.
        let (what, def_name) = unsafe {
            match d.kind {
                HPyDef_Kind_Meth => ("method", d.__bindgen_anon_1.meth.name),
                HPyDef_Kind_Member => ("member", d.__bindgen_anon_1.member.name),
                HPyDef_Kind_GetSet => ("getset", d.__bindgen_anon_1.getset.name),
                _ => continue, // slots have no name; unknown kinds are reported later
            }
        };
        if def_name.is_null() {
            return fail(format!("a {what} definition has a NULL name"));
        }
        if d.kind == HPyDef_Kind_Member {
            // SAFETY: kind is Member.
            let m = unsafe { &d.__bindgen_anon_1.member };
            if !hpy_sys::ENUM_HPyMember_FieldType
                .iter()
                .any(|(_, v)| *v == m.type_)
            {
                // SAFETY: checked non-NULL above; NUL-terminated by contract.
                let n = unsafe { CStr::from_ptr(m.name) }.to_string_lossy();
                return fail(format!(
                    "member '{n}' has an unknown HPyMember type ({})",
                    m.type_
                ));
            }
        }
    }
    for d in defs.iter().filter(|d| d.kind == HPyDef_Kind_Slot) {
        // SAFETY: kind is Slot.
        let slot = unsafe { d.__bindgen_anon_1.slot.slot };
        match hpy_sys::ENUM_HPySlot_Slot.iter().find(|(_, v)| *v == slot) {
            None => return fail(format!("unknown slot number {slot}")),
            Some((n, _)) if n.starts_with("HPy_mod_") => {
                return fail(format!("module slot {n} in a type definition"))
            }
            Some(_) => {}
        }
    }
    Some(())
}

unsafe fn type_from_spec(
    spec: &HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> Option<*mut ffi::PyObject> {
    // SAFETY: see module comment; every pointer read below comes from the
    // extension's spec and definitions, and is read only once the spec says
    // it is meaningful: `name` after its NULL check, `legacy_slots` only with
    // the legacy shape, param objects after their HPy_NULL check.
    unsafe {
        if spec.name.is_null() {
            raise(ffi::PyExc_SystemError, "HPyType_Spec.name is NULL");
            return None;
        }
        // `legacy_slots` is only read for the legacy shape: check the shape
        // before anything in the spec is dereferenced (upstream's message).
        if !spec.legacy_slots.is_null() && spec.builtin_shape != HPyType_BuiltinShape_Legacy {
            raise(
                ffi::PyExc_TypeError,
                "cannot specify .legacy_slots without setting .builtin_shape=HPyType_BuiltinShape_Legacy",
            );
            return None;
        }
        let name_c = CStr::from_ptr(spec.name);
        let name = name_c.to_string_lossy();
        let params = parse_params(params, &name)?;
        let defs: Vec<&HPyDef> = null_terminated(spec.defines).map(|d| &*d).collect();
        check_spec(spec, &defs, &name)?;
        let slot_defs = || {
            defs.iter()
                .filter(|d| d.kind == HPyDef_Kind_Slot)
                .map(|d| &d.__bindgen_anon_1.slot)
        };
        let has_traverse = slot_defs().any(|s| s.slot == HPy_tp_traverse);
        let needs_dealloc = has_traverse || slot_defs().any(|s| s.slot == HPy_tp_destroy);
        // Non-NULL only with the legacy shape (checked above), where it is a
        // `PyType_Slot` array ended by slot 0 (API contract).
        let legacy_slots: *const ffi::PyType_Slot = spec.legacy_slots.cast();
        let legacy: Vec<ffi::PyType_Slot> = if legacy_slots.is_null() {
            Vec::new()
        } else {
            let mut v = Vec::new();
            let mut p = legacy_slots;
            while (*p).slot != 0 {
                v.push(std::ptr::read(p));
                p = p.add(1);
            }
            v
        };
        if needs_dealloc && legacy.iter().any(|s| s.slot == ffi::Py_tp_dealloc) {
            raise(
                ffi::PyExc_TypeError,
                "legacy tp_dealloc is incompatible with HPy_tp_traverse or HPy_tp_destroy.",
            );
            return None;
        }
        if spec.flags & ffi::Py_TPFLAGS_HAVE_GC as std::ffi::c_ulong != 0 && !has_traverse {
            raise(
                ffi::PyExc_ValueError,
                "You must provide an HPy_tp_traverse slot if you specify HPy_TPFLAGS_HAVE_GC",
            );
            return None;
        }
        let Some(header) = header_size(spec.builtin_shape) else {
            raise(
                ffi::PyExc_ValueError,
                &format!("invalid shape: {}", spec.builtin_shape),
            );
            return None;
        };
        let mut basicsize: isize = if spec.basicsize != 0 {
            spec.basicsize as isize + header
        } else {
            0
        };
        let mut flags = spec.flags;
        let mut data = TypeData {
            shape: spec.builtin_shape,
            traverse: None,
            destroy: None,
            vectorcall: None,
        };

        // HPy slots.
        let mut slots: Vec<ffi::PyType_Slot> = Vec::new();
        let mut has_new = false;
        let mut vc_offset: isize = 0;
        for s in slot_defs() {
            let tramp = std::mem::transmute::<cpy_PyCFunction, *mut c_void>(s.cpy_trampoline);
            match s.slot {
                HPy_tp_destroy => {
                    data.destroy =
                        std::mem::transmute::<HPyCFunction, HPyFunc_destroyfunc>(s.impl_);
                    continue;
                }
                HPy_tp_call => {
                    if spec.itemsize != 0 {
                        raise(
                            ffi::PyExc_TypeError,
                            "Cannot use HPy call protocol with var objects",
                        );
                        return None;
                    }
                    data.vectorcall = std::mem::transmute::<cpy_PyCFunction, cpy_vectorcallfunc>(
                        s.cpy_trampoline,
                    );
                    if vc_offset == 0 {
                        let base_size = if basicsize != 0 {
                            basicsize
                        } else if spec.builtin_shape == HPyType_BuiltinShape_Legacy {
                            0
                        } else {
                            inherited_basicsize(params.bases).max(header)
                        };
                        if base_size == 0 {
                            raise(
                                ffi::PyExc_TypeError,
                                "Cannot use HPy call protocol with legacy types that inherit the struct. \
                                 Either set the basicsize to a non-zero value or use legacy slot 'Py_tp_call'.",
                            );
                            return None;
                        }
                        vc_offset = align(base_size);
                        basicsize = vc_offset + std::mem::size_of::<cpy_vectorcallfunc>() as isize;
                    }
                    continue;
                }
                HPy_tp_new => has_new = true,
                HPy_tp_traverse => {
                    data.traverse =
                        std::mem::transmute::<HPyCFunction, HPyFunc_traverseproc>(s.impl_)
                }
                _ => {}
            }
            // HPy slot numbers are CPython's (including bf_getbuffer and
            // bf_releasebuffer, which PyType_FromSpec puts into tp_as_buffer).
            slots.push(ffi::PyType_Slot {
                slot: s.slot as c_int,
                pfunc: tramp,
            });
        }

        // Methods, members and getsets (HPy ones, then legacy ones).
        let member_offset = if basicsize != 0 { header } else { 0 };
        let mut methods: Vec<ffi::PyMethodDef> = Vec::new();
        let mut members: Vec<ffi::PyMemberDef> = Vec::new();
        let mut getsets: Vec<ffi::PyGetSetDef> = Vec::new();
        let n_members = defs.iter().filter(|d| d.kind == HPyDef_Kind_Member).count()
            + legacy
                .iter()
                .filter(|s| s.slot == ffi::Py_tp_members)
                .map(|s| count_until(s.pfunc as *const ffi::PyMemberDef, |m| m.name.is_null()))
                .sum::<usize>();
        if basicsize == 0 && n_members > 0 {
            raise(
                ffi::PyExc_TypeError,
                "Type claims to have basicsize==0 but defines members",
            );
            return None;
        }
        let mut explicit_vc = false;
        for d in &defs {
            match d.kind {
                HPyDef_Kind_Slot => {}
                HPyDef_Kind_Meth => methods.push(method_def(&d.__bindgen_anon_1.meth)?),
                HPyDef_Kind_Member => {
                    let m = &d.__bindgen_anon_1.member;
                    let offset = member_offset + m.offset;
                    if m.type_ == HPyMember_OBJECT || m.type_ == HPyMember_OBJECT_EX {
                        let closure = Box::into_raw(Box::new(FieldMember {
                            offset,
                            name: m.name,
                            ex: m.type_ == HPyMember_OBJECT_EX,
                        }));
                        getsets.push(ffi::PyGetSetDef {
                            name: m.name,
                            get: Some(field_get),
                            set: if m.readonly != 0 {
                                None
                            } else {
                                Some(field_set)
                            },
                            doc: m.doc,
                            closure: closure.cast(),
                        });
                        continue;
                    }
                    if cstr_eq(m.name, c"__vectorcalloffset__") {
                        explicit_vc = true;
                    }
                    members.push(ffi::PyMemberDef {
                        name: m.name,
                        type_code: m.type_ as c_int,
                        offset,
                        flags: if m.readonly != 0 { ffi::Py_READONLY } else { 0 },
                        doc: m.doc,
                    });
                }
                HPyDef_Kind_GetSet => {
                    let g = &d.__bindgen_anon_1.getset;
                    getsets.push(ffi::PyGetSetDef {
                        name: g.name,
                        get: std::mem::transmute::<cpy_getter, Option<ffi::getter>>(
                            g.getter_cpy_trampoline,
                        ),
                        set: std::mem::transmute::<cpy_setter, Option<ffi::setter>>(
                            g.setter_cpy_trampoline,
                        ),
                        doc: g.doc,
                        closure: g.closure,
                    });
                }
                kind => {
                    raise(
                        ffi::PyExc_TypeError,
                        &format!("unknown HPyDef kind {kind} in HPyType_Spec.defines"),
                    );
                    return None;
                }
            }
        }
        for s in &legacy {
            match s.slot {
                ffi::Py_tp_methods => {
                    let p = s.pfunc as *const ffi::PyMethodDef;
                    methods.extend(
                        (0..count_until(p, |m| m.ml_name.is_null()))
                            .map(|i| std::ptr::read(p.add(i))),
                    );
                }
                ffi::Py_tp_members => {
                    let p = s.pfunc as *const ffi::PyMemberDef;
                    for i in 0..count_until(p, |m| m.name.is_null()) {
                        let m = std::ptr::read(p.add(i));
                        if cstr_eq(m.name, c"__vectorcalloffset__") {
                            explicit_vc = true;
                        }
                        members.push(m);
                    }
                }
                ffi::Py_tp_getset => {
                    let p = s.pfunc as *const ffi::PyGetSetDef;
                    getsets.extend(
                        (0..count_until(p, |g| g.name.is_null())).map(|i| std::ptr::read(p.add(i))),
                    );
                }
                _ => slots.push(ffi::PyType_Slot {
                    slot: s.slot,
                    pfunc: s.pfunc,
                }),
            }
        }
        if vc_offset > 0 {
            if explicit_vc {
                raise(
                    ffi::PyExc_TypeError,
                    "Cannot have HPy_tp_call and explicit member '__vectorcalloffset__'. Specify just one of them.",
                );
                return None;
            }
            members.insert(
                0,
                ffi::PyMemberDef {
                    name: c"__vectorcalloffset__".as_ptr(),
                    type_code: ffi::Py_T_PYSSIZET,
                    offset: vc_offset,
                    flags: ffi::Py_READONLY,
                    doc: null(),
                },
            );
        }
        if vc_offset > 0 || explicit_vc {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_call,
                pfunc: ffi::PyVectorcall_Call as *mut c_void,
            });
            if vc_offset > 0 && !has_new {
                slots.push(ffi::PyType_Slot {
                    slot: ffi::Py_tp_new,
                    pfunc: hpy_default_new as *mut c_void,
                });
            }
            flags |= ffi::Py_TPFLAGS_HAVE_VECTORCALL as std::ffi::c_ulong;
        }
        if !spec.doc.is_null() {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_doc,
                pfunc: spec.doc as *mut c_void,
            });
        }
        methods.push(std::mem::zeroed());
        members.push(std::mem::zeroed());
        getsets.push(std::mem::zeroed());
        // CPython keeps pointers to the method and getset arrays (the
        // descriptors refer to them): they live for the rest of the process.
        slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_methods,
            pfunc: leak(methods).cast(),
        });
        slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_members,
            pfunc: leak(members).cast(),
        });
        slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_getset,
            pfunc: leak(getsets).cast(),
        });
        if needs_dealloc {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_dealloc,
                pfunc: hpy_dealloc as *mut c_void,
            });
        }
        if has_traverse {
            slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_clear,
                pfunc: hpy_clear as *mut c_void,
            });
        }
        slots.push(ffi::PyType_Slot {
            slot: 0,
            pfunc: null_mut(),
        });

        // The hidden module that carries the type's runtime data.
        let module = ffi::PyModule_Create2(addr_of_mut!(DATA_DEF), ffi::PYTHON_API_VERSION);
        if module.is_null() {
            return None;
        }
        ffi::PyModule_GetState(module)
            .cast::<TypeData>()
            .write(data);

        // Older CPythons keep `spec.name` as `tp_name`: give them a copy
        // that lives forever (the extension's may be temporary).
        #[cfg(not(Py_3_9))]
        let py38 = Py38Extras::take(&mut slots, &mut flags);
        let mut pyspec = ffi::PyType_Spec {
            name: CString::from(name_c).into_raw(),
            basicsize: basicsize as c_int,
            itemsize: spec.itemsize,
            flags: flags as c_uint,
            slots: slots.as_mut_ptr(),
        };
        let result = if params.meta.is_null() {
            from_module_and_spec(module, &mut pyspec, params.bases)
        } else {
            from_metaclass(params.meta, module, &mut pyspec, params.bases)
        };
        ffi::Py_DECREF(module);
        if result.is_null() {
            return None;
        }
        let tp: *mut ffi::PyTypeObject = result.cast();
        #[cfg(not(Py_3_9))]
        py38.apply(tp);
        if !is_pure(type_data(tp))
            && !(*tp).tp_base.is_null()
            && is_pure(nearest_data((*tp).tp_base))
        {
            ffi::Py_DECREF(result);
            raise(
                ffi::PyExc_TypeError,
                "A legacy type should not inherit its memory layout from a pure type",
            );
            return None;
        }
        Some(result)
    }
}

/// Largest `tp_basicsize` among `bases` (a tuple or NULL, meaning object).
unsafe fn inherited_basicsize(bases: *mut ffi::PyObject) -> isize {
    // SAFETY: `bases` is NULL or a tuple; GIL held.
    unsafe {
        if bases.is_null() || ffi::PyTuple_Check(bases) == 0 {
            return (*addr_of_mut!(ffi::PyBaseObject_Type)).tp_basicsize;
        }
        let mut size = 0;
        for i in 0..ffi::PyTuple_GET_SIZE(bases) {
            let b = ffi::PyTuple_GET_ITEM(bases, i);
            if ffi::PyType_Check(b) != 0 {
                size = size.max((*b.cast::<ffi::PyTypeObject>()).tp_basicsize);
            }
        }
        size
    }
}

/// Number of entries before the sentinel of a sentinel-terminated array.
unsafe fn count_until<T>(p: *const T, is_end: impl Fn(&T) -> bool) -> usize {
    if p.is_null() {
        return 0;
    }
    let mut n = 0;
    // SAFETY: the array ends with a sentinel entry (caller).
    unsafe {
        while !is_end(&*p.add(n)) {
            n += 1;
        }
    }
    n
}

/// Metaclasses before Python 3.12 (no `PyType_FromMetaclass`): the type is
/// made with `PyType_FromModuleAndSpec`, then copied into an instance of the
/// metaclass, which `PyType_Ready` re-initialises. The template type is kept
/// alive forever: the copy shares its name buffer and member array (as
/// upstream's runtime does on these versions).
#[cfg(not(Py_3_12))]
unsafe fn from_metaclass_compat(
    meta: *mut ffi::PyTypeObject,
    module: *mut ffi::PyObject,
    spec: *mut ffi::PyType_Spec,
    bases: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held; `meta` is a type whose tp_new is type's (checked), so
    // its instances are `PyHeapTypeObject`s plus, maybe, extra data after
    // them; we only copy the `PyHeapTypeObject` part past the object header.
    unsafe {
        let type_type = addr_of_mut!(ffi::PyType_Type);
        if (*meta).tp_new.map(|f| f as *const ()) != (*type_type).tp_new.map(|f| f as *const ()) {
            raise(
                ffi::PyExc_TypeError,
                "Metaclasses with custom tp_new are not supported.",
            );
            return null_mut();
        }
        let temp = from_module_and_spec(module, spec, bases);
        if temp.is_null() || meta == type_type {
            return temp;
        }
        let mut nmembers = 0;
        let mut sl = (*spec).slots;
        while (*sl).slot != 0 {
            if (*sl).slot == ffi::Py_tp_members {
                nmembers =
                    count_until((*sl).pfunc as *const ffi::PyMemberDef, |m| m.name.is_null());
            }
            sl = sl.add(1);
        }
        let alloc = (*meta).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
        let res = alloc(meta, nmembers as ffi::Py_ssize_t);
        if res.is_null() {
            ffi::Py_DECREF(temp);
            return null_mut();
        }
        let th = temp.cast::<ffi::PyHeapTypeObject>();
        let ht = res.cast::<ffi::PyHeapTypeObject>();
        let skip = std::mem::size_of::<ffi::PyVarObject>();
        std::ptr::copy_nonoverlapping(
            th.cast::<u8>().add(skip),
            ht.cast::<u8>().add(skip),
            std::mem::size_of::<ffi::PyHeapTypeObject>() - skip,
        );
        let tp = &mut (*ht).ht_type;
        let copied_module = type_module(ht.cast());
        for o in [
            (*ht).ht_name,
            (*ht).ht_qualname,
            (*ht).ht_slots,
            copied_module,
            tp.tp_base.cast(),
            tp.tp_bases,
        ] {
            ffi::Py_XINCREF(o);
        }
        tp.tp_as_async = &mut (*ht).as_async;
        tp.tp_as_number = &mut (*ht).as_number;
        tp.tp_as_sequence = &mut (*ht).as_sequence;
        tp.tp_as_mapping = &mut (*ht).as_mapping;
        tp.tp_as_buffer = &mut (*ht).as_buffer;
        tp.tp_flags &= !ffi::Py_TPFLAGS_READY;
        tp.tp_dict = null_mut();
        tp.tp_mro = null_mut();
        #[cfg(Py_3_9)]
        {
            tp.tp_cache = null_mut();
        }
        // (on 3.8 it holds the copied module, counted above)
        tp.tp_subclasses = null_mut();
        tp.tp_weaklist = null_mut();
        tp.tp_version_tag = 0;
        (*ht).ht_cached_keys = null_mut();
        if !tp.tp_doc.is_null() {
            // type_dealloc frees tp_doc with PyObject_Free: own a copy.
            let len = CStr::from_ptr(tp.tp_doc).to_bytes_with_nul().len();
            let doc = ffi::PyObject_Malloc(len).cast::<c_char>();
            if doc.is_null() {
                tp.tp_doc = null();
                ffi::Py_DECREF(res);
                ffi::PyErr_NoMemory();
                return null_mut();
            }
            std::ptr::copy_nonoverlapping(tp.tp_doc, doc, len);
            tp.tp_doc = doc;
        }
        if ffi::PyType_Ready(tp) < 0 {
            ffi::Py_DECREF(res);
            return null_mut();
        }
        let keys = (*th).ht_cached_keys;
        if !keys.is_null() {
            // shared dict keys: bump their refcount (first field, dk_refcnt)
            *keys.cast::<ffi::Py_ssize_t>() += 1;
            (*ht).ht_cached_keys = keys;
        }
        let name = CStr::from_ptr((*spec).name).to_bytes();
        if let Some(dot) = name.iter().rposition(|&c| c == b'.') {
            let modname =
                ffi::PyUnicode_FromStringAndSize(name.as_ptr().cast(), dot as ffi::Py_ssize_t);
            let err = modname.is_null()
                || ffi::PyDict_SetItemString(tp.tp_dict, c"__module__".as_ptr(), modname) < 0;
            ffi::Py_XDECREF(modname);
            if err {
                ffi::Py_DECREF(res);
                return null_mut();
            }
        }
        // `temp` is intentionally kept alive (see above).
        res
    }
}

// ---------------------------------------------------------------------------
// Instances

pub unsafe extern "C" fn ctx_New(
    _ctx: *mut HPyContext,
    h_type: HPy,
    data: *mut *mut c_void,
) -> HPy {
    // SAFETY: see module comment; `data` points to the caller's `void *`.
    unsafe {
        let t = as_obj(h_type);
        if ffi::PyType_Check(t) == 0 {
            raise(ffi::PyExc_TypeError, "HPy_New arg 1 must be a type");
            return HPY_NULL;
        }
        let tp: *mut ffi::PyTypeObject = t.cast();
        // tp_alloc (PyType_GenericAlloc) zero-fills the object, payload
        // included, before it tracks GC objects.
        let alloc = (*tp).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
        let obj = alloc(tp, 0);
        if obj.is_null() {
            return HPY_NULL;
        }
        // HPy_New is hot: one lookup of the type data serves both.
        let d = nearest_data(tp);
        vectorcall_init_in(tp, obj, d);
        *data = payload_in(obj, d);
        from_owned(obj)
    }
}

pub unsafe extern "C" fn ctx_Type_GenericNew(
    _ctx: *mut HPyContext,
    type_: HPy,
    _args: *const HPy,
    _nargs: HPy_ssize_t,
    _kw: HPy,
) -> HPy {
    // SAFETY: see module comment.
    unsafe {
        let t = as_obj(type_);
        if ffi::PyType_Check(t) == 0 {
            raise(
                ffi::PyExc_TypeError,
                "HPy_Type_GenericNew arg 1 must be a type",
            );
            return HPY_NULL;
        }
        let tp: *mut ffi::PyTypeObject = t.cast();
        let alloc = (*tp).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
        let obj = alloc(tp, 0);
        if !obj.is_null() {
            vectorcall_init(tp, obj);
        }
        from_owned(obj)
    }
}

macro_rules! as_struct {
    ($($name:ident => $shape:ident),* $(,)?) => {$(
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h: HPy) -> *mut c_void {
            let header = header_size($shape).unwrap_or(0);
            // SAFETY: `h` is an instance of a type of this shape (HPy
            // contract), so the payload lies within the object.
            unsafe { as_obj(h).cast::<u8>().offset(header).cast() }
        }
    )*};
}

as_struct! {
    ctx_AsStruct_Object => HPyType_BuiltinShape_Object,
    ctx_AsStruct_Legacy => HPyType_BuiltinShape_Legacy,
    ctx_AsStruct_Type => HPyType_BuiltinShape_Type,
    ctx_AsStruct_Long => HPyType_BuiltinShape_Long,
    ctx_AsStruct_Float => HPyType_BuiltinShape_Float,
    ctx_AsStruct_Unicode => HPyType_BuiltinShape_Unicode,
    ctx_AsStruct_Tuple => HPyType_BuiltinShape_Tuple,
    ctx_AsStruct_List => HPyType_BuiltinShape_List,
    ctx_AsStruct_Dict => HPyType_BuiltinShape_Dict,
}

pub unsafe extern "C" fn ctx_Type_GetBuiltinShape(
    _ctx: *mut HPyContext,
    h_type: HPy,
) -> HPyType_BuiltinShape {
    // SAFETY: see module comment.
    unsafe {
        let t = as_obj(h_type);
        if ffi::PyType_Check(t) == 0 {
            raise(ffi::PyExc_TypeError, "arg must be a type");
            return -2;
        }
        let d = nearest_data(t.cast());
        if d.is_null() {
            HPyType_BuiltinShape_Legacy
        } else {
            (*d).shape
        }
    }
}

pub unsafe extern "C" fn ctx_SetCallFunction(
    _ctx: *mut HPyContext,
    h: HPy,
    func: *mut HPyCallFunction,
) -> c_int {
    // SAFETY: see module comment; `func` is the extension's HPyCallFunction.
    unsafe {
        let obj = as_obj(h);
        let tp = ffi::Py_TYPE(obj);
        let off = (*tp).tp_vectorcall_offset;
        let d = nearest_data(tp);
        let hpy_call = !d.is_null() && (*d).vectorcall.is_some();
        let flag = (*tp).tp_flags & ffi::Py_TPFLAGS_HAVE_VECTORCALL != 0;
        if off <= 0 || !(hpy_call || flag) {
            let tn: String = CStr::from_ptr((*tp).tp_name)
                .to_string_lossy()
                .chars()
                .take(50)
                .collect();
            raise(
                ffi::PyExc_TypeError,
                &format!("type '{tn}' does not implement the HPy call protocol"),
            );
            return -1;
        }
        obj.cast::<u8>()
            .offset(off)
            .cast::<cpy_vectorcallfunc>()
            .write_unaligned((*func).cpy_trampoline);
        0
    }
}

// ---------------------------------------------------------------------------
// HPyField

pub unsafe extern "C" fn ctx_Field_Store(
    _ctx: *mut HPyContext,
    _target: HPy,
    field: *mut HPyField,
    h: HPy,
) {
    // SAFETY: `field` lies inside the target's payload and holds NULL or a
    // reference owned by the object; the new value gets its own reference.
    unsafe {
        let old = (*field)._i as *mut ffi::PyObject;
        ffi::Py_XINCREF(as_obj(h));
        (*field)._i = h._i;
        ffi::Py_XDECREF(old);
    }
}

pub unsafe extern "C" fn ctx_Field_Load(
    _ctx: *mut HPyContext,
    _source: HPy,
    field: HPyField,
) -> HPy {
    let o = field._i as *mut ffi::PyObject;
    // SAFETY: the field holds NULL or a live reference owned by `source`.
    unsafe { ffi::Py_XINCREF(o) };
    from_owned(o)
}

// ---------------------------------------------------------------------------
// Trampoline dispatch for the type-related signatures (called from
// `hpy-universal`'s `ctx_CallRealFunctionFromTrampoline`).

struct VisitArgs {
    visit: cpy_visitproc,
    arg: *mut c_void,
}

unsafe extern "C" fn forward_visit(f: *mut HPyField, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the VisitArgs of `call_traverse` (alive during the
    // traverse impl call), `f` a field inside the traversed object.
    unsafe {
        let a = &*(arg as *const VisitArgs);
        let o = (*f)._i as *mut cpy_PyObject;
        match a.visit {
            Some(visit) if !o.is_null() => visit(o, a.arg),
            _ => 0,
        }
    }
}

/// `HPyFunc_TRAVERSEPROC`: `impl(payload, visitor, arg)`, where the visitor
/// turns each `HPyField *` into the object for CPython's `visit`.
///
/// # Safety
/// `args` points to an `_HPyFunc_args_TRAVERSEPROC`, `func` is an
/// `HPyFunc_traverseproc`; GIL held.
pub unsafe fn call_traverse(func: HPyCFunction, args: *mut c_void) {
    // SAFETY: forwarded contract.
    unsafe {
        let a = &mut *(args as *mut _HPyFunc_args_TRAVERSEPROC);
        let f = std::mem::transmute::<HPyCFunction, HPyFunc_traverseproc>(func);
        a.result = traverse(f, a.self_.cast(), a.visit, a.arg);
    }
}

/// Runs the traverse implementation `func` on the payload of `obj`, reporting
/// each field's object to CPython's `visit` (the CPython-ABI trampolines call
/// this directly).
///
/// # Safety
/// `obj` is an instance of an HPy type whose `HPy_tp_traverse` is `func`;
/// `visit`/`arg` come from CPython's GC; GIL held.
pub unsafe fn traverse(
    func: HPyFunc_traverseproc,
    obj: *mut ffi::PyObject,
    visit: cpy_visitproc,
    arg: *mut c_void,
) -> c_int {
    let f = func.expect("traverse impl");
    let mut v = VisitArgs { visit, arg };
    // SAFETY: forwarded contract; `v` outlives the call.
    unsafe {
        f(
            payload(obj),
            Some(forward_visit),
            (&mut v as *mut VisitArgs).cast(),
        )
    }
}
