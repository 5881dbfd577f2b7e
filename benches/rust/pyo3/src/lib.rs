//! `bench_rust_pyo3`: the call/slot functions of benches/c/bench_capi.c
//! (same names, arguments and results) written with PyO3, as a user would,
//! for scripts/bench.py to time next to the C and `#[hpy_def]` variants
//! (benches/rust/hpy). A benchmark-only crate: nothing else depends on PyO3.
#![forbid(unsafe_code)]

use pyo3::prelude::*;

/// The implementation (the HPy variants report their context's name).
#[pyfunction]
fn ctx_name() -> &'static str {
    "PyO3"
}

/// f() NOARGS, returns None.
#[pyfunction]
fn noargs() {}

/// f() NOARGS, returns 42.
#[pyfunction]
fn noargs_int() -> i64 {
    42
}

/// f(x), positional-only (C: METH_O), returns None.
#[pyfunction]
#[pyo3(signature = (_a, /))]
fn onearg(_a: &Bound<'_, PyAny>) {}

/// f(a, b), exactly two positional-only arguments, returns None.
#[pyfunction]
#[pyo3(signature = (_a, _b, /))]
fn varargs(_a: &Bound<'_, PyAny>, _b: &Bound<'_, PyAny>) {}

/// f(a, b) with keywords (called as f(1, b=2)), returns None.
#[pyfunction]
#[pyo3(signature = (a, b))]
fn keywords(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) {
    let _ = (a, b);
}

/// Point() sets x = 1, y = 2; p + q returns q; p() returns None.
#[pyclass(module = "bench_rust_pyo3")]
struct Point {
    #[allow(dead_code)]
    x: i64,
    #[allow(dead_code)]
    y: i64,
}

#[pymethods]
impl Point {
    #[new]
    fn new() -> Self {
        Point { x: 1, y: 2 }
    }

    fn __add__<'py>(&self, other: Bound<'py, PyAny>) -> Bound<'py, PyAny> {
        other
    }

    fn __call__(&self) {}
}

/// hpy-rs benchmark module (PyO3)
#[pymodule]
mod bench_rust_pyo3 {
    #[pymodule_export]
    use super::{ctx_name, keywords, noargs, noargs_int, onearg, varargs, Point};
}
