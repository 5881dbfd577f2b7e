//! A vector that keeps its first `N` items inline and moves to the heap only
//! beyond that, so that the helpers' common calls (a few arguments, a short
//! message) allocate nothing. Safe code only: the inline part starts filled
//! with a value the caller gives, which suits the small `Copy` items kept here.

use std::collections::TryReserveError;

pub(crate) struct SmallVec<T: Copy, const N: usize> {
    /// The items while they fit (`len` of them).
    inline: [T; N],
    len: usize,
    /// All the items once they no longer fit.
    heap: Option<Vec<T>>,
}

impl<T: Copy, const N: usize> SmallVec<T, N> {
    /// An empty vector; `fill` initializes the unused inline slots.
    #[inline]
    pub(crate) fn new(fill: T) -> Self {
        SmallVec {
            inline: [fill; N],
            len: 0,
            heap: None,
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[T] {
        match &self.heap {
            Some(v) => v,
            None => &self.inline[..self.len],
        }
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.heap {
            Some(v) => v,
            None => &mut self.inline[..self.len],
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Keep the first `len` items.
    #[inline]
    pub(crate) fn truncate(&mut self, len: usize) {
        match &mut self.heap {
            Some(v) => v.truncate(len),
            None => self.len = self.len.min(len),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        if self.heap.is_none() && self.len < N {
            self.inline[self.len] = item;
            self.len += 1;
        } else {
            self.spill(1).push(item);
        }
    }

    #[inline]
    pub(crate) fn extend_from_slice(&mut self, items: &[T]) {
        // no overflow: `len <= N` and a slice has at most isize::MAX items
        if self.heap.is_none() && self.len + items.len() <= N {
            let end = self.len + items.len();
            self.inline[self.len..end].copy_from_slice(items);
            self.len = end;
        } else {
            self.spill(items.len()).extend_from_slice(items);
        }
    }

    /// Append `n` copies of `item`.
    #[inline]
    pub(crate) fn extend_fill(&mut self, item: T, n: usize) {
        if self.heap.is_none() && n <= N - self.len {
            let end = self.len + n;
            self.inline[self.len..end].fill(item);
            self.len = end;
        } else {
            let v = self.spill(n);
            v.resize(v.len() + n, item);
        }
    }

    /// Make room for `additional` more items, failing (rather than aborting)
    /// if the allocator cannot.
    #[inline]
    pub(crate) fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        if self.heap.is_none() && additional <= N - self.len {
            return Ok(());
        }
        self.try_reserve_heap(additional)
    }

    #[cold]
    fn try_reserve_heap(&mut self, additional: usize) -> Result<(), TryReserveError> {
        match &mut self.heap {
            Some(v) => v.try_reserve(additional),
            None => {
                let mut v = Vec::new();
                v.try_reserve(self.len.saturating_add(additional))?;
                v.extend_from_slice(&self.inline[..self.len]);
                self.heap = Some(v);
                Ok(())
            }
        }
    }

    /// The heap vector, made (with room for `additional` more) if the items
    /// are still inline.
    #[cold]
    fn spill(&mut self, additional: usize) -> &mut Vec<T> {
        let (inline, len) = (&self.inline, self.len);
        self.heap.get_or_insert_with(|| {
            let mut v = Vec::with_capacity(len.saturating_add(additional).max(2 * N));
            v.extend_from_slice(&inline[..len]);
            v
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SmallVec;

    #[test]
    fn inline_then_heap() {
        let mut v = SmallVec::<u8, 4>::new(0);
        v.push(1);
        v.extend_from_slice(&[2, 3]);
        assert!(v.heap.is_none());
        assert_eq!(v.as_slice(), [1, 2, 3]);
        v.extend_fill(9, 2);
        assert_eq!(v.as_slice(), [1, 2, 3, 9, 9]);
        v.push(4);
        v.extend_from_slice(&[5]);
        assert_eq!(v.as_slice(), [1, 2, 3, 9, 9, 4, 5]);
        v.as_mut_slice()[0] = 7;
        assert_eq!((v.len(), v.as_slice()[0]), (7, 7));
        v.truncate(2);
        assert_eq!(v.as_slice(), [7, 2]);
        let mut w = SmallVec::<u8, 4>::new(0);
        w.extend_from_slice(&[1, 2, 3]);
        w.truncate(9);
        w.truncate(1);
        assert_eq!(w.as_slice(), [1]);
    }

    #[test]
    fn reserve() {
        let mut v = SmallVec::<u8, 4>::new(0);
        v.extend_from_slice(&[1, 2]);
        assert!(v.try_reserve(2).is_ok());
        assert!(v.heap.is_none());
        assert!(v.try_reserve(3).is_ok());
        assert_eq!(v.as_slice(), [1, 2]);
        assert!(v.try_reserve(usize::MAX).is_err());
        assert_eq!(v.as_slice(), [1, 2]);
        let mut w = SmallVec::<u8, 4>::new(0);
        assert!(w.try_reserve(usize::MAX).is_err());
        w.extend_fill(1, 4);
        w.extend_fill(2, 0);
        assert!(w.heap.is_none());
        w.extend_fill(2, 1);
        assert_eq!(w.as_slice(), [1, 1, 1, 1, 2]);
    }
}
