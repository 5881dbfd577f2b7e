//! Plane geometry as an HPy extension in safe Rust: one source builds a
//! universal binary (`geometry.hpy0.so`, any Python with HPy, debug and trace
//! modes included) or a CPython-ABI one.
#![forbid(unsafe_code)]

use hpy_core::prelude::*;
use std::collections::BTreeMap;

create_exception!(geometry, GeometryError, exc::ValueError, "A geometric impossibility.");

/// The distance between (x1, y1) and (x2, y2).
#[hpy_def]
fn distance(x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    (x2 - x1).hypot(y2 - y1)
}

/// The centroid of any number of points, given as (x, y) tuples.
#[hpy_def(signature = (*points))]
fn centroid(points: Vec<(f64, f64)>) -> HPyResult<(f64, f64)> {
    if points.is_empty() {
        return Err(GeometryError::new_err("the centroid of no points"));
    }
    let n = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    Ok((sx / n, sy / n))
}

/// A regular polygon's vertices.
#[hpy_def(signature = (sides, radius = 1.0, *, rotation = 0.0))]
fn regular_polygon(sides: u32, radius: f64, rotation: f64) -> HPyResult<Vec<Point>> {
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
#[hpy_def(signature = (text, **ignore))]
fn word_counts(text: &str, ignore: Option<BTreeMap<String, Handle<'_>>>) -> BTreeMap<String, u64> {
    let skip = ignore.unwrap_or_default();
    let mut counts = BTreeMap::new();
    for w in text.split_whitespace() {
        if !skip.contains_key(w) {
            *counts.entry(w.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// The type name of any object, through the context.
#[hpy_def]
fn describe<'c>(ctx: Context<'c>, obj: &Handle<'c>) -> HPyResult<String> {
    let none = ctx.none();
    Ok(if obj.is_same(&none) { "nothing".to_string() } else { format!("a {}", obj.type_name()) })
}

/// Always panics: the panic becomes a Python exception.
#[hpy_def]
fn explode() -> i64 {
    panic!("boom")
}

/// A point of the plane.
#[hpy_def]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    #[hpy(get, set)]
    x: f64,
    #[hpy(get, set)]
    y: f64,
}

#[hpy_def]
impl Point {
    #[new]
    #[hpy(signature = (x = 0.0, y = 0.0))]
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
    fn from_tuple<'c>(cls: &Handle<'c>, xy: (f64, f64)) -> HPyResult<Handle<'c>> {
        cls.call((xy.0, xy.1))
    }

    /// The distance to the origin.
    #[getter]
    fn norm(&self) -> f64 {
        self.x.hypot(self.y)
    }

    /// Scales the point in place so that its norm is `n`.
    #[setter]
    fn set_norm(&mut self, n: f64) -> HPyResult<()> {
        let cur = self.norm();
        if cur == 0.0 {
            return Err(GeometryError::new_err("the origin has no direction"));
        }
        self.x *= n / cur;
        self.y *= n / cur;
        Ok(())
    }

    fn dot(&self, other: &Point) -> f64 {
        self.x * other.x + self.y * other.y
    }

    fn moved(&self, dx: f64, dy: f64) -> Point {
        Point { x: self.x + dx, y: self.y + dy }
    }

    fn __add__(&self, other: &Point) -> Point {
        Point { x: self.x + other.x, y: self.y + other.y }
    }

    fn __sub__(&self, other: &Point) -> Point {
        Point { x: self.x - other.x, y: self.y - other.y }
    }

    fn __mul__(&self, k: f64) -> Point {
        Point { x: self.x * k, y: self.y * k }
    }

    fn __rmul__(&self, k: f64) -> Point {
        Point { x: self.x * k, y: self.y * k }
    }

    fn __iadd__(&mut self, other: &Point) {
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

    fn __eq__(&self, other: &Point) -> bool {
        self == other
    }

    fn __repr__(&self) -> String {
        format!("Point({}, {})", self.x, self.y)
    }
}

/// A sequence of points.
#[hpy_def]
#[derive(Default)]
struct Polyline {
    points: Vec<Point>,
}

#[hpy_def]
impl Polyline {
    #[new]
    #[hpy(signature = (*points))]
    fn new(points: Vec<(f64, f64)>) -> Self {
        Polyline { points: points.into_iter().map(|(x, y)| Point { x, y }).collect() }
    }

    fn append(&mut self, p: &Point) {
        self.points.push(*p);
    }

    /// The total length.
    fn length(&self) -> f64 {
        self.points.windows(2).map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y)).sum()
    }

    fn __len__(&self) -> usize {
        self.points.len()
    }

    fn __getitem__(&self, i: isize) -> HPyResult<Point> {
        let n = self.points.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(exc::IndexError::new_err("polyline index out of range"));
        }
        Ok(self.points[j as usize])
    }

    fn __setitem__(&mut self, i: usize, p: &Point) -> HPyResult<()> {
        let slot = self.points.get_mut(i).ok_or_else(|| exc::IndexError::new_err("polyline index out of range"))?;
        *slot = *p;
        Ok(())
    }

    fn __contains__(&self, p: &Point) -> bool {
        self.points.contains(p)
    }

    fn __repr__(&self) -> String {
        format!("Polyline({} points)", self.points.len())
    }
}

/// A node of a linked list: `next` is a reference the garbage collector
/// follows, so cycles of nodes are collected.
#[hpy_def(subclass)]
struct Node {
    #[hpy(get, set)]
    value: i64,
    next: Field,
}

#[hpy_def]
impl Node {
    #[new]
    fn new(value: i64) -> Self {
        Node { value, next: Field::new() }
    }

    /// Links this node to `next` (another node), or unlinks it with `None`.
    fn link(&mut self, slf: &Handle<'_>, next: &Handle<'_>) -> HPyResult<()> {
        if next.is_none() {
            self.next.store(slf, None);
        } else if next.is_instance_of::<Node>() {
            self.next.store(slf, Some(next));
        } else {
            return Err(exc::TypeError::new_err(format!("expected a Node or None, got '{}'", next.type_name())));
        }
        Ok(())
    }

    /// The next node, or `None`.
    #[getter]
    fn next<'c>(&self, slf: &Handle<'c>) -> Option<Handle<'c>> {
        self.next.load(slf)
    }

    /// The values from this node on (stops after 10 000: lists may be cycles).
    fn values<'c>(&self, slf: &Handle<'c>) -> HPyResult<Vec<i64>> {
        let mut out = vec![self.value];
        let mut cur = self.next.load(slf);
        while let Some(h) = cur {
            if out.len() >= 10_000 {
                break;
            }
            out.push(h.getattr("value")?.extract()?);
            cur = h.getattr("next").ok().filter(|n| !n.is_none());
        }
        Ok(out)
    }
}

/// Plane geometry, written in Rust with hpy-core.
#[hpy_module]
mod geometry {
    use hpy_core::prelude::*;

    pub use super::{
        centroid, describe, distance, explode, regular_polygon, word_counts, GeometryError, Node, Point, Polyline,
    };

    /// Module constants, set when the module is executed.
    #[hpy(exec)]
    fn init<'c>(_ctx: Context<'c>, module: &Handle<'c>) -> HPyResult<()> {
        module.setattr("ORIGIN", Point { x: 0.0, y: 0.0 })?;
        module.setattr("VERSION", "0.1.0")?;
        Ok(())
    }
}
