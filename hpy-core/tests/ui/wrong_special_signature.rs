use hpy_core::prelude::*;

#[hpy_def]
struct Bag {
    n: usize,
}

#[hpy_def]
impl Bag {
    fn __len__(&self, x: i64) -> usize {
        self.n + x as usize
    }
}

#[hpy_def]
struct Num {
    v: f64,
}

#[hpy_def]
impl Num {
    fn __add__(&self) -> Num {
        Num { v: self.v }
    }
}

fn main() {}
