//! One parse in progress (`Run`): HPyArg_Parse's positional loop, and what
//! every parser does for a unit besides converting its argument (take its
//! output pointer, give new handles to the tracker).

use super::format::{Format, Problem, Unit};
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
    /// is reported, whatever failed first ([`Run::format_first`]).
    pub(super) fn positional(&mut self, args: &[HPy]) -> Res<()> {
        let result = self.positional_pass(args);
        if result.is_err() {
            self.format_first();
        }
        result
    }

    /// After a failed parse: if the format is malformed, report that
    /// instead of what failed (a caller's bug comes before its callers'),
    /// as if the format had been checked before any argument was used.
    #[cold]
    #[inline(never)]
    fn format_first(&self) {
        // SAFETY: `fmt` is a C string valid for the call (entry point's
        // contract).
        if let Err(bad) = unsafe { Format::scan(self.api, self.fmt) } {
            // SAFETY: live context.
            unsafe { raw::ctx_Err_Clear(self.ctx.0) };
            // SAFETY: as above.
            unsafe { Format::malformed(self.ctx, self.api, self.fmt, bad) };
        }
    }

    fn positional_pass(&mut self, args: &[HPy]) -> Res<()> {
        let mut i = 0;
        let mut optional = false;
        let mut pos = 0;
        loop {
            // SAFETY: `fmt` is a C string (entry point's contract) and the
            // loop stops at its NUL, so byte `pos` is readable.
            let b = unsafe { *self.fmt.add(pos) } as u8;
            if let Some(unit) = Unit::of(b) {
                let arg = args.get(i).copied().filter(|h| !h.is_null());
                if arg.is_none() && !optional {
                    return Err(self.raise_type("required positional argument missing"));
                }
                let out = self.next_out();
                if let Some(arg) = arg {
                    // `O` hands out the caller's handle itself: it lives as
                    // long as the call, which is all upstream promises.
                    self.store(unit, arg, out)?;
                }
                i += 1;
            } else if matches!(b, 0 | b':' | b';') {
                break;
            } else {
                // '|' (once) is the only marker HPyArg_Parse knows
                let problem = match b {
                    b'|' if optional => Problem::Marker("'|' appears twice"),
                    b'|' => {
                        optional = true;
                        pos += 1;
                        continue;
                    }
                    _ => Problem::Unknown,
                };
                // SAFETY: as above.
                return Err(unsafe {
                    Format::malformed(self.ctx, self.api, self.fmt, (problem, pos))
                });
            }
            pos += 1;
        }
        if args.len() > i {
            return Err(self.raise_type("mismatched args (too many arguments for fmt)"));
        }
        Ok(())
    }

    /// The next output pointer.
    #[inline(always)]
    pub(super) fn next_out(&mut self) -> *mut c_void {
        // SAFETY: the caller passed one pointer per unit and we read one per
        // unit reached, in order.
        unsafe { self.va.ptr() }
    }

    /// Give `h` to the tracker. On failure the tracker still holds `h` (and
    /// closes it), as `HPyTracker_Add` documents.
    pub(super) fn track(&self, h: HPy) -> Res<()> {
        let Some(t) = self.tracker else {
            // check_keywords makes this unreachable for `O`
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
