//! HPyUnicode_FromFormat(V), HPyErr_Format.
use crate::ctx::Ctx;
use crate::va::VaArgs;
use core::ffi::c_char;
use hpy_sys::{HPy, HPy_NULL};

/// # Safety
/// Arguments as received by `HPyUnicode_FromFormat`.
pub unsafe fn unicode_from_format(ctx: Ctx, _fmt: *const c_char, _va: VaArgs) -> HPy {
    ctx.system_error("HPyUnicode_FromFormat: TODO");
    HPy_NULL
}

/// # Safety
/// Arguments as received by `HPyErr_Format`.
pub unsafe fn err_format(ctx: Ctx, _h_type: HPy, _fmt: *const c_char, _va: VaArgs) -> HPy {
    ctx.system_error("HPyErr_Format: TODO");
    HPy_NULL
}
