//! Every feature of the macros, in safe code.
#![forbid(unsafe_code)]
#![deny(warnings)]

use hpy_core::prelude::*;
use std::collections::BTreeMap;

create_exception!(
    kitchen,
    KitchenError,
    exc::ValueError,
    "Something went wrong."
);
create_exception!(kitchen, PlainError, exc::Exception);

/// Positional-only parameters, no signature.
#[hpy_def]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[hpy_def]
fn nothing() {}

#[hpy_def]
fn one(x: f64) -> HPyResult<f64> {
    if x < 0.0 {
        return Err(KitchenError::new_err("negative"));
    }
    Ok(x.sqrt())
}

/// Defaults, keyword-only, renamed.
#[hpy_def(signature = (x, factor = 2.0, /, *, offset = 0.0), name = "scale_by")]
fn scale(x: f64, factor: f64, offset: f64) -> f64 {
    x * factor + offset
}

/// `*args`, `**kwargs` and the context.
#[hpy_def(signature = (text, *words, sep = None, **options))]
fn join<'c>(
    ctx: Context<'c>,
    text: &str,
    words: Vec<String>,
    sep: Option<String>,
    options: Option<BTreeMap<String, Handle<'c>>>,
) -> HPyResult<Handle<'c>> {
    let sep = sep.unwrap_or_else(|| " ".to_string());
    let mut all = vec![text.to_string()];
    all.extend(words);
    let n = options.map(|o| o.len()).unwrap_or(0);
    ctx.to_object((all.join(&sep), n))
}

#[hpy_def]
fn first<'c>(seq: &Handle<'c>) -> HPyResult<Handle<'c>> {
    seq.get_item(0)
}

#[hpy_def]
fn raw_bytes(b: &[u8]) -> Bytes {
    Bytes(b.to_vec())
}

/// A type with fields.
#[hpy_def(subclass)]
#[derive(Clone, Debug, PartialEq)]
struct Vec2 {
    #[hpy(get, set)]
    x: f64,
    /// Read-only.
    #[hpy(get)]
    y: f64,
    label: String,
}

#[hpy_def]
impl Vec2 {
    #[new]
    #[hpy(signature = (x = 0.0, y = 0.0))]
    fn new(x: f64, y: f64) -> Self {
        Vec2 {
            x,
            y,
            label: String::new(),
        }
    }

    /// A method.
    fn norm(&self) -> f64 {
        self.x.hypot(self.y)
    }

    #[hpy(signature = (dx, dy = 0.0))]
    fn moved(&self, dx: f64, dy: f64) -> Vec2 {
        Vec2 {
            x: self.x + dx,
            y: self.y + dy,
            label: self.label.clone(),
        }
    }

    fn relabel(&mut self, slf: &Handle<'_>, label: &str) -> HPyResult<()> {
        let _ = slf.type_name();
        self.label = label.to_string();
        Ok(())
    }

    #[staticmethod]
    fn origin() -> Vec2 {
        Vec2 {
            x: 0.0,
            y: 0.0,
            label: String::new(),
        }
    }

    #[classmethod]
    fn from_tuple<'c>(cls: &Handle<'c>, xy: (f64, f64)) -> HPyResult<Handle<'c>> {
        cls.call((xy.0, xy.1))
    }

    #[getter]
    fn label(&self) -> String {
        self.label.clone()
    }

    #[setter]
    fn set_label(&mut self, label: String) {
        self.label = label;
    }

    fn __add__(&self, other: &Vec2) -> Vec2 {
        Vec2 {
            x: self.x + other.x,
            y: self.y + other.y,
            label: String::new(),
        }
    }

    fn __rmul__(&self, k: f64) -> Vec2 {
        Vec2 {
            x: self.x * k,
            y: self.y * k,
            label: String::new(),
        }
    }

    fn __iadd__(&mut self, other: &Vec2) {
        self.x += other.x;
        self.y += other.y;
    }

    fn __pow__(&self, e: f64, _modulo: &Handle<'_>) -> f64 {
        self.norm().powf(e)
    }

    fn __neg__(&self) -> Vec2 {
        Vec2 {
            x: -self.x,
            y: -self.y,
            label: self.label.clone(),
        }
    }

    fn __bool__(&self) -> bool {
        self.x != 0.0 || self.y != 0.0
    }

    fn __hash__(&self) -> i64 {
        (self.x.to_bits() ^ self.y.to_bits()) as i64
    }

    fn __eq__(&self, other: &Vec2) -> bool {
        self == other
    }

    fn __lt__(&self, other: &Vec2) -> bool {
        self.norm() < other.norm()
    }

    fn __repr__(&self) -> String {
        format!("Vec2({}, {})", self.x, self.y)
    }

    fn __call__(&self, k: f64) -> f64 {
        self.norm() * k
    }
}

/// A container with a reference the garbage collector follows.
#[hpy_def]
struct Bag {
    items: Vec<i64>,
    parent: Field,
}

#[hpy_def]
impl Bag {
    #[new]
    #[hpy(signature = (*items))]
    fn new(items: Vec<i64>) -> Self {
        Bag {
            items,
            parent: Field::new(),
        }
    }

    fn adopt(&mut self, slf: &Handle<'_>, parent: &Handle<'_>) {
        self.parent.store(slf, Some(parent));
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __getitem__(&self, i: usize) -> HPyResult<i64> {
        self.items
            .get(i)
            .copied()
            .ok_or_else(|| exc::IndexError::new_err("index out of range"))
    }

    fn __setitem__(&mut self, i: usize, v: i64) -> HPyResult<()> {
        *self
            .items
            .get_mut(i)
            .ok_or_else(|| exc::IndexError::new_err("index out of range"))? = v;
        Ok(())
    }

    fn __delitem__(&mut self, i: usize) {
        if i < self.items.len() {
            self.items.remove(i);
        }
    }

    fn __contains__(&self, v: i64) -> bool {
        self.items.contains(&v)
    }

    fn __richcmp__(&self, other: &Bag, op: CompareOp) -> HPyResult<bool> {
        match op {
            CompareOp::Eq => Ok(self.items == other.items),
            CompareOp::Ne => Ok(self.items != other.items),
            _ => Err(exc::TypeError::new_err("bags are not ordered")),
        }
    }
}

/// A type without an impl block.
#[hpy_def(name = "Unit")]
struct Marker;

/// Many objects of one type, which is looked up once.
#[hpy_def]
fn markers(ctx: Context<'_>, n: usize) -> HPyResult<Vec<Handle<'_>>> {
    let ty = hpy_core::type_object::<Marker>(ctx)?;
    (0..n).map(|_| hpy_core::new_object_of(&ty, Marker)).collect()
}

/// The module.
#[hpy_module]
mod kitchen {
    use hpy_core::prelude::*;

    pub use super::{
        add, first, join, markers, nothing, one, raw_bytes, scale, Bag, KitchenError, Marker,
        PlainError,
        Vec2,
    };

    #[hpy(exec)]
    fn init<'c>(_ctx: Context<'c>, module: &Handle<'c>) -> HPyResult<()> {
        module.setattr("ORIGIN", super::Vec2::new(0.0, 0.0))?;
        module.setattr("VERSION", "1.0")
    }
}

fn main() {}
