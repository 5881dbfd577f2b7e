//! Reading C variable arguments: the C entry points (`hpy-sys/runtime/*.c`)
//! `va_start` a `va_list` into an `HPyRs_VaCursor` and pass its address
//! here. [`VaArgs`] pulls one argument at a time; the caller picks the type
//! from the format unit it is reading, exactly as C's `va_arg` would.
//!
//! Under the x86-64 System V ABI (cfg `sysv_va`, set by build.rs) the
//! `va_list` is read here as that ABI lays it out, by two small functions
//! (integer class, `double`) with no frame of their own: cheaper than a C
//! accessor per type, and smaller and faster than inlining the read at
//! every unit of every format interpreter. Elsewhere each read calls the
//! accessor of `va_cursor.c`, where C's own `va_arg` does it.

use core::ffi::{
    c_char, c_double, c_int, c_long, c_longlong, c_uint, c_ulong, c_ulonglong, c_void,
};
use hpy_sys::{HPy, HPy_ssize_t};

/// Opaque: `HPyRs_VaCursor` (a struct holding one `va_list`).
#[repr(C)]
pub struct VaCursor {
    _opaque: [u8; 0],
}

/// The variable arguments of one helper call.
///
/// Every reader is `unsafe`: as with `va_arg`, the caller promises that the
/// next argument the C caller passed has that type (after default argument
/// promotion: `char`/`short` arrive as `int`, `float` as `double`).
pub struct VaArgs {
    cur: *mut VaCursor,
}

impl VaArgs {
    /// # Safety
    /// `cur` must be the cursor the C entry point passed, still `va_start`ed,
    /// and used by nobody else while this value lives.
    pub unsafe fn new(cur: *mut VaCursor) -> Self {
        VaArgs { cur }
    }
}

/// The x86-64 System V `va_list` is an array of one `__va_list_tag` (psABI,
/// "Variable Argument Lists"), so an `HPyRs_VaCursor` starts with that tag.
/// Integer-class arguments (integers, pointers, `HPy`) take 8-byte slots,
/// the value in the low bytes; the first six are in the register save area
/// the variadic C function's prologue filled, the first eight `double`s too
/// (16-byte slots); the rest are in 8-byte stack slots.
#[cfg(sysv_va)]
mod sysv {
    #[repr(C)]
    pub struct VaListTag {
        /// Offset in `reg_save_area` of the next integer register slot.
        gp_offset: u32,
        /// Offset in `reg_save_area` of the next SSE register slot.
        fp_offset: u32,
        /// The next argument passed on the stack.
        overflow_arg_area: *const u64,
        reg_save_area: *const u8,
    }

    /// Where the integer registers end in the save area (6 × 8 bytes),
    /// and the SSE ones (then 8 × 16).
    const GP_END: u32 = 48;
    const FP_END: u32 = GP_END + 8 * 16;

    impl VaListTag {
        /// The next integer-class argument. Out of line: one copy serves
        /// every reader.
        ///
        /// # Safety
        /// `self` is a `va_start`ed list whose next argument is integer-class.
        #[inline(never)]
        pub unsafe fn gp(&mut self) -> u64 {
            // SAFETY: forwarded.
            unsafe { self.gp_inline() }
        }

        /// [`VaListTag::gp`], inlined: for the one read per unit of the
        /// argument parsers' loops, where the call was a tenth of the cost.
        ///
        /// # Safety
        /// As [`VaListTag::gp`].
        #[inline(always)]
        pub unsafe fn gp_inline(&mut self) -> u64 {
            if self.gp_offset < GP_END {
                // SAFETY: below GP_END the slot is in the register save
                // area: 8 readable, aligned bytes holding this argument.
                let v = unsafe { *(self.reg_save_area.add(self.gp_offset as usize) as *const u64) };
                self.gp_offset += 8;
                v
            } else {
                // SAFETY: forwarded (the argument is on the stack).
                unsafe { self.stack() }
            }
        }

        /// The next `double` argument (out of line, as `gp`).
        ///
        /// # Safety
        /// `self` is a `va_start`ed list whose next argument is a `double`.
        #[inline(never)]
        pub unsafe fn fp(&mut self) -> f64 {
            if self.fp_offset < FP_END {
                // SAFETY: below FP_END the slot is an SSE register's in the
                // save area, the double in its low 8 (aligned) bytes.
                let v = unsafe { *(self.reg_save_area.add(self.fp_offset as usize) as *const f64) };
                self.fp_offset += 16;
                v
            } else {
                // SAFETY: forwarded (the argument is on the stack).
                f64::from_bits(unsafe { self.stack() })
            }
        }

        /// The next stack slot (common: the fixed arguments of the entry
        /// points take five or six of the six integer registers).
        ///
        /// # Safety
        /// The next argument of this live list is on the stack.
        #[inline(always)]
        unsafe fn stack(&mut self) -> u64 {
            // SAFETY: the caller pushed the argument there: 8 readable,
            // aligned bytes, followed by the next slot.
            unsafe {
                let v = *self.overflow_arg_area;
                self.overflow_arg_area = self.overflow_arg_area.add(1);
                v
            }
        }
    }
}

/// One reader per C type: under System V, the slot of its class converted
/// to it; elsewhere, a call to its accessor in `va_cursor.c`.
macro_rules! readers {
    ($($(#[$m:meta])* $name:ident => $f:ident -> $t:ty = $kind:ident |$v:ident| $conv:expr;)*) => {
        #[cfg(not(sysv_va))]
        extern "C" {
            $(fn $f(c: *mut VaCursor) -> $t;)*
        }

        impl VaArgs {$(
            $(#[$m])*
            /// # Safety
            /// The next variable argument must have this type.
            #[inline]
            pub unsafe fn $name(&mut self) -> $t {
                #[cfg(sysv_va)]
                {
                    // SAFETY: `cur` is the live cursor given to `new`, which
                    // starts with its va_list's tag, used by nobody else;
                    // the caller guarantees the argument's type, of this
                    // class. The conversion keeps the low bytes of the
                    // slot, where the ABI puts the value.
                    let $v = unsafe { (*self.cur.cast::<sysv::VaListTag>()).$kind() };
                    $conv
                }
                #[cfg(not(sysv_va))]
                {
                    // SAFETY: `cur` is the live cursor given to `new`; the
                    // caller guarantees the argument's type.
                    unsafe { $f(self.cur) }
                }
            }
        )*}
    };
}

readers! {
    /// `int` (also `char`, `short`, `_Bool` after promotion).
    int => hpy_rs_va_int -> c_int = gp |v| v as c_int;
    /// `unsigned int` (also `unsigned char`/`unsigned short`).
    uint => hpy_rs_va_uint -> c_uint = gp |v| v as c_uint;
    long => hpy_rs_va_long -> c_long = gp |v| v as c_long;
    ulong => hpy_rs_va_ulong -> c_ulong = gp |v| v as c_ulong;
    longlong => hpy_rs_va_longlong -> c_longlong = gp |v| v as c_longlong;
    ulonglong => hpy_rs_va_ulonglong -> c_ulonglong = gp |v| v as c_ulonglong;
    ssize => hpy_rs_va_ssize -> HPy_ssize_t = gp |v| v as HPy_ssize_t;
    size => hpy_rs_va_size -> usize = gp |v| v as usize;
    /// `intmax_t` (64 bits on every platform we build for).
    intmax => hpy_rs_va_intmax -> i64 = gp |v| v as i64;
    uintmax => hpy_rs_va_uintmax -> u64 = gp |v| v;
    ptrdiff => hpy_rs_va_ptrdiff -> isize = gp |v| v as isize;
    /// `double` (also `float` after promotion).
    double => hpy_rs_va_double -> c_double = fp |v| v;
    /// Any object pointer (`T *`).
    ptr => hpy_rs_va_ptr -> *mut c_void = gp |v| v as usize as *mut c_void;
    /// An `HPy` passed by value (a struct of one `intptr_t`: integer-class).
    hpy => hpy_rs_va_hpy -> HPy = gp |v| HPy { _i: v as isize };
}

impl VaArgs {
    /// A pointer, read inline (see `VaListTag::gp_inline`): the output
    /// pointers of the argument parsers.
    ///
    /// # Safety
    /// The next variable argument must be a pointer.
    #[inline(always)]
    pub unsafe fn ptr_inline(&mut self) -> *mut c_void {
        #[cfg(sysv_va)]
        {
            // SAFETY: as in the readers above.
            let v = unsafe { (*self.cur.cast::<sysv::VaListTag>()).gp_inline() };
            v as usize as *mut c_void
        }
        #[cfg(not(sysv_va))]
        {
            // SAFETY: forwarded to the caller.
            unsafe { self.ptr() }
        }
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
