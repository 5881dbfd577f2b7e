//! Argument parsing: `HPyArg_Parse`, `HPyArg_ParseKeywords` and
//! `HPyArg_ParseKeywordsDict` over generated format strings (every unit HPy
//! supports, `|`, `$`, `:name`, `;message`, unknown units, repeated
//! markers) and argument lists (values at and around each unit's bounds,
//! wrong types, too many or too few, keywords given, missing, given twice,
//! unknown), called from C code compiled for the universal ABI and for the
//! CPython ABI (`csrc/helpers.c`), against `PyArg_ParseTuple` and
//! `PyArg_ParseTupleAndKeywords` on the same objects.
//!
//! The two ABIs agree exactly. With CPython they agree on success or
//! failure, every output (bytes as written, handles and C strings by
//! address, so by identity), the exception type and message — except
//! where `differences.tsv` (property `argparse`) says why not.

use hpy_props::shims::{self, Outs, MAX_OUTS};
use hpy_props::*;
use hpy_sys::HPyTracker;
use proptest::prelude::*;
use proptest::sample::select;
use std::ffi::{c_char, c_int, c_void, CString};

/// The units HPy supports (`hpy-helpers/src/argparse/format.rs`).
const UNITS: &[u8] = b"bBhHiIlkLKnfdOps";

/// What one output holds: its size in bytes.
fn out_size(unit: u8) -> usize {
    match unit {
        b'b' | b'B' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'p' | b'f' => 4,
        _ => 8,
    }
}

// ------------------------------------------------------------------ inputs

/// Which parser.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Api {
    Parse,
    Keywords,
    KeywordsDict,
}

/// What follows the units.
#[derive(Clone, Debug)]
enum Tail {
    None,
    Name(String),
    Message(String),
}

/// A format string, as parts.
#[derive(Clone, Debug)]
struct Format {
    units: Vec<u8>,
    /// where `|` goes (before that unit)
    optional: Option<usize>,
    /// where `$` goes (keyword parsers)
    kwonly: Option<usize>,
    /// a byte inserted at a position: an unknown unit or a repeated marker
    stray: Option<(usize, u8)>,
    tail: Tail,
}

impl Format {
    fn text(&self) -> String {
        let mut s = Vec::new();
        for i in 0..=self.units.len() {
            if self.stray.is_some_and(|(at, _)| at == i) {
                s.push(self.stray.unwrap().1);
            }
            if self.optional == Some(i) {
                s.push(b'|');
            }
            if self.kwonly == Some(i) {
                s.push(b'$');
            }
            if let Some(&u) = self.units.get(i) {
                s.push(u);
            }
        }
        let mut s = String::from_utf8(s).unwrap();
        match &self.tail {
            Tail::None => {}
            Tail::Name(n) => s += &format!(":{n}"),
            Tail::Message(m) => s += &format!(";{m}"),
        }
        s
    }
}

/// An argument value.
#[derive(Clone, Debug)]
enum Val {
    Int(i128),
    Big(bool),
    Float(f64),
    Str(Vec<u32>),
    Bytes(Vec<u8>),
    Bool(bool),
    Index(i128),
    BadIndex,
    FloatLike(f64),
    None,
    List,
}

fn around_bounds() -> impl Strategy<Value = i128> {
    let bounds: Vec<i128> = [
        0i128,
        i8::MIN as i128,
        i8::MAX as i128,
        u8::MAX as i128,
        i16::MIN as i128,
        i16::MAX as i128,
        u16::MAX as i128,
        i32::MIN as i128,
        i32::MAX as i128,
        u32::MAX as i128,
        i64::MIN as i128,
        i64::MAX as i128,
        u64::MAX as i128,
    ]
    .to_vec();
    prop_oneof![
        3 => (select(bounds), -2i128..=2).prop_map(|(b, d)| b + d),
        1 => any::<i64>().prop_map(i128::from),
        1 => -300i128..300,
    ]
}

/// Doubles: anything, special values (for `f`: around float's bounds),
/// NaNs with payloads.
fn doubles() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![
        3 => any::<f64>(),
        2 => select(vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 3.4e38, 3.5e38, -3.5e38, 1e-46, f64::MIN_POSITIVE, 1.5]),
        1 => any::<u64>().prop_map(|b| f64::from_bits(b | 0x7FF0_0000_0000_0001)),
    ]
}

/// Code points of strs: mostly ASCII, NUL, lone surrogates, any.
fn code_point() -> impl Strategy<Value = u32> + Clone {
    prop_oneof![
        4 => 0x20u32..0x7F,
        1 => Just(0u32),
        1 => 0xD800u32..0xE000,
        1 => 0x80u32..0x11_0000,
    ]
}

fn val() -> impl Strategy<Value = Val> + Clone {
    let doubles = doubles();
    let cp = code_point();
    prop_oneof![
        6 => around_bounds().prop_map(Val::Int),
        1 => any::<bool>().prop_map(Val::Big),
        3 => doubles.clone().prop_map(Val::Float),
        2 => proptest::collection::vec(cp, 0..5).prop_map(Val::Str),
        1 => proptest::collection::vec(any::<u8>(), 0..4).prop_map(Val::Bytes),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => around_bounds().prop_map(Val::Index),
        1 => Just(Val::BadIndex),
        1 => doubles.prop_map(Val::FloatLike),
        1 => Just(Val::None),
        1 => Just(Val::List),
    ]
}

fn build<'py>(py: Py<'py>, v: &Val) -> Obj<'py> {
    match v {
        Val::Int(i) => int(py, *i),
        Val::Big(neg) => int_from_decimal(
            py,
            if *neg {
                "-1000000000000000000000000000000"
            } else {
                "1000000000000000000000000000000"
            },
        ),
        Val::Float(d) => float(py, *d),
        Val::Str(cps) => str_from_code_points(py, cps),
        Val::Bytes(b) => bytes(py, b),
        Val::Bool(b) => eval(py, if *b { "True" } else { "False" }),
        Val::Index(i) => call(py, "Idx", &[&int(py, *i)]).unwrap(),
        Val::BadIndex => eval(py, "BadIdx()"),
        Val::FloatLike(d) => call(py, "Flt", &[&float(py, *d)]).unwrap(),
        Val::None => eval(py, "None"),
        Val::List => eval(py, "[1]"),
    }
}

/// Who a keyword argument is for.
#[derive(Clone, Debug)]
enum KwName {
    /// the parameter of that unit (modulo the number of units)
    Param(usize),
    Unknown,
    /// a name that is no str
    NotStr,
}

/// One generated call.
#[derive(Clone, Debug)]
struct Case {
    api: Api,
    format: Format,
    /// how many leading parameters are positional-only (empty names)
    posonly: usize,
    positional: Vec<Val>,
    keywords: Vec<(KwName, Val)>,
    /// pass no keyword object (NULL) rather than an empty one when there
    /// are no keyword arguments
    null_kw: bool,
}

fn format(api: Api) -> impl Strategy<Value = Format> {
    let stray = prop_oneof![
        6 => Just(None),
        // bytes after which CPython reads no other output than the units
        // promise (no `(`, `#`, `!`, `&`, `*`, `e`, which would make it read
        // more, or abort on an unbalanced bracket)
        1 => (0usize..8, select(b"|$qxj".to_vec())).prop_map(Some),
    ];
    let tail = prop_oneof![
        4 => Just(Tail::None),
        1 => "[a-z_]{0,6}".prop_map(Tail::Name),
        1 => "[a-z ]{0,8}".prop_map(Tail::Message),
    ];
    (
        proptest::collection::vec(select(UNITS.to_vec()), 0..6),
        proptest::option::weighted(0.6, 0usize..7),
        proptest::option::weighted(0.4, 0usize..7),
        stray,
        tail,
    )
        .prop_map(move |(units, optional, kwonly, stray, tail)| {
            let n = units.len();
            let clamp = |o: Option<usize>| o.map(|i| i.min(n));
            let optional = clamp(optional);
            // '$' after any '|' (else the format is malformed), and only for
            // the keyword parsers
            let kwonly = clamp(kwonly).map(|k| k.max(optional.unwrap_or(0)));
            let kwonly = kwonly.filter(|_| api != Api::Parse);
            Format {
                units,
                optional,
                kwonly,
                stray: stray.map(|(i, b)| (i.min(n), b)),
                tail,
            }
        })
}

/// A value for unit `u`: mostly one of the kind it converts (at and around
/// its bounds), else anything.
fn val_for(u: u8) -> BoxedStrategy<Val> {
    let fitting = match u {
        b'f' | b'd' => prop_oneof![
            3 => doubles().prop_map(Val::Float),
            1 => around_bounds().prop_map(Val::Int),
            1 => doubles().prop_map(Val::FloatLike),
        ]
        .boxed(),
        b's' => proptest::collection::vec(code_point(), 0..5)
            .prop_map(Val::Str)
            .boxed(),
        b'O' | b'p' => val().boxed(),
        _ => prop_oneof![
            6 => around_bounds().prop_map(Val::Int),
            1 => around_bounds().prop_map(Val::Index),
            1 => any::<bool>().prop_map(Val::Bool),
        ]
        .boxed(),
    };
    prop_oneof![4 => fitting, 1 => val()].boxed()
}

fn case() -> impl Strategy<Value = Case> {
    select(vec![Api::Parse, Api::Keywords, Api::KeywordsDict])
        .prop_flat_map(|api| (Just(api), format(api)))
        .prop_flat_map(|(api, format)| {
            let n = format.units.len();
            let required = format.optional.unwrap_or(n);
            let positional_max = format.kwonly.unwrap_or(n);
            let slot = |i: usize| {
                format
                    .units
                    .get(i)
                    .map_or_else(|| val().boxed(), |&u| val_for(u))
            };
            let values: Vec<BoxedStrategy<Val>> = (0..n + 2).map(slot).collect();
            let keyword = (0..n.max(1))
                .map(|i| (Just(KwName::Param(i)), slot(i)).boxed())
                .chain([
                    (Just(KwName::Unknown), val()).boxed(),
                    (Just(KwName::NotStr), val()).boxed(),
                ])
                .collect::<Vec<_>>();
            let kws = if api == Api::Parse { 0..1 } else { 0..4 };
            (
                Just(api),
                Just(format.clone()),
                prop_oneof![4 => Just(0usize), 1 => 0usize..3],
                values,
                // how many positional arguments: mostly an accepted number
                prop_oneof![3 => required.min(positional_max)..=positional_max, 1 => 0..=n + 2],
                proptest::collection::vec(select(keyword).prop_flat_map(|s| s), kws),
                any::<bool>(),
            )
        })
        .prop_map(
            |(api, format, posonly, mut positional, count, keywords, null_kw)| {
                positional.truncate(count);
                Case {
                    api,
                    posonly: posonly.min(format.units.len()),
                    format,
                    positional,
                    keywords,
                    null_kw,
                }
            },
        )
}

impl Case {
    /// The parameter names (NUL-terminated list for C).
    fn names(&self) -> Vec<CString> {
        (0..self.format.units.len())
            .map(|i| {
                if i < self.posonly {
                    CString::default()
                } else {
                    CString::new(format!("k{i}")).unwrap()
                }
            })
            .collect()
    }

    /// What was called, as `differences.tsv` sees it: the parser, the
    /// format and, for the keyword parsers, the parameter names.
    fn context(&self) -> String {
        let names = if self.api == Api::Parse {
            String::new()
        } else {
            let names: Vec<String> = self
                .names()
                .iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            format!("[{}] ", names.join(","))
        };
        format!("{:?} {names}{}", self.api, self.format.text())
    }

    /// The keyword arguments: names (Python expressions, each once) and
    /// values.
    fn keyword_args(&self) -> Vec<(String, &Val)> {
        let mut out: Vec<(String, &Val)> = Vec::new();
        for (k, v) in &self.keywords {
            let name = match k {
                KwName::Param(i) => format!("'k{}'", i % self.format.units.len().max(1)),
                KwName::Unknown => "'unknown'".into(),
                KwName::NotStr => "7".into(),
            };
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, v));
            }
        }
        out
    }
}

// ------------------------------------------------------------------ calls

/// 16 bytes per output, filled with a pattern so untouched bytes show.
const FILL: u8 = 0xA5;
type Buffers = [[u64; 2]; MAX_OUTS];

fn fresh_buffers() -> Buffers {
    [[u64::from_ne_bytes([FILL; 8]); 2]; MAX_OUTS]
}

fn outs_of(b: &mut Buffers) -> Outs {
    let mut outs: Outs = [std::ptr::null_mut(); MAX_OUTS];
    for (o, b) in outs.iter_mut().zip(b.iter_mut()) {
        *o = b.as_mut_ptr().cast();
    }
    outs
}

/// The outputs after a successful parse, one per unit: `-` if untouched,
/// else the value the unit's C type holds (floats by bits, objects by
/// address and description, C strings by address and content).
fn describe_outs(py: Py<'_>, units: &[u8], b: &Buffers) -> String {
    let mut parts = Vec::new();
    for (i, &u) in units.iter().enumerate() {
        // SAFETY: each buffer is 16 initialised bytes.
        let bytes: [u8; 16] = unsafe { std::mem::transmute(b[i]) };
        let size = out_size(u);
        let text = if bytes.iter().all(|&x| x == FILL) {
            "-".to_owned()
        } else if bytes[size..].iter().any(|&x| x != FILL) {
            format!("wrote past {size} bytes: {bytes:02x?}")
        } else {
            let raw = |n: usize| {
                let mut a = [0u8; 8];
                a[..n].copy_from_slice(&bytes[..n]);
                u64::from_ne_bytes(a)
            };
            match u {
                b'b' | b'B' => format!("{}", bytes[0]),
                b'h' => format!("{}", raw(2) as u16 as i16),
                b'H' => format!("{}", raw(2) as u16),
                b'i' | b'p' => format!("{}", raw(4) as u32 as i32),
                b'I' => format!("{}", raw(4) as u32),
                b'l' | b'L' | b'n' => format!("{}", raw(8) as i64),
                b'k' | b'K' => format!("{}", raw(8)),
                b'f' => float_key(f32::from_bits(raw(4) as u32) as f64),
                b'd' => float_key(f64::from_bits(raw(8))),
                b'O' => {
                    let p = raw(8) as usize as *mut ffi::PyObject;
                    // SAFETY: a borrowed reference to one of the case's
                    // arguments, all alive.
                    let o = unsafe { Obj::borrowed(py, p) };
                    format!("{p:?}={}", describe(&o))
                }
                b's' => {
                    let p = raw(8) as usize as *const c_char;
                    // SAFETY: the UTF-8 buffer of a live str argument.
                    let s = unsafe { std::ffi::CStr::from_ptr(p) };
                    format!("{p:?}={:?}", s.to_string_lossy())
                }
                _ => unreachable!(),
            }
        };
        parts.push(format!("{}={text}", u as char));
    }
    format!("ok: {}", parts.join(" "))
}

fn outcome(py: Py<'_>, rc: i32, units: &[u8], b: &Buffers) -> String {
    match (rc, take_err(py)) {
        (0, Some(e)) => e.to_string(),
        (0, None) => "failed without an exception".into(),
        (_, Some(e)) => format!("succeeded with a pending exception: {e}"),
        (_, None) => describe_outs(py, units, b),
    }
}

/// The arguments of a case, built once and shared by every leg.
struct Args<'py> {
    positional: Vec<Obj<'py>>,
    keywords: Vec<(Obj<'py>, Obj<'py>)>,
}

fn build_args<'py>(py: Py<'py>, c: &Case) -> Args<'py> {
    Args {
        positional: c.positional.iter().map(|v| build(py, v)).collect(),
        keywords: c
            .keyword_args()
            .into_iter()
            .map(|(n, v)| (eval(py, &n), build(py, v)))
            .collect(),
    }
}

fn tuple<'py>(py: Py<'py>, items: &[&Obj<'py>]) -> Obj<'py> {
    call(py, "lambda *a: a", items).unwrap()
}

fn dict<'py>(py: Py<'py>, items: &[(Obj<'py>, Obj<'py>)]) -> Obj<'py> {
    let d = eval(py, "{}");
    for (k, v) in items {
        // SAFETY: GIL held; live objects; hashable keys (strs, an int).
        let rc = unsafe { ffi::PyDict_SetItem(d.as_ptr(), k.as_ptr(), v.as_ptr()) };
        assert_eq!(rc, 0);
    }
    d
}

type ParseFn = unsafe extern "C" fn(
    *mut HPyContext,
    *mut HPyTracker,
    *const HPy,
    usize,
    *const c_char,
    *const *mut c_void,
) -> c_int;
type ParseKwFn = unsafe extern "C" fn(
    *mut HPyContext,
    *mut HPyTracker,
    *const HPy,
    usize,
    HPy,
    *const c_char,
    *const *const c_char,
    *const *mut c_void,
) -> c_int;
type ParseDictFn = unsafe extern "C" fn(
    *mut HPyContext,
    *mut HPyTracker,
    *const HPy,
    isize,
    HPy,
    *const c_char,
    *const *const c_char,
    *const *mut c_void,
) -> c_int;

/// One HPy leg: the parse from C code of one ABI, on its context.
fn run_hpy(py: Py<'_>, ctx: *mut HPyContext, cpy: bool, c: &Case, a: &Args<'_>) -> String {
    let (parse, parse_kw, parse_dict) = if cpy {
        (
            shims::cpy::arg_parse as ParseFn,
            shims::cpy::arg_parse_keywords as ParseKwFn,
            shims::cpy::arg_parse_keywords_dict as ParseDictFn,
        )
    } else {
        (
            shims::uni::arg_parse as ParseFn,
            shims::uni::arg_parse_keywords as ParseKwFn,
            shims::uni::arg_parse_keywords_dict as ParseDictFn,
        )
    };
    let fmt = CString::new(c.format.text()).unwrap();
    let names = c.names();
    let mut kwlist: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    kwlist.push(std::ptr::null());
    let h = |o: &Obj<'_>| HPy {
        _i: o.as_ptr() as isize,
    };
    let mut handles: Vec<HPy> = a.positional.iter().map(h).collect();
    let nargs = handles.len();
    let mut b = fresh_buffers();
    let outs = outs_of(&mut b);
    let mut ht = HPyTracker { _i: 0 };
    // Every call: GIL held; `handles` holds the arguments (the objects are
    // handles in both ABIs: borrowed, alive for the whole case), `fmt` and
    // the names are C strings, `outs` points to MAX_OUTS 16-byte buffers.
    let rc = match c.api {
        // SAFETY: see above.
        Api::Parse => unsafe {
            parse(
                ctx,
                &mut ht,
                handles.as_ptr(),
                nargs,
                fmt.as_ptr(),
                outs.as_ptr(),
            )
        },
        Api::Keywords => {
            let names: Vec<&Obj<'_>> = a.keywords.iter().map(|(k, _)| k).collect();
            handles.extend(a.keywords.iter().map(|(_, v)| h(v)));
            let kwnames = (!names.is_empty() || !c.null_kw).then(|| tuple(py, &names));
            let kw = kwnames.as_ref().map_or(HPy_NULL, h);
            // SAFETY: see above; `kwnames` names the values after `nargs`.
            unsafe {
                parse_kw(
                    ctx,
                    &mut ht,
                    handles.as_ptr(),
                    nargs,
                    kw,
                    fmt.as_ptr(),
                    kwlist.as_ptr(),
                    outs.as_ptr(),
                )
            }
        }
        Api::KeywordsDict => {
            let d = (!a.keywords.is_empty() || !c.null_kw).then(|| dict(py, &a.keywords));
            let kw = d.as_ref().map_or(HPy_NULL, h);
            // SAFETY: see above.
            unsafe {
                parse_dict(
                    ctx,
                    &mut ht,
                    handles.as_ptr(),
                    nargs as isize,
                    kw,
                    fmt.as_ptr(),
                    kwlist.as_ptr(),
                    outs.as_ptr(),
                )
            }
        }
    };
    let o = outcome(py, rc, &c.format.units, &b);
    if rc != 0 {
        // the parse succeeded: its tracker is ours to close
        ctx_call!(ctx, ctx_Tracker_Close, ht);
    }
    o
}

/// The C API leg: PyArg_ParseTuple(AndKeywords) on the same objects.
fn run_capi(py: Py<'_>, c: &Case, a: &Args<'_>) -> String {
    let fmt = CString::new(c.format.text()).unwrap();
    let names = c.names();
    let mut kwlist: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    kwlist.push(std::ptr::null());
    let args = tuple(py, &a.positional.iter().collect::<Vec<_>>());
    let mut b = fresh_buffers();
    let outs = outs_of(&mut b);
    let rc = match c.api {
        // SAFETY: GIL held; a tuple, a C string, MAX_OUTS buffers.
        Api::Parse => unsafe {
            shims::capi::parse_tuple(args.as_ptr(), fmt.as_ptr(), outs.as_ptr())
        },
        Api::Keywords | Api::KeywordsDict => {
            let d = (!a.keywords.is_empty() || !c.null_kw).then(|| dict(py, &a.keywords));
            let kw = d.as_ref().map_or(std::ptr::null_mut(), |d| d.as_ptr());
            // SAFETY: as above; `kw` NULL or a dict; NULL-terminated names.
            unsafe {
                shims::capi::parse_tuple_and_keywords(
                    args.as_ptr(),
                    kw,
                    fmt.as_ptr(),
                    kwlist.as_ptr(),
                    outs.as_ptr(),
                )
            }
        }
    };
    outcome(py, rc, &c.format.units, &b)
}

/// The three legs of a case: universal, CPython ABI, C API.
fn legs(c: &Case) -> (String, String, String) {
    with_gil(|py| {
        let a = build_args(py, c);
        let u = run_hpy(py, universal_ctx(py), false, c, &a);
        let p = run_hpy(py, cpython_abi_ctx(py), true, c, &a);
        let r = run_capi(py, c, &a);
        (u, p, r)
    })
}

/// The check of a case: the ABIs agree; HPy and CPython agree or differ
/// as a row of `differences.tsv` allows.
fn check(c: &Case) -> Result<(), TestCaseError> {
    let (u, p, r) = legs(c);
    prop_assert_eq!(
        &u,
        &p,
        "universal vs CPython ABI, {:?} {:?}",
        c.api,
        c.format.text()
    );
    if u != r {
        prop_assert!(
            differences::allowed("argparse", &format!("{} -> {r}", c.context()), &u).is_some(),
            "{:?} {:?}:\n   CPython: {}\n       HPy: {}\n (no row of differences.tsv allows it)",
            c.api,
            c.format.text(),
            r,
            u
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn argparse_agrees(c in case()) {
        check(&c)?;
    }
}

// ------------------------------------------------------------- regressions

/// Found by `argparse_agrees` (10,000 cases), shrunk to `"$b"` with no
/// arguments: CPython's "$" starts required keyword-only parameters
/// ("missing required argument 'k0'"), upstream's makes them optional too,
/// and so does hpy-rs. Not a bug: a difference the table lacked (row
/// "$ without |").
#[test]
fn regression_keyword_only_without_bar() {
    let c = Case {
        api: Api::Keywords,
        format: Format {
            units: b"b".to_vec(),
            optional: None,
            kwonly: Some(0),
            stray: None,
            tail: Tail::None,
        },
        posonly: 0,
        positional: vec![],
        keywords: vec![],
        null_kw: false,
    };
    let (u, p, r) = legs(&c);
    assert_eq!(u, "ok: b=-");
    assert_eq!(u, p);
    assert_eq!(
        r,
        "TypeError: function missing required argument 'k0' (pos 1)"
    );
    check(&c).unwrap();
}
