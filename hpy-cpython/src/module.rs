//! Turns an extension's `HPyModuleDef` into a CPython module definition;
//! shared by both ways an HPy module reaches CPython:
//!
//! - universal/hybrid binaries: `hpy.universal.load` creates and executes the
//!   module at once ([`create_module`]);
//! - CPython-ABI extensions: `PyInit_<ext>` returns the definition to
//!   CPython's multi-phase initialisation ([`module_def_init`]).
//!
//! Methods become `PyMethodDef`s whose `ml_meth` is the extension's own
//! trampoline; `HPy_mod_create`/`HPy_mod_exec` become PEP 489 module slots.
//! The generated `PyModuleDef` and its arrays live for the rest of the process,
//! as CPython requires of module definitions; there is one per distinct
//! definition ([`DefKey`]), shared by every module made from it, so loading
//! or importing an extension again costs no memory ([`module_def`]).

#![allow(non_upper_case_globals)]

use crate::defs::{method_def, null_terminated};
use crate::ffi;
use crate::handle::raise;
use alloc::ffi::CString;
use alloc::{borrow::ToOwned, boxed::Box, vec::Vec};
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr::null_mut;
use hpy_sys::*;

/// The end of both messages about a module definition with `HPy_mod_create`
/// and more (a macro, so that `concat!` joins them at compile time).
macro_rules! non_default_message {
    () => {
        "This is not allowed because custom HPy_mod_create slot cannot \
     return a builtin module object and cannot make any use of any other data defined in the \
     HPyModuleDef. Either do not define HPy_mod_create slot and let the runtime create a builtin \
     module object from the provided HPyModuleDef, or do not define anything else but the \
     HPy_mod_create slot."
    };
}

/// Builds, creates and executes the module for `hpydef` (steps 9–10 of the
/// universal loader protocol); its name is `spec.name`.
///
/// # Safety
/// `hpydef` was returned by the extension's `HPyInit_<ext>`; `spec` is a
/// module spec; GIL held.
pub unsafe fn create_module(hpydef: &HPyModuleDef, spec: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: forwarded contract (all pointers below come from the extension's
    // static definitions, which live as long as the loaded library: forever).
    unsafe {
        let Some(name) = spec_name(spec) else {
            return null_mut();
        };
        let Some(pydef) = module_def(hpydef, &name) else {
            return null_mut();
        };
        reset_globals(hpydef);
        let m = ffi::PyModule_FromDefAndSpec2(pydef, spec, ffi::PYTHON_API_VERSION);
        if m.is_null() {
            return null_mut();
        }
        if ffi::PyModule_Check(m) != 0 && ffi::PyModule_ExecDef(m, pydef) != 0 {
            ffi::Py_DECREF(m);
            return null_mut();
        }
        m
    }
}

/// The result of `PyInit_<ext>` for a CPython-ABI extension: the module
/// definition, handed to CPython's multi-phase initialisation (which takes
/// the module's name from the import spec, creates and executes it).
///
/// # Safety
/// `hpydef` is the extension's static `HPyModuleDef`; `ext_name` is NULL or a
/// NUL-terminated string that lives forever; GIL held.
pub unsafe fn module_def_init(
    hpydef: &HPyModuleDef,
    ext_name: *const c_char,
) -> *mut ffi::PyObject {
    // SAFETY: forwarded contract.
    unsafe {
        let name = if ext_name.is_null() {
            c""
        } else {
            CStr::from_ptr(ext_name)
        };
        let Some(pydef) = module_def(hpydef, name) else {
            return null_mut();
        };
        reset_globals(hpydef);
        ffi::PyModuleDef_Init(pydef)
    }
}

/// Globals start out empty whenever a module is (re)made from the definition.
unsafe fn reset_globals(hpydef: &HPyModuleDef) {
    // SAFETY: `globals` is NULL or a NULL-terminated array of the
    // extension's `HPyGlobal` statics.
    unsafe {
        for g in null_terminated(hpydef.globals) {
            (*g)._i = 0;
        }
    }
}

/// What makes two converted definitions interchangeable: the module name
/// (copied) and the doc, methods and slots, by address (they point into the
/// extension, which is never unloaded).
#[derive(PartialEq, Eq)]
struct DefKey {
    name: CString,
    doc: usize,
    /// (ml_name, ml_meth, ml_flags, ml_doc) of each method.
    methods: Vec<(usize, usize, c_int, usize)>,
    /// (slot, value) of each module slot.
    slots: Vec<(c_int, usize)>,
}

/// A `PyModuleDef` made so far, with what it holds: `def` is a leaked
/// `Box<PyModuleDef>` whose `m_name` points into the key's `name` and whose
/// arrays are leaked too; the entry itself is leaked, so both live as long
/// as the process.
struct Made {
    key: DefKey,
    def: *mut ffi::PyModuleDef,
    next: *const Made,
}

/// The definitions made so far, newest first: a list, searched in order (a
/// process makes one per distinct extension module; a map's code would
/// weigh more in every extension than the search ever costs).
static DEFS: GilGuarded<*const Made> = GilGuarded(UnsafeCell::new(core::ptr::null()));

/// A static that only code holding the GIL touches.
struct GilGuarded<T>(UnsafeCell<T>);

// SAFETY: the one such static, `DEFS`, is only reached from `module_def`,
// whose callers hold the GIL: it serialises the threads that get there, and
// `module_def` calls nothing that could release it while it holds the list.
unsafe impl<T> Sync for GilGuarded<T> {}

/// Validates `hpydef` and converts it to a `PyModuleDef` named `name` that is
/// never freed: the one made before for an identical definition if there is
/// one (a module holds its definition in `md_def`, and its functions point
/// into the method table, so a definition must outlive every module and
/// function made from it; sharing it bounds the memory by the number of
/// distinct definitions, not of loads).
///
/// # Safety
/// See [`create_module`].
unsafe fn module_def(hpydef: &HPyModuleDef, name: &CStr) -> Option<*mut ffi::PyModuleDef> {
    // SAFETY: see `create_module`.
    unsafe {
        if hpydef.size < 0 {
            raise(
                ffi::PyExc_SystemError,
                "HPy does not permit HPyModuleDef.size < 0",
            );
            return None;
        }
        if hpydef.size > 0 {
            raise(
                ffi::PyExc_SystemError,
                "Module state is not supported yet in HPy, set HPyModuleDef.size = 0 if module state is not needed",
            );
            return None;
        }
        let mut methods: Vec<ffi::PyMethodDef> = Vec::new();
        let mut slots: Vec<ffi::PyModuleDef_Slot> = Vec::new();
        let mut create: Option<*mut c_void> = None;
        let mut others = 0usize;
        for d in null_terminated(hpydef.defines) {
            let d = &*d;
            match d.kind {
                HPyDef_Kind_Meth => {
                    methods.push(method_def(&d.__bindgen_anon_1.meth)?);
                    others += 1;
                }
                HPyDef_Kind_Slot => {
                    let slot = &d.__bindgen_anon_1.slot;
                    let tramp =
                        core::mem::transmute::<cpy_PyCFunction, *mut c_void>(slot.cpy_trampoline);
                    match slot.slot {
                        HPy_mod_create => {
                            if create.is_some() {
                                raise(
                                    ffi::PyExc_SystemError,
                                    "Multiple definitions of the HPy_mod_create slot in HPyModuleDef.defines.",
                                );
                                return None;
                            }
                            create = Some(tramp);
                        }
                        HPy_mod_exec => {
                            slots.push(ffi::PyModuleDef_Slot {
                                slot: ffi::Py_mod_exec,
                                value: tramp,
                            });
                            others += 1;
                        }
                        other => {
                            raise_format!(
                                ffi::PyExc_SystemError,
                                "Unsupported slot in HPyModuleDef.defines (value: %d).",
                                other as c_int,
                            );
                            return None;
                        }
                    }
                }
                kind => {
                    raise_format!(
                        ffi::PyExc_SystemError,
                        "Unsupported HPyDef kind in HPyModuleDef.defines (value: %u): modules take only methods and HPy_mod_create/HPy_mod_exec slots.",
                        kind,
                    );
                    return None;
                }
            }
        }
        let legacy: *mut ffi::PyMethodDef = hpydef.legacy_methods.cast();
        if !legacy.is_null() {
            let mut i = 0;
            while !(*legacy.add(i)).ml_name.is_null() {
                methods.push(core::ptr::read(legacy.add(i)));
                i += 1;
            }
        }
        if let Some(create) = create {
            if others > 0 {
                raise(
                    ffi::PyExc_SystemError,
                    concat!(
                        "HPyModuleDef defines a HPy_mod_create slot and some other slots or methods. ",
                        non_default_message!()
                    ),
                );
                return None;
            }
            if !hpydef.doc.is_null() || !hpydef.globals.is_null() || !legacy.is_null() {
                raise(
                    ffi::PyExc_SystemError,
                    concat!(
                        "HPyModuleDef defines a HPy_mod_create slot and some of the other fields are not set to their default value. ",
                        non_default_message!()
                    ),
                );
                return None;
            }
            slots.insert(
                0,
                ffi::PyModuleDef_Slot {
                    slot: ffi::Py_mod_create,
                    value: create,
                },
            );
        }
        methods.push(core::mem::zeroed());
        slots.push(ffi::PyModuleDef_Slot {
            slot: 0,
            value: null_mut(),
        });
        let key = DefKey {
            name: name.to_owned(),
            doc: hpydef.doc as usize,
            methods: methods
                .iter()
                .map(|m| {
                    (
                        m.ml_name as usize,
                        m.ml_meth.map_or(0, |f| f as usize),
                        m.ml_flags,
                        m.ml_doc as usize,
                    )
                })
                .collect(),
            slots: slots.iter().map(|s| (s.slot, s.value as usize)).collect(),
        };
        // (GIL held, see `GilGuarded`: from here to the insert below nothing
        // calls into Python, so no other thread can reach the map meanwhile.)
        let defs = &mut *DEFS.0.get();
        let mut made = *defs;
        while let Some(m) = made.as_ref() {
            if m.key == key {
                return Some(m.def);
            }
            made = m.next;
        }
        let def = Box::into_raw(Box::new(ffi::PyModuleDef {
            m_base: ffi::PyModuleDef_HEAD_INIT,
            m_name: key.name.as_ptr(),
            m_doc: hpydef.doc,
            m_size: 0,
            m_methods: Box::leak(methods.into_boxed_slice()).as_mut_ptr(),
            m_slots: Box::leak(slots.into_boxed_slice()).as_mut_ptr(),
            m_traverse: None,
            m_clear: None,
            m_free: None,
        }));
        *defs = Box::leak(Box::new(Made {
            key,
            def,
            next: *defs,
        }));
        Some(def)
    }
}

/// `spec.name` as a C string.
unsafe fn spec_name(spec: *mut ffi::PyObject) -> Option<CString> {
    // SAFETY: GIL held; `spec` is an object.
    unsafe {
        let name = ffi::PyObject_GetAttrString(spec, c"name".as_ptr());
        if name.is_null() {
            return None;
        }
        let s = ffi::PyUnicode_AsUTF8(name);
        let r = if s.is_null() {
            None
        } else {
            Some(CString::from(CStr::from_ptr(s)))
        };
        ffi::Py_DECREF(name);
        r
    }
}
