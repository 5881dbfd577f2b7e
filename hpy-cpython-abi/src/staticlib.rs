//! What the shipped static library brings in place of Rust's standard
//! library (built with `--cfg hpy_cpython_abi_staticlib` and panic=abort,
//! see `Cargo.toml`): the allocator, C's, and the panic handler, which stops
//! the process with a message. Without std, an extension carries neither
//! its unwinder nor its backtrace printer, nor needs `libgcc_s`.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use core::panic::PanicInfo;
use core::ptr::null_mut;
use hpy_cpython::ffi;

/// The alignment `malloc` gives every block at least as large as it (glibc:
/// twice the size of a pointer, and 16 on 32-bit x86 too).
const MALLOC_ALIGN: usize = if cfg!(target_arch = "x86") {
    16
} else {
    2 * size_of::<usize>()
};

/// C's `malloc`, `realloc` and `free`; `posix_memalign` for the rare larger
/// alignment.
struct CAllocator;

/// Whether a plain `malloc` of `size` bytes is aligned enough for `layout`.
fn malloc_aligns(layout: Layout, size: usize) -> bool {
    layout.align() <= MALLOC_ALIGN && layout.align() <= size
}

// SAFETY: every block comes from C's allocator, aligned as `layout` asks
// (malloc's guarantee, or posix_memalign's), and goes back to `free`, which
// takes blocks of both.
unsafe impl GlobalAlloc for CAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if malloc_aligns(layout, layout.size()) {
            // SAFETY: any size is valid for malloc (NULL on failure).
            unsafe { libc::malloc(layout.size()).cast() }
        } else {
            let mut p: *mut c_void = null_mut();
            let align = layout.align().max(size_of::<usize>());
            // SAFETY: `align` is a power of two (Layout's) and a multiple of
            // the pointer size, as posix_memalign requires; `p` is writable.
            match unsafe { libc::posix_memalign(&mut p, align, layout.size()) } {
                0 => p.cast(),
                _ => null_mut(),
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above (GlobalAlloc's
        // contract), so from malloc or posix_memalign.
        unsafe { libc::free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if malloc_aligns(layout, new_size) {
            // SAFETY: `ptr` is a live block of C's allocator (contract);
            // realloc keeps malloc's alignment, enough for `layout`.
            unsafe { libc::realloc(ptr.cast(), new_size).cast() }
        } else {
            let new = Layout::from_size_align(new_size, layout.align());
            let Ok(new) = new else { return null_mut() };
            // SAFETY: a fresh block of `new_size` bytes; both blocks hold at
            // least min(old, new) bytes and do not overlap; `ptr` is freed
            // once, by its owner's contract.
            unsafe {
                let q = self.alloc(new);
                if !q.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                q
            }
        }
    }
}

#[global_allocator]
static ALLOCATOR: CAllocator = CAllocator;

/// Writes `bytes` to the standard error, best effort (the process is about
/// to stop).
fn stderr(bytes: &[u8]) {
    // SAFETY: pointer and length describe `bytes`; fd 2 is the standard
    // error (a bad descriptor only makes `write` fail).
    let _ = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

/// `n` in decimal, without `core::fmt`.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Nothing in the runtime should panic; if something does, say where (and
/// what, for a literal message), then stop like CPython's fatal errors do,
/// with the Python stack of the thread.
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    stderr(b"hpy-rs: panic in the CPython-ABI runtime");
    if let Some(at) = info.location() {
        stderr(b" at ");
        stderr(at.file().as_bytes());
        stderr(b":");
        stderr(decimal(at.line(), &mut [0; 10]));
    }
    if let Some(text) = info.message().as_str() {
        stderr(b": ");
        stderr(text.as_bytes());
    }
    stderr(b"\n");
    // SAFETY: a NUL-terminated message; Py_FatalError does not return (it
    // may be called without the GIL: it then prints no Python stack).
    unsafe {
        ffi::Py_FatalError(c"internal error in the HPy CPython-ABI runtime (hpy-rs)".as_ptr())
    }
}
