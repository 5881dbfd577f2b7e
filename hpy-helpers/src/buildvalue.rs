//! HPy_BuildValue.
use crate::ctx::Ctx;
use crate::va::VaArgs;
use core::ffi::c_char;
use hpy_sys::{HPy, HPy_NULL};

/// # Safety
/// Arguments as received by `HPy_BuildValue`.
pub unsafe fn build_value(ctx: Ctx, _fmt: *const c_char, _va: VaArgs) -> HPy {
    ctx.system_error("HPy_BuildValue: TODO");
    HPy_NULL
}
