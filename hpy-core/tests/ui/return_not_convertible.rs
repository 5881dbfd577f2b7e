use hpy_core::prelude::*;

struct Opaque;

#[hpy_def]
fn make() -> Opaque {
    Opaque
}

fn main() {}
