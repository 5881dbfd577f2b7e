//! Calling the variadic C helpers (`HPyArg_Parse`, `HPy_BuildValue`,
//! `HPyUnicode_FromFormat`, `HPyErr_Format`) with an argument list built at
//! run time, each argument of the exact C type its format unit stands for,
//! through `shim/varcall.c` (libffi). Stable Rust can declare and call C
//! variadics, but only with a list fixed at compile time.

use core::ffi::{c_char, c_int, c_long, c_longlong, c_uint, c_ulong, c_ulonglong, c_void};
use hpy_sys::{HPy, HPyContext, HPyTracker, HPy_ssize_t};

/// One argument, with its C type (after default argument promotion).
#[derive(Clone, Copy)]
pub enum Arg {
    Int(c_int),
    UInt(c_uint),
    Long(c_long),
    ULong(c_ulong),
    LongLong(c_longlong),
    ULongLong(c_ulonglong),
    Ssize(HPy_ssize_t),
    Size(usize),
    Double(f64),
    Ptr(*const c_void),
    Hpy(HPy),
}

/// `fz_value` of the shim.
#[repr(C)]
#[derive(Clone, Copy)]
union Value {
    i: c_int,
    u: c_uint,
    l: c_long,
    ul: c_ulong,
    ll: c_longlong,
    ull: c_ulonglong,
    ss: HPy_ssize_t,
    sz: usize,
    d: f64,
    p: *const c_void,
    h: isize,
}

/// `fz_arg` of the shim: `kind` is the `enum fz_kind` value.
#[repr(C)]
struct RawArg {
    kind: c_int,
    v: Value,
}

// `enum fz_kind` of the shim, in its order.
const INT: c_int = 0;
const HPY: c_int = 10;

impl Arg {
    fn raw(self) -> RawArg {
        let (kind, v) = match self {
            Arg::Int(i) => (INT, Value { i }),
            Arg::UInt(u) => (1, Value { u }),
            Arg::Long(l) => (2, Value { l }),
            Arg::ULong(ul) => (3, Value { ul }),
            Arg::LongLong(ll) => (4, Value { ll }),
            Arg::ULongLong(ull) => (5, Value { ull }),
            Arg::Ssize(ss) => (6, Value { ss }),
            Arg::Size(sz) => (7, Value { sz }),
            Arg::Double(d) => (8, Value { d }),
            Arg::Ptr(p) => (9, Value { p }),
            Arg::Hpy(h) => (HPY, Value { h: h._i }),
        };
        RawArg { kind, v }
    }
}

extern "C" {
    fn fz_call(
        f: *const c_void,
        ret_kind: c_int,
        ret: *mut Value,
        nfixed: c_uint,
        nargs: c_uint,
        args: *mut RawArg,
    ) -> c_int;

    // hpy-sys/runtime/*.c, bundled into hpy-helpers
    fn HPyArg_Parse(
        ctx: *mut HPyContext,
        ht: *mut HPyTracker,
        args: *const HPy,
        nargs: usize,
        fmt: *const c_char,
        ...
    ) -> c_int;
    fn HPyArg_ParseKeywords(
        ctx: *mut HPyContext,
        ht: *mut HPyTracker,
        args: *const HPy,
        nargs: usize,
        kwnames: HPy,
        fmt: *const c_char,
        keywords: *const *const c_char,
        ...
    ) -> c_int;
    fn HPyArg_ParseKeywordsDict(
        ctx: *mut HPyContext,
        ht: *mut HPyTracker,
        args: *const HPy,
        nargs: HPy_ssize_t,
        kw: HPy,
        fmt: *const c_char,
        keywords: *const *const c_char,
        ...
    ) -> c_int;
    fn HPy_BuildValue(ctx: *mut HPyContext, fmt: *const c_char, ...) -> HPy;
    fn HPyUnicode_FromFormat(ctx: *mut HPyContext, fmt: *const c_char, ...) -> HPy;
    fn HPyErr_Format(ctx: *mut HPyContext, h_type: HPy, fmt: *const c_char, ...) -> HPy;
}

/// A variadic helper: its address and how many named parameters it has.
#[derive(Clone, Copy)]
pub struct Helper {
    f: *const c_void,
    nfixed: usize,
}

pub const ARG_PARSE: Helper = Helper {
    f: HPyArg_Parse as *const c_void,
    nfixed: 5,
};
pub const ARG_PARSE_KEYWORDS: Helper = Helper {
    f: HPyArg_ParseKeywords as *const c_void,
    nfixed: 7,
};
pub const ARG_PARSE_KEYWORDS_DICT: Helper = Helper {
    f: HPyArg_ParseKeywordsDict as *const c_void,
    nfixed: 7,
};
pub const BUILD_VALUE: Helper = Helper {
    f: HPy_BuildValue as *const c_void,
    nfixed: 2,
};
pub const UNICODE_FROM_FORMAT: Helper = Helper {
    f: HPyUnicode_FromFormat as *const c_void,
    nfixed: 2,
};
pub const ERR_FORMAT: Helper = Helper {
    f: HPyErr_Format as *const c_void,
    nfixed: 3,
};

/// # Safety
/// As for [`call_int`].
unsafe fn call(helper: Helper, ret_kind: c_int, args: &[Arg]) -> Value {
    assert!(args.len() >= helper.nfixed);
    let mut raw: Vec<RawArg> = args.iter().map(|a| a.raw()).collect();
    let mut ret = Value { h: 0 };
    // SAFETY: `helper.f` is one of the helpers above, whose first `nfixed`
    // parameters are the first `nfixed` arguments (the callers below pass
    // them with the declared types); the rest are its variable arguments,
    // of the C types the caller derived from the format string. `raw` and
    // `ret` outlive the call.
    let status = unsafe {
        fz_call(
            helper.f,
            ret_kind,
            &mut ret,
            helper.nfixed as c_uint,
            raw.len() as c_uint,
            raw.as_mut_ptr(),
        )
    };
    assert_eq!(status, 0, "the libffi call could not be prepared");
    ret
}

/// Calls a helper returning `int`.
///
/// # Safety
/// `args` are the helper's named parameters (with their declared types and
/// the values its contract asks for), then the variable arguments its
/// format string asks for, with those C types.
pub unsafe fn call_int(helper: Helper, args: &[Arg]) -> c_int {
    // SAFETY: the caller's contract is `call`'s; the shim wrote `i`.
    unsafe { call(helper, INT, args).i }
}

/// Calls a helper returning `HPy`.
///
/// # Safety
/// As for [`call_int`].
pub unsafe fn call_hpy(helper: Helper, args: &[Arg]) -> HPy {
    // SAFETY: the caller's contract is `call`'s; the shim wrote `h`.
    let h = unsafe { call(helper, HPY, args).h };
    HPy { _i: h }
}
