//! Docstrings: the user's `///` comments, with `__text_signature__` in front
//! (`name(sig)\n--\n\n`, which CPython turns into `__text_signature__`), as
//! C string literals.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::{Attribute, Expr, Lit, Meta};

/// The text of the `#[doc = "..."]` attributes, one line each, with the
/// space after `///` removed.
pub fn doc_string(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for a in attrs {
        if !a.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &a.meta {
            if let Expr::Lit(e) = &nv.value {
                if let Lit::Str(s) = &e.lit {
                    let v = s.value();
                    lines.push(v.strip_prefix(' ').unwrap_or(&v).to_string());
                }
            }
        }
    }
    lines.join("\n").trim().to_string()
}

/// The docstring CPython reads: the text signature, then the doc.
pub fn python_doc(name: &str, text_signature: &str, doc: &str) -> String {
    format!("{name}{text_signature}\n--\n\n{doc}")
}

/// A `c"..."` literal (NUL bytes in `s` are dropped).
pub fn c_str(s: &str) -> TokenStream {
    let c = std::ffi::CString::new(s.replace('\0', "")).expect("no NUL");
    let lit = Literal::c_string(&c);
    quote!(#lit)
}
