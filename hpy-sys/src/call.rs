//! The call layer: one inline `unsafe` function per context member, under
//! its C name (`call::ctx_GetItem_i(ctx, h, i)`), calling through the
//! function table of the context it is given (universal, debug or trace:
//! whichever the loader passed). Expanded from [`for_each_ctx_function!`],
//! so every member of `hpy/context.h` is here and none is written by hand.
//!
//! `no_std` like the rest of this crate: the API helpers (a `no_std` static
//! library) call the API through it, and `hpy_core::raw` re-exports it for
//! the universal ABI, so both share this one expansion.

#![allow(non_snake_case)]

use crate::*;

/// A member the running context left empty (a runtime older than these
/// headers): a panic, which hpy-core's entry points turn into a Python
/// exception and the helper library's panic handler into an abort with the
/// message. One cold function without arguments for all members, so that
/// the compiler can send every empty member of a function to one call: a
/// call costs a test and a jump (the name of the member would cost a few
/// bytes more at each, several KB in an extension).
#[cold]
#[inline(never)]
pub fn missing_member() -> ! {
    panic!("the HPy runtime's context lacks a function this code calls (the runtime is older than the HPy headers the code was built with)")
}

macro_rules! table_calls {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {$(
        /// Calls the context member of the same name through the table.
        ///
        /// # Safety
        /// `ctx` is the live context of the current call and the arguments
        /// meet the member's contract (HPy's API documentation).
        #[inline(always)]
        pub unsafe fn $name(ctx: *mut HPyContext, $($p: $t),*) -> $ret {
            // SAFETY: `ctx` points to a live context (caller).
            match unsafe { (*ctx).$name } {
                // SAFETY: the member's contract is the caller's.
                Some(f) => unsafe { f(ctx, $($p),*) },
                None => missing_member(),
            }
        }
    )*};
}

for_each_ctx_function!(table_calls);

/// The index of the first context member that HPy 0.9.0's context lacks
/// (`h_DictType`, the first one upstream's master appended: see
/// `abi/context.tsv`). Every runtime that loads a universal module fills
/// the members before it: upstream's since 0.9.0, ours (a member without an
/// implementation does not compile), the debug and trace contexts.
pub const FIRST_MEMBER_AFTER_0_9_0: usize = 266;

const _: () = assert!(
    core::mem::offset_of!(HPyContext, h_DictType)
        == FIRST_MEMBER_AFTER_0_9_0 * core::mem::size_of::<*const ()>()
);

/// The same calls for code that only runs under a runtime that loaded it
/// (the helper library, linked into extensions): a member of HPy 0.9.0's
/// context is called without looking for an empty slot, as upstream's C
/// helpers call it (every such runtime fills it, see
/// [`FIRST_MEMBER_AFTER_0_9_0`]); a later member keeps the check. The test
/// is decided at compile time, so a helper cannot lose the check by calling
/// a newer member. Saves a test, a jump and its target at each of the
/// helpers' several hundred calls (some KB of an extension).
///
/// With the feature `cpython-direct` (which only the static runtime of
/// CPython-ABI extensions enables: hpy-cpython-abi's `direct-calls`) these
/// are instead direct calls of that runtime's exported functions,
/// `_HPyRs_cpy_ctx_<member>`: there the context is always the runtime's own
/// (an extension has no other), so the table holds exactly these functions,
/// and a direct call lets link-time optimisation inline them into the
/// helpers, as upstream's CPython-ABI helpers inline the CPython calls. A
/// build with the feature must not pass these calls any other context (a
/// universal, debug or trace one): the helpers of universal extensions are
/// a separate library, built without it.
#[cfg(not(feature = "cpython-direct"))]
pub mod loaded {
    use super::*;

    macro_rules! loaded_calls {
        ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {$(
            /// Calls the context member of the same name through the table
            /// (see the module's documentation).
            ///
            /// # Safety
            /// As for the checked call of the same name, and `ctx` is a
            /// context a runtime gave this module.
            #[inline(always)]
            pub unsafe fn $name(ctx: *mut HPyContext, $($p: $t),*) -> $ret {
                // SAFETY: `ctx` points to a live context (caller).
                let member = unsafe { (*ctx).$name };
                match member {
                    // SAFETY: the member's contract is the caller's.
                    Some(f) => unsafe { f(ctx, $($p),*) },
                    // SAFETY: a member of 0.9.0's context, which every
                    // runtime that loads a module fills (see
                    // FIRST_MEMBER_AFTER_0_9_0): never empty.
                    None if $idx < FIRST_MEMBER_AFTER_0_9_0 => unsafe {
                        core::hint::unreachable_unchecked()
                    },
                    None => missing_member(),
                }
            }
        )*};
    }

    for_each_ctx_function!(loaded_calls);
}

/// The calls of [`loaded`] in the static runtime of CPython-ABI extensions
/// (feature `cpython-direct`, see there): the runtime's own functions,
/// linked by name, the same exports that `hpy/cpython/autogen_api.h` calls.
#[cfg(feature = "cpython-direct")]
pub mod loaded {
    use super::*;

    macro_rules! direct_calls {
        ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
            extern "C" {$(
                /// The CPython-ABI runtime's function for the context
                /// member of the same name.
                ///
                /// # Safety
                /// As for the checked call of the same name; `ctx` is the
                /// runtime's context.
                #[link_name = concat!("_HPyRs_cpy_", stringify!($name))]
                pub fn $name(ctx: *mut HPyContext, $($p: $t),*) -> $ret;
            )*}
        };
    }

    for_each_ctx_function!(direct_calls);
}
