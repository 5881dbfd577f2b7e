//! `Handle<'c>`: an owned HPy handle that closes itself.

use crate::context::Context;
use crate::err::{HPyErr, HPyResult};
use crate::raw;
use hpy_sys::HPy;

/// A handle to a Python object, owned by this value: it is closed exactly
/// once, when the `Handle` is dropped (`HPy_Close`), so safe code can
/// neither leak nor double-close it. [`Handle::dup`] (or `clone`) opens a
/// second handle to the same object.
///
/// Arguments of `#[hpy_def]` functions arrive as `&Handle<'c>`: borrowed for
/// the call, closed by the caller. Keeping an object past the call takes an
/// [`HPyField`](crate::Field) (inside an object) or an
/// [`HPyGlobal`](crate::Global) (module state), never a handle.
pub struct Handle<'c> {
    raw: HPy,
    ctx: Context<'c>,
}

impl<'c> Handle<'c> {
    /// Takes ownership of `raw`, which must not be `HPy_NULL`.
    ///
    /// # Safety
    /// `raw` is an open handle of `ctx` that nothing else will close.
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn from_raw_unchecked(ctx: Context<'c>, raw: HPy) -> Handle<'c> {
        Handle { raw, ctx }
    }

    /// Takes ownership of the result of an API call that returns a new
    /// handle, or `HPy_NULL` with an exception set.
    #[inline(always)]
    pub(crate) fn from_result(ctx: Context<'c>, raw: HPy) -> HPyResult<Handle<'c>> {
        if raw._i == 0 {
            Err(HPyErr::pending())
        } else {
            Ok(Handle { raw, ctx })
        }
    }

    /// Takes ownership of a new handle returned by C code (`HPy_NULL` means
    /// an exception is set).
    ///
    /// # Safety
    /// `raw` is `HPy_NULL` or an open handle of `ctx` that nothing else
    /// will close.
    pub unsafe fn from_raw(ctx: Context<'c>, raw: HPy) -> HPyResult<Handle<'c>> {
        Handle::from_result(ctx, raw)
    }

    /// The raw handle, still owned by `self`.
    #[inline(always)]
    pub fn raw(&self) -> HPy {
        self.raw
    }

    /// Gives up ownership: the caller now closes the raw handle.
    #[inline(always)]
    pub fn into_raw(self) -> HPy {
        let raw = self.raw;
        core::mem::forget(self);
        raw
    }

    /// The context this handle belongs to.
    #[inline(always)]
    pub fn context(&self) -> Context<'c> {
        self.ctx
    }

    /// A second handle to the same object.
    #[doc(alias = "HPy_Dup")]
    #[inline]
    pub fn dup(&self) -> Handle<'c> {
        // SAFETY: an open handle of a live context; Dup returns a new handle
        // (it cannot fail).
        unsafe { Handle::from_raw_unchecked(self.ctx, raw::ctx_Dup(self.ctx.as_ptr(), self.raw)) }
    }
}

impl Drop for Handle<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `self` owns the open handle; this is its only close.
        unsafe { raw::ctx_Close(self.ctx.as_ptr(), self.raw) }
    }
}

impl Clone for Handle<'_> {
    fn clone(&self) -> Self {
        self.dup()
    }
}

impl core::fmt::Debug for Handle<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.repr_string() {
            Ok(s) => f.write_str(&s),
            Err(_) => {
                self.ctx.clear_error();
                write!(f, "<handle {:#x}>", self.raw._i)
            }
        }
    }
}

/// A handle the caller owns, lent for the duration of a call: dropping it
/// does not close it. Made by the generated trampolines, which hand the
/// user's function a `&Handle` to it.
#[doc(hidden)]
pub struct Borrowed<'c>(core::mem::ManuallyDrop<Handle<'c>>);

impl<'c> Borrowed<'c> {
    /// # Safety
    /// `raw` is an open handle of `ctx` for at least as long as the result
    /// lives (the caller of the trampoline keeps it open).
    #[inline(always)]
    pub unsafe fn new(ctx: Context<'c>, raw: HPy) -> Borrowed<'c> {
        // SAFETY: forwarded; ManuallyDrop keeps us from closing it.
        Borrowed(core::mem::ManuallyDrop::new(unsafe {
            Handle::from_raw_unchecked(ctx, raw)
        }))
    }

    #[inline(always)]
    pub fn handle(&self) -> &Handle<'c> {
        &self.0
    }
}

impl<'c> core::ops::Deref for Borrowed<'c> {
    type Target = Handle<'c>;
    #[inline(always)]
    fn deref(&self) -> &Handle<'c> {
        &self.0
    }
}
