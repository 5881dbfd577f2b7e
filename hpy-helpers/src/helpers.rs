//! `HPyHelpers_AddType` and `HPyHelpers_PackArgsAndKeywords`, plus the small
//! owned-handle toolkit that this module and `structseq` share: [`Owned`]
//! closes its handle on every path, [`Raised`] means "an exception is set".

use crate::ctx::{Ctx, ErrorText};
use crate::message::TypeName;
use crate::msg;
use core::ffi::{c_char, c_int};
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPyType_Spec, HPyType_SpecParam, HPy_NULL, HPy_ssize_t};

/// The Python exception has been set through the context; unwind to the
/// C entry point and return its error sentinel.
#[derive(Debug)]
pub(crate) struct Raised;

pub(crate) type Res<T> = Result<T, Raised>;

/// Set `SystemError(msg)` and fail.
pub(crate) fn system_error<T>(ctx: Ctx, msg: impl ErrorText) -> Res<T> {
    ctx.system_error(msg);
    Err(Raised)
}

/// Set `TypeError(msg)` and fail.
pub(crate) fn type_error<T>(ctx: Ctx, msg: impl ErrorText) -> Res<T> {
    ctx.type_error(msg);
    Err(Raised)
}

/// A context status code (`0` success, `-1` exception set) as a `Res`.
pub(crate) fn status(code: c_int) -> Res<()> {
    if code < 0 {
        Err(Raised)
    } else {
        Ok(())
    }
}

/// A handle this code owns; closed when dropped.
pub(crate) struct Owned {
    ctx: Ctx,
    h: HPy,
}

impl Owned {
    /// Take ownership of a handle returned by the context; a null handle
    /// means the context set an exception.
    pub(crate) fn new(ctx: Ctx, h: HPy) -> Res<Owned> {
        if h.is_null() {
            Err(Raised)
        } else {
            Ok(Owned { ctx, h })
        }
    }

    pub(crate) fn get(&self) -> HPy {
        self.h
    }

    /// Hand the handle over to the caller, who must close it.
    pub(crate) fn into_raw(self) -> HPy {
        let h = self.h;
        core::mem::forget(self);
        h
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.ctx.close(self.h);
    }
}

/// A new tuple of `items`.
pub(crate) fn tuple(ctx: Ctx, items: &[HPy]) -> Res<Owned> {
    // SAFETY: live context; `items` is a valid array of open handles (a
    // non-null pointer even when empty); a slice never exceeds isize::MAX
    // elements.
    let t = unsafe { raw::ctx_Tuple_FromArray(ctx.0, items.as_ptr(), items.len() as HPy_ssize_t) };
    Owned::new(ctx, t)
}

/// # Safety
/// Arguments as received by `HPyHelpers_AddType`: `ctx` is live, `obj` open
/// or null, `name` and `spec` null or valid, `params` null or a
/// zero-terminated parameter array.
pub unsafe fn add_type(
    ctx: Ctx,
    obj: HPy,
    name: *const c_char,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> c_int {
    // SAFETY: forwarded contract.
    match unsafe { add_type_impl(ctx, obj, name, spec, params) } {
        Ok(()) => 1,
        Err(Raised) => 0,
    }
}

/// # Safety
/// As [`add_type`].
unsafe fn add_type_impl(
    ctx: Ctx,
    obj: HPy,
    name: *const c_char,
    spec: *mut HPyType_Spec,
    params: *mut HPyType_SpecParam,
) -> Res<()> {
    if obj.is_null() {
        return system_error(ctx, "HPyHelpers_AddType: obj must not be HPy_NULL");
    }
    if name.is_null() {
        return system_error(ctx, "HPyHelpers_AddType: name must not be NULL");
    }
    if spec.is_null() {
        return system_error(ctx, "HPyHelpers_AddType: spec must not be NULL");
    }
    // SAFETY: live context; `spec` is non-null and, like `params`, valid by
    // the caller's contract.
    let ty = Owned::new(ctx, unsafe { raw::ctx_Type_FromSpec(ctx.0, spec, params) })?;
    // SAFETY: live context; `obj` and `ty` are open; `name` is a non-null C
    // string by contract.
    status(unsafe { raw::ctx_SetAttr_s(ctx.0, obj, name, ty.get()) })
}

/// # Safety
/// Arguments as received by `HPyHelpers_PackArgsAndKeywords`: `ctx` is live;
/// `args` holds `nargs` positional handles followed by one handle per entry
/// of `kwnames` (or is null when there are none); the out pointers are null
/// or writable.
pub unsafe fn pack_args_and_keywords(
    ctx: Ctx,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
    out_args: *mut HPy,
    out_kwd: *mut HPy,
) -> c_int {
    // Upstream's messages, naming the parameters as its documentation does.
    if out_args.is_null() {
        ctx.system_error("argument 'out_pos_args' must not be NULL");
        return 0;
    }
    if out_kwd.is_null() {
        ctx.system_error("argument 'out_kwd' must not be NULL");
        return 0;
    }
    // SAFETY: forwarded contract.
    match unsafe { pack(ctx, args, nargs, kwnames) } {
        Ok((pos, kwd)) => {
            // Written only on success, as documented upstream.
            // SAFETY: both out pointers are non-null and writable by contract.
            unsafe {
                *out_args = pos.map_or(HPy_NULL, Owned::into_raw);
                *out_kwd = kwd.map_or(HPy_NULL, Owned::into_raw);
            }
            1
        }
        Err(Raised) => 0,
    }
}

/// The positional tuple (None if `nargs == 0`) and keyword dict (None if
/// there are no keywords).
///
/// # Safety
/// As [`pack_args_and_keywords`].
unsafe fn pack(
    ctx: Ctx,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> Res<(Option<Owned>, Option<Owned>)> {
    // the messages name the function (joined at compile time)
    macro_rules! func {
        ($text:literal) => {
            concat!("HPyHelpers_PackArgsAndKeywords: ", $text)
        };
    }
    let nkw = if kwnames.is_null() {
        0
    } else {
        // SAFETY: live context; `kwnames` is open.
        if unsafe { raw::ctx_Tuple_Check(ctx.0, kwnames) } == 0 {
            return type_error(
                ctx,
                msg!(
                    func!("kwnames must be a tuple or HPy_NULL, not '"),
                    TypeName(ctx, kwnames),
                    "'"
                ),
            );
        }
        // SAFETY: live context; `kwnames` is an open tuple.
        let n = unsafe { raw::ctx_Length(ctx.0, kwnames) };
        usize::try_from(n).map_err(|_| Raised)?
    };
    let total = match nargs.checked_add(nkw) {
        Some(t) if t <= isize::MAX as usize => t,
        _ => return system_error(ctx, msg!(func!("nargs is too large ("), nargs, ")")),
    };
    if total == 0 {
        return Ok((None, None));
    }
    if args.is_null() {
        return system_error(ctx, func!("args must not be NULL when there are arguments"));
    }
    // SAFETY: non-null, and the caller promises `nargs` positional plus `nkw`
    // keyword handles (`total` fits in isize).
    let args = unsafe { core::slice::from_raw_parts(args, total) };
    let (positional, values) = args.split_at(nargs);

    let kwd = if nkw == 0 {
        None
    } else {
        // SAFETY: live context.
        let kwd = Owned::new(ctx, unsafe { raw::ctx_Dict_New(ctx.0) })?;
        for (i, &value) in values.iter().enumerate() {
            // SAFETY: live context; `kwnames` is an open tuple of length `nkw`.
            let key = Owned::new(ctx, unsafe {
                raw::ctx_GetItem_i(ctx.0, kwnames, i as HPy_ssize_t)
            })?;
            // SAFETY: live context; all three handles are open.
            status(unsafe { raw::ctx_SetItem(ctx.0, kwd.get(), key.get(), value) })?;
        }
        Some(kwd)
    };
    let pos = if positional.is_empty() {
        None
    } else {
        Some(tuple(ctx, positional)?)
    };
    Ok((pos, kwd))
}
