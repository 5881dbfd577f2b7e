//! Every HPy context function, implemented over CPython's C API (declared in `ffi`).
//!
//! Each `ctx_*` function here has exactly the C signature of its context
//! member; `hpy-universal` puts them into the universal context table, and a
//! missing one is a compile error there. On CPython a universal handle *is*
//! the `PyObject *` it refers to (see `handle`), so most functions are a single
//! CPython call. Every one of the 189 members is implemented; the universal
//! table in hpy-universal would not compile otherwise.

//!
//! `no_std` (with `alloc`): the static runtime of CPython-ABI extensions
//! (`hpy-cpython-abi`) is linked into every such extension, which should not
//! carry Rust's standard library; that crate brings the allocator and the
//! panic handler. Where std is linked anyway (hpy.universal, tests), it
//! provides both. Feature `std` only adds `embed`, the tests' interpreter.

#![no_std]
#![allow(non_snake_case)]
// Each `pub unsafe extern "C" fn ctx_*` has the contract of the HPy context
// member it implements (HPy's API documentation): a live context, handles
// open in it, pointers valid for the sizes given. Restating that in a
// `# Safety` section on 189 functions would say nothing more.
#![allow(clippy::missing_safety_doc)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// Raises `exc` with a message formatted by CPython (`PyErr_Format`, whose
/// conversions are `PyUnicode_FromFormat`'s: `%s` a UTF-8 C string, `%d`/`%u`
/// a C int, `%zd`/`%zu` a `Py_ssize_t`/`size_t`, `%U` a str object...): the
/// runtime's messages need no `core::fmt`, which would weigh more than all of
/// them in every extension. Each argument must have the C type of its
/// conversion (a variadic call converts nothing). Expands to an unsafe call:
/// GIL held, `exc` an exception type.
macro_rules! raise_format {
    ($exc:expr, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        let _ = $crate::ffi::PyErr_Format(
            $exc,
            ::core::concat!($fmt, "\0").as_ptr().cast(),
            $($arg),*
        );
    }};
}

mod builders;
mod capsule;
pub mod compat;
pub mod constants;
mod containers;
pub mod context;
pub mod defs;
#[cfg(feature = "std")]
#[doc(hidden)]
pub mod embed;
mod err;
pub mod ffi;
mod handle;
mod misc;
pub mod module;
mod number;
mod object;
mod scalar;
mod text;
pub mod trampoline;
mod types;
mod unicode;

pub use builders::*;
pub use capsule::*;
pub use containers::*;
pub use err::*;
pub use handle::{as_obj, from_borrowed, from_owned, ErrorValue};
pub use misc::*;
pub use number::*;
pub use object::*;
pub use scalar::*;
pub use text::*;
pub use types::*;
pub use unicode::*;

pub use hpy_sys as sys;
