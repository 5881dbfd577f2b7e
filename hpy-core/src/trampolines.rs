//! The CPython-facing trampolines of Rust extensions, one generic function
//! per calling convention, expanded from `hpy_sys::for_each_hpyfunc_trampoline!`
//! (the one declaration of the conventions, `hpy-sys/hpyfunc.txt`).
//!
//! `#[hpy_def]` gives each implementation a marker type `T: Impl<F>`; the
//! trampoline `<CONVENTION>::trampoline::<T>` is what CPython calls. In the
//! universal ABI it packs its arguments into the convention's argument
//! block and hands them to the runtime (`ctx_CallRealFunctionFromTrampoline`,
//! so the debug and trace contexts see every call), except under hpy-rs's
//! own universal context, where it calls the implementation as the C
//! headers' trampolines do (`_HPY_RS_DIRECT_CONTEXT`); in the CPython ABI it
//! calls the implementation directly, which the compiler inlines.

#![allow(non_snake_case, clippy::missing_safety_doc)]

use crate::__private::SyncDef;
use hpy_sys::*;

/// An implementation function of type `F` (an `HPyFunc_*` pointer type),
/// known at compile time.
pub trait Impl<F> {
    const IMPL: F;
}

/// The argument block's `result`, or nothing for `void` conventions.
#[cfg(not(feature = "cpython-abi"))]
macro_rules! block_result {
    (void, $a:ident) => {
        ()
    };
    ($other:ident, $a:ident) => {
        $a.result
    };
}

/// Whether a convention may take the universal ABI's direct path: not
/// `HPy_mod_create`, whose result the runtime checks.
#[cfg(not(feature = "cpython-abi"))]
macro_rules! direct_allowed {
    (module) => {
        false
    };
    ($other:ident) => {
        true
    };
}

/// How the direct path reads what only CPython's layout says: the count of
/// a vectorcall and the arguments tuple of `tp_new`/`tp_init`.
#[cfg(feature = "cpython-abi")]
mod layout {
    pub use crate::cpython::{tuple_items, tuple_len};
    pub const ARGUMENTS_OFFSET: usize = hpy_cpython::ffi::PY_VECTORCALL_ARGUMENTS_OFFSET;
}

/// As the CPython ABI's, from what the mark of hpy-rs's universal context
/// promises (no CPython declarations in the universal ABI).
#[cfg(not(feature = "cpython-abi"))]
mod layout {
    pub use hpy_sys::direct::{tuple_items, tuple_len, ARGUMENTS_OFFSET};
}

/// One implementation argument, from the trampoline's parameters, where a
/// handle is the object pointer itself (the CPython ABI, and the universal
/// ABI's direct path).
macro_rules! direct_arg {
    (obj($f:ident)) => {
        HPy { _i: $f as isize }
    };
    (val($f:ident)) => {
        $f as _
    };
    (cast($f:ident)) => {
        $f as _
    };
    (array($f:ident, $n:ident)) => {
        $f as *const HPy
    };
    (kwarray($f:ident, $n:ident, $k:ident)) => {
        $f as *const HPy
    };
    (nargsf($f:ident)) => {
        ($f & !layout::ARGUMENTS_OFFSET) as _
    };
    (tuple_items($f:ident)) => {
        layout::tuple_items($f.cast()) as *const HPy
    };
    (tuple_len($f:ident)) => {
        layout::tuple_len($f.cast()) as _
    };
}

/// The trampoline's result from the implementation's (CPython ABI, and the
/// universal ABI's direct path).
macro_rules! direct_result {
    (obj, $r:ident) => {
        $r._i as *mut cpy_PyObject
    };
    (val, $r:ident) => {
        $r as _
    };
    (module, $r:ident) => {
        $r._i as *mut cpy_PyObject
    };
    (void, $r:ident) => {
        $r
    };
}

macro_rules! trampolines {
    ($(($name:ident, $sig:path, $impl_ty:ty, $args_ty:ty,
        ($($p:ident : $t:ty),*) -> $ret:ty, [$($stored:ident),*],
        ($($conv:ident($($f:ident),*)),*) -> $res:ident)),* $(,)?) => {$(
        pub mod $name {
            use super::*;

            /// What CPython calls.
            #[cfg(not(feature = "cpython-abi"))]
            #[allow(unused_variables)]
            pub unsafe extern "C" fn trampoline<T: Impl<$impl_ty>>($($p: $t),*) -> $ret {
                let ctx = crate::__private::trampoline_context();
                // SAFETY: the loader's context is live.
                if direct_allowed!($res) && unsafe { hpy_sys::direct::is_marked(ctx) } {
                    // SAFETY: under hpy-rs's universal context a handle is
                    // the object pointer, as in the CPython ABI, and the
                    // arguments are what CPython passes for `$sig`.
                    let r = unsafe {
                        match T::IMPL {
                            Some(f) => f(ctx, $(direct_arg!($conv($($f),*))),*),
                            None => core::hint::unreachable_unchecked(),
                        }
                    };
                    return direct_result!($res, r);
                }
                // SAFETY: the block is plain data (pointers and integers),
                // filled here field by field; the runtime reads the fields
                // this convention defines and writes `result`.
                let mut a: $args_ty = unsafe { core::mem::zeroed() };
                $( a.$stored = $stored as _; )*
                // SAFETY: the context the loader handed to this extension;
                // the block and the implementation match the convention
                // `$sig` (the table they are both generated from).
                unsafe {
                    let f: HPyCFunction = core::mem::transmute::<$impl_ty, HPyCFunction>(T::IMPL);
                    match (*ctx).ctx_CallRealFunctionFromTrampoline {
                        Some(call) => call(ctx, $sig, f, (&mut a as *mut $args_ty).cast()),
                        None => core::hint::unreachable_unchecked(),
                    }
                }
                block_result!($res, a)
            }

            /// What CPython calls.
            #[cfg(feature = "cpython-abi")]
            #[inline]
            #[allow(unused_variables)]
            pub unsafe extern "C" fn trampoline<T: Impl<$impl_ty>>($($p: $t),*) -> $ret {
                let ctx = crate::cpython::context();
                // SAFETY: the implementation of this convention, called with
                // the trampoline's arguments as handles (a CPython-ABI
                // handle is the object pointer).
                let r = unsafe {
                    match T::IMPL {
                        Some(f) => f(ctx, $(direct_arg!($conv($($f),*))),*),
                        None => core::hint::unreachable_unchecked(),
                    }
                };
                direct_result!($res, r)
            }

            /// An `HPyDef` of kind method.
            pub const fn meth<T: Impl<$impl_ty>>(name: &'static core::ffi::CStr, doc: &'static core::ffi::CStr) -> SyncDef {
                SyncDef(HPyDef {
                    kind: HPyDef_Kind_Meth,
                    __bindgen_anon_1: HPyDef__bindgen_ty_1 {
                        meth: HPyMeth {
                            name: name.as_ptr(),
                            // SAFETY: function pointers of the same size; the
                            // runtime calls them with their real types.
                            impl_: unsafe { core::mem::transmute::<$impl_ty, HPyCFunction>(T::IMPL) },
                            // SAFETY: as above.
                            cpy_trampoline: unsafe {
                                core::mem::transmute::<unsafe extern "C" fn($($t),*) -> $ret, cpy_PyCFunction>(trampoline::<T>)
                            },
                            signature: $sig,
                            doc: doc.as_ptr(),
                        },
                    },
                })
            }

            /// An `HPyDef` of kind slot.
            pub const fn slot<T: Impl<$impl_ty>>(slot: HPySlot_Slot) -> SyncDef {
                SyncDef(HPyDef {
                    kind: HPyDef_Kind_Slot,
                    __bindgen_anon_1: HPyDef__bindgen_ty_1 {
                        slot: HPySlot {
                            slot,
                            // SAFETY: as in `meth`.
                            impl_: unsafe { core::mem::transmute::<$impl_ty, HPyCFunction>(T::IMPL) },
                            // SAFETY: as in `meth`.
                            cpy_trampoline: unsafe {
                                core::mem::transmute::<unsafe extern "C" fn($($t),*) -> $ret, cpy_PyCFunction>(trampoline::<T>)
                            },
                        },
                    },
                })
            }

            /// The trampoline as a C function pointer.
            pub const fn pointer<T: Impl<$impl_ty>>() -> unsafe extern "C" fn($($t),*) -> $ret {
                trampoline::<T>
            }
        }
    )*};
}

hpy_sys::for_each_hpyfunc_trampoline!(trampolines);

/// A getter/setter pair (`HPyDef_GETSET`), or a getter alone.
pub const fn getset<G: Impl<HPyFunc_getter>, S: Impl<HPyFunc_setter>>(
    name: &'static core::ffi::CStr,
    doc: &'static core::ffi::CStr,
    with_setter: bool,
) -> SyncDef {
    SyncDef(HPyDef {
        kind: HPyDef_Kind_GetSet,
        __bindgen_anon_1: HPyDef__bindgen_ty_1 {
            getset: HPyGetSet {
                name: name.as_ptr(),
                // SAFETY: function pointers of the same size, called by the
                // runtime with their real types.
                getter_impl: unsafe {
                    core::mem::transmute::<HPyFunc_getter, HPyCFunction>(G::IMPL)
                },
                setter_impl: if with_setter {
                    // SAFETY: as above.
                    unsafe { core::mem::transmute::<HPyFunc_setter, HPyCFunction>(S::IMPL) }
                } else {
                    None
                },
                // SAFETY: as above.
                getter_cpy_trampoline: unsafe {
                    core::mem::transmute::<
                        unsafe extern "C" fn(
                            *mut cpy_PyObject,
                            *mut core::ffi::c_void,
                        ) -> *mut cpy_PyObject,
                        cpy_getter,
                    >(GETTER::pointer::<G>())
                },
                setter_cpy_trampoline: if with_setter {
                    // SAFETY: as above.
                    unsafe {
                        core::mem::transmute::<
                            unsafe extern "C" fn(
                                *mut cpy_PyObject,
                                *mut cpy_PyObject,
                                *mut core::ffi::c_void,
                            ) -> core::ffi::c_int,
                            cpy_setter,
                        >(SETTER::pointer::<S>())
                    }
                } else {
                    None
                },
                doc: doc.as_ptr(),
                closure: core::ptr::null_mut(),
            },
        },
    })
}

/// A setter that is never installed (for getters alone).
pub struct NoSetter;

impl Impl<HPyFunc_setter> for NoSetter {
    const IMPL: HPyFunc_setter = None;
}
