//! `#[hpy_module] mod demo { pub use super::{f, T}; }`: the module definition
//! and the entry points of the ABI being built.

use crate::doc::doc_string;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, Item, ItemMod, LitStr, Token, UseTree};

#[derive(Default)]
pub struct ModuleOptions {
    name: Option<LitStr>,
}

impl Parse for ModuleOptions {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut o = ModuleOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if key == "name" {
                o.name = Some(input.parse()?);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    "unknown #[hpy_module] option: expected `name = \"...\"`",
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(o)
    }
}

/// The paths a `use` item brings in (`super::{a, b}` → `super::a`, `super::b`).
fn use_paths(
    tree: &UseTree,
    prefix: TokenStream,
    out: &mut Vec<(TokenStream, Ident)>,
) -> syn::Result<()> {
    match tree {
        UseTree::Path(p) => {
            let id = &p.ident;
            use_paths(&p.tree, quote!(#prefix #id ::), out)
        }
        UseTree::Name(n) => {
            let id = &n.ident;
            out.push((quote!(#prefix #id), id.clone()));
            Ok(())
        }
        UseTree::Rename(r) => {
            let id = &r.ident;
            out.push((quote!(#prefix #id), r.rename.clone()));
            Ok(())
        }
        UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix.clone(), out)?;
            }
            Ok(())
        }
        UseTree::Glob(g) => Err(syn::Error::new(
            g.span(),
            "list what the module exports by name (`pub use super::{f, T};`), not with `*`",
        )),
    }
}

pub fn expand(opts: ModuleOptions, mut m: ItemMod) -> syn::Result<TokenStream> {
    let modname = opts
        .name
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_else(|| m.ident.to_string());
    if !modname
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(syn::Error::new(
            m.ident.span(),
            "the module name must be a C identifier",
        ));
    }
    let doc = doc_string(&m.attrs);
    let Some((_, items)) = &mut m.content else {
        return Err(syn::Error::new(
            m.span(),
            "#[hpy_module] needs an inline module: `mod demo { ... }`",
        ));
    };
    let mut exports: Vec<(TokenStream, Ident)> = Vec::new();
    let mut exec: Option<Ident> = None;
    for item in items.iter_mut() {
        match item {
            // `pub use` lists the exports; other `use`s are ordinary imports
            Item::Use(u) if !matches!(u.vis, syn::Visibility::Inherited) => {
                use_paths(&u.tree, quote!(), &mut exports)?;
                // re-exported privately: the module's items need not be
                // public for the extension to export them
                u.vis = syn::Visibility::Inherited;
                u.attrs.push(syn::parse_quote!(#[allow(unused_imports)]));
            }
            Item::Fn(f) => {
                let before = f.attrs.len();
                f.attrs.retain(|a| !is_exec_attr(a));
                if f.attrs.len() != before {
                    if exec.is_some() {
                        return Err(syn::Error::new(
                            f.sig.ident.span(),
                            "only one `#[hpy(exec)]` function",
                        ));
                    }
                    exec = Some(f.sig.ident.clone());
                }
            }
            _ => {}
        }
    }
    let item_exprs = exports.iter().map(|(path, _)| quote!(#path::__HPY_ITEM));
    let n = exports.len();
    let doc_lit = if doc.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let d = format!("{doc}\0");
        quote!(::core::option::Option::Some(#d))
    };
    let exec_lit = match &exec {
        Some(f) => quote!(::core::option::Option::Some(#f)),
        None => quote!(::core::option::Option::None),
    };
    let name_ident = format_ident!("{}", modname);
    let generated = quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, clippy::all)]
        static __HPY_ITEMS: [::hpy_core::__private::ModuleItem; #n] = [#(#item_exprs),*];

        #[doc(hidden)]
        static __HPY_MODULE_CACHE: ::std::sync::OnceLock<::hpy_core::__private::ModuleDefBox> =
            ::std::sync::OnceLock::new();

        #[doc(hidden)]
        static __HPY_MODULE: ::hpy_core::__private::ModuleDef = ::hpy_core::__private::ModuleDef {
            doc: #doc_lit,
            items: &__HPY_ITEMS,
            exec: #exec_lit,
            exec_slot: &__HPY_EXEC_SLOT,
            cache: &__HPY_MODULE_CACHE,
        };

        #[doc(hidden)]
        struct __HpyExec;
        impl ::hpy_core::__private::Impl<::hpy_core::sys::HPyFunc_inquiry> for __HpyExec {
            const IMPL: ::hpy_core::sys::HPyFunc_inquiry = ::core::option::Option::Some(__hpy_exec);
        }
        extern "C" fn __hpy_exec(__ctx: *mut ::hpy_core::sys::HPyContext, __m: ::hpy_core::sys::HPy) -> ::core::ffi::c_int {
            // SAFETY: the runtime calls implementations with the live context of the call.
            ::hpy_core::__private::entry(unsafe { ::hpy_core::Context::from_raw(__ctx) }, -1, |__cx| {
                // SAFETY: the module being executed, open for the call.
                let __module = unsafe { ::hpy_core::__private::arg(__cx, __m) };
                ::hpy_core::__private::module_exec(__cx, &__module, &__HPY_MODULE)?;
                ::core::result::Result::Ok(0)
            })
        }
        #[doc(hidden)]
        static __HPY_EXEC_SLOT: ::hpy_core::__private::SyncDef =
            ::hpy_core::trampolines::INQUIRY::slot::<__HpyExec>(::hpy_core::sys::HPy_mod_exec);

        ::hpy_core::__export_module!(#name_ident, __HPY_MODULE);
    };
    items.push(Item::Verbatim(generated));
    Ok(quote!(#m))
}

fn is_exec_attr(a: &syn::Attribute) -> bool {
    if !a.path().is_ident("hpy") {
        return false;
    }
    let mut found = false;
    let _ = a.parse_nested_meta(|meta| {
        if meta.path.is_ident("exec") {
            found = true;
        }
        Ok(())
    });
    found
}
