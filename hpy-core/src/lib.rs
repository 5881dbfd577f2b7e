//! Safe Rust API over HPy (owned handles that close on drop, `HPyResult`, builders).
//! The façade lands with the Rust-extension issue; this crate fixes its place in the layering.
pub use hpy_sys as sys;
