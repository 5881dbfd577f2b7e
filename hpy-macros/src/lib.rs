//! `#[hpy_def]` and `#[hpy_module]`, the attribute macros of `hpy-core`
//! (use them through `hpy_core::prelude`). This crate only parses and
//! generates code; what the code calls lives in `hpy_core::__private` and
//! `hpy_core::trampolines`.

use proc_macro::TokenStream;
use syn::parse_macro_input;

mod args;
mod class;
mod doc;
mod func;
mod getset;
mod methods;
mod module;
mod sig;
mod slots;

/// Turns a function, a struct or an `impl` block into HPy definitions.
///
/// - On a function: a Python function. Parameters convert from Python
///   (`FromHPy`, or `&str`, `&[u8]`, `&Handle`, `&T` for `#[hpy_def]` types);
///   the result converts back (`IntoHPy`), and an `Err` is raised. Without
///   `signature = (...)` the parameters are positional-only;
///   `#[hpy_def(signature = (a, b = 1, *args, c, **kw))]` gives defaults,
///   keywords, keyword-only parameters, `*args` and `**kwargs`.
///   A `Context<'c>` parameter receives the call's context.
/// - On a struct: a Python type holding the struct. `#[hpy(get)]` and
///   `#[hpy(get, set)]` on fields make attributes; fields of type `Field`
///   are visited by the garbage collector. `#[hpy_def(subclass)]` allows
///   subclassing in Python, `#[hpy_def(name = "...")]` renames it.
/// - On its `impl` block: `#[new]` (the constructor), methods (`&self`,
///   `&mut self`, plus `slf: &Handle` for the object itself),
///   `#[staticmethod]`, `#[classmethod]`, `#[getter]`/`#[setter]` and the
///   special methods (`__add__`, `__len__`, `__getitem__`, `__repr__`, ...).
#[proc_macro_attribute]
pub fn hpy_def(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item2 = item.clone();
    let parsed = parse_macro_input!(item2 as syn::Item);
    let out = match parsed {
        syn::Item::Fn(f) => syn::parse::<func::FnOptions>(attr).and_then(|o| func::expand(o, f)),
        syn::Item::Struct(s) => {
            syn::parse::<class::ClassOptions>(attr).and_then(|o| class::expand(o, s))
        }
        syn::Item::Impl(i) => {
            if !attr.is_empty() {
                Err(syn::Error::new(
                    proc_macro2::Span::call_site(),
                    "#[hpy_def] on an impl block takes no options",
                ))
            } else {
                methods::expand(i)
            }
        }
        syn::Item::Enum(e) => Err(syn::Error::new_spanned(
            &e.ident,
            "#[hpy_def] does not make Python types from enums: it goes on a function, a struct or an impl block",
        )),
        other => Err(syn::Error::new_spanned(
            other,
            "#[hpy_def] goes on a function, a struct or an impl block",
        )),
    };
    match out {
        Ok(ts) => ts.into(),
        Err(e) => {
            // keep the user's item so that other errors stay meaningful
            let mut ts: proc_macro2::TokenStream = item.into();
            ts.extend(e.to_compile_error());
            ts.into()
        }
    }
}

/// Turns a module into the extension's module: `pub use super::{f, T, E};`
/// lists its functions, types and exceptions (`create_exception!`); its doc
/// comment is the module's docstring; `#[hpy(exec)] fn init(ctx, module)`
/// runs when the module is executed. Generates the entry points of the
/// ABI being built (`HPyInit_<name>`… or `PyInit_<name>`).
#[proc_macro_attribute]
pub fn hpy_module(attr: TokenStream, item: TokenStream) -> TokenStream {
    let m = parse_macro_input!(item as syn::ItemMod);
    match syn::parse::<module::ModuleOptions>(attr).and_then(|o| module::expand(o, m)) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}
