//! `HPyUnicode_FromFormat(V)` and `HPyErr_Format`: the format string is read
//! as a sequence of [`Piece`]s (literal ASCII text, `%%`, conversions), each
//! written to a UTF-8 buffer in turn, as upstream HPy 0.9 does, with its
//! conversions, flags and messages.
//!
//! A conversion is `%[0][width][.precision][l|ll|z]<unit>`. Width counts
//! characters; precision counts bytes for `%s` (and `%V` with a C string)
//! and characters for the units that take a `str`.
//!
//! Where upstream's C has accidents we do what it documents, or what
//! CPython does: `%c` takes any code point (upstream writes one byte), NUL
//! characters stay in the result (upstream truncates there), width counts
//! characters for `%s` too, and a failing `HPyErr_Format` leaves the
//! formatting error set (upstream raises the type with no message).

use crate::ctx::Ctx;
use crate::helpers::{system_error, Owned, Raised, Res};
use crate::message::{Digits, Hex2, TypeName};
use crate::msg;
use crate::smallvec::SmallVec;
use crate::va::VaArgs;
use core::ffi::{c_char, CStr};
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPy_NULL, HPy_ssize_t};

/// The largest code point `%c` accepts.
const MAX_UNICODE: u32 = 0x10ffff;

/// One piece of a format string.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    /// Text copied as is (ASCII).
    Literal(&'a [u8]),
    /// `%%`.
    Percent,
    Conversion(Spec),
}

/// A `%` conversion.
#[derive(Debug, PartialEq)]
struct Spec {
    zero_pad: bool,
    width: Option<usize>,
    precision: Option<usize>,
    size: Size,
    /// The unit: one of `c d i u x p s U V S R A`.
    unit: u8,
}

/// The length modifier of `d`, `i` and `u`.
#[derive(Debug, PartialEq, Clone, Copy)]
enum Size {
    Int,
    Long,
    LongLong,
    SizeT,
}

/// What is wrong with a format string.
#[derive(Debug, PartialEq, Clone, Copy)]
enum FormatError {
    NonAscii(u8),
    Invalid,
    WidthTooBig,
    PrecisionTooBig,
    NoZeroPad(u8),
    NoWidth(u8),
}

impl FormatError {
    fn raise(&self, ctx: Ctx) -> Raised {
        match *self {
            FormatError::NonAscii(b) => ctx.value_error(msg!(
                "expected an ASCII-encoded format string, got a non-ASCII byte: 0x",
                Hex2(b)
            )),
            FormatError::Invalid => ctx.system_error("invalid format string"),
            FormatError::WidthTooBig => ctx.value_error("width too big"),
            FormatError::PrecisionTooBig => ctx.value_error("precision too big"),
            FormatError::NoZeroPad(u) => ctx.system_error(msg!(
                "formatting unit '%",
                char::from(u),
                "' does not support 0-padding"
            )),
            FormatError::NoWidth(u) => ctx.system_error(msg!(
                "formatting unit '%",
                char::from(u),
                "' does not support width nor precision"
            )),
        }
        Raised
    }
}

/// The pieces of a format string, in order; iteration stops after an error.
struct Pieces<'a> {
    fmt: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Result<Piece<'a>, FormatError>;

    // Inlined, with `conversion`: a piece passed back through memory is
    // then copied with wide loads that stall on the narrow stores that
    // wrote it (some 15 % of a call).
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.fmt.get(self.pos..)?;
        let piece = match rest.first()? {
            b'%' => self.conversion(),
            _ => {
                let len = rest.iter().position(|&b| b == b'%').unwrap_or(rest.len());
                let text = rest.get(..len).unwrap_or(rest);
                self.pos += len;
                match text.iter().find(|b| !b.is_ascii()) {
                    Some(&b) => Err(FormatError::NonAscii(b)),
                    None => Ok(Piece::Literal(text)),
                }
            }
        };
        if piece.is_err() {
            self.pos = self.fmt.len();
        }
        Some(piece)
    }
}

impl<'a> Pieces<'a> {
    fn new(fmt: &'a [u8]) -> Self {
        Pieces { fmt, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.fmt.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        self.pos += usize::from(found);
        found
    }

    /// The decimal number at `pos`, if any; `too_big` past `HPy_ssize_t`.
    fn number(&mut self, too_big: FormatError) -> Result<Option<usize>, FormatError> {
        let mut n = None;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            self.pos += 1;
            let next = n
                .unwrap_or(0usize)
                .checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(d - b'0')));
            match next {
                Some(v) if v <= isize::MAX as usize => n = Some(v),
                _ => return Err(too_big),
            }
        }
        Ok(n)
    }

    /// The conversion starting at the `%` at `pos`.
    #[inline(always)]
    fn conversion(&mut self) -> Result<Piece<'a>, FormatError> {
        self.pos += 1;
        if self.eat(b'%') {
            return Ok(Piece::Percent);
        }
        let zero_pad = self.eat(b'0');
        let width = self.number(FormatError::WidthTooBig)?;
        // a '.' without digits leaves the precision unset, as upstream
        let precision = if self.eat(b'.') {
            self.number(FormatError::PrecisionTooBig)?
        } else {
            None
        };
        let rest = self.fmt.get(self.pos..).unwrap_or(&[]);
        let size = match rest {
            [b'l', b'l', b'd' | b'i' | b'u', ..] => Size::LongLong,
            [b'l', b'd' | b'i' | b'u', ..] => Size::Long,
            [b'z', b'd' | b'i' | b'u', ..] => Size::SizeT,
            _ => Size::Int,
        };
        self.pos += match size {
            Size::Int => 0,
            Size::Long | Size::SizeT => 1,
            Size::LongLong => 2,
        };
        let unit = self.peek().ok_or(FormatError::Invalid)?;
        self.pos += 1;
        match unit {
            b's' | b'U' | b'V' | b'S' | b'R' | b'A' | b'p' | b'c' if zero_pad => {
                Err(FormatError::NoZeroPad(unit))
            }
            b'p' | b'c' if width.is_some() || precision.is_some() => {
                Err(FormatError::NoWidth(unit))
            }
            b'c' | b'd' | b'i' | b'u' | b'x' | b'p' | b's' | b'U' | b'V' | b'S' | b'R' | b'A' => {
                Ok(Piece::Conversion(Spec {
                    zero_pad,
                    width,
                    precision,
                    size,
                    unit,
                }))
            }
            _ => Err(FormatError::Invalid),
        }
    }
}

/// # Safety
/// Arguments as received by `HPyUnicode_FromFormat(V)`: `ctx` is live,
/// `fmt` is NULL or a NUL-terminated string, and the variable arguments
/// match `fmt`.
pub unsafe fn unicode_from_format(ctx: Ctx, fmt: *const c_char, mut va: VaArgs) -> HPy {
    // SAFETY: forwarded contract.
    unsafe { format_str(ctx, "HPyUnicode_FromFormat", fmt, &mut va) }
        .map_or(HPy_NULL, Owned::into_raw)
}

/// # Safety
/// As [`unicode_from_format`]; `h_type` is an open handle or null.
pub unsafe fn err_format(ctx: Ctx, h_type: HPy, fmt: *const c_char, mut va: VaArgs) -> HPy {
    if h_type.is_null() {
        ctx.system_error("HPy_NULL exception type passed to HPyErr_Format");
        return HPy_NULL;
    }
    // As CPython's PyErr_Format: the message may run Python code (%S, %R,
    // %A), which must not start with an exception set; the new exception
    // replaces it anyway. If formatting fails, its error is the one raised.
    // SAFETY: live context.
    unsafe { raw::ctx_Err_Clear(ctx.0) };
    // SAFETY: forwarded contract.
    if let Ok(msg) = unsafe { format_str(ctx, "HPyErr_Format", fmt, &mut va) } {
        // SAFETY: live context; both handles are open.
        unsafe { raw::ctx_Err_SetObject(ctx.0, h_type, msg.get()) };
    }
    HPy_NULL
}

/// `fmt` formatted with `va`, as a new `str`.
///
/// # Safety
/// As [`unicode_from_format`]; `api` names the public function for messages.
unsafe fn format_str(ctx: Ctx, api: &str, fmt: *const c_char, va: &mut VaArgs) -> Res<Owned> {
    if fmt.is_null() {
        return system_error(ctx, msg!("NULL format string passed to ", api));
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    let fmt = unsafe { CStr::from_ptr(fmt) }.to_bytes();
    let mut out = Writer {
        ctx,
        buf: SmallVec::new(),
        surrogates: false,
    };
    for piece in Pieces::new(fmt) {
        match piece.map_err(|e| e.raise(ctx))? {
            Piece::Literal(text) => out.push(text)?,
            Piece::Percent => out.push(b"%")?,
            // SAFETY: the next arguments are those of `spec` (contract).
            Piece::Conversion(spec) => unsafe { out.convert(&spec, va) }?,
        }
    }
    out.finish()
}

/// The text formatted so far: UTF-8, except that `%c` may add lone
/// surrogates, encoded as Python's "surrogatepass" error handler does. A
/// message of usual length stays on the stack.
struct Writer {
    ctx: Ctx,
    buf: SmallVec<u8, 256>,
    /// Whether the text may hold surrogates (then it is not UTF-8).
    surrogates: bool,
}

impl Writer {
    /// MemoryError (a huge width or precision).
    #[cold]
    fn no_memory(&self) -> Raised {
        self.ctx
            .memory_error("cannot allocate memory for string format");
        Raised
    }

    fn push(&mut self, bytes: &[u8]) -> Res<()> {
        self.buf
            .extend_from_slice(bytes)
            .map_err(|_| self.no_memory())
    }

    fn fill(&mut self, byte: u8, n: usize) -> Res<()> {
        self.buf.extend_fill(byte, n).map_err(|_| self.no_memory())
    }

    /// `text` right-aligned in `width` characters.
    fn padded(&mut self, text: &[u8], width: Option<usize>) -> Res<()> {
        let pad = width.unwrap_or(0).saturating_sub(char_count(text));
        self.fill(b' ', pad)?;
        self.push(text)
    }

    /// A number given as its sign and decimal or hex `digits`: precision is
    /// the least number of digits, and the `0` flag pads with zeros after
    /// the sign instead of with spaces before it.
    fn integer(&mut self, negative: bool, digits: &[u8], spec: &Spec) -> Res<()> {
        let zeros = spec.precision.unwrap_or(0).saturating_sub(digits.len());
        let body = usize::from(negative) + zeros + digits.len();
        let pad = spec.width.unwrap_or(0).saturating_sub(body);
        let sign: &[u8] = if negative { b"-" } else { b"" };
        if spec.zero_pad {
            self.push(sign)?;
            self.fill(b'0', pad)?;
        } else {
            self.fill(b' ', pad)?;
            self.push(sign)?;
        }
        self.fill(b'0', zeros)?;
        self.push(digits)
    }

    /// `%c`: the character with code point `ordinal`.
    fn character(&mut self, ordinal: i32) -> Res<()> {
        let code = match u32::try_from(ordinal) {
            Ok(code) if code <= MAX_UNICODE => code,
            _ => {
                self.ctx
                    .overflow_error("character argument not in range(0x110000)");
                return Err(Raised);
            }
        };
        // UTF-8, surrogates (U+D800..U+DFFF) included: their three-byte
        // sequences, as "surrogatepass" encodes them
        self.surrogates |= (0xd800..=0xdfff).contains(&code);
        let cont = |shift: u32| 0x80 | ((code >> shift) & 0x3f) as u8;
        match code {
            0..=0x7f => self.push(&[code as u8]),
            0x80..=0x7ff => self.push(&[0xc0 | (code >> 6) as u8, cont(0)]),
            0x800..=0xffff => self.push(&[0xe0 | (code >> 12) as u8, cont(6), cont(0)]),
            _ => self.push(&[0xf0 | (code >> 18) as u8, cont(12), cont(6), cont(0)]),
        }
    }

    /// A C string, precision counting bytes (an incomplete UTF-8 sequence
    /// left at the cut is dropped).
    ///
    /// # Safety
    /// `s` is a NUL-terminated string.
    unsafe fn c_string(&mut self, s: *const c_char, spec: &Spec) -> Res<()> {
        // SAFETY: the caller's contract.
        let mut text = unsafe { CStr::from_ptr(s) }.to_bytes();
        if let Some(max) = spec.precision {
            if max < text.len() {
                let mut end = max;
                while end > 0 && text.get(end).is_some_and(|&b| is_continuation(b)) {
                    end -= 1;
                }
                text = text.get(..end).unwrap_or(text);
            }
        }
        // 0xed leads the encoded surrogates (and U+D000..U+D7FF)
        self.surrogates |= crate::has_byte(text, 0xed);
        self.padded(text, spec.width)
    }

    /// The text of `str` object `h`, precision counting characters.
    fn str_object(&mut self, h: HPy, spec: &Spec) -> Res<()> {
        let mut size: HPy_ssize_t = 0;
        // SAFETY: live context; `h` is open; `size` is a valid out pointer.
        let p = unsafe { raw::ctx_Unicode_AsUTF8AndSize(self.ctx.0, h, &mut size) };
        if p.is_null() {
            return Err(Raised);
        }
        // SAFETY: the context returned `size` bytes at `p`, valid while `h`
        // is open, which it is for this whole call.
        let mut text = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), size as usize) };
        if let Some(max) = spec.precision {
            text = char_prefix(text, max);
        }
        self.padded(text, spec.width)
    }

    /// `%U`, `%V`: `h` must be a `str`.
    fn checked_str_object(&mut self, h: HPy, spec: &Spec) -> Res<()> {
        // SAFETY: live context; `h` is open.
        if unsafe { raw::ctx_Unicode_Check(self.ctx.0, h) } == 0 {
            self.ctx.system_error(msg!(
                "formatting unit '%",
                char::from(spec.unit),
                "' expects a str, not '",
                TypeName(self.ctx, h),
                "'"
            ));
            return Err(Raised);
        }
        self.str_object(h, spec)
    }

    /// Write the conversion `spec`, reading its arguments from `va`.
    ///
    /// # Safety
    /// The next variable arguments are those of `spec`.
    unsafe fn convert(&mut self, spec: &Spec, va: &mut VaArgs) -> Res<()> {
        let ctx = self.ctx;
        // SAFETY: each read takes the C type the unit and size stand for,
        // which the caller promises is the next argument's; the context is
        // live and the handles passed to it are checked non-null.
        unsafe {
            match spec.unit {
                b'c' => self.character(va.int()),
                b'd' | b'i' => {
                    let v: i64 = match spec.size {
                        Size::Int => va.int().into(),
                        // `long` is 32 bits on Windows
                        #[allow(clippy::useless_conversion)]
                        Size::Long => va.long().into(),
                        Size::LongLong => va.longlong(),
                        Size::SizeT => va.ssize() as i64,
                    };
                    self.integer(v < 0, Digits::decimal(v.unsigned_abs()).as_bytes(), spec)
                }
                b'u' => {
                    let v: u64 = match spec.size {
                        Size::Int => va.uint().into(),
                        #[allow(clippy::useless_conversion)]
                        Size::Long => va.ulong().into(),
                        Size::LongLong => va.ulonglong(),
                        Size::SizeT => va.size() as u64,
                    };
                    self.integer(false, Digits::decimal(v).as_bytes(), spec)
                }
                // an int, shown as C shows it: its unsigned bits
                b'x' => self.integer(false, Digits::hex(va.uint().into()).as_bytes(), spec),
                // as Rust's `{:p}`: 0x and lowercase hex
                b'p' => {
                    self.push(b"0x")?;
                    self.push(Digits::hex(va.ptr() as usize as u64).as_bytes())
                }
                b's' => {
                    let s = va.cstr();
                    if s.is_null() {
                        return system_error(
                            ctx,
                            "null c string passed as value for formatting unit '%s'",
                        );
                    }
                    self.c_string(s, spec)
                }
                b'U' => {
                    let h = va.hpy();
                    if h.is_null() {
                        return system_error(
                            ctx,
                            "HPy_NULL passed as value for formatting unit '%U'",
                        );
                    }
                    self.checked_str_object(h, spec)
                }
                b'V' => {
                    let (h, s) = (va.hpy(), va.cstr());
                    if !h.is_null() {
                        self.checked_str_object(h, spec)
                    } else if !s.is_null() {
                        self.c_string(s, spec)
                    } else {
                        system_error(
                            ctx,
                            "HPy_NULL and a null c string passed as values for formatting unit '%V'",
                        )
                    }
                }
                b'S' | b'R' | b'A' => {
                    let h = va.hpy();
                    if h.is_null() {
                        return system_error(
                            ctx,
                            "HPy_NULL passed as value for formatting unit '%S' or '%R' or '%A'",
                        );
                    }
                    let text = match spec.unit {
                        b'S' => raw::ctx_Str(ctx.0, h),
                        b'R' => raw::ctx_Repr(ctx.0, h),
                        _ => raw::ctx_ASCII(ctx.0, h),
                    };
                    let text = Owned::new(ctx, text)?;
                    self.str_object(text.get(), spec)
                }
                // the parser lets no other unit through
                _ => Err(FormatError::Invalid.raise(ctx)),
            }
        }
    }

    /// The finished text as a `str`.
    ///
    /// A `%s` argument that is not UTF-8 raises `UnicodeDecodeError` (as
    /// upstream) on either path: both decode the buffer as UTF-8, strictly
    /// but for surrogates.
    fn finish(&mut self) -> Res<Owned> {
        let ctx = self.ctx;
        let text = self.buf.as_slice();
        if self.surrogates || crate::has_byte(text, 0) {
            // maybe surrogates (from %c or a %s argument), or NUL
            // characters: through a bytes object, surrogates let through
            return Owned::new(ctx, ctx.decode_utf8(text, c"surrogatepass"));
        }
        // the common case: the buffer itself, terminated, is the C string
        // to decode
        self.push(b"\0")?;
        // SAFETY: live context; `buf` is NUL-terminated.
        Owned::new(ctx, unsafe {
            raw::ctx_Unicode_FromString(ctx.0, self.buf.as_slice().as_ptr().cast::<c_char>())
        })
    }
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

/// Characters in UTF-8 `text`.
fn char_count(text: &[u8]) -> usize {
    text.iter().filter(|&&b| !is_continuation(b)).count()
}

/// The first `max` characters of UTF-8 `text`.
fn char_prefix(text: &[u8], max: usize) -> &[u8] {
    let mut starts = text
        .iter()
        .enumerate()
        .filter(|(_, &b)| !is_continuation(b));
    match starts.nth(max) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::{char_prefix, Digits, FormatError as E, Piece, Pieces, Size, Spec};

    extern crate std;
    use std::borrow::ToOwned;
    use std::{format, vec, vec::Vec};

    fn pieces(fmt: &str) -> Result<Vec<Piece<'_>>, E> {
        Pieces::new(fmt.as_bytes()).collect()
    }

    fn conv(
        zero_pad: bool,
        width: Option<usize>,
        precision: Option<usize>,
        size: Size,
        unit: u8,
    ) -> Piece<'static> {
        Piece::Conversion(Spec {
            zero_pad,
            width,
            precision,
            size,
            unit,
        })
    }

    #[test]
    fn conversions() {
        assert_eq!(
            pieces("a%%b%c%07.5lld%zu%.s"),
            Ok(vec![
                Piece::Literal(b"a"),
                Piece::Percent,
                Piece::Literal(b"b"),
                conv(false, None, None, Size::Int, b'c'),
                conv(true, Some(7), Some(5), Size::LongLong, b'd'),
                conv(false, None, None, Size::SizeT, b'u'),
                conv(false, None, None, Size::Int, b's'),
            ])
        );
        assert_eq!(
            pieces("%00d"),
            Ok(vec![conv(true, Some(0), None, Size::Int, b'd')])
        );
    }

    #[test]
    fn malformed() {
        for fmt in [
            "%y%d", "%04.2y", "%0%", "%2%", "%.0%", "%", "%5", "%.5", "%lx", "%ll", "%zx", "%jd",
            "%-5d", "%*d",
        ] {
            assert_eq!(pieces(fmt), Err(E::Invalid), "{fmt}");
        }
        assert_eq!(pieces("%04c"), Err(E::NoZeroPad(b'c')));
        assert_eq!(pieces("%08.4p"), Err(E::NoZeroPad(b'p')));
        assert_eq!(pieces("%0S"), Err(E::NoZeroPad(b'S')));
        assert_eq!(pieces("%.4c"), Err(E::NoWidth(b'c')));
        assert_eq!(pieces("%4p"), Err(E::NoWidth(b'p')));
        assert_eq!(pieces("%9223372036854775807d").map(|p| p.len()), Ok(1));
        assert_eq!(pieces("%9223372036854775808d"), Err(E::WidthTooBig));
        assert_eq!(
            pieces("%.99999999999999999999999d"),
            Err(E::PrecisionTooBig)
        );
        assert_eq!(pieces("ok \u{e9}"), Err(E::NonAscii(0xc3)));
        // the first error in format order wins
        assert_eq!(pieces("%y \u{e9}"), Err(E::Invalid));
    }

    #[test]
    fn pointers_as_rust_shows_them() {
        let hex = |v: usize| {
            std::str::from_utf8(Digits::hex(v as u64).as_bytes())
                .unwrap()
                .to_owned()
        };
        let p = 0xdead_beef_usize as *const u8;
        assert_eq!(format!("0x{}", hex(p as usize)), format!("{p:p}"));
        let null = core::ptr::null::<u8>();
        assert_eq!(format!("0x{}", hex(0)), format!("{null:p}"));
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            char_prefix("\u{20ac}ur\u{398}pe".as_bytes(), 4),
            "\u{20ac}ur\u{398}".as_bytes()
        );
        assert_eq!(char_prefix(b"abc", 0), b"");
        assert_eq!(char_prefix(b"abc", 5), b"abc");
    }
}
