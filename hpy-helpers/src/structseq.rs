//! HPyStructSequence_NewType, HPyStructSequence_New.
use crate::ctx::Ctx;
use hpy_sys::{HPy, HPyStructSequence_Desc, HPy_ssize_t, HPy_NULL};

/// # Safety
/// Arguments as received by `HPyStructSequence_NewType`.
pub unsafe fn new_type(ctx: Ctx, _desc: *mut HPyStructSequence_Desc) -> HPy {
    ctx.system_error("HPyStructSequence_NewType: TODO");
    HPy_NULL
}

/// # Safety
/// Arguments as received by `HPyStructSequence_New`.
pub unsafe fn new(ctx: Ctx, _ty: HPy, _nargs: HPy_ssize_t, _args: *mut HPy) -> HPy {
    ctx.system_error("HPyStructSequence_New: TODO");
    HPy_NULL
}
