//! The two irregular conventions Rust types need, by hand (as in
//! `hpy-sys/hpyfunc.txt`, where they are marked `hand`): `HPy_tp_destroy`
//! (no context, no trampoline: the runtime calls the impl from its own
//! `tp_dealloc`) and `HPy_tp_traverse` (no context: the impl walks the
//! payload with the runtime's visitor).

use crate::class::{destroy, traverse, HPyClass, Traverse};
use crate::module::SyncDef;
use hpy_sys::*;

/// The trampoline of `HPy_tp_destroy`: never called (CPython does not see
/// this slot); it stops the process if it ever is.
unsafe extern "C" fn destroy_trampoline() {
    std::process::abort()
}

/// The `HPy_tp_destroy` slot of `T`: drops the Rust value.
pub const fn destroy_slot<T: HPyClass>() -> SyncDef {
    SyncDef(HPyDef {
        kind: HPyDef_Kind_Slot,
        __bindgen_anon_1: HPyDef__bindgen_ty_1 {
            slot: HPySlot {
                slot: HPy_tp_destroy,
                // SAFETY: function pointers of the same size; the runtime
                // calls the impl as an `HPyFunc_destroyfunc`.
                impl_: unsafe {
                    core::mem::transmute::<unsafe extern "C" fn(*mut core::ffi::c_void), HPyCFunction>(
                        destroy::<T>,
                    )
                },
                // SAFETY: as above (never called).
                cpy_trampoline: unsafe {
                    core::mem::transmute::<unsafe extern "C" fn(), cpy_PyCFunction>(
                        destroy_trampoline,
                    )
                },
            },
        },
    })
}

/// `tp_traverse` as CPython calls it.
unsafe extern "C" fn traverse_trampoline<T: HPyClass + Traverse>(
    self_: *mut cpy_PyObject,
    visit: cpy_visitproc,
    arg: *mut core::ffi::c_void,
) -> core::ffi::c_int {
    let f: HPyFunc_traverseproc = Some(traverse::<T>);
    #[cfg(not(feature = "cpython-abi"))]
    {
        let mut a = _HPyFunc_args_TRAVERSEPROC {
            self_,
            visit,
            arg,
            result: 0,
        };
        let ctx = crate::__private::trampoline_context();
        // SAFETY: the loader's context; the block and impl are those of the
        // TRAVERSEPROC convention.
        unsafe {
            let f = core::mem::transmute::<HPyFunc_traverseproc, HPyCFunction>(f);
            if let Some(call) = (*ctx).ctx_CallRealFunctionFromTrampoline {
                call(
                    ctx,
                    HPyFunc_TRAVERSEPROC,
                    f,
                    (&mut a as *mut _HPyFunc_args_TRAVERSEPROC).cast(),
                );
            }
        }
        a.result
    }
    #[cfg(feature = "cpython-abi")]
    // SAFETY: an instance of T's type, from CPython's GC.
    unsafe {
        hpy_cpython::traverse(f, self_.cast(), visit, arg)
    }
}

/// The `HPy_tp_traverse` slot of `T`: visits its `Field`s.
pub const fn traverse_slot<T: HPyClass + Traverse>() -> SyncDef {
    SyncDef(HPyDef {
        kind: HPyDef_Kind_Slot,
        __bindgen_anon_1: HPyDef__bindgen_ty_1 {
            slot: HPySlot {
                slot: HPy_tp_traverse,
                // SAFETY: function pointers of the same size, called with
                // their real types.
                impl_: unsafe {
                    core::mem::transmute::<
                        unsafe extern "C" fn(
                            *mut core::ffi::c_void,
                            HPyFunc_visitproc,
                            *mut core::ffi::c_void,
                        ) -> core::ffi::c_int,
                        HPyCFunction,
                    >(traverse::<T>)
                },
                // SAFETY: as above.
                cpy_trampoline: unsafe {
                    core::mem::transmute::<
                        unsafe extern "C" fn(
                            *mut cpy_PyObject,
                            cpy_visitproc,
                            *mut core::ffi::c_void,
                        ) -> core::ffi::c_int,
                        cpy_PyCFunction,
                    >(traverse_trampoline::<T>)
                },
            },
        },
    })
}
