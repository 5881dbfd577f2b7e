//! The generated wrappers: one per context function, expanded from the
//! context declaration. Each checks that its context may be used now (see
//! `ctx.rs`); parameters go through [`DebugArg`] (debug handles and builders
//! are unwrapped, everything else passes through) and results through
//! [`DebugRet`] (inner handles and builders are wrapped in new debug ones).
//!
//! Members that need more (arrays and out-parameters of handles, `Close`,
//! trackers, type specs, raw data, argument checks, builder consumption, the
//! trampoline dispatch) are shadowed by `special.rs`, `builders.rs` and
//! `trampoline.rs`; their generated versions here are unused.

#![allow(dead_code, clippy::missing_safety_doc)]

use crate::site::Site;
use crate::{builders, handles};
use hpy_sys::*;

/// How a parameter of a context function crosses from the debug context to
/// the inner one.
pub(crate) trait DebugArg: Copy {
    /// The parameter points to memory the function reads (a `const`
    /// pointer: possibly raw data we handed out, which must be protected
    /// first if its handle was closed, see `handles/queue.rs`).
    const READS_MEMORY: bool = false;

    /// The value the inner function gets for argument `at` (checked
    /// against [`Site`]'s NULL tables where that applies).
    ///
    /// # Safety
    /// GIL held.
    #[inline(always)]
    unsafe fn to_inner(self, at: &'static Site) -> Self {
        let _ = at;
        self
    }

    /// [`DebugArg::to_inner`] when no check fails, without calling
    /// anything; None where `to_inner` may have to report (the wrapper
    /// then takes its slow path, which does).
    ///
    /// # Safety
    /// GIL held.
    #[inline(always)]
    unsafe fn try_inner(self, at: &'static Site) -> Option<Self> {
        let _ = at;
        Some(self)
    }
}

/// How a result crosses back from the inner context.
pub(crate) trait DebugRet: Sized {
    fn to_debug(self) -> Self {
        self
    }
}

impl DebugArg for HPy {
    #[inline(always)]
    unsafe fn to_inner(self, at: &'static Site) -> Self {
        // SAFETY: forwarded contract.
        unsafe { handles::unwrap(self, at) }
    }
    #[inline(always)]
    unsafe fn try_inner(self, _at: &'static Site) -> Option<Self> {
        handles::try_unwrap(self)
    }
}

impl DebugRet for HPy {
    #[inline(always)]
    fn to_debug(self) -> Self {
        handles::wrap(self)
    }
}

impl DebugArg for HPyTupleBuilder {
    #[inline(always)]
    unsafe fn to_inner(self, at: &'static Site) -> Self {
        // SAFETY: forwarded contract.
        let inner = unsafe { builders::unwrap(self._tup, at) };
        HPyTupleBuilder { _tup: inner }
    }
    #[inline(always)]
    unsafe fn try_inner(self, _at: &'static Site) -> Option<Self> {
        builders::try_unwrap(self._tup).map(|inner| HPyTupleBuilder { _tup: inner })
    }
}

impl DebugRet for HPyTupleBuilder {
    fn to_debug(self) -> Self {
        HPyTupleBuilder {
            _tup: builders::open(self._tup),
        }
    }
}

impl DebugArg for HPyListBuilder {
    #[inline(always)]
    unsafe fn to_inner(self, at: &'static Site) -> Self {
        // SAFETY: forwarded contract.
        let inner = unsafe { builders::unwrap(self._lst, at) };
        HPyListBuilder { _lst: inner }
    }
    #[inline(always)]
    unsafe fn try_inner(self, _at: &'static Site) -> Option<Self> {
        builders::try_unwrap(self._lst).map(|inner| HPyListBuilder { _lst: inner })
    }
}

impl DebugRet for HPyListBuilder {
    fn to_debug(self) -> Self {
        HPyListBuilder {
            _lst: builders::open(self._lst),
        }
    }
}

macro_rules! pass_through {
    ($($t:ty),* $(,)?) => { $( impl DebugArg for $t {} impl DebugRet for $t {} )* };
}

// Aliases (`HPy_ssize_t`, `HPyFunc_Signature`, `_HPyCapsule_key`, ...) are
// covered by their underlying integer types.
pass_through!(
    (),
    bool,
    i32,
    u32,
    i64,
    u64,
    isize,
    usize,
    f64,
    HPyField,
    HPyGlobal,
    HPyTracker,
    HPyThreadState,
    HPyCFunction,
);

impl<T> DebugArg for *mut T {}
impl<T> DebugRet for *mut T {}
impl<T> DebugArg for *const T {
    const READS_MEMORY: bool = true;

    #[inline(always)]
    unsafe fn to_inner(self, at: &'static Site) -> Self {
        if at.string_required && self.is_null() {
            handles::null_string(at);
        }
        self
    }
    #[inline(always)]
    unsafe fn try_inner(self, at: &'static Site) -> Option<Self> {
        (!(at.string_required && self.is_null())).then_some(self)
    }
}
impl<T> DebugRet for *const T {}

/// Each wrapper has a fast path that calls nothing before the inner
/// function (the context usable with one compare, every argument valid:
/// see [`crate::ctx::try_enter`], [`DebugArg::try_inner`]), so it keeps
/// almost nothing in callee-saved registers; anything else goes to its
/// twin in `slow`, which checks again and reports.
macro_rules! wrappers {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
        $(
            /// Debug wrapper: checks the context, unwraps handle arguments,
            /// calls the inner context, wraps a handle result.
            pub unsafe extern "C" fn $name(dctx: *mut HPyContext, $($p: $t),*) -> $ret {
                // SAFETY: called by an extension through the debug context
                // with the GIL held; the inner context is fully initialised,
                // and its member gets the same arguments with handles
                // translated.
                unsafe {
                    if let Some(busy) = crate::ctx::try_enter(dctx) {
                        #[allow(unused_labels)] // members without arguments
                        let args = 'ok: {
                            Some(($(
                                match DebugArg::try_inner($p, crate::site::site!($name, $p)) {
                                    Some(v) => v,
                                    None => break 'ok None,
                                },
                            )*))
                        };
                        if let Some(($($p,)*)) = args {
                            if false $(|| <$t as DebugArg>::READS_MEMORY)* {
                                handles::flush_raw_data();
                            }
                            let inner = busy.inner();
                            let f = (*inner).$name.unwrap_unchecked();
                            return DebugRet::to_debug(f(inner, $($p),*));
                        }
                        drop(busy);
                    }
                    slow::$name(dctx, $($p),*)
                }
            }
        )*

        /// The wrappers off their fast path: every check, and its report.
        mod slow {
            use super::*;
            $(
                #[cold]
                #[inline(never)]
                pub(super) unsafe fn $name(dctx: *mut HPyContext, $($p: $t),*) -> $ret {
                    let busy = crate::ctx::enter(dctx, crate::site::site!($name));
                    if false $(|| <$t as DebugArg>::READS_MEMORY)* {
                        handles::flush_raw_data();
                    }
                    // SAFETY: as in the fast path.
                    unsafe {
                        $( let $p = DebugArg::to_inner($p, crate::site::site!($name, $p)); )*
                        let inner = busy.inner();
                        let f = (*inner).$name.unwrap_unchecked();
                        DebugRet::to_debug(f(inner, $($p),*))
                    }
                }
            )*
        }
    };
}

hpy_sys::for_each_ctx_function!(wrappers);
