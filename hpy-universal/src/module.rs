//! Module creation for universal binaries. The conversion of an
//! `HPyModuleDef` lives in `hpy-cpython` (`hpy_cpython::module`), shared with
//! the static runtime of CPython-ABI extensions; `loader.rs` calls it here.

pub use hpy_cpython::defs::{method_def, method_flags, null_terminated};
pub use hpy_cpython::module::create_module;
