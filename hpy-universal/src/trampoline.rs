//! `ctx_CallRealFunctionFromTrampoline`: the runtime half of every universal
//! trampoline (see `hpy-sys/abi/trampolines.md`), hpy-cpython's one dispatcher
//! with the free crossing (`Borrowed`: a universal handle is the object
//! pointer itself, argument arrays pass through uncopied, handles given to
//! `impl` are borrowed from the caller).

use hpy_cpython::context::CallRealFunctionFromTrampoline;
use hpy_cpython::trampoline::{call_real_function, Borrowed};

/// The universal context's dispatcher.
pub const ctx_CallRealFunctionFromTrampoline: CallRealFunctionFromTrampoline =
    call_real_function::<Borrowed>;
