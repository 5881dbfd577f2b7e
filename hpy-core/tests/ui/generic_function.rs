use hpy_core::prelude::*;

#[hpy_def]
fn twice<T: Clone>(x: T) -> (T, T) {
    (x.clone(), x)
}

fn main() {}
