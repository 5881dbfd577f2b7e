//! `HPy_BuildValue`: one pass over the format string checks it, so a
//! malformed format fails before any argument is read or any handle opened;
//! a second pass over the same bytes builds the value from the variable
//! arguments. Neither allocates for a format of usual size.
//!
//! The check has a quick way for the common formats, [`check_simple`] (no
//! dicts), and a general one, [`check_any`] (which also finds the error).
//! The build is one loop for every format, [`build`], whose values wait on
//! a [`Stack`] with inline room that closes them if a later one fails.
//!
//! The units and messages are upstream HPy 0.9's; `N` is refused, as there.
//! Where upstream is stricter than it means to be, we accept more: blanks
//! (space, tab) may surround every separator, also in `(...)` and `[...]`.

use crate::ctx::Ctx;
use crate::helpers::{Raised, Res};
use crate::message::{Hex2, Message, Part};
use crate::msg;
use crate::smallvec::SmallVec;
use crate::va::VaArgs;
use core::ffi::{c_char, CStr};
use core::mem::MaybeUninit;
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPy_NULL, HPy_ssize_t};

/// Brackets nest at most this deep: building recurses, and the stack of an
/// extension's thread may be small.
const MAX_DEPTH: usize = 256;

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

impl Part for FormatError {
    #[inline(never)]
    fn write(self, m: &mut Message) {
        const WHERE: &str = "' in the format string passed to HPy_BuildValue";
        let (what, c) = match self {
            FormatError::BadChar(c) => ("bad format char '", c),
            FormatError::Unmatched(c) => ("unmatched '", c),
            FormatError::Unexpected(c) => ("unexpected '", c),
            FormatError::Missing(c) => ("missing '", c),
            FormatError::StealingUnit => {
                m.add(
                    "HPy_BuildValue does not support the 'N' formatting unit. Instead, use the \
                     'O' formatting unit and manually close the handle in the caller if \
                     necessary. HPy API functions never 'steal' handles and always make a \
                     duplicate handle if needed, the 'ownership' of the original handle is \
                     never 'transferred'. ",
                );
                return;
            }
            FormatError::TooDeep => {
                m.add("brackets nested more than ")
                    .add(MAX_DEPTH)
                    .add(" deep in the format string passed to HPy_BuildValue");
                return;
            }
            FormatError::Internal => {
                m.add("internal error in HPy_BuildValue");
                return;
            }
        };
        m.add(what).add(Shown(c)).add(WHERE);
    }
}

/// A format byte as it appears in messages: itself if printable ASCII,
/// else `\xNN`.
struct Shown(u8);

impl Part for Shown {
    #[inline]
    fn write(self, m: &mut Message) {
        if self.0.is_ascii_graphic() || self.0 == b' ' {
            m.add(char::from(self.0));
        } else {
            m.add("\\x").add(Hex2(self.0));
        }
    }
}

/// What a bracket's group is, once closed, to the group around it: which
/// state that group is then in (see [`check`]).
#[derive(Clone, Copy, PartialEq)]
enum Then {
    /// A unit of a sequence (or of the top level): a comma may follow.
    SeqItem,
    /// A dict key: `:` must follow.
    Key,
    /// A dict value: `,` or `}` follows.
    Value,
}

/// Where [`check`] is.
#[derive(Clone, Copy)]
enum State {
    /// In a sequence (or the top level); a comma may come next.
    Seq { comma_allowed: bool },
    /// In a dict, where a key, `,` or `}` may come (`,` only after a pair,
    /// a key only not right after one).
    DictKey { after_pair: bool },
    /// After a key: `:` must come.
    DictColon,
    /// After `:`: the value must come.
    DictValue,
}

impl Then {
    fn state(self) -> State {
        match self {
            Then::SeqItem => State::Seq {
                comma_allowed: true,
            },
            Then::Key => State::DictColon,
            Then::Value => State::DictKey { after_pair: true },
        }
    }
}

/// The first pass: the number of top-level units of `fmt`, or what is wrong
/// with it. Units are separated by blanks and at most one comma, which may
/// also trail; a dict holds `key:value` pairs separated by exactly one
/// comma, which may also trail.
#[cfg(test)]
fn check(fmt: &[u8]) -> Result<usize, FormatError> {
    match check_simple(fmt.iter().copied()) {
        Some(simple) => Ok(simple.count),
        None => check_any(fmt),
    }
}

/// What [`check_simple`] learns of a format.
#[derive(Debug, PartialEq)]
struct Simple {
    /// Top-level units.
    count: usize,
    /// Bytes.
    len: usize,
    /// Scalar units, at any depth.
    scalars: usize,
    /// Opening brackets, and how many of them are `[`.
    opens: usize,
    lists: usize,
}

impl Simple {
    /// Whether the value is a tuple of the scalar units alone (`"(iiO)"`,
    /// `"ii"`): what [`flat_tuple`] builds.
    fn is_flat_tuple(&self) -> bool {
        self.scalars <= FLAT_MAX
            && self.lists == 0
            && ((self.opens == 0 && self.count > 1) || (self.opens == 1 && self.count == 1))
    }
}

/// What the format `bytes` is, if it is well-formed and simple (no dict,
/// brackets nested at most 64 deep), else None: then [`check_any`] decides,
/// and finds the error. Most formats are simple; this is the quick way
/// through them, its stack of brackets one bit per level, reading a C
/// string only once.
fn check_simple(bytes: impl Iterator<Item = u8>) -> Option<Simple> {
    let mut count = 0;
    let mut depth = 0;
    // bit `i`: the bracket open at depth `i` is a '['
    let mut brackets = 0u64;
    let mut comma_allowed = false;
    let mut len = 0;
    let (mut scalars, mut opens, mut lists) = (0, 0, 0);
    for c in bytes {
        len += 1;
        match c {
            b'i' | b'I' | b'l' | b'k' | b'L' | b'K' | b'n' | b'f' | b'd' | b's' | b'O' | b'S' => {
                count += usize::from(depth == 0);
                scalars += 1;
                comma_allowed = true;
            }
            b' ' | b'\t' => {}
            b',' if comma_allowed => comma_allowed = false,
            b'(' | b'[' if depth < 64 => {
                opens += 1;
                lists += usize::from(c == b'[');
                brackets |= u64::from(c == b'[') << depth;
                depth += 1;
                comma_allowed = false;
            }
            b')' | b']' if depth > 0 && (brackets >> (depth - 1)) & 1 == u64::from(c == b']') => {
                depth -= 1;
                brackets &= !(1 << depth);
                count += usize::from(depth == 0);
                comma_allowed = true;
            }
            _ => return None,
        }
    }
    (depth == 0).then_some(Simple {
        count,
        len,
        scalars,
        opens,
        lists,
    })
}

/// The bytes of a C string, up to its NUL.
struct CBytes {
    next: *const u8,
}

impl CBytes {
    /// # Safety
    /// `s` is a NUL-terminated string, valid while the iterator is used.
    unsafe fn new(s: *const c_char) -> CBytes {
        CBytes { next: s.cast() }
    }
}

impl Iterator for CBytes {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        // SAFETY: `next` is at most at the NUL, which is readable, and
        // never moves past it (see `new`).
        let c = unsafe { *self.next };
        if c == 0 {
            return None;
        }
        // SAFETY: still within the string: `c` was not its NUL.
        self.next = unsafe { self.next.add(1) };
        Some(c)
    }
}

/// [`check`] for any format: one loop over the bytes, with the open
/// brackets on a fixed array (no recursion: an extension thread's stack may
/// be small).
fn check_any(fmt: &[u8]) -> Result<usize, FormatError> {
    // the open brackets, outermost first, and what each group is to its parent
    let mut open = [(0u8, Then::SeqItem); MAX_DEPTH];
    let mut depth: usize = 0;
    let mut count = 0;
    let mut state = State::Seq {
        comma_allowed: false,
    };
    let mut pos = 0;
    loop {
        let c = fmt.get(pos).copied();
        if matches!(c, Some(b' ' | b'\t')) {
            pos += 1;
            continue;
        }
        // The format ended inside brackets: name the outermost open one, as
        // upstream does.
        let unclosed = || FormatError::Unmatched(open[0].0);
        // What completing a unit here makes the group it is in.
        let then = match state {
            State::Seq { comma_allowed } => match c {
                None if depth == 0 => return Ok(count),
                None => return Err(unclosed()),
                Some(c @ (b')' | b']' | b'}')) => {
                    let inner = depth.checked_sub(1).and_then(|i| open.get(i)).map(|o| o.0);
                    if inner.map(closer) != Some(c) {
                        // a closing bracket of the wrong kind: the innermost
                        // open one is the unmatched one (or, at top level,
                        // the stray closer)
                        return Err(FormatError::Unmatched(inner.unwrap_or(c)));
                    }
                    pos += 1;
                    depth -= 1;
                    complete(&mut state, &mut count, depth, then_of(&open, depth));
                    continue;
                }
                Some(b',') if comma_allowed => {
                    pos += 1;
                    state = State::Seq {
                        comma_allowed: false,
                    };
                    continue;
                }
                Some(b',') => return Err(FormatError::Unexpected(b',')),
                Some(_) => Then::SeqItem,
            },
            State::DictKey { after_pair } => match c {
                None => return Err(unclosed()),
                Some(b'}') => {
                    pos += 1;
                    depth = depth.saturating_sub(1);
                    complete(&mut state, &mut count, depth, then_of(&open, depth));
                    continue;
                }
                Some(b',') if after_pair => {
                    pos += 1;
                    state = State::DictKey { after_pair: false };
                    continue;
                }
                Some(b',') => return Err(FormatError::Unexpected(b',')),
                Some(b')' | b']') => return Err(FormatError::Unmatched(b'{')),
                Some(_) if after_pair => return Err(FormatError::Missing(b',')),
                Some(_) => Then::Key,
            },
            State::DictColon => match c {
                Some(b':') => {
                    pos += 1;
                    state = State::DictValue;
                    continue;
                }
                None => return Err(unclosed()),
                Some(_) => return Err(FormatError::Missing(b':')),
            },
            State::DictValue => match c {
                None => return Err(unclosed()),
                Some(_) => Then::Value,
            },
        };
        // a unit starts at `pos`
        let Some(c) = c else {
            return Err(FormatError::Internal);
        };
        pos += 1;
        match c {
            b'i' | b'I' | b'l' | b'k' | b'L' | b'K' | b'n' | b'f' | b'd' | b's' | b'O' | b'S' => {
                complete(&mut state, &mut count, depth, then)
            }
            b'(' | b'[' | b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(FormatError::TooDeep);
                }
                open[depth] = (c, then);
                depth += 1;
                state = if c == b'{' {
                    State::DictKey { after_pair: false }
                } else {
                    State::Seq {
                        comma_allowed: false,
                    }
                };
            }
            b'N' => return Err(FormatError::StealingUnit),
            _ => return Err(FormatError::BadChar(c)),
        }
    }
}

/// What the group of open bracket `depth` is to its parent.
fn then_of(open: &[(u8, Then)], depth: usize) -> Then {
    open.get(depth).map_or(Then::SeqItem, |o| o.1)
}

/// A unit was completed at `depth`, where it is `then`.
fn complete(state: &mut State, count: &mut usize, depth: usize, then: Then) {
    *state = then.state();
    if depth == 0 {
        *count += 1;
    }
}

/// The closing partner of an opening bracket.
fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// # Safety
/// Arguments as received by `HPy_BuildValue`: `ctx` is live, `fmt` is NULL
/// or a NUL-terminated string, and the variable arguments match `fmt`.
#[inline(always)] // into the C entry point's Rust half: one call fewer
pub unsafe fn build_value(ctx: Ctx, fmt: *const c_char, va: VaArgs) -> HPy {
    if fmt.is_null() {
        ctx.system_error("NULL format string passed to HPy_BuildValue");
        return HPy_NULL;
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    let (count, fmt) = match check_simple(unsafe { CBytes::new(fmt) }) {
        Some(simple) => {
            // SAFETY: `len` bytes precede the NUL.
            let bytes = unsafe { core::slice::from_raw_parts(fmt.cast(), simple.len) };
            if simple.is_flat_tuple() {
                // SAFETY: `bytes` passed the check, the arguments match it
                // (caller's contract).
                return unsafe { flat_tuple(ctx, bytes, va) };
            }
            (simple.count, bytes)
        }
        None => {
            // SAFETY: as above.
            let fmt = unsafe { CStr::from_ptr(fmt) }.to_bytes();
            match check_any(fmt) {
                Ok(count) => (count, fmt),
                Err(e) => {
                    ctx.system_error(msg!(e));
                    return HPy_NULL;
                }
            }
        }
    };
    if count == 0 {
        return ctx.none();
    }
    // SAFETY: `fmt` passed the check and the variable arguments match it
    // (caller's contract).
    unsafe { build(ctx, fmt, count, va) }.unwrap_or(HPy_NULL)
}

/// The most scalar units [`flat_tuple`] takes.
const FLAT_MAX: usize = 16;

/// The quick way to build the usual value, a tuple of scalars: their
/// handles go straight into an array for `Tuple_FromArray`, the new ones
/// closed after it (or after a failure), with none of [`build`]'s
/// bookkeeping.
///
/// # Safety
/// `ctx` is live; `fmt` passed [`check_simple`] and
/// [`Simple::is_flat_tuple`]; the variable arguments match it.
#[inline(never)]
unsafe fn flat_tuple(ctx: Ctx, fmt: &[u8], mut va: VaArgs) -> HPy {
    let mut items = [const { MaybeUninit::<HPy>::uninit() }; FLAT_MAX];
    // bit `i`: `items[i]` is a new handle, closed below
    let mut owned = 0u32;
    let mut n = 0;
    let mut failed = false;
    for &code in fmt {
        if !is_unit(code) {
            continue;
        }
        // SAFETY: live context; the arguments match the units (contract).
        let h = unsafe { unit(ctx, &mut va, code) };
        let new = !is_lent(code);
        // (there is a slot: the check counted at most FLAT_MAX units)
        let Some(slot) = items.get_mut(n).filter(|_| !h.is_null()) else {
            if new && !h.is_null() {
                ctx.close(h);
            }
            failed = true;
            break;
        };
        slot.write(h);
        owned |= u32::from(new) << n;
        n += 1;
    }
    // SAFETY: the first `n` items were written above.
    let done = unsafe { core::slice::from_raw_parts(items.as_ptr().cast::<HPy>(), n) };
    let result = if failed { HPy_NULL } else { tuple(ctx, done) };
    for (i, &h) in done.iter().enumerate() {
        if owned & (1 << i) != 0 {
            ctx.close(h);
        }
    }
    result
}

/// One bracket being built: where its values start on the [`Stack`], and
/// whether it is a dict (whose pairs go into it as they complete; the dict
/// itself waits just below its values).
#[derive(Clone, Copy)]
struct Open {
    start: usize,
    dict: bool,
}

/// The second pass: the value of a format that passed the check, with
/// `count` top-level units, in one loop over its bytes (no recursion: an
/// extension thread's stack may be small). The values wait on a [`Stack`];
/// a closing bracket replaces the values of its group with the container.
///
/// # Safety
/// `ctx` is live; `fmt` passed [`check_simple`] or [`check_any`]; the
/// variable arguments match it.
unsafe fn build(ctx: Ctx, fmt: &[u8], count: usize, mut va: VaArgs) -> Res<HPy> {
    let mut stack = Stack::new(ctx);
    let mut open: SmallVec<Open, 8> = SmallVec::new();
    // the innermost open bracket is a dict: a complete value may complete
    // one of its pairs
    let mut in_dict = false;
    for &code in fmt {
        if is_unit(code) {
            // SAFETY: live context; the arguments match the units (contract).
            let h = unsafe { unit(ctx, &mut va, code) };
            if h.is_null() {
                return Err(Raised);
            }
            if is_lent(code) {
                stack.push_lent(h)?
            } else {
                stack.push(h)?
            }
        } else {
            match code {
                b'(' | b'[' | b'{' => {
                    in_dict = code == b'{';
                    if in_dict {
                        // SAFETY: live context.
                        stack.push_owned(unsafe { raw::ctx_Dict_New(ctx.0) })?;
                    }
                    let start = stack.len();
                    if open
                        .push(Open {
                            start,
                            dict: in_dict,
                        })
                        .is_err()
                    {
                        ctx.memory_error("HPy_BuildValue: out of memory");
                        return Err(Raised);
                    }
                    continue;
                }
                b')' | b']' | b'}' => {
                    let Some(Open { start, .. }) = open.pop() else {
                        return internal(ctx);
                    };
                    match code {
                        b')' => stack.tuple(start)?,
                        b']' => stack.list(start)?,
                        // the pairs are in the dict, which is complete
                        _ => {}
                    }
                    in_dict = open.as_slice().last().is_some_and(|o| o.dict);
                }
                // separators
                _ => continue,
            }
        }
        if in_dict {
            if let Some(&Open { start, .. }) = open.as_slice().last() {
                stack.set_pair(start)?;
            }
        }
    }
    if count > 1 {
        stack.tuple(0)?;
    }
    stack.take_one()
}

/// Whether `code` is a scalar unit, whose value is read from the arguments.
#[inline(always)]
fn is_unit(code: u8) -> bool {
    matches!(
        code,
        b'i' | b'I' | b'l' | b'k' | b'L' | b'K' | b'n' | b'f' | b'd' | b's' | b'O' | b'S'
    )
}

/// Whether the value of unit `code` is the caller's handle (`O`, `S`)
/// rather than a new one.
#[inline(always)]
fn is_lent(code: u8) -> bool {
    matches!(code, b'O' | b'S')
}

/// The value of scalar unit `code` (see [`is_unit`]), read from `va`: a new
/// handle, or the caller's for `O` and `S`; `HPy_NULL`: an exception is set.
/// Out of line: [`flat_tuple`] and [`build`] share it.
///
/// # Safety
/// `ctx` is live; the next variable argument is the unit's.
#[inline(never)]
unsafe fn unit(ctx: Ctx, va: &mut VaArgs, code: u8) -> HPy {
    let c = ctx.0;
    // SAFETY: live context; each read takes the C type the unit stands for,
    // which the caller promises is the next argument's.
    unsafe {
        match code {
            b'i' => raw::ctx_Long_FromInt64_t(c, i64::from(va.int())),
            b'I' => raw::ctx_Long_FromUInt64_t(c, u64::from(va.uint())),
            // `long` is 32 bits on Windows
            #[allow(clippy::useless_conversion)]
            b'l' => raw::ctx_Long_FromInt64_t(c, i64::from(va.long())),
            #[allow(clippy::useless_conversion)]
            b'k' => raw::ctx_Long_FromUInt64_t(c, u64::from(va.ulong())),
            b'L' => raw::ctx_Long_FromInt64_t(c, va.longlong()),
            b'K' => raw::ctx_Long_FromUInt64_t(c, va.ulonglong()),
            b'n' => raw::ctx_Long_FromSsize_t(c, va.ssize()),
            // a `float` argument arrives promoted to `double`
            b'f' | b'd' => raw::ctx_Float_FromDouble(c, va.double()),
            b's' => {
                let s = va.cstr();
                if s.is_null() {
                    ctx.none()
                } else {
                    raw::ctx_Unicode_FromString(c, s)
                }
            }
            b'O' | b'S' => {
                let h = va.hpy();
                if h.is_null() {
                    null_object(ctx);
                }
                h
            }
            _ => {
                let _ = internal::<()>(ctx);
                HPy_NULL
            }
        }
    }
}

/// `HPy_NULL` was passed for `O`: make sure an exception is set.
#[cold]
fn null_object(ctx: Ctx) {
    // the call that produced it has most likely raised
    if !ctx.err_occurred() {
        ctx.system_error("HPy_NULL object passed to HPy_BuildValue");
    }
}

/// A new tuple of `items` (null: an exception is set).
fn tuple(ctx: Ctx, items: &[HPy]) -> HPy {
    // SAFETY: live context; `items` are open handles, a non-null array even
    // when empty; a slice never exceeds isize::MAX elements.
    unsafe { raw::ctx_Tuple_FromArray(ctx.0, items.as_ptr(), items.len() as HPy_ssize_t) }
}

/// A new list of `items` (null: an exception is set).
fn list(ctx: Ctx, items: &[HPy]) -> HPy {
    // SAFETY: live context; the builder is used only here and consumed by
    // `Build`; every index is below the size it was made with (a slice
    // never holds more than isize::MAX items); the items are open.
    unsafe {
        let builder = raw::ctx_ListBuilder_New(ctx.0, items.len() as HPy_ssize_t);
        for (i, &item) in items.iter().enumerate() {
            raw::ctx_ListBuilder_Set(ctx.0, builder, i as HPy_ssize_t, item);
        }
        raw::ctx_ListBuilder_Build(ctx.0, builder)
    }
}

/// Report a format [`check`] should have refused.
#[cold]
#[inline(never)]
fn internal<T>(ctx: Ctx) -> Res<T> {
    ctx.system_error(msg!(FormatError::Internal));
    Err(Raised)
}

/// The values built so far, in format order: new handles, closed when
/// dropped unless taken, and the caller's handles passed to `O` (lent), used
/// as they are.
struct Stack {
    ctx: Ctx,
    handles: SmallVec<HPy, 16>,
    /// Bit `i` set: `handles[i]` is lent. Only the first 64 values can be;
    /// beyond, a lent handle is duplicated.
    lent: u64,
}

impl Stack {
    #[inline(always)]
    fn new(ctx: Ctx) -> Stack {
        Stack {
            ctx,
            handles: SmallVec::new(),
            lent: 0,
        }
    }

    fn len(&self) -> usize {
        self.handles.len()
    }

    /// Push a new handle from the context (null: it raised).
    #[inline(always)]
    fn push_owned(&mut self, h: HPy) -> Res<()> {
        if h.is_null() {
            return Err(Raised);
        }
        self.push(h)
    }

    /// Push `h`, or close it (if new) and raise MemoryError.
    #[inline(always)]
    fn push(&mut self, h: HPy) -> Res<()> {
        if self.handles.push(h).is_err() {
            return Err(self.no_memory(h));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn no_memory(&self, h: HPy) -> Raised {
        if !self.is_lent(self.len()) {
            self.ctx.close(h);
        }
        self.ctx.memory_error("HPy_BuildValue: out of memory");
        Raised
    }

    /// Whether value `i` (pushed or about to be) is the caller's.
    fn is_lent(&self, i: usize) -> bool {
        i < 64 && self.lent & (1 << i) != 0
    }

    /// Push a handle of the caller's.
    #[inline(always)]
    fn push_lent(&mut self, h: HPy) -> Res<()> {
        let i = self.len();
        if i >= 64 {
            return self.push_owned(self.ctx.dup(h));
        }
        self.lent |= 1 << i;
        let pushed = self.push(h);
        if pushed.is_err() {
            self.lent &= !(1 << i);
        }
        pushed
    }

    /// Drop the values from index `start` on, closing the new ones.
    #[inline(never)]
    fn pop_to(&mut self, start: usize) {
        // bit `k`: value `start + k` is lent (none is from 64 on)
        let mut lent = if start < 64 { self.lent >> start } else { 0 };
        for &h in self.handles.as_slice().get(start..).unwrap_or(&[]) {
            if lent & 1 == 0 {
                self.ctx.close(h);
            }
            lent >>= 1;
        }
        self.handles.truncate(start);
        if start < 64 {
            self.lent &= (1 << start) - 1;
        }
    }

    /// Replace the values from `start` on with a tuple of them.
    fn tuple(&mut self, start: usize) -> Res<()> {
        let t = tuple(
            self.ctx,
            self.handles.as_slice().get(start..).unwrap_or(&[]),
        );
        self.pop_to(start);
        self.push_owned(t)
    }

    /// Replace the values from `start` on with a list of them.
    fn list(&mut self, start: usize) -> Res<()> {
        let l = list(
            self.ctx,
            self.handles.as_slice().get(start..).unwrap_or(&[]),
        );
        self.pop_to(start);
        self.push_owned(l)
    }

    /// If the dict below `start` has a key and a value above it, put the
    /// pair into it.
    fn set_pair(&mut self, start: usize) -> Res<()> {
        let values = self.handles.as_slice();
        let (Some(&dict), Some(&[key, value])) = (
            start.checked_sub(1).and_then(|d| values.get(d)),
            values.get(start..),
        ) else {
            return Ok(());
        };
        // SAFETY: live context; the dict, key and value are open.
        let status = unsafe { raw::ctx_SetItem(self.ctx.0, dict, key, value) };
        self.pop_to(start);
        if status < 0 {
            return Err(Raised);
        }
        Ok(())
    }

    /// The one value left, as a new handle for the caller.
    fn take_one(&mut self) -> Res<HPy> {
        let &[h] = self.handles.as_slice() else {
            return internal(self.ctx);
        };
        let lent = self.lent & 1 != 0;
        self.handles.truncate(0);
        self.lent = 0;
        if lent {
            let dup = self.ctx.dup(h);
            if dup.is_null() {
                return Err(Raised);
            }
            Ok(dup)
        } else {
            Ok(h)
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // empty after a success (`take_one`)
        if self.len() != 0 {
            self.pop_to(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{check, check_any, check_simple, FormatError as E, Simple};

    extern crate std;
    use std::string::String;
    use std::{format, vec::Vec};

    /// The message of a format error.
    fn text(e: E) -> String {
        String::from_utf8(crate::msg!(e).as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn units_and_containers() {
        assert_eq!(check(b""), Ok(0));
        assert_eq!(check(b"  \t"), Ok(0));
        assert_eq!(check(b" , "), Err(E::Unexpected(b',')));
        assert_eq!(check(b"iIlkLKnfdsOS"), Ok(12));
        assert_eq!(check(b"i, d ,"), Ok(2));
        assert_eq!(check(b"[(is) , ((f)[kk]),]"), Ok(1));
        assert_eq!(check(b"{s:i, s : (ii),}{}"), Ok(2));
        assert_eq!(check(b"(){}[]"), Ok(3));
    }

    #[test]
    fn malformed() {
        assert_eq!(check(b"(q)"), Err(E::BadChar(b'q')));
        assert_eq!(check(b"s#"), Err(E::BadChar(b'#')));
        assert_eq!(check(b"(i"), Err(E::Unmatched(b'(')));
        assert_eq!(check(b"([(i)k"), Err(E::Unmatched(b'(')));
        assert_eq!(check(b"(i]"), Err(E::Unmatched(b'(')));
        assert_eq!(check(b"[i)"), Err(E::Unmatched(b'[')));
        assert_eq!(check(b"([i)]"), Err(E::Unmatched(b'[')));
        assert_eq!(check(b"(i)]"), Err(E::Unmatched(b']')));
        assert_eq!(check(b"i)"), Err(E::Unmatched(b')')));
        assert_eq!(check(b"(i,,i)"), Err(E::Unexpected(b',')));
        assert_eq!(check(b"N"), Err(E::StealingUnit));
        assert_eq!(check(b"{i:i"), Err(E::Unmatched(b'{')));
        assert_eq!(check(b"[{i:i"), Err(E::Unmatched(b'[')));
        assert_eq!(check(b"{i:i,,}"), Err(E::Unexpected(b',')));
        assert_eq!(check(b"{i:ii,}"), Err(E::Missing(b',')));
        assert_eq!(check(b"{i}"), Err(E::Missing(b':')));
        assert_eq!(check(b"{i:}"), Err(E::BadChar(b'}')));
        assert_eq!(check(b"{i:i]"), Err(E::Unmatched(b'{')));
        assert_eq!(check(b"{i:"), Err(E::Unmatched(b'{')));
        let deep = "(".repeat(10_000);
        assert_eq!(check(deep.as_bytes()), Err(E::TooDeep));
        let ok = format!("{}i{}", "[".repeat(256), "]".repeat(256));
        assert_eq!(check(ok.as_bytes()), Ok(1));
        let ok = format!("{}i{}", "({i:".repeat(85), "})".repeat(85));
        assert_eq!(check(ok.as_bytes()), Ok(1));
    }

    /// Where the quick check answers, it agrees with the full one; it
    /// answers for the usual formats.
    #[test]
    fn simple_agrees() {
        let alphabet = b"i([)],\t{:}N";
        for len in 0..=5u32 {
            for mut k in 0..(alphabet.len() as u64).pow(len) {
                let mut fmt = Vec::new();
                for _ in 0..len {
                    fmt.push(alphabet[(k % alphabet.len() as u64) as usize]);
                    k /= alphabet.len() as u64;
                }
                if let Some(simple) = check_simple(fmt.iter().copied()) {
                    assert_eq!(check_any(&fmt), Ok(simple.count), "{fmt:?}");
                    assert_eq!(simple.len, fmt.len());
                }
            }
        }
        for fmt in ["", "(iiO)", "i, d ,", "[(is) , ((f)[kk]),]", "O(())[[]]"] {
            assert!(check_simple(fmt.bytes()).is_some(), "{fmt}");
        }
        let deep = format!("{}i{}", "([".repeat(32), "])".repeat(32));
        let simple = |count, len, scalars, opens, lists| Simple {
            count,
            len,
            scalars,
            opens,
            lists,
        };
        assert_eq!(check_simple(deep.bytes()), Some(simple(1, 129, 1, 64, 32)));
        assert_eq!(
            check_simple("i, (s[d])".bytes()),
            Some(simple(2, 9, 3, 2, 1))
        );
        let deeper = format!("({deep})");
        assert_eq!(check_simple(deeper.bytes()), None);
        let c = std::ffi::CString::new("(ii)").unwrap();
        // SAFETY: a C string, alive for the call.
        let bytes = unsafe { super::CBytes::new(c.as_ptr()) };
        assert_eq!(check_simple(bytes), Some(simple(1, 4, 2, 1, 0)));
        assert_eq!(check(deeper.as_bytes()), Ok(1));
    }

    /// The quick way takes exactly the tuples of scalars.
    #[test]
    fn flat_tuples() {
        let flat = |fmt: &str| check_simple(fmt.bytes()).unwrap().is_flat_tuple();
        for fmt in ["(iiO)", "ii", " ( i , d ) ", "()", "i,s,", &"i".repeat(16)] {
            assert!(flat(fmt), "{fmt}");
        }
        let long = format!("({})", "O".repeat(17));
        for fmt in ["", "i", "[ii]", "(i)i", "((i))", "(i)(i)", "i()", &long] {
            assert!(!flat(fmt), "{fmt}");
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            text(E::BadChar(b'q')),
            "bad format char 'q' in the format string passed to HPy_BuildValue"
        );
        assert_eq!(
            text(E::BadChar(1)),
            "bad format char '\\x01' in the format string passed to HPy_BuildValue"
        );
        assert!(text(E::StealingUnit)
            .starts_with("HPy_BuildValue does not support the 'N' formatting unit."));
    }
}
