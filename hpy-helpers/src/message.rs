//! Error messages without `format!`: a [`Message`] is UTF-8 text built on
//! the stack from [`Part`]s (text, bytes decoded leniently, numbers, and
//! what the interpreter says of an object), written by [`msg!`]. The
//! formatting machinery of `core::fmt` stays out of the helper library.
//!
//! A message holds no NUL byte (parts drop theirs, as the old C strings did),
//! so it is always a valid C string once terminated. Past its inline room it
//! grows on the C heap; if that fails, the message is cut short.

use crate::ctx::Ctx;
use crate::smallvec::SmallVec;
use core::ffi::{c_char, CStr};
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPy_ssize_t};

/// Build a [`Message`] from its parts, in order: `msg!("got ", n, " items")`.
#[macro_export]
macro_rules! msg {
    ($($part:expr),+ $(,)?) => {{
        let mut m = $crate::message::Message::new();
        $( m.add($part); )+
        m
    }};
}

/// UTF-8 text without NUL bytes.
pub struct Message {
    buf: SmallVec<u8, 256>,
}

impl Default for Message {
    fn default() -> Self {
        Message::new()
    }
}

impl Message {
    #[inline(never)]
    pub fn new() -> Message {
        Message {
            buf: SmallVec::new(),
        }
    }

    /// Append `part`. Inlined, so that a call site calls the part's own
    /// writer: the writers are few and out of line (messages are the cold
    /// path), while one copy of `add` per part type would be a dozen
    /// functions.
    #[inline(always)]
    pub fn add(&mut self, part: impl Part) -> &mut Message {
        part.write(self);
        self
    }

    /// The text so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_slice()
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.len() == 0
    }

    /// Append UTF-8 `text`, without its NUL bytes.
    #[inline(never)]
    fn push_utf8(&mut self, text: &[u8]) {
        for piece in text.split(|&b| b == 0) {
            if self.buf.extend_from_slice(piece).is_err() {
                return;
            }
        }
    }

    /// Keep at most the first `max` bytes, cut where a character ends.
    #[inline(never)]
    pub fn clip(&mut self, max: usize) {
        let text = self.buf.as_slice();
        let mut end = text.len().min(max);
        while text.get(end).is_some_and(|&b| b & 0xc0 == 0x80) {
            end -= 1;
        }
        self.buf.truncate(end);
    }

    /// The message as a C string (valid until the message changes).
    #[inline(never)]
    pub fn as_c_str(&mut self) -> *const c_char {
        if self.buf.push(0).is_err() {
            // no room for the terminator: make some
            let len = self.buf.len();
            self.clip(len.saturating_sub(4));
            let _ = self.buf.push(0);
        }
        let p = self.buf.as_slice().as_ptr().cast::<c_char>();
        let len = self.buf.len();
        self.buf.truncate(len.saturating_sub(1));
        p
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        msg!(text)
    }
}

/// Something that can be written into a message.
pub trait Part {
    fn write(self, m: &mut Message);
}

impl Part for &str {
    #[inline(always)]
    fn write(self, m: &mut Message) {
        m.push_utf8(self.as_bytes());
    }
}

impl Part for &Message {
    #[inline(always)]
    fn write(self, m: &mut Message) {
        m.push_utf8(self.as_bytes());
    }
}

/// Bytes that should be UTF-8: invalid sequences become U+FFFD, as
/// `String::from_utf8_lossy` does (one per maximal invalid subpart). Checked
/// by hand: core's `utf8_chunks` is several times this size.
impl Part for &[u8] {
    #[inline(never)]
    fn write(self, m: &mut Message) {
        let (mut start, mut i) = (0, 0);
        while let Some(rest) = self.get(i..).filter(|r| !r.is_empty()) {
            match sequence(rest) {
                Ok(n) => i += n,
                Err(n) => {
                    m.push_utf8(self.get(start..i).unwrap_or_default());
                    m.push_utf8("\u{fffd}".as_bytes());
                    i += n;
                    start = i;
                }
            }
        }
        m.push_utf8(self.get(start..).unwrap_or_default());
    }
}

/// The length of the well-formed UTF-8 sequence `b` starts with (not
/// empty), or else that of its longest prefix that could start one.
fn sequence(b: &[u8]) -> Result<usize, usize> {
    // the sequence's length and the range of its second byte
    let (len, low, high) = match b.first().copied().unwrap_or(0) {
        0x00..=0x7f => return Ok(1),
        0xc2..=0xdf => (2, 0x80, 0xbf),
        0xe0 => (3, 0xa0, 0xbf),
        0xed => (3, 0x80, 0x9f),
        0xe1..=0xef => (3, 0x80, 0xbf),
        0xf0 => (4, 0x90, 0xbf),
        0xf1..=0xf3 => (4, 0x80, 0xbf),
        0xf4 => (4, 0x80, 0x8f),
        _ => return Err(1),
    };
    for k in 1..len {
        let fits = match b.get(k) {
            Some(&c) if k == 1 => (low..=high).contains(&c),
            Some(&c) => c & 0xc0 == 0x80,
            None => false,
        };
        if !fits {
            return Err(k);
        }
    }
    Ok(len)
}

impl Part for char {
    #[inline(never)]
    fn write(self, m: &mut Message) {
        m.push_utf8(self.encode_utf8(&mut [0; 4]).as_bytes());
    }
}

macro_rules! integer_parts {
    ($($t:ty),*) => {$(
        impl Part for $t {
            #[inline(always)]
            fn write(self, m: &mut Message) {
                #[allow(unused_comparisons)]
                let negative = self < 0;
                #[allow(clippy::cast_lossless, trivial_numeric_casts)]
                let v = (self as i128).unsigned_abs() as u64;
                m.push_integer(negative, v);
            }
        }
    )*};
}
integer_parts!(i32, i64, isize, u32, u64, usize);

impl Message {
    /// One writer for every integer type.
    #[inline(never)]
    fn push_integer(&mut self, negative: bool, v: u64) {
        if negative {
            self.push_utf8(b"-");
        }
        self.push_utf8(Digits::decimal(v).as_bytes());
    }
}

/// A byte in hex, two digits: `Hex2(0xc3)` is `c3`.
pub struct Hex2(pub u8);

impl Part for Hex2 {
    #[inline(never)]
    fn write(self, m: &mut Message) {
        let digits = b"0123456789abcdef";
        let pair = [
            digits
                .get(usize::from(self.0 >> 4))
                .copied()
                .unwrap_or(b'?'),
            digits
                .get(usize::from(self.0 & 15))
                .copied()
                .unwrap_or(b'?'),
        ];
        m.push_utf8(&pair);
    }
}

/// At most `max` bytes of a part, cut where a character ends.
pub struct Clip<P>(pub P, pub usize);

impl<P: Part> Part for Clip<P> {
    fn write(self, m: &mut Message) {
        let start = m.len();
        m.add(self.0);
        m.clip(start.saturating_add(self.1));
    }
}

/// A C string, decoded leniently; `(null)` for NULL.
pub struct CText(pub *const c_char);

impl Part for CText {
    #[inline(never)]
    fn write(self, m: &mut Message) {
        if self.0.is_null() {
            m.add("(null)");
        } else {
            // SAFETY: a non-null C string (the contract of whoever made
            // the `CText`).
            m.add(unsafe { CStr::from_ptr(self.0) }.to_bytes());
        }
    }
}

/// What the interpreter says of an object: `str(h)` or `repr(h)`, or `<?>`
/// if that fails (the failure is cleared).
pub enum Shown {
    Str(Ctx, HPy),
    Repr(Ctx, HPy),
}

impl Part for Shown {
    #[inline]
    fn write(self, m: &mut Message) {
        let (ctx, s) = match self {
            // SAFETY: live context (invariant of Ctx); `h` is open.
            Shown::Str(ctx, h) => (ctx, unsafe { raw::ctx_Str(ctx.0, h) }),
            // SAFETY: as above.
            Shown::Repr(ctx, h) => (ctx, unsafe { raw::ctx_Repr(ctx.0, h) }),
        };
        if s.is_null() || !str_contents(ctx, s, m) {
            // SAFETY: live context.
            unsafe { raw::ctx_Err_Clear(ctx.0) };
            m.add("<?>");
        }
        ctx.close(s);
    }
}

/// The name of `h`'s type, or `?` (the failure cleared).
pub struct TypeName(pub Ctx, pub HPy);

impl Part for TypeName {
    #[inline(never)]
    fn write(self, m: &mut Message) {
        let TypeName(ctx, h) = self;
        // SAFETY: live context; `h` is open; the name is read while the type
        // handle that owns it is open (the debug context makes it unreadable
        // after the close), then the handle is closed.
        unsafe {
            let t = raw::ctx_Type(ctx.0, h);
            let name = if t.is_null() {
                core::ptr::null()
            } else {
                raw::ctx_Type_GetName(ctx.0, t)
            };
            if name.is_null() {
                raw::ctx_Err_Clear(ctx.0);
                m.add("?");
            } else {
                m.add(CText(name));
            }
            ctx.close(t);
        }
    }
}

/// Append the UTF-8 of `str` object `s`; false (an exception set) if it has
/// none.
fn str_contents(ctx: Ctx, s: HPy, m: &mut Message) -> bool {
    let mut size: HPy_ssize_t = 0;
    // SAFETY: live context; `s` is open; `size` is a valid out pointer.
    let p = unsafe { raw::ctx_Unicode_AsUTF8AndSize(ctx.0, s, &mut size) };
    if p.is_null() {
        return false;
    }
    // SAFETY: the runtime returned `size` valid bytes at `p`, valid while
    // `s` is open.
    let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), size as usize) };
    m.add(bytes);
    true
}

/// The digits of a number, written on the stack.
pub(crate) struct Digits {
    /// Room for `u64::MAX` in decimal (20 digits) and in hex (16).
    buf: [u8; 20],
    /// Where the digits start: they end at the end of `buf`.
    start: usize,
}

impl Digits {
    pub(crate) fn decimal(v: u64) -> Digits {
        Digits::in_base(v, 10)
    }

    pub(crate) fn hex(v: u64) -> Digits {
        Digits::in_base(v, 16)
    }

    fn in_base(mut v: u64, base: u64) -> Digits {
        let mut d = Digits {
            buf: [b'0'; 20],
            start: 20,
        };
        // at most 20 digits: `start` stays in bounds
        while let Some(slot) = d.start.checked_sub(1).and_then(|i| d.buf.get_mut(i)) {
            *slot = b"0123456789abcdef"
                .get((v % base) as usize)
                .copied()
                .unwrap_or(b'?');
            d.start -= 1;
            v /= base;
            if v == 0 {
                break;
            }
        }
        d
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or(b"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::string::{String, ToString};

    fn text(m: &Message) -> String {
        String::from_utf8(m.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn parts() {
        let m = msg!(
            "a",
            'é',
            -12i64,
            " ",
            0usize,
            " ",
            u64::MAX,
            " ",
            i64::MIN,
            " 0x",
            Hex2(0x0f)
        );
        assert_eq!(
            text(&m),
            std::format!("aé-12 0 {} {} 0x0f", u64::MAX, i64::MIN)
        );
        assert_eq!(text(&msg!(&b"a\xffb"[..])), "a\u{fffd}b");
        assert_eq!(text(&msg!("n\0ul", &b"\0x"[..])), "nulx");
        assert_eq!(text(&msg!(Clip("x".repeat(300).as_str(), 200))).len(), 200);
        assert_eq!(text(&msg!(Clip("aé", 2))), "a");
        assert_eq!(text(&msg!(CText(core::ptr::null()))), "(null)");
        assert_eq!(text(&msg!(CText(c"k\xff".as_ptr()))), "k\u{fffd}");
    }

    #[test]
    fn lossy_bytes_as_std_does() {
        let mut cases: std::vec::Vec<std::vec::Vec<u8>> = std::vec::Vec::new();
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                cases.push(std::vec![a, b, b'x']);
            }
        }
        let picks = [
            0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee,
            0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff,
        ];
        for &a in &picks {
            for &b in &picks {
                for &c in &picks {
                    for &d in &picks {
                        cases.push(std::vec![a, b, c, d]);
                        cases.push(std::vec![b'-', a, b, c, d]);
                    }
                }
            }
        }
        for case in cases {
            // (a message drops NUL bytes)
            let expected = String::from_utf8_lossy(&case).replace('\0', "");
            assert_eq!(text(&msg!(&case[..])), expected, "{case:x?}");
        }
    }

    #[test]
    fn long_messages_and_c_strings() {
        let long = "ü".repeat(1000);
        let mut m = msg!(long.as_str());
        assert_eq!(text(&m), long);
        // SAFETY: `as_c_str` returns a NUL-terminated string.
        let c = unsafe { CStr::from_ptr(m.as_c_str()) };
        assert_eq!(c.to_str().unwrap(), long);
        assert_eq!(text(&m), long);
    }

    #[test]
    fn digits() {
        for v in [0, 1, 9, 10, 255, 4096, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(Digits::decimal(v).as_bytes(), v.to_string().as_bytes());
            assert_eq!(Digits::hex(v).as_bytes(), std::format!("{v:x}").as_bytes());
        }
    }
}
