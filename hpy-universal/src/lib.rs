//! `hpy.universal` on CPython: the universal context table, the trampoline
//! dispatcher and the loader of universal binaries.
//!
//! The logic lives in this rlib; the cdylib build of the same crate is the
//! Python extension module (`PyInit_universal`). Its submodules `_debug` and
//! `_trace` are the Python faces of hpy-debug's debug and trace contexts:
//! HPy modules of hpy-debug, created here with the universal context.

#![allow(non_upper_case_globals, non_snake_case, unused_braces)]

pub mod context;
pub mod loader;
pub mod module;
pub mod trampoline;
mod util;

pub use context::universal_ctx;

use hpy_sys::{HPyContext, HPyModuleDef};
use pyo3_ffi as ffi;
use std::ffi::{c_char, c_int, CStr};
use std::ptr::null_mut;

/// Version reported by `get_version()`: the HPy API level we implement and
/// our own revision.
pub const VERSION: &str = "0.9.0";
pub const GIT_REVISION: &str = match option_env!("HPY_RS_GIT_REVISION") {
    Some(r) => r,
    None => "hpy-rs",
};

unsafe extern "C" fn get_version(
    _self: *mut ffi::PyObject,
    _args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held; "ss" with two NUL-terminated strings.
    unsafe {
        let v = std::ffi::CString::new(VERSION).unwrap();
        let r = std::ffi::CString::new(GIT_REVISION).unwrap();
        ffi::Py_BuildValue(c"(ss)".as_ptr(), v.as_ptr(), r.as_ptr())
    }
}

const DOC: &std::ffi::CStr =
    c"hpy-rs: the HPy universal ABI on CPython. load() imports a .hpy0.so binary.";

static mut METHODS: [ffi::PyMethodDef; 4] = [
    ffi::PyMethodDef {
        ml_name: c"load".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunctionWithKeywords: loader::load },
        ml_flags: ffi::METH_VARARGS | ffi::METH_KEYWORDS,
        ml_doc: c"load(name, path, spec, debug=False, mode=-1)\n--\n\nLoad the HPy universal binary at path as module name.".as_ptr(),
    },
    ffi::PyMethodDef {
        ml_name: c"_load_bootstrap".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunctionWithKeywords: loader::load_bootstrap },
        ml_flags: ffi::METH_VARARGS | ffi::METH_KEYWORDS,
        ml_doc: c"Internal: used by the .py stubs next to universal binaries.".as_ptr(),
    },
    ffi::PyMethodDef {
        ml_name: c"get_version".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: get_version },
        ml_flags: ffi::METH_NOARGS,
        ml_doc: c"Return (version, git_revision).".as_ptr(),
    },
    ffi::PyMethodDef::zeroed(),
];

static mut MODULE_DEF: ffi::PyModuleDef = util::module_def(c"hpy.universal", Some(DOC));

/// Runs `hpy._upstream_guard.check()`, which raises ImportError when upstream
/// HPy's distribution `hpy` shares the `hpy` import package with ours (their
/// files would mix). Skipped when that module cannot be found: the crate is
/// then used outside an installed hpy-rs (hpy-props' tests). -1 with an
/// exception set, else 0.
///
/// # Safety
/// GIL held.
unsafe fn refuse_upstream_hpy() -> c_int {
    // SAFETY: GIL held; every new reference is released once.
    unsafe {
        let guard = ffi::PyImport_ImportModule(c"hpy._upstream_guard".as_ptr());
        if guard.is_null() {
            if ffi::PyErr_ExceptionMatches(ffi::PyExc_ModuleNotFoundError) != 0 {
                ffi::PyErr_Clear();
                return 0;
            }
            return -1;
        }
        let check = ffi::PyObject_GetAttrString(guard, c"check".as_ptr());
        ffi::Py_DECREF(guard);
        if check.is_null() {
            return -1;
        }
        let r = ffi::PyObject_CallObject(check, null_mut());
        ffi::Py_DECREF(check);
        if r.is_null() {
            return -1;
        }
        ffi::Py_DECREF(r);
        0
    }
}

// The entry points of hpy-debug's HPy modules `_debug` and `_trace`
// (`hpy-debug/src/py/`), with upstream 0.9's signatures.
extern "C" {
    fn HPyInitGlobalContext__debug(ctx: *mut HPyContext);
    fn HPyInit__debug() -> *mut HPyModuleDef;
    fn HPyInitGlobalContext__trace(ctx: *mut HPyContext);
    fn HPyInit__trace() -> *mut HPyModuleDef;
}

/// Adds `m.<attr>`: the HPy module named `name` that `init` defines, made
/// with the universal context, as the loader makes an extension's (and
/// upstream's `hpy.universal` its `_debug` and `_trace`). -1 with an
/// exception set, else 0.
///
/// # Safety
/// GIL held; `init_ctx` and `init` are one HPy module's entry points.
unsafe fn add_submodule(
    m: *mut ffi::PyObject,
    attr: &CStr,
    name: &CStr,
    init_ctx: unsafe extern "C" fn(*mut HPyContext),
    init: unsafe extern "C" fn() -> *mut HPyModuleDef,
) -> c_int {
    // SAFETY: GIL held; the entry points are called in the loader's order
    // (context first); `init` returns a definition that lives forever (a
    // static of hpy-debug); every new reference is released once.
    unsafe {
        init_ctx(universal_ctx());
        let def = init();
        let machinery = ffi::PyImport_ImportModule(c"importlib.machinery".as_ptr());
        if def.is_null() || machinery.is_null() {
            if def.is_null() {
                util::raise(
                    ffi::PyExc_SystemError,
                    "an HPy module of hpy-debug has no definition",
                );
            }
            ffi::Py_XDECREF(machinery);
            return -1;
        }
        let spec = ffi::PyObject_CallMethod(
            machinery,
            c"ModuleSpec".as_ptr(),
            c"sO".as_ptr(),
            name.as_ptr(),
            ffi::Py_None(),
        );
        ffi::Py_DECREF(machinery);
        if spec.is_null() {
            return -1;
        }
        let sub: *mut ffi::PyObject = module::create_module(&*def, spec.cast()).cast();
        ffi::Py_DECREF(spec);
        if sub.is_null() || ffi::PyModule_AddObject(m, attr.as_ptr(), sub) < 0 {
            ffi::Py_XDECREF(sub);
            return -1;
        }
        0
    }
}

/// # Safety
/// Called by CPython's import machinery with the GIL held.
#[no_mangle]
pub unsafe extern "C" fn PyInit_universal() -> *mut ffi::PyObject {
    // SAFETY: CPython calls module init once per import with the GIL held;
    // the statics are only touched here, before CPython reads them.
    unsafe {
        if refuse_upstream_hpy() < 0 {
            return null_mut();
        }
        let m = util::create_module(&raw mut MODULE_DEF, (&raw mut METHODS).cast());
        if m.is_null() {
            return null_mut();
        }
        for (i, name) in loader::MODE_NAMES.iter().enumerate() {
            let n = std::ffi::CString::new(*name).unwrap();
            if ffi::PyModule_AddIntConstant(m, n.as_ptr() as *const c_char, i as std::ffi::c_long)
                < 0
            {
                ffi::Py_DECREF(m);
                return null_mut();
            }
        }
        // Build the context now so that a broken table fails the import,
        // not the first extension load. `_context` holds it, for C programs
        // that wrap it with the debug library (hpy_debug.h): once
        // hpy.universal is imported, PyCapsule_Import("hpy.universal._context", 0).
        let cap = ffi::PyCapsule_New(
            universal_ctx().cast(),
            c"hpy.universal._context".as_ptr(),
            None,
        );
        if cap.is_null() || ffi::PyModule_AddObject(m, c"_context".as_ptr(), cap) < 0 {
            ffi::Py_XDECREF(cap);
            ffi::Py_DECREF(m);
            return null_mut();
        }
        if add_submodule(
            m,
            c"_debug",
            c"hpy.debug._debug",
            HPyInitGlobalContext__debug,
            HPyInit__debug,
        ) < 0
            || add_submodule(
                m,
                c"_trace",
                c"hpy.trace._trace",
                HPyInitGlobalContext__trace,
                HPyInit__trace,
            ) < 0
        {
            ffi::Py_DECREF(m);
            return null_mut();
        }
        m
    }
}
