//! examples/rust-geometry, written with PyO3 instead of hpy-core, for
//! comparison: the same functions, types and behaviour. Build it with
//! maturin (`maturin develop -r`) or `cargo build --release` and copy
//! `libgeometry.so` to `geometry.cpython-3XY-….so`.
#![forbid(unsafe_code)]

use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use std::collections::BTreeMap;

pyo3::create_exception!(geometry, GeometryError, PyValueError, "A geometric impossibility.");

/// The distance between (x1, y1) and (x2, y2).
#[pyfunction]
#[pyo3(signature = (x1, y1, x2, y2, /))]
fn distance(x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    (x2 - x1).hypot(y2 - y1)
}

/// The centroid of any number of points, given as (x, y) tuples.
#[pyfunction]
#[pyo3(signature = (*points))]
fn centroid(points: Vec<(f64, f64)>) -> PyResult<(f64, f64)> {
    if points.is_empty() {
        return Err(GeometryError::new_err("the centroid of no points"));
    }
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    Ok((sx / n, sy / n))
}

/// A regular polygon's vertices.
#[pyfunction]
#[pyo3(signature = (sides, radius = 1.0, *, rotation = 0.0))]
fn regular_polygon(sides: u32, radius: f64, rotation: f64) -> PyResult<Vec<Point>> {
    if sides < 3 {
        return Err(GeometryError::new_err(format!("a polygon needs 3 sides or more, not {sides}")));
    }
    Ok((0..sides)
        .map(|k| {
            let a = rotation + std::f64::consts::TAU * k as f64 / sides as f64;
            Point { x: radius * a.cos(), y: radius * a.sin() }
        })
        .collect())
}

/// Counts the words of a text, optionally ignoring some (keyword arguments
/// are the words to ignore, with any value).
#[pyfunction]
#[pyo3(signature = (text, **ignore))]
fn word_counts(text: &str, ignore: Option<&Bound<'_, PyDict>>) -> PyResult<BTreeMap<String, u64>> {
    let skip: BTreeMap<String, PyObject> = match ignore {
        Some(d) => d.extract()?,
        None => BTreeMap::new(),
    };
    let mut counts = BTreeMap::new();
    for w in text.split_whitespace() {
        if !skip.contains_key(w) {
            *counts.entry(w.to_string()).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// The type name of any object.
#[pyfunction]
fn describe(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(if obj.is_none() { "nothing".to_string() } else { format!("a {}", obj.get_type().name()?) })
}

/// Always panics: the panic becomes a Python exception.
#[pyfunction]
fn explode() -> i64 {
    panic!("boom")
}

/// A point of the plane.
#[pyclass(module = "geometry")]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    #[pyo3(get, set)]
    x: f64,
    #[pyo3(get, set)]
    y: f64,
}

#[pymethods]
impl Point {
    #[new]
    #[pyo3(signature = (x = 0.0, y = 0.0))]
    fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    /// The origin.
    #[staticmethod]
    fn origin() -> Point {
        Point { x: 0.0, y: 0.0 }
    }

    /// A point from an (x, y) tuple.
    #[classmethod]
    fn from_tuple<'py>(cls: &Bound<'py, PyType>, xy: (f64, f64)) -> PyResult<Bound<'py, PyAny>> {
        cls.call1((xy.0, xy.1))
    }

    /// The distance to the origin.
    #[getter]
    fn norm(&self) -> f64 {
        self.x.hypot(self.y)
    }

    #[setter]
    fn set_norm(&mut self, n: f64) -> PyResult<()> {
        let cur = self.norm();
        if cur == 0.0 {
            return Err(GeometryError::new_err("the origin has no direction"));
        }
        self.x *= n / cur;
        self.y *= n / cur;
        Ok(())
    }

    fn dot(&self, other: PyRef<'_, Point>) -> f64 {
        self.x * other.x + self.y * other.y
    }

    fn moved(&self, dx: f64, dy: f64) -> Point {
        Point { x: self.x + dx, y: self.y + dy }
    }

    fn __add__(&self, other: PyRef<'_, Point>) -> Point {
        Point { x: self.x + other.x, y: self.y + other.y }
    }

    fn __sub__(&self, other: PyRef<'_, Point>) -> Point {
        Point { x: self.x - other.x, y: self.y - other.y }
    }

    fn __mul__(&self, k: f64) -> Point {
        Point { x: self.x * k, y: self.y * k }
    }

    fn __rmul__(&self, k: f64) -> Point {
        Point { x: self.x * k, y: self.y * k }
    }

    fn __iadd__(&mut self, other: PyRef<'_, Point>) {
        self.x += other.x;
        self.y += other.y;
    }

    fn __neg__(&self) -> Point {
        Point { x: -self.x, y: -self.y }
    }

    fn __abs__(&self) -> f64 {
        self.norm()
    }

    fn __bool__(&self) -> bool {
        self.x != 0.0 || self.y != 0.0
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.extract::<Point>().map_or(false, |o| *self == o)
    }

    fn __repr__(&self) -> String {
        format!("Point({}, {})", self.x, self.y)
    }
}

/// A sequence of points.
#[pyclass(module = "geometry")]
#[derive(Default)]
struct Polyline {
    points: Vec<Point>,
}

#[pymethods]
impl Polyline {
    #[new]
    #[pyo3(signature = (*points))]
    fn new(points: Vec<(f64, f64)>) -> Self {
        Polyline { points: points.into_iter().map(|(x, y)| Point { x, y }).collect() }
    }

    fn append(&mut self, p: PyRef<'_, Point>) {
        self.points.push(*p);
    }

    /// The total length.
    fn length(&self) -> f64 {
        self.points.windows(2).map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y)).sum()
    }

    fn __len__(&self) -> usize {
        self.points.len()
    }

    fn __getitem__(&self, i: isize) -> PyResult<Point> {
        let n = self.points.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(PyIndexError::new_err("polyline index out of range"));
        }
        Ok(self.points[j as usize])
    }

    fn __setitem__(&mut self, i: usize, p: PyRef<'_, Point>) -> PyResult<()> {
        let slot = self.points.get_mut(i).ok_or_else(|| PyIndexError::new_err("polyline index out of range"))?;
        *slot = *p;
        Ok(())
    }

    fn __contains__(&self, p: PyRef<'_, Point>) -> bool {
        self.points.contains(&*p)
    }

    fn __repr__(&self) -> String {
        format!("Polyline({} points)", self.points.len())
    }
}

/// A node of a linked list: `next` is a reference the garbage collector
/// follows, so cycles of nodes are collected.
#[pyclass(module = "geometry", subclass)]
struct Node {
    #[pyo3(get, set)]
    value: i64,
    next: Option<Py<Node>>,
}

#[pymethods]
impl Node {
    #[new]
    fn new(value: i64) -> Self {
        Node { value, next: None }
    }

    /// Links this node to `next` (another node), or unlinks it with `None`.
    fn link(&mut self, next: &Bound<'_, PyAny>) -> PyResult<()> {
        if next.is_none() {
            self.next = None;
        } else if let Ok(n) = next.downcast::<Node>() {
            self.next = Some(n.clone().unbind());
        } else {
            return Err(PyTypeError::new_err(format!(
                "expected a Node or None, got '{}'",
                next.get_type().name()?
            )));
        }
        Ok(())
    }

    /// The next node, or `None`.
    #[getter]
    fn next(&self, py: Python<'_>) -> Option<Py<Node>> {
        self.next.as_ref().map(|n| n.clone_ref(py))
    }

    /// The values from this node on (stops after 10 000: lists may be cycles).
    fn values(&self, py: Python<'_>) -> Vec<i64> {
        let mut out = vec![self.value];
        let mut cur = self.next.as_ref().map(|n| n.clone_ref(py));
        while let Some(n) = cur {
            if out.len() >= 10_000 {
                break;
            }
            let b = n.borrow(py);
            out.push(b.value);
            cur = b.next.as_ref().map(|n| n.clone_ref(py));
        }
        out
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        if let Some(n) = &self.next {
            visit.call(n)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.next = None;
    }
}

/// Plane geometry, written in Rust with PyO3.
#[pymodule]
fn geometry(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(distance, m)?)?;
    m.add_function(wrap_pyfunction!(centroid, m)?)?;
    m.add_function(wrap_pyfunction!(regular_polygon, m)?)?;
    m.add_function(wrap_pyfunction!(word_counts, m)?)?;
    m.add_function(wrap_pyfunction!(describe, m)?)?;
    m.add_function(wrap_pyfunction!(explode, m)?)?;
    m.add_class::<Point>()?;
    m.add_class::<Polyline>()?;
    m.add_class::<Node>()?;
    m.add("GeometryError", m.py().get_type::<GeometryError>())?;
    m.add("ORIGIN", Point { x: 0.0, y: 0.0 })?;
    m.add("VERSION", "0.1.0")?;
    let _ = PyTuple::empty(m.py());
    Ok(())
}
