//! Python's built-in exceptions (`exc::ValueError::new_err("...")`) and
//! exception types of your own ([`create_exception!`](crate::create_exception)).

use crate::context::Context;
use crate::err::{ExcRef, HPyErr, HPyResult};
use crate::handle::Handle;
use std::borrow::Cow;

/// An exception type usable from Rust: a built-in one of this module or one
/// made with [`create_exception!`](crate::create_exception).
pub trait ExceptionType {
    #[doc(hidden)]
    fn exc_ref() -> ExcRef;

    /// The type object (a new handle).
    fn type_object<'c>(ctx: Context<'c>) -> HPyResult<Handle<'c>> {
        match Self::exc_ref() {
            ExcRef::Builtin(get) => Ok(ctx.constant_handle(get)),
            ExcRef::Global(global) => global().load(ctx).ok_or_else(|| {
                SystemError::new_err(
                    "exception type not created yet: is it listed in #[hpy_module]?",
                )
            }),
        }
    }
}

macro_rules! builtin_exceptions {
    ($($name:ident => $member:ident),* $(,)?) => {$(
        #[doc = concat!("Python's built-in `", stringify!($name), "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            #[doc = concat!("A new `", stringify!($name), "` with this message, raised when it reaches Python.")]
            pub fn new_err(msg: impl Into<Cow<'static, str>>) -> HPyErr {
                HPyErr::lazy(<$name as ExceptionType>::exc_ref(), msg)
            }
        }

        impl ExceptionType for $name {
            #[inline]
            fn exc_ref() -> ExcRef {
                ExcRef::Builtin(|c| c.$member)
            }
        }
    )*};
}

builtin_exceptions! {
    BaseException => h_BaseException,
    Exception => h_Exception,
    StopAsyncIteration => h_StopAsyncIteration,
    StopIteration => h_StopIteration,
    GeneratorExit => h_GeneratorExit,
    ArithmeticError => h_ArithmeticError,
    LookupError => h_LookupError,
    AssertionError => h_AssertionError,
    AttributeError => h_AttributeError,
    BufferError => h_BufferError,
    EOFError => h_EOFError,
    FloatingPointError => h_FloatingPointError,
    OSError => h_OSError,
    ImportError => h_ImportError,
    ModuleNotFoundError => h_ModuleNotFoundError,
    IndexError => h_IndexError,
    KeyError => h_KeyError,
    KeyboardInterrupt => h_KeyboardInterrupt,
    MemoryError => h_MemoryError,
    NameError => h_NameError,
    OverflowError => h_OverflowError,
    RuntimeError => h_RuntimeError,
    RecursionError => h_RecursionError,
    NotImplementedError => h_NotImplementedError,
    SyntaxError => h_SyntaxError,
    IndentationError => h_IndentationError,
    TabError => h_TabError,
    ReferenceError => h_ReferenceError,
    SystemError => h_SystemError,
    SystemExit => h_SystemExit,
    TypeError => h_TypeError,
    UnboundLocalError => h_UnboundLocalError,
    UnicodeError => h_UnicodeError,
    UnicodeEncodeError => h_UnicodeEncodeError,
    UnicodeDecodeError => h_UnicodeDecodeError,
    UnicodeTranslateError => h_UnicodeTranslateError,
    ValueError => h_ValueError,
    ZeroDivisionError => h_ZeroDivisionError,
    BlockingIOError => h_BlockingIOError,
    BrokenPipeError => h_BrokenPipeError,
    ChildProcessError => h_ChildProcessError,
    ConnectionError => h_ConnectionError,
    ConnectionAbortedError => h_ConnectionAbortedError,
    ConnectionRefusedError => h_ConnectionRefusedError,
    ConnectionResetError => h_ConnectionResetError,
    FileExistsError => h_FileExistsError,
    FileNotFoundError => h_FileNotFoundError,
    InterruptedError => h_InterruptedError,
    IsADirectoryError => h_IsADirectoryError,
    NotADirectoryError => h_NotADirectoryError,
    PermissionError => h_PermissionError,
    ProcessLookupError => h_ProcessLookupError,
    TimeoutError => h_TimeoutError,
    Warning => h_Warning,
    UserWarning => h_UserWarning,
    DeprecationWarning => h_DeprecationWarning,
    PendingDeprecationWarning => h_PendingDeprecationWarning,
    SyntaxWarning => h_SyntaxWarning,
    RuntimeWarning => h_RuntimeWarning,
    FutureWarning => h_FutureWarning,
    ImportWarning => h_ImportWarning,
    UnicodeWarning => h_UnicodeWarning,
    BytesWarning => h_BytesWarning,
    ResourceWarning => h_ResourceWarning,
}

/// An exception type of your own, created when the module that lists it
/// (in `#[hpy_module]`) is executed:
///
/// ```ignore
/// hpy_core::create_exception!(mymod, SolverError, hpy_core::exc::ValueError, "The solver failed.");
/// // ...
/// return Err(SolverError::new_err("no solution"));
/// ```
///
/// The first argument is the module's name (for the type's `__module__`
/// and `__qualname__`), then the type's name, its base (any
/// [`ExceptionType`]) and an optional docstring.
#[macro_export]
macro_rules! create_exception {
    ($module:ident, $name:ident, $base:ty $(, $doc:expr)? $(,)?) => {
        #[doc = concat!("The exception `", stringify!($module), ".", stringify!($name), "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            /// A new exception of this type with this message.
            pub fn new_err(msg: impl ::core::convert::Into<::std::borrow::Cow<'static, str>>) -> $crate::HPyErr {
                $crate::HPyErr::new::<$name>(msg)
            }

            #[doc(hidden)]
            pub fn __hpy_global() -> &'static $crate::Global {
                static GLOBAL: $crate::Global = $crate::Global::new();
                &GLOBAL
            }

            #[doc(hidden)]
            pub const __HPY_ITEM: $crate::__private::ModuleItem =
                $crate::__private::ModuleItem::Exception($crate::__private::ExceptionDef {
                    name: concat!(stringify!($module), ".", stringify!($name), "\0"),
                    attr: stringify!($name),
                    doc: $crate::create_exception!(@doc $($doc)?),
                    base: <$base as $crate::exc::ExceptionType>::exc_ref,
                    global: $name::__hpy_global,
                });
        }

        impl $crate::exc::ExceptionType for $name {
            fn exc_ref() -> $crate::__private::ExcRef {
                $crate::__private::ExcRef::Global($name::__hpy_global)
            }
        }
    };
    (@doc) => { ::core::option::Option::None };
    (@doc $doc:expr) => { ::core::option::Option::Some(::core::concat!($doc, "\0")) };
}
