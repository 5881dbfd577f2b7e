//! `#[hpy_def]` on a function: the function stays as written; next to it, a
//! module of the same name holds its `HPyDef` (`add::__HPY_ITEM`), the
//! implementation the runtime calls and its marker type.

use crate::args::{bind_args, rust_params, RawArgs, Role, RustParam};
use crate::doc::{doc_string, python_doc};
use crate::sig::{Convention, PySignature, SigList};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, LitStr, Token};

/// `#[hpy_def(...)]` options of a function or method.
#[derive(Default)]
pub struct FnOptions {
    pub signature: Option<SigList>,
    pub name: Option<LitStr>,
}

impl FnOptions {
    /// The Python name: `name = "..."`, else the Rust name (without `r#`).
    pub fn python_name(&self, ident: &Ident) -> String {
        self.name
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_string())
    }
}

impl Parse for FnOptions {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut o = FnOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "signature" => o.signature = Some(input.parse()?),
                "name" => o.name = Some(input.parse()?),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown #[hpy_def] option `{other}`: expected `signature = (...)` or `name = \"...\"`"),
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(o)
    }
}

/// The Python signature of `params` (the `Role::Arg` ones).
pub fn python_signature(params: &[RustParam], opts: &FnOptions) -> syn::Result<PySignature> {
    let names: Vec<Ident> = params
        .iter()
        .filter(|p| matches!(p.role, Role::Arg))
        .map(|p| p.name.clone())
        .collect();
    match &opts.signature {
        Some(list) => PySignature::from_list(list, &names),
        None => Ok(PySignature::positional(&names)),
    }
}

/// The impl function for `call` (an expression calling the user's code
/// with `bound.call_args`) under the convention `conv`, and the convention's
/// name (`NOARGS`, ...). `slf_stmts` binds the receiver first (methods).
#[allow(clippy::too_many_arguments)]
pub fn impl_fn(
    impl_name: &Ident,
    conv: Convention,
    params: &[RustParam],
    sig: &PySignature,
    pyname: &str,
    slf_stmts: TokenStream,
    slf_expr: Option<&TokenStream>,
    ret: &syn::ReturnType,
    call: impl FnOnce(&[TokenStream]) -> TokenStream,
) -> syn::Result<(TokenStream, Ident, TokenStream)> {
    let (raw, head, conv_name, fn_ty) = match conv {
        Convention::NoArgs => (
            RawArgs::None,
            quote!(__ctx: *mut ::hpy_core::sys::HPyContext, __self: ::hpy_core::sys::HPy),
            "NOARGS",
            quote!(::hpy_core::sys::HPyFunc_noargs),
        ),
        Convention::O => (
            RawArgs::One,
            quote!(__ctx: *mut ::hpy_core::sys::HPyContext, __self: ::hpy_core::sys::HPy, arg: ::hpy_core::sys::HPy),
            "O",
            quote!(::hpy_core::sys::HPyFunc_o),
        ),
        Convention::VarArgs => (
            RawArgs::Vector,
            quote!(__ctx: *mut ::hpy_core::sys::HPyContext, __self: ::hpy_core::sys::HPy,
                   args: *const ::hpy_core::sys::HPy, nargs: usize),
            "VARARGS",
            quote!(::hpy_core::sys::HPyFunc_varargs),
        ),
        Convention::Keywords => (
            RawArgs::FastcallKw,
            quote!(__ctx: *mut ::hpy_core::sys::HPyContext, __self: ::hpy_core::sys::HPy,
                   args: *const ::hpy_core::sys::HPy, nargs: usize, kwnames: ::hpy_core::sys::HPy),
            "KEYWORDS",
            quote!(::hpy_core::sys::HPyFunc_keywords),
        ),
    };
    let bound = bind_args(params, sig, raw, pyname, slf_expr)?;
    let stmts = bound.stmts;
    let result = call(&bound.call_args);
    // spanned at the return type: an error for a type without `IntoHPy` points there
    let ret_span = match ret {
        syn::ReturnType::Type(_, t) => t.span(),
        syn::ReturnType::Default => proc_macro2::Span::call_site(),
    };
    let convert = quote_spanned! {ret_span=>
        ::hpy_core::__private::ret_obj(__cx, ::hpy_core::__private::Wrap(__r).into_result()?)
    };
    let body = quote! {
        extern "C" fn #impl_name(#head) -> ::hpy_core::sys::HPy {
            // SAFETY: the runtime calls implementations with the live context of the call.
            ::hpy_core::__private::entry(unsafe { ::hpy_core::Context::from_raw(__ctx) }, ::hpy_core::__private::NULL, |__cx| {
                #slf_stmts
                #stmts
                let __r = #result;
                #[allow(unused_imports)]
                use ::hpy_core::__private::WrapOk as _;
                #convert
            })
        }
    };
    Ok((body, format_ident!("{}", conv_name), fn_ty))
}

pub fn expand(opts: FnOptions, item: ItemFn) -> syn::Result<TokenStream> {
    let fname = &item.sig.ident;
    if !item
        .sig
        .generics
        .type_params()
        .collect::<Vec<_>>()
        .is_empty()
        || item.sig.generics.const_params().next().is_some()
    {
        // at the first type or const parameter
        let first = item
            .sig
            .generics
            .params
            .iter()
            .find(|p| !matches!(p, syn::GenericParam::Lifetime(_)));
        return Err(syn::Error::new(
            first.map_or_else(|| item.sig.generics.span(), |p| p.span()),
            "#[hpy_def] functions cannot be generic over types (lifetimes are fine)",
        ));
    }
    if let Some(r) = item.sig.receiver() {
        return Err(syn::Error::new(
            r.span(),
            "a method needs `#[hpy_def]` on its `impl` block, not on the method",
        ));
    }
    if item.sig.asyncness.is_some() {
        return Err(syn::Error::new(
            item.sig.asyncness.span(),
            "#[hpy_def] functions cannot be `async`",
        ));
    }
    let pyname = opts.python_name(fname);
    let params = rust_params(item.sig.inputs.iter(), false)?;
    let sig = python_signature(&params, &opts)?;
    let conv = sig.convention();
    let doc = python_doc(
        &pyname,
        &sig.text_signature(Some("$module")),
        &doc_string(&item.attrs),
    );
    let impl_name = format_ident!("__impl");
    let (impl_body, conv_name, fn_ty) = impl_fn(
        &impl_name,
        conv,
        &params,
        &sig,
        &pyname,
        quote!(),
        None,
        &item.sig.output,
        |args| quote!(super::#fname(#(#args),*)),
    )?;
    let vis = &item.vis;
    let name_c = crate::doc::c_str(&pyname);
    let doc_c = crate::doc::c_str(&doc);
    let mut clean = item.clone();
    clean.attrs.retain(|a| !a.path().is_ident("hpy"));
    Ok(quote! {
        #clean

        #[doc(hidden)]
        #[allow(non_snake_case, non_camel_case_types, unused_imports, clippy::all)]
        #vis mod #fname {
            use super::*;

            /// The `HPyDef` of this function, for `#[hpy_module]`.
            pub const __HPY_ITEM: ::hpy_core::__private::ModuleItem =
                ::hpy_core::__private::ModuleItem::Function(&__HPY_DEF);

            pub static __HPY_DEF: ::hpy_core::__private::SyncDef =
                ::hpy_core::trampolines::#conv_name::meth::<__Impl>(#name_c, #doc_c);

            pub struct __Impl;

            impl ::hpy_core::trampolines::Impl<#fn_ty> for __Impl {
                const IMPL: #fn_ty = ::core::option::Option::Some(__impl);
            }

            #impl_body
        }
    })
}
