//! Raw bindings to the HPy universal ABI.
//!
//! Everything here is generated and committed (regenerate with `cargo xtask
//! gen`; `cargo xtask check` fails when stale): `bindings.rs` by bindgen from
//! our C headers (`include/hpy.h`), and `generated/` by xtask from the
//! declarations: the context X-macros (`for_each_ctx_function!`, ...) from
//! `include/hpy/context.h`, the calling-convention X-macro
//! (`for_each_hpyfunc!`) from `hpyfunc.txt`, and the layout asserts from
//! `abi/*.tsv` (with their C probe, which build.rs compiles). Names are the C
//! names, verbatim.
//!
//! # Safety
//! These are C declarations. Every function pointer in [`HPyContext`] must be
//! called with the context it was read from, with handles that are open in that
//! context, and with pointers valid for the C signature's documented use.

#![no_std]
#![allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code
)]
#![allow(clippy::all, clippy::undocumented_unsafe_blocks)]

mod bindings;
pub use bindings::*;

include!("generated/ctx_members.rs");
include!("generated/hpyfunc.rs");

// after the X-macros, which it expands (textual scope)
pub mod call;

pub mod direct;

/// The null handle (`HPy_NULL`).
pub const HPy_NULL: HPy = HPy { _i: 0 };

impl HPy {
    /// `HPy_IsNull`.
    #[inline(always)]
    pub const fn is_null(self) -> bool {
        self._i == 0
    }
}

/// Size of one field, for the layout asserts (works in `const` context).
const fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
    core::mem::size_of::<F>()
}

mod abi_asserts {
    #![allow(unused_imports)]
    use super::*;
    include!("generated/abi_asserts.rs");
}

extern "C" {
    fn hpy_sys_abi_probe_compiled() -> core::ffi::c_int;
}

/// Returns 1 when the C-side probe of the ABI tables was compiled and linked.
pub fn c_probe_linked() -> bool {
    // SAFETY: a C function with no arguments and no side effects, compiled
    // by build.rs from the probe of abi/*.tsv (generated/abi_probe.c).
    unsafe { hpy_sys_abi_probe_compiled() == 1 }
}
