//! HPyArg_Parse, HPyArg_ParseKeywords and HPyArg_ParseKeywordsDict.
//!
//! The format string is read first into a [`Format`] (its units, where the
//! optional and keyword-only ones start, how messages are worded), so a
//! malformed format is reported before any argument is looked at. Then each
//! unit takes its argument and its output pointer: one variable argument per
//! unit, read in order and only once the unit is reached, as upstream does.
//!
//! Units, semantics and message texts are upstream HPy 0.9.0's. Beyond
//! upstream: the keyword parsers reject what upstream silently ignores
//! (surplus positional arguments, unknown keywords, a value given both by
//! position and by name), every parser rejects a repeated `|` or `$` and a `|`
//! after `$`, and a missing optional argument leaves the output of `p` and `s`
//! untouched as documented (upstream would read a NULL handle there).

use crate::ctx::Ctx;
use crate::va::VaArgs;
use crate::{call, constant};
use core::ffi::{c_char, c_int, c_long, c_ulong, c_void, CStr};
use hpy_sys::{HPy, HPyTracker, HPy_ssize_t};

/// `HPyArg_Parse`: positional arguments only.
///
/// # Safety
/// Arguments as received by `HPyArg_Parse`: a live context, `ht` NULL or
/// writable, `args` valid for `nargs` handles, `fmt` a C string, and one
/// output pointer in `va` per format unit.
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
    unsafe {
        with_tracker(ctx, ht, |tracker| {
            let mut run = Run {
                ctx,
                api,
                format: &format,
                va,
                tracker,
            };
            run.positional(args)
        })
    }
}

/// `HPyArg_ParseKeywords`: positional arguments, then the values of the
/// keyword arguments named by the tuple `kwnames`.
///
/// # Safety
/// As for [`parse`], plus: `args` holds `nargs + len(kwnames)` handles,
/// `keywords` is a NULL-terminated array of C strings.
#[allow(clippy::too_many_arguments)]
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
#[allow(clippy::too_many_arguments)]
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
    let Ok(keywords) = (unsafe { read_keywords(ctx, api, keywords) }) else {
        return 0;
    };
    if format
        .check_keywords(ctx, api, &keywords, ht.is_null())
        .is_err()
    {
        return 0;
    }
    // SAFETY: `ht` is NULL or writable; `args` holds `nargs` positional
    // handles followed by the keyword values (caller's contract).
    unsafe {
        with_tracker(ctx, ht, |tracker| {
            let values = args.wrapping_add(nargs);
            let args = handles(ctx, api, args, nargs)?;
            let source = if kw.is_null() {
                Keywords::None
            } else if api == Api::Keywords {
                Keywords::names(ctx, api, &format, kw, values)?
            } else {
                Keywords::Dict(kw)
            };
            let mut run = Run {
                ctx,
                api,
                format: &format,
                va,
                tracker,
            };
            run.with_keywords(args, &keywords, source)
        })
    }
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

/// One format unit. The doc gives the C type its output pointer points to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Unit {
    /// `b`: `unsigned char`, range-checked (0..=255).
    UByte,
    /// `B`: `unsigned char`, wrapped.
    UByteMask,
    /// `h`: `short`, range-checked.
    Short,
    /// `H`: `unsigned short`, wrapped.
    UShortMask,
    /// `i`: `int`, range-checked.
    Int,
    /// `I`: `unsigned int`, wrapped.
    UIntMask,
    /// `l`: `long`.
    Long,
    /// `k`: `unsigned long`, wrapped.
    ULongMask,
    /// `L`: `long long`.
    LongLong,
    /// `K`: `unsigned long long`, wrapped.
    ULongLongMask,
    /// `n`: `HPy_ssize_t`.
    Ssize,
    /// `f`: `float`.
    Float,
    /// `d`: `double`.
    Double,
    /// `O`: `HPy`.
    Object,
    /// `p`: `int`, the argument's truth value.
    Bool,
    /// `s`: `const char *`, the UTF-8 of a `str` without NUL characters.
    Str,
}

impl Unit {
    fn from_code(code: u8) -> Option<Unit> {
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
        match self {
            Unit::UByte => 'b',
            Unit::UByteMask => 'B',
            Unit::Short => 'h',
            Unit::UShortMask => 'H',
            Unit::Int => 'i',
            Unit::UIntMask => 'I',
            Unit::Long => 'l',
            Unit::ULongMask => 'k',
            Unit::LongLong => 'L',
            Unit::ULongLongMask => 'K',
            Unit::Ssize => 'n',
            Unit::Float => 'f',
            Unit::Double => 'd',
            Unit::Object => 'O',
            Unit::Bool => 'p',
            Unit::Str => 's',
        }
    }
}

/// How messages about the arguments are worded: upstream prefixes them with
/// `function ` or, after `:name`, with `name() `; `;text` replaces them.
#[derive(Debug, PartialEq)]
enum Wording {
    Default,
    Named(String),
    Replaced(String),
}

impl Wording {
    /// The final message, cut at upstream's lengths (its buffers are fixed).
    fn word(&self, msg: &str) -> String {
        let text = match self {
            Wording::Default => format!("function {}", clip(msg, 256)),
            Wording::Named(name) => format!("{}() {}", clip(name, 200), clip(msg, 256)),
            Wording::Replaced(text) => text.clone(),
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

/// A format string, read.
struct Format {
    /// The whole string, for messages about a malformed format.
    text: String,
    units: Vec<Unit>,
    /// Index of the first optional unit (`units.len()` when none is).
    optional_from: usize,
    /// Index of the first keyword-only unit (`units.len()` when none is).
    kwonly_from: usize,
    wording: Wording,
}

/// Why a format string is unusable.
#[derive(Debug, PartialEq)]
enum BadFormat {
    /// A byte that is no unit: upstream's error, worded like the argument
    /// errors (the wording is known even when the units are not).
    Unknown(Wording),
    /// A misplaced or repeated marker, at this offset.
    Marker(&'static str, usize),
}

impl Format {
    /// Read `fmt`, or raise `SystemError` if it is malformed.
    ///
    /// # Safety
    /// `fmt` must be NULL or a C string.
    unsafe fn read(ctx: Ctx, api: Api, fmt: *const c_char) -> Res<Format> {
        if fmt.is_null() {
            ctx.system_error(&format!("{}: the format string is NULL", api.name()));
            return Err(Raised);
        }
        // SAFETY: a C string (caller's contract).
        let bytes = unsafe { CStr::from_ptr(fmt) }.to_bytes();
        Format::parse(api, bytes).map_err(|bad| {
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
            Raised
        })
    }

    /// The pure part of [`Format::read`].
    fn parse(api: Api, bytes: &[u8]) -> Result<Format, BadFormat> {
        // The units end at the first ':' or ';'.
        let end = bytes
            .iter()
            .position(|&b| b == b':' || b == b';')
            .unwrap_or(bytes.len());
        let (unit_bytes, tail) = bytes.split_at(end);
        let wording = match tail.split_first() {
            None => Wording::Default,
            Some((b':', name)) => Wording::Named(String::from_utf8_lossy(name).into_owned()),
            Some((_, msg)) => Wording::Replaced(String::from_utf8_lossy(msg).into_owned()),
        };
        let mut units = Vec::new();
        let mut optional_from = None;
        let mut kwonly_from = None;
        for (pos, &b) in unit_bytes.iter().enumerate() {
            let bad = |problem| Err(BadFormat::Marker(problem, pos));
            match b {
                b'|' if kwonly_from.is_some() => return bad("'|' after '$'"),
                b'|' if optional_from.is_some() => return bad("'|' appears twice"),
                b'|' => optional_from = Some(units.len()),
                // The keyword parsers accept '$' without '|' (it makes the
                // rest optional too); HPyArg_Parse does not know '$'.
                b'$' if api != Api::Parse => {
                    if kwonly_from.is_some() {
                        return bad("'$' appears twice");
                    }
                    kwonly_from = Some(units.len());
                    optional_from = optional_from.or(kwonly_from);
                }
                _ => match Unit::from_code(b) {
                    Some(unit) => units.push(unit),
                    None => return Err(BadFormat::Unknown(wording)),
                },
            }
        }
        Ok(Format {
            text: String::from_utf8_lossy(bytes).into_owned(),
            optional_from: optional_from.unwrap_or(units.len()),
            kwonly_from: kwonly_from.unwrap_or(units.len()),
            units,
            wording,
        })
    }

    fn is_optional(&self, i: usize) -> bool {
        i >= self.optional_from
    }

    /// The checks of the format against `keywords` that upstream makes when
    /// it reaches the offending unit, made before any argument is used.
    fn check_keywords(&self, ctx: Ctx, api: Api, keywords: &[&CStr], no_tracker: bool) -> Res<()> {
        // positional-only parameters (named "") come first
        let named_from = keywords
            .iter()
            .position(|k| !k.is_empty())
            .unwrap_or(keywords.len());
        if keywords[named_from..].iter().any(|k| k.is_empty()) {
            ctx.system_error(&self.wording.word("empty keyword parameter name"));
            return Err(Raised);
        }
        if no_tracker && self.units.contains(&Unit::Object) {
            // upstream's text, which names HPyArg_ParseKeywords for both parsers
            ctx.system_error(&self.wording.word(
                "HPyArg_ParseKeywords cannot use the format character 'O' unless an \
                 HPyTracker is provided. Please supply an HPyTracker.",
            ));
            return Err(Raised);
        }
        if keywords.len() < self.units.len() {
            ctx.type_error(
                &self
                    .wording
                    .word("mismatched args (too few keywords for fmt)"),
            );
            return Err(Raised);
        }
        if keywords.len() > self.units.len() {
            ctx.type_error(
                &self
                    .wording
                    .word("mismatched args (too many keywords for fmt)"),
            );
            return Err(Raised);
        }
        if self.kwonly_from < named_from {
            let unit = self.units[self.kwonly_from];
            ctx.system_error(&format!(
                "{}: bad format string \"{}\": keyword-only unit '{}' (number {}) has no keyword name",
                api.name(),
                self.text,
                unit.code(),
                self.kwonly_from + 1
            ));
            return Err(Raised);
        }
        Ok(())
    }
}

/// The `keywords` array, up to its NULL terminator.
///
/// # Safety
/// `keywords` must be NULL or a NULL-terminated array of C strings.
unsafe fn read_keywords<'k>(
    ctx: Ctx,
    api: Api,
    keywords: *const *const c_char,
) -> Res<Vec<&'k CStr>> {
    if keywords.is_null() {
        ctx.system_error(&format!("{}: the keywords array is NULL", api.name()));
        return Err(Raised);
    }
    let mut out = Vec::new();
    loop {
        // SAFETY: the array is NULL-terminated and we stop at the NULL.
        let k = unsafe { *keywords.add(out.len()) };
        if k.is_null() {
            return Ok(out);
        }
        // SAFETY: a C string that outlives the call.
        out.push(unsafe { CStr::from_ptr(k) });
    }
}

/// `args` as a slice (`args` may be NULL when `nargs` is 0).
///
/// # Safety
/// `args` must be valid for `nargs` handles for the call's duration.
unsafe fn handles<'a>(ctx: Ctx, api: Api, args: *const HPy, nargs: usize) -> Res<&'a [HPy]> {
    if nargs == 0 {
        return Ok(&[]);
    }
    if args.is_null() {
        ctx.system_error(&format!(
            "{}: args is NULL but nargs is {nargs}",
            api.name()
        ));
        return Err(Raised);
    }
    // SAFETY: caller's contract; not NULL.
    Ok(unsafe { core::slice::from_raw_parts(args, nargs) })
}

/// Create the tracker in `*ht` (when `ht` is given), run `body`, and close
/// the tracker again if it fails, as upstream's callers expect.
///
/// # Safety
/// `ht` must be NULL or writable.
unsafe fn with_tracker(
    ctx: Ctx,
    ht: *mut HPyTracker,
    body: impl FnOnce(Option<HPyTracker>) -> Res<()>,
) -> c_int {
    let tracker = if ht.is_null() {
        None
    } else {
        // SAFETY: live context.
        let t = unsafe { call!(ctx.0, ctx_Tracker_New, 0) };
        if t._i == 0 {
            return 0;
        }
        // SAFETY: `ht` is writable (caller's contract).
        unsafe { ht.write(t) };
        Some(t)
    };
    match body(tracker) {
        Ok(()) => 1,
        Err(Raised) => {
            if let Some(t) = tracker {
                // SAFETY: live context; `t` is the tracker created above.
                unsafe { call!(ctx.0, ctx_Tracker_Close, t) };
            }
            0
        }
    }
}

/// Where the keyword parsers find keyword arguments.
enum Keywords<'a> {
    None,
    /// Vectorcall style: the names (their UTF-8, None if not a `str`) and
    /// their values; `used` marks the names a unit took.
    Names {
        names: Vec<Option<Vec<u8>>>,
        values: &'a [HPy],
        used: Vec<bool>,
    },
    /// A dict (or any mapping: only a dict is checked for unknown keys).
    Dict(HPy),
}

impl<'a> Keywords<'a> {
    /// Read the names of `kwnames`, whose values start at `values`.
    ///
    /// # Safety
    /// `kwnames` is an open handle and `values` holds one handle per name.
    unsafe fn names(
        ctx: Ctx,
        api: Api,
        format: &Format,
        kwnames: HPy,
        values: *const HPy,
    ) -> Res<Keywords<'a>> {
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
        let mut names = Vec::new();
        for i in 0..n {
            // SAFETY: live context, open handle; the item is closed below.
            let name = unsafe { call!(ctx.0, ctx_GetItem_i, kwnames, i) };
            if name.is_null() {
                return Err(Raised);
            }
            names.push(utf8_bytes(ctx, name));
            ctx.close(name);
        }
        let n = names.len();
        // `values` is `args + nargs`: NULL only if `args` is
        let values = if n == 0 {
            &[][..]
        } else if values.is_null() {
            ctx.system_error(&format!(
                "{}: args is NULL but kwnames is not empty",
                api.name()
            ));
            return Err(Raised);
        } else {
            // SAFETY: the caller passed one value per name after the
            // positional arguments.
            unsafe { core::slice::from_raw_parts(values, n) }
        };
        Ok(Keywords::Names {
            names,
            values,
            used: vec![false; n],
        })
    }

    /// The argument named `key` (None if absent). `take` marks it as used.
    fn find(&mut self, ctx: Ctx, key: &CStr, take: bool) -> Res<Option<Arg>> {
        match self {
            Keywords::None => Ok(None),
            Keywords::Names {
                names,
                values,
                used,
            } => {
                let Some(j) = names
                    .iter()
                    .position(|n| n.as_deref() == Some(key.to_bytes()))
                else {
                    return Ok(None);
                };
                used[j] |= take;
                Ok(Some(Arg::Lent(values[j])))
            }
            Keywords::Dict(dict) => {
                // SAFETY: live context; open handle; `key` is a C string.
                let item = unsafe { call!(ctx.0, ctx_GetItem_s, *dict, key.as_ptr()) };
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
        }
    }

    /// The message for the first keyword argument that no unit took (None
    /// if every one was); `named` are the parameters that can be passed by
    /// name. An `Err` means the lookup itself failed.
    fn unexpected(&self, ctx: Ctx, named: &[&CStr]) -> Res<Option<String>> {
        let complaint = |name: Option<&[u8]>| match name {
            Some(name) => format!(
                "got an unexpected keyword argument '{}'",
                String::from_utf8_lossy(name)
            ),
            None => "keywords must be strings".to_owned(),
        };
        match self {
            Keywords::None => Ok(None),
            Keywords::Names { names, used, .. } => Ok(names
                .iter()
                .zip(used)
                .find(|(_, &used)| !used)
                .map(|(name, _)| complaint(name.as_deref()))),
            Keywords::Dict(dict) => {
                // SAFETY: live context, open handle.
                if unsafe { call!(ctx.0, ctx_Dict_Check, *dict) } == 0 {
                    return Ok(None);
                }
                // SAFETY: live context, a dict; the list is closed below.
                let keys = unsafe { call!(ctx.0, ctx_Dict_Keys, *dict) };
                if keys.is_null() {
                    return Err(Raised);
                }
                let is_known = |name: &[u8]| named.iter().any(|k| k.to_bytes() == name);
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
                        let name = utf8_bytes(ctx, key);
                        ctx.close(key);
                        if !name.as_deref().is_some_and(is_known) {
                            return Ok(Some(complaint(name.as_deref())));
                        }
                    }
                    Ok(None)
                })();
                ctx.close(keys);
                result
            }
        }
    }
}

/// The UTF-8 of `str` object `h`, or None (exception cleared) if it is not
/// a `str` or cannot be encoded.
fn utf8_bytes(ctx: Ctx, h: HPy) -> Option<Vec<u8>> {
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
    // open; they are copied out now.
    Some(unsafe { core::slice::from_raw_parts(p as *const u8, len) }.to_vec())
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
    format: &'f Format,
    va: VaArgs,
    tracker: Option<HPyTracker>,
}

impl Run<'_> {
    /// HPyArg_Parse: unit `i` takes `args[i]`.
    fn positional(&mut self, args: &[HPy]) -> Res<()> {
        for (i, &unit) in self.format.units.iter().enumerate() {
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
        if args.len() > self.format.units.len() {
            return Err(self.raise_type("mismatched args (too many arguments for fmt)"));
        }
        Ok(())
    }

    /// The keyword parsers: unit `i` takes `args[i]` or the keyword argument
    /// named `keywords[i]`.
    fn with_keywords(&mut self, args: &[HPy], keywords: &[&CStr], mut source: Keywords) -> Res<()> {
        let ctx = self.ctx;
        for (i, &unit) in self.format.units.iter().enumerate() {
            let key = keywords[i];
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
                            key.to_string_lossy()
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
            match arg {
                None => {}
                Some(Arg::Lent(h)) if unit == Unit::Object => {
                    // upstream hands out a new handle, closed with the tracker
                    let h = ctx.dup(h);
                    self.track(h)?;
                    self.store(unit, h, out)?;
                }
                Some(Arg::Lent(h)) => self.store(unit, h, out)?,
                Some(Arg::Owned(h)) => {
                    // The tracker keeps an `O` result open, and (if there is
                    // one) the string an `s` pointer points into.
                    let keep =
                        unit == Unit::Object || (unit == Unit::Str && self.tracker.is_some());
                    if keep {
                        self.track(h)?;
                    }
                    let stored = self.store(unit, h, out);
                    if !keep {
                        ctx.close(h);
                    }
                    stored?;
                }
            }
        }
        if args.len() > self.format.units.len() {
            return Err(self.raise_type("mismatched args (too many arguments for fmt)"));
        }
        if let Some(msg) = source.unexpected(ctx, keywords)? {
            return Err(self.raise_type(&msg));
        }
        Ok(())
    }

    /// The next output pointer.
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

    fn double(&self, arg: HPy) -> Res<f64> {
        // SAFETY: live context, open handle.
        let v = unsafe { call!(self.ctx.0, ctx_Float_AsDouble, arg) };
        self.checked(v, -1.0)
    }

    /// `v`, unless it is the error value and an exception is set.
    fn checked<T: PartialEq>(&self, v: T, error_value: T) -> Res<T> {
        if v == error_value && self.ctx.err_occurred() {
            Err(Raised)
        } else {
            Ok(v)
        }
    }

    /// Write `v` through the output pointer of `unit`.
    fn write<T>(&self, unit: Unit, out: *mut c_void, v: T) -> Res<()> {
        if out.is_null() {
            self.ctx.system_error(&format!(
                "{}: NULL output pointer for format unit '{}'",
                self.api.name(),
                unit.code()
            ));
            return Err(Raised);
        }
        // SAFETY: the caller passed, for this unit, a pointer to the C type
        // `unit` documents, which `T` matches; unaligned writes are harmless
        // if it is aligned as C requires.
        unsafe { (out as *mut T).write_unaligned(v) };
        Ok(())
    }

    fn raise(&self, exc: HPy, msg: &str) -> Raised {
        self.ctx.set_error(exc, &self.format.wording.word(msg));
        Raised
    }

    fn raise_type(&self, msg: &str) -> Raised {
        self.raise(constant_of(self.ctx.0, Exc::Type), msg)
    }

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

    fn parsed(api: Api, fmt: &str) -> Format {
        match Format::parse(api, fmt.as_bytes()) {
            Ok(f) => f,
            Err(e) => panic!("{fmt:?} rejected: {e:?}"),
        }
    }

    #[test]
    fn every_unit_round_trips() {
        let all = "bBhHiIlkLKnfdOps";
        let f = parsed(Api::Parse, all);
        assert_eq!(f.units.iter().map(|u| u.code()).collect::<String>(), all);
        assert_eq!((f.optional_from, f.kwonly_from), (16, 16));
        assert_eq!(f.wording, Wording::Default);
    }

    #[test]
    fn markers() {
        let f = parsed(Api::Parse, "ll|d");
        assert_eq!((f.units.len(), f.optional_from, f.kwonly_from), (3, 2, 3));
        let f = parsed(Api::Keywords, "l|l$d:name");
        assert_eq!((f.optional_from, f.kwonly_from), (1, 2));
        assert_eq!(f.wording, Wording::Named("name".into()));
        // '$' alone also starts the optional part
        let f = parsed(Api::KeywordsDict, "O$O;text: with colon");
        assert_eq!((f.optional_from, f.kwonly_from), (1, 1));
        assert_eq!(f.wording, Wording::Replaced("text: with colon".into()));
        let f = parsed(Api::Parse, "");
        assert_eq!((f.units.len(), f.optional_from, f.kwonly_from), (0, 0, 0));
    }

    #[test]
    fn malformed() {
        let bad = |api, fmt: &str| Format::parse(api, fmt.as_bytes()).err().expect(fmt);
        assert_eq!(bad(Api::Parse, "O$O"), BadFormat::Unknown(Wording::Default));
        assert_eq!(
            bad(Api::Parse, "lZ:f"),
            BadFormat::Unknown(Wording::Named("f".into()))
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
    fn wording_limits() {
        assert_eq!(Wording::Default.word("msg"), "function msg");
        assert_eq!(Wording::Named("f".into()).word("msg"), "f() msg");
        assert_eq!(Wording::Replaced("mine".into()).word("msg"), "mine");
        let long = Wording::Named("x".repeat(300)).word(&"m".repeat(300));
        assert_eq!(long, format!("{}() {}", "x".repeat(200), "m".repeat(256)));
        assert_eq!(Wording::Replaced("é".repeat(300)).word("").len(), 510);
        assert_eq!(clip("aé", 2), "a");
    }
}
