use hpy_core::prelude::*;

#[hpy_def]
struct Counter {
    n: i64,
}

#[hpy_def]
impl Counter {
    fn __foo__(&self) -> i64 {
        self.n
    }
}

fn main() {}
