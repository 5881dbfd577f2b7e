//! HPyArg_Parse, HPyArg_ParseKeywords and HPyArg_ParseKeywordsDict.
//!
//! The format string is checked first, in one pass over its bytes that also
//! finds where the optional and keyword-only units start and how messages
//! are worded ([`Format`], which borrows the bytes), so a malformed format is
//! reported before any argument is looked at. Then each unit takes its
//! argument and its output pointer: one variable argument per unit, read in
//! order and only once the unit is reached, as upstream does. A call with
//! at most four keyword names allocates nothing (error messages aside).
//!
//! Units, semantics and message texts are upstream HPy 0.9.0's. Beyond
//! upstream: the keyword parsers reject what upstream silently ignores
//! (surplus positional arguments, unknown keywords, a value given both by
//! position and by name), every parser rejects a repeated `|` or `$` and a `|`
//! after `$`, and a missing optional argument leaves the output of `p` and `s`
//! untouched as documented (upstream would read a NULL handle there).

use crate::ctx::Ctx;
use crate::smallvec::SmallVec;
use crate::va::VaArgs;
use crate::{call, constant};
use core::ffi::{c_char, c_int, c_long, c_ulong, c_void, CStr};
use hpy_sys::{HPy, HPyTracker, HPy_NULL, HPy_ssize_t};

/// `HPyArg_Parse`: positional arguments only.
///
/// # Safety
/// Arguments as received by `HPyArg_Parse`: a live context, `ht` NULL or
/// writable, `args` valid for `nargs` handles, `fmt` a C string, and one
/// output pointer in `va` per format unit.
#[inline(always)] // into the C entry point's Rust half: one call fewer
pub unsafe fn parse(
    ctx: Ctx,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    fmt: *const c_char,
    va: VaArgs,
) -> c_int {
    let api = Api::Parse;
    // SAFETY: `fmt` is a C string (caller's contract).
    let Ok(format) = (unsafe { Format::read(ctx, api, fmt) }) else {
        return 0;
    };
    // SAFETY: `args` holds `nargs` handles (caller's contract).
    let Ok(args) = (unsafe { handles(ctx, api, args, nargs) }) else {
        return 0;
    };
    // SAFETY: `ht` is NULL or writable (caller's contract).
    let Ok(tracker) = (unsafe { open_tracker(ctx, ht) }) else {
        return 0;
    };
    let mut run = Run {
        ctx,
        api,
        format: &format,
        va,
        tracker,
    };
    let result = run.positional(args);
    finish(ctx, tracker, result)
}

/// `HPyArg_ParseKeywords`: positional arguments, then the values of the
/// keyword arguments named by the tuple `kwnames`.
///
/// # Safety
/// As for [`parse`], plus: `args` holds `nargs + len(kwnames)` handles,
/// `keywords` is a NULL-terminated array of C strings.
#[allow(clippy::too_many_arguments)]
#[inline(always)] // see `parse_kw`
pub unsafe fn parse_keywords(
    ctx: Ctx,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: VaArgs,
) -> c_int {
    // SAFETY: forwarded (caller's contract).
    unsafe {
        parse_kw(
            ctx,
            Api::Keywords,
            ht,
            args,
            nargs,
            kwnames,
            fmt,
            keywords,
            va,
        )
    }
}

/// `HPyArg_ParseKeywordsDict`: positional arguments and a dict of keyword
/// arguments.
///
/// # Safety
/// As for [`parse`], plus: `kw` is HPy_NULL or an open handle, `keywords` is a
/// NULL-terminated array of C strings.
#[allow(clippy::too_many_arguments)]
#[inline(always)] // see `parse_kw`
pub unsafe fn parse_keywords_dict(
    ctx: Ctx,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: HPy_ssize_t,
    kw: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: VaArgs,
) -> c_int {
    let api = Api::KeywordsDict;
    let Ok(nargs) = usize::try_from(nargs) else {
        ctx.system_error(&format!("{}: negative nargs ({nargs})", api.name()));
        return 0;
    };
    // SAFETY: forwarded (caller's contract).
    unsafe { parse_kw(ctx, api, ht, args, nargs, kw, fmt, keywords, va) }
}

/// The part the two keyword parsers share.
///
/// # Safety
/// See [`parse_keywords`] and [`parse_keywords_dict`]; `kw` is `kwnames` for
/// [`Api::Keywords`], the dict for [`Api::KeywordsDict`].
///
/// Inlined into the entry points: their last arguments arrive on the stack,
/// and a call passing them on copies them with one wide load that waits for
/// the C caller's two narrow stores to land (a store-forwarding stall, some
/// 10 % of a call).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn parse_kw(
    ctx: Ctx,
    api: Api,
    ht: *mut HPyTracker,
    args: *const HPy,
    nargs: usize,
    kw: HPy,
    fmt: *const c_char,
    keywords: *const *const c_char,
    va: VaArgs,
) -> c_int {
    // SAFETY: `fmt` is a C string (caller's contract).
    let Ok(format) = (unsafe { Format::read(ctx, api, fmt) }) else {
        return 0;
    };
    // SAFETY: `keywords` is a NULL-terminated array of C strings.
    let Ok(keywords) = (unsafe { Params::read(ctx, api, keywords) }) else {
        return 0;
    };
    if format
        .check_keywords(ctx, api, keywords, ht.is_null())
        .is_err()
    {
        return 0;
    }
    // SAFETY: `ht` is NULL or writable (caller's contract).
    let Ok(tracker) = (unsafe { open_tracker(ctx, ht) }) else {
        return 0;
    };
    let mut run = Run {
        ctx,
        api,
        format: &format,
        va,
        tracker,
    };
    // SAFETY: `args` holds `nargs` positional handles followed by the
    // keyword values (caller's contract).
    let result = unsafe { run.keywords(args, nargs, kw, keywords) };
    finish(ctx, tracker, result)
}

/// An exception is set; the entry point returns 0.
struct Raised;
type Res<T> = Result<T, Raised>;

/// Which entry point is running (for messages and the accepted markers).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Parse,
    Keywords,
    KeywordsDict,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Parse => "HPyArg_Parse",
            Api::Keywords => "HPyArg_ParseKeywords",
            Api::KeywordsDict => "HPyArg_ParseKeywordsDict",
        }
    }
}

/// One format unit, its code as discriminant. The doc gives the C type its
/// output pointer points to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Unit {
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
    fn of(code: u8) -> Option<Unit> {
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

    fn code(self) -> char {
        char::from(self as u8)
    }
}

/// How messages about the arguments are worded: upstream prefixes them with
/// `function ` or, after `:name`, with `name() `; `;text` replaces them. The
/// name and the text are the format's bytes, decoded only for a message.
#[derive(Debug, PartialEq, Clone, Copy)]
enum Wording<'a> {
    Default,
    Named(&'a [u8]),
    Replaced(&'a [u8]),
}

impl<'a> Wording<'a> {
    /// The wording given by what follows the units: nothing, or `:` or `;`
    /// and the rest of the format.
    fn from_tail(tail: &'a [u8]) -> Wording<'a> {
        match tail.split_first() {
            None => Wording::Default,
            Some((b':', name)) => Wording::Named(name),
            Some((_, msg)) => Wording::Replaced(msg),
        }
    }

    /// The format bytes it came from (see `from_tail`).
    fn tail(&self) -> (&'static [u8], &'a [u8]) {
        match *self {
            Wording::Default => (b"", b""),
            Wording::Named(name) => (b":", name),
            Wording::Replaced(msg) => (b";", msg),
        }
    }

    /// The final message, cut at upstream's lengths (its buffers are fixed).
    fn word(&self, msg: &str) -> String {
        let text = match self {
            Wording::Default => format!("function {}", clip(msg, 256)),
            Wording::Named(name) => format!(
                "{}() {}",
                clip(&String::from_utf8_lossy(name), 200),
                clip(msg, 256)
            ),
            Wording::Replaced(text) => String::from_utf8_lossy(text).into_owned(),
        };
        clip(&text, 511).to_owned()
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character.
fn clip(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A format string, checked.
struct Format<'a> {
    /// The units and the markers between them (the bytes before `:`/`;`).
    codes: &'a [u8],
    /// How many units there are.
    len: usize,
    /// Index of the first optional unit (`len` when none is).
    optional_from: usize,
    /// Index of the first keyword-only unit (`len` when none is).
    kwonly_from: usize,
    /// Whether there is an `O` unit.
    has_object: bool,
    wording: Wording<'a>,
}

/// Why a format string is unusable.
#[derive(Debug, PartialEq)]
enum BadFormat<'a> {
    /// A byte that is no unit: upstream's error, worded like the argument
    /// errors (the wording is known even when the units are not).
    Unknown(Wording<'a>),
    /// A misplaced or repeated marker, at this offset.
    Marker(&'static str, usize),
}

/// Counts the units of a format and places its markers, one byte at a time.
#[derive(Default)]
struct Counter {
    len: usize,
    has_object: bool,
    optional_from: Option<usize>,
    kwonly_from: Option<usize>,
}

/// What is wrong with a byte of the units part of a format.
enum Problem {
    /// It is no unit.
    Unknown,
    /// A misplaced or repeated marker.
    Marker(&'static str),
}

impl Counter {
    /// Take the next byte `b` of the units part.
    #[inline(always)]
    fn take(&mut self, api: Api, b: u8) -> Result<(), Problem> {
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

    fn finish<'a>(self, codes: &'a [u8], wording: Wording<'a>) -> Format<'a> {
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

impl<'a> Format<'a> {
    /// Read `fmt`, or raise `SystemError` if it is malformed.
    ///
    /// # Safety
    /// `fmt` must be NULL or a C string that outlives `'a`.
    #[inline(always)]
    unsafe fn read(ctx: Ctx, api: Api, fmt: *const c_char) -> Res<Format<'a>> {
        if fmt.is_null() {
            ctx.system_error(&format!("{}: the format string is NULL", api.name()));
            return Err(Raised);
        }
        // SAFETY: a C string outliving `'a` (caller's contract).
        match unsafe { Format::scan(api, fmt) } {
            Some(format) => Ok(format),
            // SAFETY: as above.
            None => unsafe { Format::read_malformed(ctx, api, fmt) },
        }
    }

    /// [`Format::read`] for a format [`Format::scan`] refused: find out how
    /// it is malformed, and raise.
    ///
    /// # Safety
    /// As for [`Format::read`], `fmt` not NULL.
    #[cold]
    unsafe fn read_malformed(ctx: Ctx, api: Api, fmt: *const c_char) -> Res<Format<'a>> {
        // SAFETY: a C string outliving `'a` (caller's contract).
        let bytes = unsafe { CStr::from_ptr(fmt) }.to_bytes();
        let bad = match Format::parse(api, bytes) {
            Ok(format) => return Ok(format),
            Err(bad) => bad,
        };
        match bad {
            // upstream's message, which does not name the unit
            BadFormat::Unknown(wording) => {
                ctx.system_error(&wording.word("unknown arg format code"))
            }
            BadFormat::Marker(problem, pos) => ctx.system_error(&format!(
                "{}: bad format string \"{}\": {problem} (at offset {pos})",
                api.name(),
                String::from_utf8_lossy(bytes)
            )),
        }
        Err(Raised)
    }

    /// The well-formed format `fmt` in one pass over its units, which stop
    /// at the first ':' or ';' (or the NUL); what follows is only read if
    /// there is one. None if the format is malformed.
    ///
    /// # Safety
    /// `fmt` must be a C string that outlives `'a`.
    #[inline(always)]
    unsafe fn scan(api: Api, fmt: *const c_char) -> Option<Format<'a>> {
        let mut counter = Counter::default();
        let mut end = 0;
        let stop = loop {
            // SAFETY: every byte up to the NUL is readable, and the loop
            // stops there.
            let b = unsafe { *fmt.add(end) } as u8;
            if matches!(b, 0 | b':' | b';') {
                break b;
            }
            counter.take(api, b).ok()?;
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
        Some(counter.finish(codes, wording))
    }

    /// [`Format::read`] for a format given as bytes.
    fn parse(api: Api, bytes: &'a [u8]) -> Result<Format<'a>, BadFormat<'a>> {
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
    fn units(&self) -> impl Iterator<Item = Unit> + 'a {
        self.codes.iter().filter_map(|&b| Unit::of(b))
    }

    fn is_optional(&self, i: usize) -> bool {
        i >= self.optional_from
    }

    /// The checks of the format against `keywords` that upstream makes when
    /// it reaches the offending unit, made before any argument is used.
    #[inline(always)]
    fn check_keywords(&self, ctx: Ctx, api: Api, keywords: Params, no_tracker: bool) -> Res<()> {
        let wrong = keywords.misplaced_empty
            || (no_tracker && self.has_object)
            || keywords.len() != self.len
            || self.kwonly_from < keywords.named_from;
        if wrong {
            self.keywords_error(ctx, api, keywords, no_tracker)
        } else {
            Ok(())
        }
    }

    /// Raise the first error [`Format::check_keywords`] found.
    #[cold]
    fn keywords_error(&self, ctx: Ctx, api: Api, keywords: Params, no_tracker: bool) -> Res<()> {
        let named_from = keywords.named_from;
        if keywords.misplaced_empty {
            ctx.system_error(&self.wording.word("empty keyword parameter name"));
            return Err(Raised);
        }
        if no_tracker && self.has_object {
            // upstream's text, which names HPyArg_ParseKeywords for both parsers
            ctx.system_error(&self.wording.word(
                "HPyArg_ParseKeywords cannot use the format character 'O' unless an \
                 HPyTracker is provided. Please supply an HPyTracker.",
            ));
            return Err(Raised);
        }
        if keywords.len() < self.len {
            ctx.type_error(
                &self
                    .wording
                    .word("mismatched args (too few keywords for fmt)"),
            );
            return Err(Raised);
        }
        if keywords.len() > self.len {
            ctx.type_error(
                &self
                    .wording
                    .word("mismatched args (too many keywords for fmt)"),
            );
            return Err(Raised);
        }
        if self.kwonly_from < named_from {
            let code = self.units().nth(self.kwonly_from).map_or('?', Unit::code);
            let (sep, tail) = self.wording.tail();
            ctx.system_error(&format!(
                "{}: bad format string \"{}\": keyword-only unit '{}' (number {}) has no keyword name",
                api.name(),
                String::from_utf8_lossy(&[self.codes, sep, tail].concat()),
                code,
                self.kwonly_from + 1
            ));
            return Err(Raised);
        }
        Ok(())
    }
}

/// The parameter names of the keyword parsers (the `keywords` array, up to
/// its NULL terminator), as the caller gave them.
#[derive(Clone, Copy)]
struct Params<'k> {
    names: &'k [*const c_char],
    /// Index of the first that is not empty: positional-only parameters
    /// (named "") come first.
    named_from: usize,
    /// Whether an empty name follows a non-empty one.
    misplaced_empty: bool,
}

impl<'k> Params<'k> {
    /// # Safety
    /// `keywords` must be NULL or a NULL-terminated array of C strings, all
    /// of which outlive `'k`.
    #[inline(always)]
    unsafe fn read(ctx: Ctx, api: Api, keywords: *const *const c_char) -> Res<Params<'k>> {
        if keywords.is_null() {
            ctx.system_error(&format!("{}: the keywords array is NULL", api.name()));
            return Err(Raised);
        }
        let mut len = 0;
        let mut named_from = None;
        let mut misplaced_empty = false;
        loop {
            // SAFETY: the array is NULL-terminated and we stop at the NULL.
            let k = unsafe { *keywords.add(len) };
            if k.is_null() {
                break;
            }
            // SAFETY: a C string (caller's contract): its first byte is
            // readable.
            let empty = unsafe { *k } == 0;
            match named_from {
                None if !empty => named_from = Some(len),
                Some(_) if empty => misplaced_empty = true,
                _ => {}
            }
            len += 1;
        }
        Ok(Params {
            // SAFETY: `len` readable, non-null entries (just checked), which
            // outlive `'k` (caller's contract).
            names: unsafe { core::slice::from_raw_parts(keywords, len) },
            named_from: named_from.unwrap_or(len),
            misplaced_empty,
        })
    }

    fn len(self) -> usize {
        self.names.len()
    }

    /// The name of parameter `i` (`i < len`).
    fn get(self, i: usize) -> Key<'k> {
        Key(self.names[i], core::marker::PhantomData)
    }

    fn iter(self) -> impl Iterator<Item = Key<'k>> {
        (0..self.len()).map(move |i| self.get(i))
    }
}

/// A parameter name: a C string of the caller's, compared in place (never
/// measured first).
#[derive(Clone, Copy)]
struct Key<'k>(*const c_char, core::marker::PhantomData<&'k CStr>);

impl<'k> Key<'k> {
    fn is_empty(self) -> bool {
        // SAFETY: a non-null C string (see `Params::read`): its first byte
        // is readable.
        unsafe { *self.0 == 0 }
    }

    /// True if the name is `name`.
    fn is(self, name: &[u8]) -> bool {
        for (i, &b) in name.iter().enumerate() {
            // SAFETY: the key's bytes before `i` were not its NUL (else we
            // returned), so byte `i` is at most the NUL: readable.
            let k = unsafe { *self.0.add(i) } as u8;
            if k != b || k == 0 {
                return false;
            }
        }
        // SAFETY: as above, for `i = name.len()`.
        unsafe { *self.0.add(name.len()) == 0 }
    }

    fn as_cstr(self) -> &'k CStr {
        // SAFETY: a non-null C string outliving `'k` (see `Params::read`).
        unsafe { CStr::from_ptr(self.0) }
    }
}

/// `args` as a slice (`args` may be NULL when `nargs` is 0).
///
/// # Safety
/// `args` must be valid for `nargs` handles for the call's duration.
#[inline(always)]
unsafe fn handles<'a>(ctx: Ctx, api: Api, args: *const HPy, nargs: usize) -> Res<&'a [HPy]> {
    if nargs == 0 {
        return Ok(&[]);
    }
    if args.is_null() {
        return Err(null_args(ctx, api, nargs));
    }
    // SAFETY: caller's contract; not NULL.
    Ok(unsafe { core::slice::from_raw_parts(args, nargs) })
}

#[cold]
fn null_args(ctx: Ctx, api: Api, nargs: usize) -> Raised {
    ctx.system_error(&format!(
        "{}: args is NULL but nargs is {nargs}",
        api.name()
    ));
    Raised
}

/// Create the tracker in `*ht`, when `ht` is given (before any argument is
/// used, as upstream does).
///
/// # Safety
/// `ht` must be NULL or writable.
#[inline]
unsafe fn open_tracker(ctx: Ctx, ht: *mut HPyTracker) -> Res<Option<HPyTracker>> {
    if ht.is_null() {
        return Ok(None);
    }
    // SAFETY: live context.
    let t = unsafe { call!(ctx.0, ctx_Tracker_New, 0) };
    if t._i == 0 {
        return Err(Raised);
    }
    // SAFETY: `ht` is writable (caller's contract).
    unsafe { ht.write(t) };
    Ok(Some(t))
}

/// The entry point's result: 1, or 0 after closing the tracker, as
/// upstream's callers expect.
#[inline]
fn finish(ctx: Ctx, tracker: Option<HPyTracker>, result: Res<()>) -> c_int {
    match (result, tracker) {
        (Ok(()), _) => 1,
        (Err(Raised), None) => 0,
        (Err(Raised), Some(t)) => {
            // SAFETY: live context; `t` is the tracker of this call.
            unsafe { call!(ctx.0, ctx_Tracker_Close, t) };
            0
        }
    }
}

/// Where the keyword parsers find keyword arguments: nowhere
/// ([`NoKeywords`]), in a `kwnames` tuple ([`Named`]) or in a dict
/// ([`Dict`]). [`Run::with_keywords`] has a copy for each.
trait Source {
    /// The argument named `key` (None if absent). `take` marks it as used.
    fn find(&mut self, ctx: Ctx, key: Key, take: bool) -> Res<Option<Arg>>;

    /// The message for the first keyword argument that no unit took (None
    /// if every one was); `named` are the parameters that can be passed by
    /// name. An `Err` means the lookup itself failed.
    fn unexpected(&self, ctx: Ctx, named: Params) -> Res<Option<String>>;
}

/// No keyword arguments.
struct NoKeywords;

impl Source for NoKeywords {
    #[inline(always)]
    fn find(&mut self, _: Ctx, _: Key, _: bool) -> Res<Option<Arg>> {
        Ok(None)
    }

    #[inline(always)]
    fn unexpected(&self, _: Ctx, _: Params) -> Res<Option<String>> {
        Ok(None)
    }
}

/// Vectorcall style: the names of a `kwnames` tuple and their values.
struct Named<'a> {
    names: &'a mut Names,
    values: &'a [HPy],
}

impl Source for Named<'_> {
    #[inline(always)]
    fn find(&mut self, _: Ctx, key: Key, take: bool) -> Res<Option<Arg>> {
        let Some(j) = self.names.position(key) else {
            return Ok(None);
        };
        self.names.items.as_mut_slice()[j].used |= take;
        Ok(Some(Arg::Lent(self.values[j])))
    }

    #[inline(always)]
    fn unexpected(&self, _: Ctx, _: Params) -> Res<Option<String>> {
        let names = &self.names;
        Ok((0..names.items.len())
            .find(|&j| !names.items.as_slice()[j].used)
            .map(|j| complaint(names.utf8(j))))
    }
}

/// A dict (or any mapping: only a dict is checked for unknown keys).
struct Dict(HPy);

impl Source for Dict {
    fn find(&mut self, ctx: Ctx, key: Key, _: bool) -> Res<Option<Arg>> {
        // SAFETY: live context; open handle; `key` is a C string.
        let item = unsafe { call!(ctx.0, ctx_GetItem_s, self.0, key.0) };
        if !item.is_null() {
            return Ok(Some(Arg::Owned(item)));
        }
        // SAFETY: live context; reading one of its constants.
        if unsafe {
            call!(
                ctx.0,
                ctx_Err_ExceptionMatches,
                constant!(ctx.0, h_KeyError)
            )
        } != 0
        {
            // SAFETY: live context.
            unsafe { call!(ctx.0, ctx_Err_Clear) };
            return Ok(None);
        }
        Err(Raised)
    }

    fn unexpected(&self, ctx: Ctx, named: Params) -> Res<Option<String>> {
        unknown_key(ctx, self.0, named)
    }
}

/// The message about a keyword argument no unit took: its name's UTF-8,
/// None if it is not a `str`.
#[cold]
fn complaint(name: Option<&[u8]>) -> String {
    match name {
        Some(name) => format!(
            "got an unexpected keyword argument '{}'",
            String::from_utf8_lossy(name)
        ),
        None => "keywords must be strings".to_owned(),
    }
}

/// [`Source::unexpected`] for a dict (any other mapping is not checked).
#[inline(never)]
fn unknown_key(ctx: Ctx, dict: HPy, named: Params) -> Res<Option<String>> {
    // SAFETY: live context, open handle.
    if unsafe { call!(ctx.0, ctx_Dict_Check, dict) } == 0 {
        return Ok(None);
    }
    // SAFETY: live context, a dict; the list is closed below.
    let keys = unsafe { call!(ctx.0, ctx_Dict_Keys, dict) };
    if keys.is_null() {
        return Err(Raised);
    }
    let is_known = |name: &[u8]| named.iter().any(|k| k.is(name));
    let result = (|| {
        // SAFETY: live context, open handle.
        let n = unsafe { call!(ctx.0, ctx_Length, keys) };
        if n < 0 {
            return Err(Raised);
        }
        for i in 0..n {
            // SAFETY: live context, open list; the item is closed below.
            let key = unsafe { call!(ctx.0, ctx_GetItem_i, keys, i) };
            if key.is_null() {
                return Err(Raised);
            }
            // SAFETY: `key` is open; the bytes are used before
            // it is closed.
            let name = unsafe { utf8_of(ctx, key) };
            let unknown = !name.is_some_and(is_known);
            let msg = unknown.then(|| complaint(name));
            ctx.close(key);
            if msg.is_some() {
                return Ok(msg);
            }
        }
        Ok(None)
    })();
    ctx.close(keys);
    result
}

/// One name of a `kwnames` tuple: its handle (open while the parse runs, so
/// that its UTF-8 stays valid), its UTF-8 (a null pointer if it is not a
/// `str` or cannot be encoded) and whether a unit took its value.
#[derive(Clone, Copy)]
struct Name {
    h: HPy,
    utf8: *const u8,
    len: usize,
    used: bool,
}

/// The names of a `kwnames` tuple; closes their handles when dropped.
struct Names {
    ctx: Ctx,
    items: SmallVec<Name, 4>,
}

impl Names {
    #[inline]
    fn new(ctx: Ctx) -> Names {
        Names {
            ctx,
            items: SmallVec::new(Name {
                h: HPy_NULL,
                utf8: core::ptr::null(),
                len: 0,
                used: false,
            }),
        }
    }

    /// Read the names of `kwnames`, and return their values, which start
    /// at `values`.
    ///
    /// # Safety
    /// `kwnames` is an open handle and `values` holds one handle per name,
    /// valid for `'v`.
    unsafe fn read<'v>(
        &mut self,
        ctx: Ctx,
        api: Api,
        format: &Format,
        kwnames: HPy,
        values: *const HPy,
    ) -> Res<&'v [HPy]> {
        // SAFETY: live context, open handle.
        let n = unsafe { call!(ctx.0, ctx_Length, kwnames) };
        if n < 0 {
            ctx.system_error(
                &format
                    .wording
                    .word("could not retrieve length of keyword names tuple"),
            );
            return Err(Raised);
        }
        for i in 0..n {
            // SAFETY: live context, open handle; `self` closes the item.
            let h = unsafe { call!(ctx.0, ctx_GetItem_i, kwnames, i) };
            if h.is_null() {
                return Err(Raised);
            }
            // SAFETY: `h` is open; the bytes are only read while `self`
            // keeps it open.
            let (utf8, len) = unsafe { utf8_of(ctx, h) }
                .map_or((core::ptr::null(), 0), |b| (b.as_ptr(), b.len()));
            self.items.push(Name {
                h,
                utf8,
                len,
                used: false,
            });
        }
        let n = self.items.len();
        // `values` is `args + nargs`: NULL only if `args` is
        if n == 0 {
            Ok(&[])
        } else if values.is_null() {
            ctx.system_error(&format!(
                "{}: args is NULL but kwnames is not empty",
                api.name()
            ));
            Err(Raised)
        } else {
            // SAFETY: the caller passed one value per name after the
            // positional arguments.
            Ok(unsafe { core::slice::from_raw_parts(values, n) })
        }
    }

    /// The UTF-8 of name `j` (None if it is not a `str`).
    fn utf8(&self, j: usize) -> Option<&[u8]> {
        let name = self.items.as_slice()[j];
        if name.utf8.is_null() {
            return None;
        }
        // SAFETY: the runtime returned `len` bytes at `utf8`, valid while
        // `name.h` is open, which it is until `self` is dropped.
        Some(unsafe { core::slice::from_raw_parts(name.utf8, name.len) })
    }

    /// The index of the first name equal to `key`.
    fn position(&self, key: Key) -> Option<usize> {
        (0..self.items.len()).find(|&j| self.utf8(j).is_some_and(|name| key.is(name)))
    }
}

impl Drop for Names {
    fn drop(&mut self) {
        for name in self.items.as_slice() {
            self.ctx.close(name.h);
        }
    }
}

/// The UTF-8 of `str` object `h`, or None (exception cleared) if it is not
/// a `str` or cannot be encoded.
///
/// # Safety
/// `h` is open, and the bytes are not used after it is closed.
unsafe fn utf8_of<'h>(ctx: Ctx, h: HPy) -> Option<&'h [u8]> {
    let mut size: HPy_ssize_t = 0;
    // SAFETY: live context, open handle, `size` is a valid out pointer.
    let p = unsafe { call!(ctx.0, ctx_Unicode_AsUTF8AndSize, h, &mut size) };
    if p.is_null() {
        // SAFETY: live context.
        unsafe { call!(ctx.0, ctx_Err_Clear) };
        return None;
    }
    let len = usize::try_from(size).unwrap_or(0);
    // SAFETY: the runtime returned `len` bytes at `p`, valid while `h` is
    // open (caller's contract).
    Some(unsafe { core::slice::from_raw_parts(p as *const u8, len) })
}

/// An argument found for a unit.
enum Arg {
    /// Borrowed from the caller for the duration of the call.
    Lent(HPy),
    /// A new handle the parser must close or give to the tracker.
    Owned(HPy),
}

/// One parse in progress.
struct Run<'f> {
    ctx: Ctx,
    api: Api,
    format: &'f Format<'f>,
    va: VaArgs,
    tracker: Option<HPyTracker>,
}

impl Run<'_> {
    /// HPyArg_Parse: unit `i` takes `args[i]`.
    fn positional(&mut self, args: &[HPy]) -> Res<()> {
        for (i, unit) in self.format.units().enumerate() {
            let arg = args.get(i).copied().filter(|h| !h.is_null());
            if arg.is_none() && !self.format.is_optional(i) {
                return Err(self.raise_type("required positional argument missing"));
            }
            let out = self.next_out();
            if let Some(arg) = arg {
                // `O` hands out the caller's handle itself: it lives as long
                // as the call, which is all upstream promises.
                self.store(unit, arg, out)?;
            }
        }
        if args.len() > self.format.len {
            return Err(self.raise_type("mismatched args (too many arguments for fmt)"));
        }
        Ok(())
    }

    /// The keyword parsers: where the keyword arguments are (`kw`: the
    /// `kwnames` tuple, whose values follow the `nargs` positional ones in
    /// `args`, or the dict), then [`Run::with_keywords`].
    ///
    /// # Safety
    /// `args` holds `nargs` handles, followed by one per keyword name.
    #[inline(always)]
    unsafe fn keywords(
        &mut self,
        args: *const HPy,
        nargs: usize,
        kw: HPy,
        keywords: Params,
    ) -> Res<()> {
        let (ctx, api) = (self.ctx, self.api);
        let values = args.wrapping_add(nargs);
        // SAFETY: forwarded contract.
        let args = unsafe { handles(ctx, api, args, nargs) }?;
        if kw.is_null() {
            return self.with_keywords(args, keywords, NoKeywords);
        }
        if api != Api::Keywords {
            return self.with_keywords(args, keywords, Dict(kw));
        }
        // `names` keeps the names open (their UTF-8 is compared) until the
        // units are done
        let mut names = Names::new(ctx);
        // SAFETY: `kw` is open; the values follow the positional ones.
        let values = unsafe { names.read(ctx, api, self.format, kw, values) }?;
        self.with_keywords(
            args,
            keywords,
            Named {
                names: &mut names,
                values,
            },
        )
    }

    /// The keyword parsers: unit `i` takes `args[i]` or the keyword argument
    /// named `keywords[i]`.
    #[inline(never)]
    fn with_keywords<S: Source>(
        &mut self,
        args: &[HPy],
        keywords: Params,
        mut source: S,
    ) -> Res<()> {
        let ctx = self.ctx;
        for (i, unit) in self.format.units().enumerate() {
            let key = keywords.get(i);
            let arg = if let Some(&given) = args.get(i) {
                if i >= self.format.kwonly_from {
                    return Err(
                        self.raise_type("keyword only argument passed as positional argument")
                    );
                }
                if !key.is_empty() {
                    if let Some(dup) = source.find(ctx, key, false)? {
                        if let Arg::Owned(h) = dup {
                            ctx.close(h);
                        }
                        let msg = format!(
                            "got multiple values for argument '{}'",
                            key.as_cstr().to_string_lossy()
                        );
                        return Err(self.raise_type(&msg));
                    }
                }
                Some(Arg::Lent(given)).filter(|_| !given.is_null())
            } else if key.is_empty() {
                None
            } else {
                source.find(ctx, key, true)?
            };
            if arg.is_none() && !self.format.is_optional(i) {
                return Err(self.raise_type("no value for required argument"));
            }
            let out = self.next_out();
            let (h, owned) = match arg {
                None => continue,
                Some(Arg::Lent(h)) => (h, false),
                Some(Arg::Owned(h)) => (h, true),
            };
            // `O` hands out a new handle (upstream's choice), which the
            // tracker keeps open; so it does (if there is one) for the
            // string an `s` pointer points into.
            let h = if unit == Unit::Object && !owned {
                ctx.dup(h)
            } else {
                h
            };
            let keep =
                unit == Unit::Object || (owned && unit == Unit::Str && self.tracker.is_some());
            if keep {
                self.track(h)?;
            }
            let stored = self.store(unit, h, out);
            if owned && !keep {
                ctx.close(h);
            }
            stored?;
        }
        if args.len() > self.format.len {
            return Err(self.raise_type("mismatched args (too many arguments for fmt)"));
        }
        if let Some(msg) = source.unexpected(ctx, keywords)? {
            return Err(self.raise_type(&msg));
        }
        Ok(())
    }

    /// The next output pointer.
    #[inline(always)]
    fn next_out(&mut self) -> *mut c_void {
        // SAFETY: the caller passed one pointer per unit and we read one per
        // unit reached, in order.
        unsafe { self.va.ptr() }
    }

    /// Give `h` to the tracker. On failure the tracker still holds `h` (and
    /// closes it), as `HPyTracker_Add` documents.
    fn track(&self, h: HPy) -> Res<()> {
        let Some(t) = self.tracker else {
            // check_keywords makes this unreachable for `O`
            self.ctx.close(h);
            self.ctx.system_error(&format!(
                "{}: no HPyTracker to hold a new handle",
                self.api.name()
            ));
            return Err(Raised);
        };
        // SAFETY: live context; `t` is the tracker of this call.
        if unsafe { call!(self.ctx.0, ctx_Tracker_Add, t, h) } < 0 {
            return Err(Raised);
        }
        Ok(())
    }

    /// Convert `arg` for `unit` and write the result to `out`.
    #[inline(always)]
    fn store(&self, unit: Unit, arg: HPy, out: *mut c_void) -> Res<()> {
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
                let v = unsafe { call!(c, ctx_Long_AsInt64_t, arg) };
                self.write(unit, out, self.checked(v, -1)?)
            }
            Unit::ULongLongMask => {
                // SAFETY: live context, open handle.
                let v = unsafe { call!(c, ctx_Long_AsUInt64_tMask, arg) };
                self.write(unit, out, self.checked(v, u64::MAX)?)
            }
            Unit::Ssize => {
                // SAFETY: live context, open handle.
                let v = unsafe { call!(c, ctx_Long_AsSsize_t, arg) };
                self.write(unit, out, self.checked(v, -1)?)
            }
            Unit::Float => self.write(unit, out, self.double(arg)? as f32),
            Unit::Double => self.write(unit, out, self.double(arg)?),
            Unit::Object => self.write(unit, out, arg),
            Unit::Bool => {
                // SAFETY: live context, open handle.
                let v = unsafe { call!(c, ctx_IsTrue, arg) };
                if v < 0 {
                    return Err(Raised);
                }
                self.write(unit, out, c_int::from(v > 0))
            }
            Unit::Str => self.write(unit, out, self.c_str(arg)?),
        }
    }

    /// The `s` unit: a pointer to the NUL-terminated UTF-8 of a `str`.
    fn c_str(&self, arg: HPy) -> Res<*const c_char> {
        let c = self.ctx.0;
        // SAFETY: live context, open handle.
        if unsafe { call!(c, ctx_Unicode_Check, arg) } == 0 {
            return Err(self.raise_type("a str is required"));
        }
        let mut size: HPy_ssize_t = 0;
        // SAFETY: live context, open handle, valid out pointer.
        let data = unsafe { call!(c, ctx_Unicode_AsUTF8AndSize, arg, &mut size) };
        let len = usize::try_from(size).ok().filter(|_| !data.is_null());
        let Some(len) = len else {
            // upstream replaces the encoding error with this one
            return Err(self.raise(constant_of(c, Exc::System), "unicode conversion error"));
        };
        // SAFETY: the runtime returned `len` bytes at `data` followed by the
        // byte checked below for NUL, valid while `arg` is open.
        let bytes = unsafe { core::slice::from_raw_parts(data as *const u8, len + 1) };
        let (&last, text) = bytes.split_last().unwrap_or((&1, &[]));
        if text.contains(&0) {
            return Err(self.raise(constant_of(c, Exc::Value), "embedded null character"));
        }
        if last != 0 {
            return Err(self.raise(
                constant_of(c, Exc::System),
                "missing terminating null character",
            ));
        }
        Ok(data)
    }

    /// `HPyLong_AsLong`, whatever the width of C's `long`.
    #[inline(always)]
    fn long(&self, arg: HPy) -> Res<c_long> {
        let c = self.ctx.0;
        // SAFETY: live context, open handle.
        let v = unsafe {
            if LONG_IS_32 {
                call!(c, ctx_Long_AsInt32_t, arg) as c_long
            } else {
                call!(c, ctx_Long_AsInt64_t, arg) as c_long
            }
        };
        self.checked(v, -1)
    }

    /// `HPyLong_AsUnsignedLongMask`.
    #[inline(always)]
    fn ulong_mask(&self, arg: HPy) -> Res<c_ulong> {
        let c = self.ctx.0;
        // SAFETY: live context, open handle.
        let v = unsafe {
            if LONG_IS_32 {
                call!(c, ctx_Long_AsUInt32_tMask, arg) as c_ulong
            } else {
                call!(c, ctx_Long_AsUInt64_tMask, arg) as c_ulong
            }
        };
        self.checked(v, c_ulong::MAX)
    }

    #[inline(always)]
    fn double(&self, arg: HPy) -> Res<f64> {
        // SAFETY: live context, open handle.
        let v = unsafe { call!(self.ctx.0, ctx_Float_AsDouble, arg) };
        self.checked(v, -1.0)
    }

    /// `v`, unless it is the error value and an exception is set.
    #[inline(always)]
    fn checked<T: PartialEq>(&self, v: T, error_value: T) -> Res<T> {
        if v == error_value && self.ctx.err_occurred() {
            Err(Raised)
        } else {
            Ok(v)
        }
    }

    /// Write `v` through the output pointer of `unit`.
    #[inline(always)]
    fn write<T>(&self, unit: Unit, out: *mut c_void, v: T) -> Res<()> {
        if out.is_null() {
            return Err(self.null_output(unit));
        }
        // SAFETY: the caller passed, for this unit, a pointer to the C type
        // `unit` documents, which `T` matches; unaligned writes are harmless
        // if it is aligned as C requires.
        unsafe { (out as *mut T).write_unaligned(v) };
        Ok(())
    }

    #[cold]
    fn null_output(&self, unit: Unit) -> Raised {
        self.ctx.system_error(&format!(
            "{}: NULL output pointer for format unit '{}'",
            self.api.name(),
            unit.code()
        ));
        Raised
    }

    #[cold]
    #[inline(never)]
    fn raise(&self, exc: HPy, msg: &str) -> Raised {
        self.ctx.set_error(exc, &self.format.wording.word(msg));
        Raised
    }

    #[cold]
    fn raise_type(&self, msg: &str) -> Raised {
        self.raise(constant_of(self.ctx.0, Exc::Type), msg)
    }

    #[cold]
    fn raise_overflow(&self, msg: &str) -> Raised {
        self.raise(constant_of(self.ctx.0, Exc::Overflow), msg)
    }
}

const LONG_IS_32: bool = core::mem::size_of::<c_long>() == 4;

/// The exception types the parsers raise with worded messages.
enum Exc {
    Type,
    Value,
    Overflow,
    System,
}

fn constant_of(c: *mut hpy_sys::HPyContext, exc: Exc) -> HPy {
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

#[cfg(test)]
mod tests {
    use super::*;

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
                    (Some(a), Ok(b)) => assert_eq!(fields(&a), fields(&b), "{fmt}"),
                    (None, Err(_)) => {}
                    _ => panic!("{fmt:?}: scan and parse disagree"),
                }
            }
        }
    }

    #[test]
    fn keys() {
        let key = |s: &'static CStr| Key(s.as_ptr(), core::marker::PhantomData);
        assert!(key(c"abc").is(b"abc"));
        assert!(!key(c"abc").is(b"ab"));
        assert!(!key(c"ab").is(b"abc"));
        assert!(!key(c"ab").is(b"ab\0"));
        assert!(!key(c"abc").is(b"abd"));
        assert!(key(c"").is(b"") && key(c"").is_empty());
        assert!(!key(c"a").is_empty());
        assert_eq!(key(c"k\xff").as_cstr().to_bytes(), b"k\xff");
    }

    #[test]
    fn wording_limits() {
        assert_eq!(Wording::Default.word("msg"), "function msg");
        assert_eq!(Wording::Named(b"f").word("msg"), "f() msg");
        assert_eq!(Wording::Replaced(b"mine").word("msg"), "mine");
        let long = Wording::Named("x".repeat(300).as_bytes()).word(&"m".repeat(300));
        assert_eq!(long, format!("{}() {}", "x".repeat(200), "m".repeat(256)));
        assert_eq!(
            Wording::Replaced("é".repeat(300).as_bytes()).word("").len(),
            510
        );
        assert_eq!(clip("aé", 2), "a");
        // invalid UTF-8 in the format is replaced, then cut
        assert_eq!(Wording::Named(b"a\xffb").word("m"), "a\u{fffd}b() m");
    }
}
