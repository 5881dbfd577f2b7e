//! Building tuples, lists and dicts: `ListBuilder`, `TupleBuilder` (which
//! cancel themselves if dropped unbuilt), and `Tracker`.

use crate::context::Context;
use crate::err::{HPyErr, HPyResult};
use crate::handle::Handle;
use crate::raw;
use hpy_sys::{HPy, HPyListBuilder, HPyTracker, HPyTupleBuilder};

macro_rules! builder {
    ($(#[$doc:meta])* $name:ident, $raw:ident, $new:ident = $new_c:literal, $set:ident = $set_c:literal, $build:ident = $build_c:literal, $cancel:ident) => {
        $(#[$doc])*
        pub struct $name<'c> {
            ctx: Context<'c>,
            raw: Option<$raw>,
            len: usize,
        }

        impl<'c> $name<'c> {
            /// A builder for `len` items; every index must be set before `build`.
            #[doc(alias = $new_c)]
            pub fn new(ctx: Context<'c>, len: usize) -> Self {
                // SAFETY: a live context; an invalid builder (out of memory)
                // makes `build` fail with the exception set.
                let raw = unsafe { raw::$new(ctx.as_ptr(), len as _) };
                $name { ctx, raw: Some(raw), len }
            }

            /// Puts `item` at `index` (the builder keeps its own reference;
            /// `item` is closed when dropped as usual).
            #[doc(alias = $set_c)]
            pub fn set(&mut self, index: usize, item: Handle<'c>) {
                assert!(index < self.len, "builder index {index} out of range for length {}", self.len);
                let b = self.raw.expect("builder used after build");
                // SAFETY: a live context, an unbuilt builder, an index in range
                // and an open handle (the builder does not steal it).
                unsafe { raw::$set(self.ctx.as_ptr(), b, index as _, item.raw()) }
            }

            /// The finished object.
            #[doc(alias = $build_c)]
            pub fn build(mut self) -> HPyResult<Handle<'c>> {
                let b = self.raw.take().expect("builder used after build");
                // SAFETY: a live context and an unbuilt builder, consumed here.
                let h = unsafe { raw::$build(self.ctx.as_ptr(), b) };
                Handle::from_result(self.ctx, h)
            }
        }

        impl Drop for $name<'_> {
            fn drop(&mut self) {
                if let Some(b) = self.raw.take() {
                    // SAFETY: an unbuilt builder, cancelled once.
                    unsafe { raw::$cancel(self.ctx.as_ptr(), b) }
                }
            }
        }
    };
}

builder!(
    /// Builds a `list` of known length (`HPyListBuilder`).
    ListBuilder, HPyListBuilder, ctx_ListBuilder_New = "HPyListBuilder_New", ctx_ListBuilder_Set = "HPyListBuilder_Set", ctx_ListBuilder_Build = "HPyListBuilder_Build", ctx_ListBuilder_Cancel
);
builder!(
    /// Builds a `tuple` of known length (`HPyTupleBuilder`).
    TupleBuilder, HPyTupleBuilder, ctx_TupleBuilder_New = "HPyTupleBuilder_New", ctx_TupleBuilder_Set = "HPyTupleBuilder_Set", ctx_TupleBuilder_Build = "HPyTupleBuilder_Build", ctx_TupleBuilder_Cancel
);

/// A tuple of these items.
#[doc(alias = "HPyTuple_FromArray")]
pub fn tuple_from<'c>(ctx: Context<'c>, items: &[Handle<'c>]) -> HPyResult<Handle<'c>> {
    const STACK: usize = 8;
    let h = if items.len() <= STACK {
        let mut raw = [HPy { _i: 0 }; STACK];
        for (r, i) in raw.iter_mut().zip(items) {
            *r = i.raw();
        }
        // SAFETY: a live context and `items.len()` open handles.
        unsafe { raw::ctx_Tuple_FromArray(ctx.as_ptr(), raw.as_ptr(), items.len() as _) }
    } else {
        let raw: Vec<HPy> = items.iter().map(Handle::raw).collect();
        // SAFETY: as above.
        unsafe { raw::ctx_Tuple_FromArray(ctx.as_ptr(), raw.as_ptr(), raw.len() as _) }
    };
    Handle::from_result(ctx, h)
}

/// A new empty `dict`.
#[doc(alias = "HPyDict_New")]
pub fn new_dict(ctx: Context<'_>) -> HPyResult<Handle<'_>> {
    // SAFETY: a live context.
    Handle::from_result(ctx, unsafe { raw::ctx_Dict_New(ctx.as_ptr()) })
}

/// A new `list` of length `len` whose items are unset: fill it with
/// `set_item`, or start from `new_list(ctx, 0)` and `append`.
#[doc(alias = "HPyList_New")]
pub fn new_list(ctx: Context<'_>, len: usize) -> HPyResult<Handle<'_>> {
    // SAFETY: a live context.
    Handle::from_result(ctx, unsafe { raw::ctx_List_New(ctx.as_ptr(), len as _) })
}

impl<'c> Handle<'c> {
    /// `self.append(item)` for a list.
    #[doc(alias = "HPyList_Append")]
    pub fn append(&self, item: impl crate::IntoHPy<'c>) -> HPyResult<()> {
        let ctx = self.context();
        let i = item.into_hpy(ctx)?;
        // SAFETY: a live context and open handles.
        if unsafe { raw::ctx_List_Append(ctx.as_ptr(), self.raw(), i.raw()) } < 0 {
            Err(HPyErr::pending())
        } else {
            Ok(())
        }
    }
}

/// `HPyTracker`: a set of handles closed together. Owned [`Handle`]s
/// already close themselves; a tracker serves code that works with raw
/// handles (`Handle::into_raw`).
pub struct Tracker<'c> {
    ctx: Context<'c>,
    raw: HPyTracker,
}

impl<'c> Tracker<'c> {
    /// A tracker with room for `size` handles (it grows as needed).
    #[doc(alias = "HPyTracker_New")]
    pub fn new(ctx: Context<'c>, size: usize) -> HPyResult<Self> {
        // SAFETY: a live context.
        let raw = unsafe { raw::ctx_Tracker_New(ctx.as_ptr(), size as _) };
        if raw._i == 0 {
            return Err(HPyErr::pending());
        }
        Ok(Tracker { ctx, raw })
    }

    /// Tracks `h`: it is closed with the tracker. Returns the raw handle,
    /// valid until then.
    #[doc(alias = "HPyTracker_Add")]
    pub fn add(&mut self, h: Handle<'c>) -> HPyResult<HPy> {
        let raw = h.into_raw();
        // SAFETY: a live context, a live tracker and an open handle whose
        // ownership moves to the tracker.
        if unsafe { raw::ctx_Tracker_Add(self.ctx.as_ptr(), self.raw, raw) } < 0 {
            // not tracked: close it ourselves
            // SAFETY: we still own it.
            unsafe { raw::ctx_Close(self.ctx.as_ptr(), raw) };
            return Err(HPyErr::pending());
        }
        Ok(raw)
    }
}

impl Drop for Tracker<'_> {
    #[doc(alias = "HPyTracker_Close")]
    fn drop(&mut self) {
        // SAFETY: a live tracker, closed once (with every handle it holds).
        unsafe { raw::ctx_Tracker_Close(self.ctx.as_ptr(), self.raw) }
    }
}
