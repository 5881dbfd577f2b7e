//! Type creation on older CPythons, behind `Py_3_*` cfgs: 3.8 has no
//! `ht_module` (the hidden module goes into `tp_cache`), no buffer slots and
//! no `__vectorcalloffset__` in specs; before 3.12 there is no `PyType_FromMetaclass`.

use crate::ffi;

#[cfg(not(Py_3_9))]
pub(super) use py38::Py38Extras;

/// The module of heap type `tp` (NULL for none): `ht_module`, or
/// `tp_cache` on 3.8 (see `types`' module comment).
///
/// # Safety
/// `tp` is a valid heap type.
#[inline(always)]
pub(super) unsafe fn type_module(tp: *mut ffi::PyTypeObject) -> *mut ffi::PyObject {
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
pub(super) unsafe fn from_module_and_spec(
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

/// A type with a metaclass: `PyType_FromMetaclass` from 3.12, before that
/// `from_metaclass_compat`.
///
/// # Safety
/// As `from_module_and_spec`; `meta` is a type.
pub(super) unsafe fn from_metaclass(
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
    return unsafe { before_3_12::from_metaclass_compat(meta, module, spec, bases) };
}

#[cfg(not(Py_3_9))]
mod py38 {
    use super::super::{count_until, cstr_eq};
    use crate::ffi;
    use alloc::vec::Vec;
    use core::ffi::{c_int, c_void};
    use core::ptr::{addr_of_mut, null_mut};
    use hpy_sys::*;

    /// What CPython 3.8's `PyType_FromSpec` would not take from a spec: the
    /// buffer slots (it has no slot numbers for them) and the vectorcall offset
    /// (it ignores the `__vectorcalloffset__` member, and its `PyType_Ready`
    /// must not see the vectorcall flag without it).
    pub(in crate::types) struct Py38Extras {
        getbuffer: *mut c_void,
        releasebuffer: *mut c_void,
        vectorcall_offset: Option<isize>,
    }

    impl Py38Extras {
        /// Takes them out of `slots` (which ends with its sentinel) and `flags`.
        ///
        /// # Safety
        /// The `Py_tp_members` slot, if any, points to an array ended by a NULL name.
        pub(in crate::types) unsafe fn take(
            slots: &mut Vec<ffi::PyType_Slot>,
            flags: &mut core::ffi::c_ulong,
        ) -> Self {
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
        pub(in crate::types) unsafe fn apply(&self, tp: *mut ffi::PyTypeObject) {
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
                        procs.bf_getbuffer = Some(core::mem::transmute::<
                            *mut c_void,
                            ffi::getbufferproc,
                        >(self.getbuffer));
                    }
                    if !self.releasebuffer.is_null() {
                        procs.bf_releasebuffer = Some(core::mem::transmute::<
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
}

#[cfg(not(Py_3_12))]
mod before_3_12 {
    use super::super::count_until;
    use super::{from_module_and_spec, type_module};
    use crate::ffi;
    use crate::handle::raise;
    use core::ffi::{c_char, CStr};
    use core::ptr::{addr_of_mut, null, null_mut};

    /// Metaclasses before Python 3.12 (no `PyType_FromMetaclass`): the type is
    /// made with `PyType_FromModuleAndSpec`, then copied into an instance of the
    /// metaclass, which `PyType_Ready` re-initialises. The template type is kept
    /// alive forever: the copy shares its name buffer and member array (as
    /// upstream's runtime does on these versions).
    pub(super) unsafe fn from_metaclass_compat(
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
            if (*meta).tp_new.map(|f| f as *const ()) != (*type_type).tp_new.map(|f| f as *const ())
            {
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
            let skip = core::mem::size_of::<ffi::PyVarObject>();
            core::ptr::copy_nonoverlapping(
                th.cast::<u8>().add(skip),
                ht.cast::<u8>().add(skip),
                core::mem::size_of::<ffi::PyHeapTypeObject>() - skip,
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
                core::ptr::copy_nonoverlapping(tp.tp_doc, doc, len);
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
}
