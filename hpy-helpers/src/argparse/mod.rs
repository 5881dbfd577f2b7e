//! HPyArg_Parse, HPyArg_ParseKeywords and HPyArg_ParseKeywordsDict.
//!
//! Each parser reads the format while it converts, in one pass (the keyword
//! parsers read the keywords array alongside), stopping where the format or
//! the keywords array is unusable. After any failure, [`format_first`]
//! checks them again and, if they are malformed, reports that rather than
//! the argument error, as if they had been checked first. Messages are
//! worded (`:name`, `;text`) only when one is raised. Each unit takes its
//! argument and its output pointer: one variable argument per unit, read in
//! order and only once the unit is reached, as upstream does. A call with
//! at most four keyword names allocates nothing (error messages aside).
//!
//! Units, semantics and message texts are upstream HPy 0.9.0's. Beyond
//! upstream: the keyword parsers reject what upstream silently ignores
//! (surplus positional arguments, unknown keywords, a value given both by
//! position and by name), every parser rejects a repeated `|` or `$` and a `|`
//! after `$`, and a missing optional argument leaves the output of `p` and `s`
//! untouched as documented (upstream would read a NULL handle there).
//!
//! # Files
//! - `format`: the units and the format string, scanned and checked after
//!   a failed parse.
//! - `run`: a parse in progress and HPyArg_Parse's positional loop.
//! - `keywords`: the keyword parsers' parameter names, keyword sources and
//!   their loop over the units.
//! - `convert`: each unit's conversion of its argument.
//! - `messages`: how error messages are worded and raised.

mod convert;
mod format;
mod keywords;
mod messages;
mod run;

use crate::ctx::Ctx;
use crate::msg;
use crate::va::VaArgs;
use core::ffi::{c_char, c_int};
use format::{null_format, Format};
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPyTracker, HPy_ssize_t};
use keywords::Params;
use run::Run;

/// `HPyArg_Parse`: positional arguments only.
///
/// # Safety
/// Arguments as received by `HPyArg_Parse`: a live context, `ht` NULL or
/// writable, `args` valid for `nargs` handles, `fmt` a C string, and one
/// output pointer in `va` per format unit.
#[inline(always)] // into the C entry point's Rust half: one call fewer
pub unsafe fn parse(
    ctx: Ctx,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    fmt: *const c_char,
    va: VaArgs,
) -> c_int {
    let api = Api::Parse;
    if fmt.is_null() {
        return null_format(ctx, api);
    }
    // SAFETY: `args` holds `nargs` handles (caller's contract).
    let Ok(args) = (unsafe { handles(ctx, api, args, nargs) }) else {
        return 0;
    };
    // SAFETY: `ht` is NULL or writable (caller's contract).
    let Ok(tracker) = (unsafe { open_tracker(ctx, ht) }) else {
        return 0;
    };
    let mut run = Run {
        ctx,
        api,
        fmt,
        va,
        tracker,
    };
    let result = run.positional(args);
    finish(ctx, tracker, result)
}

/// `HPyArg_ParseKeywords`: positional arguments, then the values of the
/// keyword arguments named by the tuple `kwnames`.
///
/// # Safety
/// As for [`parse`], plus: `args` holds `nargs + len(kwnames)` handles,
/// `keywords` is a NULL-terminated array of C strings.
#[allow(clippy::too_many_arguments)]
pub unsafe fn parse_keywords(
    ctx: Ctx,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: VaArgs,
) -> c_int {
    // SAFETY: forwarded (caller's contract).
    unsafe {
        parse_kw(
            ctx,
            Api::Keywords,
            ht,
            args,
            nargs,
            kwnames,
            fmt,
            keywords,
            va,
        )
    }
}

/// `HPyArg_ParseKeywordsDict`: positional arguments and a dict of keyword
/// arguments.
///
/// # Safety
/// As for [`parse`], plus: `kw` is HPy_NULL or an open handle, `keywords` is a
/// NULL-terminated array of C strings.
#[allow(clippy::too_many_arguments)]
pub unsafe fn parse_keywords_dict(
    ctx: Ctx,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: HPy_ssize_t,
    kw: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: VaArgs,
) -> c_int {
    let api = Api::KeywordsDict;
    let Ok(nargs) = usize::try_from(nargs) else {
        ctx.system_error(msg!(api.name(), ": negative nargs (", nargs, ")"));
        return 0;
    };
    // SAFETY: forwarded (caller's contract).
    unsafe { parse_kw(ctx, api, ht, args, nargs, kw, fmt, keywords, va) }
}

/// The part the two keyword parsers share.
///
/// # Safety
/// See [`parse_keywords`] and [`parse_keywords_dict`]; `kw` is `kwnames` for
/// [`Api::Keywords`], the dict for [`Api::KeywordsDict`].
///
/// One copy for both entry points. Like [`parse`], one pass over the format
/// (and the keywords array, side by side), which checks them as it goes; on
/// any failure [`format_first`] makes sure that what is wrong with them
/// is what is reported.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn parse_kw(
    ctx: Ctx,
    api: Api,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    kw: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: VaArgs,
) -> c_int {
    if fmt.is_null() {
        return null_format(ctx, api);
    }
    if keywords.is_null() {
        // SAFETY: `fmt` is a C string (caller's contract).
        unsafe { format_first(ctx, api, fmt, keywords, ht.is_null()) };
        return 0;
    }
    // SAFETY: `ht` is NULL or writable (caller's contract).
    let Ok(tracker) = (unsafe { open_tracker(ctx, ht) }) else {
        return 0;
    };
    let mut run = Run {
        ctx,
        api,
        fmt,
        va,
        tracker,
    };
    // SAFETY: `args` holds `nargs` positional handles followed by the
    // keyword values; `keywords` is a NULL-terminated array of C strings
    // (caller's contract).
    let result = unsafe { run.keywords(args, nargs, kw, keywords) };
    if result.is_err() {
        // SAFETY: as above.
        unsafe { format_first(ctx, api, fmt, keywords, ht.is_null()) };
    }
    finish(ctx, tracker, result)
}

/// After a failed parse: if the format (or, for the keyword parsers, the
/// keywords array) is unusable, report that instead of what failed (a
/// caller's bug comes before its callers'), as if they had been checked
/// before any argument was used. The passes stop at the first problem they
/// see in them, with no exception set.
///
/// # Safety
/// `fmt` is a C string; for the keyword parsers, `keywords` is NULL or a
/// NULL-terminated array of C strings.
#[cold]
#[inline(never)]
unsafe fn format_first(
    ctx: Ctx,
    api: Api,
    fmt: *const c_char,
    keywords: *const *const c_char,
    no_tracker: bool,
) {
    // SAFETY: caller's contract.
    let format = match unsafe { Format::scan(api, fmt) } {
        Ok(format) => format,
        Err(bad) => {
            // SAFETY: live context; `fmt` as above.
            unsafe {
                raw::ctx_Err_Clear(ctx.0);
                Format::malformed(ctx, api, fmt, bad);
            }
            return;
        }
    };
    if api != Api::Parse {
        if keywords.is_null() {
            // SAFETY: live context.
            unsafe { raw::ctx_Err_Clear(ctx.0) };
            ctx.system_error(msg!(api.name(), ": the keywords array is NULL"));
            return;
        }
        // SAFETY: a NULL-terminated array (caller's contract).
        let keywords = unsafe { Params::read(keywords) };
        if format
            .keywords_error(ctx, api, keywords, no_tracker)
            .is_err()
        {
            return;
        }
    }
    if !ctx.err_occurred() {
        // a pass stopped for no reason: a bug of ours
        ctx.system_error(msg!(api.name(), ": internal error"));
    }
}

/// An exception is set; the entry point returns 0.
struct Raised;
type Res<T> = Result<T, Raised>;

/// Which entry point is running (for messages and the accepted markers).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Parse,
    Keywords,
    KeywordsDict,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Parse => "HPyArg_Parse",
            Api::Keywords => "HPyArg_ParseKeywords",
            Api::KeywordsDict => "HPyArg_ParseKeywordsDict",
        }
    }
}

/// `args` as a slice (`args` may be NULL when `nargs` is 0).
///
/// # Safety
/// `args` must be valid for `nargs` handles for the call's duration.
#[inline(always)]
unsafe fn handles<'a>(ctx: Ctx, api: Api, args: *const HPy, nargs: usize) -> Res<&'a [HPy]> {
    if nargs == 0 {
        return Ok(&[]);
    }
    if args.is_null() {
        return Err(null_args(ctx, api, nargs));
    }
    // SAFETY: caller's contract; not NULL.
    Ok(unsafe { core::slice::from_raw_parts(args, nargs) })
}

#[cold]
fn null_args(ctx: Ctx, api: Api, nargs: usize) -> Raised {
    ctx.system_error(msg!(api.name(), ": args is NULL but nargs is ", nargs));
    Raised
}

/// Create the tracker in `*ht`, when `ht` is given (before any argument is
/// used, as upstream does).
///
/// # Safety
/// `ht` must be NULL or writable.
#[inline]
unsafe fn open_tracker(ctx: Ctx, ht: *mut HPyTracker) -> Res<Option<HPyTracker>> {
    if ht.is_null() {
        return Ok(None);
    }
    // SAFETY: live context.
    let t = unsafe { raw::ctx_Tracker_New(ctx.0, 0) };
    if t._i == 0 {
        return Err(Raised);
    }
    // SAFETY: `ht` is writable (caller's contract).
    unsafe { ht.write(t) };
    Ok(Some(t))
}

/// The entry point's result: 1, or 0 after closing the tracker, as
/// upstream's callers expect.
#[inline]
fn finish(ctx: Ctx, tracker: Option<HPyTracker>, result: Res<()>) -> c_int {
    match (result, tracker) {
        (Ok(()), _) => 1,
        (Err(Raised), None) => 0,
        (Err(Raised), Some(t)) => {
            // SAFETY: live context; `t` is the tracker of this call.
            unsafe { raw::ctx_Tracker_Close(ctx.0, t) };
            0
        }
    }
}
