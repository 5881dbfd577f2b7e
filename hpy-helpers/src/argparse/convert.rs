//! Each unit's conversion of its argument into the C type its output
//! pointer points to, with upstream's range checks and messages.

use super::format::Unit;
use super::messages::Exc;
use super::run::Run;
use super::{Raised, Res};
use core::ffi::{c_char, c_int, c_long, c_ulong, c_void};
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPy_ssize_t};

impl Run {
    /// Convert `arg` for `unit` and write the result to `out`. Not inlined:
    /// one copy serves every parser. A NULL `out` is refused first (a bug
    /// of the caller's, before its callers'), so the unit need not be kept
    /// across the conversion's call.
    #[inline(never)]
    pub(super) fn store(&self, unit: Unit, arg: HPy, out: *mut c_void) -> Res<()> {
        if out.is_null() {
            return Err(self.null_output(unit));
        }
        let c = self.ctx.0;
        match unit {
            Unit::UByte => {
                let v = self.long(arg)?;
                if v < 0 {
                    return Err(self.raise_overflow("unsigned byte integer is less than minimum"));
                }
                if v > c_long::from(u8::MAX) {
                    return Err(
                        self.raise_overflow("unsigned byte integer is greater than maximum")
                    );
                }
                self.write(unit, out, v as u8)
            }
            Unit::UByteMask => self.write(unit, out, self.ulong_mask(arg)? as u8),
            Unit::Short => {
                let v = self.long(arg)?;
                if v < c_long::from(i16::MIN) {
                    return Err(self.raise_overflow("signed short integer is less than minimum"));
                }
                if v > c_long::from(i16::MAX) {
                    return Err(self.raise_overflow("signed short integer is greater than maximum"));
                }
                self.write(unit, out, v as i16)
            }
            Unit::UShortMask => self.write(unit, out, self.ulong_mask(arg)? as u16),
            Unit::Int => {
                let v = self.long(arg)?;
                if v > c_long::from(c_int::MAX) {
                    return Err(self.raise_overflow("signed integer is greater than maximum"));
                }
                if v < c_long::from(c_int::MIN) {
                    return Err(self.raise_overflow("signed integer is less than minimum"));
                }
                self.write(unit, out, v as c_int)
            }
            Unit::UIntMask => self.write(unit, out, self.ulong_mask(arg)? as u32),
            Unit::Long => self.write(unit, out, self.long(arg)?),
            Unit::ULongMask => self.write(unit, out, self.ulong_mask(arg)?),
            Unit::LongLong => {
                // SAFETY: live context, open handle.
                let v = unsafe { raw::ctx_Long_AsInt64_t(c, arg) };
                self.write(unit, out, self.checked(v, -1)?)
            }
            Unit::ULongLongMask => {
                // SAFETY: live context, open handle.
                let v = unsafe { raw::ctx_Long_AsUInt64_tMask(c, arg) };
                self.write(unit, out, self.checked(v, u64::MAX)?)
            }
            Unit::Ssize => {
                // SAFETY: live context, open handle.
                let v = unsafe { raw::ctx_Long_AsSsize_t(c, arg) };
                self.write(unit, out, self.checked(v, -1)?)
            }
            Unit::Float => self.write(unit, out, self.double(arg)? as f32),
            Unit::Double => self.write(unit, out, self.double(arg)?),
            Unit::Object => self.write(unit, out, arg),
            Unit::Bool => {
                // SAFETY: live context, open handle.
                let v = unsafe { raw::ctx_IsTrue(c, arg) };
                if v < 0 {
                    return Err(Raised);
                }
                self.write(unit, out, c_int::from(v > 0))
            }
            Unit::Str => self.write(unit, out, self.c_str(arg)?),
        }
    }

    /// The `s` unit: a pointer to the NUL-terminated UTF-8 of a `str`.
    pub(super) fn c_str(&self, arg: HPy) -> Res<*const c_char> {
        let c = self.ctx.0;
        // SAFETY: live context, open handle.
        if unsafe { raw::ctx_Unicode_Check(c, arg) } == 0 {
            return Err(self.raise_type("a str is required"));
        }
        let mut size: HPy_ssize_t = 0;
        // SAFETY: live context, open handle, valid out pointer.
        let data = unsafe { raw::ctx_Unicode_AsUTF8AndSize(c, arg, &mut size) };
        let len = usize::try_from(size).ok().filter(|_| !data.is_null());
        let Some(len) = len else {
            // upstream replaces the encoding error with this one
            return Err(self.raise(Exc::System, "unicode conversion error"));
        };
        // SAFETY: the runtime returned `len` bytes at `data` followed by the
        // byte checked below for NUL, valid while `arg` is open.
        let bytes = unsafe { core::slice::from_raw_parts(data as *const u8, len + 1) };
        let (&last, text) = bytes.split_last().unwrap_or((&1, &[]));
        if crate::has_byte(text, 0) {
            return Err(self.raise(Exc::Value, "embedded null character"));
        }
        if last != 0 {
            return Err(self.raise(Exc::System, "missing terminating null character"));
        }
        Ok(data)
    }

    /// `HPyLong_AsLong`, whatever the width of C's `long`.
    #[inline(always)]
    pub(super) fn long(&self, arg: HPy) -> Res<c_long> {
        let c = self.ctx.0;
        // SAFETY: live context, open handle.
        let v = unsafe {
            if LONG_IS_32 {
                raw::ctx_Long_AsInt32_t(c, arg) as c_long
            } else {
                raw::ctx_Long_AsInt64_t(c, arg) as c_long
            }
        };
        self.checked(v, -1)
    }

    /// `HPyLong_AsUnsignedLongMask`.
    #[inline(always)]
    pub(super) fn ulong_mask(&self, arg: HPy) -> Res<c_ulong> {
        let c = self.ctx.0;
        // SAFETY: live context, open handle.
        let v = unsafe {
            if LONG_IS_32 {
                raw::ctx_Long_AsUInt32_tMask(c, arg) as c_ulong
            } else {
                raw::ctx_Long_AsUInt64_tMask(c, arg) as c_ulong
            }
        };
        self.checked(v, c_ulong::MAX)
    }

    #[inline(always)]
    pub(super) fn double(&self, arg: HPy) -> Res<f64> {
        // SAFETY: live context, open handle.
        let v = unsafe { raw::ctx_Float_AsDouble(self.ctx.0, arg) };
        self.checked(v, -1.0)
    }

    /// `v`, unless it is the error value and an exception is set.
    #[inline(always)]
    pub(super) fn checked<T: PartialEq>(&self, v: T, error_value: T) -> Res<T> {
        if v == error_value && self.ctx.err_occurred() {
            Err(Raised)
        } else {
            Ok(v)
        }
    }

    /// Write `v` through the output pointer of `unit`.
    #[inline(always)]
    pub(super) fn write<T>(&self, unit: Unit, out: *mut c_void, v: T) -> Res<()> {
        if out.is_null() {
            return Err(self.null_output(unit));
        }
        // SAFETY: the caller passed, for this unit, a pointer to the C type
        // `unit` documents, which `T` matches; unaligned writes are harmless
        // if it is aligned as C requires.
        unsafe { (out as *mut T).write_unaligned(v) };
        Ok(())
    }
}

const LONG_IS_32: bool = core::mem::size_of::<c_long>() == 4;
