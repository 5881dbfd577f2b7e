//! Objects of `#[hpy_def]` types: the Rust value lives in the object's
//! payload inside a [`Cell`], whose borrow flag makes `&self` and `&mut self`
//! methods safe when Python re-enters the same object.

use crate::context::Context;
use crate::convert::{FromHPyRef, FromHPyRefMut};
use crate::err::HPyResult;
use crate::exc;
use crate::global::Global;
use crate::handle::Handle;
use crate::raw;
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

/// What `#[hpy_def]` implements for a struct.
#[diagnostic::on_unimplemented(
    message = "`&{Self}` cannot be borrowed from a Python object",
    label = "only `#[hpy_def]` types, `str`, `[u8]` and `Handle` can be borrowed",
    note = "take `{Self}` by value, or the object as `&Handle<'_>`"
)]
pub trait HPyClass: Sized + 'static {
    /// The type's name in Python (without the module).
    const NAME: &'static str;
    #[doc(hidden)]
    fn __type_global() -> &'static Global;
}

/// The payload of an object of an `#[hpy_def]` type. `HPy_New` zero-fills
/// it, so a fresh object is unborrowed and holds no value until `init`.
#[repr(C)]
#[doc(hidden)]
pub struct Cell<T> {
    /// 0: free; n > 0: n shared borrows; -1: borrowed mutably.
    borrow: core::cell::Cell<isize>,
    init: core::cell::Cell<bool>,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T: HPyClass> Cell<T> {
    /// # Safety
    /// `payload` is the zero-filled payload of a new object of `T`'s type,
    /// not shared yet.
    unsafe fn init(payload: *mut core::ffi::c_void, value: T) {
        let cell = payload.cast::<Cell<T>>();
        // SAFETY: the payload is at least `size_of::<Cell<T>>()` bytes,
        // aligned for it (the type's basicsize; the runtime aligns payloads to
        // 16, checked by `assert_layout`), and exclusively ours (caller).
        unsafe {
            (*(*cell).value.get()).write(value);
            (*cell).init.set(true);
        }
    }

    fn value_ptr(&self) -> HPyResult<*mut T> {
        if !self.init.get() {
            return Err(exc::TypeError::new_err(format!(
                "this '{}' object was not initialised by its constructor",
                T::NAME
            )));
        }
        Ok(self.value.get().cast())
    }
}

/// Compile-time check of what the runtime guarantees a payload.
#[doc(hidden)]
pub const fn assert_layout<T>() -> usize {
    assert!(
        core::mem::align_of::<Cell<T>>() <= 16,
        "#[hpy_def] types need an alignment of 16 or less"
    );
    core::mem::size_of::<Cell<T>>()
}

/// The cell of `obj` if it is an instance of `T`'s type (or a subclass).
fn cell_if_instance<'a, T: HPyClass>(obj: &'a Handle<'_>) -> HPyResult<Option<&'a Cell<T>>> {
    let ctx = obj.context();
    let ty = type_object::<T>(ctx)?;
    if !obj.is_instance(&ty) {
        return Ok(None);
    }
    // SAFETY: a live context and an instance of T's type, whose payload is a
    // Cell<T> (the type's basicsize) living as long as the object, which
    // `obj` keeps alive for 'a.
    unsafe {
        Ok(Some(
            &*raw::ctx_AsStruct_Object(ctx.as_ptr(), obj.raw()).cast::<Cell<T>>(),
        ))
    }
}

/// The cell of `obj`; a `TypeError` if it is not an instance of `T`'s type.
fn cell_of<'a, T: HPyClass>(obj: &'a Handle<'_>) -> HPyResult<&'a Cell<T>> {
    cell_if_instance::<T>(obj)?.ok_or_else(|| {
        exc::TypeError::new_err(format!("expected '{}', got '{}'", T::NAME, obj.type_name()))
    })
}

/// A shared borrow of the value in `cell`, kept by `holder`.
fn borrow<'a, T: HPyClass>(cell: &'a Cell<T>, holder: &'a mut RefHolder<T>) -> HPyResult<&'a T> {
    let p = cell.value_ptr()?;
    let b = cell.borrow.get();
    if b < 0 {
        return Err(exc::RuntimeError::new_err(format!(
            "'{}' object is already borrowed mutably",
            T::NAME
        )));
    }
    cell.borrow.set(b + 1);
    holder.0 = Some(cell);
    // SAFETY: an initialised value, shared-borrowed through the flag until
    // `holder` drops, which outlives 'a (the caller's frame).
    Ok(unsafe { &*p })
}

/// The exclusive borrow of the value in `cell`, kept by `holder`.
fn borrow_mut<'a, T: HPyClass>(
    cell: &'a Cell<T>,
    holder: &'a mut MutHolder<T>,
) -> HPyResult<&'a mut T> {
    let p = cell.value_ptr()?;
    if cell.borrow.get() != 0 {
        return Err(exc::RuntimeError::new_err(format!(
            "'{}' object is already borrowed",
            T::NAME
        )));
    }
    cell.borrow.set(-1);
    holder.0 = Some(cell);
    // SAFETY: an initialised value, borrowed exclusively through the flag
    // until `holder` drops, which outlives 'a.
    Ok(unsafe { &mut *p })
}

/// The cell of the receiver `obj` (no type check).
///
/// # Safety
/// `obj` is an instance of `T`'s type or of a subclass of it.
unsafe fn receiver_cell<'a, T: HPyClass>(obj: &'a Handle<'_>) -> &'a Cell<T> {
    let ctx = obj.context();
    // SAFETY: a live context and an instance of T's type (caller), whose
    // payload is a Cell<T> living as long as the object, which `obj` keeps
    // alive for 'a.
    unsafe { &*raw::ctx_AsStruct_Object(ctx.as_ptr(), obj.raw()).cast::<Cell<T>>() }
}

/// `&T` out of the receiver of a method, getter, setter or slot of `T`'s
/// type: no type check, since the runtime calls those only on instances
/// (CPython's method and attribute descriptors and slot wrappers check
/// `self`, and a slot is reached through the object's own type).
///
/// # Safety
/// `obj` is an instance of `T`'s type or of a subclass of it.
#[doc(hidden)]
pub unsafe fn receiver_ref<'a, 'c: 'a, T: HPyClass>(
    obj: &'a Handle<'c>,
    holder: &'a mut RefHolder<T>,
) -> HPyResult<&'a T> {
    // SAFETY: forwarded.
    borrow(unsafe { receiver_cell::<T>(obj) }, holder)
}

/// `&mut T` out of the receiver, as [`receiver_ref`].
///
/// # Safety
/// As [`receiver_ref`].
#[doc(hidden)]
pub unsafe fn receiver_mut<'a, 'c: 'a, T: HPyClass>(
    obj: &'a Handle<'c>,
    holder: &'a mut MutHolder<T>,
) -> HPyResult<&'a mut T> {
    // SAFETY: forwarded.
    borrow_mut(unsafe { receiver_cell::<T>(obj) }, holder)
}

/// `&T` out of `obj` if it is an instance of `T`'s type, else `None` (one
/// type check: what binary operators need to choose `NotImplemented`).
#[doc(hidden)]
pub fn ref_if_instance<'a, 'c: 'a, T: HPyClass>(
    obj: &'a Handle<'c>,
    holder: &'a mut RefHolder<T>,
) -> HPyResult<Option<&'a T>> {
    match cell_if_instance::<T>(obj)? {
        Some(cell) => borrow(cell, holder).map(Some),
        None => Ok(None),
    }
}

/// `&mut T` out of `obj` if it is an instance of `T`'s type, else `None`.
#[doc(hidden)]
pub fn mut_if_instance<'a, 'c: 'a, T: HPyClass>(
    obj: &'a Handle<'c>,
    holder: &'a mut MutHolder<T>,
) -> HPyResult<Option<&'a mut T>> {
    match cell_if_instance::<T>(obj)? {
        Some(cell) => borrow_mut(cell, holder).map(Some),
        None => Ok(None),
    }
}

/// `T`'s type object (a new handle); an error before the module made it.
pub fn type_object<'c, T: HPyClass>(ctx: Context<'c>) -> HPyResult<Handle<'c>> {
    T::__type_global().load(ctx).ok_or_else(|| {
        exc::SystemError::new_err(format!(
            "type '{}' not created yet: list it in #[hpy_module]",
            T::NAME
        ))
    })
}

impl Handle<'_> {
    /// True if this object is of `T`'s type (or a subclass).
    pub fn is_instance_of<T: HPyClass>(&self) -> bool {
        crate::__private::is_instance_of::<T>(self)
    }
}

/// A new object of `T`'s type holding `value`.
pub fn new_object<'c, T: HPyClass>(ctx: Context<'c>, value: T) -> HPyResult<Handle<'c>> {
    let ty = type_object::<T>(ctx)?;
    new_object_of(&ty, value)
}

/// A new object of type `ty` (`T`'s type or a subclass) holding `value`.
#[doc(alias = "HPy_New")]
pub fn new_object_of<'c, T: HPyClass>(ty: &Handle<'c>, value: T) -> HPyResult<Handle<'c>> {
    let ctx = ty.context();
    let mut payload: *mut core::ffi::c_void = core::ptr::null_mut();
    // SAFETY: a live context and a type handle; HPy_New fills `payload`.
    let h = unsafe { raw::ctx_New(ctx.as_ptr(), ty.raw(), &mut payload) };
    let obj = Handle::from_result(ctx, h)?;
    // SAFETY: the payload of a brand-new object of T's type (or of a
    // subclass, whose payload starts with T's), zero-filled by HPy_New.
    unsafe { Cell::<T>::init(payload, value) };
    Ok(obj)
}

/// Keeps a shared borrow of an object's value until dropped.
#[doc(hidden)]
pub struct RefHolder<T>(Option<*const Cell<T>>);

impl<T> Default for RefHolder<T> {
    fn default() -> Self {
        RefHolder(None)
    }
}

impl<T> Drop for RefHolder<T> {
    fn drop(&mut self) {
        if let Some(c) = self.0 {
            // SAFETY: the cell outlives the holder (the handle it came from
            // is kept open by the caller for longer).
            let c = unsafe { &*c };
            c.borrow.set(c.borrow.get() - 1);
        }
    }
}

/// Keeps the exclusive borrow of an object's value until dropped.
#[doc(hidden)]
pub struct MutHolder<T>(Option<*const Cell<T>>);

impl<T> Default for MutHolder<T> {
    fn default() -> Self {
        MutHolder(None)
    }
}

impl<T> Drop for MutHolder<T> {
    fn drop(&mut self) {
        if let Some(c) = self.0 {
            // SAFETY: as for RefHolder.
            unsafe { &*c }.borrow.set(0);
        }
    }
}

impl<'c, T: HPyClass> FromHPyRef<'c> for T {
    type Holder = RefHolder<T>;
    fn extract<'a>(obj: &'a Handle<'c>, holder: &'a mut RefHolder<T>) -> HPyResult<&'a T>
    where
        'c: 'a,
    {
        borrow(cell_of::<T>(obj)?, holder)
    }
}

impl<'c, T: HPyClass> FromHPyRefMut<'c> for T {
    type Holder = MutHolder<T>;
    fn extract_mut<'a>(obj: &'a Handle<'c>, holder: &'a mut MutHolder<T>) -> HPyResult<&'a mut T>
    where
        'c: 'a,
    {
        borrow_mut(cell_of::<T>(obj)?, holder)
    }
}

/// `HPy_tp_destroy` of `T`: drops the value (never calls the API).
///
/// # Safety
/// `payload` is the payload of a dying object of `T`'s type.
#[doc(hidden)]
pub unsafe extern "C" fn destroy<T: HPyClass>(payload: *mut core::ffi::c_void) {
    let cell = payload.cast::<Cell<T>>();
    // SAFETY: the payload of a dying object: nothing else uses it now.
    unsafe {
        if (*cell).init.get() {
            (*cell).init.set(false);
            let value = (*cell).value.get().cast::<T>();
            // A panicking Drop must not unwind into C: report and go on.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                core::ptr::drop_in_place(value)
            }))
            .is_err()
            {
                eprintln!("hpy-core: a panic in Drop of '{}' was ignored", T::NAME);
            }
        }
    }
}

/// The fields `tp_traverse` visits: implemented by `#[hpy_def]` for each
/// struct, as the offsets (`offset_of!`) of its [`Field`](crate::Field)s.
#[doc(hidden)]
pub trait Traverse {
    const FIELDS: &'static [usize];
}

/// `HPy_tp_traverse` of `T`: reports every `Field` of the value.
///
/// # Safety
/// `payload` is the payload of an object of `T`'s type; called by the
/// runtime with its visitor.
#[doc(hidden)]
pub unsafe extern "C" fn traverse<T: HPyClass + Traverse>(
    payload: *mut core::ffi::c_void,
    visit: hpy_sys::HPyFunc_visitproc,
    arg: *mut core::ffi::c_void,
) -> core::ffi::c_int {
    let Some(visit) = visit else { return 0 };
    let cell = payload.cast::<Cell<T>>();
    // SAFETY: a payload of T's type. The fields are reached by address
    // (offsets within T, where `Field` is a transparent `HPyField`), never
    // through a reference, so a method holding `&mut self` meanwhile (the GC
    // may run inside it) is not aliased.
    unsafe {
        if !(*cell).init.get() {
            return 0;
        }
        let base = (*cell).value.get().cast::<u8>();
        for &off in T::FIELDS {
            let f = base.add(off).cast::<hpy_sys::HPyField>();
            if (*f)._i != 0 {
                let r = visit(f, arg);
                if r != 0 {
                    return r;
                }
            }
        }
    }
    0
}
