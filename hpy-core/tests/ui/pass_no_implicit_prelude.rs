//! The generated code names everything by its full path: it compiles
//! without the prelude.
#![no_implicit_prelude]

extern crate hpy_core;
extern crate std;

use hpy_core::prelude::*;
use std::string::String;
use std::vec::Vec;

// `create_exception!` is not used here: its `@doc` arms in
// hpy-core/src/exc.rs expand to unqualified `Some`/`None` (to fix there with
// `::core::option::Option::...`, then add it back with `Oops` below).

#[hpy_def]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[hpy_def(signature = (x, factor = 2.0, *, offset = 0.0))]
fn scale(x: f64, factor: f64, offset: f64) -> f64 {
    x * factor + offset
}

#[hpy_def(signature = (*words, sep = ::std::option::Option::None, **kw))]
fn join(
    words: Vec<String>,
    sep: ::std::option::Option<String>,
    kw: ::std::option::Option<Handle<'_>>,
) -> String {
    let _ = kw;
    words.join(sep.as_deref().unwrap_or(" "))
}

#[hpy_def]
fn fails() -> HPyResult<()> {
    ::std::result::Result::Err(exc::ValueError::new_err("no"))
}

/// A documented type.
#[hpy_def]
struct P {
    #[hpy(get, set)]
    x: f64,
    parent: Field,
}

#[hpy_def]
impl P {
    #[new]
    #[hpy(signature = (x = 0.0))]
    fn new(x: f64) -> Self {
        P {
            x,
            parent: Field::new(),
        }
    }

    fn twice(&self) -> f64 {
        self.x * 2.0
    }

    #[staticmethod]
    fn zero() -> P {
        P {
            x: 0.0,
            parent: Field::new(),
        }
    }

    #[classmethod]
    fn make<'c>(cls: &Handle<'c>, x: f64) -> HPyResult<Handle<'c>> {
        cls.call((x,))
    }

    #[getter]
    fn half(&self) -> f64 {
        self.x / 2.0
    }

    #[setter]
    fn set_half(&mut self, v: f64) {
        self.x = v * 2.0;
    }

    fn __add__(&self, other: &P) -> P {
        P {
            x: self.x + other.x,
            parent: Field::new(),
        }
    }

    fn __iadd__(&mut self, other: &P) {
        self.x += other.x;
    }

    fn __pow__(&self, e: f64) -> f64 {
        self.x.powf(e)
    }

    fn __len__(&self) -> usize {
        1
    }

    fn __getitem__(&self, i: i64) -> f64 {
        self.x * i as f64
    }

    fn __setitem__(&mut self, _i: i64, v: f64) {
        self.x = v;
    }

    fn __eq__(&self, other: &P) -> bool {
        self.x == other.x
    }

    fn __hash__(&self) -> i64 {
        self.x as i64
    }

    fn __call__(&self) -> f64 {
        self.x
    }

    fn __rmul__(&self, k: f64) -> P {
        P {
            x: self.x * k,
            parent: Field::new(),
        }
    }

    fn __neg__(&self) -> P {
        P {
            x: -self.x,
            parent: Field::new(),
        }
    }

    fn __repr__(&self) -> String {
        ::std::format!("P({})", self.x)
    }

    fn __bool__(&self) -> bool {
        self.x != 0.0
    }

    fn __contains__(&self, v: f64) -> bool {
        self.x == v
    }

    fn __delitem__(&mut self, _i: i64) {
        self.x = 0.0;
    }
}

#[hpy_def(name = "describe")]
fn describe_it<'c>(
    ctx: Context<'c>,
    text: &str,
    data: &[u8],
    p: &mut P,
    h: &Handle<'c>,
) -> HPyResult<Handle<'c>> {
    p.x += 1.0;
    let _ = h.is_none();
    ctx.to_object((text.len(), data.len()))
}

/// A documented module.
#[hpy_module]
mod noprelude {
    use ::hpy_core::prelude::*;

    pub use super::{add, describe_it, fails, join, scale, P};

    #[hpy(exec)]
    fn init<'c>(_ctx: Context<'c>, module: &Handle<'c>) -> HPyResult<()> {
        module.setattr("X", 1i64)
    }
}

fn main() {}
