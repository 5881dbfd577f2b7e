//! From what the macros declare to what the runtime reads: `HPyDef`s,
//! type specs and the module definition, and the module's exec step
//! (types, exceptions and constants created, then the user's exec).

use crate::context::Context;
use crate::err::{ExcRef, HPyErr, HPyResult};
use crate::global::Global;
use crate::handle::Handle;
use crate::raw;
use hpy_sys::{HPyDef, HPyGlobal, HPyModuleDef, HPyType_Spec};
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

/// An `HPyDef` in a `static` (it holds pointers, which the runtime only
/// reads).
#[repr(transparent)]
pub struct SyncDef(pub HPyDef);

// SAFETY: the definition is immutable after compilation and every pointer
// in it is to static data or code.
unsafe impl Sync for SyncDef {}

impl SyncDef {
    fn as_ptr(&'static self) -> *mut HPyDef {
        (&self.0 as *const HPyDef).cast_mut()
    }
}

/// One thing a module exports.
pub enum ModuleItem {
    /// A function (`#[hpy_def] fn`).
    Function(&'static SyncDef),
    /// A type (`#[hpy_def] struct`).
    Type(&'static TypeDef),
    /// An exception type (`create_exception!`).
    Exception(ExceptionDef),
}

/// An exception type to create at module exec.
pub struct ExceptionDef {
    /// `module.Name\0`.
    pub name: &'static str,
    /// The module attribute (`Name`).
    pub attr: &'static str,
    /// NUL-terminated docstring.
    pub doc: Option<&'static str>,
    pub base: fn() -> ExcRef,
    pub global: fn() -> &'static Global,
}

/// A type to create at module exec.
pub struct TypeDef {
    /// The name without the module (`Vec2`).
    pub name: &'static str,
    /// NUL-terminated docstring.
    pub doc: Option<&'static str>,
    pub basicsize: usize,
    /// `HPy_TPFLAGS_*` besides the default.
    pub flags: u64,
    /// Its `HPyDef`s: fields' getters and setters, then the methods and
    /// slots of its `#[hpy_def] impl` (if any).
    pub defines: fn() -> Vec<&'static SyncDef>,
    pub global: fn() -> &'static Global,
    /// Its static and class methods.
    pub statics: fn() -> &'static [StaticMethod],
    /// The spec, made on first use.
    pub spec: &'static OnceLock<TypeSpec>,
}

/// A `#[staticmethod]` or `#[classmethod]`: HPy 0.9 types have no such
/// methods, so it is defined as a module function under a private name and
/// moved onto the type, wrapped in `staticmethod`/`classmethod`, at exec.
pub struct StaticMethod {
    pub def: &'static SyncDef,
    /// The module attribute it is defined as (`Vec2.zero`).
    pub module_attr: &'static str,
    /// The type attribute it becomes (`zero`).
    pub attr: &'static str,
    pub classmethod: bool,
}

/// An `HPyType_Spec` with what it points to.
pub struct TypeSpec {
    spec: HPyType_Spec,
    _name: CString,
    _defines: Vec<*mut HPyDef>,
}

// SAFETY: built once, then only read by the runtime under the interpreter
// lock; the pointers are into the struct's own heap data or static data.
unsafe impl Sync for TypeSpec {}
// SAFETY: as above.
unsafe impl Send for TypeSpec {}

/// The module, as `#[hpy_module]` declares it.
pub struct ModuleDef {
    /// NUL-terminated docstring.
    pub doc: Option<&'static str>,
    pub items: &'static [ModuleItem],
    /// The user's `#[hpy(exec)]` function.
    pub exec: Option<for<'c> fn(Context<'c>, &Handle<'c>) -> HPyResult<()>>,
    /// The `HPy_mod_exec` slot that runs [`module_exec`].
    pub exec_slot: &'static SyncDef,
    /// The `HPyModuleDef`, made on first use.
    pub cache: &'static OnceLock<ModuleDefBox>,
}

/// An `HPyModuleDef` with what it points to.
pub struct ModuleDefBox {
    def: Box<HPyModuleDef>,
    _defines: Vec<*mut HPyDef>,
    _globals: Vec<*mut HPyGlobal>,
}

// SAFETY: built once, then only read by the runtime; pointers to static
// data and to the box's own vectors.
unsafe impl Sync for ModuleDefBox {}
// SAFETY: as above.
unsafe impl Send for ModuleDefBox {}

/// `HPyInit_<name>` / `PyInit_<name>`: the module definition.
pub fn module_init(m: &'static ModuleDef) -> *mut HPyModuleDef {
    let b = m.cache.get_or_init(|| {
        let mut defines: Vec<*mut HPyDef> = Vec::new();
        let mut globals: Vec<*mut HPyGlobal> = Vec::new();
        for item in m.items {
            match item {
                ModuleItem::Function(d) => defines.push(d.as_ptr()),
                ModuleItem::Type(t) => {
                    globals.push((t.global)().as_ptr());
                    defines.extend((t.statics)().iter().map(|m| m.def.as_ptr()));
                }
                ModuleItem::Exception(e) => globals.push((e.global)().as_ptr()),
            }
        }
        defines.push(m.exec_slot.as_ptr());
        defines.push(core::ptr::null_mut());
        globals.push(core::ptr::null_mut());
        let def = Box::new(HPyModuleDef {
            doc: m.doc.map_or(core::ptr::null(), |d| d.as_ptr().cast()),
            size: 0,
            legacy_methods: core::ptr::null_mut(),
            defines: defines.as_mut_ptr(),
            globals: globals.as_mut_ptr(),
        });
        ModuleDefBox {
            def,
            _defines: defines,
            _globals: globals,
        }
    });
    (&*b.def as *const HPyModuleDef).cast_mut()
}

/// The exec step: every type, exception and constant, then the user's.
pub fn module_exec<'c>(
    ctx: Context<'c>,
    module: &Handle<'c>,
    m: &'static ModuleDef,
) -> HPyResult<()> {
    let modname: String = module.getattr("__name__")?.extract()?;
    for item in m.items {
        match item {
            ModuleItem::Function(_) => {}
            ModuleItem::Type(t) => {
                let ty = create_type(ctx, &modname, t)?;
                (t.global)().store(&ty);
                let builtins = ctx.builtins();
                for m in (t.statics)() {
                    let f = module.getattr(m.module_attr)?;
                    let wrap = builtins.get_item(if m.classmethod {
                        "classmethod"
                    } else {
                        "staticmethod"
                    })?;
                    ty.setattr(m.attr, wrap.call1(&f)?)?;
                    module.delattr(m.module_attr)?;
                }
                module.setattr(t.name, &ty)?;
            }
            ModuleItem::Exception(e) => {
                let base = match (e.base)() {
                    ExcRef::Builtin(get) => ctx.constant_handle(get),
                    ExcRef::Global(g) => g().load(ctx).ok_or_else(|| {
                        crate::exc::SystemError::new_err(format!(
                            "the base of {} is not created yet: list it first in #[hpy_module]",
                            e.attr
                        ))
                    })?,
                };
                let doc = e
                    .doc
                    .map_or(core::ptr::null(), |d| d.as_ptr().cast::<c_char>());
                // SAFETY: a live context, a NUL-terminated qualified name, a
                // docstring or NULL, a base type and no dict.
                let h = unsafe {
                    raw::ctx_Err_NewExceptionWithDoc(
                        ctx.as_ptr(),
                        e.name.as_ptr().cast(),
                        doc,
                        base.raw(),
                        hpy_sys::HPy { _i: 0 },
                    )
                };
                let ty = Handle::from_result(ctx, h)?;
                (e.global)().store(&ty);
                module.setattr(e.attr, &ty)?;
            }
        }
    }
    if let Some(exec) = m.exec {
        exec(ctx, module)?;
    }
    Ok(())
}

fn create_type<'c>(ctx: Context<'c>, modname: &str, t: &'static TypeDef) -> HPyResult<Handle<'c>> {
    let spec = t.spec.get_or_init(|| {
        let name = CString::new(format!("{modname}.{}", t.name)).unwrap_or_default();
        let mut defines: Vec<*mut HPyDef> =
            (t.defines)().into_iter().map(SyncDef::as_ptr).collect();
        defines.push(core::ptr::null_mut());
        let spec = HPyType_Spec {
            name: name.as_ptr(),
            basicsize: t.basicsize as _,
            itemsize: 0,
            flags: (hpy_sys::HPy_TPFLAGS_DEFAULT as u64 | t.flags) as _,
            builtin_shape: hpy_sys::HPyType_BuiltinShape_Object,
            legacy_slots: core::ptr::null_mut(),
            defines: defines.as_mut_ptr(),
            doc: t.doc.map_or(core::ptr::null(), |d| d.as_ptr().cast()),
        };
        TypeSpec {
            spec,
            _name: name,
            _defines: defines,
        }
    });
    // SAFETY: a live context and a complete spec that lives forever (the
    // runtime may keep pointers into it); no params.
    let h = unsafe {
        raw::ctx_Type_FromSpec(
            ctx.as_ptr(),
            (&spec.spec as *const HPyType_Spec).cast_mut(),
            core::ptr::null_mut(),
        )
    };
    Handle::from_result(ctx, h).map_err(|e: HPyErr| e)
}
