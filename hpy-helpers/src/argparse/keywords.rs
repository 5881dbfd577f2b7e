//! The keyword parsers' side: the parameter names (`Params`, `Key`), where
//! keyword arguments come from (`Source`: none, a `kwnames` tuple, a dict),
//! and the loop that gives each unit its positional or keyword argument.

use super::format::Unit;
use super::messages::{complaint, Exc, Wording};
use super::run::Run;
use super::{handles, Api, Raised, Res};
use crate::constant;
use crate::ctx::Ctx;
use crate::message::CText;
use crate::msg;
use crate::smallvec::SmallVec;
use core::ffi::{c_char, CStr};
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPy_ssize_t};

/// The parameter names of the keyword parsers (the `keywords` array, up to
/// its NULL terminator), as the caller gave them.
#[derive(Clone, Copy)]
pub(super) struct Params<'k> {
    pub(super) names: &'k [*const c_char],
}

impl<'k> Params<'k> {
    /// The names up to the NULL terminator.
    ///
    /// # Safety
    /// `keywords` must be a NULL-terminated array of C strings, all of
    /// which outlive `'k`.
    pub(super) unsafe fn read(keywords: *const *const c_char) -> Params<'k> {
        let mut len = 0;
        // SAFETY: the array is NULL-terminated and we stop at the NULL.
        while !unsafe { *keywords.add(len) }.is_null() {
            len += 1;
        }
        // SAFETY: `len` readable entries, which outlive `'k`.
        unsafe { Params::first(keywords, len) }
    }

    /// The first `len` names of `keywords`.
    ///
    /// # Safety
    /// `keywords` holds at least `len` C strings, all of which outlive `'k`.
    pub(super) unsafe fn first(keywords: *const *const c_char, len: usize) -> Params<'k> {
        Params {
            // SAFETY: caller's contract.
            names: unsafe { core::slice::from_raw_parts(keywords, len) },
        }
    }

    /// Where the named parameters start (positional-only ones, named "",
    /// come first), and whether an empty name follows a non-empty one.
    #[cold]
    pub(super) fn layout(self) -> (usize, bool) {
        let named_from = self.iter().position(|k| !k.is_empty());
        let named_from = named_from.unwrap_or(self.len());
        let misplaced_empty = self.iter().skip(named_from).any(Key::is_empty);
        (named_from, misplaced_empty)
    }

    pub(super) fn len(self) -> usize {
        self.names.len()
    }

    /// The name of parameter `i` (`i < len`; past the end, an empty name).
    pub(super) fn get(self, i: usize) -> Key<'k> {
        let name = self.names.get(i).copied().unwrap_or(c"".as_ptr());
        Key(name, core::marker::PhantomData)
    }

    pub(super) fn iter(self) -> impl Iterator<Item = Key<'k>> {
        (0..self.len()).map(move |i| self.get(i))
    }
}

/// A parameter name: a C string of the caller's, compared in place (never
/// measured first).
#[derive(Clone, Copy)]
pub(super) struct Key<'k>(*const c_char, core::marker::PhantomData<&'k CStr>);

impl<'k> Key<'k> {
    pub(super) fn is_empty(self) -> bool {
        // SAFETY: a non-null C string (see `Params::read`): its first byte
        // is readable.
        unsafe { *self.0 == 0 }
    }

    /// True if the name is `name`.
    pub(super) fn is(self, name: &[u8]) -> bool {
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
}

/// Where the keyword parsers find keyword arguments: nowhere
/// ([`NoKeywords`]), in a `kwnames` tuple ([`Named`]) or in a dict
/// ([`Dict`]). [`Run::with_keywords`] takes any, as a trait object: one
/// copy of the loop rather than three keeps the helper library small.
pub(super) trait Source {
    /// The argument named `key` (None if absent). `take` marks it as used.
    fn find(&mut self, ctx: Ctx, key: Key, take: bool) -> Res<Option<Arg>>;

    /// Raise TypeError for the first keyword argument that no unit took,
    /// if any; `named` are the parameters that can be passed by name. (It
    /// raises rather than return the message: a `Message` returned through
    /// the trait object was copied on every call.)
    /// `positional` is how many parameters were given by position.
    fn unexpected(&self, run: &Run, named: Params, positional: usize) -> Res<()>;

    /// Whether [`Source::unexpected`] also finds the arguments given both
    /// by position and by name, so the loop need not look each positional
    /// parameter's name up.
    fn duplicates_late(&self) -> bool {
        false
    }
}

/// No keyword arguments.
pub(super) struct NoKeywords;

impl Source for NoKeywords {
    #[inline(always)]
    fn find(&mut self, _: Ctx, _: Key, _: bool) -> Res<Option<Arg>> {
        Ok(None)
    }

    #[inline(always)]
    fn unexpected(&self, _: &Run, _: Params, _: usize) -> Res<()> {
        Ok(())
    }
}

/// Vectorcall style: the names of a `kwnames` tuple and their values.
pub(super) struct Named<'a> {
    names: &'a mut Names,
    values: &'a [HPy],
}

impl Source for Named<'_> {
    #[inline(always)]
    fn find(&mut self, _: Ctx, key: Key, take: bool) -> Res<Option<Arg>> {
        let Some(j) = self.names.position(key) else {
            return Ok(None);
        };
        if let Some(name) = self.names.items.as_mut_slice().get_mut(j) {
            name.used |= take;
        }
        Ok(self.values.get(j).map(|&v| Arg::Lent(v)))
    }

    #[inline(always)]
    fn unexpected(&self, run: &Run, named: Params, positional: usize) -> Res<()> {
        match (0..self.names.items.len()).find(|&j| self.names.unused(j)) {
            Some(first) => Err(unused_name(run, self.names, named, positional, first)),
            None => Ok(()),
        }
    }

    /// Every name a unit takes is marked used: one left unused that names
    /// a parameter given by position is a duplicate.
    #[inline(always)]
    fn duplicates_late(&self) -> bool {
        true
    }
}

/// A dict (or any mapping: only a dict is checked for unknown keys).
pub(super) struct Dict(HPy);

impl Source for Dict {
    fn find(&mut self, ctx: Ctx, key: Key, _: bool) -> Res<Option<Arg>> {
        // SAFETY: live context; open handle; `key` is a C string.
        let item = unsafe { raw::ctx_GetItem_s(ctx.0, self.0, key.0) };
        if !item.is_null() {
            return Ok(Some(Arg::Owned(item)));
        }
        // SAFETY: live context; reading one of its constants.
        if unsafe { raw::ctx_Err_ExceptionMatches(ctx.0, constant!(ctx.0, h_KeyError)) } != 0 {
            // SAFETY: live context.
            unsafe { raw::ctx_Err_Clear(ctx.0) };
            return Ok(None);
        }
        Err(Raised)
    }

    fn unexpected(&self, run: &Run, named: Params, _: usize) -> Res<()> {
        unknown_key(run, self.0, named)
    }
}

/// The error for the `kwnames` names no unit took (`first` is one): if a
/// parameter given by position (`named[..positional]`) has one of their
/// names, the first such got its value twice (as CPython reports it,
/// before any unexpected name); else name `first` is unexpected.
#[cold]
fn unused_name(run: &Run, names: &Names, named: Params, positional: usize, first: usize) -> Raised {
    let given = |key: Key| {
        (0..names.items.len())
            .any(|j| names.unused(j) && names.utf8(j).is_some_and(|name| key.is(name)))
    };
    let twice = (0..positional)
        .map(|i| named.get(i))
        .find(|&key| !key.is_empty() && given(key));
    match twice {
        Some(key) => run.raise_type(multiple_values(key)),
        None => run.raise_type(complaint(names.utf8(first))),
    }
}

/// The message about parameter `key`, given both by position and by name.
#[inline(always)]
fn multiple_values(key: Key) -> crate::message::Message {
    msg!("got multiple values for argument '", CText(key.0), "'")
}

/// [`Source::unexpected`] for a dict (any other mapping is not checked).
#[inline(always)]
pub(super) fn unknown_key(run: &Run, dict: HPy, named: Params) -> Res<()> {
    let ctx = run.ctx;
    // SAFETY: live context, open handle.
    if unsafe { raw::ctx_Dict_Check(ctx.0, dict) } == 0 {
        return Ok(());
    }
    // SAFETY: live context, a dict; the list is closed below.
    let keys = unsafe { raw::ctx_Dict_Keys(ctx.0, dict) };
    if keys.is_null() {
        return Err(Raised);
    }
    let is_known = |name: &[u8]| named.iter().any(|k| k.is(name));
    let result = (|| {
        // SAFETY: live context, open handle.
        let n = unsafe { raw::ctx_Length(ctx.0, keys) };
        if n < 0 {
            return Err(Raised);
        }
        for i in 0..n {
            // SAFETY: live context, open list; the item is closed below.
            let key = unsafe { raw::ctx_GetItem_i(ctx.0, keys, i) };
            if key.is_null() {
                return Err(Raised);
            }
            // SAFETY: `key` is open; the bytes are used before
            // it is closed.
            let name = unsafe { utf8_of(ctx, key) };
            let known = name.is_some_and(is_known);
            if !known {
                run.raise_type(complaint(name));
            }
            ctx.close(key);
            if !known {
                return Err(Raised);
            }
        }
        Ok(())
    })();
    ctx.close(keys);
    result
}

/// One name of a `kwnames` tuple: its handle (open while the parse runs, so
/// that its UTF-8 stays valid), its UTF-8 (a null pointer if it is not a
/// `str` or cannot be encoded) and whether a unit took its value.
#[derive(Clone, Copy)]
pub(super) struct Name {
    h: HPy,
    utf8: *const u8,
    len: usize,
    used: bool,
}

/// The names of a `kwnames` tuple; closes their handles when dropped.
pub(super) struct Names {
    ctx: Ctx,
    items: SmallVec<Name, 4>,
}

impl Names {
    #[inline]
    pub(super) fn new(ctx: Ctx) -> Names {
        Names {
            ctx,
            items: SmallVec::new(),
        }
    }

    /// Read the names of `kwnames`, and return their values, which start
    /// at `values`.
    ///
    /// # Safety
    /// `kwnames` is an open handle and `values` holds one handle per name,
    /// valid for `'v`; `fmt` is a C string.
    pub(super) unsafe fn read<'v>(
        &mut self,
        ctx: Ctx,
        api: Api,
        fmt: *const c_char,
        kwnames: HPy,
        values: *const HPy,
    ) -> Res<&'v [HPy]> {
        // SAFETY: live context, open handle.
        let n = unsafe { raw::ctx_Length(ctx.0, kwnames) };
        if n < 0 {
            // SAFETY: `fmt` is the parse's format, a C string.
            return Err(unsafe { Wording::of_format(fmt) }.raise_text(
                ctx,
                Exc::System,
                "could not retrieve length of keyword names tuple",
            ));
        }
        for i in 0..n {
            // SAFETY: live context, open handle; `self` closes the item.
            let h = unsafe { raw::ctx_GetItem_i(ctx.0, kwnames, i) };
            if h.is_null() {
                return Err(Raised);
            }
            // SAFETY: `h` is open; the bytes are only read while `self`
            // keeps it open.
            let (utf8, len) = unsafe { utf8_of(ctx, h) }
                .map_or((core::ptr::null(), 0), |b| (b.as_ptr(), b.len()));
            let name = Name {
                h,
                utf8,
                len,
                used: false,
            };
            if self.items.push(name).is_err() {
                ctx.close(h);
                ctx.memory_error(msg!(api.name(), ": out of memory"));
                return Err(Raised);
            }
        }
        let n = self.items.len();
        // `values` is `args + nargs`: NULL only if `args` is
        if n == 0 {
            Ok(&[])
        } else if values.is_null() {
            ctx.system_error(msg!(api.name(), ": args is NULL but kwnames is not empty"));
            Err(Raised)
        } else {
            // SAFETY: the caller passed one value per name after the
            // positional arguments.
            Ok(unsafe { core::slice::from_raw_parts(values, n) })
        }
    }

    /// The UTF-8 of name `j` (None if it is not a `str`).
    pub(super) fn utf8(&self, j: usize) -> Option<&[u8]> {
        let name = self.items.as_slice().get(j)?;
        if name.utf8.is_null() {
            return None;
        }
        // SAFETY: the runtime returned `len` bytes at `utf8`, valid while
        // `name.h` is open, which it is until `self` is dropped.
        Some(unsafe { core::slice::from_raw_parts(name.utf8, name.len) })
    }

    /// Whether no unit took the value of name `j`.
    pub(super) fn unused(&self, j: usize) -> bool {
        self.items.as_slice().get(j).is_some_and(|n| !n.used)
    }

    /// The index of the first name equal to `key`.
    pub(super) fn position(&self, key: Key) -> Option<usize> {
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
pub(super) unsafe fn utf8_of<'h>(ctx: Ctx, h: HPy) -> Option<&'h [u8]> {
    let mut size: HPy_ssize_t = 0;
    // SAFETY: live context, open handle, `size` is a valid out pointer.
    let p = unsafe { raw::ctx_Unicode_AsUTF8AndSize(ctx.0, h, &mut size) };
    if p.is_null() {
        // SAFETY: live context.
        unsafe { raw::ctx_Err_Clear(ctx.0) };
        return None;
    }
    let len = usize::try_from(size).unwrap_or(0);
    // SAFETY: the runtime returned `len` bytes at `p`, valid while `h` is
    // open (caller's contract).
    Some(unsafe { core::slice::from_raw_parts(p as *const u8, len) })
}

/// An argument found for a unit.
pub(super) enum Arg {
    /// Borrowed from the caller for the duration of the call.
    Lent(HPy),
    /// A new handle the parser must close or give to the tracker.
    Owned(HPy),
}

impl Run {
    /// The keyword parsers: where the keyword arguments are (`kw`: the
    /// `kwnames` tuple, whose values follow the `nargs` positional ones in
    /// `args`, or the dict), then [`Run::with_keywords`].
    ///
    /// # Safety
    /// `args` holds `nargs` handles, followed by one per keyword name;
    /// `keywords` is a NULL-terminated array of C strings.
    #[inline(always)]
    pub(super) unsafe fn keywords(
        &mut self,
        args: *const HPy,
        nargs: usize,
        kw: HPy,
        keywords: *const *const c_char,
    ) -> Res<()> {
        let (ctx, api) = (self.ctx, self.api);
        let values = args.wrapping_add(nargs);
        // SAFETY: forwarded contract.
        let args = unsafe { handles(ctx, api, args, nargs) }?;
        if kw.is_null() {
            // SAFETY: forwarded contract.
            return unsafe { self.with_keywords(args, keywords, &mut NoKeywords) };
        }
        if api != Api::Keywords {
            // SAFETY: forwarded contract.
            return unsafe { self.with_keywords(args, keywords, &mut Dict(kw)) };
        }
        // `names` keeps the names open (their UTF-8 is compared) until the
        // units are done
        let mut names = Names::new(ctx);
        // SAFETY: `kw` is open; the values follow the positional ones.
        let values = unsafe { names.read(ctx, api, self.fmt, kw, values) }?;
        let mut source = Named {
            names: &mut names,
            values,
        };
        // SAFETY: forwarded contract.
        unsafe { self.with_keywords(args, keywords, &mut source) }
    }

    /// The keyword parsers, in one pass over the format and `keywords`:
    /// unit `i` takes `args[i]` or the keyword argument named
    /// `keywords[i]`. Where the format or `keywords` is unusable (what
    /// [`Format::keywords_error`] and [`Format::scan`] find), it stops
    /// with no exception set, for the caller to report.
    ///
    /// # Safety
    /// `keywords` is a NULL-terminated array of C strings.
    #[inline(never)]
    pub(super) unsafe fn with_keywords(
        &mut self,
        args: &[HPy],
        keywords: *const *const c_char,
        source: &mut dyn Source,
    ) -> Res<()> {
        let ctx = self.ctx;
        let early_duplicates = !source.duplicates_late();
        let (mut optional, mut kwonly, mut named) = (false, false, false);
        let mut pos = 0;
        let mut i = 0;
        loop {
            // SAFETY: `fmt` is a C string (entry point's contract) and the
            // loop stops at its NUL, so byte `pos` is readable.
            let b = unsafe { *self.fmt.add(pos) } as u8;
            pos += 1;
            let Some(unit) = Unit::of(b) else {
                match b {
                    0 | b':' | b';' => break,
                    b'|' if !optional => optional = true,
                    b'$' if !kwonly => (optional, kwonly) = (true, true),
                    _ => return Err(Raised),
                }
                continue;
            };
            // SAFETY: entries before `i` were not the NULL terminator, so
            // entry `i` is readable.
            let name = unsafe { *keywords.add(i) };
            if name.is_null() {
                return Err(Raised); // fewer names than units
            }
            let key = Key(name, core::marker::PhantomData);
            if !key.is_empty() {
                named = true;
            } else if named || kwonly {
                return Err(Raised); // a misplaced positional-only unit
            }
            if unit == Unit::Object && self.tracker.is_none() {
                return Err(Raised); // a new handle with nowhere to go
            }
            let arg = if let Some(&given) = args.get(i) {
                if kwonly {
                    return Err(
                        self.raise_type("keyword only argument passed as positional argument")
                    );
                }
                if early_duplicates && !key.is_empty() {
                    if let Some(dup) = source.find(ctx, key, false)? {
                        if let Arg::Owned(h) = dup {
                            ctx.close(h);
                        }
                        return Err(self.raise_type(multiple_values(key)));
                    }
                }
                Some(Arg::Lent(given)).filter(|_| !given.is_null())
            } else if key.is_empty() {
                None
            } else {
                source.find(ctx, key, true)?
            };
            i += 1;
            if arg.is_none() && !optional {
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
        // SAFETY: entry `i` is readable (as above).
        if !unsafe { *keywords.add(i) }.is_null() {
            return Err(Raised); // more names than units
        }
        if args.len() > i {
            return Err(self.raise_type("mismatched args (too many arguments for fmt)"));
        }
        // SAFETY: the `i` names before the terminator.
        let params = unsafe { Params::first(keywords, i) };
        source.unexpected(self, params, args.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
