//! The parameters of a function as Python sees them: the `signature = (...)`
//! attribute (or its absence), checked against the Rust parameters, the
//! runtime `FnDesc` table and the `__text_signature__`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

/// One entry of `signature = (...)`.
pub enum SigItem {
    /// `name` or `name = default`.
    Param(Ident, Option<Expr>),
    /// `/`: the parameters before it are positional-only.
    Slash(Span),
    /// `*` alone (what follows is keyword-only) or `*name`.
    Star(Option<Ident>, Span),
    /// `**name`.
    StarStar(Ident),
}

impl Parse for SigItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Token![/]) {
            let t: Token![/] = input.parse()?;
            return Ok(SigItem::Slash(t.span));
        }
        if input.peek(Token![*]) && input.peek2(Token![*]) {
            input.parse::<Token![*]>()?;
            input.parse::<Token![*]>()?;
            return Ok(SigItem::StarStar(input.parse()?));
        }
        if input.peek(Token![*]) {
            let t: Token![*] = input.parse()?;
            let name = if input.peek(Ident) {
                Some(input.parse()?)
            } else {
                None
            };
            return Ok(SigItem::Star(name, t.span));
        }
        let name: Ident = input.parse()?;
        let default = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(SigItem::Param(name, default))
    }
}

/// The parsed `(...)` of `signature = (...)`.
pub struct SigList(pub Vec<SigItem>);

impl Parse for SigList {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        syn::parenthesized!(content in input);
        let items: Punctuated<SigItem, Token![,]> = Punctuated::parse_terminated(&content)?;
        Ok(SigList(items.into_iter().collect()))
    }
}

/// A parameter after matching the signature with the Rust parameters.
pub struct PyParam {
    pub name: Ident,
    pub default: Option<Expr>,
    pub kind: PyParamKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PyParamKind {
    PositionalOnly,
    Positional,
    KeywordOnly,
    VarArgs,
    VarKw,
}

/// How Python calls the function: the fastest convention that fits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    NoArgs,
    O,
    VarArgs,
    Keywords,
}

/// The Python-visible parameters, in Rust order.
pub struct PySignature {
    pub params: Vec<PyParam>,
    /// A `signature = ...` was given (so keywords are parsed).
    pub explicit: bool,
}

impl PySignature {
    /// Without `signature`: every parameter positional-only and required,
    /// like a function of CPython's C API.
    pub fn positional(names: &[Ident]) -> PySignature {
        PySignature {
            params: names
                .iter()
                .map(|n| PyParam {
                    name: n.clone(),
                    default: None,
                    kind: PyParamKind::PositionalOnly,
                })
                .collect(),
            explicit: false,
        }
    }

    /// Matches `signature = (...)` with the Rust parameter names (in order).
    pub fn from_list(list: &SigList, names: &[Ident]) -> syn::Result<PySignature> {
        let mut params = Vec::new();
        let mut seen_star = false;
        let mut slash_at: Option<usize> = None;
        for item in &list.0 {
            match item {
                SigItem::Param(name, default) => {
                    if !names.iter().any(|n| n == name) {
                        return Err(syn::Error::new(
                            name.span(),
                            format!(
                                "`signature` names `{name}`, which is not a parameter of this function \
                                 (its Python parameters are: {})",
                                list_names(names)
                            ),
                        ));
                    }
                    let kind = if seen_star {
                        PyParamKind::KeywordOnly
                    } else {
                        PyParamKind::Positional
                    };
                    params.push(PyParam {
                        name: name.clone(),
                        default: default.clone(),
                        kind,
                    });
                }
                SigItem::Slash(span) => {
                    if seen_star || slash_at.is_some() {
                        return Err(syn::Error::new(*span, "`/` must come once, before `*`"));
                    }
                    slash_at = Some(params.len());
                }
                SigItem::Star(name, span) => {
                    if seen_star {
                        return Err(syn::Error::new(*span, "only one `*` or `*args` is allowed"));
                    }
                    seen_star = true;
                    if let Some(name) = name {
                        if !names.iter().any(|n| n == name) {
                            return Err(syn::Error::new(
                                name.span(),
                                format!("`signature` names `*{name}`, which is not a parameter of this function"),
                            ));
                        }
                        params.push(PyParam {
                            name: name.clone(),
                            default: None,
                            kind: PyParamKind::VarArgs,
                        });
                    }
                }
                SigItem::StarStar(name) => {
                    if !names.iter().any(|n| n == name) {
                        return Err(syn::Error::new(
                            name.span(),
                            format!("`signature` names `**{name}`, which is not a parameter of this function"),
                        ));
                    }
                    params.push(PyParam {
                        name: name.clone(),
                        default: None,
                        kind: PyParamKind::VarKw,
                    });
                }
            }
        }
        if let Some(n) = slash_at {
            for p in &mut params[..n] {
                p.kind = PyParamKind::PositionalOnly;
            }
        }
        for n in names {
            if !params.iter().any(|p| &p.name == n) {
                return Err(syn::Error::new(
                    n.span(),
                    format!("parameter `{n}` is missing from `signature = (...)`: list every Python parameter"),
                ));
            }
        }
        // Rust order decides how values are passed; Python order is the
        // signature's, and it must be the same
        for (p, n) in params.iter().zip(names) {
            if &p.name != n {
                return Err(syn::Error::new(
                    p.name.span(),
                    format!("`signature` lists `{}` where the function has `{n}`: keep the parameters' order", p.name),
                ));
            }
        }
        let mut seen_default = false;
        for p in &params {
            match p.kind {
                PyParamKind::Positional | PyParamKind::PositionalOnly => {
                    if p.default.is_some() {
                        seen_default = true;
                    } else if seen_default {
                        return Err(syn::Error::new(
                            p.name.span(),
                            format!(
                                "parameter `{}` without a default follows one with a default",
                                p.name
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(PySignature {
            params,
            explicit: true,
        })
    }

    pub fn convention(&self) -> Convention {
        if self.explicit {
            return Convention::Keywords;
        }
        match self.params.len() {
            0 => Convention::NoArgs,
            1 => Convention::O,
            _ => Convention::VarArgs,
        }
    }

    /// The named (not `*args`/`**kwargs`) parameters, in order.
    pub fn named(&self) -> impl Iterator<Item = &PyParam> {
        self.params
            .iter()
            .filter(|p| !matches!(p.kind, PyParamKind::VarArgs | PyParamKind::VarKw))
    }

    /// `FnDesc { ... }` for the runtime parser.
    pub fn desc(&self, fname: &str) -> TokenStream {
        let named: Vec<&PyParam> = self.named().collect();
        let names = named
            .iter()
            .map(|p| p.name.to_string().trim_start_matches("r#").to_string());
        let positional = named
            .iter()
            .filter(|p| {
                matches!(
                    p.kind,
                    PyParamKind::Positional | PyParamKind::PositionalOnly
                )
            })
            .count();
        let positional_only = named
            .iter()
            .filter(|p| p.kind == PyParamKind::PositionalOnly)
            .count();
        let required = named.iter().map(|p| p.default.is_none());
        let varargs = self.params.iter().any(|p| p.kind == PyParamKind::VarArgs);
        let varkw = self.params.iter().any(|p| p.kind == PyParamKind::VarKw);
        quote! {
            ::hpy_core::__private::FnDesc {
                name: #fname,
                params: &[#(#names),*],
                positional: #positional,
                positional_only: #positional_only,
                required: &[#(#required),*],
                varargs: #varargs,
                varkw: #varkw,
            }
        }
    }

    /// `(a, b=2.0, /, *, c=None)` for `__text_signature__`, with `first`
    /// (`$module`, `$self`, `$type`) in front.
    pub fn text_signature(&self, first: Option<&str>) -> String {
        let mut parts: Vec<String> = first.map(|f| vec![f.to_string()]).unwrap_or_default();
        let mut star_done = false;
        let n_posonly = self
            .params
            .iter()
            .filter(|p| p.kind == PyParamKind::PositionalOnly)
            .count();
        let mut posonly_seen = 0;
        for p in &self.params {
            let name = p.name.to_string().trim_start_matches("r#").to_string();
            match p.kind {
                PyParamKind::VarArgs => {
                    parts.push(format!("*{name}"));
                    star_done = true;
                }
                PyParamKind::VarKw => parts.push(format!("**{name}")),
                PyParamKind::KeywordOnly => {
                    if !star_done {
                        parts.push("*".into());
                        star_done = true;
                    }
                    parts.push(with_default(&name, &p.default));
                }
                _ => parts.push(with_default(&name, &p.default)),
            }
            if p.kind == PyParamKind::PositionalOnly {
                posonly_seen += 1;
                if posonly_seen == n_posonly {
                    parts.push("/".into());
                }
            }
        }
        format!("({})", parts.join(", "))
    }
}

fn list_names(names: &[Ident]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name=default` with the default shown as Python would, or `...` when it
/// is Rust that Python cannot read.
fn with_default(name: &str, default: &Option<Expr>) -> String {
    match default {
        None => name.to_string(),
        Some(e) => {
            let text = e.to_token_stream().to_string().replace(' ', "");
            let pythonic = matches!(e, Expr::Lit(_))
                || matches!(text.as_str(), "None" | "true" | "false")
                || (text.starts_with('-')
                    && text[1..].chars().all(|c| c.is_ascii_digit() || c == '.'));
            let shown = match text.as_str() {
                "true" => "True".to_string(),
                "false" => "False".to_string(),
                _ if pythonic => text,
                _ => "...".to_string(),
            };
            format!("{name}={shown}")
        }
    }
}
