//! Conversions between Rust values and Python objects: [`IntoHPy`] (Rust →
//! new handle) and [`FromHPy`] (handle → Rust value), for every integer
//! width, floats, `bool`, strings, `Option`, `Vec`, tuples, maps and handles;
//! [`FromHPyRef`] lends `&str`, `&[u8]`, `&Handle` and objects of your types
//! out of an argument without copying.

use crate::context::Context;
use crate::err::{HPyErr, HPyResult};
use crate::exc;
use crate::handle::Handle;
use crate::raw;
use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::hash::{BuildHasher, Hash};

/// A Rust value that becomes a Python object.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted into a Python object",
    label = "`{Self}` does not implement `IntoHPy`",
    note = "return a type that converts (numbers, `bool`, `String`, `Vec`, `Option`, tuples, maps, `Handle`, `Bytes`, an `#[hpy_def]` type), make `{Self}` an `#[hpy_def] struct`, or implement `IntoHPy` for it"
)]
pub trait IntoHPy<'c> {
    /// A new handle to the object for `self`.
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>>;
}

/// A Rust value read out of a Python object.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted from a Python object",
    label = "`{Self}` does not implement `FromHPy`",
    note = "implement `FromHPy` for `{Self}`, or take the object as `&Handle<'_>` and convert it yourself",
    note = "by value, parameters take numbers, `bool`, `String`, `Vec`, `Option`, tuples, maps, `Handle`, `Bytes`; by reference, `&str`, `&[u8]`, `&Handle<'_>` and `&T` for `#[hpy_def]` types"
)]
pub trait FromHPy<'c>: Sized {
    /// Converts the object; a `TypeError` (or `OverflowError`, ...) if it
    /// does not fit.
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self>;
}

/// Values lent out of an argument for the call, without a copy: `&str`,
/// `&[u8]`, `&Handle<'c>`, and `&T` for `#[hpy_def]` types. `Holder` keeps
/// what the loan needs (an object's borrow flag) until the call returns.
#[diagnostic::on_unimplemented(
    message = "`&{Self}` cannot be borrowed from a Python object",
    label = "`{Self}` does not implement `FromHPyRef`",
    note = "references work for `&str`, `&[u8]`, `&Handle<'_>` and `&T` for `#[hpy_def]` types; take `{Self}` by value (it needs `FromHPy`) or take `&Handle<'_>`"
)]
pub trait FromHPyRef<'c> {
    /// Kept alive by the caller while the reference is used.
    type Holder: Default;
    /// Lends `Self` out of `obj`.
    fn extract<'a>(obj: &'a Handle<'c>, holder: &'a mut Self::Holder) -> HPyResult<&'a Self>
    where
        'c: 'a;
}

/// `&mut T` out of an argument (for `#[hpy_def]` types).
#[diagnostic::on_unimplemented(
    message = "`&mut {Self}` cannot be borrowed from a Python object",
    label = "`{Self}` does not implement `FromHPyRefMut`",
    note = "only `#[hpy_def]` types can be taken as `&mut T`; take a value or `&Handle<'_>` instead"
)]
pub trait FromHPyRefMut<'c> {
    /// Kept alive by the caller while the reference is used.
    type Holder: Default;
    /// Lends `Self` mutably out of `obj`.
    fn extract_mut<'a>(
        obj: &'a Handle<'c>,
        holder: &'a mut Self::Holder,
    ) -> HPyResult<&'a mut Self>
    where
        'c: 'a;
}

impl<'c> Handle<'c> {
    /// Converts this object into a Rust value: `let n: i64 = h.extract()?`.
    pub fn extract<T: FromHPy<'c>>(&self) -> HPyResult<T> {
        T::from_hpy(self)
    }
}

impl<'c> Context<'c> {
    /// Converts a Rust value into a new Python object.
    pub fn to_object<T: IntoHPy<'c>>(self, value: T) -> HPyResult<Handle<'c>> {
        value.into_hpy(self)
    }
}

// ------------------------------------------------------------ C strings

/// `s` as a C string; a `ValueError` if it holds a NUL byte.
pub(crate) fn cstring(s: &str) -> HPyResult<CString> {
    CString::new(s).map_err(|_| exc::ValueError::new_err("embedded null character"))
}

/// `s` as a C string, NUL bytes dropped (for messages).
pub(crate) fn cstring_lossy(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// The Python type name of `obj`, for error messages.
pub(crate) fn type_name(obj: &Handle<'_>) -> String {
    let ctx = obj.context();
    // SAFETY: a live context and an open handle; Type returns a new handle.
    let t = unsafe { raw::ctx_Type(ctx.as_ptr(), obj.raw()) };
    let Ok(t) = Handle::from_result(ctx, t) else {
        ctx.clear_error();
        return "?".into();
    };
    // SAFETY: a live context and an open type handle; the name is a
    // NUL-terminated string that lives as long as the type.
    let p = unsafe { raw::ctx_Type_GetName(ctx.as_ptr(), t.raw()) };
    if p.is_null() {
        ctx.clear_error();
        return "?".into();
    }
    // SAFETY: non-NULL and NUL-terminated; copied before `t` closes.
    let name = unsafe { core::ffi::CStr::from_ptr(p) }.to_string_lossy();
    name.rsplit('.').next().unwrap_or("?").to_string()
}

fn expected(what: &str, obj: &Handle<'_>) -> HPyErr {
    exc::TypeError::new_err(format!("expected {what}, got '{}'", type_name(obj)))
}

// ------------------------------------------------------------ handles

impl<'c> IntoHPy<'c> for Handle<'c> {
    #[inline]
    fn into_hpy(self, _ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        Ok(self)
    }
}

impl<'c> IntoHPy<'c> for &Handle<'c> {
    #[inline]
    fn into_hpy(self, _ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        Ok(self.dup())
    }
}

impl<'c> FromHPy<'c> for Handle<'c> {
    #[inline]
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        Ok(obj.dup())
    }
}

impl<'c> FromHPyRef<'c> for Handle<'c> {
    type Holder = ();
    #[inline(always)]
    fn extract<'a>(obj: &'a Handle<'c>, _: &'a mut ()) -> HPyResult<&'a Self>
    where
        'c: 'a,
    {
        Ok(obj)
    }
}

// ------------------------------------------------------------ None, bool

impl<'c> IntoHPy<'c> for () {
    #[inline]
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        Ok(ctx.none())
    }
}

impl<'c> IntoHPy<'c> for bool {
    #[inline]
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        Ok(ctx.bool(self))
    }
}

impl<'c> FromHPy<'c> for bool {
    /// Only `True` and `False` (not any truthy object: use
    /// [`Handle::is_true`] for that).
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        let ctx = obj.context();
        if obj.is(ctx.constant(|c| c.h_True)) {
            Ok(true)
        } else if obj.is(ctx.constant(|c| c.h_False)) {
            Ok(false)
        } else {
            Err(expected("bool", obj))
        }
    }
}

// ------------------------------------------------------------ integers

/// `r` from an API call that returns `-1` (or the like) with an exception
/// set on failure.
#[inline(always)]
fn checked<T: PartialEq + Copy>(ctx: Context<'_>, r: T, error_value: T) -> HPyResult<T> {
    if r == error_value && ctx.err_occurred() {
        Err(HPyErr::pending())
    } else {
        Ok(r)
    }
}

macro_rules! int_direct {
    ($($t:ty => $from:ident($via:ty), $as_:ident;)*) => {$(
        impl<'c> IntoHPy<'c> for $t {
            #[doc = concat!("Wraps `", stringify!($from), "`.")]
            #[inline]
            fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
                // SAFETY: a live context; returns a new handle or NULL.
                let h = unsafe { raw::$from(ctx.as_ptr(), self as $via) };
                Handle::from_result(ctx, h)
            }
        }

        impl<'c> FromHPy<'c> for $t {
            #[doc = concat!("Wraps `", stringify!($as_), "`: `OverflowError` out of range, `TypeError` for a non-integer.")]
            #[inline]
            fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
                let ctx = obj.context();
                // SAFETY: a live context and an open handle.
                let r = unsafe { raw::$as_(ctx.as_ptr(), obj.raw()) };
                Ok(checked(ctx, r, !0)? as $t)
            }
        }
    )*};
}

// The error value of the AsXxx functions is `(type)-1`: `!0`, that is -1
// for signed types and MAX for unsigned ones.
int_direct! {
    i32 => ctx_Long_FromInt32_t(i32), ctx_Long_AsInt32_t;
    u32 => ctx_Long_FromUInt32_t(u32), ctx_Long_AsUInt32_t;
    i64 => ctx_Long_FromInt64_t(i64), ctx_Long_AsInt64_t;
    u64 => ctx_Long_FromUInt64_t(u64), ctx_Long_AsUInt64_t;
    isize => ctx_Long_FromSsize_t(hpy_sys::HPy_ssize_t), ctx_Long_AsSsize_t;
    usize => ctx_Long_FromSize_t(usize), ctx_Long_AsSize_t;
}

macro_rules! int_narrow {
    ($($t:ty => $wide:ty),* $(,)?) => {$(
        impl<'c> IntoHPy<'c> for $t {
            #[inline]
            fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
                (self as $wide).into_hpy(ctx)
            }
        }

        impl<'c> FromHPy<'c> for $t {
            /// `OverflowError` out of range, `TypeError` for a non-integer.
            #[inline]
            fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
                let wide = <$wide>::from_hpy(obj)?;
                <$t>::try_from(wide).map_err(|_| {
                    exc::OverflowError::new_err(format!(
                        "Python int {wide} out of range for {}",
                        stringify!($t)
                    ))
                })
            }
        }
    )*};
}

int_narrow!(i8 => i32, i16 => i32, u8 => u32, u16 => u32);

macro_rules! int_wide {
    ($($t:ty => $fits:ty),* $(,)?) => {$(
        impl<'c> IntoHPy<'c> for $t {
            fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
                if let Ok(v) = <$fits>::try_from(self) {
                    return v.into_hpy(ctx);
                }
                // int(str): HPy has no 128-bit constructor
                let int = ctx.builtin_type("int")?;
                int.call1(self.to_string())
            }
        }

        impl<'c> FromHPy<'c> for $t {
            /// `OverflowError` out of range, `TypeError` for a non-integer.
            fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
                let ctx = obj.context();
                // SAFETY: a live context and an open handle.
                let index = unsafe { raw::ctx_Index(ctx.as_ptr(), obj.raw()) };
                let index = Handle::from_result(ctx, index)?;
                let text: String = index.str()?;
                text.parse::<$t>().map_err(|_| {
                    exc::OverflowError::new_err(format!(
                        "Python int {text} out of range for {}",
                        stringify!($t)
                    ))
                })
            }
        }
    )*};
}

int_wide!(i128 => i64, u128 => u64);

// ------------------------------------------------------------ floats

impl<'c> IntoHPy<'c> for f64 {
    #[doc(alias = "HPyFloat_FromDouble")]
    #[inline]
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        // SAFETY: a live context.
        let h = unsafe { raw::ctx_Float_FromDouble(ctx.as_ptr(), self) };
        Handle::from_result(ctx, h)
    }
}

impl<'c> FromHPy<'c> for f64 {
    /// Wraps `HPyFloat_AsDouble`: a float, or anything with `__float__` or
    /// `__index__` (so ints too).
    #[doc(alias = "HPyFloat_AsDouble")]
    #[inline]
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        let ctx = obj.context();
        // SAFETY: a live context and an open handle.
        let r = unsafe { raw::ctx_Float_AsDouble(ctx.as_ptr(), obj.raw()) };
        checked(ctx, r, -1.0)
    }
}

impl<'c> IntoHPy<'c> for f32 {
    #[inline]
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        (self as f64).into_hpy(ctx)
    }
}

impl<'c> FromHPy<'c> for f32 {
    #[inline]
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        Ok(f64::from_hpy(obj)? as f32)
    }
}

// ------------------------------------------------------------ strings

impl<'c> IntoHPy<'c> for &str {
    #[doc(alias = "HPyUnicode_FromString")]
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        str_to_object(ctx, self)
    }
}

impl<'c> IntoHPy<'c> for String {
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        str_to_object(ctx, &self)
    }
}

impl<'c> IntoHPy<'c> for &String {
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        str_to_object(ctx, self)
    }
}

impl<'c> IntoHPy<'c> for std::borrow::Cow<'_, str> {
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        str_to_object(ctx, &self)
    }
}

impl<'c> IntoHPy<'c> for char {
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        let mut buf = [0u8; 4];
        str_to_object(ctx, self.encode_utf8(&mut buf))
    }
}

/// A `str` object for `s` (NUL characters included).
fn str_to_object<'c>(ctx: Context<'c>, s: &str) -> HPyResult<Handle<'c>> {
    if s.is_ascii() {
        // sized: no copy, no terminator, NULs included (most text is ASCII:
        // names, numbers, reprs)
        // SAFETY: a live context; `s` is `s.len()` bytes of ASCII; NULL
        // errors means strict (nothing to reject in ASCII).
        let h = unsafe {
            raw::ctx_Unicode_DecodeASCII(
                ctx.as_ptr(),
                s.as_ptr().cast(),
                s.len() as hpy_sys::HPy_ssize_t,
                core::ptr::null(),
            )
        };
        return Handle::from_result(ctx, h);
    }
    const STACK: usize = 120;
    if s.len() < STACK && !s.as_bytes().contains(&0) {
        let mut buf = [0u8; STACK];
        buf[..s.len()].copy_from_slice(s.as_bytes());
        // SAFETY: a live context; `buf` is NUL-terminated UTF-8.
        let h = unsafe { raw::ctx_Unicode_FromString(ctx.as_ptr(), buf.as_ptr().cast()) };
        return Handle::from_result(ctx, h);
    }
    if !s.as_bytes().contains(&0) {
        let c = CString::new(s).expect("checked for NUL");
        // SAFETY: as above.
        let h = unsafe { raw::ctx_Unicode_FromString(ctx.as_ptr(), c.as_ptr()) };
        return Handle::from_result(ctx, h);
    }
    // NULs: decode the bytes (HPy has no sized UTF-8 constructor)
    let bytes = s.as_bytes().into_hpy(ctx)?;
    // SAFETY: a live context, a bytes handle and NUL-terminated names.
    let h = unsafe {
        raw::ctx_Unicode_FromEncodedObject(
            ctx.as_ptr(),
            bytes.raw(),
            c"utf-8".as_ptr(),
            c"strict".as_ptr(),
        )
    };
    Handle::from_result(ctx, h)
}

/// The UTF-8 of a `str` object, valid while `obj` is open.
fn utf8_of<'a>(obj: &'a Handle<'_>) -> HPyResult<&'a str> {
    let ctx = obj.context();
    // SAFETY: a live context and an open handle.
    if unsafe { raw::ctx_Unicode_Check(ctx.as_ptr(), obj.raw()) } == 0 {
        return Err(expected("str", obj));
    }
    let mut size: hpy_sys::HPy_ssize_t = 0;
    // SAFETY: a live context, a str handle and a place for the size.
    let p = unsafe { raw::ctx_Unicode_AsUTF8AndSize(ctx.as_ptr(), obj.raw(), &mut size) };
    if p.is_null() {
        return Err(HPyErr::pending());
    }
    // SAFETY: `size` bytes of valid UTF-8 (lone surrogates fail above with
    // UnicodeEncodeError), owned by the object and valid while its handle
    // `obj` is open, which the lifetime 'a ties the result to.
    Ok(unsafe {
        core::str::from_utf8_unchecked(core::slice::from_raw_parts(p.cast(), size as usize))
    })
}

impl<'c> FromHPy<'c> for String {
    /// A `str` (not bytes, not any object: `TypeError`).
    #[doc(alias = "HPyUnicode_AsUTF8AndSize")]
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        utf8_of(obj).map(str::to_owned)
    }
}

impl<'c> FromHPy<'c> for char {
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        let s = utf8_of(obj)?;
        let mut it = s.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(exc::ValueError::new_err(format!(
                "expected a string of length 1, got one of length {}",
                s.chars().count()
            ))),
        }
    }
}

impl<'c> FromHPyRef<'c> for str {
    type Holder = ();
    fn extract<'a>(obj: &'a Handle<'c>, _: &'a mut ()) -> HPyResult<&'a str>
    where
        'c: 'a,
    {
        utf8_of(obj)
    }
}

// ------------------------------------------------------------ bytes

impl<'c> IntoHPy<'c> for &[u8] {
    /// A `bytes` object.
    #[doc(alias = "HPyBytes_FromStringAndSize")]
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        // SAFETY: a live context and `len` readable bytes.
        let h = unsafe {
            raw::ctx_Bytes_FromStringAndSize(ctx.as_ptr(), self.as_ptr().cast(), self.len() as _)
        };
        Handle::from_result(ctx, h)
    }
}

/// A `bytes` object (a `Vec<u8>` converts to a list of ints, like any `Vec`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl<'c> IntoHPy<'c> for Bytes {
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        self.0.as_slice().into_hpy(ctx)
    }
}

fn bytes_of<'a>(obj: &'a Handle<'_>) -> HPyResult<&'a [u8]> {
    let ctx = obj.context();
    // SAFETY: a live context and an open handle.
    if unsafe { raw::ctx_Bytes_Check(ctx.as_ptr(), obj.raw()) } == 0 {
        return Err(expected("bytes", obj));
    }
    // SAFETY: a bytes handle: its buffer and size, owned by the object and
    // valid while `obj` is open ('a).
    unsafe {
        let p = raw::ctx_Bytes_AsString(ctx.as_ptr(), obj.raw());
        let n = raw::ctx_Bytes_Size(ctx.as_ptr(), obj.raw());
        if p.is_null() || n < 0 {
            return Err(HPyErr::pending());
        }
        Ok(core::slice::from_raw_parts(p.cast(), n as usize))
    }
}

impl<'c> FromHPy<'c> for Bytes {
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        bytes_of(obj).map(|b| Bytes(b.to_vec()))
    }
}

impl<'c> FromHPyRef<'c> for [u8] {
    type Holder = ();
    #[doc(alias = "HPyBytes_AsString")]
    fn extract<'a>(obj: &'a Handle<'c>, _: &'a mut ()) -> HPyResult<&'a [u8]>
    where
        'c: 'a,
    {
        bytes_of(obj)
    }
}

// ------------------------------------------------------------ Option

impl<'c, T: IntoHPy<'c>> IntoHPy<'c> for Option<T> {
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        match self {
            Some(v) => v.into_hpy(ctx),
            None => Ok(ctx.none()),
        }
    }
}

impl<'c, T: FromHPy<'c>> FromHPy<'c> for Option<T> {
    /// `None` for `None`, else the value.
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        if obj.is_none() {
            Ok(None)
        } else {
            T::from_hpy(obj).map(Some)
        }
    }
}

// ------------------------------------------------------------ sequences

impl<'c, T: IntoHPy<'c>> IntoHPy<'c> for Vec<T> {
    /// A `list`.
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        let mut b = crate::ListBuilder::new(ctx, self.len());
        for (i, v) in self.into_iter().enumerate() {
            b.set(i, v.into_hpy(ctx)?);
        }
        b.build()
    }
}

impl<'c, T: FromHPy<'c>> FromHPy<'c> for Vec<T> {
    /// Any sequence but `str` (a `TypeError`, as in PyO3).
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        let ctx = obj.context();
        // SAFETY: a live context and an open handle.
        if unsafe { raw::ctx_Unicode_Check(ctx.as_ptr(), obj.raw()) } != 0 {
            return Err(exc::TypeError::new_err("can't extract a Vec from a str"));
        }
        let n = obj.len()?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(T::from_hpy(&obj.get_item(i)?)?);
        }
        Ok(out)
    }
}

impl<'c, T: IntoHPy<'c> + Clone> IntoHPy<'c> for &[T]
where
    T: NotU8,
{
    /// A `list` (a `&[u8]` becomes `bytes`).
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        self.to_vec().into_hpy(ctx)
    }
}

/// Element types whose slices convert to a list (all but `u8`, whose slices
/// are `bytes`).
#[doc(hidden)]
pub trait NotU8 {}
macro_rules! not_u8 { ($($t:ty),*) => { $(impl NotU8 for $t {})* } }
not_u8!(
    i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize, f32, f64, bool, char, String, &str
);
impl NotU8 for Handle<'_> {}
impl<T> NotU8 for Vec<T> {}
impl<T> NotU8 for Option<T> {}

macro_rules! tuples {
    ($($n:literal => ($($T:ident $i:tt),+);)*) => {$(
        impl<'c, $($T: IntoHPy<'c>),+> IntoHPy<'c> for ($($T,)+) {
            /// A `tuple`.
            fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
                let items = [$(self.$i.into_hpy(ctx)?),+];
                crate::tuple_from(ctx, &items)
            }
        }

        impl<'c, $($T: FromHPy<'c>),+> FromHPy<'c> for ($($T,)+) {
            /// A `tuple` of exactly this length.
            fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
                let ctx = obj.context();
                // SAFETY: a live context and an open handle.
                if unsafe { raw::ctx_Tuple_Check(ctx.as_ptr(), obj.raw()) } == 0 {
                    return Err(expected("tuple", obj));
                }
                let n = obj.len()?;
                if n != $n {
                    return Err(exc::ValueError::new_err(format!(
                        "expected a tuple of length {}, got one of length {n}", $n)));
                }
                Ok(($($T::from_hpy(&obj.get_item($i)?)?,)+))
            }
        }
    )*};
}

tuples! {
    1 => (A 0);
    2 => (A 0, B 1);
    3 => (A 0, B 1, C 2);
    4 => (A 0, B 1, C 2, D 3);
    5 => (A 0, B 1, C 2, D 3, E 4);
    6 => (A 0, B 1, C 2, D 3, E 4, F 5);
    7 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
}

// ------------------------------------------------------------ maps

fn dict_from<'c, K: IntoHPy<'c>, V: IntoHPy<'c>>(
    ctx: Context<'c>,
    items: impl Iterator<Item = (K, V)>,
) -> HPyResult<Handle<'c>> {
    let d = crate::new_dict(ctx)?;
    for (k, v) in items {
        d.set_item(k.into_hpy(ctx)?, v.into_hpy(ctx)?)?;
    }
    Ok(d)
}

fn dict_items<'c>(obj: &Handle<'c>) -> HPyResult<Vec<(Handle<'c>, Handle<'c>)>> {
    let ctx = obj.context();
    // SAFETY: a live context and an open handle.
    if unsafe { raw::ctx_Dict_Check(ctx.as_ptr(), obj.raw()) } == 0 {
        return Err(expected("dict", obj));
    }
    // SAFETY: a live context and a dict handle.
    let keys = Handle::from_result(ctx, unsafe { raw::ctx_Dict_Keys(ctx.as_ptr(), obj.raw()) })?;
    let n = keys.len()?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let k = keys.get_item(i)?;
        let v = obj.get_item(&k)?;
        out.push((k, v));
    }
    Ok(out)
}

impl<'c, K: IntoHPy<'c>, V: IntoHPy<'c>, S> IntoHPy<'c> for HashMap<K, V, S> {
    /// A `dict`.
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        dict_from(ctx, self.into_iter())
    }
}

impl<'c, K, V, S> FromHPy<'c> for HashMap<K, V, S>
where
    K: FromHPy<'c> + Eq + Hash,
    V: FromHPy<'c>,
    S: BuildHasher + Default,
{
    /// A `dict`.
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        dict_items(obj)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_hpy(&k)?, V::from_hpy(&v)?)))
            .collect()
    }
}

impl<'c, K: IntoHPy<'c>, V: IntoHPy<'c>> IntoHPy<'c> for BTreeMap<K, V> {
    /// A `dict` (in key order).
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        dict_from(ctx, self.into_iter())
    }
}

impl<'c, K: FromHPy<'c> + Ord, V: FromHPy<'c>> FromHPy<'c> for BTreeMap<K, V> {
    /// A `dict`.
    fn from_hpy(obj: &Handle<'c>) -> HPyResult<Self> {
        dict_items(obj)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_hpy(&k)?, V::from_hpy(&v)?)))
            .collect()
    }
}

impl<'c> IntoHPy<'c> for &crate::Global {
    /// The stored object (`None` if empty).
    fn into_hpy(self, ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        Ok(self.load(ctx).unwrap_or_else(|| ctx.none()))
    }
}
