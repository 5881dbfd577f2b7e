//! C stack traces: where a debug handle was opened (recorded when
//! `set_handle_stack_trace_limit` is on) and where a misuse happened.
//!
//! Only the return addresses are recorded when a handle opens (an unwind of
//! the stack, no lookup); they are turned into text when a report or a
//! handle's description shows them: one frame per line, the function and
//! `file:line` wherever the object has debug information (ours, and an
//! extension built with `-g`), else its symbol, always followed by
//! `module+0xOFFSET`. The `backtrace` crate unwinds; `addr2line` (its
//! loader: `object` and `gimli` reading the object's file) symbolizes each
//! object `dladdr` names, so an extension loaded after the first report is
//! found too (the `backtrace` crate's own symbolizer lists the loaded objects
//! once). Frames of the debug mode itself, at the top, are left out.

/// Frames shown for the current stack in error reports.
pub(crate) const DEFAULT_LIMIT: usize = 16;

/// How many frames of our own (the capture call and the context function
/// around it) we may have to skip on top of the requested limit.
const OWN_FRAMES: usize = 8;

/// At most this many frames are recorded, whatever limit is asked for.
const MAX_FRAMES: usize = 4096;

/// The return addresses of a stack, innermost first.
pub(crate) struct StackTrace {
    frames: Box<[usize]>,
    limit: usize,
}

impl StackTrace {
    /// The current stack, or None where C stack traces are not supported.
    pub(crate) fn capture(limit: usize) -> Option<StackTrace> {
        let max = limit.min(MAX_FRAMES) + OWN_FRAMES;
        let mut frames = Vec::with_capacity(max);
        backtrace::trace(|f| {
            let ip = f.ip() as usize;
            if ip != 0 {
                frames.push(ip);
            }
            frames.len() < max
        });
        (!frames.is_empty()).then(|| StackTrace {
            frames: frames.into_boxed_slice(),
            limit,
        })
    }

    /// One frame per line, without the debug mode's own frames on top.
    pub(crate) fn format(&self) -> String {
        let skip = self.frames.iter().take_while(|&&a| is_own(a)).count();
        let end = self.frames.len().min(skip.saturating_add(self.limit));
        self.frames[skip..end]
            .iter()
            .map(|&a| format_frame(a))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The current stack as text (None where unsupported).
pub(crate) fn current(limit: usize) -> Option<String> {
    StackTrace::capture(limit).map(|t| t.format())
}

/// True if C stack traces can be recorded here (unwinds one frame, without
/// turning it into text).
pub(crate) fn supported() -> bool {
    let mut any = false;
    backtrace::trace(|_| {
        any = true;
        false
    });
    any
}

/// Said instead of a stack trace where we cannot record one.
pub(crate) const UNSUPPORTED: &str =
    "this build of the HPy debug mode cannot record C stack traces on this platform";

/// `function at file:line (module+0xOFF)` for a return address, one line
/// per frame. Where calls were inlined into the function, the line is the
/// one in the function (the call the code came from), and the innermost
/// inlined function follows: `f at a.c:10, inlining HPy_Dup at api.h:10`.
fn format_frame(addr: usize) -> String {
    let place = module_of(addr)
        .map(|(m, off)| format!("{m}+{off:#x}"))
        .unwrap_or_else(|| format!("{addr:#x}"));
    // Innermost first: the code at `addr`, then each function it was
    // inlined into. Symbolization takes a lock and reads files: never
    // called from a signal handler (see `faults.rs`).
    let chain = resolve(addr);
    match chain.as_slice() {
        [] => format!("    {place}"),
        [only] => format!("    {only} ({place})"),
        [inner, .., outer] => format!("    {outer}, inlining {inner} ({place})"),
    }
}

/// The function (and file:line) of the code at return address `addr`,
/// then of each function it was inlined into.
fn resolve(addr: usize) -> Vec<String> {
    let Some((path, base)) = imp::object_of(addr) else {
        return Vec::new();
    };
    let mut loaders = LOADERS.lock().unwrap_or_else(|e| e.into_inner());
    let loader = loaders
        .entry((path.clone(), base))
        .or_insert_with(|| addr2line::Loader::new(&path).ok());
    let Some(loader) = loader else {
        return Vec::new();
    };
    // The call instruction ends just before the return address.
    let probe = (addr.wrapping_sub(base).wrapping_sub(1) as u64)
        .wrapping_add(loader.relative_address_base());
    let mut chain = Vec::new();
    if let Ok(mut frames) = loader.find_frames(probe) {
        while let Ok(Some(frame)) = frames.next() {
            let name = frame
                .function
                .as_ref()
                .and_then(|f| f.demangle().ok().map(|n| n.into_owned()));
            let place = frame
                .location
                .as_ref()
                .and_then(|l| Some(format!("{}:{}", l.file?, l.line?)));
            chain.push(match (name, place) {
                (Some(n), Some(p)) => format!("{n} at {p}"),
                (Some(n), None) => n,
                (None, Some(p)) => p,
                (None, None) => continue,
            });
        }
    }
    if chain.is_empty() {
        // No debug information: the symbol table's name.
        if let Some(sym) = loader.find_symbol(probe) {
            chain.push(addr2line::demangle_auto(sym.into(), None).into_owned());
        }
    }
    chain
}

/// Symbolizers by object (path and load address), made on first use: the
/// files are mapped and their DWARF parsed lazily, once per process.
static LOADERS: std::sync::Mutex<
    std::collections::BTreeMap<(String, usize), Option<addr2line::Loader>>,
> = std::sync::Mutex::new(std::collections::BTreeMap::new());

#[cfg(unix)]
mod imp {
    use std::ffi::{c_void, CStr};

    /// The object an address belongs to: (file name, its base address).
    pub(super) fn object_of(addr: usize) -> Option<(String, usize)> {
        // SAFETY: dladdr only inspects the loader's tables; `info` is a
        // plain out-parameter; `dli_fname` is NULL or a NUL-terminated path
        // owned by the loader.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            if libc::dladdr(addr as *const c_void, &mut info) == 0 {
                return None;
            }
            let name = if info.dli_fname.is_null() {
                String::from("?")
            } else {
                CStr::from_ptr(info.dli_fname)
                    .to_string_lossy()
                    .into_owned()
            };
            Some((name, info.dli_fbase as usize))
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub(super) fn object_of(_addr: usize) -> Option<(String, usize)> {
        None
    }
}

/// `(module file name, offset)` of a code address.
fn module_of(addr: usize) -> Option<(String, usize)> {
    let (path, base) = imp::object_of(addr)?;
    let name = path.rsplit('/').next().unwrap_or(&path).to_string();
    Some((name, addr.wrapping_sub(base)))
}

/// True if `addr` is code of the library the debug mode is built into.
fn is_own(addr: usize) -> bool {
    static OWN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let base = |a: usize| imp::object_of(a).map_or(0, |(_, b)| b);
    let own = *OWN.get_or_init(|| base(is_own as *const () as usize));
    own != 0 && base(addr) == own
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn capture_here() -> Option<StackTrace> {
        StackTrace::capture(64)
    }

    #[test]
    fn frames_are_symbolized_with_lines() {
        let Some(t) = capture_here() else { return };
        // The test binary is all "own" code: format its frames one by one.
        let text: Vec<String> = t.frames.iter().map(|&a| format_frame(a)).collect();
        let text = text.join("\n");
        assert!(text.contains("frames_are_symbolized_with_lines"), "{text}");
        assert!(text.contains("stacktrace.rs:"), "{text}");
        assert!(text.contains("+0x"), "{text}");
    }

    #[test]
    fn limit_is_kept() {
        if let Some(t) = StackTrace::capture(4) {
            let text = t.format();
            assert!(text.lines().count() <= 4 + 8, "{text}");
        }
    }
}
