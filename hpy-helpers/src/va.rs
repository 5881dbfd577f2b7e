//! Reading C variable arguments through the cursor of `va_cursor.c`.
//!
//! The C entry points (`hpy-sys/runtime/*.c`) `va_start` a `va_list` into an
//! `HPyRs_VaCursor` and pass its address here. [`VaArgs`] pulls one argument
//! at a time; the caller picks the type from the format unit it is reading,
//! exactly as C's `va_arg` would.

use core::ffi::{
    c_char, c_double, c_int, c_long, c_longlong, c_uint, c_ulong, c_ulonglong, c_void,
};
use hpy_sys::{HPy, HPy_ssize_t};

/// Opaque: `HPyRs_VaCursor` (a struct holding one `va_list`).
#[repr(C)]
pub struct VaCursor {
    _opaque: [u8; 0],
}

extern "C" {
    fn hpy_rs_va_int(c: *mut VaCursor) -> c_int;
    fn hpy_rs_va_uint(c: *mut VaCursor) -> c_uint;
    fn hpy_rs_va_long(c: *mut VaCursor) -> c_long;
    fn hpy_rs_va_ulong(c: *mut VaCursor) -> c_ulong;
    fn hpy_rs_va_longlong(c: *mut VaCursor) -> c_longlong;
    fn hpy_rs_va_ulonglong(c: *mut VaCursor) -> c_ulonglong;
    fn hpy_rs_va_ssize(c: *mut VaCursor) -> HPy_ssize_t;
    fn hpy_rs_va_size(c: *mut VaCursor) -> usize;
    fn hpy_rs_va_intmax(c: *mut VaCursor) -> i64;
    fn hpy_rs_va_uintmax(c: *mut VaCursor) -> u64;
    fn hpy_rs_va_ptrdiff(c: *mut VaCursor) -> isize;
    fn hpy_rs_va_double(c: *mut VaCursor) -> c_double;
    fn hpy_rs_va_ptr(c: *mut VaCursor) -> *mut c_void;
    fn hpy_rs_va_hpy(c: *mut VaCursor) -> HPy;
}

/// The variable arguments of one helper call.
///
/// Every reader is `unsafe`: as with `va_arg`, the caller promises that the
/// next argument the C caller passed has that type (after default argument
/// promotion: `char`/`short` arrive as `int`, `float` as `double`).
pub struct VaArgs {
    cur: *mut VaCursor,
}

macro_rules! readers {
    ($($(#[$m:meta])* $name:ident => $f:ident -> $t:ty;)*) => {$(
        $(#[$m])*
        /// # Safety
        /// The next variable argument must have this type.
        #[inline]
        pub unsafe fn $name(&mut self) -> $t {
            // SAFETY: `cur` is the live cursor given to `new`; the caller
            // guarantees the argument's type.
            unsafe { $f(self.cur) }
        }
    )*};
}

impl VaArgs {
    /// # Safety
    /// `cur` must be the cursor the C entry point passed, still `va_start`ed,
    /// and used by nobody else while this value lives.
    pub unsafe fn new(cur: *mut VaCursor) -> Self {
        VaArgs { cur }
    }

    readers! {
        /// `int` (also `char`, `short`, `_Bool` after promotion).
        int => hpy_rs_va_int -> c_int;
        /// `unsigned int` (also `unsigned char`/`unsigned short`).
        uint => hpy_rs_va_uint -> c_uint;
        long => hpy_rs_va_long -> c_long;
        ulong => hpy_rs_va_ulong -> c_ulong;
        longlong => hpy_rs_va_longlong -> c_longlong;
        ulonglong => hpy_rs_va_ulonglong -> c_ulonglong;
        ssize => hpy_rs_va_ssize -> HPy_ssize_t;
        size => hpy_rs_va_size -> usize;
        /// `intmax_t` (64 bits on every platform we build for).
        intmax => hpy_rs_va_intmax -> i64;
        uintmax => hpy_rs_va_uintmax -> u64;
        ptrdiff => hpy_rs_va_ptrdiff -> isize;
        /// `double` (also `float` after promotion).
        double => hpy_rs_va_double -> c_double;
        /// Any object pointer (`T *`).
        ptr => hpy_rs_va_ptr -> *mut c_void;
        /// An `HPy` passed by value.
        hpy => hpy_rs_va_hpy -> HPy;
    }

    /// A `const char *`.
    ///
    /// # Safety
    /// The next variable argument must be a `char` pointer.
    #[inline]
    pub unsafe fn cstr(&mut self) -> *const c_char {
        // SAFETY: forwarded to the caller.
        unsafe { self.ptr() as *const c_char }
    }

    /// A typed pointer (for output arguments such as `int *`).
    ///
    /// # Safety
    /// The next variable argument must be a pointer (to `T`, for the uses the
    /// caller makes of it).
    #[inline]
    pub unsafe fn ptr_to<T>(&mut self) -> *mut T {
        // SAFETY: forwarded to the caller.
        unsafe { self.ptr() as *mut T }
    }
}
