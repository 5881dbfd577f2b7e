//! What the code `#[hpy_def]` and `#[hpy_module]` generate calls: entry
//! points that catch panics and raise errors, return-value and argument
//! conversion, argument parsing, and the tables that become `HPyDef`s,
//! types and modules. Not a public API: it changes with the macros.

pub use crate::class::{
    assert_layout, destroy, mut_if_instance, new_object_of, receiver_mut, receiver_ref,
    ref_if_instance, traverse, Cell, HPyClass, Traverse,
};
pub use crate::err::ExcRef;
pub use crate::hand::{destroy_slot, traverse_slot};
pub use crate::handle::Borrowed;
pub use crate::module::{
    module_exec, module_init, ExceptionDef, ModuleDef, ModuleDefBox, ModuleItem, SyncDef, TypeDef,
    TypeSpec,
};
pub use crate::parse::{check_nargs, FnDesc, Parsed};
pub use hpy_sys as sys;

use crate::context::Context;
use crate::convert::IntoHPy;
use crate::err::{HPyErr, HPyResult};
use crate::exc;
use hpy_sys::{HPy, HPyContext};

/// Runs the body of an entry point (an impl called by the runtime): an
/// `Err` is raised and a panic becomes a `SystemError`, and in both cases
/// the signature's error value is returned. Nothing unwinds into C.
/// `cx` is the context the runtime passed to the implementation
/// (`Context::from_raw` of it). The body gets it under a lifetime of its own
/// (`for<'c>`), so nothing it makes can outlive the call.
#[inline(always)]
pub fn entry<R>(
    cx: Context<'_>,
    error: R,
    body: impl for<'c> FnOnce(Context<'c>) -> HPyResult<R>,
) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(cx))) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            e.restore(cx);
            error
        }
        Err(payload) => {
            let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "(a non-string panic payload)".to_string()
            };
            // the exception raised by a panicking error's restore, if any, is
            // replaced: this one says what happened
            exc::SystemError::new_err(format!("Rust panic: {msg}")).restore(cx);
            error
        }
    }
}

/// `HPy_NULL`.
pub const NULL: HPy = HPy { _i: 0 };

/// Takes what a user function returned — a value or a `Result` — as a
/// `Result` (`Wrap(v).into_result()`, with [`WrapOk`] in scope: the
/// inherent method wins for `Result`s).
pub struct Wrap<T>(pub T);

impl<T, E: Into<HPyErr>> Wrap<Result<T, E>> {
    #[inline(always)]
    pub fn into_result(self) -> HPyResult<T> {
        self.0.map_err(Into::into)
    }
}

/// See [`Wrap`].
pub trait WrapOk<T> {
    fn into_result(self) -> HPyResult<T>;
}

impl<T> WrapOk<T> for Wrap<T> {
    #[inline(always)]
    fn into_result(self) -> HPyResult<T> {
        Ok(self.0)
    }
}

/// A returned value as a new raw handle (the runtime takes ownership).
#[inline(always)]
pub fn ret_obj<'c, T: IntoHPy<'c>>(ctx: Context<'c>, v: T) -> HPyResult<HPy> {
    Ok(v.into_hpy(ctx)?.into_raw())
}

/// `__len__`'s result.
#[inline(always)]
pub fn ret_len(n: usize) -> HPyResult<hpy_sys::HPy_ssize_t> {
    hpy_sys::HPy_ssize_t::try_from(n)
        .map_err(|_| exc::OverflowError::new_err("__len__ result does not fit in Py_ssize_t"))
}

/// `__hash__`'s result: any integer; -1 (the error value) becomes -2, as
/// in CPython.
#[inline(always)]
pub fn ret_hash<T: TryInto<i64>>(h: T) -> HPyResult<hpy_sys::HPy_hash_t> {
    let h: i64 = h
        .try_into()
        .map_err(|_| exc::OverflowError::new_err("__hash__ result does not fit in 64 bits"))?;
    Ok(if h == -1 {
        -2
    } else {
        h as hpy_sys::HPy_hash_t
    })
}

/// A predicate's result (`__bool__`, `__contains__`).
#[inline(always)]
pub fn ret_bool(b: bool) -> HPyResult<core::ffi::c_int> {
    Ok(b as core::ffi::c_int)
}

/// A status result (`__setitem__`, setters, `__init__`).
#[inline(always)]
pub fn ret_unit(_: ()) -> HPyResult<core::ffi::c_int> {
    Ok(0)
}

/// `__next__`'s result: `None` ends the iteration (NULL without an
/// exception).
#[inline(always)]
pub fn ret_next<'c, T: IntoHPy<'c>>(ctx: Context<'c>, v: Option<T>) -> HPyResult<HPy> {
    match v {
        Some(v) => ret_obj(ctx, v),
        None => Ok(NULL),
    }
}

/// A borrowed argument handle.
///
/// # Safety
/// `h` is open for the whole call (the runtime's argument).
#[inline(always)]
pub unsafe fn arg<'c>(ctx: Context<'c>, h: HPy) -> Borrowed<'c> {
    // SAFETY: forwarded.
    unsafe { Borrowed::new(ctx, h) }
}

/// The handles of an argument array (`args[0..n]`), borrowed for the call.
///
/// # Safety
/// `args` points to `n` handles open for the whole call (or `n` is 0).
#[inline(always)]
pub unsafe fn arg_slice<'a>(args: *const HPy, n: usize) -> &'a [HPy] {
    if n == 0 {
        &[]
    } else {
        // SAFETY: forwarded.
        unsafe { core::slice::from_raw_parts(args, n) }
    }
}

/// A binary operator's operands that are not both what the method takes
/// give `NotImplemented`, so Python tries the reflected operation.
#[inline(always)]
pub fn not_implemented<'c>(ctx: Context<'c>) -> HPyResult<HPy> {
    Ok(ctx.not_implemented().into_raw())
}

/// The comparison operator of `tp_richcompare`.
#[inline(always)]
pub fn compare_op(op: hpy_sys::HPy_RichCmpOp) -> HPyResult<crate::CompareOp> {
    crate::CompareOp::from_raw(op as i32)
        .ok_or_else(|| exc::SystemError::new_err(format!("invalid comparison operator {op}")))
}

/// The trampolines' context in the universal ABI: what the loader handed
/// to `HPyInitGlobalContext_<name>`.
#[cfg(not(feature = "cpython-abi"))]
static TRAMPOLINE_CTX: core::sync::atomic::AtomicPtr<HPyContext> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// `HPyInitGlobalContext_<name>`'s body.
pub fn set_trampoline_context(ctx: *mut HPyContext) {
    #[cfg(not(feature = "cpython-abi"))]
    TRAMPOLINE_CTX.store(ctx, core::sync::atomic::Ordering::Relaxed);
    #[cfg(feature = "cpython-abi")]
    let _ = ctx;
}

/// The context trampolines hand to the runtime.
#[inline(always)]
pub fn trampoline_context() -> *mut HPyContext {
    #[cfg(not(feature = "cpython-abi"))]
    return TRAMPOLINE_CTX.load(core::sync::atomic::Ordering::Relaxed);
    #[cfg(feature = "cpython-abi")]
    return crate::cpython::context();
}

/// `HPY_ABI_VERSION` and `HPY_ABI_VERSION_MINOR` (HPy 0.9).
pub const ABI_VERSION: u32 = 0;
pub const ABI_VERSION_MINOR: u32 = 0;

/// An argument handle that may be absent (`HPy_NULL`: not given).
///
/// # Safety
/// `h` is NULL or open for the whole call.
#[inline(always)]
pub unsafe fn opt_arg<'c>(ctx: Context<'c>, h: HPy) -> Option<Borrowed<'c>> {
    if h._i == 0 {
        None
    } else {
        // SAFETY: forwarded.
        Some(unsafe { Borrowed::new(ctx, h) })
    }
}

/// The `nargs` positional and `len(kwnames)` keyword argument handles of a
/// KEYWORDS call, as one slice.
///
/// # Safety
/// The call's `args`, `nargs` and `kwnames` (a tuple or NULL).
#[inline]
pub unsafe fn fastcall_args<'a>(
    ctx: Context<'_>,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPyResult<&'a [HPy]> {
    let nkw = if kwnames._i == 0 {
        0
    } else {
        // SAFETY: a live context and the call's kwnames tuple.
        let n = unsafe { crate::raw::ctx_Length(ctx.as_ptr(), kwnames) };
        if n < 0 {
            return Err(HPyErr::pending());
        }
        n as usize
    };
    // SAFETY: forwarded: the call passes that many handles.
    Ok(unsafe { arg_slice(args, nargs + nkw) })
}

/// One argument by value.
#[inline(always)]
pub fn extract<'c, T: crate::FromHPy<'c>>(h: &crate::Handle<'c>, name: &str) -> HPyResult<T> {
    T::from_hpy(h).map_err(|e| e.for_argument(name))
}

/// One argument by reference.
#[inline(always)]
pub fn extract_ref<'a, 'c: 'a, T: crate::FromHPyRef<'c> + ?Sized>(
    h: &'a crate::Handle<'c>,
    holder: &'a mut T::Holder,
    name: &str,
) -> HPyResult<&'a T> {
    T::extract(h, holder).map_err(|e| e.for_argument(name))
}

/// One argument by mutable reference.
#[inline(always)]
pub fn extract_mut<'a, 'c: 'a, T: crate::FromHPyRefMut<'c> + ?Sized>(
    h: &'a crate::Handle<'c>,
    holder: &'a mut T::Holder,
    name: &str,
) -> HPyResult<&'a mut T> {
    T::extract_mut(h, holder).map_err(|e| e.for_argument(name))
}

/// `*args` as a `Vec`.
pub fn extract_varargs<'c, T: crate::FromHPy<'c>>(
    ctx: Context<'c>,
    items: &[HPy],
    name: &str,
) -> HPyResult<Vec<T>> {
    items
        .iter()
        .map(|&h| {
            // SAFETY: the call's argument handles, open for the call.
            let b = unsafe { Borrowed::new(ctx, h) };
            T::from_hpy(&b).map_err(|e| e.for_argument(name))
        })
        .collect()
}

/// `**kwargs` (an empty dict when no keyword was left over).
pub fn extract_varkw<'c, T: crate::FromHPy<'c>>(
    ctx: Context<'c>,
    d: Option<crate::Handle<'c>>,
    name: &str,
) -> HPyResult<T> {
    let d = match d {
        Some(d) => d,
        None => crate::new_dict(ctx)?,
    };
    T::from_hpy(&d).map_err(|e| e.for_argument(name))
}

/// True if `h` is an instance of `T`'s type.
#[inline]
pub fn is_instance_of<T: crate::HPyClass>(h: &crate::Handle<'_>) -> bool {
    match crate::type_object::<T>(h.context()) {
        Ok(ty) => h.is_instance(&ty),
        Err(e) => {
            e.clear(h.context());
            false
        }
    }
}

/// An operand by value, or `None` (error cleared) if it does not convert:
/// binary operators then return `NotImplemented`.
#[inline]
pub fn try_extract<'c, T: crate::FromHPy<'c>>(h: &crate::Handle<'c>) -> Option<T> {
    match T::from_hpy(h) {
        Ok(v) => Some(v),
        Err(e) => {
            e.clear(h.context());
            None
        }
    }
}

/// An operand by reference, or `None` (error cleared).
#[inline]
pub fn try_extract_ref<'a, 'c: 'a, T: crate::FromHPyRef<'c> + ?Sized>(
    h: &'a crate::Handle<'c>,
    holder: &'a mut T::Holder,
) -> Option<&'a T> {
    match T::extract(h, holder) {
        Ok(v) => Some(v),
        Err(e) => {
            e.clear(h.context());
            None
        }
    }
}

/// The `HPy_tp_new` of types without `#[new]`: Python cannot make them
/// (`TypeError: cannot create 'mod.T' instances`, as CPython says).
pub static NO_CONSTRUCTOR: SyncDef =
    crate::trampolines::NEWFUNC::slot::<NoConstructor>(hpy_sys::HPy_tp_new);

#[doc(hidden)]
pub struct NoConstructor;

impl crate::trampolines::Impl<hpy_sys::HPyFunc_newfunc> for NoConstructor {
    const IMPL: hpy_sys::HPyFunc_newfunc = Some(no_constructor);
}

extern "C" fn no_constructor(
    ctx: *mut HPyContext,
    ty: HPy,
    _args: *const HPy,
    _nargs: hpy_sys::HPy_ssize_t,
    _kw: HPy,
) -> HPy {
    // SAFETY: the runtime calls tp_new with the live context of the call.
    let cx = unsafe { Context::from_raw(ctx) };
    entry(cx, NULL, |cx| {
        // SAFETY: the type argument of tp_new, open for the call.
        let ty = unsafe { Borrowed::new(cx, ty) };
        // CPython's words for a type whose tp_new is NULL, with the name it
        // shows there (tp_name: the module, then the name)
        let module: String = ty.getattr("__module__")?.extract()?;
        let qualname: String = ty.getattr("__qualname__")?.extract()?;
        let name = if module == "builtins" {
            qualname
        } else {
            format!("{module}.{qualname}")
        };
        Err(exc::TypeError::new_err(format!(
            "cannot create '{name}' instances"
        )))
    })
}

/// A status result of a slot returning `int` (0 or -1 on error).
pub const STATUS_ERROR: core::ffi::c_int = -1;

/// Finds the methods of an `#[hpy_def] impl` for a type, if it has one:
/// `(&Collector::<T>::new()).methods()` picks the impl's
/// `HasMethods<T> for Collector<T>` over the fallback for `&Collector<T>`.
pub struct Collector<T>(core::marker::PhantomData<T>);

impl<T> Collector<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Collector(core::marker::PhantomData)
    }
}

/// What an `#[hpy_def] impl` block defines.
pub struct Methods {
    /// Methods, getters/setters and slots of the type.
    pub defs: &'static [&'static SyncDef],
    /// It has `#[new]`.
    pub has_new: bool,
    /// Static and class methods: module-level functions moved onto the type.
    pub statics: &'static [crate::module::StaticMethod],
}

pub trait HasMethods<T> {
    fn methods(&self) -> Methods;
}

impl<T> HasMethods<T> for &Collector<T> {
    fn methods(&self) -> Methods {
        Methods {
            defs: &[],
            has_new: false,
            statics: &[],
        }
    }
}

pub use crate::module::StaticMethod;
pub use crate::trampolines::{getset, Impl, NoSetter};

/// `PyInit_<name>`'s object type.
#[cfg(feature = "cpython-abi")]
pub use hpy_cpython::ffi::PyObject;

/// `PyInit_<name>`'s body (CPython ABI).
#[cfg(feature = "cpython-abi")]
pub fn py_init(m: &'static ModuleDef, name: &'static str) -> *mut PyObject {
    let name =
        core::ffi::CStr::from_bytes_with_nul(name.as_bytes()).expect("NUL-terminated module name");
    crate::cpython::py_init(module_init(m), name)
}
