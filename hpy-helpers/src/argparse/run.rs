//! One parse in progress (`Run`): HPyArg_Parse's positional loop, and what
//! every parser does for a unit besides converting its argument (take its
//! output pointer, give new handles to the tracker).

use super::format::Format;
use super::{Api, Raised, Res};
use crate::ctx::Ctx;
use crate::msg;
use crate::va::VaArgs;
use core::ffi::c_void;
use hpy_sys::call::loaded as raw;
use hpy_sys::{HPy, HPyTracker};

/// One parse in progress.
pub(super) struct Run<'f> {
    pub(super) ctx: Ctx,
    pub(super) api: Api,
    pub(super) format: &'f Format<'f>,
    pub(super) va: VaArgs,
    pub(super) tracker: Option<HPyTracker>,
}

impl Run<'_> {
    /// HPyArg_Parse: unit `i` takes `args[i]`.
    pub(super) fn positional(&mut self, args: &[HPy]) -> Res<()> {
        for (i, unit) in self.format.units().enumerate() {
            let arg = args.get(i).copied().filter(|h| !h.is_null());
            if arg.is_none() && !self.format.is_optional(i) {
                return Err(self.raise_type("required positional argument missing"));
            }
            let out = self.next_out();
            if let Some(arg) = arg {
                // `O` hands out the caller's handle itself: it lives as long
                // as the call, which is all upstream promises.
                self.store(unit, arg, out)?;
            }
        }
        if args.len() > self.format.len {
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
