//! Attribute getters and setters (`HPyDef_GETSET`), shared by struct fields
//! (`#[hpy(get, set)]`) and methods (`#[getter]`/`#[setter]`): the extern
//! functions around a body, their marker types and the definition.

use crate::doc::c_str;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

/// Names of the items made for attribute `name`.
pub struct Names {
    pub getter: Ident,
    pub setter: Ident,
    pub def: Ident,
    get_fn: Ident,
    set_fn: Ident,
}

pub fn names(name: &str) -> Names {
    Names {
        getter: format_ident!("__HpyGet_{}", name),
        setter: format_ident!("__HpySet_{}", name),
        def: format_ident!("__HPY_GETSET_{}", name),
        get_fn: format_ident!("__hpy_get_{}", name),
        set_fn: format_ident!("__hpy_set_{}", name),
    }
}

/// The getter: `body` sees `__cx` and `__s` (the object) and ends with the
/// `HPyResult<HPy>` of the value.
pub fn getter(n: &Names, body: TokenStream) -> TokenStream {
    let (marker, f) = (&n.getter, &n.get_fn);
    quote! {
        struct #marker;
        impl ::hpy_core::__private::Impl<::hpy_core::sys::HPyFunc_getter> for #marker {
            const IMPL: ::hpy_core::sys::HPyFunc_getter = ::core::option::Option::Some(#f);
        }
        extern "C" fn #f(
            __ctx: *mut ::hpy_core::sys::HPyContext,
            __self: ::hpy_core::sys::HPy,
            _closure: *mut ::core::ffi::c_void,
        ) -> ::hpy_core::sys::HPy {
            // SAFETY: the runtime calls implementations with the live context of the call.
            ::hpy_core::__private::entry(unsafe { ::hpy_core::Context::from_raw(__ctx) }, ::hpy_core::__private::NULL, |__cx| {
                // SAFETY: the runtime's argument, open for the call.
                let __s = unsafe { ::hpy_core::__private::arg(__cx, __self) };
                #body
            })
        }
    }
}

/// The setter: `body` sees `__cx`, `__s` (the object) and `__v` (the new
/// value; `del` is refused before) and ends with the `HPyResult<c_int>`.
pub fn setter(n: &Names, name: &str, body: TokenStream) -> TokenStream {
    let (marker, f) = (&n.setter, &n.set_fn);
    quote! {
        struct #marker;
        impl ::hpy_core::__private::Impl<::hpy_core::sys::HPyFunc_setter> for #marker {
            const IMPL: ::hpy_core::sys::HPyFunc_setter = ::core::option::Option::Some(#f);
        }
        extern "C" fn #f(
            __ctx: *mut ::hpy_core::sys::HPyContext,
            __self: ::hpy_core::sys::HPy,
            __value: ::hpy_core::sys::HPy,
            _closure: *mut ::core::ffi::c_void,
        ) -> ::core::ffi::c_int {
            // SAFETY: the runtime calls implementations with the live context of the call.
            ::hpy_core::__private::entry(unsafe { ::hpy_core::Context::from_raw(__ctx) }, ::hpy_core::__private::STATUS_ERROR, |__cx| {
                // SAFETY: the runtime's arguments, open for the call (a NULL
                // value means `del`).
                let ::core::option::Option::Some(__v) = (unsafe { ::hpy_core::__private::opt_arg(__cx, __value) }) else {
                    return ::core::result::Result::Err(::hpy_core::exc::TypeError::new_err(
                        ::core::concat!("can't delete attribute '", #name, "'")));
                };
                // SAFETY: as above.
                let __s = unsafe { ::hpy_core::__private::arg(__cx, __self) };
                #body
            })
        }
    }
}

/// The `HPyDef` static of the attribute (getter alone, or with its setter).
pub fn def(n: &Names, name: &str, doc: &str, with_setter: bool) -> TokenStream {
    let (def, getter) = (&n.def, &n.getter);
    let setter = if with_setter {
        let s = &n.setter;
        quote!(#s)
    } else {
        quote!(::hpy_core::__private::NoSetter)
    };
    let (name_c, doc_c) = (c_str(name), c_str(doc));
    quote! {
        static #def: ::hpy_core::__private::SyncDef =
            ::hpy_core::__private::getset::<#getter, #setter>(#name_c, #doc_c, #with_setter);
    }
}
