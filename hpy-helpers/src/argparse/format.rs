//! The format string: its units (`Unit`, one per output pointer), read and
//! checked in one pass (`Format`) before any argument is looked at, with
//! where the optional and keyword-only units start and how messages are
//! worded.

use super::keywords::Params;
use super::messages::{Exc, Wording};
use super::{Api, Raised, Res};
use crate::ctx::Ctx;
use crate::msg;
use core::ffi::{c_char, CStr};
use hpy_sys::call::loaded as raw;

/// One format unit, its code as discriminant. The doc gives the C type its
/// output pointer points to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum Unit {
    /// `b`: `unsigned char`, range-checked (0..=255).
    UByte = b'b',
    /// `B`: `unsigned char`, wrapped.
    UByteMask = b'B',
    /// `h`: `short`, range-checked.
    Short = b'h',
    /// `H`: `unsigned short`, wrapped.
    UShortMask = b'H',
    /// `i`: `int`, range-checked.
    Int = b'i',
    /// `I`: `unsigned int`, wrapped.
    UIntMask = b'I',
    /// `l`: `long`.
    Long = b'l',
    /// `k`: `unsigned long`, wrapped.
    ULongMask = b'k',
    /// `L`: `long long`.
    LongLong = b'L',
    /// `K`: `unsigned long long`, wrapped.
    ULongLongMask = b'K',
    /// `n`: `HPy_ssize_t`.
    Ssize = b'n',
    /// `f`: `float`.
    Float = b'f',
    /// `d`: `double`.
    Double = b'd',
    /// `O`: `HPy`.
    Object = b'O',
    /// `p`: `int`, the argument's truth value.
    Bool = b'p',
    /// `s`: `const char *`, the UTF-8 of a `str` without NUL characters.
    Str = b's',
}

impl Unit {
    /// The unit `code` stands for.
    #[inline(always)]
    pub(super) fn of(code: u8) -> Option<Unit> {
        Some(match code {
            b'b' => Unit::UByte,
            b'B' => Unit::UByteMask,
            b'h' => Unit::Short,
            b'H' => Unit::UShortMask,
            b'i' => Unit::Int,
            b'I' => Unit::UIntMask,
            b'l' => Unit::Long,
            b'k' => Unit::ULongMask,
            b'L' => Unit::LongLong,
            b'K' => Unit::ULongLongMask,
            b'n' => Unit::Ssize,
            b'f' => Unit::Float,
            b'd' => Unit::Double,
            b'O' => Unit::Object,
            b'p' => Unit::Bool,
            b's' => Unit::Str,
            _ => return None,
        })
    }

    pub(super) fn code(self) -> char {
        char::from(self as u8)
    }
}

/// A format string, checked.
pub(super) struct Format<'a> {
    /// The units and the markers between them (the bytes before `:`/`;`).
    pub(super) codes: &'a [u8],
    /// How many units there are.
    pub(super) len: usize,
    /// Index of the first optional unit (`len` when none is): the passes
    /// track it themselves, the tests check it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) optional_from: usize,
    /// Index of the first keyword-only unit (`len` when none is).
    pub(super) kwonly_from: usize,
    /// Whether there is an `O` unit.
    pub(super) has_object: bool,
    pub(super) wording: Wording<'a>,
}

/// Why a format string is unusable (as the tests' [`Format::parse`] says).
#[cfg(test)]
#[derive(Debug, PartialEq)]
pub(super) enum BadFormat<'a> {
    /// A byte that is no unit: upstream's error, worded like the argument
    /// errors (the wording is known even when the units are not).
    Unknown(Wording<'a>),
    /// A misplaced or repeated marker, at this offset.
    Marker(&'static str, usize),
}

/// Counts the units of a format and places its markers, one byte at a time.
#[derive(Default)]
pub(super) struct Counter {
    len: usize,
    has_object: bool,
    optional_from: Option<usize>,
    kwonly_from: Option<usize>,
}

/// What is wrong with a byte of the units part of a format.
pub(super) enum Problem {
    /// It is no unit.
    Unknown,
    /// A misplaced or repeated marker.
    Marker(&'static str),
}

impl Counter {
    /// Take the next byte `b` of the units part.
    #[inline(always)]
    pub(super) fn take(&mut self, api: Api, b: u8) -> Result<(), Problem> {
        if Unit::of(b).is_some() {
            self.len += 1;
            self.has_object |= b == b'O';
            return Ok(());
        }
        match b {
            b'|' if self.kwonly_from.is_some() => Err(Problem::Marker("'|' after '$'")),
            b'|' if self.optional_from.is_some() => Err(Problem::Marker("'|' appears twice")),
            b'|' => {
                self.optional_from = Some(self.len);
                Ok(())
            }
            // The keyword parsers accept '$' without '|' (it makes the rest
            // optional too); HPyArg_Parse does not know '$'.
            b'$' if api != Api::Parse => {
                if self.kwonly_from.is_some() {
                    return Err(Problem::Marker("'$' appears twice"));
                }
                self.kwonly_from = Some(self.len);
                self.optional_from = self.optional_from.or(self.kwonly_from);
                Ok(())
            }
            _ => Err(Problem::Unknown),
        }
    }

    pub(super) fn finish<'a>(self, codes: &'a [u8], wording: Wording<'a>) -> Format<'a> {
        Format {
            codes,
            len: self.len,
            optional_from: self.optional_from.unwrap_or(self.len),
            kwonly_from: self.kwonly_from.unwrap_or(self.len),
            has_object: self.has_object,
            wording,
        }
    }
}

/// Raise the error for a NULL format; 0 for the entry point to return.
#[cold]
pub(super) fn null_format(ctx: Ctx, api: Api) -> core::ffi::c_int {
    ctx.system_error(msg!(api.name(), ": the format string is NULL"));
    0
}

impl<'a> Format<'a> {
    /// Raise the error [`Format::scan`] found in `fmt`: `problem` at offset
    /// `pos`.
    /// (Inlined into `format_first`, its one caller, itself cold.)
    ///
    /// # Safety
    /// `fmt` must be a C string, `pos` an offset before its NUL (as `scan`
    /// reports).
    #[inline(always)]
    pub(super) unsafe fn malformed(
        ctx: Ctx,
        api: Api,
        fmt: *const c_char,
        (problem, pos): (Problem, usize),
    ) -> Raised {
        // SAFETY: a C string outliving `'a` (caller's contract).
        let bytes = unsafe { CStr::from_ptr(fmt) }.to_bytes();
        match problem {
            // upstream's message, which does not name the unit, worded by
            // what follows the units
            Problem::Unknown => {
                // SAFETY: `pos` is before the NUL (caller's contract), so a
                // C string follows.
                let wording = unsafe { Wording::of_format(fmt.add(pos)) };
                wording.raise_text(ctx, Exc::System, "unknown arg format code");
            }
            Problem::Marker(problem) => ctx.system_error(msg!(
                api.name(),
                ": bad format string \"",
                bytes,
                "\": ",
                problem,
                " (at offset ",
                pos,
                ")"
            )),
        }
        Raised
    }

    /// The well-formed format `fmt` in one pass over its units, which stop
    /// at the first ':' or ';' (or the NUL); what follows is only read if
    /// there is one. If the format is malformed, what is wrong and where.
    /// (Only after a failed parse: the parsers check as they go.)
    ///
    /// # Safety
    /// `fmt` must be a C string that outlives `'a`.
    ///
    /// (Inlined into `format_first`, its one caller in the library.)
    #[inline(always)]
    pub(super) unsafe fn scan(
        api: Api,
        fmt: *const c_char,
    ) -> Result<Format<'a>, (Problem, usize)> {
        let mut counter = Counter::default();
        let mut end = 0;
        let stop = loop {
            // SAFETY: every byte up to the NUL is readable, and the loop
            // stops there.
            let b = unsafe { *fmt.add(end) } as u8;
            if matches!(b, 0 | b':' | b';') {
                break b;
            }
            counter.take(api, b).map_err(|problem| (problem, end))?;
            end += 1;
        };
        // SAFETY: `end` readable bytes, valid for `'a` (caller's contract).
        let codes = unsafe { core::slice::from_raw_parts(fmt.cast::<u8>(), end) };
        let wording = if stop == 0 {
            Wording::Default
        } else {
            // SAFETY: a ':' or ';', then the rest of the C string.
            Wording::from_tail(unsafe { CStr::from_ptr(fmt.add(end)) }.to_bytes())
        };
        Ok(counter.finish(codes, wording))
    }

    /// [`Format::read`] for a format given as bytes (the tests' way to
    /// check [`Format::scan`]).
    #[cfg(test)]
    pub(super) fn parse(api: Api, bytes: &'a [u8]) -> Result<Format<'a>, BadFormat<'a>> {
        let end = bytes
            .iter()
            .position(|&b| b == b':' || b == b';')
            .unwrap_or(bytes.len());
        let (codes, tail) = bytes.split_at(end);
        let wording = Wording::from_tail(tail);
        let mut counter = Counter::default();
        for (pos, &b) in codes.iter().enumerate() {
            counter.take(api, b).map_err(|problem| match problem {
                Problem::Unknown => BadFormat::Unknown(wording),
                Problem::Marker(problem) => BadFormat::Marker(problem, pos),
            })?;
        }
        Ok(counter.finish(codes, wording))
    }

    /// The units, in order (the markers between them skipped).
    pub(super) fn units(&self) -> impl Iterator<Item = Unit> + 'a {
        self.codes.iter().filter_map(|&b| Unit::of(b))
    }

    /// If the checks of the format against `keywords` that upstream makes
    /// when it reaches the offending unit fail (the keyword parsers' pass
    /// stops where they would), replace the pending exception with the
    /// first error they find.
    /// (Inlined into `format_first`, its one caller, itself cold.)
    #[inline(always)]
    pub(super) fn keywords_error(
        &self,
        ctx: Ctx,
        api: Api,
        keywords: Params,
        no_tracker: bool,
    ) -> Res<()> {
        let (named_from, misplaced_empty) = keywords.layout();
        let fixed = if misplaced_empty {
            Some((Exc::System, "empty keyword parameter name"))
        } else if no_tracker && self.has_object {
            // upstream's text, which names HPyArg_ParseKeywords for both parsers
            Some((
                Exc::System,
                "HPyArg_ParseKeywords cannot use the format character 'O' unless an \
                 HPyTracker is provided. Please supply an HPyTracker.",
            ))
        } else if keywords.len() < self.len {
            Some((Exc::Type, "mismatched args (too few keywords for fmt)"))
        } else if keywords.len() > self.len {
            Some((Exc::Type, "mismatched args (too many keywords for fmt)"))
        } else {
            None
        };
        let kwonly_unnamed = self.kwonly_from < named_from;
        if fixed.is_some() || kwonly_unnamed {
            // SAFETY: live context.
            unsafe { raw::ctx_Err_Clear(ctx.0) };
        }
        if let Some((exc, text)) = fixed {
            return Err(self.wording.raise_text(ctx, exc, text));
        }
        if kwonly_unnamed {
            // the unit's code (a loop: `Iterator::nth` was a function of
            // its own)
            let mut code = '?';
            let mut before = self.kwonly_from;
            for unit in self.units() {
                if before == 0 {
                    code = unit.code();
                    break;
                }
                before -= 1;
            }
            let (sep, tail) = self.wording.tail();
            ctx.system_error(msg!(
                api.name(),
                ": bad format string \"",
                self.codes,
                sep,
                tail,
                "\": keyword-only unit '",
                code,
                "' (number ",
                self.kwonly_from + 1,
                ") has no keyword name"
            ));
            return Err(Raised);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::string::String;

    fn parsed(api: Api, fmt: &str) -> Format<'_> {
        match Format::parse(api, fmt.as_bytes()) {
            Ok(f) => f,
            Err(e) => panic!("{fmt:?} rejected: {e:?}"),
        }
    }

    #[test]
    fn every_unit_round_trips() {
        let all = "bBhHiIlkLKnfdOps";
        let f = parsed(Api::Parse, all);
        assert_eq!(f.units().map(Unit::code).collect::<String>(), all);
        assert_eq!(f.len, 16);
        assert_eq!((f.optional_from, f.kwonly_from), (16, 16));
        assert_eq!(f.wording, Wording::Default);
    }

    #[test]
    fn markers() {
        let f = parsed(Api::Parse, "ll|d");
        assert_eq!((f.len, f.optional_from, f.kwonly_from), (3, 2, 3));
        let f = parsed(Api::Keywords, "l|l$d:name");
        assert_eq!((f.optional_from, f.kwonly_from), (1, 2));
        assert_eq!(f.wording, Wording::Named(b"name"));
        // '$' alone also starts the optional part
        let f = parsed(Api::KeywordsDict, "O$O;text: with colon");
        assert_eq!((f.optional_from, f.kwonly_from), (1, 1));
        assert_eq!(f.wording, Wording::Replaced(b"text: with colon"));
        let f = parsed(Api::Parse, "");
        assert_eq!((f.len, f.optional_from, f.kwonly_from), (0, 0, 0));
    }

    #[test]
    fn malformed() {
        fn bad(api: Api, fmt: &str) -> BadFormat<'_> {
            Format::parse(api, fmt.as_bytes()).err().expect(fmt)
        }
        assert_eq!(bad(Api::Parse, "O$O"), BadFormat::Unknown(Wording::Default));
        assert_eq!(
            bad(Api::Parse, "lZ:f"),
            BadFormat::Unknown(Wording::Named(b"f"))
        );
        assert_eq!(
            bad(Api::Parse, "l||l"),
            BadFormat::Marker("'|' appears twice", 2)
        );
        assert_eq!(
            bad(Api::Keywords, "l$|l"),
            BadFormat::Marker("'|' after '$'", 2)
        );
        assert_eq!(
            bad(Api::Keywords, "$l$"),
            BadFormat::Marker("'$' appears twice", 2)
        );
        // the units end at ':', whatever follows
        assert!(Format::parse(Api::Parse, b"l:||Z$").is_ok());
    }

    #[test]
    fn unit_codes() {
        for b in 0..=255u8 {
            if let Some(unit) = Unit::of(b) {
                assert_eq!(unit.code(), char::from(b));
            }
        }
    }

    #[test]
    fn scan_agrees_with_parse() {
        for fmt in [
            "",
            "l",
            "ll|d",
            "O$O:name",
            "l|l$d;msg: x",
            "lZ:f",
            "l||l",
            "$l$",
            "l$|l",
            "l:||Z$",
            "O$O",
            "|",
            "$",
            "bBhHiIlkLKnfdOps;",
            "é",
        ] {
            for api in [Api::Parse, Api::Keywords] {
                let c = std::ffi::CString::new(fmt).unwrap();
                // SAFETY: a C string, alive for the call.
                let scanned = unsafe { Format::scan(api, c.as_ptr()) };
                let fields = |f: &Format<'_>| {
                    let (sep, tail) = f.wording.tail();
                    let tail = [sep, tail].concat();
                    (
                        f.codes.to_vec(),
                        f.len,
                        f.optional_from,
                        f.kwonly_from,
                        tail,
                    )
                };
                match (scanned, Format::parse(api, fmt.as_bytes())) {
                    (Ok(a), Ok(b)) => assert_eq!(fields(&a), fields(&b), "{fmt}"),
                    (Err((_, pos)), Err(BadFormat::Marker(_, at))) => assert_eq!(pos, at, "{fmt}"),
                    (Err((Problem::Unknown, _)), Err(BadFormat::Unknown(_))) => {}
                    _ => panic!("{fmt:?}: scan and parse disagree"),
                }
            }
        }
    }
}
