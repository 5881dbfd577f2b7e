//! The part of CPython's C API this crate uses, declared here rather than
//! taken from a bindings crate: the runtime of CPython-ABI extensions is
//! `no_std`, and must stay free of anything that links Rust's standard
//! library. Names, types and layouts are CPython's (3.8 to 3.13, differences
//! behind the `Py_3_*` cfgs of `build.rs`).
//!
//! - `object`: the object, type and container structs, the slot function types;
//! - `defs`: what modules and type specs are made of, and the API's constants;
//! - `functions`: the exported functions and data, one `extern` block;
//! - `inline`: what CPython defines as macros or `static inline` functions.
//!
//! Every struct layout and constant is checked against the headers of the
//! interpreter being built for (`build.rs` compiles a probe from
//! `layout.txt`; its results are asserted in `layout`), so a wrong
//! declaration on any version is a compile error, not a crash.

#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case)]

mod defs;
mod functions;
mod inline;
mod layout;
mod object;

pub use defs::*;
pub use functions::*;
pub use inline::*;
pub use object::*;

/// C's `Py_ssize_t` (`ssize_t`).
pub type Py_ssize_t = isize;
/// C's `Py_hash_t`.
pub type Py_hash_t = isize;
/// A code point, as `PyUnicode_ReadChar` returns it.
pub type Py_UCS4 = u32;
/// C's `wchar_t`.
pub type wchar_t = libc::wchar_t;
