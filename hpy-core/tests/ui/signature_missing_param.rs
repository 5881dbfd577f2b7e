use hpy_core::prelude::*;

#[hpy_def(signature = (x, factr = 2.0))]
fn scale(x: f64, factor: f64) -> f64 {
    x * factor
}

fn main() {}
