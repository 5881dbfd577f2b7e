//! Write HPy extensions in safe Rust.
//!
//! ```ignore
//! use hpy_core::prelude::*;
//!
//! /// Add two integers.
//! #[hpy_def]
//! fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! #[hpy_module]
//! mod demo {
//!     pub use super::add;
//! }
//! ```
//!
//! One source builds either ABI, chosen at build time: the **universal** ABI
//! (the default: `demo.hpy0.so`, one binary for every Python that implements
//! HPy, every call through the context the loader hands over, so it also
//! runs in HPy's debug and trace modes) or the **CPython** ABI (feature
//! `cpython-abi`: an ordinary `demo.cpython-3XY-….so` that calls CPython
//! directly). `python -m hpy.devel.rust build` and `pip install CRATE_DIR`
//! build them.
//!
//! The pieces: a [`Context`] proves the thread may use the API; a
//! [`Handle`] owns one reference and closes it on drop, and arguments arrive
//! as `&Handle` (borrowed for the call); every fallible call returns
//! [`HPyResult`], whose [`HPyErr`] is raised when it reaches Python (built-in
//! exceptions in [`exc`], your own with [`create_exception!`]); [`IntoHPy`]
//! and [`FromHPy`] convert Rust values; `#[hpy_def]` types keep references in
//! [`Field`]s and modules in [`Global`]s. Each wrapper names the C function
//! it wraps as a doc alias, so searching for `HPy_GetItem` finds
//! [`Handle::get_item`].

pub use hpy_macros::{hpy_def, hpy_module};
pub use hpy_sys as sys;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod builders;
mod class;
mod context;
mod convert;
#[cfg(feature = "cpython-abi")]
mod cpython;
mod err;
pub mod exc;
mod field;
mod global;
mod hand;
mod handle;
mod module;
mod number;
mod object;
mod parse;
pub mod raw;
#[doc(hidden)]
pub mod trampolines;

pub use builders::{new_dict, new_list, tuple_from, ListBuilder, Tracker, TupleBuilder};
pub use class::{new_object, new_object_of, type_object, HPyClass};
pub use context::Context;
pub use convert::{Bytes, FromHPy, FromHPyRef, FromHPyRefMut, IntoHPy};
pub use err::{HPyErr, HPyResult};
pub use field::Field;
pub use global::Global;
pub use handle::Handle;
pub use object::{CallArgs, CompareOp, ItemKey, Iter};

/// `use hpy_core::prelude::*;` brings what extension code names most.
pub mod prelude {
    pub use crate::exc;
    pub use crate::{
        create_exception, hpy_def, hpy_module, Bytes, CompareOp, Context, Field, FromHPy, Global,
        HPyErr, HPyResult, Handle, IntoHPy,
    };
}

/// The entry points of the universal ABI, for `#[hpy_module]`: the four
/// symbols the loader looks up.
#[cfg(not(feature = "cpython-abi"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_module {
    ($name:ident, $def:ident) => {
        #[unsafe(export_name = concat!("HPyInit_", stringify!($name)))]
        extern "C" fn __hpy_init() -> *mut $crate::sys::HPyModuleDef {
            $crate::__private::module_init(&$def)
        }
        #[unsafe(export_name = concat!("HPyInitGlobalContext_", stringify!($name)))]
        extern "C" fn __hpy_init_global_context(ctx: *mut $crate::sys::HPyContext) {
            $crate::__private::set_trampoline_context(ctx)
        }
        #[unsafe(export_name = concat!("get_required_hpy_major_version_", stringify!($name)))]
        extern "C" fn __hpy_major_version() -> u32 {
            $crate::__private::ABI_VERSION
        }
        #[unsafe(export_name = concat!("get_required_hpy_minor_version_", stringify!($name)))]
        extern "C" fn __hpy_minor_version() -> u32 {
            $crate::__private::ABI_VERSION_MINOR
        }
    };
}

/// The entry point of the CPython ABI, for `#[hpy_module]`: `PyInit_<name>`.
#[cfg(feature = "cpython-abi")]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_module {
    ($name:ident, $def:ident) => {
        #[unsafe(export_name = concat!("PyInit_", stringify!($name)))]
        extern "C" fn __hpy_pyinit() -> *mut $crate::__private::PyObject {
            $crate::__private::py_init(&$def, concat!(stringify!($name), "\0"))
        }
    };
}
