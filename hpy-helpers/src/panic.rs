//! The panic handler of the static library (built with `--cfg
//! hpy_helpers_staticlib` and `panic=abort`; see build.rs): nothing in the
//! helpers should panic, and if something does, the process stops with a
//! message naming the place, written without the formatting machinery.

use crate::message::Digits;
use core::ffi::{c_int, c_void};
use core::panic::PanicInfo;

extern "C" {
    fn abort() -> !;
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
}

/// Write `bytes` to the standard error (best effort: nothing to do if it
/// fails, the process is about to stop).
fn stderr(bytes: &[u8]) {
    // SAFETY: pointer and length describe `bytes`; fd 2 is the standard
    // error (a bad descriptor only makes `write` fail).
    let _ = unsafe { write(2, bytes.as_ptr().cast(), bytes.len()) };
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    stderr(b"Fatal Python error: internal error in the HPy helper library (hpy-rs)");
    if let Some(at) = info.location() {
        stderr(b" at ");
        stderr(at.file().as_bytes());
        stderr(b":");
        stderr(Digits::decimal(u64::from(at.line())).as_bytes());
    }
    if let Some(text) = info.message().as_str() {
        stderr(b": ");
        stderr(text.as_bytes());
    }
    stderr(b"\n");
    // SAFETY: C's abort: ends the process, never returns.
    unsafe { abort() }
}
