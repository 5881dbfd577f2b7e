//! Reports of faults on protected raw data: a write through the read-only
//! pointer `HPyBytes_AsString` or `HPyUnicode_AsUTF8AndSize` handed out, or
//! a use of it after its handle was closed, faults (see `rawdata.rs`); a
//! SIGSEGV/SIGBUS handler recognises our pages and says which API call
//! handed the pointer out, for which handle, and what was wrong, then stops
//! the process. Faults elsewhere go to the handler installed before ours (or
//! the default action).
//!
//! The handler may only do async-signal-safe things: the pages are found in
//! a fixed table of atomics (a linear-probing hash of mapping addresses,
//! kept by `rawdata.rs` under the GIL), the text is put together in a
//! buffer on the stack from `&'static` names and numbers, and written with
//! `write(2)`.

use crate::site::Site;

/// Who handed a copy out: the API function and the debug handle it is tied
/// to.
#[derive(Clone, Copy)]
pub(crate) struct Origin {
    pub(crate) by: &'static Site,
    pub(crate) handle: isize,
}

/// What a protected copy is now.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Stage {
    /// Handed out, its handle open: read-only.
    Open = 1,
    /// Its handle was closed: unreadable.
    Closed = 2,
    /// Freed (its closed handle left the queue); the page waits for reuse,
    /// unreadable.
    Freed = 3,
}

#[cfg(unix)]
pub(crate) use imp::{install, register, set_stage, unregister};

#[cfg(not(unix))]
mod imp_none {
    use super::{Origin, Stage};
    pub(crate) fn install() {}
    pub(crate) fn register(_start: usize, _len: usize, _origin: Origin) {}
    pub(crate) fn set_stage(_start: usize, _stage: Stage) {}
    pub(crate) fn unregister(_start: usize) {}
}
#[cfg(not(unix))]
pub(crate) use imp_none::{install, register, set_stage, unregister};

#[cfg(unix)]
mod imp {
    use super::{Origin, Stage};
    use crate::site::Site;
    use std::ffi::{c_int, c_void};
    use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
    use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicU8, AtomicUsize};

    /// Entries of the table (copies alive at once, far more than the
    /// budget of kept raw data and the page pool make); when it is full a
    /// new copy is not registered, and a fault on it is reported as a plain
    /// fault.
    const BITS: u32 = 14;
    const CAP: usize = 1 << BITS;

    /// How many pages before the fault address a mapping may start (a
    /// copy longer than this is recognised in its first pages only).
    const MAX_PAGES_BACK: usize = 1 << 14;

    struct Entry {
        /// Start of the mapping (0: empty).
        start: AtomicUsize,
        len: AtomicUsize,
        handle: AtomicIsize,
        by: AtomicPtr<Site>,
        stage: AtomicU8,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Entry = Entry {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        handle: AtomicIsize::new(0),
        by: AtomicPtr::new(std::ptr::null_mut()),
        stage: AtomicU8::new(0),
    };

    /// Written with the GIL held (by `rawdata.rs`), read by the handler.
    static TABLE: [Entry; CAP] = [EMPTY; CAP];

    /// The page size, read once outside the handler (sysconf is not
    /// async-signal-safe).
    static PAGE: AtomicUsize = AtomicUsize::new(0);

    fn page() -> usize {
        let p = PAGE.load(Relaxed);
        if p != 0 {
            return p;
        }
        // SAFETY: sysconf has no preconditions.
        let p = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            n if n > 0 => n as usize,
            _ => 4096,
        };
        PAGE.store(p, Relaxed);
        p
    }

    fn home(start: usize) -> usize {
        ((start >> 12).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (usize::BITS - BITS)) & (CAP - 1)
    }

    /// The index holding `start`, or the first empty one of its run.
    fn probe(start: usize) -> Option<(usize, bool)> {
        let mut i = home(start);
        for _ in 0..CAP {
            match TABLE[i].start.load(Acquire) {
                0 => return Some((i, false)),
                s if s == start => return Some((i, true)),
                _ => i = (i + 1) & (CAP - 1),
            }
        }
        None
    }

    /// Records the mapping `[start, start + len)` handed out by `origin`
    /// (read-only). GIL held.
    pub(crate) fn register(start: usize, len: usize, origin: Origin) {
        let Some((i, _)) = probe(start) else { return };
        let e = &TABLE[i];
        e.len.store(len, Relaxed);
        e.handle.store(origin.handle, Relaxed);
        e.by.store(origin.by as *const Site as *mut Site, Relaxed);
        e.stage.store(Stage::Open as u8, Relaxed);
        e.start.store(start, Release);
    }

    /// GIL held.
    pub(crate) fn set_stage(start: usize, stage: Stage) {
        if let Some((i, true)) = probe(start) {
            TABLE[i].stage.store(stage as u8, Release);
        }
    }

    /// Forgets a mapping about to be unmapped (backward-shift deletion, so
    /// that no tombstones pile up). GIL held.
    pub(crate) fn unregister(start: usize) {
        let Some((mut hole, true)) = probe(start) else {
            return;
        };
        let mut j = hole;
        loop {
            j = (j + 1) & (CAP - 1);
            let s = TABLE[j].start.load(Relaxed);
            if s == 0 {
                TABLE[hole].start.store(0, Release);
                return;
            }
            let k = home(s);
            // Entry j may stay if its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < k && k <= j
            } else {
                hole < k || k <= j
            };
            if !stays {
                let (from, to) = (&TABLE[j], &TABLE[hole]);
                to.len.store(from.len.load(Relaxed), Relaxed);
                to.handle.store(from.handle.load(Relaxed), Relaxed);
                to.by.store(from.by.load(Relaxed), Relaxed);
                to.stage.store(from.stage.load(Relaxed), Relaxed);
                to.start.store(s, Release);
                hole = j;
            }
        }
    }

    /// The entry whose mapping holds `addr` (async-signal-safe).
    fn covering(addr: usize) -> Option<&'static Entry> {
        let page = page();
        let mut start = addr & !(page - 1);
        for _ in 0..MAX_PAGES_BACK {
            if start == 0 {
                return None;
            }
            if let Some((i, true)) = probe(start) {
                let e = &TABLE[i];
                return (addr < start + e.len.load(Relaxed)).then_some(e);
            }
            start -= page;
        }
        None
    }

    /// A message put together without allocating.
    struct Buf {
        b: [u8; 1024],
        n: usize,
    }

    impl Buf {
        fn byte(&mut self, c: u8) {
            if self.n < self.b.len() {
                self.b[self.n] = c;
                self.n += 1;
            }
        }

        fn s(&mut self, s: &str) -> &mut Buf {
            for &c in s.as_bytes() {
                self.byte(c);
            }
            self
        }

        fn hex(&mut self, v: usize) -> &mut Buf {
            let mut digits = [0u8; 16];
            let mut n = 0;
            let mut v = v;
            loop {
                digits[n] = b"0123456789abcdef"[v & 15];
                n += 1;
                v >>= 4;
                if v == 0 {
                    break;
                }
            }
            self.s("0x");
            for i in (0..n).rev() {
                self.byte(digits[i]);
            }
            self
        }

        fn write(&self) {
            // SAFETY: write(2) on stderr with our buffer; async-signal-safe.
            unsafe { libc::write(2, self.b.as_ptr().cast(), self.n) };
        }
    }

    /// The text of a fault at `addr` on the copy `e` (async-signal-safe).
    fn report(addr: usize, e: &Entry) {
        let by = e.by.load(Acquire);
        // SAFETY: `by` is NULL or a `&'static Site` stored by `register`.
        let api = unsafe { by.as_ref() }.map_or("an API function", |s| s.api);
        let handle = e.handle.load(Relaxed) as usize;
        let mut b = Buf { b: [0; 1024], n: 0 };
        b.s("HPy debug mode: invalid access at ").hex(addr).s(": ");
        b.s("the pointer returned by ")
            .s(api)
            .s(" for handle ")
            .hex(handle);
        match e.stage.load(Acquire) {
            s if s == Stage::Open as u8 => b.s(
                " points to read-only data: it must not be written to (copy the data \
                 to change it)",
            ),
            s if s == Stage::Closed as u8 => b.s(
                " was used after the handle was closed: the data lives only as long as \
                 its handle",
            ),
            _ => b.s(
                " was used after the handle was closed (long ago): the data lives only \
                 as long as its handle",
            ),
        };
        b.s("\nFatal Python error: HPy debug mode: invalid use of raw data (");
        b.s(api).s(")\n");
        b.write();
    }

    static INSTALLED: AtomicBool = AtomicBool::new(false);
    /// The handlers before ours (indexed: SIGSEGV, SIGBUS), written once
    /// before ours is installed.
    static PREVIOUS: [AtomicPtr<libc::sigaction>; 2] = [
        AtomicPtr::new(std::ptr::null_mut()),
        AtomicPtr::new(std::ptr::null_mut()),
    ];
    const SIGNALS: [c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

    /// Installs the handler (once; GIL held).
    pub(crate) fn install() {
        if INSTALLED.swap(true, Relaxed) {
            return;
        }
        page();
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: sigaction with a zeroed (then filled) action and an
            // out-parameter for the old one, which is leaked so the handler
            // can read it forever.
            unsafe {
                let old: *mut libc::sigaction = Box::into_raw(Box::new(std::mem::zeroed()));
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = on_fault as *const () as usize;
                act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut act.sa_mask);
                // Saved first: a fault between the two calls finds it.
                if libc::sigaction(sig, std::ptr::null(), old) == 0 {
                    PREVIOUS[i].store(old, Release);
                    libc::sigaction(sig, &act, std::ptr::null_mut());
                }
            }
        }
    }

    extern "C" fn on_fault(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
        // SAFETY: the kernel passes a valid siginfo; si_addr is the faulting
        // address for a fault it raised (si_code > 0).
        let (addr, from_kernel) = unsafe { ((*info).si_addr() as usize, (*info).si_code > 0) };
        if from_kernel {
            if let Some(e) = covering(addr) {
                report(addr, e);
            }
        }
        chain(sig, info, uctx);
    }

    /// Hands the fault to the handler before ours; with none (or the
    /// default), restores the default action: returning re-runs the faulting
    /// instruction, which then stops the process with the signal.
    fn chain(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
        let i = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
        let prev = PREVIOUS[i].load(Acquire);
        // SAFETY: `prev` is NULL or the leaked old action saved by
        // `install`; calling a handler with the arguments we were given is
        // what the kernel would have done; sigaction is async-signal-safe.
        unsafe {
            if let Some(p) = prev.as_ref() {
                let h = p.sa_sigaction;
                if h != libc::SIG_DFL && h != libc::SIG_IGN {
                    if p.sa_flags & libc::SA_SIGINFO != 0 {
                        let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                            std::mem::transmute(h);
                        f(sig, info, uctx);
                    } else {
                        let f: extern "C" fn(c_int) = std::mem::transmute(h);
                        f(sig);
                    }
                    return;
                }
            }
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut dfl.sa_mask);
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn table_finds_registered_mappings() {
            let _gil = crate::gil::test_gil();
            let page = page();
            let by = crate::site::site!(ctx_Bytes_AsString);
            // Fake addresses (never touched): three mappings, one of 3 pages.
            let base = 0x7000_0000_0000usize;
            let starts = [base, base + 16 * page, base + 64 * page];
            for (n, &s) in starts.iter().enumerate() {
                let len = if n == 1 { 3 * page } else { page };
                register(
                    s,
                    len,
                    Origin {
                        by,
                        handle: 0x100 + n as isize,
                    },
                );
            }
            let e = covering(base + 16 * page + 2 * page + 5).expect("third page of the long one");
            assert_eq!(e.handle.load(Relaxed), 0x101);
            assert!(covering(base + 16 * page + 3 * page).is_none());
            set_stage(base, Stage::Closed);
            assert_eq!(
                covering(base + 1).unwrap().stage.load(Relaxed),
                Stage::Closed as u8
            );
            for s in starts {
                unregister(s);
            }
            for s in starts {
                assert!(covering(s).is_none());
            }
        }
    }
}
