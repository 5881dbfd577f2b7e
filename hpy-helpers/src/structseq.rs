//! `HPyStructSequence_NewType` and `HPyStructSequence_New`.
//!
//! As upstream does in universal mode, a struct sequence type is a
//! `collections.namedtuple` (a tuple subclass), built through the context:
//! field names that namedtuple refuses (`HPyStructSequence_UnnamedField`,
//! `"_"`, keywords, duplicates) are renamed to `_<index>`, every field
//! defaults to `None`, and the class carries `n_fields`. `New` checks the
//! item count itself (a namedtuple would quietly fill in the defaults).

use crate::constant;
use crate::ctx::{to_cstring, Ctx};
use crate::helpers::{status, system_error, tuple, type_error, Owned, Raised, Res};
use core::ffi::{c_char, CStr};
use hpy_core::raw;
use hpy_sys::{HPy, HPyStructSequence_Desc, HPy_NULL, HPy_ssize_t};
use std::ffi::CString;

/// # Safety
/// Arguments as received by `HPyStructSequence_NewType`: `ctx` is live;
/// `desc` is null or points to a descriptor whose non-null strings are
/// NUL-terminated and whose non-null `fields` array ends with a null name.
pub unsafe fn new_type(ctx: Ctx, desc: *mut HPyStructSequence_Desc) -> HPy {
    // SAFETY: forwarded contract.
    match unsafe { new_type_impl(ctx, desc) } {
        Ok(t) => t.into_raw(),
        Err(Raised) => HPy_NULL,
    }
}

/// # Safety
/// As [`new_type`].
unsafe fn new_type_impl(ctx: Ctx, desc: *mut HPyStructSequence_Desc) -> Res<Owned> {
    const FUNC: &str = "HPyStructSequence_NewType";
    // SAFETY: null or valid by contract.
    let Some(desc) = (unsafe { desc.as_ref() }) else {
        return system_error(ctx, &format!("{FUNC}: desc must not be NULL"));
    };
    if desc.name.is_null() {
        // upstream's message
        return system_error(
            ctx,
            "Struct sequence descriptor does not define the name field.",
        );
    }
    if desc.fields.is_null() {
        return system_error(
            ctx,
            &format!("{FUNC}: the descriptor's fields must not be NULL"),
        );
    }
    let mut field_names: Vec<*const c_char> = Vec::new();
    loop {
        // SAFETY: the array is terminated by an entry with a null name, and
        // we stop there.
        let name = unsafe { (*desc.fields.add(field_names.len())).name };
        if name.is_null() {
            break;
        }
        field_names.push(name);
    }

    // "pkg.mod.Name": module "pkg.mod", name "Name"; without a dot the
    // module is "builtins", as for CPython's struct sequences.
    // SAFETY: non-null, NUL-terminated by contract.
    let full = unsafe { CStr::from_ptr(desc.name) }.to_bytes();
    let (module, name) = match full.iter().rposition(|&b| b == b'.') {
        Some(dot) => (&full[..dot], &full[dot + 1..]),
        None => (&b"builtins"[..], full),
    };
    let h_name = unicode_from_bytes(ctx, name)?;
    let h_module = unicode_from_bytes(ctx, module)?;

    let fields = field_names
        .iter()
        // SAFETY: live context; each name is a non-null C string.
        .map(|&f| Owned::new(ctx, unsafe { raw::ctx_Unicode_FromString(ctx.0, f) }))
        .collect::<Res<Vec<Owned>>>()?;
    let fields = tuple(ctx, &fields.iter().map(Owned::get).collect::<Vec<_>>())?;
    // SAFETY: reading a constant of a live context.
    let none = unsafe { constant!(ctx.0, h_None) };
    let defaults = tuple(ctx, &vec![none; field_names.len()])?;

    // namedtuple(name, fields, rename=True, defaults=..., module=...)
    // SAFETY: live context.
    let kwds = Owned::new(ctx, unsafe { raw::ctx_Dict_New(ctx.0) })?;
    // SAFETY: reading a constant of a live context.
    let true_ = unsafe { constant!(ctx.0, h_True) };
    for (key, value) in [
        (c"rename", true_),
        (c"defaults", defaults.get()),
        (c"module", h_module.get()),
    ] {
        // SAFETY: live context; `kwds` and `value` are open; `key` is
        // NUL-terminated.
        status(unsafe { raw::ctx_SetItem_s(ctx.0, kwds.get(), key.as_ptr(), value) })?;
    }
    let namedtuple = namedtuple(ctx)?;
    let make = |typename: HPy| -> Res<Owned> {
        let args = tuple(ctx, &[typename, fields.get()])?;
        // SAFETY: live context; all handles are open.
        Owned::new(ctx, unsafe {
            raw::ctx_CallTupleDict(ctx.0, namedtuple.get(), args.get(), kwds.get())
        })
    };
    // With rename=True, a ValueError can only mean that namedtuple refused
    // the type name (not an identifier, or a keyword): build the type under
    // a placeholder, then rename it (its methods keep the placeholder in
    // their __qualname__, as upstream's always do).
    let ty = match make(h_name.get()) {
        Ok(ty) => ty,
        Err(Raised) if value_error_pending(ctx) => {
            // SAFETY: live context.
            unsafe { raw::ctx_Err_Clear(ctx.0) };
            make(Owned::new(ctx, ctx.unicode("structseq"))?.get())?
        }
        Err(Raised) => return Err(Raised),
    };

    let doc = if desc.doc.is_null() {
        None
    } else {
        // SAFETY: live context; non-null C string by contract.
        Some(Owned::new(ctx, unsafe {
            raw::ctx_Unicode_FromString(ctx.0, desc.doc)
        })?)
    };
    // SAFETY: live context; `field_names.len()` fits in isize (it counts
    // array elements).
    let n_fields = Owned::new(ctx, unsafe {
        raw::ctx_Long_FromSsize_t(ctx.0, field_names.len() as HPy_ssize_t)
    })?;
    let attrs = [
        (c"__doc__", doc.as_ref().map_or(none, Owned::get)),
        (c"n_fields", n_fields.get()),
        (c"__name__", h_name.get()),
        (c"__qualname__", h_name.get()),
    ];
    for (attr, value) in attrs {
        // SAFETY: live context; `ty` and `value` are open; `attr` is
        // NUL-terminated.
        status(unsafe { raw::ctx_SetAttr_s(ctx.0, ty.get(), attr.as_ptr(), value) })?;
    }
    Ok(ty)
}

/// `collections.namedtuple`.
fn namedtuple(ctx: Ctx) -> Res<Owned> {
    // SAFETY: live context; the names are NUL-terminated.
    let collections = Owned::new(ctx, unsafe {
        raw::ctx_Import_ImportModule(ctx.0, c"collections".as_ptr())
    })?;
    // SAFETY: as above; `collections` is open.
    Owned::new(ctx, unsafe {
        raw::ctx_GetAttr_s(ctx.0, collections.get(), c"namedtuple".as_ptr())
    })
}

/// Whether the pending exception is a `ValueError`.
fn value_error_pending(ctx: Ctx) -> bool {
    // SAFETY: live context; reading one of its constants.
    unsafe { raw::ctx_Err_ExceptionMatches(ctx.0, constant!(ctx.0, h_ValueError)) != 0 }
}

/// A `str` from bytes that should be UTF-8 (a `UnicodeDecodeError` if not).
/// The bytes come from a C string, so they hold no NUL.
fn unicode_from_bytes(ctx: Ctx, bytes: &[u8]) -> Res<Owned> {
    let c = CString::new(bytes).unwrap_or_else(|_| to_cstring(&String::from_utf8_lossy(bytes)));
    // SAFETY: live context; `c` is NUL-terminated.
    Owned::new(ctx, unsafe {
        raw::ctx_Unicode_FromString(ctx.0, c.as_ptr())
    })
}

/// # Safety
/// Arguments as received by `HPyStructSequence_New`: `ctx` is live, `ty`
/// open or null, `args` null or holding `nargs` open handles.
pub unsafe fn new(ctx: Ctx, ty: HPy, nargs: HPy_ssize_t, args: *mut HPy) -> HPy {
    // SAFETY: forwarded contract.
    match unsafe { new_impl(ctx, ty, nargs, args) } {
        Ok(t) => t.into_raw(),
        Err(Raised) => HPy_NULL,
    }
}

/// # Safety
/// As [`new`].
unsafe fn new_impl(ctx: Ctx, ty: HPy, nargs: HPy_ssize_t, args: *mut HPy) -> Res<Owned> {
    const FUNC: &str = "HPyStructSequence_New";
    if ty.is_null() {
        return system_error(ctx, &format!("{FUNC}: type must not be HPy_NULL"));
    }
    let Ok(n) = usize::try_from(nargs) else {
        return system_error(
            ctx,
            &format!("{FUNC}: nargs must not be negative (got {nargs})"),
        );
    };
    if n > 0 && args.is_null() {
        return system_error(
            ctx,
            &format!("{FUNC}: args must not be NULL when nargs > 0"),
        );
    }
    let Some(n_fields) = n_fields(ctx, ty) else {
        // upstream's message, trailing space included
        let repr = repr(ctx, ty);
        return type_error(
            ctx,
            &format!("object '{repr}' does not look like a struct sequence type "),
        );
    };
    if n_fields != nargs {
        // upstream's message (its CPython ABI checks the count too)
        return type_error(
            ctx,
            &format!("expected exactly {n_fields} arguments but got {nargs}"),
        );
    }
    let items: &[HPy] = if n == 0 {
        &[]
    } else {
        // SAFETY: non-null and holding `nargs` handles by contract.
        unsafe { core::slice::from_raw_parts(args, n) }
    };
    let items = tuple(ctx, items)?;
    // SAFETY: live context; `ty` and `items` are open; no keywords.
    Owned::new(ctx, unsafe {
        raw::ctx_CallTupleDict(ctx.0, ty, items.get(), HPy_NULL)
    })
}

/// `ty.n_fields` if `ty` is a type with an integer `n_fields`; otherwise
/// None, with no exception left set.
fn n_fields(ctx: Ctx, ty: HPy) -> Option<HPy_ssize_t> {
    // SAFETY: live context; `ty` is open; reading a constant.
    let is_type = unsafe { raw::ctx_TypeCheck(ctx.0, ty, constant!(ctx.0, h_TypeType)) } != 0;
    if !is_type {
        return None;
    }
    // SAFETY: live context; `ty` is open; the name is NUL-terminated.
    let attr = unsafe { raw::ctx_GetAttr_s(ctx.0, ty, c"n_fields".as_ptr()) };
    let Ok(attr) = Owned::new(ctx, attr) else {
        // SAFETY: live context.
        unsafe { raw::ctx_Err_Clear(ctx.0) };
        return None;
    };
    // SAFETY: live context; `attr` is open.
    let n = unsafe { raw::ctx_Long_AsSsize_t(ctx.0, attr.get()) };
    if n == -1 && ctx.err_occurred() {
        // SAFETY: live context.
        unsafe { raw::ctx_Err_Clear(ctx.0) };
        return None;
    }
    Some(n)
}

/// `repr(h)` for a message; `"<?>"` if that fails (the error is cleared).
fn repr(ctx: Ctx, h: HPy) -> String {
    // SAFETY: live context; `h` is open.
    let r = unsafe { raw::ctx_Repr(ctx.0, h) };
    let text = Owned::new(ctx, r).ok().and_then(|r| ctx.utf8(r.get()));
    text.unwrap_or_else(|| {
        // SAFETY: live context.
        unsafe { raw::ctx_Err_Clear(ctx.0) };
        "<?>".to_owned()
    })
}
