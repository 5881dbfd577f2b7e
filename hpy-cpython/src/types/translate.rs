//! An HPy type spec translated into what `PyType_FromSpec` takes: HPy slots
//! (their numbers are CPython's), methods, members (those holding fields
//! become getsets), getsets, legacy slots and the HPy call protocol's
//! `__vectorcalloffset__`; plus the runtime data the new type will carry.

use super::fields::{field_get, field_set, FieldMember};
use super::instances::{hpy_clear, hpy_dealloc, hpy_default_new};
use super::typedata::{align, Alloc, SpecStorage, Teardown, TypeData};
use super::{count_until, cstr_eq};
use crate::defs::method_def;
use crate::ffi;
use crate::handle::raise;
use alloc::{boxed::Box, vec::Vec};
use core::ffi::{c_char, c_int, c_ulong, c_void};
use core::ptr::{addr_of_mut, null, null_mut};
use hpy_sys::*;

/// The slot definitions among `defs`.
pub(super) fn slot_defs<'a>(defs: &'a [&'a HPyDef]) -> impl Iterator<Item = &'a HPySlot> + 'a {
    defs.iter()
        .filter(|d| d.kind == HPyDef_Kind_Slot)
        // SAFETY: the union member read is the one `kind` selects.
        .map(|d| unsafe { &d.__bindgen_anon_1.slot })
}

/// The legacy slots of a spec (`legacy_slots`, which `check::spec_name`
/// allowed only with the legacy shape), without their sentinel.
///
/// # Safety
/// `spec.legacy_slots` is NULL or a `PyType_Slot` array ended by slot 0.
pub(super) unsafe fn legacy_slots(spec: &HPyType_Spec) -> Vec<ffi::PyType_Slot> {
    let legacy_slots: *const ffi::PyType_Slot = spec.legacy_slots.cast();
    if legacy_slots.is_null() {
        return Vec::new();
    }
    let mut v = Vec::new();
    let mut p = legacy_slots;
    // SAFETY: read up to the sentinel (caller's contract).
    unsafe {
        while (*p).slot != 0 {
            v.push(core::ptr::read(p));
            p = p.add(1);
        }
    }
    v
}

/// A spec being translated. The steps run in the order they are defined
/// below; each may fail with an exception set (None).
pub(super) struct Translation {
    /// The runtime data of the new type (it owns the method and getset
    /// arrays once `finish` has moved them there).
    pub(super) data: TypeData,
    /// `spec.basicsize` plus the header and, with `HPy_tp_call`, the
    /// instance's vectorcallfunc; 0 inherits the base's.
    pub(super) basicsize: isize,
    pub(super) flags: c_ulong,
    /// The slots so far, without the sentinel.
    pub(super) slots: Vec<ffi::PyType_Slot>,
    /// Size of the header in front of the payload (see `typedata`).
    header: isize,
    has_new: bool,
    /// Where `HPy_tp_call` puts each instance's vectorcallfunc; 0 for none.
    vc_offset: isize,
    /// Whether the spec declares a `__vectorcalloffset__` member itself.
    explicit_vc: bool,
    methods: Vec<ffi::PyMethodDef>,
    /// Read by `PyType_FromSpec`, which copies it into the type.
    members: Vec<ffi::PyMemberDef>,
    getsets: Vec<ffi::PyGetSetDef>,
}

impl Translation {
    /// The spec's sizes, flags and shape; `header` is the shape's.
    pub(super) fn new(spec: &HPyType_Spec, header: isize) -> Translation {
        Translation {
            data: TypeData {
                shape: spec.builtin_shape,
                header,
                traverse: None,
                destroy: None,
                vectorcall: None,
                alloc: Alloc::new(),
                teardown: Teardown::new(),
                spec: SpecStorage::new(),
            },
            basicsize: if spec.basicsize != 0 {
                spec.basicsize as isize + header
            } else {
                0
            },
            flags: spec.flags,
            slots: Vec::new(),
            header,
            has_new: false,
            vc_offset: 0,
            explicit_vc: false,
            methods: Vec::new(),
            members: Vec::new(),
            getsets: Vec::new(),
        }
    }

    /// HPy slots become CPython slots (same numbers, the trampolines as
    /// functions), except `HPy_tp_destroy` and `HPy_tp_call`, which go into
    /// the type data; `HPy_tp_call` also reserves room for the instance's
    /// vectorcallfunc at the aligned end of `basicsize`.
    ///
    /// # Safety
    /// GIL held; `bases` is NULL or a tuple.
    pub(super) unsafe fn hpy_slots(
        &mut self,
        spec: &HPyType_Spec,
        defs: &[&HPyDef],
        bases: *mut ffi::PyObject,
    ) -> Option<()> {
        // SAFETY: the transmutes turn each trampoline or impl into the
        // signature its slot number stands for (HPy's contract); GIL held.
        unsafe {
            for s in slot_defs(defs) {
                let tramp = core::mem::transmute::<cpy_PyCFunction, *mut c_void>(s.cpy_trampoline);
                match s.slot {
                    HPy_tp_destroy => {
                        self.data.destroy =
                            core::mem::transmute::<HPyCFunction, HPyFunc_destroyfunc>(s.impl_);
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
                        self.data.vectorcall = core::mem::transmute::<
                            cpy_PyCFunction,
                            cpy_vectorcallfunc,
                        >(s.cpy_trampoline);
                        if self.vc_offset == 0 {
                            let base_size = if self.basicsize != 0 {
                                self.basicsize
                            } else if spec.builtin_shape == HPyType_BuiltinShape_Legacy {
                                0
                            } else {
                                inherited_basicsize(bases).max(self.header)
                            };
                            if base_size == 0 {
                                raise(
                                    ffi::PyExc_TypeError,
                                    "Cannot use HPy call protocol with legacy types that inherit the struct. \
                                     Either set the basicsize to a non-zero value or use legacy slot 'Py_tp_call'.",
                                );
                                return None;
                            }
                            self.vc_offset = align(base_size);
                            self.basicsize = self.vc_offset
                                + core::mem::size_of::<cpy_vectorcallfunc>() as isize;
                        }
                        continue;
                    }
                    HPy_tp_new => self.has_new = true,
                    HPy_tp_traverse => {
                        self.data.traverse =
                            core::mem::transmute::<HPyCFunction, HPyFunc_traverseproc>(s.impl_)
                    }
                    _ => {}
                }
                // HPy slot numbers are CPython's (including bf_getbuffer and
                // bf_releasebuffer, which PyType_FromSpec puts into tp_as_buffer).
                self.slots.push(ffi::PyType_Slot {
                    slot: s.slot as c_int,
                    pfunc: tramp,
                });
            }
        }
        Some(())
    }

    /// Methods, members and getsets of the HPy definitions. Members are
    /// relative to the payload; `HPyMember_OBJECT(_EX)` ones hold fields and
    /// become getsets.
    ///
    /// # Safety
    /// GIL held; `defs` and `legacy` are the spec's (valid definitions,
    /// sentinel-terminated legacy arrays).
    pub(super) unsafe fn definitions(
        &mut self,
        defs: &[&HPyDef],
        legacy: &[ffi::PyType_Slot],
    ) -> Option<()> {
        let member_offset = if self.basicsize != 0 { self.header } else { 0 };
        // SAFETY: each union member read is the one `kind` selects; the
        // legacy member arrays end with a NULL name; the getset transmutes
        // only change the pointer types of the same C signatures.
        unsafe {
            let n_members = defs.iter().filter(|d| d.kind == HPyDef_Kind_Member).count()
                + legacy
                    .iter()
                    .filter(|s| s.slot == ffi::Py_tp_members)
                    .map(|s| count_until(s.pfunc as *const ffi::PyMemberDef, |m| m.name.is_null()))
                    .sum::<usize>();
            if self.basicsize == 0 && n_members > 0 {
                raise(
                    ffi::PyExc_TypeError,
                    "Type claims to have basicsize==0 but defines members",
                );
                return None;
            }
            for d in defs {
                match d.kind {
                    HPyDef_Kind_Slot => {}
                    HPyDef_Kind_Meth => self.methods.push(method_def(&d.__bindgen_anon_1.meth)?),
                    HPyDef_Kind_Member => {
                        let m = &d.__bindgen_anon_1.member;
                        let offset = member_offset + m.offset;
                        if m.type_ == HPyMember_OBJECT || m.type_ == HPyMember_OBJECT_EX {
                            let closure = Box::into_raw(Box::new(FieldMember {
                                offset,
                                name: m.name,
                                ex: m.type_ == HPyMember_OBJECT_EX,
                            }));
                            self.data.spec.field_members.push(closure);
                            self.getsets.push(ffi::PyGetSetDef {
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
                            self.explicit_vc = true;
                        }
                        self.members.push(ffi::PyMemberDef {
                            name: m.name,
                            type_code: m.type_ as c_int,
                            offset,
                            flags: if m.readonly != 0 { ffi::Py_READONLY } else { 0 },
                            doc: m.doc,
                        });
                    }
                    HPyDef_Kind_GetSet => {
                        let g = &d.__bindgen_anon_1.getset;
                        self.getsets.push(ffi::PyGetSetDef {
                            name: g.name,
                            get: core::mem::transmute::<cpy_getter, Option<ffi::getter>>(
                                g.getter_cpy_trampoline,
                            ),
                            set: core::mem::transmute::<cpy_setter, Option<ffi::setter>>(
                                g.setter_cpy_trampoline,
                            ),
                            doc: g.doc,
                            closure: g.closure,
                        });
                    }
                    kind => {
                        raise_format!(
                            ffi::PyExc_TypeError,
                            "unknown HPyDef kind %u in HPyType_Spec.defines",
                            kind,
                        );
                        return None;
                    }
                }
            }
        }
        Some(())
    }

    /// The legacy slots, after the HPy ones: their methods, members and
    /// getsets join the HPy ones, the other slots are passed on.
    ///
    /// # Safety
    /// The legacy method, member and getset arrays end with a NULL name.
    pub(super) unsafe fn legacy(&mut self, legacy: &[ffi::PyType_Slot]) {
        // SAFETY: each array is read up to its sentinel (caller's contract).
        unsafe {
            for s in legacy {
                match s.slot {
                    ffi::Py_tp_methods => {
                        let p = s.pfunc as *const ffi::PyMethodDef;
                        self.methods.extend(
                            (0..count_until(p, |m| m.ml_name.is_null()))
                                .map(|i| core::ptr::read(p.add(i))),
                        );
                    }
                    ffi::Py_tp_members => {
                        let p = s.pfunc as *const ffi::PyMemberDef;
                        for i in 0..count_until(p, |m| m.name.is_null()) {
                            let m = core::ptr::read(p.add(i));
                            if cstr_eq(m.name, c"__vectorcalloffset__") {
                                self.explicit_vc = true;
                            }
                            self.members.push(m);
                        }
                    }
                    ffi::Py_tp_getset => {
                        let p = s.pfunc as *const ffi::PyGetSetDef;
                        self.getsets.extend(
                            (0..count_until(p, |g| g.name.is_null()))
                                .map(|i| core::ptr::read(p.add(i))),
                        );
                    }
                    _ => self.slots.push(ffi::PyType_Slot {
                        slot: s.slot,
                        pfunc: s.pfunc,
                    }),
                }
            }
        }
    }

    /// The HPy call protocol: the `__vectorcalloffset__` member of
    /// `HPy_tp_call`, `tp_call = PyVectorcall_Call`, the default `tp_new`
    /// that fills in the call function, and the vectorcall flag.
    ///
    /// # Safety
    /// GIL held.
    pub(super) unsafe fn call_protocol(&mut self) -> Option<()> {
        if self.vc_offset > 0 {
            if self.explicit_vc {
                // SAFETY: GIL held (caller).
                unsafe {
                    raise(
                        ffi::PyExc_TypeError,
                        "Cannot have HPy_tp_call and explicit member '__vectorcalloffset__'. Specify just one of them.",
                    )
                };
                return None;
            }
            self.members.insert(
                0,
                ffi::PyMemberDef {
                    name: c"__vectorcalloffset__".as_ptr(),
                    type_code: ffi::Py_T_PYSSIZET,
                    offset: self.vc_offset,
                    flags: ffi::Py_READONLY,
                    doc: null(),
                },
            );
        }
        if self.vc_offset > 0 || self.explicit_vc {
            self.slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_call,
                pfunc: ffi::PyVectorcall_Call as *mut c_void,
            });
            if self.vc_offset > 0 && !self.has_new {
                self.slots.push(ffi::PyType_Slot {
                    slot: ffi::Py_tp_new,
                    pfunc: hpy_default_new as *mut c_void,
                });
            }
            self.flags |= ffi::Py_TPFLAGS_HAVE_VECTORCALL as c_ulong;
        }
        Some(())
    }

    /// The last slots: the doc, the method, member and getset arrays, the
    /// runtime's `tp_dealloc` and `tp_clear` when the type needs them, and
    /// the sentinel.
    pub(super) fn finish(&mut self, doc: *const c_char, has_traverse: bool, needs_dealloc: bool) {
        if !doc.is_null() {
            self.slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_doc,
                pfunc: doc as *mut c_void,
            });
        }
        // SAFETY: all-zero is the sentinel entry of each array.
        unsafe {
            self.methods.push(core::mem::zeroed());
            self.members.push(core::mem::zeroed());
            self.getsets.push(core::mem::zeroed());
        }
        // CPython keeps pointers to the method and getset arrays: the type's
        // data owns them (see `SpecStorage`). Moving a Vec keeps its buffer.
        let spec = &mut self.data.spec;
        spec.methods = core::mem::take(&mut self.methods);
        spec.getsets = core::mem::take(&mut self.getsets);
        self.slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_methods,
            pfunc: spec.methods.as_mut_ptr().cast(),
        });
        self.slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_members,
            pfunc: self.members.as_mut_ptr().cast(),
        });
        self.slots.push(ffi::PyType_Slot {
            slot: ffi::Py_tp_getset,
            pfunc: spec.getsets.as_mut_ptr().cast(),
        });
        if needs_dealloc {
            self.slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_dealloc,
                pfunc: hpy_dealloc as *mut c_void,
            });
        }
        if has_traverse {
            self.slots.push(ffi::PyType_Slot {
                slot: ffi::Py_tp_clear,
                pfunc: hpy_clear as *mut c_void,
            });
        }
        self.slots.push(ffi::PyType_Slot {
            slot: 0,
            pfunc: null_mut(),
        });
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
