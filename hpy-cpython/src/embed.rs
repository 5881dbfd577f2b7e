//! Running Rust tests of the runtime crates over an embedded interpreter.

use crate::ffi;
use std::sync::Once;

/// Runs `f` with the GIL held, initialising an embedded interpreter the
/// first time (for tests of the crates above this one; an extension module
/// never calls it).
pub fn with_gil<R>(f: impl FnOnce() -> R) -> R {
    static INIT: Once = Once::new();
    // SAFETY: initialises the interpreter once and releases the GIL so any
    // test thread can take it below.
    INIT.call_once(|| unsafe {
        ffi::Py_InitializeEx(0);
        ffi::PyEval_SaveThread();
    });
    // SAFETY: the interpreter is initialised; Ensure/Release pair.
    unsafe {
        let g = ffi::PyGILState_Ensure();
        let r = f();
        ffi::PyGILState_Release(g);
        r
    }
}
