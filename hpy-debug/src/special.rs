//! Context members whose arguments need more than "unwrap each handle":
//! handle arrays, out-parameters, `Close`, trackers and type-spec parameters.

use crate::handles;
use hpy_sys::*;

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

/// Unwraps `n` debug handles starting at `items`.
///
/// # Safety
/// `items` points to `n` handles (or `n` is 0); GIL held.
unsafe fn unwrap_array(items: *const HPy, n: usize) -> Vec<HPy> {
    if n == 0 || items.is_null() {
        return Vec::new();
    }
    // SAFETY: caller guarantees `n` readable handles.
    let s = unsafe { std::slice::from_raw_parts(items, n) };
    // SAFETY: GIL held.
    s.iter().map(|&h| unsafe { handles::unwrap(h) }).collect()
}

/// Number of keyword names in a (universal) kwnames tuple handle.
///
/// # Safety
/// GIL held; `kw` is NULL or an open inner handle.
unsafe fn kw_len(kw: HPy) -> usize {
    if kw.is_null() {
        return 0;
    }
    let (inner, len) = inner!(ctx_Length);
    // SAFETY: `kw` is an open inner handle; GIL held.
    let n = unsafe { len(inner, kw) };
    n.max(0) as usize
}

/// # Safety
/// Context function: GIL held, arguments as documented for `HPy_Close`.
pub unsafe extern "C" fn ctx_Close(_dctx: *mut HPyContext, h: HPy) {
    // SAFETY: forwarded contract.
    unsafe { handles::close(h) }
}

/// # Safety
/// Context function (`HPy_Call`).
pub unsafe extern "C" fn ctx_Call(
    _dctx: *mut HPyContext,
    callable: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: GIL held; `args` holds nargs + len(kwnames) handles (HPy_Call's
    // contract), translated one by one before the inner call.
    unsafe {
        let callable = handles::unwrap(callable);
        let kwnames = handles::unwrap(kwnames);
        let items = unwrap_array(args, nargs + kw_len(kwnames));
        let (inner, f) = inner!(ctx_Call);
        handles::wrap(f(inner, callable, items.as_ptr(), nargs, kwnames))
    }
}

/// # Safety
/// Context function (`HPy_CallMethod`).
pub unsafe extern "C" fn ctx_CallMethod(
    _dctx: *mut HPyContext,
    name: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: as in `ctx_Call` (args[0] is the receiver, counted in nargs).
    unsafe {
        let name = handles::unwrap(name);
        let kwnames = handles::unwrap(kwnames);
        let items = unwrap_array(args, nargs + kw_len(kwnames));
        let (inner, f) = inner!(ctx_CallMethod);
        handles::wrap(f(inner, name, items.as_ptr(), nargs, kwnames))
    }
}

/// # Safety
/// Context function (`HPyTuple_FromArray`).
pub unsafe extern "C" fn ctx_Tuple_FromArray(
    _dctx: *mut HPyContext,
    items: *const HPy,
    n: HPy_ssize_t,
) -> HPy {
    // SAFETY: `items` holds `n` handles; GIL held.
    unsafe {
        let items = unwrap_array(items, n.max(0) as usize);
        let (inner, f) = inner!(ctx_Tuple_FromArray);
        handles::wrap(f(inner, items.as_ptr(), n))
    }
}

/// # Safety
/// Context function (`HPyType_GenericNew`).
pub unsafe extern "C" fn ctx_Type_GenericNew(
    _dctx: *mut HPyContext,
    type_: HPy,
    args: *const HPy,
    nargs: HPy_ssize_t,
    kw: HPy,
) -> HPy {
    // SAFETY: `args` holds `nargs` handles; GIL held.
    unsafe {
        let type_ = handles::unwrap(type_);
        let kw = handles::unwrap(kw);
        let items = unwrap_array(args, nargs.max(0) as usize);
        let (inner, f) = inner!(ctx_Type_GenericNew);
        handles::wrap(f(inner, type_, items.as_ptr(), nargs, kw))
    }
}

/// # Safety
/// Context function (`HPyContextVar_Get`).
pub unsafe extern "C" fn ctx_ContextVar_Get(
    _dctx: *mut HPyContext,
    context_var: HPy,
    default_value: HPy,
    result: *mut HPy,
) -> i32 {
    // SAFETY: GIL held; `result` is a valid out-pointer (API contract).
    unsafe {
        let cv = handles::unwrap(context_var);
        let dv = handles::unwrap(default_value);
        let mut out = HPy_NULL;
        let (inner, f) = inner!(ctx_ContextVar_Get);
        let r = f(inner, cv, dv, &mut out);
        if r >= 0 && !result.is_null() {
            *result = handles::wrap(out);
        }
        r
    }
}

/// # Safety
/// Context function (`HPyType_FromSpec`): the `object` of each parameter is
/// a debug handle.
pub unsafe extern "C" fn ctx_Type_FromSpec(
    _dctx: *mut HPyContext,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> HPy {
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
                    item.object = handles::unwrap(item.object);
                }
                copy.push(item);
                if end {
                    break;
                }
                p = p.add(1);
            }
        }
        let ptr = if params.is_null() { std::ptr::null_mut() } else { copy.as_mut_ptr() };
        let (inner, f) = inner!(ctx_Type_FromSpec);
        handles::wrap(f(inner, spec, ptr))
    }
}

/// A tracker of the debug context: the debug handles to close together.
struct DTracker(Vec<HPy>);

fn tracker<'a>(ht: HPyTracker) -> &'a mut DTracker {
    // SAFETY: `ht` was returned by `ctx_Tracker_New` and not closed yet (API
    // contract); GIL held.
    unsafe { &mut *(ht._i as *mut DTracker) }
}

/// # Safety
/// Context function (`HPyTracker_New`).
pub unsafe extern "C" fn ctx_Tracker_New(_dctx: *mut HPyContext, size: HPy_ssize_t) -> HPyTracker {
    let t = Box::new(DTracker(Vec::with_capacity(size.max(0) as usize)));
    HPyTracker { _i: Box::into_raw(t) as isize }
}

/// # Safety
/// Context function (`HPyTracker_Add`).
pub unsafe extern "C" fn ctx_Tracker_Add(_dctx: *mut HPyContext, ht: HPyTracker, h: HPy) -> i32 {
    // SAFETY: GIL held; validates (reports) the handle.
    let _ = unsafe { handles::unwrap(h) };
    tracker(ht).0.push(h);
    0
}

/// # Safety
/// Context function (`HPyTracker_ForgetAll`).
pub unsafe extern "C" fn ctx_Tracker_ForgetAll(_dctx: *mut HPyContext, ht: HPyTracker) {
    tracker(ht).0.clear();
}

/// # Safety
/// Context function (`HPyTracker_Close`).
pub unsafe extern "C" fn ctx_Tracker_Close(_dctx: *mut HPyContext, ht: HPyTracker) {
    // SAFETY: `ht` came from Box::into_raw in `ctx_Tracker_New` and is not
    // used again after this call (API contract).
    let t = unsafe { Box::from_raw(ht._i as *mut DTracker) };
    for h in t.0 {
        // SAFETY: GIL held.
        unsafe { handles::close(h) };
    }
}
