//! Garbage module definitions: generated `HPyModuleDef`s (NULL or
//! non-UTF-8 docs and method names, unknown `HPyDef` kinds and slot
//! numbers, type slots in a module, negative or huge sizes, legacy methods,
//! global handles, `HPy_mod_create`/`HPy_mod_exec` slots that fail, fail
//! without an exception, succeed with one pending or return garbage, and an
//! `HPy_mod_exec` making a type from generated `HPyType_SpecParam`s with
//! `HPy_NULL` handles, non-types, non-tuples and unknown kinds) under
//! generated module names, created the way `hpy.universal.load` creates a
//! module from the `HPyModuleDef` an extension's init returns
//! (`hpy_universal::module::create_module`), in a forked child per case.
//!
//! `garbage_module_defs_raise`: each definition a small model calls valid
//! gives a module whose methods, legacy methods, exec effects and globals
//! are there; every other one raises SystemError, TypeError or ValueError
//! (UnicodeError included), and none crashes.

#![cfg(target_os = "linux")] // fork

use hpy_props::*;
use hpy_sys::*;
use proptest::prelude::*;
use proptest::sample::select;
use std::ffi::{c_int, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::Mutex;

// ------------------------------------------------ impls and trampolines

/// Calls `f` (an impl of signature `sig`) as a universal extension's
/// trampoline does: through the universal context's
/// `ctx_CallRealFunctionFromTrampoline`.
///
/// # Safety
/// GIL held; `f` has the C signature `sig` stands for; `args` is its
/// argument block.
unsafe fn call_real(sig: HPyFunc_Signature, f: *const (), args: *mut c_void) {
    // SAFETY: forwarded contract.
    unsafe {
        let ctx = hpy_universal::universal_ctx();
        let call = (*ctx).ctx_CallRealFunctionFromTrampoline.unwrap();
        call(
            ctx,
            sig,
            std::mem::transmute::<*const (), HPyCFunction>(f),
            args,
        );
    }
}

/// The globals a definition may list (statics, as an extension's are).
static mut GLOBALS: [HPyGlobal; 3] = [HPyGlobal { _i: 0 }; 3];

fn global(i: usize) -> *mut HPyGlobal {
    // SAFETY: only the address is taken.
    unsafe { std::ptr::addr_of_mut!(GLOBALS[i]) }
}

/// The params the `MakeType` exec passes to `HPyType_FromSpec` (set by
/// the child before it creates the module; HPy_NULL-terminated).
static PARAMS: Mutex<Vec<HPyType_SpecParam>> = Mutex::new(Vec::new());

/// What an `HPy_mod_exec` impl does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exec {
    Ok,
    /// Sets `x = True` on the module.
    SetAttr,
    /// Raises ValueError, returns -1.
    Fails,
    /// Returns -1 with no exception.
    FailsSilently,
    /// Returns 0 with an exception pending.
    SucceedsWithError,
    /// Returns 42.
    Garbage,
    /// Stores the module in `GLOBALS[0]`.
    StoreGlobal,
    /// Makes a type with `PARAMS` and sets it as `T`.
    MakeType,
}

const EXECS: &[Exec] = &[
    Exec::Ok,
    Exec::SetAttr,
    Exec::Fails,
    Exec::FailsSilently,
    Exec::SucceedsWithError,
    Exec::Garbage,
    Exec::StoreGlobal,
    Exec::MakeType,
];

/// What an `HPy_mod_create` impl returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Create {
    /// A new object that is not a module (an int).
    Object,
    /// A real module (which HPy rejects).
    Module,
    /// HPy_NULL with ValueError.
    Fails,
    /// HPy_NULL, no exception.
    FailsSilently,
}

const CREATES: &[Create] = &[
    Create::Object,
    Create::Module,
    Create::Fails,
    Create::FailsSilently,
];

fn raise_value_error(ctx: *mut HPyContext) {
    // SAFETY: reads a constant handle of a live context.
    let h = unsafe { (*ctx).h_ValueError };
    ctx_call!(ctx, ctx_Err_SetString, h, c"raised by the test".as_ptr());
}

fn run_exec(ctx: *mut HPyContext, m: HPy, what: Exec) -> c_int {
    // SAFETY: reads constant handles of a live context.
    let h_true = unsafe { (*ctx).h_True };
    match what {
        Exec::Ok => 0,
        Exec::SetAttr => ctx_call!(ctx, ctx_SetAttr_s, m, c"x".as_ptr(), h_true),
        Exec::Fails => {
            raise_value_error(ctx);
            -1
        }
        Exec::FailsSilently => -1,
        Exec::SucceedsWithError => {
            raise_value_error(ctx);
            0
        }
        Exec::Garbage => 42,
        Exec::StoreGlobal => {
            ctx_call!(ctx, ctx_Global_Store, global(0), m);
            0
        }
        Exec::MakeType => {
            let mut spec = HPyType_Spec {
                name: c"mdefs.T".as_ptr(),
                basicsize: 0,
                itemsize: 0,
                flags: HPy_TPFLAGS_DEFAULT as _,
                builtin_shape: HPyType_BuiltinShape_Object,
                legacy_slots: null_mut(),
                defines: null_mut(),
                doc: null(),
            };
            let mut params = PARAMS.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let p = if params.is_empty() {
                null_mut()
            } else {
                params.as_mut_ptr()
            };
            let t = ctx_call!(ctx, ctx_Type_FromSpec, &mut spec, p);
            if t.is_null() {
                return -1;
            }
            let r = ctx_call!(ctx, ctx_SetAttr_s, m, c"T".as_ptr(), t);
            ctx_call!(ctx, ctx_Close, t);
            r
        }
    }
}

fn run_create(ctx: *mut HPyContext, what: Create) -> HPy {
    match what {
        Create::Object => ctx_call!(ctx, ctx_Long_FromInt64_t, 5),
        Create::Module => {
            // SAFETY: GIL held (a trampoline runs with it); a new reference
            // becomes the returned handle (universal handles are objects).
            let m = unsafe { ffi::PyModule_New(c"made_by_create".as_ptr()) };
            HPy { _i: m as isize }
        }
        Create::Fails => {
            raise_value_error(ctx);
            HPy_NULL
        }
        Create::FailsSilently => HPy_NULL,
    }
}

/// One exec impl and its trampoline per `Exec`, one create impl and its
/// trampoline per `Create`: the pieces `HPyDef_SLOT` makes.
macro_rules! slot_impls {
    ($($impl_:ident, $tramp:ident => $what:expr;)*) => {$(
        unsafe extern "C" fn $impl_(ctx: *mut HPyContext, m: HPy) -> c_int {
            run_exec(ctx, m, $what)
        }
        unsafe extern "C" fn $tramp(m: *mut cpy_PyObject) -> c_int {
            let mut a = _HPyFunc_args_INQUIRY { arg0: m, result: 0 };
            // SAFETY: CPython runs module exec slots with the GIL held;
            // the impl has HPyFunc_INQUIRY's signature.
            unsafe { call_real(HPyFunc_INQUIRY, $impl_ as *const (), (&mut a as *mut _ as *mut c_void)) };
            a.result
        }
    )*};
}

macro_rules! create_impls {
    ($($impl_:ident, $tramp:ident => $what:expr;)*) => {$(
        unsafe extern "C" fn $impl_(ctx: *mut HPyContext, _spec: HPy) -> HPy {
            run_create(ctx, $what)
        }
        unsafe extern "C" fn $tramp(spec: *mut cpy_PyObject, _def: *mut c_void) -> *mut cpy_PyObject {
            let mut a = _HPyFunc_args_MOD_CREATE { spec, result: null_mut() };
            // SAFETY: CPython runs Py_mod_create with the GIL held; the
            // impl has HPyFunc_MOD_CREATE's signature.
            unsafe { call_real(HPyFunc_MOD_CREATE, $impl_ as *const (), (&mut a as *mut _ as *mut c_void)) };
            a.result
        }
    )*};
}

slot_impls! {
    exec_ok, exec_ok_t => Exec::Ok;
    exec_setattr, exec_setattr_t => Exec::SetAttr;
    exec_fails, exec_fails_t => Exec::Fails;
    exec_silent, exec_silent_t => Exec::FailsSilently;
    exec_pending, exec_pending_t => Exec::SucceedsWithError;
    exec_garbage, exec_garbage_t => Exec::Garbage;
    exec_global, exec_global_t => Exec::StoreGlobal;
    exec_type, exec_type_t => Exec::MakeType;
}

create_impls! {
    create_object, create_object_t => Create::Object;
    create_module, create_module_t => Create::Module;
    create_fails, create_fails_t => Create::Fails;
    create_silent, create_silent_t => Create::FailsSilently;
}

/// (impl, trampoline) of an exec behaviour.
fn exec_fns(e: Exec) -> (*const (), *const ()) {
    match e {
        Exec::Ok => (exec_ok as *const (), exec_ok_t as *const ()),
        Exec::SetAttr => (exec_setattr as *const (), exec_setattr_t as *const ()),
        Exec::Fails => (exec_fails as *const (), exec_fails_t as *const ()),
        Exec::FailsSilently => (exec_silent as *const (), exec_silent_t as *const ()),
        Exec::SucceedsWithError => (exec_pending as *const (), exec_pending_t as *const ()),
        Exec::Garbage => (exec_garbage as *const (), exec_garbage_t as *const ()),
        Exec::StoreGlobal => (exec_global as *const (), exec_global_t as *const ()),
        Exec::MakeType => (exec_type as *const (), exec_type_t as *const ()),
    }
}

fn create_fns(c: Create) -> (*const (), *const ()) {
    match c {
        Create::Object => (create_object as *const (), create_object_t as *const ()),
        Create::Module => (create_module as *const (), create_module_t as *const ()),
        Create::Fails => (create_fails as *const (), create_fails_t as *const ()),
        Create::FailsSilently => (create_silent as *const (), create_silent_t as *const ()),
    }
}

/// The test's `HPyFunc_NOARGS` method: returns 42.
unsafe extern "C" fn meth_impl(ctx: *mut HPyContext, _self: HPy) -> HPy {
    ctx_call!(ctx, ctx_Long_FromInt64_t, 42)
}

unsafe extern "C" fn meth_trampoline(
    self_: *mut cpy_PyObject,
    _unused: *mut cpy_PyObject,
) -> *mut cpy_PyObject {
    let mut a = _HPyFunc_args_NOARGS {
        self_,
        result: null_mut(),
    };
    // SAFETY: CPython calls METH_NOARGS functions with the GIL held; the
    // impl has HPyFunc_NOARGS's signature.
    unsafe {
        call_real(
            HPyFunc_NOARGS,
            meth_impl as *const (),
            (&mut a as *mut _HPyFunc_args_NOARGS).cast(),
        )
    };
    a.result
}

/// A legacy (`PyMethodDef`) method: returns 7.
unsafe extern "C" fn legacy_meth(
    _self: *mut ffi::PyObject,
    _unused: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: called by CPython with the GIL held.
    unsafe { ffi::PyLong_FromLong(7) }
}

// ------------------------------------------------------------ definitions

/// A method name: fine, NULL, or not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Name {
    Ok(usize),
    Null,
    NotUtf8,
}

const METH_NAMES: &[&CStr] = &[c"m0", c"m1", c"m2", c"m3"];

impl Name {
    fn ptr(self) -> *const std::ffi::c_char {
        match self {
            Name::Ok(i) => METH_NAMES[i].as_ptr(),
            Name::Null => null(),
            Name::NotUtf8 => c"m\xff\xfe".as_ptr(),
        }
    }
}

/// One entry of `HPyModuleDef.defines`.
#[derive(Clone, Debug)]
enum DefGen {
    Meth {
        name: Name,
        /// HPyFunc_NOARGS, or another (not a method) signature.
        signature: HPyFunc_Signature,
        trampoline: bool,
    },
    Exec(Exec),
    Create(Create),
    /// A slot number that is not a module slot (a type slot, or unknown).
    Slot(HPySlot_Slot),
    /// A member or getset definition, or an unknown kind.
    Kind(HPyDef_Kind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Doc {
    Null,
    Ok,
    NotUtf8,
}

/// A generated `HPyModuleDef` and the module name in the spec.
#[derive(Clone, Debug)]
struct ModGen {
    doc: Doc,
    size: HPy_ssize_t,
    legacy: bool,
    /// None: NULL; else how many globals the array lists.
    globals: Option<usize>,
    defines: Vec<DefGen>,
    /// The module spec's name (a Python expression).
    spec_name: &'static str,
    /// The type params of `Exec::MakeType`.
    params: Vec<ParamGen>,
}

/// One `HPyType_SpecParam`: its kind and its object (a Python expression,
/// or None for HPy_NULL).
#[derive(Clone, Debug)]
struct ParamGen {
    kind: HPyType_SpecParam_Kind,
    object: Option<&'static str>,
}

fn def_gen() -> impl Strategy<Value = DefGen> {
    prop_oneof![
        4 => (
            prop_oneof![12 => (0..METH_NAMES.len()).prop_map(Name::Ok), 1 => Just(Name::Null), 1 => Just(Name::NotUtf8)],
            prop_oneof![12 => Just(HPyFunc_NOARGS), 1 => select(vec![0, HPyFunc_DESTROYFUNC, HPyFunc_MOD_CREATE, 999])],
            prop_oneof![12 => Just(true), 1 => Just(false)],
        )
            .prop_map(|(name, signature, trampoline)| DefGen::Meth { name, signature, trampoline }),
        4 => select(EXECS.to_vec()).prop_map(DefGen::Exec),
        1 => select(CREATES.to_vec()).prop_map(DefGen::Create),
        1 => select(vec![0, 1, HPy_tp_repr, HPy_tp_traverse, HPy_tp_destroy, 1999, 2002, u32::MAX]).prop_map(DefGen::Slot),
        1 => select(vec![HPyDef_Kind_Member, HPyDef_Kind_GetSet, 0, 5, 99]).prop_map(DefGen::Kind),
    ]
}

fn param_gen() -> impl Strategy<Value = ParamGen> {
    (
        prop_oneof![
            6 => select(vec![
                HPyType_SpecParam_Base,
                HPyType_SpecParam_BasesTuple,
                HPyType_SpecParam_Metaclass,
            ]),
            1 => select(vec![4, 99, u32::MAX]),
        ],
        prop_oneof![
            1 => Just(None),
            6 => select(vec!["object", "int", "(object,)", "(int,)", "()", "5", "bool", "type", "'x'"]).prop_map(Some),
        ],
    )
        .prop_map(|(kind, object)| ParamGen { kind, object })
}

fn mod_gen() -> impl Strategy<Value = ModGen> {
    (
        prop_oneof![4 => Just(Doc::Null), 4 => Just(Doc::Ok), 1 => Just(Doc::NotUtf8)],
        prop_oneof![12 => Just(0isize), 1 => select(vec![-1isize, 1, 64, isize::MAX, isize::MIN])],
        any::<bool>(),
        prop_oneof![2 => Just(None), 1 => (0usize..=3).prop_map(Some)],
        proptest::collection::vec(def_gen(), 0..5),
        prop_oneof![
            12 => Just("'m'"),
            3 => select(vec!["'pkg.mod'", "''", "'a\\x00b'", "'\\udcff'", "42", "None", "'\\xe9t\\xe9'"]),
        ],
        proptest::collection::vec(param_gen(), 0..4),
    )
        .prop_map(|(doc, size, legacy, globals, defines, spec_name, params)| ModGen {
            doc,
            size,
            legacy,
            globals,
            defines,
            spec_name,
            params,
        })
}

/// The definition and everything it points to.
struct ModData {
    def: HPyModuleDef,
    _defs: Vec<HPyDef>,
    _ptrs: Vec<*mut HPyDef>,
    _globals: Vec<*mut HPyGlobal>,
    _legacy: Vec<ffi::PyMethodDef>,
}

fn hpydef(kind: HPyDef_Kind, u: HPyDef__bindgen_ty_1) -> HPyDef {
    HPyDef {
        kind,
        __bindgen_anon_1: u,
    }
}

fn slot(slot: HPySlot_Slot, (f, tramp): (*const (), *const ())) -> HPyDef__bindgen_ty_1 {
    // SAFETY: stored as the generic pointer types, as HPyDef_SLOT does.
    unsafe {
        HPyDef__bindgen_ty_1 {
            slot: HPySlot {
                slot,
                impl_: std::mem::transmute::<*const (), HPyCFunction>(f),
                cpy_trampoline: std::mem::transmute::<*const (), cpy_PyCFunction>(tramp),
            },
        }
    }
}

impl ModGen {
    fn build(&self) -> ModData {
        let mut defs: Vec<HPyDef> = self
            .defines
            .iter()
            .map(|d| match *d {
                DefGen::Meth {
                    name,
                    signature,
                    trampoline,
                } => hpydef(
                    HPyDef_Kind_Meth,
                    HPyDef__bindgen_ty_1 {
                        meth: HPyMeth {
                            name: name.ptr(),
                            // SAFETY: stored as the generic pointer types,
                            // as HPyDef_METH does.
                            impl_: unsafe {
                                std::mem::transmute::<*const (), HPyCFunction>(
                                    meth_impl as *const (),
                                )
                            },
                            cpy_trampoline: if trampoline {
                                // SAFETY: as above.
                                unsafe {
                                    std::mem::transmute::<*const (), cpy_PyCFunction>(
                                        meth_trampoline as *const (),
                                    )
                                }
                            } else {
                                None
                            },
                            signature,
                            doc: null(),
                        },
                    },
                ),
                DefGen::Exec(e) => hpydef(HPyDef_Kind_Slot, slot(HPy_mod_exec, exec_fns(e))),
                DefGen::Create(c) => hpydef(HPyDef_Kind_Slot, slot(HPy_mod_create, create_fns(c))),
                DefGen::Slot(s) => hpydef(HPyDef_Kind_Slot, slot(s, exec_fns(Exec::Ok))),
                DefGen::Kind(k) => hpydef(
                    k,
                    HPyDef__bindgen_ty_1 {
                        member: HPyMember {
                            name: c"member".as_ptr(),
                            type_: HPyMember_INT,
                            offset: 0,
                            readonly: 0,
                            doc: null(),
                        },
                    },
                ),
            })
            .collect();
        let mut ptrs: Vec<*mut HPyDef> = defs.iter_mut().map(|d| d as *mut _).collect();
        ptrs.push(null_mut());
        let mut globals: Vec<*mut HPyGlobal> = (0..self.globals.unwrap_or(0)).map(global).collect();
        globals.push(null_mut());
        // SAFETY: all-zero is the sentinel of a method table.
        let mut legacy = vec![
            ffi::PyMethodDef {
                ml_name: c"legacy".as_ptr(),
                ml_meth: ffi::PyMethodDefPointer {
                    PyCFunction: legacy_meth,
                },
                ml_flags: ffi::METH_NOARGS,
                ml_doc: null(),
            },
            unsafe { std::mem::zeroed() },
        ];
        let def = HPyModuleDef {
            doc: match self.doc {
                Doc::Null => null(),
                Doc::Ok => c"a module".as_ptr(),
                Doc::NotUtf8 => c"a \xff module".as_ptr(),
            },
            size: self.size,
            legacy_methods: if self.legacy {
                legacy.as_mut_ptr().cast()
            } else {
                null_mut()
            },
            defines: ptrs.as_mut_ptr(),
            globals: if self.globals.is_some() {
                globals.as_mut_ptr()
            } else {
                null_mut()
            },
        };
        ModData {
            def,
            _defs: defs,
            _ptrs: ptrs,
            _globals: globals,
            _legacy: legacy,
        }
    }

    /// Whether the type params are valid (what `Exec::MakeType` needs).
    fn params_valid(&self) -> bool {
        let known = |k| {
            k == HPyType_SpecParam_Base
                || k == HPyType_SpecParam_BasesTuple
                || k == HPyType_SpecParam_Metaclass
        };
        let count = |k| self.params.iter().filter(|p| p.kind == k).count();
        let is = |k, objs: &[&str]| {
            self.params
                .iter()
                .filter(|p| p.kind == k)
                .all(|p| p.object.is_some_and(|o| objs.contains(&o)))
        };
        self.params
            .iter()
            .all(|p| known(p.kind) && p.object.is_some())
            && count(HPyType_SpecParam_BasesTuple) <= 1
            && !(count(HPyType_SpecParam_Base) > 0 && count(HPyType_SpecParam_BasesTuple) > 0)
            && count(HPyType_SpecParam_Metaclass) <= 1
            && is(
                HPyType_SpecParam_Metaclass,
                &["object", "int", "bool", "type"],
            )
            && !is_any(
                self,
                HPyType_SpecParam_Metaclass,
                &["object", "int", "bool"],
            )
            && is(HPyType_SpecParam_Base, &["object", "int", "type"])
            && is(HPyType_SpecParam_BasesTuple, &["(object,)", "(int,)"])
    }

    /// Whether the model expects a module: None when it cannot tell (two
    /// or more bases: their order and layouts decide, CPython checks).
    fn expects_module(&self) -> Option<bool> {
        let bases = self
            .params
            .iter()
            .filter(|p| p.kind == HPyType_SpecParam_Base)
            .count();
        let makes_type = self
            .defines
            .iter()
            .any(|d| matches!(d, DefGen::Exec(Exec::MakeType)));
        match self.valid() {
            true if makes_type && bases > 1 => None,
            v => Some(v),
        }
    }

    /// Whether the definition is valid (see `expects_module`).
    fn valid(&self) -> bool {
        let creates = self
            .defines
            .iter()
            .filter(|d| matches!(d, DefGen::Create(_)))
            .count();
        let defines_ok = self.defines.iter().all(|d| match d {
            DefGen::Meth {
                name,
                signature,
                trampoline,
            } => matches!(name, Name::Ok(_)) && *signature == HPyFunc_NOARGS && *trampoline,
            DefGen::Exec(e) => match e {
                Exec::Ok | Exec::SetAttr | Exec::StoreGlobal => true,
                Exec::MakeType => self.params_valid(),
                _ => false,
            },
            DefGen::Create(c) => *c == Create::Object,
            _ => false,
        });
        let create_alone = creates == 0
            || (creates == 1
                && self.defines.len() == 1
                && self.doc == Doc::Null
                && self.globals.is_none()
                && !self.legacy);
        let name_ok = !matches!(self.spec_name, "'\\udcff'" | "42" | "None");
        defines_ok && create_alone && self.size == 0 && (self.doc != Doc::NotUtf8) && name_ok
    }
}

/// Whether some param of kind `k` holds one of `objs`.
fn is_any(m: &ModGen, k: HPyType_SpecParam_Kind, objs: &[&str]) -> bool {
    m.params
        .iter()
        .any(|p| p.kind == k && p.object.is_some_and(|o| objs.contains(&o)))
}

// ---------------------------------------------------------------- property

const HELPERS: &str = r#"
import importlib.machinery as _machinery

def mdefs_spec(name):
    return _machinery.ModuleSpec(name, None)

def mdefs_allowed(type_name):
    import builtins
    t = getattr(builtins, type_name, None)
    return isinstance(t, type) and issubclass(t, (SystemError, TypeError, ValueError))

def mdefs_describe(m, methods, legacy, execs):
    out = [type(m).__name__]
    if type(m).__name__ == 'module':
        out.append(repr(m.__name__))
        out += [f'{n}={getattr(m, n)()}' for n in methods]
        if legacy:
            out.append(f'legacy={m.legacy()}')
        if 'SetAttr' in execs:
            out.append(f'x={m.x}')
        if 'MakeType' in execs:
            out.append(f'T={type(m.T).__name__}')
    else:
        out.append(repr(m))
    return ' '.join(out)
"#;

static SERIAL: Mutex<()> = Mutex::new(());

/// Creates the module in a child; what it gave (`module ...`, `int 5`) or
/// raised (`allowed T: msg` / `unexpected T: msg`), or how the child died.
fn create_in_child(m: &ModGen) -> Result<String, String> {
    with_gil(|py| {
        exec(py, HELPERS);
        in_child(py, || {
            // Pre-fill the globals the definition lists with garbage: module
            // creation resets them (the others stay NULL, as an
            // extension's statics start).
            for i in 0..m.globals.unwrap_or(0) {
                // SAFETY: the child is single-threaded; plain stores.
                unsafe { global(i).write(HPyGlobal { _i: 0x5a5a }) };
            }
            let objs: Vec<Option<Obj<'_>>> = m
                .params
                .iter()
                .map(|p| p.object.map(|o| eval(py, o)))
                .collect();
            *PARAMS.lock().unwrap() = m
                .params
                .iter()
                .zip(&objs)
                .map(|(p, o)| HPyType_SpecParam {
                    kind: p.kind,
                    object: o.as_ref().map_or(HPy_NULL, handle_of),
                })
                .chain([HPyType_SpecParam {
                    kind: 0,
                    object: HPy_NULL,
                }])
                .collect();
            let data = m.build();
            let spec = call(py, "mdefs_spec", &[&eval(py, m.spec_name)]).expect("spec");
            // SAFETY: GIL held; `data` lives until after the call (and the
            // child exits right after); `spec` is a module spec.
            let made = unsafe {
                Obj::from_owned(
                    py,
                    hpy_universal::module::create_module(&data.def, spec.as_ptr().cast()).cast(),
                )
            };
            let module = match made {
                Err(e) => {
                    let name = eval(py, &format!("{:?}", e.ty));
                    let ok = call(py, "mdefs_allowed", &[&name]).unwrap();
                    let verdict = if repr(&ok) == "True" {
                        "allowed"
                    } else {
                        "unexpected"
                    };
                    return format!("{verdict} {e}");
                }
                Ok(module) => module,
            };
            let methods: Vec<String> = m
                .defines
                .iter()
                .filter_map(|d| match d {
                    DefGen::Meth {
                        name: Name::Ok(i), ..
                    } => Some(METH_NAMES[*i].to_str().unwrap().to_string()),
                    _ => None,
                })
                .collect();
            let execs: Vec<String> = m
                .defines
                .iter()
                .filter_map(|d| match d {
                    DefGen::Exec(e) => Some(format!("{e:?}")),
                    _ => None,
                })
                .collect();
            let args = [
                &module,
                &eval(py, &format!("{methods:?}")),
                &eval(py, if m.legacy { "True" } else { "False" }),
                &eval(py, &format!("{execs:?}")),
            ];
            let mut out = match call(py, "mdefs_describe", &args) {
                Ok(d) => format!("module {}", text(&d)),
                Err(e) => format!("incomplete module: {e}"),
            };
            let stored = m
                .defines
                .iter()
                .any(|d| matches!(d, DefGen::Exec(Exec::StoreGlobal)));
            // SAFETY: the child is single-threaded; a plain load.
            let g = unsafe { global(0).read() };
            let expected = if stored { module.as_ptr() as isize } else { 0 };
            if g._i != expected {
                out += &format!(" (GLOBALS[0] is {:#x}, expected {expected:#x})", g._i);
            }
            out
        })
    })
}

fn check(m: &ModGen) -> Result<(), TestCaseError> {
    let outcome = create_in_child(m).map_err(TestCaseError::fail)?;
    let expected = m.expects_module();
    if expected.is_none() && outcome.starts_with("allowed ") {
        return Ok(());
    }
    if expected != Some(false) {
        let created = m.defines.iter().any(|d| matches!(d, DefGen::Create(_)));
        let made = if created {
            "module int 5"
        } else {
            "module module "
        };
        prop_assert!(
            outcome.starts_with(made) && !outcome.contains("GLOBALS"),
            "a valid definition gave: {}",
            outcome
        );
    } else {
        prop_assert!(
            outcome.starts_with("allowed "),
            "an invalid definition gave: {}",
            outcome
        );
    }
    Ok(())
}

/// See the file's comment.
#[test]
fn garbage_module_defs_raise() {
    run_serially(&SERIAL, 256, mod_gen(), |m| check(&m));
}

/// The type params alone: a module whose one `HPy_mod_exec` makes a type
/// from generated params (HPy_NULL objects, non-types, non-tuples, unknown
/// kinds, repeated and conflicting kinds).
#[test]
fn type_params_raise() {
    let strategy = proptest::collection::vec(param_gen(), 0..5).prop_map(|params| ModGen {
        doc: Doc::Null,
        size: 0,
        legacy: false,
        globals: None,
        defines: vec![DefGen::Exec(Exec::MakeType)],
        spec_name: "'m'",
        params,
    });
    run_serially(&SERIAL, 256, strategy, |m| check(&m));
}
