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
use core::ffi::CStr;
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPyStructSequence_Desc, HPyTracker, HPy_NULL, HPy_ssize_t};

/// # Safety
/// Arguments as received by `HPyStructSequence_NewType`: `ctx` is live;
/// `desc` is null or points to a descriptor whose non-null strings are
/// NUL-terminated and whose non-null `fields` array ends with a null name.
pub unsafe fn new_type(ctx: Ctx, desc: *mut HPyStructSequence_Desc) -> HPy {
    // every handle opened on the way, closed together at the end (one
    // cleanup path rather than one per failure point)
    let mut scope = Handles::new(ctx);
    // SAFETY: forwarded contract.
    match unsafe { new_type_impl(&mut scope, desc) } {
        Ok(ty) => ctx.dup(ty),
        Err(Raised) => HPy_NULL,
    }
}

/// The new type, left open in `scope`.
///
/// # Safety
/// As [`new_type`].
unsafe fn new_type_impl(scope: &mut Handles, desc: *mut HPyStructSequence_Desc) -> Res<HPy> {
    // the messages name the function (joined at compile time)
    macro_rules! func {
        ($text:literal) => {
            concat!("HPyStructSequence_NewType: ", $text)
        };
    }
    let ctx = scope.ctx;
    // SAFETY: null or valid by contract.
    let Some(desc) = (unsafe { desc.as_ref() }) else {
        return system_error(ctx, func!("desc must not be NULL"));
    };
    if desc.name.is_null() {
        // upstream's message
        return system_error(
            ctx,
            "Struct sequence descriptor does not define the name field.",
        );
    }
    if desc.fields.is_null() {
        return system_error(ctx, func!("the descriptor's fields must not be NULL"));
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
    let h_name = scope.add(ctx.decode_utf8(name, c"strict"))?;
    let h_module = scope.add(ctx.decode_utf8(module, c"strict"))?;

    // the names, and as many `None` defaults (lists: namedtuple makes
    // tuples of both)
    // SAFETY: live context.
    let fields = scope.add(unsafe { raw::ctx_List_New(ctx.0, 0) })?;
    // SAFETY: as above.
    let defaults = scope.add(unsafe { raw::ctx_List_New(ctx.0, 0) })?;
    // SAFETY: reading a constant of a live context.
    let none = unsafe { constant!(ctx.0, h_None) };
    for i in 0..n_fields {
        // SAFETY: live context; `i` is before the terminator (counted above)
        // and each name there is a non-null C string.
        let name =
            scope.add(unsafe { raw::ctx_Unicode_FromString(ctx.0, (*desc.fields.add(i)).name) })?;
        for (list, item) in [(fields, name), (defaults, none)] {
            // SAFETY: live context; `list` is an open list, `item` open.
            status(unsafe { raw::ctx_List_Append(ctx.0, list, item) })?;
        }
    }

    // namedtuple(name, fields, rename=True, defaults=..., module=...)
    // SAFETY: live context.
    let kwds = scope.add(unsafe { raw::ctx_Dict_New(ctx.0) })?;
    // SAFETY: reading a constant of a live context.
    let true_ = unsafe { constant!(ctx.0, h_True) };
    for (key, value) in [
        (c"rename", true_),
        (c"defaults", defaults),
        (c"module", h_module),
    ] {
        // SAFETY: live context; `kwds` and `value` are open; `key` is
        // NUL-terminated.
        status(unsafe { raw::ctx_SetItem_s(ctx.0, kwds, key.as_ptr(), value) })?;
    }
    // SAFETY: live context; the names are NUL-terminated; `collections`
    // is open.
    let namedtuple = unsafe {
        let collections =
            scope.add(raw::ctx_Import_ImportModule(ctx.0, c"collections".as_ptr()))?;
        scope.add(raw::ctx_GetAttr_s(
            ctx.0,
            collections,
            c"namedtuple".as_ptr(),
        ))?
    };
    // With rename=True, a ValueError can only mean that namedtuple refused
    // the type name (not an identifier, or a keyword): build the type under
    // a placeholder, then rename it (its methods keep the placeholder in
    // their __qualname__, as upstream's always do).
    let mut typename = h_name;
    let mut renamed = false;
    let ty = loop {
        // SAFETY: live context; an array of two open handles.
        let args = scope
            .add(unsafe { raw::ctx_Tuple_FromArray(ctx.0, [typename, fields].as_ptr(), 2) })?;
        // SAFETY: live context; all handles are open.
        match scope.add(unsafe { raw::ctx_CallTupleDict(ctx.0, namedtuple, args, kwds) }) {
            Ok(ty) => break ty,
            Err(Raised) if !renamed && value_error_pending(ctx) => {
                renamed = true;
                // SAFETY: live context; a NUL-terminated name.
                unsafe { raw::ctx_Err_Clear(ctx.0) };
                // SAFETY: as above.
                typename = scope
                    .add(unsafe { raw::ctx_Unicode_FromString(ctx.0, c"structseq".as_ptr()) })?;
            }
            Err(Raised) => return Err(Raised),
        }
    };

    let doc = if desc.doc.is_null() {
        none
    } else {
        // SAFETY: live context; non-null C string by contract.
        scope.add(unsafe { raw::ctx_Unicode_FromString(ctx.0, desc.doc) })?
    };
    // SAFETY: live context; `n_fields` fits in isize (it counts array
    // elements).
    let n_fields =
        scope.add(unsafe { raw::ctx_Long_FromSsize_t(ctx.0, n_fields as HPy_ssize_t) })?;
    let attrs = [
        (c"__doc__", doc),
        (c"n_fields", n_fields),
        (c"__name__", h_name),
        (c"__qualname__", h_name),
    ];
    for (attr, value) in attrs {
        // SAFETY: live context; `ty` and `value` are open; `attr` is
        // NUL-terminated.
        status(unsafe { raw::ctx_SetAttr_s(ctx.0, ty, attr.as_ptr(), value) })?;
    }
    Ok(ty)
}

/// Whether the pending exception is a `ValueError`.
fn value_error_pending(ctx: Ctx) -> bool {
    // SAFETY: live context; reading one of its constants.
    unsafe { raw::ctx_Err_ExceptionMatches(ctx.0, constant!(ctx.0, h_ValueError)) != 0 }
}

/// New handles, closed together when dropped: the context's tracker.
struct Handles {
    ctx: Ctx,
    tracker: HPyTracker,
}

impl Handles {
    fn new(ctx: Ctx) -> Handles {
        Handles {
            ctx,
            // SAFETY: live context; 0 asks for the default size. A null
            // tracker (MemoryError set) fails the first `add`.
            tracker: unsafe { raw::ctx_Tracker_New(ctx.0, 0) },
        }
    }

    /// Keep `h`, a new handle from the context (null: it raised), until
    /// the end; return it.
    fn add(&mut self, h: HPy) -> Res<HPy> {
        if h.is_null() {
            return Err(Raised);
        }
        if self.tracker._i == 0 {
            // no tracker (its MemoryError is set)
            self.ctx.close(h);
            return Err(Raised);
        }
        // SAFETY: live context; the tracker and `h` are open and ours. It
        // keeps `h` even when it fails (MemoryError, growing).
        if unsafe { raw::ctx_Tracker_Add(self.ctx.0, self.tracker, h) } < 0 {
            return Err(Raised);
        }
        Ok(h)
    }
}

impl Drop for Handles {
    fn drop(&mut self) {
        if self.tracker._i != 0 {
            // SAFETY: live context; the tracker is open and ours.
            unsafe { raw::ctx_Tracker_Close(self.ctx.0, self.tracker) }
        }
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
    macro_rules! func {
        ($text:literal) => {
            concat!("HPyStructSequence_New: ", $text)
        };
    }
    if ty.is_null() {
        return system_error(ctx, func!("type must not be HPy_NULL"));
    }
    let Ok(n) = usize::try_from(nargs) else {
        return system_error(
            ctx,
            msg!(func!("nargs must not be negative (got "), nargs, ")"),
        );
    };
    if n > 0 && args.is_null() {
        return system_error(ctx, func!("args must not be NULL when nargs > 0"));
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
