//! `bench_rust_hpy`: the call/slot functions of benches/c/bench_hpy.c (same
//! names, arguments and results) written with `#[hpy_def]`, as a user would.
//! scripts/bench.py builds this one source for the universal and the cpython
//! ABI and times it next to the C variants and PyO3's (benches/rust/pyo3).
//! The C loops of bench_hpy.c (`*_loop`) measure the C API, not the calling
//! convention, and have no twin here.
#![forbid(unsafe_code)]

use hpy_core::prelude::*;

/// The context's name (which implementation loaded the module).
#[hpy_def]
fn ctx_name(ctx: Context<'_>) -> String {
    ctx.name()
}

/// f() NOARGS, returns None.
#[hpy_def]
fn noargs() {}

/// f() NOARGS, returns 42.
#[hpy_def]
fn noargs_int() -> i64 {
    42
}

/// f(x) O, returns None.
#[hpy_def]
fn onearg(_a: &Handle<'_>) {}

/// f(a, b) VARARGS, exactly two arguments, returns None.
#[hpy_def]
fn varargs(_a: &Handle<'_>, _b: &Handle<'_>) {}

/// f(a, b) KEYWORDS (called as f(1, b=2)), returns None.
#[hpy_def(signature = (a, b))]
fn keywords(a: &Handle<'_>, b: &Handle<'_>) {
    let _ = (a, b);
}

/// Point() sets x = 1, y = 2; p + q returns q; p() returns None.
#[hpy_def]
struct Point {
    #[allow(dead_code)]
    x: i64,
    #[allow(dead_code)]
    y: i64,
}

#[hpy_def]
impl Point {
    #[new]
    fn new() -> Self {
        Point { x: 1, y: 2 }
    }

    fn __add__<'c>(&self, other: &Handle<'c>) -> Handle<'c> {
        other.dup()
    }

    fn __call__(&self) {}
}

/// hpy-rs benchmark module (#[hpy_def])
#[hpy_module]
mod bench_rust_hpy {
    pub use super::{ctx_name, keywords, noargs, noargs_int, onearg, varargs, Point};
}
