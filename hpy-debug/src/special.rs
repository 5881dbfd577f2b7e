//! Context members that need more than "check the context, unwrap each
//! handle": handle arrays and out-parameters, `Close`, trackers, type-spec
//! parameters, the `char *` results tied to a handle's lifetime, and the
//! argument checks whose failure is a fatal error (as in upstream's debug
//! mode: these functions cannot report errors, and a wrong argument there is
//! a bug in the extension, not a condition to handle).

use crate::ctx::enter;
use crate::gil::GilCell;
use crate::handles::{self, fatal};
use crate::site::{site, Site};
use hpy_sys::*;
use std::collections::BTreeSet;
use std::ffi::{c_char, c_int, c_void, CStr};

/// The inner context and one of its members.
macro_rules! inner {
    ($m:ident) => {{
        let inner = crate::inner_ctx();
        // SAFETY: the inner context is fully initialised (every member set).
        #[allow(unused_unsafe)]
        let f = unsafe { (*inner).$m.unwrap_unchecked() };
        (inner, f)
    }};
}

/// Unwraps `n` debug handles starting at `items` (argument `at`).
///
/// # Safety
/// `items` points to `n` handles (or `n` is 0); GIL held.
unsafe fn unwrap_array(items: *const HPy, n: usize, at: &'static Site) -> Vec<HPy> {
    if n == 0 || items.is_null() {
        return Vec::new();
    }
    // SAFETY: caller guarantees `n` readable handles.
    let s = unsafe { std::slice::from_raw_parts(items, n) };
    // SAFETY: GIL held.
    s.iter()
        .map(|&h| unsafe { handles::unwrap(h, at) })
        .collect()
}

/// True if the inner handle `uh` is an instance of the inner context's
/// constant type `ty` (e.g. `h_TypeType`); false for NULL.
///
/// # Safety
/// GIL held; `uh` NULL or an open inner handle.
unsafe fn is_instance(uh: HPy, ty: fn(&HPyContext) -> HPy) -> bool {
    if uh.is_null() {
        return false;
    }
    let (inner, check) = inner!(ctx_TypeCheck);
    // SAFETY: open inner handles; the constant belongs to the inner context.
    unsafe { check(inner, uh, ty(&*inner)) != 0 }
}

/// # Safety
/// GIL held; `uh` NULL or an open inner handle.
unsafe fn is_type(uh: HPy) -> bool {
    // SAFETY: forwarded contract.
    unsafe { is_instance(uh, |c| c.h_TypeType) }
}

/// Number of keyword names in the inner kwnames handle; a kwnames that is
/// not a tuple is fatal.
///
/// # Safety
/// GIL held; `kw` is NULL or an open inner handle.
unsafe fn kw_len(kw: HPy, api: &str) -> Option<usize> {
    if kw.is_null() {
        return Some(0);
    }
    // SAFETY: forwarded contract.
    if !unsafe { is_instance(kw, |c| c.h_TupleType) } {
        fatal(&format!(
            "{api} arg 'kwnames' must be a tuple object or HPy_NULL"
        ));
    }
    let (inner, len) = inner!(ctx_Length);
    // SAFETY: `kw` is an open inner handle; GIL held.
    let n = unsafe { len(inner, kw) };
    usize::try_from(n).ok()
}

/// # Safety
/// Context function: GIL held, arguments as documented for `HPy_Close`.
pub unsafe extern "C" fn ctx_Close(dctx: *mut HPyContext, h: HPy) {
    let _busy = enter(dctx, site!(ctx_Close));
    // SAFETY: forwarded contract.
    unsafe { handles::close(h, site!(ctx_Close, h)) }
}

/// # Safety
/// Context function (`HPy_Call`).
pub unsafe extern "C" fn ctx_Call(
    dctx: *mut HPyContext,
    callable: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    let _busy = enter(dctx, site!(ctx_Call));
    // SAFETY: GIL held; `args` holds nargs + len(kwnames) handles (HPy_Call's
    // contract), translated one by one before the inner call.
    unsafe {
        let callable = handles::unwrap(callable, site!(ctx_Call, callable));
        let kwnames = handles::unwrap(kwnames, site!(ctx_Call, kwnames));
        let Some(nkw) = kw_len(kwnames, "HPy_Call") else {
            return HPy_NULL;
        };
        let items = unwrap_array(args, nargs + nkw, site!(ctx_Call, args));
        let (inner, f) = inner!(ctx_Call);
        handles::wrap(f(inner, callable, items.as_ptr(), nargs, kwnames))
    }
}

/// # Safety
/// Context function (`HPy_CallMethod`).
pub unsafe extern "C" fn ctx_CallMethod(
    dctx: *mut HPyContext,
    name: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    let _busy = enter(dctx, site!(ctx_CallMethod));
    // SAFETY: as in `ctx_Call` (args[0] is the receiver, counted in nargs).
    unsafe {
        let name = handles::unwrap(name, site!(ctx_CallMethod, name));
        let kwnames = handles::unwrap(kwnames, site!(ctx_CallMethod, kwnames));
        let Some(nkw) = kw_len(kwnames, "HPy_CallMethod") else {
            return HPy_NULL;
        };
        let items = unwrap_array(args, nargs + nkw, site!(ctx_CallMethod, args));
        let (inner, f) = inner!(ctx_CallMethod);
        handles::wrap(f(inner, name, items.as_ptr(), nargs, kwnames))
    }
}

/// # Safety
/// Context function (`HPyTuple_FromArray`).
pub unsafe extern "C" fn ctx_Tuple_FromArray(
    dctx: *mut HPyContext,
    items: *const HPy,
    n: HPy_ssize_t,
) -> HPy {
    let _busy = enter(dctx, site!(ctx_Tuple_FromArray));
    // SAFETY: `items` holds `n` handles; GIL held.
    unsafe {
        let items = unwrap_array(items, n.max(0) as usize, site!(ctx_Tuple_FromArray, items));
        let (inner, f) = inner!(ctx_Tuple_FromArray);
        handles::wrap(f(inner, items.as_ptr(), n))
    }
}

/// # Safety
/// Context function (`HPyType_GenericNew`).
pub unsafe extern "C" fn ctx_Type_GenericNew(
    dctx: *mut HPyContext,
    type_: HPy,
    args: *const HPy,
    nargs: HPy_ssize_t,
    kw: HPy,
) -> HPy {
    let _busy = enter(dctx, site!(ctx_Type_GenericNew));
    // SAFETY: `args` holds `nargs` handles; GIL held.
    unsafe {
        let type_ = handles::unwrap(type_, site!(ctx_Type_GenericNew, type_));
        let kw = handles::unwrap(kw, site!(ctx_Type_GenericNew, kw));
        let items = unwrap_array(
            args,
            nargs.max(0) as usize,
            site!(ctx_Type_GenericNew, args),
        );
        let (inner, f) = inner!(ctx_Type_GenericNew);
        handles::wrap(f(inner, type_, items.as_ptr(), nargs, kw))
    }
}

/// # Safety
/// Context function (`HPyContextVar_Get`).
pub unsafe extern "C" fn ctx_ContextVar_Get(
    dctx: *mut HPyContext,
    context_var: HPy,
    default_value: HPy,
    result: *mut HPy,
) -> i32 {
    let _busy = enter(dctx, site!(ctx_ContextVar_Get));
    // SAFETY: GIL held; `result` is a valid out-pointer (API contract).
    unsafe {
        let cv = handles::unwrap(context_var, site!(ctx_ContextVar_Get, context_var));
        let dv = handles::unwrap(default_value, site!(ctx_ContextVar_Get, default_value));
        let mut out = HPy_NULL;
        let (inner, f) = inner!(ctx_ContextVar_Get);
        let r = f(inner, cv, dv, &mut out);
        if !result.is_null() {
            *result = if r < 0 { HPy_NULL } else { handles::wrap(out) };
        }
        r
    }
}

/// # Safety
/// Context function (`HPyType_FromSpec`): the `object` of each parameter is
/// a debug handle.
pub unsafe extern "C" fn ctx_Type_FromSpec(
    dctx: *mut HPyContext,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> HPy {
    let _busy = enter(dctx, site!(ctx_Type_FromSpec));
    // SAFETY: `params` is NULL or an array terminated by a zero `kind`
    // (API contract); GIL held.
    unsafe {
        let mut copy: Vec<HPyType_SpecParam> = Vec::new();
        if !params.is_null() {
            let mut p = params;
            loop {
                let mut item = *p;
                let end = item.kind == 0;
                if !end {
                    item.object = handles::unwrap(item.object, site!(ctx_Type_FromSpec, params));
                }
                copy.push(item);
                if end {
                    break;
                }
                p = p.add(1);
            }
        }
        let ptr = if params.is_null() {
            std::ptr::null_mut()
        } else {
            copy.as_mut_ptr()
        };
        let (inner, f) = inner!(ctx_Type_FromSpec);
        handles::wrap(f(inner, spec, ptr))
    }
}

// ---- raw data tied to a handle ----

/// Hands out a protected copy of the `len` bytes at `p`, which API function
/// `by` returns, tied to the debug handle `h` (or `p` itself if that is not
/// possible).
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
unsafe fn tie_to_handle(h: HPy, p: *const c_char, len: usize, by: &'static Site) -> *const c_char {
    if p.is_null() {
        return p;
    }
    // SAFETY: caller guarantees `len` readable bytes.
    let data = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    handles::attach_raw_data(h, data, by).map_or(p, |q| q.cast())
}

/// # Safety
/// `p` is a NUL-terminated string.
unsafe fn len_with_nul(p: *const c_char) -> usize {
    // SAFETY: forwarded contract.
    unsafe { CStr::from_ptr(p) }.to_bytes_with_nul().len()
}

/// # Safety
/// Context function (`HPyUnicode_AsUTF8AndSize`).
pub unsafe extern "C" fn ctx_Unicode_AsUTF8AndSize(
    dctx: *mut HPyContext,
    h: HPy,
    size: *mut HPy_ssize_t,
) -> *const c_char {
    let _busy = enter(dctx, site!(ctx_Unicode_AsUTF8AndSize));
    // SAFETY: GIL held; the inner result is NULL or a NUL-terminated buffer
    // of `*size` bytes plus the NUL.
    unsafe {
        let uh = handles::unwrap(h, site!(ctx_Unicode_AsUTF8AndSize, h));
        let (inner, f) = inner!(ctx_Unicode_AsUTF8AndSize);
        let p = f(inner, uh, size);
        if p.is_null() {
            return p;
        }
        let len = if size.is_null() {
            len_with_nul(p)
        } else {
            (*size).max(0) as usize + 1
        };
        tie_to_handle(h, p, len, site!(ctx_Unicode_AsUTF8AndSize))
    }
}

/// The bytes data of `h` through the inner `get`, tied to the debug handle
/// (protected when it closes); `size` gives the length without the NUL.
macro_rules! protected_bytes {
    ($dctx:expr, $h:expr, $get:ident, $size:ident) => {{
        let _busy = enter($dctx, site!($get));
        // SAFETY: GIL held; a bytes object's buffer holds its size plus a NUL.
        unsafe {
            let uh = handles::unwrap($h, site!($get, h));
            let (inner, f) = inner!($get);
            let p = f(inner, uh);
            if p.is_null() {
                return p;
            }
            let (inner, size) = inner!($size);
            tie_to_handle($h, p, size(inner, uh).max(0) as usize + 1, site!($get))
        }
    }};
}

/// # Safety
/// Context function (`HPyBytes_AsString`).
pub unsafe extern "C" fn ctx_Bytes_AsString(dctx: *mut HPyContext, h: HPy) -> *const c_char {
    protected_bytes!(dctx, h, ctx_Bytes_AsString, ctx_Bytes_Size)
}

/// # Safety
/// Context function (`HPyBytes_AS_STRING`).
pub unsafe extern "C" fn ctx_Bytes_AS_STRING(dctx: *mut HPyContext, h: HPy) -> *const c_char {
    protected_bytes!(dctx, h, ctx_Bytes_AS_STRING, ctx_Bytes_GET_SIZE)
}

/// # Safety
/// Context function (`HPyType_GetName`).
pub unsafe extern "C" fn ctx_Type_GetName(dctx: *mut HPyContext, type_: HPy) -> *const c_char {
    let _busy = enter(dctx, site!(ctx_Type_GetName));
    // SAFETY: GIL held; the inner result is NULL or a NUL-terminated name.
    unsafe {
        let uh = handles::unwrap(type_, site!(ctx_Type_GetName, type_));
        if !is_type(uh) {
            fatal("HPyType_GetName arg must be a type");
        }
        let (inner, f) = inner!(ctx_Type_GetName);
        let p = f(inner, uh);
        if p.is_null() {
            return p;
        }
        tie_to_handle(type_, p, len_with_nul(p), site!(ctx_Type_GetName))
    }
}

// ---- argument checks ----

/// # Safety
/// Context function (`HPy_TypeCheck`).
pub unsafe extern "C" fn ctx_TypeCheck(dctx: *mut HPyContext, obj: HPy, type_: HPy) -> c_int {
    let _busy = enter(dctx, site!(ctx_TypeCheck));
    // SAFETY: GIL held; handles unwrapped and checked before the inner call.
    unsafe {
        let uobj = handles::unwrap(obj, site!(ctx_TypeCheck, obj));
        let utype = handles::unwrap(type_, site!(ctx_TypeCheck, type_));
        if uobj.is_null() {
            fatal("HPy_TypeCheck arg 1 must not be HPy_NULL");
        }
        if !is_type(utype) {
            fatal("HPy_TypeCheck arg 2 must be a type");
        }
        let (inner, f) = inner!(ctx_TypeCheck);
        f(inner, uobj, utype)
    }
}

/// # Safety
/// Context function (`HPyType_IsSubtype`).
pub unsafe extern "C" fn ctx_Type_IsSubtype(dctx: *mut HPyContext, sub: HPy, type_: HPy) -> c_int {
    let _busy = enter(dctx, site!(ctx_Type_IsSubtype));
    // SAFETY: GIL held; handles unwrapped and checked before the inner call.
    unsafe {
        let usub = handles::unwrap(sub, site!(ctx_Type_IsSubtype, sub));
        if !is_type(usub) {
            fatal("HPyType_IsSubtype arg 1 must be a type");
        }
        let utype = handles::unwrap(type_, site!(ctx_Type_IsSubtype, type_));
        if !is_type(utype) {
            fatal("HPyType_IsSubtype arg 2 must be a type");
        }
        let (inner, f) = inner!(ctx_Type_IsSubtype);
        f(inner, usub, utype)
    }
}

/// # Safety
/// Context function (`HPyUnicode_Substring`).
pub unsafe extern "C" fn ctx_Unicode_Substring(
    dctx: *mut HPyContext,
    str_: HPy,
    start: HPy_ssize_t,
    end: HPy_ssize_t,
) -> HPy {
    let _busy = enter(dctx, site!(ctx_Unicode_Substring));
    // SAFETY: GIL held; the handle is unwrapped and checked first.
    unsafe {
        let ustr = handles::unwrap(str_, site!(ctx_Unicode_Substring, str_));
        if !is_instance(ustr, |c| c.h_UnicodeType) {
            fatal("HPyUnicode_Substring arg 1 must be a Unicode object");
        }
        let (inner, f) = inner!(ctx_Unicode_Substring);
        handles::wrap(f(inner, ustr, start, end))
    }
}

fn shape_name(shape: HPyType_BuiltinShape) -> &'static str {
    match shape {
        HPyType_BuiltinShape_Legacy => "HPyType_BuiltinShape_Legacy",
        HPyType_BuiltinShape_Object => "HPyType_BuiltinShape_Object",
        HPyType_BuiltinShape_Type => "HPyType_BuiltinShape_Type",
        HPyType_BuiltinShape_Long => "HPyType_BuiltinShape_Long",
        HPyType_BuiltinShape_Float => "HPyType_BuiltinShape_Float",
        HPyType_BuiltinShape_Unicode => "HPyType_BuiltinShape_Unicode",
        HPyType_BuiltinShape_Tuple => "HPyType_BuiltinShape_Tuple",
        HPyType_BuiltinShape_List => "HPyType_BuiltinShape_List",
        HPyType_BuiltinShape_Dict => "HPyType_BuiltinShape_Dict",
        _ => "<unknown shape>",
    }
}

/// `_HPy_AsStruct_<Shape>` reads the object's memory as that shape's
/// layout: on an object of another shape that would read (and let the
/// extension write) the wrong bytes, so it is fatal.
macro_rules! as_struct {
    ($($name:ident => $shape:ident, $api:literal;)*) => { $(
        /// # Safety
        /// Context function (`_HPy_AsStruct_*`).
        pub unsafe extern "C" fn $name(dctx: *mut HPyContext, h: HPy) -> *mut c_void {
            let _busy = enter(dctx, site!($name));
            // SAFETY: GIL held; the handle is unwrapped, and its type's shape
            // checked, before the inner call.
            unsafe {
                let uh = handles::unwrap(h, site!($name, h));
                if uh.is_null() {
                    fatal(concat!("Invalid usage of ", $api, ": the handle is HPy_NULL"));
                }
                let (inner, type_of) = inner!(ctx_Type);
                let (_, get_shape) = inner!(ctx_Type_GetBuiltinShape);
                let (_, close) = inner!(ctx_Close);
                let t = type_of(inner, uh);
                let actual = get_shape(inner, t);
                close(inner, t);
                if actual != $shape {
                    fatal(&format!(
                        concat!("Invalid usage of ", $api,
                            ": expected an object of shape {}, but its type has shape {}"),
                        shape_name($shape),
                        shape_name(actual),
                    ));
                }
                let (inner, f) = inner!($name);
                f(inner, uh)
            }
        }
    )* };
}

as_struct! {
    ctx_AsStruct_Object => HPyType_BuiltinShape_Object, "_HPy_AsStruct_Object";
    ctx_AsStruct_Legacy => HPyType_BuiltinShape_Legacy, "_HPy_AsStruct_Legacy";
    ctx_AsStruct_Type => HPyType_BuiltinShape_Type, "_HPy_AsStruct_Type";
    ctx_AsStruct_Long => HPyType_BuiltinShape_Long, "_HPy_AsStruct_Long";
    ctx_AsStruct_Float => HPyType_BuiltinShape_Float, "_HPy_AsStruct_Float";
    ctx_AsStruct_Unicode => HPyType_BuiltinShape_Unicode, "_HPy_AsStruct_Unicode";
    ctx_AsStruct_Tuple => HPyType_BuiltinShape_Tuple, "_HPy_AsStruct_Tuple";
    ctx_AsStruct_List => HPyType_BuiltinShape_List, "_HPy_AsStruct_List";
    ctx_AsStruct_Dict => HPyType_BuiltinShape_Dict, "_HPy_AsStruct_Dict";
}

// ---- trackers ----

/// A tracker of the debug context: the debug handles to close together.
struct DTracker(Vec<HPy>);

/// Addresses of the trackers not closed yet: a closed (freed) tracker used
/// again is a fatal error instead of a use after free. GIL-guarded.
static TRACKERS: GilCell<BTreeSet<usize>> = GilCell::new(BTreeSet::new());

/// Checks that `ht` is a live tracker and gives its list (`remove` also
/// takes it out of the live set, for `Close`).
fn tracker<'a>(ht: HPyTracker, api: &str, remove: bool) -> &'a mut DTracker {
    let live = TRACKERS.with(|t| {
        if remove {
            t.remove(&(ht._i as usize))
        } else {
            t.contains(&(ht._i as usize))
        }
    });
    if !live {
        fatal(&format!(
            "{api}: invalid HPyTracker (already closed, or never made by HPyTracker_New)"
        ));
    }
    // SAFETY: live trackers are Box<DTracker> allocations from
    // `ctx_Tracker_New`, freed only by `ctx_Tracker_Close`; GIL held.
    unsafe { &mut *(ht._i as *mut DTracker) }
}

/// # Safety
/// Context function (`HPyTracker_New`).
pub unsafe extern "C" fn ctx_Tracker_New(dctx: *mut HPyContext, size: HPy_ssize_t) -> HPyTracker {
    let _busy = enter(dctx, site!(ctx_Tracker_New));
    let t = Box::into_raw(Box::new(DTracker(Vec::with_capacity(size.max(0) as usize))));
    TRACKERS.with(|set| set.insert(t as usize));
    HPyTracker { _i: t as isize }
}

/// # Safety
/// Context function (`HPyTracker_Add`).
pub unsafe extern "C" fn ctx_Tracker_Add(dctx: *mut HPyContext, ht: HPyTracker, h: HPy) -> i32 {
    let _busy = enter(dctx, site!(ctx_Tracker_Add));
    // SAFETY: GIL held; validates (reports) the handle.
    let _ = unsafe { handles::unwrap(h, site!(ctx_Tracker_Add, h)) };
    tracker(ht, "HPyTracker_Add", false).0.push(h);
    0
}

/// # Safety
/// Context function (`HPyTracker_ForgetAll`).
pub unsafe extern "C" fn ctx_Tracker_ForgetAll(dctx: *mut HPyContext, ht: HPyTracker) {
    let _busy = enter(dctx, site!(ctx_Tracker_ForgetAll));
    tracker(ht, "HPyTracker_ForgetAll", false).0.clear();
}

/// # Safety
/// Context function (`HPyTracker_Close`).
pub unsafe extern "C" fn ctx_Tracker_Close(dctx: *mut HPyContext, ht: HPyTracker) {
    let _busy = enter(dctx, site!(ctx_Tracker_Close));
    let t: *mut DTracker = tracker(ht, "HPyTracker_Close", true);
    // SAFETY: the tracker was live and is now out of the live set: nothing
    // else will free it.
    let t = unsafe { Box::from_raw(t) };
    for h in t.0 {
        // SAFETY: GIL held.
        unsafe {
            handles::close(
                h,
                const { &Site::call("ctx_Tracker_Close").null_handle_ok() },
            )
        };
    }
}

// ---- leaving and re-entering Python execution ----

/// # Safety
/// Context function (`HPy_LeavePythonExecution`): GIL held; releases it.
pub unsafe extern "C" fn ctx_LeavePythonExecution(dctx: *mut HPyContext) -> HPyThreadState {
    let mut busy = enter(dctx, site!(ctx_LeavePythonExecution));
    let (inner, f) = inner!(ctx_LeavePythonExecution);
    // SAFETY: the GIL is held (checked by `enter`); the inner function
    // releases it and gives the state to re-enter with.
    let state = unsafe { f(inner) };
    busy.set_left_python(true);
    state
}

/// # Safety
/// Context function (`HPy_ReenterPythonExecution`): runs without the GIL
/// and takes it back.
pub unsafe extern "C" fn ctx_ReenterPythonExecution(dctx: *mut HPyContext, state: HPyThreadState) {
    let mut busy = crate::ctx::enter_without_gil(dctx, site!(ctx_ReenterPythonExecution));
    let (inner, f) = inner!(ctx_ReenterPythonExecution);
    // SAFETY: `state` came from LeavePythonExecution (the API's contract).
    unsafe { f(inner, state) };
    busy.set_left_python(false);
}
