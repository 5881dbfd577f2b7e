use hpy_core::prelude::*;

#[hpy_def]
struct Point {
    x: f64,
}

#[hpy_def]
impl Point {
    fn origin() -> Point {
        Point { x: 0.0 }
    }
}

fn main() {}
