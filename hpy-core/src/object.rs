//! The object protocol on `Handle`: identity, attributes, items, length,
//! calls, comparison, hashing, `repr`/`str`, type checks and iteration.

use crate::context::Context;
use crate::convert::{cstring, FromHPy, IntoHPy};
use crate::err::{HPyErr, HPyResult};
use crate::handle::Handle;
use crate::raw;
use hpy_sys::HPy;

/// A rich comparison operator (`HPy_RichCmpOp`), as `__richcmp__` receives
/// it and [`Handle::compare`] takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum CompareOp {
    Lt = 0,
    Le = 1,
    Eq = 2,
    Ne = 3,
    Gt = 4,
    Ge = 5,
}

impl CompareOp {
    /// From the C value; `None` out of range.
    pub fn from_raw(op: i32) -> Option<CompareOp> {
        Some(match op {
            0 => CompareOp::Lt,
            1 => CompareOp::Le,
            2 => CompareOp::Eq,
            3 => CompareOp::Ne,
            4 => CompareOp::Gt,
            5 => CompareOp::Ge,
            _ => return None,
        })
    }

    /// Applies the operator to an ordering.
    pub fn matches(self, ord: core::cmp::Ordering) -> bool {
        use core::cmp::Ordering::*;
        match self {
            CompareOp::Lt => ord == Less,
            CompareOp::Le => ord != Greater,
            CompareOp::Eq => ord == Equal,
            CompareOp::Ne => ord != Equal,
            CompareOp::Gt => ord == Greater,
            CompareOp::Ge => ord != Less,
        }
    }
}

/// What indexes a container in [`Handle::get_item`] and friends: an integer
/// index (`HPy_GetItem_i`), a `&str` key (`HPy_GetItem_s`) or any object.
pub trait ItemKey<'c> {
    #[doc(hidden)]
    fn get(self, obj: &Handle<'c>) -> HPyResult<Handle<'c>>;
    #[doc(hidden)]
    fn set(self, obj: &Handle<'c>, value: HPy) -> HPyResult<()>;
    #[doc(hidden)]
    fn del(self, obj: &Handle<'c>) -> HPyResult<()>;
}

fn status(r: core::ffi::c_int) -> HPyResult<()> {
    if r < 0 {
        Err(HPyErr::pending())
    } else {
        Ok(())
    }
}

fn ssize<T: TryInto<hpy_sys::HPy_ssize_t>>(i: T) -> HPyResult<hpy_sys::HPy_ssize_t> {
    i.try_into()
        .map_err(|_| crate::exc::IndexError::new_err("index out of range for Py_ssize_t"))
}

macro_rules! int_keys {
    ($($t:ty),*) => {$(
        impl<'c> ItemKey<'c> for $t {
            #[inline]
            fn get(self, obj: &Handle<'c>) -> HPyResult<Handle<'c>> {
                let ctx = obj.context();
                // SAFETY: a live context and an open handle.
                let h = unsafe { raw::ctx_GetItem_i(ctx.as_ptr(), obj.raw(), ssize(self)?) };
                Handle::from_result(ctx, h)
            }
            fn set(self, obj: &Handle<'c>, value: HPy) -> HPyResult<()> {
                let ctx = obj.context();
                // SAFETY: a live context and open handles.
                status(unsafe { raw::ctx_SetItem_i(ctx.as_ptr(), obj.raw(), ssize(self)?, value) })
            }
            fn del(self, obj: &Handle<'c>) -> HPyResult<()> {
                let ctx = obj.context();
                // SAFETY: a live context and an open handle.
                status(unsafe { raw::ctx_DelItem_i(ctx.as_ptr(), obj.raw(), ssize(self)?) })
            }
        }
    )*};
}

int_keys!(usize, isize, i32, i64, u32, u64);

impl<'c> ItemKey<'c> for &str {
    fn get(self, obj: &Handle<'c>) -> HPyResult<Handle<'c>> {
        let ctx = obj.context();
        let k = cstring(self)?;
        // SAFETY: a live context, an open handle and a NUL-terminated key.
        let h = unsafe { raw::ctx_GetItem_s(ctx.as_ptr(), obj.raw(), k.as_ptr()) };
        Handle::from_result(ctx, h)
    }
    fn set(self, obj: &Handle<'c>, value: HPy) -> HPyResult<()> {
        let ctx = obj.context();
        let k = cstring(self)?;
        // SAFETY: as above.
        status(unsafe { raw::ctx_SetItem_s(ctx.as_ptr(), obj.raw(), k.as_ptr(), value) })
    }
    fn del(self, obj: &Handle<'c>) -> HPyResult<()> {
        let ctx = obj.context();
        let k = cstring(self)?;
        // SAFETY: as above.
        status(unsafe { raw::ctx_DelItem_s(ctx.as_ptr(), obj.raw(), k.as_ptr()) })
    }
}

impl<'c> ItemKey<'c> for &Handle<'c> {
    fn get(self, obj: &Handle<'c>) -> HPyResult<Handle<'c>> {
        let ctx = obj.context();
        // SAFETY: a live context and open handles.
        let h = unsafe { raw::ctx_GetItem(ctx.as_ptr(), obj.raw(), self.raw()) };
        Handle::from_result(ctx, h)
    }
    fn set(self, obj: &Handle<'c>, value: HPy) -> HPyResult<()> {
        let ctx = obj.context();
        // SAFETY: a live context and open handles.
        status(unsafe { raw::ctx_SetItem(ctx.as_ptr(), obj.raw(), self.raw(), value) })
    }
    fn del(self, obj: &Handle<'c>) -> HPyResult<()> {
        let ctx = obj.context();
        // SAFETY: a live context and open handles.
        status(unsafe { raw::ctx_DelItem(ctx.as_ptr(), obj.raw(), self.raw()) })
    }
}

impl<'c> ItemKey<'c> for Handle<'c> {
    fn get(self, obj: &Handle<'c>) -> HPyResult<Handle<'c>> {
        (&self).get(obj)
    }
    fn set(self, obj: &Handle<'c>, value: HPy) -> HPyResult<()> {
        (&self).set(obj, value)
    }
    fn del(self, obj: &Handle<'c>) -> HPyResult<()> {
        (&self).del(obj)
    }
}

/// Positional arguments of a call: a tuple of values that convert, or a
/// slice of handles.
pub trait CallArgs<'c> {
    #[doc(hidden)]
    fn with_handles<R>(self, ctx: Context<'c>, f: impl FnOnce(&[HPy]) -> R) -> HPyResult<R>;
}

impl<'c> CallArgs<'c> for () {
    fn with_handles<R>(self, _ctx: Context<'c>, f: impl FnOnce(&[HPy]) -> R) -> HPyResult<R> {
        Ok(f(&[]))
    }
}

impl<'c> CallArgs<'c> for &[Handle<'c>] {
    fn with_handles<R>(self, _ctx: Context<'c>, f: impl FnOnce(&[HPy]) -> R) -> HPyResult<R> {
        let raw: Vec<HPy> = self.iter().map(Handle::raw).collect();
        Ok(f(&raw))
    }
}

macro_rules! call_args {
    ($(($($T:ident $i:tt),+);)*) => {$(
        impl<'c, $($T: IntoHPy<'c>),+> CallArgs<'c> for ($($T,)+) {
            fn with_handles<R>(self, ctx: Context<'c>, f: impl FnOnce(&[HPy]) -> R) -> HPyResult<R> {
                let owned = [$(self.$i.into_hpy(ctx)?),+];
                let raw = [$(owned[$i].raw()),+];
                Ok(f(&raw))
            }
        }
    )*};
}

call_args! {
    (A 0);
    (A 0, B 1);
    (A 0, B 1, C 2);
    (A 0, B 1, C 2, D 3);
    (A 0, B 1, C 2, D 3, E 4);
    (A 0, B 1, C 2, D 3, E 4, F 5);
}

impl<'c> Handle<'c> {
    /// `self is other`, for a raw handle (e.g. a constant).
    #[inline]
    pub(crate) fn is(&self, other: HPy) -> bool {
        let ctx = self.context();
        // SAFETY: a live context and valid handles.
        unsafe { raw::ctx_Is(ctx.as_ptr(), self.raw(), other) != 0 }
    }

    /// `self is other`.
    #[doc(alias = "HPy_Is")]
    pub fn is_same(&self, other: &Handle<'_>) -> bool {
        self.is(other.raw())
    }

    /// `self is None`.
    pub fn is_none(&self) -> bool {
        self.is(self.context().constant(|c| c.h_None))
    }

    /// `bool(self)`.
    #[doc(alias = "HPy_IsTrue")]
    pub fn is_true(&self) -> HPyResult<bool> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        let r = unsafe { raw::ctx_IsTrue(ctx.as_ptr(), self.raw()) };
        status(r).map(|()| r != 0)
    }

    /// `type(self)`.
    #[doc(alias = "HPy_Type")]
    pub fn get_type(&self) -> Handle<'c> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle; never fails.
        unsafe { Handle::from_raw_unchecked(ctx, raw::ctx_Type(ctx.as_ptr(), self.raw())) }
    }

    /// The name of `type(self)` (`'int'`, `'Vec2'`, ...).
    pub fn type_name(&self) -> String {
        crate::convert::type_name(self)
    }

    /// `isinstance(self, ty)`, for a type object `ty`.
    #[doc(alias = "HPy_TypeCheck")]
    pub fn is_instance(&self, ty: &Handle<'_>) -> bool {
        let ctx = self.context();
        // SAFETY: a live context, an open handle and a type handle.
        unsafe { raw::ctx_TypeCheck(ctx.as_ptr(), self.raw(), ty.raw()) != 0 }
    }

    /// `callable(self)`.
    #[doc(alias = "HPyCallable_Check")]
    pub fn is_callable(&self) -> bool {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        unsafe { raw::ctx_Callable_Check(ctx.as_ptr(), self.raw()) != 0 }
    }

    /// `len(self)`.
    #[doc(alias = "HPy_Length")]
    pub fn len(&self) -> HPyResult<usize> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        let n = unsafe { raw::ctx_Length(ctx.as_ptr(), self.raw()) };
        if n < 0 {
            Err(HPyErr::pending())
        } else {
            Ok(n as usize)
        }
    }

    /// `len(self) == 0`.
    pub fn is_empty(&self) -> HPyResult<bool> {
        Ok(self.len()? == 0)
    }

    /// `self[key]`: an integer index, a `&str` key or any object.
    #[doc(alias = "HPy_GetItem")]
    #[doc(alias = "HPy_GetItem_i")]
    #[doc(alias = "HPy_GetItem_s")]
    #[inline]
    pub fn get_item(&self, key: impl ItemKey<'c>) -> HPyResult<Handle<'c>> {
        key.get(self)
    }

    /// `self[key] = value`.
    #[doc(alias = "HPy_SetItem")]
    #[doc(alias = "HPy_SetItem_i")]
    #[doc(alias = "HPy_SetItem_s")]
    pub fn set_item(&self, key: impl ItemKey<'c>, value: impl IntoHPy<'c>) -> HPyResult<()> {
        let v = value.into_hpy(self.context())?;
        key.set(self, v.raw())
    }

    /// `del self[key]`.
    #[doc(alias = "HPy_DelItem")]
    #[doc(alias = "HPy_DelItem_i")]
    #[doc(alias = "HPy_DelItem_s")]
    pub fn del_item(&self, key: impl ItemKey<'c>) -> HPyResult<()> {
        key.del(self)
    }

    /// `value in self`.
    #[doc(alias = "HPy_Contains")]
    pub fn contains(&self, value: impl IntoHPy<'c>) -> HPyResult<bool> {
        let ctx = self.context();
        let v = value.into_hpy(ctx)?;
        // SAFETY: a live context and open handles.
        let r = unsafe { raw::ctx_Contains(ctx.as_ptr(), self.raw(), v.raw()) };
        status(r).map(|()| r != 0)
    }

    /// `self.name`.
    #[doc(alias = "HPy_GetAttr_s")]
    pub fn getattr(&self, name: &str) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        let n = cstring(name)?;
        // SAFETY: a live context, an open handle and a NUL-terminated name.
        let h = unsafe { raw::ctx_GetAttr_s(ctx.as_ptr(), self.raw(), n.as_ptr()) };
        Handle::from_result(ctx, h)
    }

    /// `getattr(self, name)` with a `str` object as the name.
    #[doc(alias = "HPy_GetAttr")]
    pub fn getattr_obj(&self, name: &Handle<'_>) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        // SAFETY: a live context and open handles.
        let h = unsafe { raw::ctx_GetAttr(ctx.as_ptr(), self.raw(), name.raw()) };
        Handle::from_result(ctx, h)
    }

    /// `self.name = value`.
    #[doc(alias = "HPy_SetAttr_s")]
    pub fn setattr(&self, name: &str, value: impl IntoHPy<'c>) -> HPyResult<()> {
        let ctx = self.context();
        let n = cstring(name)?;
        let v = value.into_hpy(ctx)?;
        // SAFETY: a live context, open handles and a NUL-terminated name.
        status(unsafe { raw::ctx_SetAttr_s(ctx.as_ptr(), self.raw(), n.as_ptr(), v.raw()) })
    }

    /// `del self.name`.
    pub fn delattr(&self, name: &str) -> HPyResult<()> {
        let ctx = self.context();
        let n = cstring(name)?;
        // SAFETY: a live context, an open handle, a NUL-terminated name and
        // HPy_NULL as the value, which deletes.
        status(unsafe { raw::ctx_SetAttr_s(ctx.as_ptr(), self.raw(), n.as_ptr(), HPy { _i: 0 }) })
    }

    /// `hasattr(self, name)`.
    #[doc(alias = "HPy_HasAttr_s")]
    pub fn hasattr(&self, name: &str) -> HPyResult<bool> {
        let ctx = self.context();
        let n = cstring(name)?;
        // SAFETY: a live context, an open handle and a NUL-terminated name.
        Ok(unsafe { raw::ctx_HasAttr_s(ctx.as_ptr(), self.raw(), n.as_ptr()) } != 0)
    }

    /// `self(*args)`: `args` is a tuple of convertible values or a slice of
    /// handles.
    #[doc(alias = "HPy_Call")]
    pub fn call(&self, args: impl CallArgs<'c>) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        let h = args.with_handles(ctx, |a| {
            // SAFETY: a live context, a callable handle and `a.len()` open
            // argument handles; no keywords.
            unsafe { raw::ctx_Call(ctx.as_ptr(), self.raw(), a.as_ptr(), a.len(), HPy { _i: 0 }) }
        })?;
        Handle::from_result(ctx, h)
    }

    /// `self()`.
    pub fn call0(&self) -> HPyResult<Handle<'c>> {
        self.call(())
    }

    /// `self(arg)`.
    pub fn call1(&self, arg: impl IntoHPy<'c>) -> HPyResult<Handle<'c>> {
        self.call((arg,))
    }

    /// `self(*args, **kwargs)` with a tuple and a dict (or `None`).
    #[doc(alias = "HPy_CallTupleDict")]
    pub fn call_tuple_dict(
        &self,
        args: &Handle<'c>,
        kwargs: Option<&Handle<'c>>,
    ) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        let kw = kwargs.map_or(HPy { _i: 0 }, Handle::raw);
        // SAFETY: a live context and open handles (or NULL for no keywords).
        let h = unsafe { raw::ctx_CallTupleDict(ctx.as_ptr(), self.raw(), args.raw(), kw) };
        Handle::from_result(ctx, h)
    }

    /// `self.name(*args)`.
    #[doc(alias = "HPy_CallMethod")]
    pub fn call_method(&self, name: &str, args: impl CallArgs<'c>) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        let n = name.into_hpy(ctx)?;
        let h = args.with_handles(ctx, |a| {
            let mut all = Vec::with_capacity(a.len() + 1);
            all.push(self.raw());
            all.extend_from_slice(a);
            // SAFETY: a live context, a str name and the receiver followed
            // by the open argument handles.
            unsafe {
                raw::ctx_CallMethod(
                    ctx.as_ptr(),
                    n.raw(),
                    all.as_ptr(),
                    all.len(),
                    HPy { _i: 0 },
                )
            }
        })?;
        Handle::from_result(ctx, h)
    }

    /// `repr(self)` as an object.
    #[doc(alias = "HPy_Repr")]
    pub fn repr(&self) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        Handle::from_result(ctx, unsafe { raw::ctx_Repr(ctx.as_ptr(), self.raw()) })
    }

    /// `repr(self)` as a Rust string.
    pub fn repr_string(&self) -> HPyResult<String> {
        String::from_hpy(&self.repr()?)
    }

    /// `str(self)` as a Rust string.
    #[doc(alias = "HPy_Str")]
    pub fn str(&self) -> HPyResult<String> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        let s = Handle::from_result(ctx, unsafe { raw::ctx_Str(ctx.as_ptr(), self.raw()) })?;
        String::from_hpy(&s)
    }

    /// `ascii(self)` as an object.
    #[doc(alias = "HPy_ASCII")]
    pub fn ascii(&self) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        Handle::from_result(ctx, unsafe { raw::ctx_ASCII(ctx.as_ptr(), self.raw()) })
    }

    /// `hash(self)`.
    #[doc(alias = "HPy_Hash")]
    pub fn hash(&self) -> HPyResult<isize> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        let h = unsafe { raw::ctx_Hash(ctx.as_ptr(), self.raw()) };
        if h == -1 && ctx.err_occurred() {
            Err(HPyErr::pending())
        } else {
            Ok(h as isize)
        }
    }

    /// `self <op> other` as an object.
    #[doc(alias = "HPy_RichCompare")]
    pub fn compare(&self, other: impl IntoHPy<'c>, op: CompareOp) -> HPyResult<Handle<'c>> {
        let ctx = self.context();
        let o = other.into_hpy(ctx)?;
        // SAFETY: a live context, open handles and a valid operator.
        Handle::from_result(ctx, unsafe {
            raw::ctx_RichCompare(ctx.as_ptr(), self.raw(), o.raw(), op as i32)
        })
    }

    /// `self <op> other` as a `bool`.
    #[doc(alias = "HPy_RichCompareBool")]
    pub fn compare_bool(&self, other: impl IntoHPy<'c>, op: CompareOp) -> HPyResult<bool> {
        let ctx = self.context();
        let o = other.into_hpy(ctx)?;
        // SAFETY: a live context, open handles and a valid operator.
        let r = unsafe { raw::ctx_RichCompareBool(ctx.as_ptr(), self.raw(), o.raw(), op as i32) };
        status(r).map(|()| r != 0)
    }

    /// `self == other`.
    pub fn eq(&self, other: impl IntoHPy<'c>) -> HPyResult<bool> {
        self.compare_bool(other, CompareOp::Eq)
    }

    /// `iter(self)`.
    #[doc(alias = "HPy_GetIter")]
    pub fn iter(&self) -> HPyResult<Iter<'c>> {
        let ctx = self.context();
        // SAFETY: a live context and an open handle.
        let it = Handle::from_result(ctx, unsafe { raw::ctx_GetIter(ctx.as_ptr(), self.raw()) })?;
        Ok(Iter { it })
    }
}

/// A Python iterator as a Rust one: each item is `HPyResult<Handle>`.
pub struct Iter<'c> {
    it: Handle<'c>,
}

impl<'c> Iterator for Iter<'c> {
    type Item = HPyResult<Handle<'c>>;

    #[doc(alias = "HPyIter_Next")]
    fn next(&mut self) -> Option<Self::Item> {
        let ctx = self.it.context();
        // SAFETY: a live context and an iterator handle.
        let h = unsafe { raw::ctx_Iter_Next(ctx.as_ptr(), self.it.raw()) };
        if h._i != 0 {
            // SAFETY: a new handle.
            Some(Ok(unsafe { Handle::from_raw_unchecked(ctx, h) }))
        } else if ctx.err_occurred() {
            Some(Err(HPyErr::pending()))
        } else {
            None
        }
    }
}
