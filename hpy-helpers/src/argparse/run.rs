//! One parse in progress (`Run`): HPyArg_Parse's positional loop, and what
//! every parser does for a unit besides converting its argument (take its
//! output pointer, give new handles to the tracker).

use super::format::Unit;
use super::{Api, Raised, Res};
use crate::ctx::Ctx;
use crate::msg;
use crate::va::VaArgs;
use core::ffi::{c_char, c_void};
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPyTracker};

/// One parse in progress.
pub(super) struct Run {
    pub(super) ctx: Ctx,
    pub(super) api: Api,
    /// The format string (a C string, valid for the call): messages are
    /// worded by what follows its units, read only when one is raised.
    pub(super) fmt: *const c_char,
    pub(super) va: VaArgs,
    pub(super) tracker: Option<HPyTracker>,
}

impl Run {
    /// HPyArg_Parse, in one pass over the format: unit `i` takes `args[i]`.
    /// The format is checked as it is read; a malformed one is still what
    /// is reported, whatever failed first ([`super::format_first`]).
    pub(super) fn positional(&mut self, args: &[HPy]) -> Res<()> {
        let result = self.positional_pass(args);
        if result.is_err() {
            // SAFETY: `fmt` is a C string valid for the call (entry
            // point's contract).
            unsafe { super::format_first(self.ctx, self.api, self.fmt, core::ptr::null(), true) };
        }
        result
    }

    fn positional_pass(&mut self, args: &[HPy]) -> Res<()> {
        // the arguments not yet taken (fewer values live in the loop than
        // with an index and the slice)
        let mut rest = args.iter();
        let mut optional = false;
        let mut pos = 0;
        loop {
            // SAFETY: `fmt` is a C string (entry point's contract) and the
            // loop stops at its NUL, so byte `pos` is readable.
            let b = unsafe { *self.fmt.add(pos) } as u8;
            if let Some(unit) = Unit::of(b) {
                let arg = rest.next().copied().filter(|h| !h.is_null());
                if arg.is_none() && !optional {
                    return Err(self.raise_type("required positional argument missing"));
                }
                let out = self.next_out();
                if let Some(arg) = arg {
                    // `O` hands out the caller's handle itself: it lives as
                    // long as the call, which is all upstream promises.
                    self.store(unit, arg, out)?;
                }
            } else if matches!(b, 0 | b':' | b';') {
                break;
            } else {
                // '|' (once) is the only marker HPyArg_Parse knows; any
                // other problem is reported by `format_first`
                if b != b'|' || optional {
                    return Err(Raised);
                }
                optional = true;
            }
            pos += 1;
        }
        if rest.len() > 0 {
            return Err(self.raise_type("mismatched args (too many arguments for fmt)"));
        }
        Ok(())
    }

    /// The next output pointer.
    #[inline(always)]
    pub(super) fn next_out(&mut self) -> *mut c_void {
        // SAFETY: the caller passed one pointer per unit and we read one per
        // unit reached, in order.
        unsafe { self.va.ptr_inline() }
    }

    /// Give `h` to the tracker. On failure the tracker still holds `h` (and
    /// closes it), as `HPyTracker_Add` documents.
    pub(super) fn track(&self, h: HPy) -> Res<()> {
        let Some(t) = self.tracker else {
            // the keyword parsers stop before an `O` without a tracker
            self.ctx.close(h);
            self.ctx.system_error(msg!(
                self.api.name(),
                ": no HPyTracker to hold a new handle"
            ));
            return Err(Raised);
        };
        // SAFETY: live context; `t` is the tracker of this call.
        if unsafe { raw::ctx_Tracker_Add(self.ctx.0, t, h) } < 0 {
            return Err(Raised);
        }
        Ok(())
    }
}
