//! Instances of HPy types: allocation (`HPy_New`, `HPyType_GenericNew`, the
//! default `tp_new` of callable types), payload access (`*_AsStruct`), the
//! call function, and the `tp_dealloc`/`tp_clear` the runtime installs.

use super::fields;
use super::typedata::{
    header_size, nearest, nearest_data, own_data, payload_in, type_data, vectorcall_init,
    vectorcall_init_in, DestroyFn, TypeData,
};
use super::HPY_NULL;
use crate::ffi;
use crate::handle::{as_obj, fatal, from_owned, raise};
use core::ffi::{c_int, c_void};
use core::ptr::null_mut;
use hpy_sys::*;

// ---------------------------------------------------------------------------
// Slot functions installed by the runtime itself

/// `tp_clear` of types with `HPy_tp_traverse`: releases every field that the
/// traverse impls of the HPy types in the hierarchy visit.
pub(super) unsafe extern "C" fn hpy_clear(obj: *mut ffi::PyObject) -> c_int {
    // SAFETY: see the note in `types`; installed on HPy types only, so the
    // object's type has an HPy type in its chain.
    unsafe {
        if let Some(d) = nearest(ffi::Py_TYPE(obj)) {
            fields::clear_fields(payload_in(obj, d), &d.teardown.traverses);
        }
    }
    0
}

/// `tp_dealloc` of types with `HPy_tp_traverse` or `HPy_tp_destroy`: the
/// nearest HPy type's `Teardown`, straight-line.
pub(super) unsafe extern "C" fn hpy_dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: see the note in `types`; `obj` has refcount 0 and is ours to
    // free. The object's type is an HPy type itself when this is its
    // `tp_dealloc` (which only `HPyType_FromSpec` installs; subclasses made
    // in Python have `subtype_dealloc`, which calls this with their
    // instances): its data, without the checks of a lookup.
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        if (*tp).tp_dealloc.map(|f| f as *const ()) == Some(hpy_dealloc as *const ()) {
            let d = own_data(tp);
            if let Some(destroy) = d.teardown.only_destroy {
                destroy(payload_in(obj, d));
                // A ready type always has `tp_free` (`PyType_Ready` inherits
                // `object`'s at least), and an HPy type is ready.
                (*tp).tp_free.unwrap_unchecked()(obj.cast());
                ffi::Py_DECREF(tp.cast());
                return;
            }
            dealloc_with(obj, tp, Some(d));
        } else {
            dealloc_with(obj, tp, nearest(tp));
        }
    }
}

/// `hpy_dealloc` but for `Teardown::only_destroy`: `d` is the data of the
/// nearest HPy type of `tp`, the object's type (None: none, which does not
/// happen for objects whose types have `hpy_dealloc` in their chain).
///
/// # Safety
/// As `hpy_dealloc`.
#[inline(never)]
unsafe fn dealloc_with(obj: *mut ffi::PyObject, tp: *mut ffi::PyTypeObject, d: Option<&TypeData>) {
    // SAFETY: as `hpy_dealloc`; `d`'s teardown was read when its type was
    // made.
    unsafe {
        if (*tp).tp_finalize.is_some() && ffi::PyObject_CallFinalizerFromDealloc(obj) < 0 {
            return; // resurrected
        }
        if ffi::PyType_IS_GC(tp) != 0 {
            ffi::PyObject_GC_UnTrack(obj.cast());
        }
        let mut base_dealloc = None;
        if let Some(d) = d {
            let t = &d.teardown;
            let p = payload_in(obj, d);
            if !t.traverses.is_empty() {
                fields::clear_fields(p, &t.traverses);
            }
            // One destroy impl is the common case: called without a loop,
            // which keeps this function's frame small.
            match t.destroys.as_slice() {
                [] => {}
                [destroy] => destroy(p),
                all => destroy_all(all, p),
            }
            base_dealloc = t.base_dealloc;
            // Builtin deallocators expect a tracked object, as in CPython's
            // subtype_dealloc.
            if base_dealloc.is_some() && t.base_is_gc {
                ffi::PyObject_GC_Track(obj.cast());
            }
        }
        // The static builtin the type extends releases its own contents
        // (list items, …) and frees the memory; else tp_free frees it.
        match base_dealloc {
            Some(dealloc) => dealloc(obj),
            None => ((*tp)
                .tp_free
                .unwrap_or_else(|| fatal(c"hpy-rs: tp_free is NULL")))(
                obj.cast()
            ),
        }
        ffi::Py_DECREF(tp.cast());
    }
}

/// Runs the destroy impls of a chain of HPy types that has several.
///
/// # Safety
/// `p` is the payload of an object being deallocated, whose type's
/// teardown has these impls; GIL held.
#[cold]
#[inline(never)]
unsafe fn destroy_all(destroys: &[DestroyFn], p: *mut c_void) {
    for destroy in destroys {
        // SAFETY: forwarded.
        unsafe { destroy(p) };
    }
}

/// `tp_new` of HPy types with `HPy_tp_call` and no `HPy_tp_new`: the base's
/// `tp_new`, then the default call function written into the instance.
pub(super) unsafe extern "C" fn hpy_default_new(
    tp: *mut ffi::PyTypeObject,
    args: *mut ffi::PyObject,
    kw: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: see the note in `types`. The `tp_new` to delegate to is the first
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

// ---------------------------------------------------------------------------
// Context functions

pub unsafe extern "C" fn ctx_New(
    _ctx: *mut HPyContext,
    h_type: HPy,
    data: *mut *mut c_void,
) -> HPy {
    // SAFETY: see the note in `types`; `data` points to the caller's `void *`.
    unsafe {
        let t = as_obj(h_type);
        if ffi::PyType_Check(t) == 0 {
            raise(ffi::PyExc_TypeError, "HPy_New arg 1 must be a type");
            return HPY_NULL;
        }
        let tp: *mut ffi::PyTypeObject = t.cast();
        // The common case, an HPy type itself: what it takes was read when
        // the type was made.
        let Some(d) = type_data(tp).as_ref() else {
            return new_other(tp, data);
        };
        let a = &d.alloc;
        let obj = if a.plain_size != 0 {
            alloc_plain(tp, a.plain_size)
        } else {
            alloc(tp)
        };
        if obj.is_null() {
            return HPY_NULL;
        }
        if a.vectorcall_offset != 0 {
            obj.cast::<u8>()
                .offset(a.vectorcall_offset)
                .cast::<cpy_vectorcallfunc>()
                .write_unaligned(a.vectorcall);
        }
        *data = obj.cast::<u8>().offset(a.header).cast();
        from_owned(obj)
    }
}

/// `HPy_New` of a type that is not itself an HPy type (a subclass made in
/// Python, a legacy type): its `tp_alloc`, the nearest HPy type's header
/// and call function.
///
/// # Safety
/// As `ctx_New`, `tp` a valid type.
#[inline(never)]
unsafe fn new_other(tp: *mut ffi::PyTypeObject, data: *mut *mut c_void) -> HPy {
    // SAFETY: forwarded.
    unsafe {
        let obj = alloc(tp);
        if obj.is_null() {
            return HPY_NULL;
        }
        let d = nearest_data(tp);
        vectorcall_init_in(tp, obj, d);
        *data = payload_in(obj, d);
        from_owned(obj)
    }
}

/// A new instance of `tp` from its `tp_alloc` (which zero-fills it, payload
/// included, before it tracks GC objects).
///
/// # Safety
/// `tp` is a valid type; GIL held.
#[inline(always)]
unsafe fn alloc(tp: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    // SAFETY: forwarded; a ready type has a `tp_alloc` (inherited from
    // `object` at least).
    unsafe { (*tp).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc)(tp, 0) }
}

/// What `PyType_GenericAlloc` does for a type without GC, items or
/// pre-header (see `Alloc::plain_size`): `size` zeroed bytes from the object
/// allocator, initialised as an instance of `tp` (which, a heap type, gains
/// a reference).
///
/// # Safety
/// `tp` is a valid type whose `Alloc::plain_size` is `size`; GIL held.
#[inline(always)]
unsafe fn alloc_plain(tp: *mut ffi::PyTypeObject, size: usize) -> *mut ffi::PyObject {
    // SAFETY: `size` bytes were just allocated for us; PyObject_Init
    // expects exactly that (zeroed memory the size of the type).
    unsafe {
        let m = ffi::PyObject_Malloc(size).cast::<u8>();
        if m.is_null() {
            ffi::PyErr_NoMemory();
            return null_mut();
        }
        m.write_bytes(0, size);
        object_init(m.cast(), tp)
    }
}

/// `PyObject_Init` of a heap type's instance, without its call where the
/// pieces are public (3.9+): the type, a new reference to it, a count of 1.
///
/// # Safety
/// `o` is zeroed memory of `tp`'s basic size; `tp` a heap type; GIL held.
#[inline(always)]
unsafe fn object_init(o: *mut ffi::PyObject, tp: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
    #[cfg(Py_3_9)]
    // SAFETY: as CPython's own `_PyObject_Init` does, on memory that is ours
    // alone; a heap type is an object whose reference the instance holds.
    unsafe {
        (*o).ob_type = tp;
        ffi::Py_INCREF(tp.cast());
        ffi::_Py_NewReference(o);
        o
    }
    #[cfg(not(Py_3_9))]
    // SAFETY: forwarded.
    unsafe {
        ffi::PyObject_Init(o, tp)
    }
}

pub unsafe extern "C" fn ctx_Type_GenericNew(
    _ctx: *mut HPyContext,
    type_: HPy,
    _args: *const HPy,
    _nargs: HPy_ssize_t,
    _kw: HPy,
) -> HPy {
    // SAFETY: see the note in `types`.
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
    // SAFETY: see the note in `types`.
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
    // SAFETY: see the note in `types`; `func` is the extension's HPyCallFunction.
    unsafe {
        let obj = as_obj(h);
        let tp = ffi::Py_TYPE(obj);
        let off = (*tp).tp_vectorcall_offset;
        let d = nearest_data(tp);
        let hpy_call = !d.is_null() && (*d).vectorcall.is_some();
        let flag = (*tp).tp_flags & ffi::Py_TPFLAGS_HAVE_VECTORCALL != 0;
        if off <= 0 || !(hpy_call || flag) {
            raise_format!(
                ffi::PyExc_TypeError,
                "type '%.50s' does not implement the HPy call protocol",
                (*tp).tp_name,
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
