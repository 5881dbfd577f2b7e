//! Error messages: how they are worded (`Wording`: upstream's prefixes, its
//! `:name` and `;text`, cut at its lengths) and raised during a parse, with
//! the exception types they use.

use super::format::Unit;
use super::run::Run;
use super::Raised;
use crate::constant;
use crate::ctx::Ctx;
use crate::message::{Clip, Message};
use crate::msg;
use core::ffi::{c_char, CStr};
use hpy_sys::HPy;

/// How messages about the arguments are worded: upstream prefixes them with
/// `function ` or, after `:name`, with `name() `; `;text` replaces them. The
/// name and the text are the format's bytes, decoded only for a message.
#[derive(Debug, PartialEq, Clone, Copy)]
pub(super) enum Wording<'a> {
    Default,
    Named(&'a [u8]),
    Replaced(&'a [u8]),
}

impl<'a> Wording<'a> {
    /// The wording given by what follows the units: nothing, or `:` or `;`
    /// and the rest of the format.
    pub(super) fn from_tail(tail: &'a [u8]) -> Wording<'a> {
        match tail.split_first() {
            None => Wording::Default,
            Some((b':', name)) => Wording::Named(name),
            Some((_, msg)) => Wording::Replaced(msg),
        }
    }

    /// The wording of the format `fmt`: by what follows its units, which
    /// stop at the first ':' or ';'.
    ///
    /// # Safety
    /// `fmt` must be a C string that outlives `'a`.
    #[cold]
    pub(super) unsafe fn of_format(fmt: *const c_char) -> Wording<'a> {
        // SAFETY: a C string outliving `'a` (caller's contract).
        let bytes = unsafe { CStr::from_ptr(fmt) }.to_bytes();
        let end = bytes.iter().position(|&b| b == b':' || b == b';');
        Wording::from_tail(end.and_then(|e| bytes.get(e..)).unwrap_or(&[]))
    }

    /// The format bytes it came from (see `from_tail`).
    pub(super) fn tail(&self) -> (&'static [u8], &'a [u8]) {
        match *self {
            Wording::Default => (b"", b""),
            Wording::Named(name) => (b":", name),
            Wording::Replaced(msg) => (b";", msg),
        }
    }

    /// The final message, cut at upstream's lengths (its buffers are fixed).
    #[cfg(test)]
    pub(super) fn word(&self, msg: impl Into<Message>) -> Message {
        self.word_message(&msg.into())
    }

    /// Raise `exc` with `msg`, worded: one copy for every worded message.
    #[cold]
    #[inline(never)]
    pub(super) fn raise(&self, ctx: Ctx, exc: Exc, msg: &Message) -> Raised {
        ctx.set_error(constant_of(ctx.0, exc), self.word_message(msg));
        Raised
    }

    /// [`Wording::raise`] with a fixed text.
    #[cold]
    #[inline(never)]
    pub(super) fn raise_text(&self, ctx: Ctx, exc: Exc, text: &str) -> Raised {
        self.raise(ctx, exc, &msg!(text))
    }

    /// [`Wording::word`], inlined into [`Wording::raise`] (its one caller
    /// outside the tests: one function fewer).
    #[inline(always)]
    fn word_message(&self, msg: &Message) -> Message {
        let mut text = Message::new();
        // `name() msg`, `function msg` (no name), or the replacement
        let (name, sep) = match *self {
            Wording::Default => (&b""[..], "function "),
            Wording::Named(name) => (name, "() "),
            Wording::Replaced(replacement) => (replacement, ""),
        };
        if sep.is_empty() {
            text.add(name);
        } else {
            text.add(Clip(name, 200)).add(sep).add(Clip(msg, 256));
        }
        text.clip(511);
        text
    }
}

/// The message about a keyword argument no unit took: its name's UTF-8,
/// None if it is not a `str`.
#[cold]
pub(super) fn complaint(name: Option<&[u8]>) -> Message {
    match name {
        Some(name) => msg!("got an unexpected keyword argument '", name, "'"),
        None => msg!("keywords must be strings"),
    }
}

/// A message for [`Run::raise`]: a fixed text or a built [`Message`],
/// each worded by its own function (no conversion in every caller).
pub(super) trait Worded {
    fn raise_worded(self, wording: &Wording, ctx: Ctx, exc: Exc) -> Raised;
}

impl Worded for &str {
    #[inline(always)]
    fn raise_worded(self, wording: &Wording, ctx: Ctx, exc: Exc) -> Raised {
        wording.raise_text(ctx, exc, self)
    }
}

impl Worded for Message {
    #[inline(always)]
    fn raise_worded(self, wording: &Wording, ctx: Ctx, exc: Exc) -> Raised {
        wording.raise(ctx, exc, &self)
    }
}

/// The exception types the parsers raise with worded messages.
pub(super) enum Exc {
    Type,
    Value,
    Overflow,
    System,
}

/// The exception type `exc` of context `c`.
pub(super) fn constant_of(c: *mut hpy_sys::HPyContext, exc: Exc) -> HPy {
    // SAFETY: reading constants of a live context.
    unsafe {
        match exc {
            Exc::Type => constant!(c, h_TypeError),
            Exc::Value => constant!(c, h_ValueError),
            Exc::Overflow => constant!(c, h_OverflowError),
            Exc::System => constant!(c, h_SystemError),
        }
    }
}

/// Raising during a parse: each returns the `Raised` to propagate.
impl Run {
    #[cold]
    pub(super) fn null_output(&self, unit: Unit) -> Raised {
        self.ctx.system_error(msg!(
            self.api.name(),
            ": NULL output pointer for format unit '",
            unit.code(),
            "'"
        ));
        Raised
    }

    #[cold]
    pub(super) fn raise(&self, exc: Exc, msg: impl Worded) -> Raised {
        // SAFETY: `fmt` is a C string valid for the call (entry point's
        // contract).
        let wording = unsafe { Wording::of_format(self.fmt) };
        msg.raise_worded(&wording, self.ctx, exc)
    }

    #[cold]
    pub(super) fn raise_type(&self, msg: impl Worded) -> Raised {
        self.raise(Exc::Type, msg)
    }

    #[cold]
    pub(super) fn raise_overflow(&self, msg: impl Worded) -> Raised {
        self.raise(Exc::Overflow, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::format;
    use std::string::String;

    fn word(w: Wording, m: &str) -> String {
        String::from_utf8(w.word(m).as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn wording_limits() {
        assert_eq!(word(Wording::Default, "msg"), "function msg");
        assert_eq!(word(Wording::Named(b"f"), "msg"), "f() msg");
        assert_eq!(word(Wording::Replaced(b"mine"), "msg"), "mine");
        let long = word(Wording::Named("x".repeat(300).as_bytes()), &"m".repeat(300));
        assert_eq!(long, format!("{}() {}", "x".repeat(200), "m".repeat(256)));
        assert_eq!(
            word(Wording::Replaced("é".repeat(300).as_bytes()), "").len(),
            510
        );
        assert_eq!(word(Wording::Default, "aé").len(), "function aé".len());
        // invalid UTF-8 in the format is replaced, then cut
        assert_eq!(word(Wording::Named(b"a\xffb"), "m"), "a\u{fffd}b() m");
    }
}
