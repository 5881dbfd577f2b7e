//! C stack traces: where a debug handle was opened (recorded when
//! `set_handle_stack_trace_limit` is on) and where a misuse happened.
//!
//! Only the return addresses are recorded when a handle opens; they are
//! turned into text (`module(symbol+offset) [address]`) when shown. Frames of
//! the debug mode itself, at the top, are left out.

/// Frames shown for the current stack in error reports.
pub(crate) const DEFAULT_LIMIT: usize = 16;

/// How many frames of our own (the capture call and the context function
/// around it) we may have to skip on top of the requested limit.
const OWN_FRAMES: usize = 8;

/// At most this many frames are recorded, whatever limit is asked for (the
/// limit sizes a buffer).
const MAX_FRAMES: usize = 4096;

/// The return addresses of a stack, innermost first.
pub(crate) struct StackTrace {
    frames: Box<[usize]>,
    limit: usize,
}

impl StackTrace {
    /// The current stack, or None where C stack traces are not supported.
    pub(crate) fn capture(limit: usize) -> Option<StackTrace> {
        let frames = imp::backtrace(limit.min(MAX_FRAMES) + OWN_FRAMES)?;
        Some(StackTrace { frames, limit })
    }

    /// One frame per line, without the debug mode's own frames on top.
    pub(crate) fn format(&self) -> String {
        let skip = self.frames.iter().take_while(|&&a| imp::is_own(a)).count();
        let end = self.frames.len().min(skip.saturating_add(self.limit));
        imp::symbolize(&self.frames[skip..end]).join("\n")
    }
}

/// The current stack as text (None where unsupported).
pub(crate) fn current(limit: usize) -> Option<String> {
    StackTrace::capture(limit).map(|t| t.format())
}

/// True if C stack traces can be recorded here (takes a one-frame stack,
/// without turning it into text).
pub(crate) fn supported() -> bool {
    imp::backtrace(1).is_some()
}

/// Said instead of a stack trace where we cannot record one.
pub(crate) const UNSUPPORTED: &str =
    "this build of the HPy debug mode cannot record C stack traces on this platform";

#[cfg(any(all(target_os = "linux", target_env = "gnu"), target_os = "macos"))]
mod imp {
    use std::ffi::{c_int, c_void, CStr};

    pub(super) fn backtrace(max: usize) -> Option<Box<[usize]>> {
        let mut buf: Vec<*mut c_void> = vec![std::ptr::null_mut(); max.max(1)];
        let cap = c_int::try_from(buf.len()).unwrap_or(c_int::MAX);
        // SAFETY: `buf` has room for `cap` pointers; backtrace writes at most
        // that many and returns how many it wrote.
        let n = unsafe { libc::backtrace(buf.as_mut_ptr(), cap) };
        let n = usize::try_from(n).ok().filter(|&n| n > 0)?;
        Some(buf[..n].iter().map(|&p| p as usize).collect())
    }

    /// The base address of the object an address belongs to (0 if unknown).
    fn object_base(addr: usize) -> usize {
        // SAFETY: dladdr only inspects the loader's tables; `info` is a
        // plain out-parameter.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            if libc::dladdr(addr as *const c_void, &mut info) == 0 {
                0
            } else {
                info.dli_fbase as usize
            }
        }
    }

    /// True if `addr` is code of the library the debug mode is built into.
    pub(super) fn is_own(addr: usize) -> bool {
        static OWN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let own = *OWN.get_or_init(|| object_base(is_own as *const () as usize));
        own != 0 && object_base(addr) == own
    }

    pub(super) fn symbolize(frames: &[usize]) -> Vec<String> {
        if frames.is_empty() {
            return Vec::new();
        }
        let ptrs: Vec<*mut c_void> = frames.iter().map(|&a| a as *mut c_void).collect();
        let n = c_int::try_from(ptrs.len()).unwrap_or(c_int::MAX);
        // SAFETY: `ptrs` holds `n` addresses; backtrace_symbols returns NULL
        // or one malloc'ed block holding `n` NUL-terminated strings, freed
        // once below after copying them.
        unsafe {
            let names = libc::backtrace_symbols(ptrs.as_ptr(), n);
            if names.is_null() {
                return frames.iter().map(|a| format!("[{a:#x}]")).collect();
            }
            let out = (0..ptrs.len())
                .map(|i| CStr::from_ptr(*names.add(i)).to_string_lossy().into_owned())
                .collect();
            libc::free(names.cast());
            out
        }
    }
}

#[cfg(not(any(all(target_os = "linux", target_env = "gnu"), target_os = "macos")))]
mod imp {
    pub(super) fn backtrace(_max: usize) -> Option<Box<[usize]>> {
        None
    }
    pub(super) fn is_own(_addr: usize) -> bool {
        false
    }
    pub(super) fn symbolize(_frames: &[usize]) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_and_format() {
        if let Some(t) = StackTrace::capture(4) {
            let text = t.format();
            assert!(text.lines().count() <= 4, "{text}");
        }
    }
}
