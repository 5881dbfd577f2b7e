//! `HPyErr` and `HPyResult`: a Python exception as a Rust error.
//!
//! HPy 0.9 has no way to take an exception out of the interpreter and put it
//! back (no `PyErr_Fetch`), so an error comes in two states: *pending* (an API
//! call failed and the exception is set in the interpreter) or *lazy* (made
//! in Rust, e.g. `exc::ValueError::new_err("...")`, set when it reaches
//! Python). Returning either from an `#[hpy_def]` function raises it.

use crate::context::Context;
use crate::raw;
use std::borrow::Cow;

/// The result of anything that can raise.
pub type HPyResult<T> = Result<T, HPyErr>;

/// A Python exception; see the module documentation.
pub struct HPyErr {
    state: State,
}

enum State {
    /// The interpreter has the exception (an API call failed).
    Pending,
    /// Raise an exception of `ty` with the message `msg` when restored.
    Lazy { ty: ExcRef, msg: Cow<'static, str> },
}

/// Which type a lazy error raises.
#[derive(Clone, Copy)]
#[doc(hidden)]
pub enum ExcRef {
    /// A context constant (`h_ValueError`, ...).
    Builtin(fn(&hpy_sys::HPyContext) -> hpy_sys::HPy),
    /// A type created by the module (`create_exception!`), kept in a global.
    Global(fn() -> &'static crate::global::Global),
}

impl HPyErr {
    /// The exception an API call just set (it failed and reported so).
    #[inline]
    pub fn pending() -> HPyErr {
        HPyErr {
            state: State::Pending,
        }
    }

    #[doc(hidden)]
    pub fn lazy(ty: ExcRef, msg: impl Into<Cow<'static, str>>) -> HPyErr {
        HPyErr {
            state: State::Lazy {
                ty,
                msg: msg.into(),
            },
        }
    }

    /// An exception of type `E` (e.g. `exc::KeyError`) with a message; the
    /// same as `E::new_err(msg)`.
    pub fn new<E: crate::exc::ExceptionType>(msg: impl Into<Cow<'static, str>>) -> HPyErr {
        HPyErr::lazy(E::exc_ref(), msg)
    }

    /// True if the error is set in the interpreter already.
    pub fn is_pending(&self) -> bool {
        matches!(self.state, State::Pending)
    }

    /// The message of a lazy error (`None` for a pending one: its message
    /// lives in the interpreter).
    pub fn message(&self) -> Option<&str> {
        match &self.state {
            State::Pending => None,
            State::Lazy { msg, .. } => Some(msg),
        }
    }

    /// True if this error is an instance of `E` (or of a subclass).
    #[doc(alias = "HPyErr_ExceptionMatches")]
    pub fn is_instance_of<E: crate::exc::ExceptionType>(&self, ctx: Context<'_>) -> bool {
        let Ok(want) = E::type_object(ctx) else {
            ctx.clear_error();
            return false;
        };
        match &self.state {
            // SAFETY: a live context and an open type handle.
            State::Pending => unsafe {
                raw::ctx_Err_ExceptionMatches(ctx.as_ptr(), want.raw()) != 0
            },
            State::Lazy { ty, .. } => match ty.load(ctx) {
                // SAFETY: a live context and open type handles.
                Some(t) => unsafe {
                    raw::ctx_Type_IsSubtype(ctx.as_ptr(), t.raw(), want.raw()) != 0
                },
                None => false,
            },
        }
    }

    /// The same error, its message prefixed with the argument it is about
    /// (`argument 'a': ...`); a pending error is left as it is.
    pub fn for_argument(self, name: &str) -> HPyErr {
        match self.state {
            State::Lazy { ty, msg } => HPyErr::lazy(ty, format!("argument '{name}': {msg}")),
            State::Pending => self,
        }
    }

    /// Forgets the error: clears it from the interpreter if it is pending.
    /// What to do after deciding to handle an error.
    #[doc(alias = "HPyErr_Clear")]
    pub fn clear(self, ctx: Context<'_>) {
        if self.is_pending() {
            ctx.clear_error();
        }
    }

    /// Sets the error in the interpreter (what returning it does).
    pub fn restore(self, ctx: Context<'_>) {
        match self.state {
            State::Pending => {
                if !ctx.err_occurred() {
                    set_string(
                        ctx,
                        ctx.constant(|c| c.h_SystemError),
                        "an HPy call failed without setting an exception",
                    );
                }
            }
            State::Lazy { ty, msg } => match ty.load(ctx) {
                Some(t) => set_string(ctx, t.raw(), &msg),
                None => set_string(
                    ctx,
                    ctx.constant(|c| c.h_SystemError),
                    &format!(
                        "exception type not created yet (is it listed in #[hpy_module]?): {msg}"
                    ),
                ),
            },
        }
    }
}

impl ExcRef {
    fn load<'c>(self, ctx: Context<'c>) -> Option<crate::Handle<'c>> {
        match self {
            ExcRef::Builtin(get) => Some(ctx.constant_handle(get)),
            ExcRef::Global(global) => global().load(ctx),
        }
    }
}

fn set_string(ctx: Context<'_>, ty: hpy_sys::HPy, msg: &str) {
    let c = crate::convert::cstring_lossy(msg);
    // SAFETY: a live context, a type handle and a NUL-terminated message.
    unsafe { raw::ctx_Err_SetString(ctx.as_ptr(), ty, c.as_ptr()) }
}

impl core::fmt::Debug for HPyErr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.state {
            State::Pending => f.write_str("HPyErr(pending in the interpreter)"),
            State::Lazy { msg, .. } => write!(f, "HPyErr({msg:?})"),
        }
    }
}

impl core::fmt::Display for HPyErr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.state {
            State::Pending => f.write_str("a Python exception (set in the interpreter)"),
            State::Lazy { msg, .. } => f.write_str(msg),
        }
    }
}

impl std::error::Error for HPyErr {}

impl From<core::num::TryFromIntError> for HPyErr {
    fn from(e: core::num::TryFromIntError) -> HPyErr {
        crate::exc::OverflowError::new_err(e.to_string())
    }
}

impl From<core::str::Utf8Error> for HPyErr {
    fn from(e: core::str::Utf8Error) -> HPyErr {
        crate::exc::UnicodeDecodeError::new_err(e.to_string())
    }
}

impl From<std::string::FromUtf8Error> for HPyErr {
    fn from(e: std::string::FromUtf8Error) -> HPyErr {
        crate::exc::UnicodeDecodeError::new_err(e.to_string())
    }
}

impl From<core::num::ParseIntError> for HPyErr {
    fn from(e: core::num::ParseIntError) -> HPyErr {
        crate::exc::ValueError::new_err(e.to_string())
    }
}

impl From<core::num::ParseFloatError> for HPyErr {
    fn from(e: core::num::ParseFloatError) -> HPyErr {
        crate::exc::ValueError::new_err(e.to_string())
    }
}

impl From<std::io::Error> for HPyErr {
    fn from(e: std::io::Error) -> HPyErr {
        use std::io::ErrorKind::*;
        let msg = e.to_string();
        match e.kind() {
            NotFound => crate::exc::FileNotFoundError::new_err(msg),
            PermissionDenied => crate::exc::PermissionError::new_err(msg),
            AlreadyExists => crate::exc::FileExistsError::new_err(msg),
            TimedOut => crate::exc::TimeoutError::new_err(msg),
            Interrupted => crate::exc::InterruptedError::new_err(msg),
            BrokenPipe => crate::exc::BrokenPipeError::new_err(msg),
            ConnectionRefused => crate::exc::ConnectionRefusedError::new_err(msg),
            ConnectionReset => crate::exc::ConnectionResetError::new_err(msg),
            ConnectionAborted => crate::exc::ConnectionAbortedError::new_err(msg),
            _ => crate::exc::OSError::new_err(msg),
        }
    }
}
