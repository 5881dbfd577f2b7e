//! `hpy.debug._debug.DebugHandle`: a Python view of one debug handle.

use crate::handles::HandleRef;
use hpy_core::prelude::*;
use hpy_core::raw;

/// A debug handle, seen from Python: what it points to, whether it is
/// closed, where it was opened. It follows its slot of the handle table,
/// including the slot's reuse for a newer handle (then it shows that one).
#[hpy_def]
pub struct DebugHandle {
    handle: HandleRef,
}

impl DebugHandle {
    pub fn new(handle: HandleRef) -> DebugHandle {
        DebugHandle { handle }
    }
}

/// A new handle, in the call's context, to the object `h` holds; `None`
/// once it is closed.
fn object_of<'c>(ctx: Context<'c>, h: &HandleRef) -> HPyResult<Option<Handle<'c>>> {
    let Some(uh) = h.inner_handle() else {
        return Ok(None);
    };
    if ctx.as_ptr() != crate::inner_ctx() {
        // the module is created with the context the debug context wraps
        return Err(exc::SystemError::new_err(
            "hpy.debug._debug is called in another context than the one the debug context wraps",
        ));
    }
    // SAFETY: `uh` is an open handle of the inner context, which is `ctx`
    // (checked above); Dup returns a new handle of it for the result to own.
    unsafe { Handle::from_raw(ctx, raw::ctx_Dup(ctx.as_ptr(), uh)) }.map(Some)
}

#[hpy_def]
impl DebugHandle {
    /// The object the handle points to (None once it is closed).
    #[getter]
    fn obj<'c>(&self, ctx: Context<'c>) -> HPyResult<Option<Handle<'c>>> {
        object_of(ctx, &self.handle)
    }

    /// The handle's identity: its value (the address of its slot).
    #[getter]
    fn id(&self) -> usize {
        self.handle.id()
    }

    /// True once the handle is closed.
    #[getter]
    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Bytes of raw data (`char *`) tied to the handle, or -1 if none.
    #[getter]
    fn raw_data_size(&self) -> i64 {
        self.handle.raw_data_size()
    }

    /// Where the handle was opened, if stack traces were recorded then.
    #[getter]
    fn allocation_stack_trace(&self) -> Option<String> {
        self.handle.allocation_stack_trace()
    }

    /// Closes the handle if it is open. FOR TESTS ONLY.
    #[hpy(name = "_force_close")]
    fn force_close(&self) {
        // SAFETY: called from Python, so the interpreter lock is held.
        unsafe { self.handle.force_close() }
    }

    fn __repr__<'c>(&self, ctx: Context<'c>) -> HPyResult<String> {
        use std::fmt::Write;
        let h = &self.handle;
        let trace = h.allocation_stack_trace();
        let tail = trace
            .as_deref()
            .unwrap_or_else(|| crate::stack_trace_hint());
        let mut s = String::with_capacity(64 + tail.len());
        match object_of(ctx, h)? {
            None => {
                let _ = write!(s, "<DebugHandle {:#x} CLOSED>", h.id());
            }
            Some(obj) => {
                let r = obj.repr()?;
                let _ = write!(s, "<DebugHandle {:#x} for ", h.id());
                // a repr that is not valid UTF-8 (lone surrogates) shows as '?'
                match <str as hpy_core::FromHPyRef>::extract(&r, &mut ()) {
                    Ok(text) => s.push_str(text),
                    Err(e) => {
                        e.clear(ctx);
                        s.push('?');
                    }
                }
                s.push('>');
            }
        }
        s.push('\n');
        if trace.is_some() {
            s.push_str("Allocation stacktrace:\n");
        }
        s.push_str(tail);
        Ok(s)
    }

    fn __eq__(&self, other: &DebugHandle) -> bool {
        self.handle.id() == other.handle.id()
    }

    fn __ne__(&self, other: &DebugHandle) -> bool {
        self.handle.id() != other.handle.id()
    }

    fn __hash__(&self) -> i64 {
        // slot addresses are aligned: drop the always-zero low bits
        ((self.handle.id() >> 3) as i64) & i64::MAX
    }
}
