//! The Rust side of parameters: which are Python arguments and which are
//! the context or the object itself, and the code that converts each
//! argument (by value through `FromHPy`, by reference through `FromHPyRef`).

use crate::sig::{PyParamKind, PySignature};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, Pat, Type};

/// What a Rust parameter receives.
pub enum Role {
    /// `Context<'c>`: the call's context.
    Ctx,
    /// `&Context<'c>`.
    CtxRef,
    /// `slf: &Handle<'c>` in a method: the object itself.
    Slf,
    /// A Python argument.
    Arg,
}

pub struct RustParam {
    pub name: Ident,
    pub ty: Type,
    pub role: Role,
}

/// The parameters after the receiver (`self`, if any) of `inputs`.
pub fn rust_params<'a>(
    inputs: impl Iterator<Item = &'a FnArg>,
    method: bool,
) -> syn::Result<Vec<RustParam>> {
    let mut out = Vec::new();
    for arg in inputs {
        let FnArg::Typed(pt) = arg else { continue };
        let name = match &*pt.pat {
            Pat::Ident(pi) => pi.ident.clone(),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "#[hpy_def] parameters must be plain names (`x: T`), not patterns",
                ))
            }
        };
        let ty = (*pt.ty).clone();
        let role = if is_context(&ty) {
            Role::Ctx
        } else if matches!(&ty, Type::Reference(r) if is_context(&r.elem)) {
            Role::CtxRef
        } else if method && name == "slf" {
            Role::Slf
        } else {
            Role::Arg
        };
        out.push(RustParam { name, ty, role });
    }
    Ok(out)
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn is_context(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Context")
}

/// `T` for `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let seg = last_segment(ty)?;
    if seg.ident != "Option" {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// `ty` with every lifetime elided (`'_`), for use inside generated code
/// that cannot name the user's lifetime parameters.
pub fn elide_lifetimes(ty: &Type) -> Type {
    struct Elide;
    impl VisitMut for Elide {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            *l = syn::Lifetime::new("'_", l.span());
        }
    }
    let mut t = ty.clone();
    Elide.visit_type_mut(&mut t);
    t
}

/// For one argument: statements to run first (a holder for references)
/// and the expression of its value, from `handle` (a `&Handle`); `?`
/// propagates errors.
pub fn extract_value(
    ty: &Type,
    handle: &TokenStream,
    out: &Ident,
    pyname: &str,
) -> (TokenStream, TokenStream) {
    let span = ty.span();
    match ty {
        Type::Reference(r) => {
            let inner = elide_lifetimes(&r.elem);
            let holder = format_ident!("{}_holder", out);
            if r.mutability.is_some() {
                (
                    quote_spanned! {span=>
                        let mut #holder = <<#inner as ::hpy_core::FromHPyRefMut<'_>>::Holder as ::core::default::Default>::default();
                    },
                    quote_spanned! {span=>
                        ::hpy_core::__private::extract_mut::<#inner>(#handle, &mut #holder, #pyname)?
                    },
                )
            } else {
                (
                    quote_spanned! {span=>
                        let mut #holder = <<#inner as ::hpy_core::FromHPyRef<'_>>::Holder as ::core::default::Default>::default();
                    },
                    quote_spanned! {span=>
                        ::hpy_core::__private::extract_ref::<#inner>(#handle, &mut #holder, #pyname)?
                    },
                )
            }
        }
        _ => {
            let t = elide_lifetimes(ty);
            (
                quote!(),
                quote_spanned! {span=> ::hpy_core::__private::extract::<#t>(#handle, #pyname)? },
            )
        }
    }
}

/// The code that turns the impl's raw arguments into the values of every
/// Rust parameter, and the argument list of the call. `raw` describes what
/// the impl received (see [`RawArgs`]).
pub struct Bound {
    pub stmts: TokenStream,
    pub call_args: Vec<TokenStream>,
}

/// How the impl received its Python arguments.
pub enum RawArgs {
    /// NOARGS: none.
    None,
    /// O: one handle `arg`.
    One,
    /// VARARGS: `args`, `nargs` (count checked against the parameters).
    Vector,
    /// KEYWORDS: `args`, `nargs`, `kwnames` (parsed with `__DESC`).
    FastcallKw,
    /// tp_new/tp_init: `args`, `nargs`, `kw` dict (parsed with `__DESC`).
    TupleDict,
}

pub fn bind_args(
    params: &[RustParam],
    sig: &PySignature,
    raw: RawArgs,
    fname: &str,
    slf: Option<&TokenStream>,
) -> syn::Result<Bound> {
    let mut stmts = TokenStream::new();
    let n_named = sig.named().count();
    match raw {
        RawArgs::None => {}
        RawArgs::One => stmts.extend(quote! {
            // SAFETY: the runtime's argument, open for the call.
            let __a0 = unsafe { ::hpy_core::__private::arg(__cx, arg) };
        }),
        RawArgs::Vector => {
            let n = sig.params.len();
            stmts.extend(quote! {
                ::hpy_core::__private::check_nargs(#fname, nargs as usize, #n)?;
                // SAFETY: `nargs` argument handles, open for the call.
                let __args = unsafe { ::hpy_core::__private::arg_slice(args, nargs as usize) };
            });
            for i in 0..n {
                let a = format_ident!("__a{}", i);
                stmts.extend(quote! {
                    // SAFETY: as above.
                    let #a = unsafe { ::hpy_core::__private::arg(__cx, __args[#i]) };
                });
            }
        }
        RawArgs::FastcallKw | RawArgs::TupleDict => {
            let parse = if matches!(raw, RawArgs::FastcallKw) {
                quote! {
                    // SAFETY: `nargs` positional and len(kwnames) keyword
                    // argument handles, open for the call.
                    let __all = unsafe { ::hpy_core::__private::fastcall_args(__cx, args, nargs as usize, kwnames)? };
                    let mut __p = __DESC.parse_fastcall::<#n_named>(__cx, __all, nargs as usize, kwnames)?;
                }
            } else {
                quote! {
                    // SAFETY: the items of the argument tuple, open for the call.
                    let __all = unsafe { ::hpy_core::__private::arg_slice(args, nargs as usize) };
                    let mut __p = __DESC.parse_tuple_dict::<#n_named>(__cx, __all, kw)?;
                }
            };
            let desc = sig.desc(fname);
            stmts.extend(quote! {
                static __DESC: ::hpy_core::__private::FnDesc = #desc;
                #parse
            });
            for (i, _) in sig.named().enumerate() {
                let a = format_ident!("__a{}", i);
                stmts.extend(quote! {
                    // SAFETY: an argument handle of the call (or NULL: not given).
                    let #a = unsafe { ::hpy_core::__private::opt_arg(__cx, __p.values[#i]) };
                });
            }
        }
    }

    let mut call_args = Vec::new();
    let mut named_i = 0usize;
    for (k, p) in params.iter().enumerate() {
        let v = format_ident!("__v{}", k);
        match p.role {
            Role::Ctx => call_args.push(quote!(__cx)),
            Role::CtxRef => call_args.push(quote!(&__cx)),
            Role::Slf => {
                let slf =
                    slf.ok_or_else(|| syn::Error::new(p.name.span(), "`slf` is only for methods"))?;
                call_args.push(quote!(#slf));
            }
            Role::Arg => {
                let sp = sig
                    .params
                    .iter()
                    .find(|s| s.name == p.name)
                    .ok_or_else(|| {
                        syn::Error::new(p.name.span(), "parameter missing from the signature")
                    })?;
                let pyname = p.name.to_string().trim_start_matches("r#").to_string();
                match sp.kind {
                    PyParamKind::VarArgs => {
                        let t = elide_lifetimes(&p.ty);
                        stmts.extend(quote_spanned! {p.ty.span()=>
                            let #v: #t = ::hpy_core::__private::extract_varargs(__cx, __p.varargs, #pyname)?;
                        });
                    }
                    PyParamKind::VarKw => {
                        let t = elide_lifetimes(&p.ty);
                        let e = if let Some(inner) = option_inner(&p.ty) {
                            let inner = elide_lifetimes(inner);
                            quote! { match __p.varkw.take() {
                                ::core::option::Option::Some(d) => ::core::option::Option::Some(
                                    ::hpy_core::__private::extract::<#inner>(&d, #pyname)?),
                                ::core::option::Option::None => ::core::option::Option::None,
                            } }
                        } else {
                            quote! { ::hpy_core::__private::extract_varkw::<#t>(__cx, __p.varkw.take(), #pyname)? }
                        };
                        stmts.extend(quote_spanned! {p.ty.span()=> let #v: #t = #e; });
                    }
                    _ => {
                        let a = format_ident!("__a{}", named_i);
                        named_i += 1;
                        let t = elide_lifetimes(&p.ty);
                        if matches!(raw, RawArgs::FastcallKw | RawArgs::TupleDict) {
                            // optional: the default when not given
                            let default = match &sp.default {
                                Some(d) => quote!(#d),
                                None => quote!(::core::unreachable!("checked by the parser")),
                            };
                            let (pre, ex) = extract_value(&p.ty, &quote!(__h), &v, &pyname);
                            stmts.extend(quote! {
                                #pre
                                let #v: #t = match &#a {
                                    ::core::option::Option::Some(__h) => #ex,
                                    ::core::option::Option::None => #default,
                                };
                            });
                        } else {
                            let (pre, ex) = extract_value(&p.ty, &quote!(&#a), &v, &pyname);
                            stmts.extend(quote! { #pre let #v: #t = #ex; });
                        }
                    }
                }
                call_args.push(quote!(#v));
            }
        }
    }
    Ok(Bound { stmts, call_args })
}
