//! `HPyStructSequence_NewType` and `HPyStructSequence_New`.
//!
//! As upstream does in universal mode, a struct sequence type is a
//! `collections.namedtuple` (a tuple subclass), built through the context:
//! field names that namedtuple refuses (`HPyStructSequence_UnnamedField`,
//! `"_"`, keywords, duplicates) are renamed to `_<index>`, every field
//! defaults to `None`, and the class carries `n_fields`. `New` checks the
//! item count itself (a namedtuple would quietly fill in the defaults).

use crate::constant;
use crate::ctx::Ctx;
use crate::helpers::{status, system_error, tuple, type_error, Owned, Raised, Res};
use crate::message::Shown;
use crate::msg;
use crate::smallvec::SmallVec;
use core::ffi::CStr;
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPyStructSequence_Desc, HPy_NULL, HPy_ssize_t};

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
        return system_error(ctx, msg!(FUNC, ": desc must not be NULL"));
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
            msg!(FUNC, ": the descriptor's fields must not be NULL"),
        );
    }
    let mut n_fields = 0usize;
    // SAFETY: the array is terminated by an entry with a null name, and we
    // stop there.
    while !unsafe { (*desc.fields.add(n_fields)).name }.is_null() {
        n_fields += 1;
    }

    // "pkg.mod.Name": module "pkg.mod", name "Name"; without a dot the
    // module is "builtins", as for CPython's struct sequences.
    // SAFETY: non-null, NUL-terminated by contract.
    let full = unsafe { CStr::from_ptr(desc.name) }.to_bytes();
    let (module, name) = match full.iter().rposition(|&b| b == b'.') {
        Some(dot) => (
            full.get(..dot).unwrap_or_default(),
            full.get(dot + 1..).unwrap_or_default(),
        ),
        None => (&b"builtins"[..], full),
    };
    let h_name = unicode_from_bytes(ctx, name)?;
    let h_module = unicode_from_bytes(ctx, module)?;

    // the names, then as many `None` defaults (the new handles are closed
    // when `items` goes)
    let mut items = Handles::new(ctx);
    for i in 0..n_fields {
        // SAFETY: live context; `i` is before the terminator (counted above)
        // and each name there is a non-null C string.
        items.push(unsafe { raw::ctx_Unicode_FromString(ctx.0, (*desc.fields.add(i)).name) })?;
    }
    let fields = tuple(ctx, items.as_slice())?;
    items.clear();
    // SAFETY: reading a constant of a live context.
    let none = unsafe { constant!(ctx.0, h_None) };
    for _ in 0..n_fields {
        items.push(ctx.dup(none))?;
    }
    let defaults = tuple(ctx, items.as_slice())?;
    drop(items);

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
            // SAFETY: live context; a NUL-terminated name.
            let placeholder = unsafe { raw::ctx_Unicode_FromString(ctx.0, c"structseq".as_ptr()) };
            make(Owned::new(ctx, placeholder)?.get())?
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
    // SAFETY: live context; `n_fields` fits in isize (it counts array
    // elements).
    let n_fields = Owned::new(ctx, unsafe {
        raw::ctx_Long_FromSsize_t(ctx.0, n_fields as HPy_ssize_t)
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
fn unicode_from_bytes(ctx: Ctx, bytes: &[u8]) -> Res<Owned> {
    Owned::new(ctx, ctx.decode_utf8(bytes, c"strict"))
}

/// New handles (null: the context raised), closed when dropped.
struct Handles {
    ctx: Ctx,
    items: SmallVec<HPy, 8>,
}

impl Handles {
    fn new(ctx: Ctx) -> Handles {
        Handles {
            ctx,
            items: SmallVec::new(),
        }
    }

    fn push(&mut self, h: HPy) -> Res<()> {
        let h = Owned::new(self.ctx, h)?;
        if self.items.push(h.get()).is_err() {
            self.ctx
                .memory_error("HPyStructSequence_NewType: out of memory");
            return Err(Raised);
        }
        h.into_raw();
        Ok(())
    }

    fn as_slice(&self) -> &[HPy] {
        self.items.as_slice()
    }

    fn clear(&mut self) {
        for &h in self.items.as_slice() {
            self.ctx.close(h);
        }
        self.items.truncate(0);
    }
}

impl Drop for Handles {
    fn drop(&mut self) {
        self.clear();
    }
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
        return system_error(ctx, msg!(FUNC, ": type must not be HPy_NULL"));
    }
    let Ok(n) = usize::try_from(nargs) else {
        return system_error(
            ctx,
            msg!(FUNC, ": nargs must not be negative (got ", nargs, ")"),
        );
    };
    if n > 0 && args.is_null() {
        return system_error(ctx, msg!(FUNC, ": args must not be NULL when nargs > 0"));
    }
    let Some(n_fields) = n_fields(ctx, ty) else {
        // upstream's message, trailing space included
        return type_error(
            ctx,
            msg!(
                "object '",
                Shown::Repr(ctx, ty),
                "' does not look like a struct sequence type "
            ),
        );
    };
    if n_fields != nargs {
        // upstream's message (its CPython ABI checks the count too)
        return type_error(
            ctx,
            msg!("expected exactly ", n_fields, " arguments but got ", nargs),
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
