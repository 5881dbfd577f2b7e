//! `#[hpy_def]` on an `impl` block: methods, `#[new]`, static and class
//! methods, getters and setters, and special methods (see `slots`). The
//! block stays as written (minus our attributes); the definitions go into
//! an anonymous `const` next to it, found by the type through
//! `HasMethods<T> for Collector<T>`.

use crate::args::{bind_args, rust_params, RawArgs, Role};
use crate::doc::{c_str, doc_string, python_doc};
use crate::func::{impl_fn, python_signature, FnOptions};
use crate::getset;
use crate::sig::Convention;
use crate::slots::{self, Special};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, ImplItem, ImplItemFn, ItemImpl, Type};

#[derive(Default)]
struct MethodAttrs {
    new: bool,
    staticmethod: bool,
    classmethod: bool,
    getter: Option<Option<Ident>>,
    setter: Option<Option<Ident>>,
    opts: FnOptions,
}

const OURS: &[&str] = &[
    "new",
    "staticmethod",
    "classmethod",
    "getter",
    "setter",
    "hpy",
];

fn method_attrs(attrs: &[Attribute]) -> syn::Result<MethodAttrs> {
    let mut m = MethodAttrs::default();
    for a in attrs {
        let p = a.path();
        if p.is_ident("new") {
            m.new = true;
        } else if p.is_ident("staticmethod") {
            m.staticmethod = true;
        } else if p.is_ident("classmethod") {
            m.classmethod = true;
        } else if p.is_ident("getter") || p.is_ident("setter") {
            let name = match &a.meta {
                syn::Meta::Path(_) => None,
                _ => Some(a.parse_args::<Ident>()?),
            };
            if p.is_ident("getter") {
                m.getter = Some(name);
            } else {
                m.setter = Some(name);
            }
        } else if p.is_ident("hpy") {
            m.opts = a.parse_args()?;
        }
    }
    Ok(m)
}

/// The `HPyDef`s of one impl block.
struct Gen {
    code: TokenStream,
    defs: Vec<Ident>,
    statics: Vec<TokenStream>,
    has_new: bool,
}

pub fn expand(mut item: ItemImpl) -> syn::Result<TokenStream> {
    if item.trait_.is_some() {
        return Err(syn::Error::new(
            item.span(),
            "#[hpy_def] goes on an inherent impl block, not a trait impl",
        ));
    }
    let ty: Type = (*item.self_ty).clone();
    let tyname = match &ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => {
            return Err(syn::Error::new(
                ty.span(),
                "#[hpy_def] impl blocks must be for a named type",
            ))
        }
    };
    let mut g = Gen {
        code: TokenStream::new(),
        defs: Vec::new(),
        statics: Vec::new(),
        has_new: false,
    };
    let mut specials: Vec<(String, ImplItemFn)> = Vec::new();
    let mut getters: Vec<(String, ImplItemFn)> = Vec::new();
    let mut setters: Vec<(String, ImplItemFn)> = Vec::new();
    for it in &mut item.items {
        let ImplItem::Fn(f) = it else { continue };
        let attrs = method_attrs(&f.attrs)?;
        f.attrs
            .retain(|a| !OURS.iter().any(|o| a.path().is_ident(o)));
        let f = &*f;
        let name = f.sig.ident.to_string();
        if attrs.new {
            constructor(&mut g, &ty, f, &attrs.opts)?;
        } else if let Some(n) = attrs.getter {
            let n = n
                .map(|i| i.to_string())
                .unwrap_or_else(|| name.trim_start_matches("get_").to_string());
            getters.push((n, f.clone()));
        } else if let Some(n) = attrs.setter {
            let n = n
                .map(|i| i.to_string())
                .unwrap_or_else(|| name.trim_start_matches("set_").to_string());
            setters.push((n, f.clone()));
        } else if attrs.staticmethod || attrs.classmethod {
            static_method(&mut g, &ty, &tyname, f, &attrs.opts, attrs.classmethod)?;
        } else if slots::is_dunder(&name) {
            if name == "__call__" {
                call_slot(&mut g, &ty, f, &attrs.opts)?;
            } else {
                specials.push((name, f.clone()));
            }
        } else {
            method(&mut g, &ty, f, &attrs.opts)?;
        }
    }
    let sp: Vec<Special> = specials
        .iter()
        .map(|(n, f)| Special { name: n.clone(), f })
        .collect();
    let sc = slots::expand(&ty, &sp)?;
    g.code.extend(sc.code);
    g.defs.extend(sc.defs);
    getsets(&mut g, &ty, &getters, &setters)?;

    let defs = &g.defs;
    let n = defs.len();
    let statics = &g.statics;
    let n_statics = statics.len();
    let has_new = g.has_new;
    let code = g.code;
    Ok(quote! {
        #item

        #[allow(non_upper_case_globals, non_snake_case, non_camel_case_types, unused_imports, clippy::all)]
        const _: () = {
            #code

            static __HPY_DEFS: [&'static ::hpy_core::__private::SyncDef; #n] = [#(&#defs),*];
            static __HPY_STATICS: [::hpy_core::__private::StaticMethod; #n_statics] = [#(#statics),*];

            impl ::hpy_core::__private::HasMethods<#ty> for ::hpy_core::__private::Collector<#ty> {
                fn methods(&self) -> ::hpy_core::__private::Methods {
                    ::hpy_core::__private::Methods { defs: &__HPY_DEFS, has_new: #has_new, statics: &__HPY_STATICS }
                }
            }
        };
    })
}

/// Adds an implementation `body` (the function `impl_name`), its marker type
/// and its method `HPyDef` (named `pyname`) to the block; returns the
/// definition's static.
#[allow(clippy::too_many_arguments)]
fn meth_def(
    g: &mut Gen,
    kind: &str,
    name: &Ident,
    body: TokenStream,
    impl_name: &Ident,
    fn_ty: &TokenStream,
    conv: &Ident,
    pyname: &str,
    doc: &str,
) -> Ident {
    let marker = format_ident!("__Hpy{}_{}", kind, name);
    let def = format_ident!("__HPY_{}_{}", kind, name);
    let (name_c, doc_c) = (c_str(pyname), c_str(doc));
    g.code.extend(quote! {
        #body
        struct #marker;
        impl ::hpy_core::__private::Impl<#fn_ty> for #marker {
            const IMPL: #fn_ty = ::core::option::Option::Some(#impl_name);
        }
        static #def: ::hpy_core::__private::SyncDef = ::hpy_core::trampolines::#conv::meth::<#marker>(#name_c, #doc_c);
    });
    def
}

/// Binds the receiver `__this` from `__self` for a method.
fn receiver_stmts(ty: &Type, f: &ImplItemFn) -> syn::Result<(TokenStream, TokenStream)> {
    let Some(r) = f.sig.receiver() else {
        return Err(syn::Error::new(
            f.sig.ident.span(),
            format!(
                "`{}` has no `self`: mark it `#[staticmethod]` or `#[classmethod]`, or take `&self`",
                f.sig.ident
            ),
        ));
    };
    if r.reference.is_none() {
        return Err(syn::Error::new(
            r.span(),
            "methods take `&self` or `&mut self`: the object keeps its value",
        ));
    }
    let holder = if r.mutability.is_some() {
        quote! {
            let mut __self_holder = <<#ty as ::hpy_core::FromHPyRefMut<'_>>::Holder as ::core::default::Default>::default();
            // SAFETY: the receiver of a method, getter, setter or slot of the type: the runtime calls them only on its instances.
            let __this = unsafe { ::hpy_core::__private::receiver_mut::<#ty>(&__s, &mut __self_holder) }?;
        }
    } else {
        quote! {
            let mut __self_holder = <<#ty as ::hpy_core::FromHPyRef<'_>>::Holder as ::core::default::Default>::default();
            // SAFETY: the receiver of a method, getter, setter or slot of the type: the runtime calls them only on its instances.
            let __this = unsafe { ::hpy_core::__private::receiver_ref::<#ty>(&__s, &mut __self_holder) }?;
        }
    };
    Ok((
        quote! {
            // SAFETY: the object the method is called on, open for the call.
            let __s = unsafe { ::hpy_core::__private::arg(__cx, __self) };
            #holder
        },
        quote!(&__s),
    ))
}

fn method(g: &mut Gen, ty: &Type, f: &ImplItemFn, opts: &FnOptions) -> syn::Result<()> {
    let name = &f.sig.ident;
    let pyname = opts.python_name(name);
    let params = rust_params(f.sig.inputs.iter(), true)?;
    let sig = python_signature(&params, opts)?;
    let (selfs, slf) = receiver_stmts(ty, f)?;
    let impl_name = format_ident!("__hpy_meth_{}", name);
    let (body, conv, fn_ty) = impl_fn(
        &impl_name,
        sig.convention(),
        &params,
        &sig,
        &pyname,
        selfs,
        Some(&slf),
        &f.sig.output,
        |a| quote!(<#ty>::#name(__this, #(#a),*)),
    )?;
    let doc = python_doc(
        &pyname,
        &sig.text_signature(Some("$self")),
        &doc_string(&f.attrs),
    );
    let def = meth_def(
        g, "METH", name, body, &impl_name, &fn_ty, &conv, &pyname, &doc,
    );
    g.defs.push(def);
    Ok(())
}

fn call_slot(g: &mut Gen, ty: &Type, f: &ImplItemFn, opts: &FnOptions) -> syn::Result<()> {
    let name = &f.sig.ident;
    let params = rust_params(f.sig.inputs.iter(), true)?;
    let mut sig = python_signature(&params, opts)?;
    sig.explicit = true; // tp_call always receives keywords
    let (selfs, slf) = receiver_stmts(ty, f)?;
    let impl_name = format_ident!("__hpy_slot_call");
    let (body, _, _) = impl_fn(
        &impl_name,
        Convention::Keywords,
        &params,
        &sig,
        "__call__",
        selfs,
        Some(&slf),
        &f.sig.output,
        |a| quote!(<#ty>::#name(__this, #(#a),*)),
    )?;
    g.code.extend(quote! {
        #body
        struct __HpySlotCall;
        impl ::hpy_core::__private::Impl<::hpy_core::sys::HPyFunc_keywords> for __HpySlotCall {
            const IMPL: ::hpy_core::sys::HPyFunc_keywords = ::core::option::Option::Some(#impl_name);
        }
        static __HPY_SLOT_CALL: ::hpy_core::__private::SyncDef =
            ::hpy_core::trampolines::KEYWORDS::slot::<__HpySlotCall>(::hpy_core::sys::HPy_tp_call);
    });
    g.defs.push(format_ident!("__HPY_SLOT_CALL"));
    Ok(())
}

fn constructor(g: &mut Gen, ty: &Type, f: &ImplItemFn, opts: &FnOptions) -> syn::Result<()> {
    if g.has_new {
        return Err(syn::Error::new(
            f.sig.ident.span(),
            "only one `#[new]` per type",
        ));
    }
    if let Some(r) = f.sig.receiver() {
        return Err(syn::Error::new(
            r.span(),
            "`#[new]` makes the value: it takes no `self`",
        ));
    }
    g.has_new = true;
    let name = &f.sig.ident;
    let params = rust_params(f.sig.inputs.iter(), false)?;
    let sig = python_signature(&params, opts)?;
    let bound = bind_args(&params, &sig, RawArgs::TupleDict, "__new__", None)?;
    let stmts = bound.stmts;
    let args = bound.call_args;
    g.code.extend(quote! {
        extern "C" fn __hpy_new(
            __ctx: *mut ::hpy_core::sys::HPyContext,
            __type: ::hpy_core::sys::HPy,
            args: *const ::hpy_core::sys::HPy,
            nargs: ::hpy_core::sys::HPy_ssize_t,
            kw: ::hpy_core::sys::HPy,
        ) -> ::hpy_core::sys::HPy {
            // SAFETY: the runtime calls implementations with the live context of the call.
            ::hpy_core::__private::entry(unsafe { ::hpy_core::Context::from_raw(__ctx) }, ::hpy_core::__private::NULL, |__cx| {
                #stmts
                let __r = <#ty>::#name(#(#args),*);
                #[allow(unused_imports)]
                use ::hpy_core::__private::WrapOk as _;
                let __value: #ty = ::hpy_core::__private::Wrap(__r).into_result()?;
                // SAFETY: the type being instantiated, open for the call.
                let __t = unsafe { ::hpy_core::__private::arg(__cx, __type) };
                ::core::result::Result::Ok(::hpy_core::__private::new_object_of::<#ty>(&__t, __value)?.into_raw())
            })
        }
        struct __HpyNew;
        impl ::hpy_core::__private::Impl<::hpy_core::sys::HPyFunc_newfunc> for __HpyNew {
            const IMPL: ::hpy_core::sys::HPyFunc_newfunc = ::core::option::Option::Some(__hpy_new);
        }
        static __HPY_NEW: ::hpy_core::__private::SyncDef =
            ::hpy_core::trampolines::NEWFUNC::slot::<__HpyNew>(::hpy_core::sys::HPy_tp_new);
    });
    g.defs.push(format_ident!("__HPY_NEW"));
    Ok(())
}

fn static_method(
    g: &mut Gen,
    ty: &Type,
    tyname: &str,
    f: &ImplItemFn,
    opts: &FnOptions,
    class: bool,
) -> syn::Result<()> {
    if let Some(r) = f.sig.receiver() {
        return Err(syn::Error::new(
            r.span(),
            "static and class methods take no `self`",
        ));
    }
    let name = &f.sig.ident;
    let pyname = opts.python_name(name);
    let params = rust_params(f.sig.inputs.iter(), false)?;
    if class && !params.iter().any(|p| matches!(p.role, Role::Arg)) {
        return Err(syn::Error::new(
            f.sig.ident.span(),
            "a `#[classmethod]` takes the class first: `cls: &Handle<'_>`",
        ));
    }
    let sig = python_signature(&params, opts)?;
    let impl_name = format_ident!("__hpy_static_{}", name);
    let (body, conv, fn_ty) = impl_fn(
        &impl_name,
        sig.convention(),
        &params,
        &sig,
        &pyname,
        quote!(),
        None,
        &f.sig.output,
        |a| quote!(<#ty>::#name(#(#a),*)),
    )?;
    let module_attr = format!("{tyname}.{pyname}");
    let doc = python_doc(&pyname, &sig.text_signature(None), &doc_string(&f.attrs));
    let def = meth_def(
        g,
        "STATIC",
        name,
        body,
        &impl_name,
        &fn_ty,
        &conv,
        &module_attr,
        &doc,
    );
    g.statics.push(quote! {
        ::hpy_core::__private::StaticMethod { def: &#def, module_attr: #module_attr, attr: #pyname, classmethod: #class }
    });
    Ok(())
}

fn getsets(
    g: &mut Gen,
    ty: &Type,
    getters: &[(String, ImplItemFn)],
    setters: &[(String, ImplItemFn)],
) -> syn::Result<()> {
    for (n, f) in setters {
        if !getters.iter().any(|(g, _)| g == n) {
            return Err(syn::Error::new(
                f.sig.ident.span(),
                format!("setter `{n}` has no `#[getter]` of the same name"),
            ));
        }
    }
    for (n, gf) in getters {
        let names = getset::names(n);
        let gname = &gf.sig.ident;
        let (gself, _) = receiver_stmts(ty, gf)?;
        let gparams = rust_params(gf.sig.inputs.iter(), true)?;
        let gargs: Vec<TokenStream> = gparams
            .iter()
            .map(|p| match p.role {
                Role::Ctx => Ok(quote!(__cx)),
                Role::CtxRef => Ok(quote!(&__cx)),
                Role::Slf => Ok(quote!(&__s)),
                Role::Arg => Err(syn::Error::new(
                    p.name.span(),
                    "a `#[getter]` takes only `&self` (and `slf`, a `Context`)",
                )),
            })
            .collect::<syn::Result<_>>()?;
        g.code.extend(getset::getter(
            &names,
            quote! {
                #gself
                let __r = <#ty>::#gname(__this, #(#gargs),*);
                #[allow(unused_imports)]
                use ::hpy_core::__private::WrapOk as _;
                ::hpy_core::__private::ret_obj(__cx, ::hpy_core::__private::Wrap(__r).into_result()?)
            },
        ));
        if let Some((_, sf)) = setters.iter().find(|(s, _)| s == n) {
            {
                let sname = &sf.sig.ident;
                let (sself, _) = receiver_stmts(ty, sf)?;
                let sparams = rust_params(sf.sig.inputs.iter(), true)?;
                let mut pre = TokenStream::new();
                let mut sargs = Vec::new();
                let mut n_args = 0;
                for p in &sparams {
                    match p.role {
                        Role::Ctx => sargs.push(quote!(__cx)),
                        Role::CtxRef => sargs.push(quote!(&__cx)),
                        Role::Slf => sargs.push(quote!(&__s)),
                        Role::Arg => {
                            n_args += 1;
                            let v = format_ident!("__value_v");
                            let (p0, ex) = crate::args::extract_value(&p.ty, &quote!(&__v), &v, n);
                            let t = crate::args::elide_lifetimes(&p.ty);
                            pre.extend(quote! { #p0 let #v: #t = #ex; });
                            sargs.push(quote!(#v));
                        }
                    }
                }
                if n_args != 1 {
                    return Err(syn::Error::new(
                        sf.sig.inputs.span(),
                        "a `#[setter]` takes `&mut self` and the new value",
                    ));
                }
                g.code.extend(getset::setter(
                    &names,
                    n,
                    quote! {
                        #pre
                        #sself
                        let __r = <#ty>::#sname(__this, #(#sargs),*);
                        #[allow(unused_imports)]
                        use ::hpy_core::__private::WrapOk as _;
                        ::hpy_core::__private::ret_unit(::hpy_core::__private::Wrap(__r).into_result()?)
                    },
                ));
            }
        }
        let has_setter = setters.iter().any(|(s, _)| s == n);
        g.code
            .extend(getset::def(&names, n, &doc_string(&gf.attrs), has_setter));
        g.defs.push(names.def);
    }
    Ok(())
}
