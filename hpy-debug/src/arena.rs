//! An arena of slots that never move, in one reservation of address space,
//! so that a value handed to us as a slot's address (a debug handle, a debug
//! builder) is recognised by arithmetic alone: inside the part of the
//! reservation handed out so far, on a slot boundary. Nothing at an unknown
//! address is ever read, so garbage values are safe to check, and the check
//! is a subtraction, a compare and a remainder by a constant: no lock, no
//! search.
//!
//! The reservation is made once (address space only: inaccessible, not
//! counted as used memory) and made usable a step at a time as slots are
//! needed. Slots are never freed; their owners keep free lists.

use std::marker::PhantomData;

/// Bytes made usable at a time (a multiple of any page size in use).
const COMMIT_STEP: usize = 1 << 16;

pub(crate) struct Arena<T> {
    /// Start of the reservation (null until the first slot).
    base: *mut T,
    /// Bytes reserved, and bytes usable (a prefix).
    reserved: usize,
    committed: usize,
    /// Bytes of the slots handed out (a prefix of the usable part), and
    /// their number.
    end: usize,
    count: usize,
    _slots: PhantomData<T>,
}

impl<T: Default> Arena<T> {
    const SIZE: usize = std::mem::size_of::<T>();

    pub(crate) const fn new() -> Arena<T> {
        Arena {
            base: std::ptr::null_mut(),
            reserved: 0,
            committed: 0,
            end: 0,
            count: 0,
            _slots: PhantomData,
        }
    }

    /// The slot at address `addr`, if it is one handed out by this arena.
    /// For a slot size that is a power of two, one compare: the offset
    /// rotated right by the size's bits is a slot's index exactly when the
    /// bits below the size were 0 (else it is huge).
    #[inline(always)]
    pub(crate) fn find(&self, addr: usize) -> Option<*mut T> {
        let off = addr.wrapping_sub(self.base as usize);
        let found = if Self::SIZE.is_power_of_two() {
            off.rotate_right(Self::SIZE.trailing_zeros()) < self.count
        } else {
            off < self.end && off % Self::SIZE == 0
        };
        found.then_some(addr as *mut T)
    }

    /// A new slot holding `T::default()`, or None when the reservation is
    /// used up (or could not be made).
    pub(crate) fn alloc(&mut self) -> Option<*mut T> {
        if self.base.is_null() {
            let (base, reserved) = imp::reserve()?;
            self.base = base.cast();
            self.reserved = reserved;
        }
        if self.end + Self::SIZE > self.committed {
            let step = COMMIT_STEP.max(Self::SIZE.next_multiple_of(COMMIT_STEP));
            if self.committed + step > self.reserved
                || !imp::commit(self.base.cast(), self.committed, step)
            {
                return None;
            }
            self.committed += step;
        }
        // SAFETY: `end + SIZE <= committed`: the bytes are inside the usable
        // part of our reservation, aligned (the base is page-aligned and
        // `end` a multiple of the size, hence of the alignment), and no slot
        // yet: writing the first value does not drop anything.
        let p = unsafe { self.base.cast::<u8>().add(self.end).cast::<T>() };
        // SAFETY: see above.
        unsafe { p.write(T::default()) };
        self.end += Self::SIZE;
        self.count += 1;
        Some(p)
    }

    /// Every slot handed out, in address order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = *mut T> + '_ {
        (0..self.end / Self::SIZE).map(move |i| {
            // SAFETY: `i` indexes a slot handed out, inside the reservation.
            unsafe { self.base.add(i) }
        })
    }
}

#[cfg(unix)]
mod imp {
    /// Reserves the largest of a few sizes the system grants: inaccessible
    /// address space, usable after `commit`.
    pub(super) fn reserve() -> Option<(*mut u8, usize)> {
        let mut size: usize = if usize::BITS >= 64 { 1 << 34 } else { 1 << 28 };
        while size >= 1 << 22 {
            // SAFETY: a fresh private anonymous mapping, no fixed address.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    size,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                return Some((p.cast(), size));
            }
            size /= 4;
        }
        None
    }

    /// Makes `len` bytes at `base + at` readable and writable (zeroed).
    pub(super) fn commit(base: *mut u8, at: usize, len: usize) -> bool {
        // SAFETY: `[at, at + len)` lies inside the reservation at `base`
        // (the caller checks it against the reserved size).
        unsafe { libc::mprotect(base.add(at).cast(), len, libc::PROT_READ | libc::PROT_WRITE) == 0 }
    }
}

#[cfg(not(unix))]
mod imp {
    /// Without a way to reserve address space, a fixed region allocated on
    /// first use (zeroed, so most systems only back what is touched).
    const SIZE: usize = 1 << 26;

    pub(super) fn reserve() -> Option<(*mut u8, usize)> {
        let layout = std::alloc::Layout::from_size_align(SIZE, 4096).ok()?;
        // SAFETY: non-zero size; never freed (slots live for the process).
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        (!p.is_null()).then_some((p, SIZE))
    }

    pub(super) fn commit(_base: *mut u8, _at: usize, _len: usize) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Three([u64; 3]);

    /// A power-of-two size: `find` takes its one-compare path.
    #[derive(Default)]
    #[repr(align(64))]
    struct Line([u64; 8]);

    trait First: Default {
        fn first(&mut self) -> &mut u64;
    }
    impl First for Three {
        fn first(&mut self) -> &mut u64 {
            &mut self.0[0]
        }
    }
    impl First for Line {
        fn first(&mut self) -> &mut u64 {
            &mut self.0[0]
        }
    }

    fn finds_exactly_the_slots_handed_out<T: First>() {
        let size = std::mem::size_of::<T>();
        let mut a: Arena<T> = Arena::new();
        assert!(a.find(0).is_none() && a.find(0x1000).is_none());
        let slots: Vec<*mut T> = (0..5000).map(|_| a.alloc().unwrap()).collect();
        for (i, &p) in slots.iter().enumerate() {
            assert_eq!(a.find(p as usize), Some(p));
            // SAFETY: a slot of the arena, initialised.
            unsafe { *(*p).first() = i as u64 };
            for off in [1, 8, size - 1] {
                assert!(a.find(p as usize + off).is_none());
            }
        }
        let last = *slots.last().unwrap() as usize;
        assert!(a.find(last + size).is_none());
        assert!(a.find(slots[0] as usize - size).is_none());
        assert!(a.find(slots[0] as usize - 1).is_none());
        assert!(a.find(usize::MAX).is_none());
        assert_eq!(a.slots().collect::<Vec<_>>(), slots);
        for (i, &p) in slots.iter().enumerate() {
            // SAFETY: initialised above; slots never move.
            assert_eq!(unsafe { *(*p).first() }, i as u64);
        }
    }

    #[test]
    fn finds_exactly_the_slots_handed_out_any_size() {
        finds_exactly_the_slots_handed_out::<Three>();
    }

    #[test]
    fn finds_exactly_the_slots_handed_out_power_of_two() {
        finds_exactly_the_slots_handed_out::<Line>();
    }
}
