#![forbid(unsafe_code)]
use hpy_core::prelude::*; // hpy_def, hpy_module, Handle, HPyResult, exc, ...

/// Add two integers.
#[hpy_def]
fn add(a: i64, b: i64) -> i64 {            // add(2**63, 1) -> OverflowError; add("a", 1) -> TypeError
    a + b
}

/// Scale x.
#[hpy_def(signature = (x, factor = 2.0, *, offset = 0.0))]
fn scale(x: f64, factor: f64, offset: f64) -> f64 {   // scale(1, 2, 3) -> TypeError (offset is keyword-only)
    x * factor + offset
}

#[hpy_def]
fn checked_div(a: i64, b: i64) -> HPyResult<i64> {
    if b == 0 {
        return Err(exc::ZeroDivisionError::new_err("division by zero"));
    }
    Ok(a.div_euclid(b))
}

#[hpy_def(signature = (*words, sep = None))]
fn join(words: Vec<String>, sep: Option<String>) -> String {   // join("a", "b", sep="-") == "a-b"
    words.join(sep.as_deref().unwrap_or(" "))
}

/// The first item of any sequence.
#[hpy_def]
fn first<'c>(seq: &Handle<'c>) -> HPyResult<Handle<'c>> {       // first(5) -> TypeError
    seq.get_item(0)
}

/// A 2-d vector.
#[hpy_def]
struct Vec2 {
    #[hpy(get, set)]
    x: f64,
    #[hpy(get)]
    y: f64,                                  // v.y = 1 -> AttributeError
}

#[hpy_def]
impl Vec2 {
    #[new]
    fn new(x: f64, y: f64) -> Self {
        Vec2 { x, y }
    }
    fn norm(&self) -> f64 {
        self.x.hypot(self.y)
    }
    fn __add__(&self, other: &Vec2) -> Vec2 {
        Vec2 { x: self.x + other.x, y: self.y + other.y }
    }
    fn __repr__(&self) -> String {
        format!("Vec2({}, {})", self.x, self.y)
    }
}

/// A demo module.
#[hpy_module]
mod demo {
    pub use super::{add, checked_div, first, join, scale, Vec2};
}
