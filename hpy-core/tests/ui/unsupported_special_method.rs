use hpy_core::prelude::*;

#[hpy_def]
struct Items {
    v: Vec<i64>,
}

#[hpy_def]
impl Items {
    fn __iter__(&self) -> Vec<i64> {
        self.v.clone()
    }
}

fn main() {}
