//! `#[hpy_def]` on a struct: the struct becomes a Python type. Fields marked
//! `#[hpy(get)]`/`#[hpy(get, set)]` become attributes, `Field`s are traversed,
//! and the type's definition gathers the methods of its `#[hpy_def] impl`.

use crate::doc::doc_string;
use crate::getset;
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Fields, Ident, ItemStruct, LitStr, Token, Type};

#[derive(Default)]
pub struct ClassOptions {
    subclass: bool,
    name: Option<LitStr>,
}

impl Parse for ClassOptions {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut o = ClassOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "subclass" => o.subclass = true,
                "name" => {
                    input.parse::<Token![=]>()?;
                    o.name = Some(input.parse()?);
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown #[hpy_def] option `{other}` for a type: expected `subclass` or `name = \"...\"`"),
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

struct Access {
    get: bool,
    set: bool,
}

fn field_access(attrs: &[syn::Attribute]) -> syn::Result<Access> {
    let mut a = Access {
        get: false,
        set: false,
    };
    for attr in attrs.iter().filter(|a| a.path().is_ident("hpy")) {
        attr.parse_nested_meta(|m| {
            if m.path.is_ident("get") {
                a.get = true;
            } else if m.path.is_ident("set") {
                a.set = true;
            } else {
                return Err(m.error("unknown field option: expected `get` or `set`"));
            }
            Ok(())
        })?;
    }
    if a.set && !a.get {
        a.get = true;
    }
    Ok(a)
}

fn is_field_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Field"))
}

pub fn expand(opts: ClassOptions, mut item: ItemStruct) -> syn::Result<TokenStream> {
    let ident = item.ident.clone();
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            "#[hpy_def] types cannot be generic",
        ));
    }
    let pyname = opts
        .name
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_else(|| ident.to_string());
    let doc = doc_string(&item.attrs);
    let mut getsets = Vec::new();
    let mut traversed = Vec::new();
    if let Fields::Named(named) = &mut item.fields {
        for f in named.named.iter_mut() {
            let fname = f.ident.clone().expect("named field");
            let access = field_access(&f.attrs)?;
            f.attrs.retain(|a| !a.path().is_ident("hpy"));
            if is_field_type(&f.ty) {
                traversed.push(fname.clone());
            }
            if access.get {
                getsets.push(field_getset(
                    &ident,
                    &fname,
                    &f.ty,
                    access.set,
                    &doc_string(&f.attrs),
                ));
            }
        }
    } else if let Fields::Unnamed(un) = &item.fields {
        for f in &un.unnamed {
            if f.attrs.iter().any(|a| a.path().is_ident("hpy")) {
                return Err(syn::Error::new(
                    f.span(),
                    "#[hpy(get, set)] needs a named field",
                ));
            }
        }
    }
    let gs_statics: Vec<Ident> = getsets.iter().map(|(_, st)| st.clone()).collect();
    let gs_code: Vec<TokenStream> = getsets.into_iter().map(|(code, _)| code).collect();
    let has_fields = !traversed.is_empty();
    let mut flags = quote!(0u64);
    if has_fields {
        flags = quote!(#flags | ::hpy_core::sys::HPy_TPFLAGS_HAVE_GC as u64);
    }
    if opts.subclass {
        flags = quote!(#flags | ::hpy_core::sys::HPy_TPFLAGS_BASETYPE as u64);
    }
    let doc_lit = if doc.is_empty() {
        quote!(::core::option::Option::None)
    } else {
        let d = format!("{doc}\0");
        quote!(::core::option::Option::Some(#d))
    };
    let traverse_push = if has_fields {
        quote!(__v.push(&__HPY_TRAVERSE);)
    } else {
        quote!()
    };
    let name_lit = pyname.clone();
    Ok(quote! {
        #item

        impl ::hpy_core::HPyClass for #ident {
            const NAME: &'static str = #name_lit;
            fn __type_global() -> &'static ::hpy_core::Global {
                static GLOBAL: ::hpy_core::Global = ::hpy_core::Global::new();
                &GLOBAL
            }
        }

        impl ::hpy_core::__private::Traverse for #ident {
            const FIELDS: &'static [usize] = &[#(::core::mem::offset_of!(#ident, #traversed)),*];
        }

        impl<'c> ::hpy_core::IntoHPy<'c> for #ident {
            /// A new object of this type holding the value.
            fn into_hpy(self, ctx: ::hpy_core::Context<'c>) -> ::hpy_core::HPyResult<::hpy_core::Handle<'c>> {
                ::hpy_core::new_object(ctx, self)
            }
        }

        #[allow(non_upper_case_globals, non_snake_case, non_camel_case_types, clippy::all)]
        const _: () = {
            impl #ident {
                /// The type, for `#[hpy_module]`.
                #[doc(hidden)]
                pub const __HPY_ITEM: ::hpy_core::__private::ModuleItem =
                    ::hpy_core::__private::ModuleItem::Type(&__HPY_TYPE);
            }

            static __HPY_SPEC: ::std::sync::OnceLock<::hpy_core::__private::TypeSpec> = ::std::sync::OnceLock::new();

            static __HPY_TYPE: ::hpy_core::__private::TypeDef = ::hpy_core::__private::TypeDef {
                name: #name_lit,
                doc: #doc_lit,
                basicsize: ::hpy_core::__private::assert_layout::<#ident>(),
                flags: #flags,
                defines: __hpy_defines,
                global: <#ident as ::hpy_core::HPyClass>::__type_global,
                statics: __hpy_statics,
                spec: &__HPY_SPEC,
            };

            static __HPY_DESTROY: ::hpy_core::__private::SyncDef = ::hpy_core::__private::destroy_slot::<#ident>();
            static __HPY_TRAVERSE: ::hpy_core::__private::SyncDef = ::hpy_core::__private::traverse_slot::<#ident>();

            #(#gs_code)*

            fn __hpy_methods() -> ::hpy_core::__private::Methods {
                #[allow(unused_imports)]
                use ::hpy_core::__private::HasMethods as _;
                (&::hpy_core::__private::Collector::<#ident>::new()).methods()
            }

            fn __hpy_statics() -> &'static [::hpy_core::__private::StaticMethod] {
                __hpy_methods().statics
            }

            fn __hpy_defines() -> ::std::vec::Vec<&'static ::hpy_core::__private::SyncDef> {
                let mut __v: ::std::vec::Vec<&'static ::hpy_core::__private::SyncDef> = ::std::vec![#(&#gs_statics),*];
                // a value with nothing to drop needs no tp_destroy (and its
                // objects then take CPython's own, cheaper deallocation path)
                if ::core::mem::needs_drop::<#ident>() {
                    __v.push(&__HPY_DESTROY);
                }
                #traverse_push
                let __m = __hpy_methods();
                __v.extend_from_slice(__m.defs);
                if !__m.has_new {
                    __v.push(&::hpy_core::__private::NO_CONSTRUCTOR);
                }
                __v
            }
        };
    })
}

/// The getter (and setter) of field `f`, and the static holding its `HPyDef`.
fn field_getset(ty: &Ident, f: &Ident, fty: &Type, set: bool, doc: &str) -> (TokenStream, Ident) {
    let name = f.to_string();
    let n = getset::names(&name);
    let mut code = getset::getter(
        &n,
        quote! {
            let mut __h = <<#ty as ::hpy_core::FromHPyRef<'_>>::Holder as ::core::default::Default>::default();
            // SAFETY: the receiver of a method, getter, setter or slot of the type: the runtime calls them only on its instances.
            let __this = unsafe { ::hpy_core::__private::receiver_ref::<#ty>(&__s, &mut __h) }?;
            ::hpy_core::__private::ret_obj(__cx, ::core::clone::Clone::clone(&__this.#f))
        },
    );
    if set {
        code.extend(getset::setter(
            &n,
            &name,
            quote! {
                let __new: #fty = ::hpy_core::__private::extract::<#fty>(&__v, #name)?;
                let mut __h = <<#ty as ::hpy_core::FromHPyRefMut<'_>>::Holder as ::core::default::Default>::default();
                // SAFETY: the receiver of a method, getter, setter or slot of the type: the runtime calls them only on its instances.
                let __this = unsafe { ::hpy_core::__private::receiver_mut::<#ty>(&__s, &mut __h) }?;
                __this.#f = __new;
                ::core::result::Result::Ok(0)
            },
        ));
    }
    code.extend(getset::def(&n, &name, doc, set));
    (code, n.def)
}
