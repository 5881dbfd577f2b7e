//! HPyArg_Parse, HPyArg_ParseKeywords, HPyArg_ParseKeywordsDict.
use crate::ctx::Ctx;
use crate::va::VaArgs;
use core::ffi::{c_char, c_int};
use hpy_sys::{HPy, HPyTracker, HPy_ssize_t};

/// # Safety
/// Arguments as received by `HPyArg_Parse`.
pub unsafe fn parse(ctx: Ctx, _ht: *mut HPyTracker, _args: *const HPy, _nargs: usize, _fmt: *const c_char, _va: VaArgs) -> c_int {
    ctx.system_error("HPyArg_Parse: TODO");
    0
}

/// # Safety
/// Arguments as received by `HPyArg_ParseKeywords`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn parse_keywords(ctx: Ctx, _ht: *mut HPyTracker, _args: *const HPy, _nargs: usize, _kwnames: HPy, _fmt: *const c_char, _keywords: *const *const c_char, _va: VaArgs) -> c_int {
    ctx.system_error("HPyArg_ParseKeywords: TODO");
    0
}

/// # Safety
/// Arguments as received by `HPyArg_ParseKeywordsDict`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn parse_keywords_dict(ctx: Ctx, _ht: *mut HPyTracker, _args: *const HPy, _nargs: HPy_ssize_t, _kw: HPy, _fmt: *const c_char, _keywords: *const *const c_char, _va: VaArgs) -> c_int {
    ctx.system_error("HPyArg_ParseKeywordsDict: TODO");
    0
}
