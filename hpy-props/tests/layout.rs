//! Layout properties: generated `HPyType_Spec`s (every builtin shape and
//! legacy, basicsizes from 0 to large and odd, itemsizes, members of every
//! `HPyMember_FieldType` at generated offsets, readonly or not, bases: none,
//! the shape's builtin, another generated HPy type; BASETYPE, GC with
//! traverse) given to the universal context's `HPyType_FromSpec`.
//!
//! - `members_read_and_write_the_right_bytes`: the instance's struct (the
//!   `HPy_AsStruct_<shape>` of the type's shape, also what `HPy_New` hands
//!   out) is filled with a pattern, then generated attribute sets, deletes,
//!   gets and raw writes into the struct run on the instance and, alike, on
//!   a reference type made with CPython's own `PyType_FromSpec` and
//!   `PyMemberDef`s of the same type codes at the same offsets. After each
//!   step the outcomes (values, exceptions, warnings) agree, the two structs
//!   hold the same bytes, only the member's bytes changed, integers read
//!   back are the bytes in the struct, and the builtin part of the instance
//!   is intact. Members a base type declares are reached through the
//!   subclass's instance at the base's offsets.
//! - `invalid_specs_raise`: a valid spec with one fault (negative sizes,
//!   members beyond the basicsize, unknown member types, slots or shapes,
//!   NULL names, an itemsize the base cannot hold, a shape that conflicts
//!   with the base's, a basicsize smaller than the base's, …) gives a
//!   TypeError, ValueError or SystemError, run in a forked child so that a
//!   crash is a failing case.

#![cfg(target_os = "linux")] // fork

use hpy_props::*;
use hpy_sys::*;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::HashMap;
use std::ffi::{c_int, c_long, c_ulong, c_void, CStr};
use std::sync::{Mutex, OnceLock};

// ------------------------------------------------------------------ tables

/// How a member's bytes are read and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Int {
        signed: bool,
    },
    Float,
    Char,
    Bool,
    /// `char *` to a NUL-terminated string (read-only).
    StrPtr,
    /// A `char` array holding a NUL-terminated string (read-only).
    StrInline,
    /// An `HPyField`.
    Object,
    /// No bytes (reads as None).
    None,
}

/// One `HPyMember_FieldType`: its code (CPython's `T_*` code too), size and
/// alignment in the struct.
#[derive(Debug)]
struct Kind {
    name: &'static str,
    code: HPyMember_FieldType,
    size: usize,
    align: usize,
    class: Class,
}

const fn kind(name: &'static str, code: HPyMember_FieldType, size: usize, class: Class) -> Kind {
    Kind {
        name,
        code,
        size,
        align: if size == 0 { 1 } else { size },
        class,
    }
}

const PTR: usize = std::mem::size_of::<usize>();
const LONG: usize = std::mem::size_of::<c_long>();
/// The size given to `HPyMember_STRING_INPLACE` arrays.
const INPLACE: usize = 8;
const S: Class = Class::Int { signed: true };
const U: Class = Class::Int { signed: false };

/// Every member type of `ENUM_HPyMember_FieldType` (checked by a test).
const KINDS: &[Kind] = &[
    kind("SHORT", HPyMember_SHORT, 2, S),
    kind("INT", HPyMember_INT, 4, S),
    kind("LONG", HPyMember_LONG, LONG, S),
    kind("FLOAT", HPyMember_FLOAT, 4, Class::Float),
    kind("DOUBLE", HPyMember_DOUBLE, 8, Class::Float),
    kind("STRING", HPyMember_STRING, PTR, Class::StrPtr),
    kind("OBJECT", HPyMember_OBJECT, PTR, Class::Object),
    kind("CHAR", HPyMember_CHAR, 1, Class::Char),
    kind("BYTE", HPyMember_BYTE, 1, S),
    kind("UBYTE", HPyMember_UBYTE, 1, U),
    kind("USHORT", HPyMember_USHORT, 2, U),
    kind("UINT", HPyMember_UINT, 4, U),
    kind("ULONG", HPyMember_ULONG, LONG, U),
    Kind {
        name: "STRING_INPLACE",
        code: HPyMember_STRING_INPLACE,
        size: INPLACE,
        align: 1,
        class: Class::StrInline,
    },
    kind("BOOL", HPyMember_BOOL, 1, Class::Bool),
    kind("OBJECT_EX", HPyMember_OBJECT_EX, PTR, Class::Object),
    kind("LONGLONG", HPyMember_LONGLONG, 8, S),
    kind("ULONGLONG", HPyMember_ULONGLONG, 8, U),
    kind("HPYSSIZET", HPyMember_HPYSSIZET, PTR, S),
    kind("NONE", HPyMember_NONE, 0, Class::None),
];

/// The strings `HPyMember_STRING` members point to (or NULL).
const STRINGS: &[&CStr] = &[c"", c"abc", c"h\xc3\xa9", c"\xff\xfe"];

/// Member names (static: CPython keeps the pointers).
const NAMES: &[&CStr] = &[
    c"f0", c"f1", c"f2", c"f3", c"f4", c"f5", c"f6", c"f7", c"f8", c"f9", c"f10", c"f11", c"f12",
    c"f13", c"f14", c"f15",
];
const MAX_MEMBERS: usize = 8; // per type; a base and a subclass use all NAMES

type AsStruct = fn(*mut HPyContext, HPy) -> *mut c_void;

/// One builtin shape: the builtin a type of that shape extends, how the
/// test makes an instance from Python, what must still hold of the builtin
/// part afterwards, and the shape's `HPy_AsStruct_*`.
struct ShapeInfo {
    shape: HPyType_BuiltinShape,
    builtin: &'static str,
    make: &'static str,
    intact: &'static str,
    as_struct: AsStruct,
}

macro_rules! shape {
    ($shape:ident, $builtin:literal, $make:literal, $intact:literal, $member:ident) => {
        ShapeInfo {
            shape: $shape,
            builtin: $builtin,
            make: $make,
            intact: $intact,
            as_struct: |ctx, h| ctx_call!(ctx, $member, h),
        }
    };
}

const LEGACY: usize = 0;
const OBJECT: usize = 1;

const SHAPES: &[ShapeInfo] = &[
    shape!(
        HPyType_BuiltinShape_Legacy,
        "object",
        "T()",
        "True",
        ctx_AsStruct_Legacy
    ),
    shape!(
        HPyType_BuiltinShape_Object,
        "object",
        "T()",
        "True",
        ctx_AsStruct_Object
    ),
    shape!(
        HPyType_BuiltinShape_Type,
        "type",
        "T('X', (), {})",
        "type.__repr__(o) == \"<class 'X'>\"",
        ctx_AsStruct_Type
    ),
    shape!(
        HPyType_BuiltinShape_Long,
        "int",
        "T()",
        "int.__repr__(o) == '0'",
        ctx_AsStruct_Long
    ),
    shape!(
        HPyType_BuiltinShape_Float,
        "float",
        "T()",
        "float.__repr__(o) == '0.0'",
        ctx_AsStruct_Float
    ),
    shape!(
        HPyType_BuiltinShape_Unicode,
        "str",
        "T()",
        "str.__repr__(o) == \"''\"",
        ctx_AsStruct_Unicode
    ),
    shape!(
        HPyType_BuiltinShape_Tuple,
        "tuple",
        "T()",
        "tuple.__repr__(o) == '()'",
        ctx_AsStruct_Tuple
    ),
    shape!(
        HPyType_BuiltinShape_List,
        "list",
        "T()",
        "list.__repr__(o) == '[]'",
        ctx_AsStruct_List
    ),
    shape!(
        HPyType_BuiltinShape_Dict,
        "dict",
        "T()",
        "dict.__repr__(o) == '{}'",
        ctx_AsStruct_Dict
    ),
];

const HEAD: usize = std::mem::size_of::<ffi::PyObject>();

// ------------------------------------------------------------ traverse

/// The field offsets of each live instance the test made, by payload
/// address: what the test's `HPy_tp_traverse` visits.
fn fields_registry() -> &'static Mutex<HashMap<usize, Vec<usize>>> {
    static R: OnceLock<Mutex<HashMap<usize, Vec<usize>>>> = OnceLock::new();
    R.get_or_init(Mutex::default)
}

/// The test's `HPy_tp_traverse` impl: visits the registered fields of the
/// payload (none if it is not registered).
unsafe extern "C" fn traverse_impl(
    payload: *mut c_void,
    visit: HPyFunc_visitproc,
    arg: *mut c_void,
) -> c_int {
    let offsets = fields_registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(payload as usize))
        .cloned()
        .unwrap_or_default();
    let Some(visit) = visit else { return 0 };
    for off in offsets {
        // SAFETY: a registered offset is an `HPyField` inside the payload
        // (the test placed it there), NULL or holding a strong reference.
        let r = unsafe {
            let f = payload.cast::<u8>().add(off).cast::<HPyField>();
            if (*f)._i == 0 {
                0
            } else {
                visit(f, arg)
            }
        };
        if r != 0 {
            return r;
        }
    }
    0
}

/// Its CPython-side trampoline, as a universal extension's: through the
/// universal context's `ctx_CallRealFunctionFromTrampoline`.
unsafe extern "C" fn traverse_trampoline(
    obj: *mut cpy_PyObject,
    visit: cpy_visitproc,
    arg: *mut c_void,
) -> c_int {
    let mut a = _HPyFunc_args_TRAVERSEPROC {
        self_: obj,
        visit,
        arg,
        result: 0,
    };
    // SAFETY: CPython calls tp_traverse with the GIL held; the impl has the
    // signature HPyFunc_TRAVERSEPROC; `a` is its argument block.
    unsafe {
        let ctx = hpy_universal::universal_ctx();
        let f = (*ctx).ctx_CallRealFunctionFromTrampoline.unwrap();
        f(
            ctx,
            HPyFunc_TRAVERSEPROC,
            std::mem::transmute::<*const (), HPyCFunction>(traverse_impl as *const ()),
            (&mut a as *mut _HPyFunc_args_TRAVERSEPROC).cast(),
        );
    }
    a.result
}

fn slot_def(slot: HPySlot_Slot) -> HPyDef {
    // SAFETY: the trampoline's C signature is the one of tp_traverse, which
    // HPySlot stores as the generic cpy_PyCFunction (as HPyDef_SLOT does).
    let tramp = unsafe {
        std::mem::transmute::<*const (), cpy_PyCFunction>(traverse_trampoline as *const ())
    };
    HPyDef {
        kind: HPyDef_Kind_Slot,
        __bindgen_anon_1: HPyDef__bindgen_ty_1 {
            slot: HPySlot {
                slot,
                // SAFETY: stored as the generic HPyCFunction, as HPyDef_SLOT does.
                impl_: unsafe {
                    std::mem::transmute::<*const (), HPyCFunction>(traverse_impl as *const ())
                },
                cpy_trampoline: tramp,
            },
        },
    }
}

// ---------------------------------------------------------------- specs

/// A generated member: its type, the padding before it, readonly.
#[derive(Clone, Debug)]
struct MemberGen {
    kind: usize,
    pad: usize,
    readonly: bool,
}

/// A generated type (offsets are computed by `Layout`).
#[derive(Clone, Debug)]
struct TypeGen {
    shape: usize,
    members: Vec<MemberGen>,
    /// Padding after the last member (sometimes large).
    tail: usize,
    /// `basicsize = 0` (inherit) when the type adds no bytes.
    inherit_size: bool,
    itemsize: i32,
    gc: bool,
    basetype: bool,
    /// Pass the shape's builtin as the Base param (required for builtin
    /// shapes, optional for Object and Legacy).
    explicit_base: bool,
}

/// A member placed in the payload (offsets from the payload's start).
#[derive(Clone, Debug)]
struct Placed {
    kind: &'static Kind,
    name: &'static CStr,
    offset: usize,
    readonly: bool,
}

/// A type's layout: its placed members (a base's first) and payload size.
#[derive(Clone, Debug)]
struct Layout {
    members: Vec<Placed>,
    payload: usize,
}

fn align_up(n: usize, a: usize) -> usize {
    n.div_ceil(a) * a
}

impl Layout {
    /// Places `t`'s own members after `base`'s payload.
    fn of(t: &TypeGen, base: Option<&Layout>) -> Layout {
        let mut members = base.map_or(Vec::new(), |b| b.members.clone());
        let mut end = base.map_or(0, |b| b.payload);
        for m in &t.members {
            let k = &KINDS[m.kind];
            let offset = align_up(end + m.pad, k.align);
            members.push(Placed {
                kind: k,
                name: NAMES[members.len()],
                offset,
                readonly: m.readonly,
            });
            end = offset + k.size;
        }
        // A type that inherits its basicsize adds no bytes; one with
        // members (even only NONE ones, of no size) has a basicsize.
        let tail = if t.inherits_size() { 0 } else { t.tail };
        let end = if t.members.is_empty() {
            end
        } else {
            end.max(1)
        };
        Layout {
            members,
            payload: end + tail,
        }
    }
}

/// A spec with everything it points to, alive while it is used.
struct SpecData {
    spec: HPyType_Spec,
    _defs: Vec<HPyDef>,
    _ptrs: Vec<*mut HPyDef>,
}

/// What a spec says, before faults are injected into it.
#[derive(Clone, Debug)]
struct SpecParts {
    name: &'static CStr,
    shape: HPyType_BuiltinShape,
    basicsize: i32,
    itemsize: i32,
    flags: c_ulong,
    /// (name, type code, offset as the spec says it, readonly)
    members: Vec<(Option<&'static CStr>, HPyMember_FieldType, isize, bool)>,
    slots: Vec<HPySlot_Slot>,
}

impl SpecParts {
    /// The spec of `t` whose own members are those of `layout` after
    /// `first` (the base's).
    fn of(t: &TypeGen, layout: &Layout, first: usize, name: &'static CStr) -> SpecParts {
        let legacy = t.shape == LEGACY;
        let head = if legacy { HEAD } else { 0 };
        let adds = layout.payload > 0 || !t.members.is_empty();
        let basicsize = if t.inherits_size() {
            0
        } else if adds || legacy {
            (head + layout.payload) as i32
        } else {
            0
        };
        let mut flags = HPy_TPFLAGS_DEFAULT as c_ulong;
        if t.basetype {
            flags |= HPy_TPFLAGS_BASETYPE as c_ulong;
        }
        if t.gc {
            flags |= HPy_TPFLAGS_HAVE_GC as c_ulong;
        }
        SpecParts {
            name,
            shape: SHAPES[t.shape].shape,
            basicsize,
            itemsize: t.itemsize,
            flags,
            members: layout.members[first..]
                .iter()
                .map(|m| {
                    (
                        Some(m.name),
                        m.kind.code,
                        (head + m.offset) as isize,
                        m.readonly,
                    )
                })
                .collect(),
            slots: if t.gc { vec![HPy_tp_traverse] } else { vec![] },
        }
    }

    fn build(&self) -> SpecData {
        let mut defs: Vec<HPyDef> = self
            .members
            .iter()
            .map(|&(name, code, offset, readonly)| HPyDef {
                kind: HPyDef_Kind_Member,
                __bindgen_anon_1: HPyDef__bindgen_ty_1 {
                    member: HPyMember {
                        name: name.map_or(std::ptr::null(), |n| n.as_ptr()),
                        type_: code,
                        offset,
                        readonly: readonly as c_int,
                        doc: std::ptr::null(),
                    },
                },
            })
            .collect();
        defs.extend(self.slots.iter().map(|&s| slot_def(s)));
        let mut ptrs: Vec<*mut HPyDef> = defs.iter_mut().map(|d| d as *mut _).collect();
        ptrs.push(std::ptr::null_mut());
        let spec = HPyType_Spec {
            name: self.name.as_ptr(),
            basicsize: self.basicsize,
            itemsize: self.itemsize,
            flags: self.flags,
            builtin_shape: self.shape,
            legacy_slots: std::ptr::null_mut(),
            defines: ptrs.as_mut_ptr(),
            doc: std::ptr::null(),
        };
        SpecData {
            spec,
            _defs: defs,
            _ptrs: ptrs,
        }
    }
}

/// `HPyType_FromSpec` of the universal context with a Base param per
/// entry of `bases`.
fn from_spec<'py>(py: Py<'py>, spec: &mut HPyType_Spec, bases: &[&Obj<'py>]) -> Outcome<Obj<'py>> {
    let ctx = universal_ctx(py);
    let mut params: Vec<HPyType_SpecParam> = bases
        .iter()
        .map(|b| HPyType_SpecParam {
            kind: HPyType_SpecParam_Base,
            object: handle_of(b),
        })
        .collect();
    params.push(HPyType_SpecParam {
        kind: 0,
        object: HPy_NULL,
    });
    let p = if bases.is_empty() {
        std::ptr::null_mut()
    } else {
        params.as_mut_ptr()
    };
    let h = ctx_call!(ctx, ctx_Type_FromSpec, spec as *mut HPyType_Spec, p);
    from_universal_handle(py, h)
}

// ------------------------------------------------------------- strategies

fn member_gen(kinds: std::ops::Range<usize>) -> impl Strategy<Value = MemberGen> {
    (
        kinds,
        prop_oneof![4 => Just(0usize), 1 => 1usize..9],
        any::<bool>(),
    )
        .prop_map(|(kind, pad, readonly)| MemberGen {
            kind,
            pad,
            readonly,
        })
}

fn type_gen(shape: usize, is_base: bool) -> impl Strategy<Value = TypeGen> {
    let object_like = shape == LEGACY || shape == OBJECT;
    (
        proptest::collection::vec(member_gen(0..KINDS.len()), 0..=MAX_MEMBERS),
        prop_oneof![4 => 0usize..4, 2 => 4usize..40, 1 => 4096usize..70000],
        any::<bool>(),
        if object_like {
            select(vec![0, 0, 0, 1, 3, 8, 16]).boxed()
        } else {
            Just(0).boxed()
        },
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            move |(members, tail, inherit_size, itemsize, gc, basetype, explicit)| TypeGen {
                shape,
                members,
                tail,
                inherit_size,
                itemsize,
                gc,
                basetype: basetype || is_base,
                explicit_base: explicit || !object_like,
            },
        )
}

impl TypeGen {
    /// Whether the spec says `basicsize = 0`.
    fn inherits_size(&self) -> bool {
        self.inherit_size && self.members.is_empty()
    }
}

/// A type, and maybe a base of the same shape that it extends.
#[derive(Clone, Debug)]
struct Family {
    base: Option<TypeGen>,
    leaf: TypeGen,
}

fn family() -> impl Strategy<Value = Family> {
    (0..SHAPES.len())
        .prop_flat_map(|shape| {
            (
                proptest::option::of(type_gen(shape, true)),
                type_gen(shape, false),
            )
        })
        .prop_map(|(base, mut leaf)| {
            if let Some(b) = &base {
                // A var-sized base's items: the subclass keeps its itemsize.
                if leaf.itemsize != 0 || b.itemsize != 0 {
                    leaf.itemsize = b.itemsize;
                }
            }
            Family { base, leaf }
        })
}

/// A value set from Python (an expression in the helpers' namespace).
fn value() -> impl Strategy<Value = String> {
    let bounds: Vec<i128> = vec![
        0,
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
    ];
    prop_oneof![
        6 => (select(bounds), -2i128..=2).prop_map(|(b, d)| (b + d).to_string()),
        2 => any::<i64>().prop_map(|v| v.to_string()),
        1 => select(vec!["2**100", "-2**100", "True", "False", "IntSub(-3)", "Idx(7)", "BadIdx()"])
            .prop_map(String::from),
        2 => select(vec![
            "1.5", "-0.0", "float('nan')", "float('inf')", "-float('inf')", "1e300",
            "3.4e38", "3.5e38", "1e-320", "FloatSub(2.5)",
        ])
        .prop_map(String::from),
        2 => select(vec!["'a'", "''", "'ab'", "'\\xe9'", "'\\x7f'", "'\\U0001f600'", "b'a'"])
            .prop_map(String::from),
        2 => select(vec!["None", "object()", "[1, 2]", "(3,)", "StrSub('z')"]).prop_map(String::from),
    ]
}

/// One step on the instance.
#[derive(Clone, Debug)]
enum Op {
    Set(usize, String),
    Del(usize),
    Get(usize),
    /// Raw bytes written into the member through the struct (for a
    /// `char *` member: an index into STRINGS, or NULL), then a get.
    Poke(usize, Vec<u8>),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (any::<usize>(), value()).prop_map(|(m, v)| Op::Set(m, v)),
        1 => any::<usize>().prop_map(Op::Del),
        2 => any::<usize>().prop_map(Op::Get),
        2 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 8)).prop_map(|(m, b)| Op::Poke(m, b)),
    ];
    proptest::collection::vec(op, 0..16)
}

// --------------------------------------------------------------- helpers

const HELPERS: &str = r#"
import warnings as _warnings

def _describe(v):
    if isinstance(v, float):
        return 'float nan' if v != v else 'float ' + v.hex()
    return type(v).__name__ + ' ' + repr(v)

def _do(f):
    with _warnings.catch_warnings(record=True) as w:
        _warnings.simplefilter('always')
        try:
            r = 'ok ' + _describe(f())
        except BaseException as e:
            r = f'raised {type(e).__name__}: {e}'
    return r + ''.join(f' [{x.category.__name__}: {x.message}]' for x in w)

def layout_set(o, n, v): return _do(lambda: setattr(o, n, v))
def layout_del(o, n): return _do(lambda: delattr(o, n))
def layout_get(o, n): return _do(lambda: getattr(o, n))
"#;

fn setup(py: Py<'_>) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| exec(py, HELPERS));
}

fn py_str<'py>(py: Py<'py>, s: &CStr) -> Obj<'py> {
    eval(py, &format!("{:?}", s.to_str().unwrap()))
}

/// The reference: a CPython type with `PyMemberDef`s of the same type codes
/// at the same offsets after `PyObject_HEAD`, and an instance of it.
fn reference<'py>(py: Py<'py>, layout: &Layout) -> (Obj<'py>, Obj<'py>) {
    let mut members: Vec<ffi::PyMemberDef> = layout
        .members
        .iter()
        .map(|m| ffi::PyMemberDef {
            name: m.name.as_ptr(),
            type_code: m.kind.code as c_int,
            offset: (HEAD + m.offset) as ffi::Py_ssize_t,
            flags: if m.readonly { ffi::Py_READONLY } else { 0 },
            doc: std::ptr::null(),
        })
        .collect();
    // SAFETY: all-zero is the sentinel.
    members.push(unsafe { std::mem::zeroed() });
    // CPython copies the member array into the type (3.8+), but keep it
    // alive anyway: it is small.
    let members = Box::leak(members.into_boxed_slice());
    let mut slots = [
        ffi::PyType_Slot {
            slot: ffi::Py_tp_members,
            pfunc: members.as_mut_ptr().cast(),
        },
        ffi::PyType_Slot {
            slot: 0,
            pfunc: std::ptr::null_mut(),
        },
    ];
    let mut spec = ffi::PyType_Spec {
        name: c"layout.T".as_ptr(),
        basicsize: (HEAD + layout.payload) as c_int,
        itemsize: 0,
        flags: ffi::Py_TPFLAGS_DEFAULT as _,
        slots: slots.as_mut_ptr(),
    };
    // SAFETY: GIL held; a valid spec (names are statics).
    let t = unsafe { Obj::from_owned(py, ffi::PyType_FromSpec(&mut spec)) }.expect("reference");
    let o = call(py, "lambda t: t()", &[&t]).expect("reference instance");
    (t, o)
}

/// The bytes of a struct.
///
/// # Safety
/// `p` points to `n` readable bytes.
unsafe fn read_bytes(p: *const u8, n: usize) -> Vec<u8> {
    // SAFETY: forwarded.
    unsafe { std::slice::from_raw_parts(p, n).to_vec() }
}

/// Fills both structs with the same pattern: bytes from `seed`, fields NULL,
/// `char *` members NULL or one of STRINGS, inline strings NUL-terminated.
///
/// # Safety
/// Both point to `layout.payload` writable bytes holding no references.
unsafe fn fill(layout: &Layout, seed: u64, structs: [*mut u8; 2]) {
    let mut x = seed | 1;
    let mut pattern: Vec<u8> = (0..layout.payload)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for m in &layout.members {
        let bytes = &mut pattern[m.offset..m.offset + m.kind.size];
        match m.kind.class {
            Class::Object => bytes.fill(0),
            Class::StrPtr => bytes.copy_from_slice(&str_ptr(bytes[0]).to_ne_bytes()),
            Class::StrInline => bytes[INPLACE - 1] = 0,
            _ => {}
        }
    }
    for s in structs {
        // SAFETY: forwarded.
        unsafe { std::ptr::copy_nonoverlapping(pattern.as_ptr(), s, pattern.len()) };
    }
}

/// A `char *` member's value for a raw byte: NULL or one of STRINGS.
fn str_ptr(b: u8) -> usize {
    match b as usize % (STRINGS.len() + 1) {
        0 => 0,
        i => STRINGS[i - 1].as_ptr() as usize,
    }
}

/// Releases the references the fields of both structs hold, then forgets
/// the instance's registration.
///
/// # Safety
/// The structs have `layout`'s members; fields hold NULL or references.
unsafe fn release(layout: &Layout, structs: [*mut u8; 2]) {
    fields_registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&(structs[0] as usize));
    for s in structs {
        for m in layout
            .members
            .iter()
            .filter(|m| m.kind.class == Class::Object)
        {
            // SAFETY: forwarded; a field is a pointer-sized slot.
            unsafe {
                let slot = s.add(m.offset).cast::<*mut ffi::PyObject>();
                let old = slot.read_unaligned();
                slot.write_unaligned(std::ptr::null_mut());
                ffi::Py_XDECREF(old);
            }
        }
    }
}

/// The value an integer or bool member's bytes hold, as `layout_get`
/// describes it.
fn decode(k: &Kind, b: &[u8]) -> Option<String> {
    let v: i128 = match (k.class, k.size) {
        (Class::Bool, 1) => {
            return Some(format!(
                "ok bool {}",
                if b[0] != 0 { "True" } else { "False" }
            ))
        }
        (Class::Int { signed: true }, 1) => i8::from_ne_bytes([b[0]]).into(),
        (Class::Int { signed: false }, 1) => b[0].into(),
        (Class::Int { signed: true }, 2) => i16::from_ne_bytes(b.try_into().ok()?).into(),
        (Class::Int { signed: false }, 2) => u16::from_ne_bytes(b.try_into().ok()?).into(),
        (Class::Int { signed: true }, 4) => i32::from_ne_bytes(b.try_into().ok()?).into(),
        (Class::Int { signed: false }, 4) => u32::from_ne_bytes(b.try_into().ok()?).into(),
        (Class::Int { signed: true }, 8) => i64::from_ne_bytes(b.try_into().ok()?).into(),
        (Class::Int { signed: false }, 8) => u64::from_ne_bytes(b.try_into().ok()?).into(),
        _ => return None,
    };
    Some(format!("ok int {v}"))
}

// ---------------------------------------------------------------- property

static SERIAL: Mutex<()> = Mutex::new(());

/// Makes the family's types (the base first); the leaf type, its layout.
fn make_types<'py>(py: Py<'py>, f: &Family) -> Outcome<(Vec<Obj<'py>>, Layout)> {
    make_faulty_types(py, f, None)
}

/// [`make_types`], with `fault` injected into the leaf's spec.
fn make_faulty_types<'py>(
    py: Py<'py>,
    f: &Family,
    fault: Option<&Fault>,
) -> Outcome<(Vec<Obj<'py>>, Layout)> {
    let mut types: Vec<Obj<'py>> = Vec::new();
    let mut layout: Option<Layout> = None;
    let gens: Vec<(&TypeGen, &'static CStr)> = f
        .base
        .iter()
        .map(|b| (b, c"layout.Base"))
        .chain([(&f.leaf, c"layout.T")])
        .collect();
    for (t, name) in gens {
        let leaf = std::ptr::eq(t, &f.leaf);
        let first = layout.as_ref().map_or(0, |l| l.members.len());
        let l = Layout::of(t, layout.as_ref());
        let mut parts = SpecParts::of(t, &l, first, name);
        let fault = fault.filter(|_| leaf);
        if let Some(fault) = fault {
            fault.apply_to_parts(&mut parts, layout.as_ref());
        }
        let mut data = parts.build();
        if let Some(fault) = fault {
            fault.apply_to_spec(&mut data.spec);
        }
        let builtin = match fault {
            Some(Fault::BuiltinBase(b)) => eval(py, b),
            _ => eval(py, SHAPES[t.shape].builtin),
        };
        let bases: Vec<&Obj<'py>> = match types.last() {
            Some(b) => vec![b],
            None if t.explicit_base
                || fault.is_some_and(|f| matches!(f, Fault::BuiltinBase(_))) =>
            {
                vec![&builtin]
            }
            None => vec![],
        };
        let ty = from_spec(py, &mut data.spec, &bases)?;
        types.push(ty);
        layout = Some(l);
    }
    Ok((types, layout.unwrap()))
}

/// Runs [`family_case`] in a forked child: a crash is a failing case.
fn check_family(f: &Family, seed: u64, via_new: bool, ops: &[Op]) -> Result<(), TestCaseError> {
    let out = with_gil(|py| {
        setup(py);
        in_child(py, || match family_case(py, f, seed, via_new, ops) {
            Ok(()) => "ok".to_string(),
            Err(e) => e.to_string(),
        })
    })
    .map_err(TestCaseError::fail)?;
    prop_assert_eq!(out, "ok");
    Ok(())
}

fn family_case(
    py: Py<'_>,
    f: &Family,
    seed: u64,
    via_new: bool,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    {
        let ctx = universal_ctx(py);
        let info = &SHAPES[f.leaf.shape];
        let (types, layout) = make_types(py, f)
            .map_err(|e| TestCaseError::fail(format!("a valid spec raised {e}")))?;
        let t = types.last().unwrap();
        let object_like = f.leaf.shape == LEGACY || f.leaf.shape == OBJECT;
        let o = if via_new && object_like {
            let mut data: *mut c_void = std::ptr::null_mut();
            let h = ctx_call!(ctx, ctx_New, handle_of(t), &mut data);
            let o = from_universal_handle(py, h)
                .map_err(|e| TestCaseError::fail(format!("HPy_New: {e}")))?;
            let s = (info.as_struct)(ctx, handle_of(&o));
            prop_assert_eq!(data, s, "HPy_New's struct is not AsStruct's");
            o
        } else {
            call(py, &format!("lambda T: {}", info.make), &[t])
                .map_err(|e| TestCaseError::fail(format!("instance: {e}")))?
        };
        // A legacy struct starts with PyObject_HEAD; the layout's offsets
        // are after it.
        let head = if f.leaf.shape == LEGACY { HEAD } else { 0 };
        // SAFETY: the struct of the instance has at least the head.
        let ours = unsafe { (info.as_struct)(ctx, handle_of(&o)).cast::<u8>().add(head) };
        // The payload lies inside the object, after the shape's builtin part.
        // SAFETY: `o` is live; its type is a type object.
        let (basicsize, start) = unsafe {
            (
                (*ffi::Py_TYPE(o.as_ptr())).tp_basicsize as usize,
                ours as usize - o.as_ptr() as usize,
            )
        };
        prop_assert!(
            layout.payload == 0 || start + layout.payload <= basicsize,
            "payload {}+{} beyond basicsize {}",
            start,
            layout.payload,
            basicsize
        );
        let (_rt, r) = reference(py, &layout);
        // SAFETY: the reference instance's payload follows its PyObject_HEAD.
        let theirs = unsafe { r.as_ptr().cast::<u8>().add(HEAD) };
        let structs = [ours, theirs];
        // SAFETY: both structs have `layout.payload` bytes and no
        // references yet (fresh, zero-filled instances).
        unsafe { fill(&layout, seed, structs) };
        fields_registry()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                ours as usize,
                layout
                    .members
                    .iter()
                    .filter(|m| m.kind.class == Class::Object)
                    .map(|m| m.offset)
                    .collect(),
            );
        let result = run_ops(py, &layout, &o, &r, structs, ops);
        // SAFETY: the structs still have the layout's members.
        unsafe { release(&layout, structs) };
        result?;
        let intact = call(py, &format!("lambda o: {}", info.intact), &[&o]).map(|v| repr(&v));
        prop_assert_eq!(
            intact,
            Ok("True".to_string()),
            "the builtin part changed: {}",
            info.intact
        );
        drop(o);
        drop(r);
        drop(types);
        Ok(())
    }
}

fn run_ops(
    py: Py<'_>,
    layout: &Layout,
    o: &Obj<'_>,
    r: &Obj<'_>,
    structs: [*mut u8; 2],
    ops: &[Op],
) -> Result<(), TestCaseError> {
    if layout.members.is_empty() {
        return Ok(());
    }
    let n = layout.payload;
    for op in ops {
        let idx = match op {
            Op::Set(m, _) | Op::Del(m) | Op::Get(m) | Op::Poke(m, _) => m % layout.members.len(),
        };
        let m = &layout.members[idx];
        let name = py_str(py, m.name);
        // SAFETY: the struct has `n` bytes.
        let before = unsafe { read_bytes(structs[0], n) };
        // One value for both (a field holds its address).
        let value = match op {
            Op::Set(_, v) => Some(eval(py, v)),
            _ => None,
        };
        let outcomes: Vec<String> = [o, r]
            .into_iter()
            .zip(structs)
            .map(|(obj, s)| match op {
                Op::Set(..) => {
                    let v = value.as_ref().unwrap();
                    text(&call(py, "layout_set", &[obj, &name, v]).unwrap())
                }
                Op::Del(_) => text(&call(py, "layout_del", &[obj, &name]).unwrap()),
                Op::Get(_) => text(&call(py, "layout_get", &[obj, &name]).unwrap()),
                Op::Poke(_, b) => {
                    let bytes = match m.kind.class {
                        Class::Object => vec![],
                        Class::StrPtr => str_ptr(b[0]).to_ne_bytes().to_vec(),
                        Class::StrInline => [&b[..INPLACE - 1], &[0]].concat(),
                        _ => b[..m.kind.size].to_vec(),
                    };
                    // SAFETY: the member's bytes lie inside the struct.
                    unsafe {
                        std::ptr::copy_nonoverlapping(bytes.as_ptr(), s.add(m.offset), bytes.len())
                    };
                    text(&call(py, "layout_get", &[obj, &name]).unwrap())
                }
            })
            .collect();
        // SAFETY: both structs have `n` bytes.
        let (after, after_ref) = unsafe { (read_bytes(structs[0], n), read_bytes(structs[1], n)) };
        let what = format!("{op:?} on {} {:?} at {}", m.kind.name, m.name, m.offset);
        // HPy exposes field members as getsets: setting a readonly one, or
        // deleting an empty OBJECT_EX one, raises the same exception type
        // with the getset's message, not the member's.
        let cut = |s: &String| s.split(':').next().unwrap().to_string();
        if m.kind.class == Class::Object && matches!(op, Op::Set(..) | Op::Del(_)) {
            prop_assert_eq!(cut(&outcomes[0]), cut(&outcomes[1]), "{}", what);
        } else {
            prop_assert_eq!(&outcomes[0], &outcomes[1], "{}", what);
        }
        prop_assert!(
            after == after_ref,
            "{}: the struct differs from the reference's",
            what
        );
        let changed: Vec<usize> = (0..n).filter(|&i| before[i] != after[i]).collect();
        prop_assert!(
            changed
                .iter()
                .all(|&i| i >= m.offset && i < m.offset + m.kind.size),
            "{}: bytes outside the member changed: {:?}",
            what,
            changed
        );
        if outcomes[0].starts_with("ok ") && !matches!(op, Op::Set(..) | Op::Del(_)) {
            if let Some(v) = decode(m.kind, &after[m.offset..m.offset + m.kind.size]) {
                prop_assert_eq!(
                    &v,
                    &outcomes[0],
                    "{}: read back is not the struct's bytes",
                    what
                );
            }
        }
    }
    Ok(())
}

/// Valid specs: members read and write exactly their bytes, as CPython's
/// `PyMemberDef`s of the same type codes do; see the file's comment.
#[test]
fn members_read_and_write_the_right_bytes() {
    let strategy = (family(), any::<u64>(), any::<bool>(), ops());
    run_serially(&SERIAL, 128, strategy, |(f, seed, via_new, ops)| {
        check_family(&f, seed, via_new, &ops)
    });
}

#[test]
fn kinds_table_covers_every_member_type() {
    let mut ours: Vec<_> = KINDS
        .iter()
        .map(|k| (format!("HPyMember_{}", k.name), k.code))
        .collect();
    let mut all: Vec<_> = ENUM_HPyMember_FieldType
        .iter()
        .map(|(n, v)| (n.to_string(), *v))
        .collect();
    ours.sort();
    all.sort();
    assert_eq!(ours, all);
}

// ---------------------------------------------------------- invalid specs

/// One fault injected into the leaf's spec (and the family shaped so that
/// it is one: see `faulty_family`).
#[derive(Clone, Debug)]
enum Fault {
    NegativeBasicsize(i32),
    NegativeItemsize(i32),
    /// The last member ends this many bytes past the basicsize.
    MemberBeyond(usize),
    NegativeOffset(isize),
    UnknownMemberType(HPyMember_FieldType),
    UnknownSlot(HPySlot_Slot),
    NullName,
    NullMemberName,
    InvalidShape(HPyType_BuiltinShape),
    GcWithoutTraverse,
    LegacySlotsWithPureShape,
    /// This basicsize, smaller than the base's (or than `PyObject_HEAD`).
    TooSmall(i32),
    /// An itemsize its var-sized base's items do not have.
    Itemsize(i32),
    /// A builtin base whose instances do not fit in the shape's header.
    BuiltinBase(&'static str),
    /// A base without BASETYPE; a legacy type on a pure base; a base of
    /// another shape (set up by `faulty_family`).
    Family,
}

impl Fault {
    fn apply_to_parts(&self, p: &mut SpecParts, base: Option<&Layout>) {
        let head = if p.shape == HPyType_BuiltinShape_Legacy {
            HEAD as isize
        } else {
            0
        };
        match *self {
            Fault::NegativeBasicsize(n) => p.basicsize = n,
            Fault::NegativeItemsize(n) => p.itemsize = n,
            Fault::MemberBeyond(extra) => {
                let m = p.members.last_mut().unwrap();
                let k = KINDS.iter().find(|k| k.code == m.1).unwrap();
                m.2 = p.basicsize as isize - k.size as isize + extra as isize;
            }
            Fault::NegativeOffset(o) => p.members[0].2 = o,
            Fault::UnknownMemberType(t) => p.members[0].1 = t,
            Fault::UnknownSlot(s) => p.slots.push(s),
            Fault::NullMemberName => p.members[0].0 = None,
            Fault::InvalidShape(s) => p.shape = s,
            Fault::GcWithoutTraverse => p.slots.clear(),
            Fault::TooSmall(n) => {
                let base_size = base.map_or(HEAD as isize, |b| head + b.payload as isize);
                p.basicsize = n.min(base_size as i32 - 1).max(1);
            }
            Fault::Itemsize(n) => p.itemsize = n,
            _ => {}
        }
    }

    fn apply_to_spec(&self, spec: &mut HPyType_Spec) {
        match self {
            Fault::NullName => spec.name = std::ptr::null(),
            Fault::LegacySlotsWithPureShape => {
                // An empty legacy slot array (leaked: 16 bytes a case).
                let slots = Box::leak(Box::new([ffi::PyType_Slot {
                    slot: 0,
                    pfunc: std::ptr::null_mut(),
                }]));
                spec.legacy_slots = slots.as_mut_ptr().cast();
            }
            _ => {}
        }
    }
}

/// A family shaped for `fault`, and the fault.
fn faulty_family() -> impl Strategy<Value = (Family, Fault)> {
    let unknown_slots: Vec<HPySlot_Slot> = [0, 1, 2, 47, 48, 49, 999, HPy_mod_create, HPy_mod_exec]
        .into_iter()
        .filter(|s| {
            *s == HPy_mod_create
                || *s == HPy_mod_exec
                || !ENUM_HPySlot_Slot.iter().any(|(_, v)| v == s)
        })
        .collect();
    let fault = prop_oneof![
        (i32::MIN..0).prop_map(Fault::NegativeBasicsize),
        (i32::MIN..0).prop_map(Fault::NegativeItemsize),
        (1usize..4096).prop_map(Fault::MemberBeyond),
        (isize::MIN..0).prop_map(Fault::NegativeOffset),
        select(vec![15, 21, 22, 100, u32::MAX]).prop_map(Fault::UnknownMemberType),
        select(unknown_slots).prop_map(Fault::UnknownSlot),
        Just(Fault::NullName),
        Just(Fault::NullMemberName),
        select(vec![-2, -100, 8, 9, 100, i32::MAX]).prop_map(Fault::InvalidShape),
        Just(Fault::GcWithoutTraverse),
        Just(Fault::LegacySlotsWithPureShape),
        (1i32..64).prop_map(Fault::TooSmall),
        select(vec![1, 2, 3, 16]).prop_map(Fault::Itemsize),
        select(vec!["list", "dict", "Exception", "float", "int"]).prop_map(Fault::BuiltinBase),
        Just(Fault::Family),
    ];
    (family(), fault, 0usize..3).prop_map(|(mut f, fault, which)| {
        let needs_member = matches!(
            fault,
            Fault::MemberBeyond(_)
                | Fault::NegativeOffset(_)
                | Fault::UnknownMemberType(_)
                | Fault::NullMemberName
        );
        if needs_member && f.leaf.members.is_empty() {
            f.leaf.members.push(MemberGen {
                kind: 1,
                pad: 0,
                readonly: false,
            });
        }
        match fault {
            Fault::GcWithoutTraverse => f.leaf.gc = true,
            Fault::LegacySlotsWithPureShape if f.leaf.shape == LEGACY => {
                f.leaf.shape = OBJECT;
                f.base = None;
            }
            Fault::TooSmall(_) => {
                f.leaf.members.clear();
                f.leaf.inherit_size = false;
                match &mut f.base {
                    // A base payload of 8 bytes or more to be smaller than.
                    Some(b) if !b.members.is_empty() => b.tail = b.tail.max(8),
                    // Else a legacy struct smaller than PyObject_HEAD.
                    _ => {
                        f.leaf.shape = LEGACY;
                        f.base = None;
                    }
                }
            }
            Fault::Itemsize(_) => {
                // tuple's items are pointers, int's are digits.
                f.leaf.shape = if which == 0 { 3 } else { 6 };
                f.leaf.explicit_base = true;
                f.base = None;
            }
            Fault::BuiltinBase(b) => {
                f.leaf.shape = if b == "list" && which == 0 { 3 } else { OBJECT };
                f.base = None;
                if f.leaf.members.is_empty() {
                    f.leaf.members.push(MemberGen {
                        kind: 1,
                        pad: 0,
                        readonly: false,
                    });
                }
            }
            Fault::Family => {
                let mut base = f.base.clone().unwrap_or_else(|| f.leaf.clone());
                base.basetype = true;
                base.shape = OBJECT;
                base.explicit_base = false;
                base.itemsize = 0;
                f.leaf.itemsize = 0;
                match which {
                    0 => base.basetype = false,
                    1 => f.leaf.shape = LEGACY,
                    _ => {
                        // A float-shaped type on an object-shaped base.
                        f.leaf.shape = 4;
                        base.gc = false;
                    }
                }
                f.base = Some(base);
            }
            _ => {}
        }
        (f, fault)
    })
}

/// What making `f` with `fault` gives, in a forked child: `raised T: msg`,
/// or `created` (after setting every member of an instance), or how the
/// child died.
fn faulty_outcome(f: &Family, fault: &Fault) -> Result<String, String> {
    with_gil(|py| {
        setup(py);
        in_child(py, || match make_faulty_types(py, f, Some(fault)) {
            Err(e) => raised(&e),
            Ok((types, layout)) => {
                let t = types.last().unwrap();
                let info = &SHAPES[f.leaf.shape];
                match call(py, &format!("lambda T: {}", info.make), &[t]) {
                    Err(e) => format!("created; instance: {}", raised(&e)),
                    Ok(o) => {
                        for m in &layout.members {
                            let v = eval(py, "2**31 - 1");
                            let name = py_str(py, m.name);
                            let _ = call(py, "layout_set", &[&o, &name, &v]);
                        }
                        "created".to_string()
                    }
                }
            }
        })
    })
}

/// Each fault gives a TypeError, ValueError or SystemError; run in a
/// forked child so that a crash fails the case. A type that is made anyway
/// gets an instance whose members are all set (and the case fails).
#[test]
fn invalid_specs_raise() {
    run_serially(&SERIAL, 256, faulty_family(), |(f, fault)| {
        let out = faulty_outcome(&f, &fault).map_err(TestCaseError::fail)?;
        let ok = [
            "raised TypeError: ",
            "raised ValueError: ",
            "raised SystemError: ",
        ];
        prop_assert!(
            ok.iter().any(|p| out.starts_with(p)),
            "{:?} gave {}",
            fault,
            out
        );
        Ok(())
    });
}

// ------------------------------------------- regressions (invalid_specs_raise)

/// A type of `shape` with one INT member, no base given.
fn plain(shape: usize) -> TypeGen {
    TypeGen {
        shape,
        members: vec![MemberGen {
            kind: 1,
            pad: 0,
            readonly: false,
        }],
        tail: 0,
        inherit_size: false,
        itemsize: 0,
        gc: false,
        basetype: false,
        explicit_base: shape != LEGACY && shape != OBJECT,
    }
}

fn assert_raises(f: Family, fault: Fault, expected: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = faulty_outcome(&f, &fault).unwrap();
    assert_eq!(out, expected, "{fault:?}");
}

/// Shrunk from `TooSmall(1)`: a legacy type of basicsize 1 was made on
/// CPython < 3.12 (which does not check), so every instance was smaller
/// than its `PyObject_HEAD`. Fixed in hpy-cpython/src/types/check.rs
/// (`check_sizes`, CPython 3.12's message).
#[test]
fn regression_basicsize_smaller_than_base_raises() {
    let mut leaf = plain(LEGACY);
    leaf.members.clear();
    assert_raises(
        Family { base: None, leaf },
        Fault::TooSmall(1),
        &format!("raised TypeError: tp_basicsize for type 'layout.T' (1) is too small for base 'object' ({HEAD})"),
    );
}

/// Shrunk from `Itemsize(1)` (shape Long, base int): the type was made with
/// 1-byte items, and int's code writes 4-byte digits past the allocation.
/// Fixed in hpy-cpython/src/types/check.rs (`check_sizes`).
#[test]
fn regression_itemsize_of_var_sized_base_raises() {
    assert_raises(
        Family { base: None, leaf: plain(3) },
        Fault::Itemsize(1),
        "raised TypeError: tp_itemsize for type 'layout.T' (1) differs from the itemsize of its var-sized base 'int' (4)",
    );
}

/// Shrunk from `MemberBeyond(1)`: a legacy INT member at offset 17 of a
/// 20-byte struct was accepted, and setting it wrote past the instance.
/// Fixed in hpy-cpython/src/types/check.rs (`check_spec`).
#[test]
fn regression_member_beyond_basicsize_raises() {
    assert_raises(
        Family { base: None, leaf: plain(LEGACY) },
        Fault::MemberBeyond(1),
        &format!("raised ValueError: HPyType_FromSpec: type 'layout.T': member 'f0' (offset {}, size 4) lies outside basicsize {}", HEAD + 1, HEAD + 4),
    );
}

/// Shrunk from `BuiltinBase("float")`: an Object-shaped type with a
/// payload on base float was made; its struct (after 16 bytes) overlapped
/// the float's value. Fixed in hpy-cpython/src/types/check.rs
/// (`check_shape`).
#[test]
fn regression_payload_overlapping_builtin_base_raises() {
    let mut leaf = plain(OBJECT);
    leaf.tail = 16; // instances as large as a float's: only the shape is wrong
    assert_raises(
        Family { base: None, leaf },
        Fault::BuiltinBase("float"),
        "raised TypeError: the struct of type 'layout.T' (builtin_shape 0, after 16 bytes) would overlap the instances of its base 'float' (24 bytes): use the base's builtin shape",
    );
}

/// Found with `Fault::Family` (a Float-shaped type on an Object-shaped HPy
/// base): the subclass's payload started 16 bytes after the base's, so the
/// base's code (its `HPy_tp_destroy`, `AsStruct`) saw the wrong bytes.
/// Fixed in hpy-cpython/src/types/check.rs (`check_shape`).
#[test]
fn regression_shape_conflicting_with_hpy_base_raises() {
    let mut base = plain(OBJECT);
    base.basetype = true;
    assert_raises(
        Family { base: Some(base), leaf: plain(4) },
        Fault::Family,
        "raised TypeError: type 'layout.T' has builtin_shape 3 but its base 'layout.Base' has builtin_shape 0",
    );
}
