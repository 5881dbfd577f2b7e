//! Matching a call's arguments to the parameters of an `#[hpy_def]`
//! function with a `signature = (...)`: positional, keyword, keyword-only,
//! `*args` and `**kwargs`, with Python's own error messages. Functions
//! without keywords skip all this (their calling convention is NOARGS, O or
//! VARARGS and only the count is checked).

use crate::context::Context;
use crate::err::{HPyErr, HPyResult};
use crate::exc;
use crate::handle::Handle;
use crate::raw;
use hpy_sys::HPy;

/// The parameters of a function, as the macro saw them.
pub struct FnDesc {
    /// The function's name, for messages (`scale`).
    pub name: &'static str,
    /// Named parameters in order: the positional ones, then keyword-only.
    pub params: &'static [&'static str],
    /// How many of `params` can be given by position.
    pub positional: usize,
    /// How many of those can only be given by position (before `/`).
    pub positional_only: usize,
    /// For each of `params`: no default, so it must be given.
    pub required: &'static [bool],
    /// Takes `*args`.
    pub varargs: bool,
    /// Takes `**kwargs`.
    pub varkw: bool,
}

/// Arguments matched to parameters: `values[i]` is the argument of
/// `params[i]` (`HPy_NULL`: not given), borrowed for the call.
pub struct Parsed<'a, 'c, const N: usize> {
    pub values: [HPy; N],
    /// The extra positional arguments, for `*args`.
    pub varargs: &'a [HPy],
    /// The unmatched keywords, for `**kwargs` (a new dict), if any.
    pub varkw: Option<Handle<'c>>,
    /// Values taken out of a keyword dict (kept open for the call).
    _owned: Vec<Handle<'c>>,
}

/// `name() takes N positional arguments but M were given`, for functions
/// without keywords.
#[inline]
pub fn check_nargs(name: &str, given: usize, expected: usize) -> HPyResult<()> {
    if given == expected {
        return Ok(());
    }
    Err(count_error(name, given, expected))
}

#[cold]
fn count_error(name: &str, given: usize, expected: usize) -> HPyErr {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    exc::TypeError::new_err(format!(
        "{name}() takes {expected} positional argument{} but {given} {} given",
        plural(expected),
        if given == 1 { "was" } else { "were" }
    ))
}

/// The UTF-8 of a `str` handle, compared while it is open.
fn with_utf8<R>(ctx: Context<'_>, h: HPy, f: impl FnOnce(&str) -> R) -> HPyResult<R> {
    let mut size: hpy_sys::HPy_ssize_t = 0;
    // SAFETY: a live context and an open handle; the result is NULL (with
    // an exception) or `size` bytes of UTF-8 valid while `h` is open.
    let p = unsafe { raw::ctx_Unicode_AsUTF8AndSize(ctx.as_ptr(), h, &mut size) };
    if p.is_null() {
        return Err(HPyErr::pending());
    }
    // SAFETY: see above; used before `h` is closed.
    let s = unsafe {
        core::str::from_utf8_unchecked(core::slice::from_raw_parts(p.cast(), size as usize))
    };
    Ok(f(s))
}

impl FnDesc {
    /// Matches a vectorcall-style call: `nargs` positional arguments at
    /// `args`, then one per name of the `kwnames` tuple (or `HPy_NULL`).
    pub fn parse_fastcall<'a, 'c, const N: usize>(
        &self,
        ctx: Context<'c>,
        args: &'a [HPy],
        nargs: usize,
        kwnames: HPy,
    ) -> HPyResult<Parsed<'a, 'c, N>> {
        let mut p = self.positional_args(ctx, &args[..nargs])?;
        if kwnames._i != 0 {
            // `args` holds the positional arguments, then one per keyword
            let nkw = args.len() - nargs;
            for j in 0..nkw {
                // SAFETY: a live context and an index within the tuple.
                let name = unsafe { raw::ctx_GetItem_i(ctx.as_ptr(), kwnames, j as _) };
                let name = Handle::from_result(ctx, name)?;
                self.keyword(ctx, &mut p, &name, args[nargs + j])?;
            }
        }
        self.check_required(&p)?;
        Ok(p)
    }

    /// Matches a `tp_new`/`tp_init`-style call: the items of the argument
    /// tuple and a keyword dict (or `HPy_NULL`).
    pub fn parse_tuple_dict<'a, 'c, const N: usize>(
        &self,
        ctx: Context<'c>,
        args: &'a [HPy],
        kw: HPy,
    ) -> HPyResult<Parsed<'a, 'c, N>> {
        let mut p = self.positional_args(ctx, args)?;
        if kw._i != 0 {
            // SAFETY: a live context and the call's keyword dict.
            let keys = unsafe { raw::ctx_Dict_Keys(ctx.as_ptr(), kw) };
            let keys = Handle::from_result(ctx, keys)?;
            for j in 0..keys.len()? {
                let name = keys.get_item(j)?;
                // SAFETY: a live context, the dict and one of its keys.
                let value = unsafe { raw::ctx_GetItem(ctx.as_ptr(), kw, name.raw()) };
                let value = Handle::from_result(ctx, value)?;
                self.keyword(ctx, &mut p, &name, value.raw())?;
                p._owned.push(value);
            }
        }
        self.check_required(&p)?;
        Ok(p)
    }

    fn positional_args<'a, 'c, const N: usize>(
        &self,
        _ctx: Context<'c>,
        args: &'a [HPy],
    ) -> HPyResult<Parsed<'a, 'c, N>> {
        let mut values = [HPy { _i: 0 }; N];
        let n = args.len().min(self.positional);
        values[..n].copy_from_slice(&args[..n]);
        let varargs = if args.len() > self.positional {
            if !self.varargs {
                let plural = if self.positional == 1 { "" } else { "s" };
                return Err(exc::TypeError::new_err(format!(
                    "{}() takes {} positional argument{plural} but {} were given",
                    self.name,
                    self.positional,
                    args.len()
                )));
            }
            &args[self.positional..]
        } else {
            &[]
        };
        Ok(Parsed {
            values,
            varargs,
            varkw: None,
            _owned: Vec::new(),
        })
    }

    fn keyword<'c, const N: usize>(
        &self,
        ctx: Context<'c>,
        p: &mut Parsed<'_, 'c, N>,
        name: &Handle<'c>,
        value: HPy,
    ) -> HPyResult<()> {
        let idx = with_utf8(ctx, name.raw(), |s| {
            self.params.iter().position(|&n| n == s)
        })?;
        match idx {
            Some(i) if i >= self.positional_only => {
                if p.values[i]._i != 0 {
                    return Err(exc::TypeError::new_err(format!(
                        "{}() got multiple values for argument '{}'",
                        self.name, self.params[i]
                    )));
                }
                p.values[i] = value;
                Ok(())
            }
            _ if self.varkw => {
                if p.varkw.is_none() {
                    p.varkw = Some(crate::new_dict(ctx)?);
                }
                let d = p.varkw.as_ref().expect("just made");
                // SAFETY: a live context, a dict and open handles.
                if unsafe { raw::ctx_SetItem(ctx.as_ptr(), d.raw(), name.raw(), value) } < 0 {
                    return Err(HPyErr::pending());
                }
                Ok(())
            }
            Some(i) => Err(exc::TypeError::new_err(format!(
                "{}() got some positional-only arguments passed as keyword arguments: '{}'",
                self.name, self.params[i]
            ))),
            None => {
                let n = with_utf8(ctx, name.raw(), str::to_owned)?;
                Err(exc::TypeError::new_err(format!(
                    "{}() got an unexpected keyword argument '{n}'",
                    self.name
                )))
            }
        }
    }

    fn check_required<const N: usize>(&self, p: &Parsed<'_, '_, N>) -> HPyResult<()> {
        for (i, &req) in self.required.iter().enumerate() {
            if req && p.values[i]._i == 0 {
                let kind = if i < self.positional {
                    "positional"
                } else {
                    "keyword-only"
                };
                return Err(exc::TypeError::new_err(format!(
                    "{}() missing required {kind} argument: '{}'",
                    self.name, self.params[i]
                )));
            }
        }
        Ok(())
    }
}
