//! Raw-data protection: the `char *` a context function returns for a handle
//! (`HPyUnicode_AsUTF8AndSize`, `HPyBytes_AsString`, `HPyType_GetName`, ...)
//! is a read-only copy that lives as long as the handle. When the handle
//! closes the copy becomes unreadable (in batches: at the latest when the
//! call into the extension returns or an API function reading caller memory
//! is entered, see `handles/queue.rs`), so a use after close faults instead
//! of silently reading the object's live buffer; a write to it faults always.
//!
//! On Unix each copy gets its own pages (`mmap`/`mprotect`; single pages of
//! freed copies are pooled for reuse); elsewhere it is a heap copy
//! overwritten with garbage on close. Each mapping is registered with
//! `faults.rs` (who handed it out, for which handle, and whether that handle
//! is closed), so a fault on it is reported instead of a bare SIGSEGV.

use crate::faults::{self, Origin, Stage};

/// One protected copy; freed when dropped.
pub(crate) struct RawData {
    ptr: std::ptr::NonNull<u8>,
    /// Bytes copied (what the budget of retained data counts).
    len: usize,
    /// Made unreadable by `protect`.
    protected: std::cell::Cell<bool>,
}

impl RawData {
    /// A read-only copy of `data`, handed out by `origin` (None if the
    /// memory could not be had).
    pub(crate) fn copy(data: &[u8], origin: Origin) -> Option<RawData> {
        if data.is_empty() {
            return None;
        }
        let ptr = imp::alloc_copy(data)?;
        faults::register(ptr.as_ptr() as usize, imp::map_len(data.len()), origin);
        Some(RawData {
            ptr,
            len: data.len(),
            protected: std::cell::Cell::new(false),
        })
    }

    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// True if the copy holds exactly `data` (so it can be handed out again).
    pub(crate) fn holds(&self, data: &[u8]) -> bool {
        // SAFETY: the copy is readable (not protected yet) and `len` long.
        data.len() == self.len
            && unsafe { std::slice::from_raw_parts(self.as_ptr(), self.len) } == data
    }

    /// The (unprotected) copy handed out again, by `origin`.
    pub(crate) fn handed_out(&self, origin: Origin) {
        faults::register(self.ptr.as_ptr() as usize, imp::map_len(self.len), origin);
    }

    /// Makes the copy unreadable (its handle was closed); once.
    pub(crate) fn protect(&self) {
        if !self.protected.get() {
            imp::protect(self.ptr, self.len);
            faults::set_stage(self.ptr.as_ptr() as usize, Stage::Closed);
            self.protected.set(true);
        }
    }

    pub(crate) fn is_protected(&self) -> bool {
        self.protected.get()
    }
}

impl Drop for RawData {
    fn drop(&mut self) {
        imp::free(self.ptr, self.len, self.protected.get())
    }
}

#[cfg(unix)]
mod imp {
    use crate::gil::GilCell;
    use std::ptr::NonNull;

    /// Single-page mappings of freed copies, kept for reuse (as addresses):
    /// a copy that fits in a page then costs an `mprotect` instead of an
    /// `mmap` and a `munmap`. Pooled pages are unreadable or read-only, and
    /// made writable only while a new copy is written into them.
    static POOL: GilCell<Vec<usize>> = GilCell::new(Vec::new());
    const POOL_MAX: usize = 256;

    fn page_size() -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static PAGE: AtomicUsize = AtomicUsize::new(0);
        let p = PAGE.load(Ordering::Relaxed);
        if p != 0 {
            return p;
        }
        // SAFETY: sysconf has no preconditions.
        let p = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            n if n > 0 => n as usize,
            _ => 4096,
        };
        PAGE.store(p, Ordering::Relaxed);
        p
    }

    /// The length mapped for a copy of `len` bytes: a whole page for small
    /// copies (so they can be pooled), else `len` rounded up to pages.
    pub(super) fn map_len(len: usize) -> usize {
        len.max(1).next_multiple_of(page_size())
    }

    pub(super) fn alloc_copy(data: &[u8]) -> Option<NonNull<u8>> {
        let len = map_len(data.len());
        let pooled = if len == page_size() {
            POOL.with(|pool| pool.pop())
        } else {
            None
        };
        // SAFETY: either a pooled page (a mapping of `len` bytes made here,
        // owned by nobody else) made writable again, or a fresh private
        // anonymous mapping of `len` bytes; we copy into it while it is
        // writable, then make it read-only.
        unsafe {
            let p = match pooled {
                Some(a) => {
                    let p = a as *mut libc::c_void;
                    if libc::mprotect(p, len, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                        libc::munmap(p, len);
                        crate::faults::unregister(a);
                        return None;
                    }
                    p
                }
                None => {
                    let p = libc::mmap(
                        std::ptr::null_mut(),
                        len,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    );
                    if p == libc::MAP_FAILED {
                        return None;
                    }
                    p
                }
            };
            std::ptr::copy_nonoverlapping(data.as_ptr(), p.cast::<u8>(), data.len());
            libc::mprotect(p, len, libc::PROT_READ);
            NonNull::new(p.cast())
        }
    }

    pub(super) fn protect(p: NonNull<u8>, len: usize) {
        // SAFETY: `p`/`map_len(len)` describe a mapping made by `alloc_copy`.
        unsafe { libc::mprotect(p.as_ptr().cast(), map_len(len), libc::PROT_NONE) };
    }

    pub(super) fn free(p: NonNull<u8>, len: usize, protected: bool) {
        let len = map_len(len);
        if len == page_size() && POOL.with(|pool| pool.len()) < POOL_MAX {
            // Unreadable while pooled, like an unmapped page, for anyone
            // still holding the old pointer.
            let unreadable = protected || {
                // SAFETY: `p`/`len` describe a mapping made by `alloc_copy`.
                unsafe { libc::mprotect(p.as_ptr().cast(), len, libc::PROT_NONE) == 0 }
            };
            if unreadable {
                crate::faults::set_stage(p.as_ptr() as usize, crate::faults::Stage::Freed);
                POOL.with(|pool| pool.push(p.as_ptr() as usize));
                return;
            }
        }
        crate::faults::unregister(p.as_ptr() as usize);
        // SAFETY: `p`/`len` describe a mapping made by `alloc_copy`, unmapped
        // once (by the owning RawData's drop).
        let r = unsafe { libc::munmap(p.as_ptr().cast(), len) };
        if r != 0 {
            // Leaking the pages is harmless; carrying on silently is not
            // worth hiding a bookkeeping bug in the debug mode itself.
            debug_assert!(false, "munmap of protected raw data failed");
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::ptr::NonNull;

    pub(super) fn map_len(len: usize) -> usize {
        len
    }

    pub(super) fn alloc_copy(data: &[u8]) -> Option<NonNull<u8>> {
        let b: Box<[u8]> = data.into();
        NonNull::new(Box::into_raw(b).cast::<u8>())
    }

    pub(super) fn protect(p: NonNull<u8>, len: usize) {
        const POISON: [u8; 4] = [0xBA, 0xD0, 0xDA, 0x7A];
        // SAFETY: `p` is our own `len`-byte heap copy.
        let s = unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), len) };
        for (b, v) in s.iter_mut().zip(POISON.iter().cycle()) {
            *b = *v;
        }
    }

    pub(super) fn free(p: NonNull<u8>, len: usize, _protected: bool) {
        // SAFETY: `p` came from Box::into_raw of a `len`-byte boxed slice.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p.as_ptr(), len)) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_holds_and_frees() {
        let _gil = crate::gil::test_gil();
        let origin = Origin {
            by: crate::site::site!(ctx_Bytes_AsString),
            handle: 0x10,
        };
        let r = RawData::copy(b"hello\0", origin).unwrap();
        assert_eq!(r.len(), 6);
        assert!(r.holds(b"hello\0"));
        assert!(!r.holds(b"hellO\0"));
        r.protect();
        drop(r);
        assert!(RawData::copy(b"", origin).is_none());
    }
}
