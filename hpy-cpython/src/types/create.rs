//! `HPyType_FromSpec`: check the spec (`check`), translate it (`translate`),
//! then make the type with its runtime data in a hidden module and check
//! what CPython made. `type_from_spec` lists the steps in order.

use super::check::{
    check_inherited_layout, check_shape, check_sizes, check_slots, check_spec, parse_params,
    shape_header, spec_name, Params,
};
use super::compat::{from_metaclass, from_module_and_spec};
use super::translate::{legacy_slots, slot_defs, Translation};
use super::typedata::{type_data, Alloc, ModuleHead, Teardown, TypeData, DATA_DEF};
use super::HPY_NULL;
use crate::defs::null_terminated;
use crate::ffi;
use crate::handle::{from_owned, raise};
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::{c_int, c_uint, CStr};
use core::ptr::addr_of_mut;
use hpy_sys::*;

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
    // SAFETY: see the note in `types`; `spec` is not NULL.
    match unsafe { type_from_spec(&*spec, params) } {
        Some(t) => from_owned(t),
        None => HPY_NULL,
    }
}

/// The new type (a new reference), or None with an exception set. The
/// order of the steps is behaviour: it decides which message a spec with
/// several faults gets.
unsafe fn type_from_spec(
    spec: &HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> Option<*mut ffi::PyObject> {
    // SAFETY: see the note in `types`; every pointer read below comes from
    // the extension's spec and definitions, and is read only once the spec
    // says it is meaningful: `name` after its NULL check, `legacy_slots` only
    // with the legacy shape, param objects after their HPy_NULL check.
    unsafe {
        let name = spec_name(spec)?;
        let params = parse_params(params, name)?;
        let defs: Vec<&HPyDef> = null_terminated(spec.defines).map(|d| &*d).collect();
        check_spec(spec, &defs, name)?;
        let has_traverse = slot_defs(&defs).any(|s| s.slot == HPy_tp_traverse);
        let needs_dealloc = has_traverse || slot_defs(&defs).any(|s| s.slot == HPy_tp_destroy);
        let legacy = legacy_slots(spec);
        check_slots(spec, &legacy, has_traverse, needs_dealloc)?;
        let header = shape_header(spec)?;

        let mut t = Translation::new(spec, header);
        t.hpy_slots(spec, &defs, params.bases)?;
        t.definitions(&defs, &legacy)?;
        t.legacy(&legacy);
        t.call_protocol()?;
        t.finish(spec.doc, has_traverse, needs_dealloc);

        let result = create(name, spec.itemsize, t, &params)?;
        check_shape(check_sizes(check_inherited_layout(result)?)?, spec)
    }
}

/// Makes the type: its runtime data goes into a new hidden module (see
/// `typedata`), which `PyType_FromModuleAndSpec` (or `PyType_FromMetaclass`)
/// attaches to it. The member array and, from 3.11, the name are copied by
/// CPython and freed here; the rest is freed with the module.
///
/// # Safety
/// GIL held; `t` is a finished translation (its slots end with the
/// sentinel).
unsafe fn create(
    name: &CStr,
    itemsize: c_int,
    mut t: Translation,
    params: &Params,
) -> Option<*mut ffi::PyObject> {
    // SAFETY: GIL held; the module made from `DATA_DEF` has room for a
    // `TypeData` state, which its `m_free` drops (written before anything
    // can fail); the spec's slots are a finished translation.
    unsafe {
        // Before 3.11 `tp_name` is `spec.name`: the type's data keeps this
        // copy (the extension's may be temporary); later versions copy it.
        let name = CString::from(name);
        #[cfg(not(Py_3_11))]
        let name_ptr = {
            t.data.spec.name = name.into_raw();
            t.data.spec.name
        };
        #[cfg(Py_3_11)]
        let name_ptr = name.as_ptr();
        let module = ffi::PyModule_Create2(addr_of_mut!(DATA_DEF), ffi::PYTHON_API_VERSION);
        if module.is_null() {
            return None;
        }
        let state = ffi::PyModule_GetState(module).cast::<TypeData>();
        state.write(t.data);
        // `type_data` reads the def and state at `ModuleHead`'s offsets.
        let head = module.cast::<ModuleHead>();
        if (*head).md_def != addr_of_mut!(DATA_DEF) || (*head).md_state != state.cast() {
            ffi::Py_DECREF(module);
            raise(
                ffi::PyExc_SystemError,
                "HPyType_FromSpec: unexpected layout of module objects",
            );
            return None;
        }

        #[cfg(not(Py_3_9))]
        let py38 = super::compat::Py38Extras::take(&mut t.slots, &mut t.flags);
        let mut pyspec = ffi::PyType_Spec {
            name: name_ptr,
            basicsize: t.basicsize as c_int,
            itemsize,
            flags: t.flags as c_uint,
            slots: t.slots.as_mut_ptr(),
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
        #[cfg(not(Py_3_9))]
        py38.apply(result.cast());
        // Read once here (the bases are alive), so that allocation and
        // deallocation are straight-line.
        let tp = result.cast::<ffi::PyTypeObject>();
        if let Some(own) = type_data(tp).as_mut() {
            own.alloc = Alloc::of(tp, own);
            own.teardown = Teardown::of(tp);
        }
        Some(result)
    }
}
