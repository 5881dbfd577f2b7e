//! The Python faces of the two contexts, `hpy.debug._debug` and
//! `hpy.trace._trace`: HPy modules written with hpy-core, as upstream writes
//! its own in HPy. Each exports the entry points of any HPy module
//! (`HPyInit__debug`, `HPyInitGlobalContext__debug`, ...; upstream 0.9's
//! names and signatures), so a runtime that links this library creates them
//! like any extension, with its universal context: `hpy.universal` does.
//!
//! Their functions run in that universal context (the runtime's), not the
//! debug one: they read and change the debug and trace state, which is
//! process-wide.

mod debug_handle;
mod debug_module;
mod trace_module;

use hpy_core::{raw, HPyErr, HPyResult, Handle};
use pyo3_ffi as ffi;

/// A CPython reference we own (or NULL), released on drop: how the debug
/// and trace state keep callables (it holds `PyObject *`).
struct PyRef(*mut ffi::PyObject);

impl PyRef {
    const NULL: PyRef = PyRef(core::ptr::null_mut());

    /// The object of `h` (`HPy_AsPyObject`: the runtime's own object).
    fn of(h: &Handle<'_>) -> HPyResult<PyRef> {
        let ctx = h.context();
        // SAFETY: a live context and an open handle; AsPyObject returns a
        // new reference (NULL only with an exception set).
        let obj = unsafe { raw::ctx_AsPyObject(ctx.as_ptr(), h.raw()) };
        if obj.is_null() {
            return Err(HPyErr::pending());
        }
        Ok(PyRef(obj.cast()))
    }

    fn as_ptr(&self) -> *mut ffi::PyObject {
        self.0
    }
}

impl Drop for PyRef {
    fn drop(&mut self) {
        // SAFETY: only made and dropped in calls from Python (interpreter
        // lock held); the reference (or NULL) is ours.
        unsafe { ffi::Py_XDECREF(self.0) }
    }
}
