//! Build-value: `HPy_BuildValue` over generated formats (every unit HPy
//! supports, nested `()`, `[]`, `{}`, separators, blanks, `O` with a NULL
//! handle, `s` with NULL and with invalid UTF-8, and bad formats: stray
//! brackets and bytes, `N`, units only CPython has) and generated values,
//! called from C code compiled for the universal ABI and for the CPython
//! ABI (`csrc/helpers.c`, variadic arguments through libffi), against
//! `Py_BuildValue` given the same C values.
//!
//! The two ABIs agree exactly. With CPython they agree on the result
//! (same types all the way down, values equal, floats bit for bit, objects
//! passed with `O` by identity) or the exception type and message —
//! except where `differences.tsv` (property `buildvalue`) says why not.

use hpy_props::shims::{self, Arg, Kind};
use hpy_props::*;
use proptest::prelude::*;
use proptest::sample::select;
use std::ffi::{c_int, CString};

/// One C value and the unit that takes it.
#[derive(Clone, Debug)]
enum Unit {
    /// `i`, `I`, `l`, `k`, `L`, `K`, `n` (and, CPython only, `b`, `B`,
    /// `h`, `H`, `c`, `C`): the unit and the value (converted to its C
    /// type by wrapping)
    Int(u8, i128),
    /// `f`, `d`
    Double(u8, f64),
    /// `s` (also CPython's `z`, `y`, `U`): None for NULL, else the bytes
    Str(u8, Option<Vec<u8>>),
    /// `O`, `S` (and CPython's stealing `N`): an object made by this
    /// Python expression, or a NULL handle
    Obj(u8, Option<&'static str>),
}

/// A format item.
#[derive(Clone, Debug)]
enum Item {
    Unit(Unit),
    Tuple(Vec<Item>),
    List(Vec<Item>),
    Dict(Vec<(Item, Item)>),
}

/// A generated call: the top-level items, how they are separated, and a
/// byte inserted somewhere.
#[derive(Clone, Debug)]
struct Case {
    items: Vec<Item>,
    seps: Vec<&'static str>,
    stray: Option<(usize, u8)>,
    /// how many brackets enclose it all (deep nesting)
    nest: usize,
}

const OBJECTS: &[&str] = &[
    "None",
    "[1, 2.5]",
    "'x\\u20ac'",
    "Idx(3)",
    "(1 << 70)",
    "-0.0",
    "{}",
];

fn unit() -> impl Strategy<Value = Unit> {
    let ints = prop_oneof![
        2 => select(vec![0i128, -1, 1, i32::MIN as i128, i32::MAX as i128, u32::MAX as i128,
                          i64::MIN as i128, i64::MAX as i128, u64::MAX as i128, 255, 256, -129]),
        1 => any::<i64>().prop_map(i128::from),
    ];
    let doubles = prop_oneof![
        2 => any::<f64>(),
        1 => select(vec![0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, 5e-324]),
        1 => any::<u64>().prop_map(|b| f64::from_bits(b | 0x7FF0_0000_0000_0001)),
    ];
    let text = prop_oneof![
        4 => "[a-z\u{e9}\u{1F600}]{0,4}".prop_map(|s| Some(s.into_bytes())),
        1 => proptest::collection::vec(1u8..=255, 0..4).prop_map(Some),
        1 => Just(None),
    ];
    prop_oneof![
        8 => (select(b"iIlkLKn".to_vec()), ints.clone()).prop_map(|(u, v)| Unit::Int(u, v)),
        1 => (select(b"bBhHcC".to_vec()), ints).prop_map(|(u, v)| Unit::Int(u, v)),
        4 => (select(b"fd".to_vec()), doubles).prop_map(|(u, d)| Unit::Double(u, d)),
        3 => (prop_oneof![6 => Just(b's'), 1 => select(b"zyU".to_vec())], text).prop_map(|(u, s)| Unit::Str(u, s)),
        4 => (prop_oneof![6 => select(b"OS".to_vec()), 1 => Just(b'N')],
              prop_oneof![8 => select(OBJECTS.to_vec()).prop_map(Some), 1 => Just(None)])
            .prop_map(|(u, o)| Unit::Obj(u, o)),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    unit()
        .prop_map(Item::Unit)
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Item::Tuple),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Item::List),
                proptest::collection::vec((inner.clone(), inner), 0..3).prop_map(Item::Dict),
            ]
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(item(), 0..4),
        proptest::collection::vec(select(vec!["", ",", ", ", " ", " , "]), 8),
        // only bytes after which CPython reads no other argument than the
        // units promise (no `#`, `&`, `N`): brackets, a separator, a byte
        // that is no unit
        proptest::option::weighted(0.2, (0usize..40, select(b"()[]{}:q!".to_vec()))),
        prop_oneof![20 => Just(0usize), 1 => 250usize..300],
    )
        .prop_map(|(items, seps, stray, nest)| Case {
            items,
            seps,
            stray,
            nest,
        })
}

// -------------------------------------------------- the format and the values

/// HPy's units (upstream's `buildvalue.c`); the generator also makes
/// CPython's `N` and units only CPython has.
const HPY_UNITS: &[u8] = b"iIlkLKnfdsOS";

/// What the generator put into a format that HPy does not take, for
/// `differences.tsv`: `[N]`, `[CPython's b]`, `[stray q]`, `[nested 260]`
/// (brackets around it all; one tag per kind),
/// each followed by a blank; empty for a format of HPy's units.
fn tags(c: &Case, units: &[Unit]) -> String {
    let mut t = String::new();
    let code = |u: &Unit| match u {
        Unit::Int(c, _) | Unit::Double(c, _) | Unit::Str(c, _) | Unit::Obj(c, _) => *c,
    };
    if units.iter().any(|u| code(u) == b'N') {
        t += "[N] ";
    }
    if let Some(u) = units
        .iter()
        .map(code)
        .find(|&c| c != b'N' && !HPY_UNITS.contains(&c))
    {
        t += &format!("[CPython's {}] ", u as char);
    }
    if let Some((_, b)) = c.stray {
        t += &format!("[stray {}] ", b as char);
    }
    if c.nest > 0 {
        t += &format!("[nested {}] ", c.nest);
    }
    t
}

/// The format string, and the units in the order their values are read.
fn render(c: &Case) -> (String, Vec<Unit>) {
    fn go(item: &Item, out: &mut String, units: &mut Vec<Unit>) {
        let seq =
            |open: char, close: char, items: &[Item], out: &mut String, units: &mut Vec<Unit>| {
                out.push(open);
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    go(it, out, units);
                }
                out.push(close);
            };
        match item {
            Item::Unit(u) => {
                out.push(match u {
                    Unit::Int(c, _) | Unit::Double(c, _) | Unit::Str(c, _) | Unit::Obj(c, _) => {
                        *c as char
                    }
                });
                units.push(u.clone());
            }
            Item::Tuple(items) => seq('(', ')', items, out, units),
            Item::List(items) => seq('[', ']', items, out, units),
            Item::Dict(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    go(k, out, units);
                    out.push(':');
                    go(v, out, units);
                }
                out.push('}');
            }
        }
    }
    let (mut s, mut units) = (String::new(), Vec::new());
    for (i, it) in c.items.iter().enumerate() {
        if i > 0 {
            s += c.seps[i % c.seps.len()];
        }
        go(it, &mut s, &mut units);
    }
    s = format!("{}{s}{}", "(".repeat(c.nest), ")".repeat(c.nest));
    if let Some((at, b)) = c.stray {
        let at = (0..=at.min(s.len()))
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap();
        s.insert(at, b as char);
    }
    (s, units)
}

/// The variadic arguments of a call: kinds and values. `handles` says
/// whether objects go as `HPy` (the HPy legs) or `PyObject *`.
fn varargs(
    units: &[Unit],
    objs: &[Option<Obj<'_>>],
    strs: &[Option<CString>],
    handles: bool,
) -> (Vec<u8>, Vec<Arg>) {
    let mut kinds = Vec::new();
    let mut args = Vec::new();
    for (i, u) in units.iter().enumerate() {
        let (k, a) = match u {
            Unit::Int(c, v) => match c {
                b'I' => (Kind::UInt, Arg { u: *v as u32 }),
                b'l' => (Kind::Long, Arg { l: *v as i64 }),
                b'k' => (Kind::ULong, Arg { ul: *v as u64 }),
                b'L' => (Kind::LongLong, Arg { ll: *v as i64 }),
                b'K' => (Kind::ULongLong, Arg { ull: *v as u64 }),
                b'n' => (Kind::Ssize, Arg { n: *v as isize }),
                // i, and CPython's b B h H c C: an int
                _ => (Kind::Int, Arg { i: *v as i32 }),
            },
            Unit::Double(_, d) => (Kind::Double, Arg { d: *d }),
            Unit::Str(..) => (
                Kind::Pointer,
                Arg {
                    p: strs[i]
                        .as_ref()
                        .map_or(std::ptr::null(), |s| s.as_ptr().cast()),
                },
            ),
            Unit::Obj(..) => {
                let p = objs[i].as_ref().map_or(0, |o| o.as_ptr() as isize);
                if handles {
                    (Kind::Handle, Arg { h: p })
                } else {
                    (
                        Kind::Pointer,
                        Arg {
                            p: p as *const std::ffi::c_void,
                        },
                    )
                }
            }
        };
        kinds.push(k as u8);
        args.push(a);
    }
    (kinds, args)
}

/// A result described structurally: the type at every level, floats by
/// bits, containers by their items, other values by repr.
fn structural(o: &Obj<'_>) -> String {
    let py = o.py();
    let p = o.as_ptr();
    // SAFETY: GIL held; the type checks come before the casts and reads.
    unsafe {
        if ffi::PyTuple_Check(p) != 0 || ffi::PyList_Check(p) != 0 {
            let n = ffi::PySequence_Size(p);
            let items: Vec<String> = (0..n)
                .map(|i| structural(&Obj::from_owned(py, ffi::PySequence_GetItem(p, i)).unwrap()))
                .collect();
            return format!("{}[{}]", type_name(o), items.join(", "));
        }
        if ffi::PyDict_Check(p) != 0 {
            let items = Obj::from_owned(py, ffi::PyDict_Items(p)).unwrap();
            return format!("dict{}", &structural(&items)["list".len()..]);
        }
    }
    describe(o)
}

/// Calls HPy_BuildValue from one ABI's C code on its context.
fn run_hpy(
    py: Py<'_>,
    ctx: *mut HPyContext,
    cpy: bool,
    fmt: &CString,
    kinds: &[u8],
    args: &[Arg],
) -> String {
    let mut called: c_int = 0;
    let f = if cpy {
        shims::cpy::build_value
    } else {
        shims::uni::build_value
    };
    // SAFETY: GIL held; `kinds` and `args` describe exactly the arguments
    // the format's units read, of the C types they read.
    let h = unsafe {
        f(
            ctx,
            fmt.as_ptr(),
            args.len(),
            kinds.as_ptr(),
            args.as_ptr(),
            &mut called,
        )
    };
    assert_eq!(called, 1, "libffi refused the call");
    outcome(from_universal_handle(py, h))
}

fn outcome(r: Outcome<Obj<'_>>) -> String {
    match r {
        Ok(o) => format!("ok: {}", structural(&o)),
        Err(e) => e.to_string(),
    }
}

/// The three legs of a case: universal, CPython ABI, C API.
fn legs(c: &Case) -> (String, String, String, String) {
    let (fmt, units) = render(c);
    let context = format!("{}{fmt}", tags(c, &units));
    with_gil(|py| {
        let objs: Vec<Option<Obj<'_>>> = units
            .iter()
            .map(|u| match u {
                Unit::Obj(_, Some(src)) => Some(eval(py, src)),
                _ => None,
            })
            .collect();
        let strs: Vec<Option<CString>> = units
            .iter()
            .map(|u| match u {
                Unit::Str(_, Some(b)) => Some(CString::new(b.clone()).unwrap()),
                _ => None,
            })
            .collect();
        let cfmt = CString::new(fmt.clone()).unwrap();
        let (kinds, args) = varargs(&units, &objs, &strs, true);
        let u = run_hpy(py, universal_ctx(py), false, &cfmt, &kinds, &args);
        let p = run_hpy(py, cpython_abi_ctx(py), true, &cfmt, &kinds, &args);
        // `N` steals its reference (also when the call fails): give it one
        for (u, o) in units.iter().zip(&objs) {
            if let (Unit::Obj(b'N', _), Some(o)) = (u, o) {
                let _ = o.clone().into_ptr();
            }
        }
        let (kinds, args) = varargs(&units, &objs, &strs, false);
        let mut called: c_int = 0;
        // SAFETY: as in run_hpy, with `PyObject *`s for the objects.
        let r = unsafe {
            shims::capi::build_value(
                cfmt.as_ptr(),
                args.len(),
                kinds.as_ptr(),
                args.as_ptr(),
                &mut called,
            )
        };
        assert_eq!(called, 1, "libffi refused the call");
        // SAFETY: a new reference or NULL.
        let r = outcome(unsafe { Obj::from_owned(py, r) });
        (context, u, p, r)
    })
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let (context, u, p, r) = legs(c);
    prop_assert_eq!(&u, &p, "universal vs CPython ABI, {}", context);
    if u != r {
        prop_assert!(
            differences::allowed("buildvalue", &format!("{context} -> {r}"), &u).is_some(),
            "{}:\n   CPython: {}\n       HPy: {}\n (no row of differences.tsv allows it)",
            context,
            r,
            u
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn buildvalue_agrees(c in case()) {
        check(&c)?;
    }
}
