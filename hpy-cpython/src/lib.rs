//! Every HPy context function, implemented over CPython's C API (`pyo3-ffi`).
//!
//! Each `ctx_*` function here has exactly the C signature of its context
//! member; `hpy-universal` puts them into the universal context table, and a
//! missing one is a compile error there. On CPython a universal handle *is*
//! the `PyObject *` it refers to (see `handle`), so most functions are a single
//! CPython call. Every one of the 189 members is implemented; the universal
//! table in hpy-universal would not compile otherwise.

#![allow(non_snake_case)]

mod builders;
mod capsule;
pub mod compat;
pub mod constants;
pub mod context;
#[doc(hidden)]
pub mod embed;
mod containers;
mod err;
mod handle;
mod misc;
pub mod module;
mod number;
mod object;
mod types;
pub mod defs;
mod scalar;
mod text;
mod unicode;

pub use builders::*;
pub use capsule::*;
pub use containers::*;
pub use err::*;
pub use handle::{as_obj, ErrorValue, from_owned, from_borrowed};
pub use misc::*;
pub use number::*;
pub use object::*;
pub use types::*;
pub use scalar::*;
pub use text::*;
pub use unicode::*;

pub use hpy_sys as sys;
pub use pyo3_ffi as ffi;
