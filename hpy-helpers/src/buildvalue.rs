//! `HPy_BuildValue`: the format string is first parsed into a tree of
//! [`Unit`]s, so a malformed format fails before any argument is read or any
//! handle opened; the tree is then built from the variable arguments, every
//! intermediate value an [`Owned`] handle so that a failure leaks nothing.
//!
//! The units and messages are upstream HPy 0.9's; `N` is refused, as there.
//! Where upstream is stricter than it means to be, we accept more: blanks
//! (space, tab) may surround every separator, also in `(...)` and `[...]`.

use crate::call;
use crate::ctx::Ctx;
use crate::helpers::{self, Owned, Raised, Res};
use crate::va::VaArgs;
use core::ffi::{c_char, CStr};
use core::fmt;
use hpy_sys::{HPy, HPy_NULL, HPy_ssize_t};

/// Brackets nest at most this deep: parsing and building recurse, and the
/// stack of an extension's thread may be small.
const MAX_DEPTH: usize = 256;

/// One format unit; the scalar variants name the C type of the argument
/// they read (after default promotion).
#[derive(Debug, PartialEq)]
enum Unit {
    /// `i`: `int`.
    Int,
    /// `I`: `unsigned int`.
    UInt,
    /// `l`: `long`.
    Long,
    /// `k`: `unsigned long`.
    ULong,
    /// `L`: `long long`.
    LongLong,
    /// `K`: `unsigned long long`.
    ULongLong,
    /// `n`: `HPy_ssize_t`.
    Ssize,
    /// `f`, `d`: `double` (a `float` argument arrives promoted).
    Double,
    /// `s`: a NUL-terminated UTF-8 `const char *`; NULL gives `None`.
    Str,
    /// `O`, `S`: an `HPy`, which stays the caller's.
    Object,
    Tuple(Vec<Unit>),
    List(Vec<Unit>),
    Dict(Vec<(Unit, Unit)>),
}

/// What is wrong with a format string; raised as `SystemError`.
#[derive(Debug, PartialEq)]
enum FormatError {
    BadChar(u8),
    /// A bracket with no partner: the opening one, or a stray closing one.
    Unmatched(u8),
    Unexpected(u8),
    Missing(u8),
    /// `N` (upstream refuses it: HPy functions never steal handles).
    StealingUnit,
    TooDeep,
    /// A state the parser should never reach.
    Internal,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const WHERE: &str = "in the format string passed to HPy_BuildValue";
        match *self {
            FormatError::BadChar(c) => write!(f, "bad format char '{}' {WHERE}", Shown(c)),
            FormatError::Unmatched(c) => write!(f, "unmatched '{}' {WHERE}", Shown(c)),
            FormatError::Unexpected(c) => write!(f, "unexpected '{}' {WHERE}", Shown(c)),
            FormatError::Missing(c) => write!(f, "missing '{}' {WHERE}", Shown(c)),
            FormatError::StealingUnit => f.write_str(
                "HPy_BuildValue does not support the 'N' formatting unit. Instead, use the \
                 'O' formatting unit and manually close the handle in the caller if \
                 necessary. HPy API functions never 'steal' handles and always make a \
                 duplicate handle if needed, the 'ownership' of the original handle is \
                 never 'transferred'. ",
            ),
            FormatError::TooDeep => {
                write!(f, "brackets nested more than {MAX_DEPTH} deep {WHERE}")
            }
            FormatError::Internal => f.write_str("internal error in HPy_BuildValue"),
        }
    }
}

/// A format byte as it appears in messages: itself if printable ASCII,
/// else `\xNN`.
struct Shown(u8);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() || self.0 == b' ' {
            write!(f, "{}", self.0 as char)
        } else {
            write!(f, "\\x{:02x}", self.0)
        }
    }
}

struct Parser<'a> {
    fmt: &'a [u8],
    pos: usize,
    /// The brackets open at `pos`, outermost first.
    open: Vec<u8>,
}

/// The top-level units of `fmt`.
fn parse(fmt: &[u8]) -> Result<Vec<Unit>, FormatError> {
    let mut parser = Parser {
        fmt,
        pos: 0,
        open: Vec::new(),
    };
    parser.sequence(None)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.fmt.get(self.pos).copied()
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The format ended inside brackets: name the outermost open one, as
    /// upstream does.
    fn unclosed(&self) -> FormatError {
        self.open
            .first()
            .map_or(FormatError::Internal, |&c| FormatError::Unmatched(c))
    }

    /// Units up to `close` (consumed) or, for `None`, the end of the format;
    /// separated by blanks and at most one comma, which may also trail.
    fn sequence(&mut self, close: Option<u8>) -> Result<Vec<Unit>, FormatError> {
        let mut units = Vec::new();
        let mut comma_allowed = false;
        loop {
            self.skip_blanks();
            match self.peek() {
                None if close.is_none() => return Ok(units),
                None => return Err(self.unclosed()),
                Some(c) if Some(c) == close => {
                    self.pos += 1;
                    return Ok(units);
                }
                Some(b',') if comma_allowed => {
                    self.pos += 1;
                    comma_allowed = false;
                }
                Some(b',') => return Err(FormatError::Unexpected(b',')),
                // a closing bracket of the wrong kind: the innermost open one
                // is the unmatched one (or, at top level, the stray closer)
                Some(c @ (b')' | b']' | b'}')) => {
                    return Err(FormatError::Unmatched(
                        self.open.last().copied().unwrap_or(c),
                    ))
                }
                Some(_) => {
                    units.push(self.unit()?);
                    comma_allowed = true;
                }
            }
        }
    }

    /// `key:value` pairs up to the closing `}` (consumed), separated by
    /// exactly one comma, which may also trail.
    fn dict_items(&mut self) -> Result<Vec<(Unit, Unit)>, FormatError> {
        let mut pairs = Vec::new();
        let mut after_pair = false;
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Err(self.unclosed()),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(pairs);
                }
                Some(b',') if after_pair => {
                    self.pos += 1;
                    after_pair = false;
                }
                Some(b',') => return Err(FormatError::Unexpected(b',')),
                Some(b')' | b']') => return Err(FormatError::Unmatched(b'{')),
                Some(_) if after_pair => return Err(FormatError::Missing(b',')),
                Some(_) => {
                    let key = self.unit()?;
                    self.skip_blanks();
                    match self.peek() {
                        Some(b':') => self.pos += 1,
                        None => return Err(self.unclosed()),
                        Some(_) => return Err(FormatError::Missing(b':')),
                    }
                    self.skip_blanks();
                    let value = self.unit()?;
                    pairs.push((key, value));
                    after_pair = true;
                }
            }
        }
    }

    /// The unit at `pos`, which is not a blank.
    fn unit(&mut self) -> Result<Unit, FormatError> {
        let Some(c) = self.peek() else {
            return Err(self.unclosed());
        };
        self.pos += 1;
        Ok(match c {
            b'i' => Unit::Int,
            b'I' => Unit::UInt,
            b'l' => Unit::Long,
            b'k' => Unit::ULong,
            b'L' => Unit::LongLong,
            b'K' => Unit::ULongLong,
            b'n' => Unit::Ssize,
            b'f' | b'd' => Unit::Double,
            b's' => Unit::Str,
            b'O' | b'S' => Unit::Object,
            b'(' => Unit::Tuple(self.group(c, |p| p.sequence(Some(b')')))?),
            b'[' => Unit::List(self.group(c, |p| p.sequence(Some(b']')))?),
            b'{' => Unit::Dict(self.group(c, Self::dict_items)?),
            b'N' => return Err(FormatError::StealingUnit),
            _ => return Err(FormatError::BadChar(c)),
        })
    }

    /// Parse the inside of a bracket `open` (already consumed) with `body`.
    fn group<T>(
        &mut self,
        open: u8,
        body: impl FnOnce(&mut Self) -> Result<T, FormatError>,
    ) -> Result<T, FormatError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(FormatError::TooDeep);
        }
        self.open.push(open);
        let inside = body(self)?;
        self.open.pop();
        Ok(inside)
    }
}

/// # Safety
/// Arguments as received by `HPy_BuildValue`: `ctx` is live, `fmt` is NULL
/// or a NUL-terminated string, and the variable arguments match `fmt`.
pub unsafe fn build_value(ctx: Ctx, fmt: *const c_char, mut va: VaArgs) -> HPy {
    if fmt.is_null() {
        ctx.system_error("NULL format string passed to HPy_BuildValue");
        return HPy_NULL;
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    let fmt = unsafe { CStr::from_ptr(fmt) }.to_bytes();
    let units = match parse(fmt) {
        Ok(units) => units,
        Err(e) => {
            ctx.system_error(&e.to_string());
            return HPy_NULL;
        }
    };
    // SAFETY: the variable arguments match the units (caller's contract).
    let built = unsafe {
        match units.as_slice() {
            [] => Owned::new(ctx, ctx.none()),
            [single] => build(ctx, single, &mut va),
            several => build_tuple(ctx, several, &mut va),
        }
    };
    built.map_or(HPy_NULL, Owned::into_raw)
}

/// The value of `unit`, reading its arguments from `va`.
///
/// # Safety
/// `ctx` is live; the next variable arguments are those of `unit`.
unsafe fn build(ctx: Ctx, unit: &Unit, va: &mut VaArgs) -> Res<Owned> {
    let c = ctx.0;
    // SAFETY: live context; each read takes the C type the unit stands for,
    // which the caller promises is the next argument's.
    let h = unsafe {
        match unit {
            Unit::Int => call!(c, ctx_Long_FromInt64_t, i64::from(va.int())),
            Unit::UInt => call!(c, ctx_Long_FromUInt64_t, u64::from(va.uint())),
            // `long` is 32 bits on Windows
            #[allow(clippy::useless_conversion)]
            Unit::Long => call!(c, ctx_Long_FromInt64_t, i64::from(va.long())),
            #[allow(clippy::useless_conversion)]
            Unit::ULong => call!(c, ctx_Long_FromUInt64_t, u64::from(va.ulong())),
            Unit::LongLong => call!(c, ctx_Long_FromInt64_t, va.longlong()),
            Unit::ULongLong => call!(c, ctx_Long_FromUInt64_t, va.ulonglong()),
            Unit::Ssize => call!(c, ctx_Long_FromSsize_t, va.ssize()),
            Unit::Double => call!(c, ctx_Float_FromDouble, va.double()),
            Unit::Str => {
                let s = va.cstr();
                if s.is_null() {
                    ctx.none()
                } else {
                    call!(c, ctx_Unicode_FromString, s)
                }
            }
            Unit::Object => {
                let h = va.hpy();
                if h.is_null() {
                    // the call that produced it has most likely raised
                    if !ctx.err_occurred() {
                        ctx.system_error("HPy_NULL object passed to HPy_BuildValue");
                    }
                    return Err(Raised);
                }
                ctx.dup(h)
            }
            Unit::Tuple(items) => return build_tuple(ctx, items, va),
            Unit::List(items) => return build_list(ctx, items, va),
            Unit::Dict(pairs) => return build_dict(ctx, pairs, va),
        }
    };
    Owned::new(ctx, h)
}

/// Build `units` in order.
///
/// # Safety
/// As [`build`], for all of `units`.
unsafe fn build_all(ctx: Ctx, units: &[Unit], va: &mut VaArgs) -> Res<Vec<Owned>> {
    // SAFETY: forwarded contract.
    units.iter().map(|u| unsafe { build(ctx, u, va) }).collect()
}

/// # Safety
/// As [`build`], for all of `items`.
unsafe fn build_tuple(ctx: Ctx, items: &[Unit], va: &mut VaArgs) -> Res<Owned> {
    // SAFETY: forwarded contract.
    let items = unsafe { build_all(ctx, items, va) }?;
    let handles: Vec<HPy> = items.iter().map(Owned::get).collect();
    helpers::tuple(ctx, &handles)
}

/// # Safety
/// As [`build`], for all of `items`.
unsafe fn build_list(ctx: Ctx, items: &[Unit], va: &mut VaArgs) -> Res<Owned> {
    // SAFETY: forwarded contract.
    let items = unsafe { build_all(ctx, items, va) }?;
    // SAFETY: live context; the builder is used only here and consumed by
    // `Build`; every index is below the size it was made with (a Vec never
    // holds more than isize::MAX items); the items are open.
    let list = unsafe {
        let builder = call!(ctx.0, ctx_ListBuilder_New, items.len() as HPy_ssize_t);
        for (i, item) in items.iter().enumerate() {
            call!(
                ctx.0,
                ctx_ListBuilder_Set,
                builder,
                i as HPy_ssize_t,
                item.get()
            );
        }
        call!(ctx.0, ctx_ListBuilder_Build, builder)
    };
    Owned::new(ctx, list)
}

/// # Safety
/// As [`build`], for all of `pairs`, key before value.
unsafe fn build_dict(ctx: Ctx, pairs: &[(Unit, Unit)], va: &mut VaArgs) -> Res<Owned> {
    // SAFETY: live context.
    let dict = Owned::new(ctx, unsafe { call!(ctx.0, ctx_Dict_New) })?;
    for (key, value) in pairs {
        // SAFETY: forwarded contract, in argument order.
        let (key, value) = unsafe { (build(ctx, key, va)?, build(ctx, value, va)?) };
        // SAFETY: live context; all three handles are open.
        let status = unsafe { call!(ctx.0, ctx_SetItem, dict.get(), key.get(), value.get()) };
        helpers::status(status)?;
    }
    Ok(dict)
}

#[cfg(test)]
mod tests {
    use super::{parse, FormatError as E, Unit::*};

    #[test]
    fn units_and_containers() {
        assert_eq!(parse(b""), Ok(vec![]));
        assert_eq!(parse(b" , "), Err(E::Unexpected(b',')));
        assert_eq!(parse(b"iIlkLKnfdsOS").unwrap().len(), 12);
        assert_eq!(parse(b"i, d ,"), Ok(vec![Int, Double]));
        assert_eq!(
            parse(b"[(is) , ((f)[kk]),]"),
            Ok(vec![List(vec![
                Tuple(vec![Int, Str]),
                Tuple(vec![Tuple(vec![Double]), List(vec![ULong, ULong])])
            ])])
        );
        assert_eq!(
            parse(b"{s:i, s : (ii),}{}"),
            Ok(vec![
                Dict(vec![(Str, Int), (Str, Tuple(vec![Int, Int]))]),
                Dict(vec![])
            ])
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(parse(b"(q)"), Err(E::BadChar(b'q')));
        assert_eq!(parse(b"s#"), Err(E::BadChar(b'#')));
        assert_eq!(parse(b"(i"), Err(E::Unmatched(b'(')));
        assert_eq!(parse(b"([(i)k"), Err(E::Unmatched(b'(')));
        assert_eq!(parse(b"(i]"), Err(E::Unmatched(b'(')));
        assert_eq!(parse(b"[i)"), Err(E::Unmatched(b'[')));
        assert_eq!(parse(b"i)"), Err(E::Unmatched(b')')));
        assert_eq!(parse(b"(i,,i)"), Err(E::Unexpected(b',')));
        assert_eq!(parse(b"N"), Err(E::StealingUnit));
        assert_eq!(parse(b"{i:i"), Err(E::Unmatched(b'{')));
        assert_eq!(parse(b"{i:i,,}"), Err(E::Unexpected(b',')));
        assert_eq!(parse(b"{i:ii,}"), Err(E::Missing(b',')));
        assert_eq!(parse(b"{i}"), Err(E::Missing(b':')));
        assert_eq!(parse(b"{i:}"), Err(E::BadChar(b'}')));
        assert_eq!(parse(b"{i:i]"), Err(E::Unmatched(b'{')));
        let deep = "(".repeat(10_000);
        assert_eq!(parse(deep.as_bytes()), Err(E::TooDeep));
        let ok = format!("{}i{}", "[".repeat(256), "]".repeat(256));
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn messages() {
        assert_eq!(
            E::BadChar(b'q').to_string(),
            "bad format char 'q' in the format string passed to HPy_BuildValue"
        );
        assert_eq!(
            E::BadChar(1).to_string(),
            "bad format char '\\x01' in the format string passed to HPy_BuildValue"
        );
        assert!(E::StealingUnit
            .to_string()
            .starts_with("HPy_BuildValue does not support the 'N' formatting unit."));
    }
}
