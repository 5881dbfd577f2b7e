//! Globals, context variables, compiling and evaluating code, releasing the
//! GIL, and the type queries that need no type machinery.

use crate::ffi;
use crate::handle::{as_obj, from_owned, raise};
use core::ffi::{c_char, c_int, CStr};
use hpy_sys::{HPy, HPyContext, HPyGlobal, HPyThreadState, HPy_SourceKind};

// SAFETY (whole module): every function is a context member, called by C with
// the GIL held (except `ctx_ReenterPythonExecution`, which takes it back),
// with open handles (or HPy_NULL where the API allows it), NUL-terminated C
// strings and valid out-pointers.

// ---- globals: `_i` holds an owned reference, like a handle ----

/// Stores a new reference to `h` in `*global` and releases the old value.
pub unsafe extern "C" fn ctx_Global_Store(_ctx: *mut HPyContext, global: *mut HPyGlobal, h: HPy) {
    let o = as_obj(h);
    // SAFETY: see module comment; `global` points to the extension's static.
    // The old value is released last, so code its finaliser runs sees the
    // new value.
    unsafe {
        ffi::Py_XINCREF(o);
        let old = core::mem::replace(&mut (*global)._i, o as isize);
        ffi::Py_XDECREF(old as *mut ffi::PyObject);
    }
}

/// A new handle to the stored object (HPy_NULL if nothing was stored).
pub unsafe extern "C" fn ctx_Global_Load(_ctx: *mut HPyContext, global: HPyGlobal) -> HPy {
    // SAFETY: see module comment; the global owns a reference.
    unsafe { crate::handle::from_borrowed(global._i as *mut ffi::PyObject) }
}

// ---- context variables ----

pub unsafe extern "C" fn ctx_ContextVar_New(
    _ctx: *mut HPyContext,
    name: *const c_char,
    default_value: HPy,
) -> HPy {
    // SAFETY: see module comment; the default may be NULL.
    from_owned(unsafe { ffi::PyContextVar_New(name, as_obj(default_value)) })
}

/// 0 with `*result` a new handle (HPy_NULL when there is neither a value nor
/// a default), or -1 with `*result` HPy_NULL and an exception set.
pub unsafe extern "C" fn ctx_ContextVar_Get(
    _ctx: *mut HPyContext,
    context_var: HPy,
    default_value: HPy,
    result: *mut HPy,
) -> i32 {
    let mut value: *mut ffi::PyObject = core::ptr::null_mut();
    // SAFETY: see module comment; CPython type-checks the variable.
    let rc =
        unsafe { ffi::PyContextVar_Get(as_obj(context_var), as_obj(default_value), &mut value) };
    if rc < 0 {
        value = core::ptr::null_mut();
    }
    // SAFETY: `result` is valid for writes (module comment).
    unsafe { *result = from_owned(value) };
    rc
}

/// Returns the token for `ContextVar.reset`.
pub unsafe extern "C" fn ctx_ContextVar_Set(
    _ctx: *mut HPyContext,
    context_var: HPy,
    value: HPy,
) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyContextVar_Set(as_obj(context_var), as_obj(value)) })
}

// ---- code ----

pub unsafe extern "C" fn ctx_Compile_s(
    _ctx: *mut HPyContext,
    utf8_source: *const c_char,
    utf8_filename: *const c_char,
    kind: HPy_SourceKind,
) -> HPy {
    let start = match kind {
        hpy_sys::HPy_SourceKind_Expr => ffi::Py_eval_input,
        hpy_sys::HPy_SourceKind_File => ffi::Py_file_input,
        hpy_sys::HPy_SourceKind_Single => ffi::Py_single_input,
        _ => {
            // SAFETY: GIL held.
            unsafe { raise(ffi::PyExc_SystemError, "invalid source kind") };
            return HPy { _i: 0 };
        }
    };
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::Py_CompileString(utf8_source, utf8_filename, start) })
}

/// Runs `code` with `globals` (a dict) and `locals` (any mapping; HPy_NULL
/// means `globals`).
pub unsafe extern "C" fn ctx_EvalCode(
    _ctx: *mut HPyContext,
    code: HPy,
    globals: HPy,
    locals: HPy,
) -> HPy {
    let (c, g, mut l) = (as_obj(code), as_obj(globals), as_obj(locals));
    // SAFETY: see module comment. PyEval_EvalCode only asserts its argument
    // types, so they are checked here.
    unsafe {
        if c.is_null() || ffi::PyCode_Check(c) == 0 {
            raise(
                ffi::PyExc_TypeError,
                "HPy_EvalCode: code must be a code object",
            );
            return HPy { _i: 0 };
        }
        if g.is_null() || ffi::PyDict_Check(g) == 0 {
            raise(ffi::PyExc_TypeError, "HPy_EvalCode: globals must be a dict");
            return HPy { _i: 0 };
        }
        if l.is_null() {
            l = g;
        } else if ffi::PyMapping_Check(l) == 0 {
            raise(
                ffi::PyExc_TypeError,
                "HPy_EvalCode: locals must be a mapping",
            );
            return HPy { _i: 0 };
        }
        from_owned(ffi::PyEval_EvalCode(c, g, l))
    }
}

// ---- the GIL ----

/// Releases the GIL; the token is CPython's thread state.
pub unsafe extern "C" fn ctx_LeavePythonExecution(_ctx: *mut HPyContext) -> HPyThreadState {
    // SAFETY: the extension calls this with the GIL held (HPy's contract for
    // every context call); PyEval_SaveThread releases it and returns the
    // thread state that ReenterPythonExecution gives back.
    let tstate = unsafe { ffi::PyEval_SaveThread() };
    HPyThreadState {
        _i: tstate as isize,
    }
}

pub unsafe extern "C" fn ctx_ReenterPythonExecution(_ctx: *mut HPyContext, state: HPyThreadState) {
    // SAFETY: `state` comes from `ctx_LeavePythonExecution` on this thread.
    unsafe { ffi::PyEval_RestoreThread(state._i as *mut ffi::PyThreadState) }
}

// ---- types ----

/// `type.__name__` as UTF-8, valid while the type is alive; NULL with
/// TypeError if `type` is not a type.
pub unsafe extern "C" fn ctx_Type_GetName(_ctx: *mut HPyContext, type_: HPy) -> *const c_char {
    let t = as_obj(type_);
    // SAFETY: see module comment.
    unsafe {
        if t.is_null() || ffi::PyType_Check(t) == 0 {
            raise(
                ffi::PyExc_TypeError,
                "HPyType_GetName: argument must be a type",
            );
            return core::ptr::null();
        }
        let tp = t.cast::<ffi::PyTypeObject>();
        if ffi::PyType_HasFeature(tp, ffi::Py_TPFLAGS_HEAPTYPE) != 0 {
            // A heap type's `__name__` lives in `ht_name`; the UTF-8 buffer is
            // cached in the str, which the type keeps alive.
            return ffi::PyUnicode_AsUTF8((*t.cast::<ffi::PyHeapTypeObject>()).ht_name);
        }
        // A static type's `__name__` is `tp_name` after its last dot.
        let full = (*tp).tp_name;
        let bytes = CStr::from_ptr(full).to_bytes();
        match bytes.iter().rposition(|&b| b == b'.') {
            Some(dot) => full.add(dot + 1),
            None => full,
        }
    }
}

/// Nonzero if `sub` is `type` or a true subtype of it (no
/// `__subclasscheck__`); 0 if either is not a type. Never fails.
pub unsafe extern "C" fn ctx_Type_IsSubtype(_ctx: *mut HPyContext, sub: HPy, type_: HPy) -> c_int {
    let (s, t) = (as_obj(sub), as_obj(type_));
    // SAFETY: see module comment.
    unsafe {
        if s.is_null() || t.is_null() || ffi::PyType_Check(s) == 0 || ffi::PyType_Check(t) == 0 {
            return 0;
        }
        ffi::PyType_IsSubtype(s.cast(), t.cast())
    }
}
