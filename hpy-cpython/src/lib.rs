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

/// `format!` into a `String`, as alloc's, but written here: alloc's own
/// (`alloc::fmt::format`) comes compiled for unwinding, and would bring the
/// unwinder (`libgcc_s`) into extensions built with panic=abort. Defined
/// before the modules, so it is the `format!` they see.
macro_rules! format {
    ($($arg:tt)*) => {
        $crate::format_string(::core::format_args!($($arg)*))
    };
}

/// The body of `format!` (not generic: one copy).
fn format_string(args: core::fmt::Arguments<'_>) -> alloc::string::String {
    let mut s = alloc::string::String::new();
    // Writing to a String fails only if a Display implementation does; the
    // text written so far is the best message left then.
    let _ = core::fmt::Write::write_fmt(&mut s, args);
    s
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
