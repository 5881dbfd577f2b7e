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
//! `HPy_tp_traverse` and `HPy_tp_destroy` impls, the default call
//! trampoline, and what CPython keeps pointers to from the spec (method and
//! getset arrays, the name on old versions; `typedata::SpecStorage`). It
//! lives in the *module state* of a small hidden module object
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
//!
//! # Files
//! - `typedata`: the per-type runtime data and the object layout it implies
//!   (headers, payloads, the vectorcall slot of instances).
//! - `create`: `HPyType_FromSpec`, as a list of named steps over `check`
//!   (what a spec may not say, upstream's messages) and `translate` (HPy
//!   slots and definitions into a CPython `PyType_Spec`).
//! - `compat`: type creation on older CPythons (3.8, and metaclasses
//!   before 3.12).
//! - `instances`: `HPy_New`, `*_AsStruct`, the call protocol, and the slot
//!   functions the runtime installs (`tp_dealloc`, `tp_clear`, `tp_new`).
//! - `fields`: `HPyField`s, the members that hold them, and traversal.

#![allow(non_upper_case_globals)]

// SAFETY (whole module and its files): context members are called by C with
// the GIL held and with open handles (valid `PyObject *`s); the slot functions
// defined here are called by CPython with the GIL held and a valid object of
// the type they were installed on; specs and defines are the extension's
// static data.

mod check;
mod compat;
mod create;
mod fields;
mod instances;
mod translate;
mod typedata;

pub use create::ctx_Type_FromSpec;
pub use fields::{call_traverse, ctx_Field_Load, ctx_Field_Store, traverse};
pub use instances::{
    ctx_AsStruct_Dict, ctx_AsStruct_Float, ctx_AsStruct_Legacy, ctx_AsStruct_List,
    ctx_AsStruct_Long, ctx_AsStruct_Object, ctx_AsStruct_Tuple, ctx_AsStruct_Type,
    ctx_AsStruct_Unicode, ctx_New, ctx_SetCallFunction, ctx_Type_GenericNew,
    ctx_Type_GetBuiltinShape,
};

use core::ffi::{c_char, CStr};
use hpy_sys::HPy;

const HPY_NULL: HPy = HPy { _i: 0 };

/// True if `p` is the name `s`.
fn cstr_eq(p: *const c_char, s: &CStr) -> bool {
    // SAFETY: `p` is NULL or a NUL-terminated name from a definition.
    !p.is_null() && unsafe { CStr::from_ptr(p) } == s
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
