use hpy_core::prelude::*;

#[hpy_def(signature = (x, *, offset = 0.0))]
fn scale(x: f64, factor: f64, offset: f64) -> f64 {
    x * factor + offset
}

fn main() {}
