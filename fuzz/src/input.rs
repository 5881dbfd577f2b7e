//! The fuzz input as a stream of choices. Every read succeeds: past the end
//! of the input, numbers read as 0 and byte strings as empty, so every input
//! is a valid test case and libFuzzer's mutations stay meaningful.

/// A cursor over the fuzz input.
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                b
            }
            None => 0,
        }
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        head
    }

    /// The bytes up to the next NUL (which is consumed), or the rest.
    pub fn until_nul(&mut self) -> &'a [u8] {
        let n = self.rest.iter().position(|&b| b == 0);
        let head = self.bytes(n.unwrap_or(self.rest.len()));
        if n.is_some() {
            self.u8();
        }
        head
    }

    /// A little-endian `u64` from up to 8 bytes.
    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        let got = self.bytes(8);
        b[..got.len()].copy_from_slice(got);
        u64::from_le_bytes(b)
    }

    /// A 64-bit integer biased towards the edges of the C integer types:
    /// one byte picks an edge (0, ±1, the bounds of 8 to 64 bits, ±1
    /// around them) or a raw 64-bit value.
    pub fn edgy_i64(&mut self) -> i64 {
        const EDGES: [i64; 12] = [
            0,
            1,
            -1,
            i8::MAX as i64,
            u8::MAX as i64,
            i16::MAX as i64,
            u16::MAX as i64,
            i32::MAX as i64,
            u32::MAX as i64,
            i64::MAX,
            i64::MIN,
            i32::MIN as i64,
        ];
        let pick = self.u8();
        match pick % 16 {
            n @ 0..=11 => {
                // one above or below the edge, by the high bits of the pick
                let delta = i64::from(pick >> 6) - 1;
                EDGES[n as usize].wrapping_add(delta)
            }
            12 => i64::from(self.u8() as i8),
            _ => self.u64() as i64,
        }
    }
}
