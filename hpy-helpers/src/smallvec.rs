//! A vector that keeps its first `N` items inline and moves them to memory
//! from C's `realloc` only beyond that, so that the helpers' common calls (a
//! few arguments, a short message) allocate nothing, and the rare long ones
//! need no Rust allocator (this crate is `no_std` without `alloc`: libc is
//! linked into every extension anyway). Growing can fail: [`NoMemory`].

use core::ffi::c_void;
use core::mem::{align_of, size_of, MaybeUninit};

extern "C" {
    fn realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
}

/// The C allocator refused to grow a vector.
#[derive(Debug, PartialEq)]
pub(crate) struct NoMemory;

/// Items of a plain `Copy` type (moved bytewise by `realloc`).
pub(crate) struct SmallVec<T: Copy, const N: usize> {
    /// The items while they fit (the first `len` are initialized; the rest
    /// are not, so that a new vector costs no writes: a message buffer is
    /// a few hundred bytes, filled on every call otherwise).
    inline: [MaybeUninit<T>; N],
    len: usize,
    /// All the items once they no longer fit (null until then).
    heap: *mut T,
    /// The room there is: `N` while inline, then the heap block's (one
    /// field for both saves a test on every push).
    cap: usize,
}

impl<T: Copy, const N: usize> SmallVec<T, N> {
    /// An empty vector.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        // C's malloc aligns for every fundamental type
        const { assert!(align_of::<T>() <= align_of::<u64>()) };
        SmallVec {
            inline: [const { MaybeUninit::uninit() }; N],
            len: 0,
            heap: core::ptr::null_mut(),
            cap: N,
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[T] {
        if self.heap.is_null() {
            // SAFETY: without a heap block, `len <= N` and the first `len`
            // inline items are initialized.
            unsafe { core::slice::from_raw_parts(self.inline.as_ptr().cast::<T>(), self.len) }
        } else {
            // SAFETY: `heap` holds `len <= cap` initialized items.
            unsafe { core::slice::from_raw_parts(self.heap, self.len) }
        }
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        if self.heap.is_null() {
            // SAFETY: as in `as_slice`, and `&mut self` is unique.
            unsafe {
                core::slice::from_raw_parts_mut(self.inline.as_mut_ptr().cast::<T>(), self.len)
            }
        } else {
            // SAFETY: as in `as_slice`, and `&mut self` is unique.
            unsafe { core::slice::from_raw_parts_mut(self.heap, self.len) }
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Keep the first `len` items.
    #[inline]
    pub(crate) fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Remove and return the last item.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        let last = self.as_slice().last().copied()?;
        self.len -= 1;
        Some(last)
    }

    #[inline]
    pub(crate) fn push(&mut self, item: T) -> Result<(), NoMemory> {
        // `len < cap` unless full; `len + 1` cannot overflow, as the items
        // are in memory
        if self.len == self.cap {
            self.reserve_heap(self.len + 1)?;
        }
        let base = if self.heap.is_null() {
            self.inline.as_mut_ptr().cast::<T>()
        } else {
            self.heap
        };
        // SAFETY: `len < cap`: the slot is inside the block.
        unsafe { base.add(self.len).write(item) };
        self.len += 1;
        Ok(())
    }

    #[inline]
    pub(crate) fn extend_from_slice(&mut self, items: &[T]) -> Result<(), NoMemory> {
        let n = items.len();
        let spare = self.spare(n)?;
        // SAFETY: `spare` has room for `n` items and cannot overlap `items`
        // (`&mut self` is unique).
        unsafe { core::ptr::copy_nonoverlapping(items.as_ptr(), spare, n) };
        self.len += n;
        Ok(())
    }

    /// Append `n` copies of `item`.
    #[inline]
    pub(crate) fn extend_fill(&mut self, item: T, n: usize) -> Result<(), NoMemory> {
        let spare = self.spare(n)?;
        for i in 0..n {
            // SAFETY: `spare` has room for `n` items.
            unsafe { spare.add(i).write(item) };
        }
        self.len += n;
        Ok(())
    }

    /// Where the next `n` items go, with room for them (uninitialized;
    /// `len` is the caller's to raise once they are written).
    #[inline]
    fn spare(&mut self, n: usize) -> Result<*mut T, NoMemory> {
        let new_len = self.len.checked_add(n).ok_or(NoMemory)?;
        if new_len > self.cap {
            self.reserve_heap(new_len)?;
        }
        let base = if self.heap.is_null() {
            self.inline.as_mut_ptr().cast::<T>()
        } else {
            self.heap
        };
        // SAFETY: `len <= cap`: the offset stays inside the block.
        Ok(unsafe { base.add(self.len) })
    }

    /// Room for `need` items on the C heap (at least twice what there was).
    #[cold]
    fn reserve_heap(&mut self, need: usize) -> Result<(), NoMemory> {
        let mut block = Block {
            heap: self.heap.cast(),
            cap: self.cap,
        };
        // SAFETY: `block` is this vector's heap block (null while inline),
        // `inline` holds its `len <= N` initialized items until then, and
        // `T` is a plain `Copy` type (moved bytewise).
        unsafe {
            block.grow(
                need,
                N,
                size_of::<T>(),
                self.inline.as_ptr().cast(),
                self.len,
            )
        }?;
        self.heap = block.heap.cast();
        self.cap = block.cap;
        Ok(())
    }
}

/// A vector's heap block, untyped: one copy of the growing code serves
/// every item type.
struct Block {
    heap: *mut u8,
    cap: usize,
}

impl Block {
    /// Room for `need` items of `size` bytes (at least twice what there
    /// was, and twice the inline room `n`); the first time, the `len`
    /// items at `inline` are copied in.
    ///
    /// # Safety
    /// `heap` is null or a block from `realloc` of `cap` items; if null,
    /// `inline` holds `len` initialized items of `size` bytes.
    #[inline(never)]
    unsafe fn grow(
        &mut self,
        need: usize,
        n: usize,
        size: usize,
        inline: *const u8,
        len: usize,
    ) -> Result<(), NoMemory> {
        let cap = need.max(self.cap.saturating_mul(2)).max(2 * n);
        let bytes = cap
            .checked_mul(size)
            .filter(|&b| b <= isize::MAX as usize)
            .ok_or(NoMemory)?;
        let was_inline = self.heap.is_null();
        // SAFETY: `heap` is null or a block from `realloc` (contract);
        // `bytes.max(1)` is not 0, and for zero-sized items any non-null
        // result is a valid pointer for no bytes.
        let p = unsafe { realloc(self.heap.cast(), bytes.max(1)) }.cast::<u8>();
        if p.is_null() {
            return Err(NoMemory);
        }
        if was_inline {
            // SAFETY: `p` has room for `cap >= len` items and does not
            // overlap `inline`, which holds `len` items (contract).
            unsafe { core::ptr::copy_nonoverlapping(inline, p, len * size) };
        }
        self.heap = p;
        self.cap = cap;
        Ok(())
    }
}

impl<T: Copy, const N: usize> Drop for SmallVec<T, N> {
    fn drop(&mut self) {
        if !self.heap.is_null() {
            // SAFETY: a block from `realloc`, freed once.
            unsafe { free(self.heap.cast()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{NoMemory, SmallVec};

    #[test]
    fn inline_then_heap() {
        let mut v = SmallVec::<u8, 4>::new();
        v.push(1).unwrap();
        v.extend_from_slice(&[2, 3]).unwrap();
        assert_eq!(v.as_slice(), [1, 2, 3]);
        v.extend_fill(9, 2).unwrap();
        assert_eq!(v.as_slice(), [1, 2, 3, 9, 9]);
        v.push(4).unwrap();
        v.extend_from_slice(&[5]).unwrap();
        assert_eq!(v.as_slice(), [1, 2, 3, 9, 9, 4, 5]);
        v.as_mut_slice()[0] = 7;
        assert_eq!((v.len(), v.as_slice()[0]), (7, 7));
        v.truncate(2);
        assert_eq!(v.as_slice(), [7, 2]);
        assert_eq!((v.pop(), v.pop(), v.pop()), (Some(2), Some(7), None));
        let mut w = SmallVec::<u8, 4>::new();
        w.extend_from_slice(&[1, 2, 3]).unwrap();
        w.truncate(1);
        assert_eq!(w.as_slice(), [1]);
        let mut big = SmallVec::<u64, 2>::new();
        for i in 0..1000 {
            big.push(i).unwrap();
        }
        assert!(big.as_slice().iter().copied().eq(0..1000));
    }

    #[test]
    fn refuses_impossible_sizes() {
        let mut v = SmallVec::<u8, 4>::new();
        v.extend_from_slice(&[1, 2]).unwrap();
        assert_eq!(v.extend_fill(0, usize::MAX), Err(NoMemory));
        assert_eq!(v.extend_fill(0, isize::MAX as usize), Err(NoMemory));
        assert_eq!(v.as_slice(), [1, 2]);
        v.extend_fill(1, 3).unwrap();
        assert_eq!(v.as_slice(), [1, 2, 1, 1, 1]);
    }
}
