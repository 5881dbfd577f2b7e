//! What `HPyType_FromSpec` rejects, with upstream's messages where it has
//! them: a spec CPython would misread (no name, negative sizes, unnamed
//! definitions, unknown member types, slots or params), contradictory
//! slots and flags, and a legacy type inheriting a pure type's layout.

use super::typedata::{header_size, nearest_data, type_data, TypeData};
use crate::ffi;
use crate::handle::{as_obj, new_ref, raise};
use alloc::vec::Vec;
use core::ffi::{c_ulong, CStr};
use core::ptr::null_mut;
use hpy_sys::*;

/// The spec's name, once the spec may be read: `legacy_slots` goes only
/// with the legacy shape (checked before anything in the spec is
/// dereferenced; upstream's message).
///
/// # Safety
/// GIL held; `spec.name` is NULL or a C string.
pub(super) unsafe fn spec_name(spec: &HPyType_Spec) -> Option<&CStr> {
    // SAFETY: GIL held; `name` is read after its NULL check.
    unsafe {
        if spec.name.is_null() {
            raise(ffi::PyExc_SystemError, "HPyType_Spec.name is NULL");
            return None;
        }
        if !spec.legacy_slots.is_null() && spec.builtin_shape != HPyType_BuiltinShape_Legacy {
            raise(
                ffi::PyExc_TypeError,
                "cannot specify .legacy_slots without setting .builtin_shape=HPyType_BuiltinShape_Legacy",
            );
            return None;
        }
        Some(CStr::from_ptr(spec.name))
    }
}

/// The spec params, validated.
pub(super) struct Params {
    pub(super) bases: *mut ffi::PyObject, // owned tuple or NULL
    pub(super) meta: *mut ffi::PyTypeObject,
}

impl Drop for Params {
    fn drop(&mut self) {
        // SAFETY: `bases` is NULL or our reference; GIL held.
        unsafe { ffi::Py_XDECREF(self.bases) };
    }
}

/// Reads the params (bases, a bases tuple, a metaclass) and rejects what
/// CPython would misread: NULL objects, unknown kinds, contradictions.
///
/// # Safety
/// GIL held; `params` is NULL or an array ended by kind 0.
pub(super) unsafe fn parse_params(params: *mut HPyType_SpecParam, name: &CStr) -> Option<Params> {
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
                    c"Base"
                }
                HPyType_SpecParam_BasesTuple => {
                    n_tuple += 1;
                    c"BasesTuple"
                }
                HPyType_SpecParam_Metaclass => c"Metaclass",
                _ => {
                    raise_format!(
                        ffi::PyExc_TypeError,
                        "unknown HPyType_SpecParam specification for '%s'",
                        name.as_ptr(),
                    );
                    return None;
                }
            };
            // Every object below is used as a live object (increfed,
            // type-checked): reject HPy_NULL before touching any of them.
            if p.object.is_null() {
                raise_format!(
                    ffi::PyExc_TypeError,
                    "HPyType_FromSpec: type '%s': HPyType_SpecParam_%s is HPy_NULL",
                    name.as_ptr(),
                    what.as_ptr(),
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
                    // its repr ('?' if that fails)
                    let r = ffi::PyObject_Repr(m);
                    if r.is_null() {
                        ffi::PyErr_Clear();
                        raise(
                            ffi::PyExc_TypeError,
                            "Metaclass '?' is not a subclass of 'type'.",
                        );
                    } else {
                        raise_format!(
                            ffi::PyExc_TypeError,
                            "Metaclass '%U' is not a subclass of 'type'.",
                            r,
                        );
                        ffi::Py_DECREF(r);
                    }
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
                raise_format!(
                    ffi::PyExc_TypeError,
                    "HPyType_SpecParam_BasesTuple of '%s' is not a tuple",
                    name.as_ptr(),
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

/// Rejects what CPython would silently misread in a spec: negative sizes,
/// definitions without a name, and member types or slots HPy does not have.
///
/// # Safety
/// GIL held; `defs` point to the extension's definitions.
pub(super) unsafe fn check_spec(spec: &HPyType_Spec, defs: &[&HPyDef], name: &CStr) -> Option<()> {
    // A ValueError naming the type (`PyErr_Format`'s conversions; each
    // argument of its conversion's C type), and None.
    macro_rules! fail {
        ($fmt:literal $(, $arg:expr)* $(,)?) => {{
            // SAFETY: GIL held (caller); `name` and the `%s` arguments are C
            // strings, the others of their conversion's C type.
            unsafe {
                ffi::PyErr_Format(
                    ffi::PyExc_ValueError,
                    concat!("HPyType_FromSpec: type '%s': ", $fmt, "\0").as_ptr().cast(),
                    name.as_ptr(),
                    $($arg),*
                )
            };
            return None
        }};
    }
    if spec.basicsize < 0 {
        fail!("negative basicsize (%d)", spec.basicsize);
    }
    if spec.itemsize < 0 {
        fail!("negative itemsize (%d)", spec.itemsize);
    }
    for d in defs {
        // SAFETY: the union member read is the one `kind` selects.
        let (what, def_name) = unsafe {
            match d.kind {
                HPyDef_Kind_Meth => (c"method", d.__bindgen_anon_1.meth.name),
                HPyDef_Kind_Member => (c"member", d.__bindgen_anon_1.member.name),
                HPyDef_Kind_GetSet => (c"getset", d.__bindgen_anon_1.getset.name),
                _ => continue, // slots have no name; unknown kinds are reported later
            }
        };
        if def_name.is_null() {
            fail!("a %s definition has a NULL name", what.as_ptr());
        }
        if d.kind == HPyDef_Kind_Member {
            // SAFETY: kind is Member.
            let m = unsafe { &d.__bindgen_anon_1.member };
            if !hpy_sys::ENUM_HPyMember_FieldType
                .iter()
                .any(|(_, v)| *v == m.type_)
            {
                // (`m.name`: checked non-NULL above)
                fail!(
                    "member '%s' has an unknown HPyMember type (%u)",
                    m.name,
                    m.type_
                );
            }
            // A member outside the struct would read and write past the
            // instance. (basicsize 0 with members has its own message.)
            let size = member_size(m.type_);
            if spec.basicsize != 0
                && (m.offset < 0 || m.offset.saturating_add(size) > spec.basicsize as isize)
            {
                fail!(
                    "member '%s' (offset %zd, size %zd) lies outside basicsize %d",
                    m.name,
                    m.offset,
                    size,
                    spec.basicsize,
                );
            }
        }
    }
    for d in defs.iter().filter(|d| d.kind == HPyDef_Kind_Slot) {
        // SAFETY: kind is Slot.
        let slot = unsafe { d.__bindgen_anon_1.slot.slot };
        match hpy_sys::ENUM_HPySlot_Slot.iter().find(|(_, v)| *v == slot) {
            None => fail!("unknown slot number %u", slot),
            Some((n, _)) if n.starts_with("HPy_mod_") => {
                // the name as a C string (the table's names are short)
                let mut c_name = [0u8; 32];
                let len = n.len().min(c_name.len() - 1);
                c_name[..len].copy_from_slice(&n.as_bytes()[..len]);
                fail!("module slot %s in a type definition", c_name.as_ptr())
            }
            Some(_) => {}
        }
    }
    Some(())
}

/// The bytes a member of type `t` (a known HPyMember type) reads and
/// writes at its offset: its C type's size; an inline string at least its
/// NUL, a NONE member nothing.
fn member_size(t: HPyMember_FieldType) -> isize {
    use core::ffi::{c_char, c_double, c_float, c_int, c_long, c_short};
    use core::mem::size_of;
    (match t {
        HPyMember_SHORT | HPyMember_USHORT => size_of::<c_short>(),
        HPyMember_INT | HPyMember_UINT => size_of::<c_int>(),
        HPyMember_LONG | HPyMember_ULONG => size_of::<c_long>(),
        HPyMember_FLOAT => size_of::<c_float>(),
        HPyMember_DOUBLE => size_of::<c_double>(),
        HPyMember_STRING | HPyMember_OBJECT | HPyMember_OBJECT_EX => size_of::<*mut c_char>(),
        HPyMember_CHAR | HPyMember_BYTE | HPyMember_UBYTE | HPyMember_BOOL => 1,
        HPyMember_STRING_INPLACE => 1,
        HPyMember_LONGLONG | HPyMember_ULONGLONG => size_of::<i64>(),
        HPyMember_HPYSSIZET => size_of::<HPy_ssize_t>(),
        _ => 0, // HPyMember_NONE
    }) as isize
}

/// Slots and flags that cannot go together: a legacy `tp_dealloc` with the
/// runtime's (needed for `HPy_tp_traverse` or `HPy_tp_destroy`), and GC
/// without `HPy_tp_traverse`.
///
/// # Safety
/// GIL held.
pub(super) unsafe fn check_slots(
    spec: &HPyType_Spec,
    legacy: &[ffi::PyType_Slot],
    has_traverse: bool,
    needs_dealloc: bool,
) -> Option<()> {
    // SAFETY: GIL held (caller).
    unsafe {
        if needs_dealloc && legacy.iter().any(|s| s.slot == ffi::Py_tp_dealloc) {
            raise(
                ffi::PyExc_TypeError,
                "legacy tp_dealloc is incompatible with HPy_tp_traverse or HPy_tp_destroy.",
            );
            return None;
        }
        if spec.flags & ffi::Py_TPFLAGS_HAVE_GC as c_ulong != 0 && !has_traverse {
            raise(
                ffi::PyExc_ValueError,
                "You must provide an HPy_tp_traverse slot if you specify HPy_TPFLAGS_HAVE_GC",
            );
            return None;
        }
    }
    Some(())
}

/// The size of the header of the spec's shape (see `typedata`), or a
/// `ValueError` for an unknown shape.
///
/// # Safety
/// GIL held.
pub(super) unsafe fn shape_header(spec: &HPyType_Spec) -> Option<isize> {
    let header = header_size(spec.builtin_shape);
    if header.is_none() {
        // SAFETY: GIL held (caller); the shape is a C int.
        unsafe {
            raise_format!(
                ffi::PyExc_ValueError,
                "invalid shape: %d",
                spec.builtin_shape
            )
        };
    }
    header
}

fn is_pure(d: *mut TypeData) -> bool {
    // SAFETY: `d` is NULL or a live TypeData.
    !d.is_null() && unsafe { (*d).shape } != HPyType_BuiltinShape_Legacy
}

/// The new type, unless it is a legacy type whose base is a pure HPy type
/// (its C struct would not start where the base's does): then it is
/// released and None returned.
///
/// # Safety
/// GIL held; `result` is a type just made by `HPyType_FromSpec` (a new
/// reference, which this takes).
pub(super) unsafe fn check_inherited_layout(
    result: *mut ffi::PyObject,
) -> Option<*mut ffi::PyObject> {
    let tp: *mut ffi::PyTypeObject = result.cast();
    // SAFETY: `tp` and its base are valid types; GIL held.
    unsafe {
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
    }
    Some(result)
}

/// The new type, unless its instances do not fit its base's: a basicsize
/// too small for the base's struct (or for `PyObject_HEAD`), or items of
/// another size than a var-sized base's (an int's digits, a tuple's
/// pointers), which the base's code would write past the allocation. CPython
/// 3.12 rejects the first itself (with this message), older ones do not;
/// none checks the second.
///
/// # Safety
/// GIL held; `result` is a type just made by `HPyType_FromSpec` (a new
/// reference, which this takes).
pub(super) unsafe fn check_sizes(result: *mut ffi::PyObject) -> Option<*mut ffi::PyObject> {
    let tp: *mut ffi::PyTypeObject = result.cast();
    // SAFETY: `tp` and its base are valid types with C-string names; GIL held.
    unsafe {
        let base = (*tp).tp_base;
        if base.is_null() {
            return Some(result);
        }
        if (*tp).tp_basicsize < (*base).tp_basicsize {
            raise_format!(
                ffi::PyExc_TypeError,
                "tp_basicsize for type '%s' (%zd) is too small for base '%s' (%zd)",
                (*tp).tp_name,
                (*tp).tp_basicsize,
                (*base).tp_name,
                (*base).tp_basicsize,
            );
        } else if (*base).tp_itemsize != 0 && (*tp).tp_itemsize != (*base).tp_itemsize {
            raise_format!(
                ffi::PyExc_TypeError,
                "tp_itemsize for type '%s' (%zd) differs from the itemsize of its var-sized base '%s' (%zd)",
                (*tp).tp_name,
                (*tp).tp_itemsize,
                (*base).tp_name,
                (*base).tp_itemsize,
            );
        } else {
            return Some(result);
        }
        // (after formatting: the message names the type)
        ffi::Py_DECREF(result);
        None
    }
}

/// The new pure type, unless its payload would not be where its base's
/// code expects it: a pure HPy base of another shape (its payload starts
/// after another header), or, for a type with a payload of its own, a
/// base whose instances are larger than the shape's header (the payload
/// would overlap the base's fields: `int`'s value under an Object-shaped
/// struct, say).
///
/// # Safety
/// GIL held; `result` is a type just made from `spec` (a new reference,
/// which this takes).
pub(super) unsafe fn check_shape(
    result: *mut ffi::PyObject,
    spec: &HPyType_Spec,
) -> Option<*mut ffi::PyObject> {
    let tp: *mut ffi::PyTypeObject = result.cast();
    let shape = spec.builtin_shape;
    let header = header_size(shape).unwrap_or(0);
    // SAFETY: `tp` and its base are valid types with C-string names; GIL held.
    unsafe {
        let base = (*tp).tp_base;
        if shape == HPyType_BuiltinShape_Legacy || base.is_null() {
            return Some(result);
        }
        let d = nearest_data(base);
        if is_pure(d) {
            if (*d).shape == shape {
                return Some(result);
            }
            raise_format!(
                ffi::PyExc_TypeError,
                "type '%s' has builtin_shape %d but its base '%s' has builtin_shape %d",
                (*tp).tp_name,
                shape,
                (*base).tp_name,
                (*d).shape,
            );
        } else if spec.basicsize != 0 && (*base).tp_basicsize > header {
            raise_format!(
                ffi::PyExc_TypeError,
                "the struct of type '%s' (builtin_shape %d, after %zd bytes) would overlap the instances of its base '%s' (%zd bytes): use the base's builtin shape",
                (*tp).tp_name,
                shape,
                header,
                (*base).tp_name,
                (*base).tp_basicsize,
            );
        } else {
            return Some(result);
        }
        // (after formatting: the message names the type)
        ffi::Py_DECREF(result);
        None
    }
}
