//! Calling the context from the helpers.
//!
//! The helpers run inside an extension and reach the interpreter only through
//! the `HPyContext` they were given (universal, debug or trace: whichever the
//! loader passed), so every call goes through the function table: by
//! `hpy_sys::call::loaded::ctx_*` (imported as `raw`), the call layer
//! hpy-core's raw layer re-exports, minus the empty-slot test for the
//! members of HPy 0.9.0's context, which every runtime that loads a module
//! fills. Inside the CPython ABI's static runtime (hpy-cpython-abi, feature
//! `direct-calls`) those calls go to the runtime's functions by name instead.

use crate::message::Message;
use core::ffi::c_char;
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPyContext};

/// A context handle constant, e.g. `constant!(ctx, h_TypeError)`.
/// Must be used inside `unsafe` (reads through `ctx`).
#[macro_export]
macro_rules! constant {
    ($ctx:expr, $name:ident) => {{
        let ctx: *mut ::hpy_sys::HPyContext = $ctx;
        (*ctx).$name
    }};
}

/// An exception's message: a fixed text or a built [`Message`] (each set
/// by its own function, so that a built one is not copied).
pub trait ErrorText {
    fn set_as_error(self, ctx: Ctx, exc: HPy);
}

impl ErrorText for &str {
    #[inline(always)]
    fn set_as_error(self, ctx: Ctx, exc: HPy) {
        ctx.set_text(exc, self)
    }
}

impl ErrorText for Message {
    #[inline(always)]
    fn set_as_error(self, ctx: Ctx, exc: HPy) {
        ctx.set_message(exc, self)
    }
}

/// A context, as the helpers use it.
#[derive(Clone, Copy)]
pub struct Ctx(pub *mut HPyContext);

impl Ctx {
    /// Set an exception of type `exc` (a context constant such as
    /// `h_TypeError`) with message `msg`.
    #[inline(always)]
    pub fn set_error(self, exc: HPy, msg: impl ErrorText) {
        msg.set_as_error(self, exc)
    }

    /// [`Ctx::set_error`] with a built message (taken in place: no copy).
    #[inline(never)]
    fn set_message(self, exc: HPy, mut msg: Message) {
        // SAFETY: live context (invariant of Ctx); the message is a C string.
        unsafe { raw::ctx_Err_SetString(self.0, exc, msg.as_c_str()) }
    }

    /// [`Ctx::set_error`] with a fixed text.
    #[inline(never)]
    fn set_text(self, exc: HPy, text: &str) {
        self.set_message(exc, Message::from(text))
    }

    /// `set_error` with one of the context's exception constants.
    pub fn type_error(self, msg: impl ErrorText) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_TypeError) }, msg)
    }

    pub fn value_error(self, msg: impl ErrorText) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_ValueError) }, msg)
    }

    pub fn system_error(self, msg: impl ErrorText) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_SystemError) }, msg)
    }

    pub fn overflow_error(self, msg: impl ErrorText) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_OverflowError) }, msg)
    }

    pub fn memory_error(self, msg: impl ErrorText) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_MemoryError) }, msg)
    }

    /// True if an exception is set.
    pub fn err_occurred(self) -> bool {
        // SAFETY: live context.
        unsafe { raw::ctx_Err_Occurred(self.0) != 0 }
    }

    /// Close `h` if it is not null.
    pub fn close(self, h: HPy) {
        if !h.is_null() {
            // SAFETY: live context; the caller owns `h`.
            unsafe { raw::ctx_Close(self.0, h) }
        }
    }

    /// A new handle to `h`.
    pub fn dup(self, h: HPy) -> HPy {
        // SAFETY: live context; `h` is open.
        unsafe { raw::ctx_Dup(self.0, h) }
    }

    /// A new handle to `None`.
    pub fn none(self) -> HPy {
        // SAFETY: live context.
        self.dup(unsafe { constant!(self.0, h_None) })
    }

    /// A new `str` decoded from `bytes` with the error handler `errors`
    /// (`strict`, `surrogatepass`, ...): HPy_NULL with an exception on
    /// failure. Any bytes, NUL included.
    pub fn decode_utf8(self, bytes: &[u8], errors: &core::ffi::CStr) -> HPy {
        // SAFETY: live context; pointer and length describe `bytes` (a
        // slice never exceeds isize::MAX bytes).
        let b = unsafe {
            raw::ctx_Bytes_FromStringAndSize(
                self.0,
                bytes.as_ptr() as *const c_char,
                bytes.len() as hpy_sys::HPy_ssize_t,
            )
        };
        if b.is_null() {
            return b;
        }
        // SAFETY: live context; `b` is open (closed below); the names are
        // NUL-terminated.
        let u = unsafe {
            raw::ctx_Unicode_FromEncodedObject(self.0, b, c"utf-8".as_ptr(), errors.as_ptr())
        };
        self.close(b);
        u
    }
}
