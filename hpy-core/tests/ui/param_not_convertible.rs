use hpy_core::prelude::*;

#[hpy_def]
fn size(f: std::fs::File) -> i64 {
    f.metadata().map(|m| m.len() as i64).unwrap_or(-1)
}

fn main() {}
