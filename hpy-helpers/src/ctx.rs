//! Calling the context from the helpers.
//!
//! The helpers run inside an extension and reach the interpreter only through
//! the `HPyContext` they were given (universal, debug or trace: whichever the
//! loader passed), so every call goes through the function table: by
//! `hpy_core::raw::ctx_*`, hpy-core's raw layer in its default (universal)
//! mode, the one place where Rust code calls the API.

use core::ffi::c_char;
use hpy_core::raw;
use hpy_sys::{HPy, HPyContext, HPy_NULL};
use std::ffi::CString;

/// A context handle constant, e.g. `constant!(ctx, h_TypeError)`.
/// Must be used inside `unsafe` (reads through `ctx`).
#[macro_export]
macro_rules! constant {
    ($ctx:expr, $name:ident) => {{
        let ctx: *mut ::hpy_sys::HPyContext = $ctx;
        (*ctx).$name
    }};
}

/// A context, as the helpers use it.
#[derive(Clone, Copy)]
pub struct Ctx(pub *mut HPyContext);

impl Ctx {
    /// Set an exception of type `exc` (a context constant such as
    /// `h_TypeError`) with message `msg`. Interior NUL bytes are dropped.
    pub fn set_error(self, exc: HPy, msg: &str) {
        let c = to_cstring(msg);
        // SAFETY: live context (invariant of Ctx); `c` is NUL-terminated.
        unsafe { raw::ctx_Err_SetString(self.0, exc, c.as_ptr()) }
    }

    /// `set_error` with one of the context's exception constants.
    pub fn type_error(self, msg: &str) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_TypeError) }, msg)
    }

    pub fn value_error(self, msg: &str) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_ValueError) }, msg)
    }

    pub fn system_error(self, msg: &str) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_SystemError) }, msg)
    }

    pub fn overflow_error(self, msg: &str) {
        // SAFETY: reading a constant of a live context.
        self.set_error(unsafe { constant!(self.0, h_OverflowError) }, msg)
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

    /// A new `str` from UTF-8 text (HPy_NULL with an exception on failure).
    pub fn unicode(self, s: &str) -> HPy {
        let c = to_cstring(s);
        if c.as_bytes().len() == s.len() {
            // SAFETY: live context; `c` is NUL-terminated.
            unsafe { raw::ctx_Unicode_FromString(self.0, c.as_ptr()) }
        } else {
            // interior NUL: build bytes, then decode them as UTF-8
            // SAFETY: live context; pointer and length describe `s`; the
            // encoding names are NUL-terminated; `b` is closed.
            unsafe {
                let b = raw::ctx_Bytes_FromStringAndSize(
                    self.0,
                    s.as_ptr() as *const c_char,
                    s.len() as hpy_sys::HPy_ssize_t,
                );
                if b.is_null() {
                    return b;
                }
                let u = raw::ctx_Unicode_FromEncodedObject(
                    self.0,
                    b,
                    c"utf-8".as_ptr(),
                    c"strict".as_ptr(),
                );
                self.close(b);
                u
            }
        }
    }

    /// `str(h)` as a Rust string, for messages; `"<?>"` if that fails (the
    /// failure's exception is cleared).
    pub fn display(self, h: HPy) -> String {
        // SAFETY: live context; `h` is open; the result handle is closed.
        unsafe {
            let s = raw::ctx_Str(self.0, h);
            if s.is_null() {
                raw::ctx_Err_Clear(self.0);
                return "<?>".to_owned();
            }
            let out = self.utf8(s);
            self.close(s);
            out.unwrap_or_else(|| {
                raw::ctx_Err_Clear(self.0);
                "<?>".to_owned()
            })
        }
    }

    /// The UTF-8 contents of `str` object `h`, or None with an exception set.
    pub fn utf8(self, h: HPy) -> Option<String> {
        let mut size: hpy_sys::HPy_ssize_t = 0;
        // SAFETY: live context; `h` is open; `size` is a valid out pointer.
        let p = unsafe { raw::ctx_Unicode_AsUTF8AndSize(self.0, h, &mut size) };
        if p.is_null() {
            return None;
        }
        // SAFETY: the runtime returned `size` valid bytes at `p`, valid while
        // `h` is open.
        let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, size as usize) };
        Some(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The name of `h`'s type, for messages.
    pub fn type_name(self, h: HPy) -> String {
        // SAFETY: live context; `h` is open; the name is read while the type
        // handle that owns it is open (the debug context makes it unreadable
        // after the close), then the handle is closed.
        unsafe {
            let t = raw::ctx_Type(self.0, h);
            if t.is_null() {
                raw::ctx_Err_Clear(self.0);
                return "?".to_owned();
            }
            let name = raw::ctx_Type_GetName(self.0, t);
            let name = if name.is_null() {
                raw::ctx_Err_Clear(self.0);
                "?".to_owned()
            } else {
                cstr_lossy(name)
            };
            self.close(t);
            name
        }
    }
}

/// `msg` as a C string, dropping interior NUL bytes.
pub fn to_cstring(msg: &str) -> CString {
    CString::new(msg.replace('\0', "")).expect("no interior NUL left")
}

/// The text of a C string, for messages (invalid UTF-8 replaced).
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string.
pub unsafe fn cstr_lossy(p: *const c_char) -> String {
    if p.is_null() {
        return "(null)".to_owned();
    }
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe { core::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// The null handle, re-exported for the modules.
pub const NULL: HPy = HPy_NULL;
