//! `Context<'c>`: the HPy context of one call, and what is reached from it
//! without an object (constants, imports, errors, releasing the interpreter).

use crate::err::{HPyErr, HPyResult};
use crate::handle::Handle;
use crate::raw;
use core::marker::PhantomData;
use core::ptr::NonNull;
use hpy_sys::{HPy, HPyContext};

/// The context an HPy call runs in: proof that this thread may use the API,
/// for the lifetime `'c` of the call.
///
/// Every handle remembers the context it was opened in (debug mode gives
/// each call a context of its own), so most code never names one: methods
/// on [`Handle`] use the handle's. A function made with `#[hpy_def]` may ask
/// for it by taking a `Context<'c>` (or `&Context<'c>`) parameter.
///
/// `Context` is `Copy`, and neither `Send` nor `Sync`: it cannot leave the
/// thread that holds the interpreter.
#[derive(Clone, Copy)]
pub struct Context<'c> {
    raw: NonNull<HPyContext>,
    _call: PhantomData<&'c HPyContext>,
}

impl<'c> Context<'c> {
    /// Wraps the context a trampoline or the loader handed over.
    ///
    /// # Safety
    /// `raw` is the live context of the current call, valid for `'c`, and
    /// this thread holds the interpreter.
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn from_raw(raw: *mut HPyContext) -> Context<'c> {
        Context {
            // SAFETY: the loader and trampolines never pass NULL (caller).
            raw: unsafe { NonNull::new_unchecked(raw) },
            _call: PhantomData,
        }
    }

    /// The `HPyContext *` to hand to C code.
    #[inline(always)]
    pub fn as_ptr(self) -> *mut HPyContext {
        self.raw.as_ptr()
    }

    /// The context's name (`ctx->name`), e.g. `"HPy Universal ABI (hpy-rs)"`
    /// or the debug context's.
    pub fn name(self) -> String {
        // SAFETY: a live context; `name` is a NUL-terminated static string.
        let p = unsafe { (*self.as_ptr()).name };
        if p.is_null() {
            return String::new();
        }
        // SAFETY: non-NULL and NUL-terminated (the context's contract).
        unsafe { core::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned()
    }

    /// A constant of the context (`ctx->h_None`, ...), borrowed: never closed.
    #[inline(always)]
    pub(crate) fn constant(self, get: impl FnOnce(&HPyContext) -> HPy) -> HPy {
        // SAFETY: a live context; its constants are plain handle values.
        get(unsafe { &*self.as_ptr() })
    }

    /// A new handle to the constant `get` picks (its own reference).
    pub(crate) fn constant_handle(self, get: impl FnOnce(&HPyContext) -> HPy) -> Handle<'c> {
        let h = self.constant(get);
        // SAFETY: a live context and a valid constant handle; Dup returns a
        // new handle that the result owns.
        unsafe { Handle::from_raw_unchecked(self, raw::ctx_Dup(self.as_ptr(), h)) }
    }

    /// `None`.
    #[doc(alias = "h_None")]
    pub fn none(self) -> Handle<'c> {
        self.constant_handle(|c| c.h_None)
    }

    /// `NotImplemented` (what a binary operator returns for foreign operands).
    #[doc(alias = "h_NotImplemented")]
    pub fn not_implemented(self) -> Handle<'c> {
        self.constant_handle(|c| c.h_NotImplemented)
    }

    /// `Ellipsis`.
    #[doc(alias = "h_Ellipsis")]
    pub fn ellipsis(self) -> Handle<'c> {
        self.constant_handle(|c| c.h_Ellipsis)
    }

    /// `True` or `False`.
    #[doc(alias = "HPyBool_FromBool")]
    pub fn bool(self, v: bool) -> Handle<'c> {
        self.constant_handle(|c| if v { c.h_True } else { c.h_False })
    }

    /// The built-in namespace (a dict: `builtins.__dict__`).
    #[doc(alias = "h_Builtins")]
    pub fn builtins(self) -> Handle<'c> {
        self.constant_handle(|c| c.h_Builtins)
    }

    /// A built-in type, by name of its context constant: `object`, `type`,
    /// `bool`, `int`, `float`, `str`, `tuple`, `list`, `dict`, `complex`,
    /// `bytes`, `memoryview`, `slice`, `capsule`.
    pub fn builtin_type(self, name: &str) -> HPyResult<Handle<'c>> {
        let pick: fn(&HPyContext) -> HPy = match name {
            "object" => |c| c.h_BaseObjectType,
            "type" => |c| c.h_TypeType,
            "bool" => |c| c.h_BoolType,
            "int" => |c| c.h_LongType,
            "float" => |c| c.h_FloatType,
            "str" => |c| c.h_UnicodeType,
            "tuple" => |c| c.h_TupleType,
            "list" => |c| c.h_ListType,
            "dict" => |c| c.h_DictType,
            "complex" => |c| c.h_ComplexType,
            "bytes" => |c| c.h_BytesType,
            "memoryview" => |c| c.h_MemoryViewType,
            "slice" => |c| c.h_SliceType,
            "capsule" => |c| c.h_CapsuleType,
            _ => {
                return Err(crate::exc::ValueError::new_err(format!(
                    "no built-in type constant named {name:?}"
                )))
            }
        };
        Ok(self.constant_handle(pick))
    }

    /// `import name`.
    #[doc(alias = "HPyImport_ImportModule")]
    pub fn import(self, name: &str) -> HPyResult<Handle<'c>> {
        let name = crate::convert::cstring(name)?;
        // SAFETY: a live context and a NUL-terminated name.
        let h = unsafe { raw::ctx_Import_ImportModule(self.as_ptr(), name.as_ptr()) };
        Handle::from_result(self, h)
    }

    /// True while an exception is set.
    #[doc(alias = "HPyErr_Occurred")]
    pub fn err_occurred(self) -> bool {
        // SAFETY: a live context.
        unsafe { raw::ctx_Err_Occurred(self.as_ptr()) != 0 }
    }

    /// Clears the exception that is set, if any (for example after deciding
    /// to handle an [`HPyErr`] that an API call returned).
    #[doc(alias = "HPyErr_Clear")]
    pub fn clear_error(self) {
        // SAFETY: a live context.
        unsafe { raw::ctx_Err_Clear(self.as_ptr()) }
    }

    /// Sets `err` as the current exception (what returning it does).
    #[doc(alias = "HPyErr_SetString")]
    pub fn raise(self, err: HPyErr) {
        err.restore(self)
    }

    /// Issues a warning of category `category` (e.g. `exc::UserWarning`).
    /// Returns an error if the warning was turned into an exception.
    #[doc(alias = "HPyErr_WarnEx")]
    pub fn warn<E: crate::exc::ExceptionType>(
        self,
        message: &str,
        stacklevel: isize,
    ) -> HPyResult<()> {
        let category = E::type_object(self)?;
        let msg = crate::convert::cstring(message)?;
        // SAFETY: a live context, a type handle and a NUL-terminated message.
        let r = unsafe {
            raw::ctx_Err_WarnEx(self.as_ptr(), category.raw(), msg.as_ptr(), stacklevel as _)
        };
        if r < 0 {
            Err(HPyErr::pending())
        } else {
            Ok(())
        }
    }

    /// Runs `f` with the interpreter released, so other Python threads can
    /// run meanwhile (`HPy_LeavePythonExecution` / `HPy_ReenterPythonExecution`).
    /// `f` is `Send`: it can touch no handle, context or Python object.
    #[doc(alias = "HPy_LeavePythonExecution")]
    #[doc(alias = "HPy_ReenterPythonExecution")]
    pub fn allow_threads<T, F>(self, f: F) -> T
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        struct Reenter(*mut HPyContext, hpy_sys::HPyThreadState);
        impl Drop for Reenter {
            fn drop(&mut self) {
                // SAFETY: the state LeavePythonExecution returned, given back
                // once, on this thread (also when `f` panics).
                unsafe { raw::ctx_ReenterPythonExecution(self.0, self.1) }
            }
        }
        // SAFETY: a live context, and this thread holds the interpreter.
        let state = unsafe { raw::ctx_LeavePythonExecution(self.as_ptr()) };
        let _reenter = Reenter(self.as_ptr(), state);
        f()
    }

    /// Compiles and evaluates `source` as an expression, with `globals` as
    /// its globals and locals (e.g. a new dict).
    #[doc(alias = "HPy_Compile_s")]
    #[doc(alias = "HPy_EvalCode")]
    pub fn eval(self, source: &str, globals: &Handle<'c>) -> HPyResult<Handle<'c>> {
        let src = crate::convert::cstring(source)?;
        // SAFETY: a live context and NUL-terminated strings; the kind is
        // HPy_SourceKind_Expr.
        let code = unsafe {
            raw::ctx_Compile_s(
                self.as_ptr(),
                src.as_ptr(),
                c"<hpy-core>".as_ptr(),
                hpy_sys::HPy_SourceKind_Expr,
            )
        };
        let code = Handle::from_result(self, code)?;
        // SAFETY: a live context and open handles.
        let r =
            unsafe { raw::ctx_EvalCode(self.as_ptr(), code.raw(), globals.raw(), globals.raw()) };
        Handle::from_result(self, r)
    }
}

impl core::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Context").field(&self.raw).finish()
    }
}
