//! HPyHelpers_AddType, HPyHelpers_PackArgsAndKeywords.
use crate::ctx::Ctx;
use core::ffi::{c_char, c_int};
use hpy_sys::{HPy, HPyType_Spec, HPyType_SpecParam};

/// # Safety
/// Arguments as received by `HPyHelpers_AddType`.
pub unsafe fn add_type(ctx: Ctx, _obj: HPy, _name: *const c_char, _spec: *mut HPyType_Spec, _params: *mut HPyType_SpecParam) -> c_int {
    ctx.system_error("HPyHelpers_AddType: TODO");
    0
}

/// # Safety
/// Arguments as received by `HPyHelpers_PackArgsAndKeywords`.
pub unsafe fn pack_args_and_keywords(ctx: Ctx, _args: *const HPy, _nargs: usize, _kwnames: HPy, _out_args: *mut HPy, _out_kwd: *mut HPy) -> c_int {
    ctx.system_error("HPyHelpers_PackArgsAndKeywords: TODO");
    0
}
