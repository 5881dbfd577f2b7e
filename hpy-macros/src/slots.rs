//! Special methods (`__add__`, `__len__`, ...) of an `#[hpy_def] impl`: which
//! HPy slot each fills, with which calling convention, and the code of its
//! implementation. Binary operators combine `__op__` and `__rop__` in one
//! slot, returning `NotImplemented` for operands they do not take.

use crate::args::{elide_lifetimes, extract_value, rust_params, Role, RustParam};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Ident, ImplItemFn, ReturnType, Type};

/// Binary numeric operators: (name, reflected, in-place, slot, in-place slot).
const BINARY: &[(&str, &str, &str, &str, &str)] = &[
    ("add", "radd", "iadd", "HPy_nb_add", "HPy_nb_inplace_add"),
    (
        "sub",
        "rsub",
        "isub",
        "HPy_nb_subtract",
        "HPy_nb_inplace_subtract",
    ),
    (
        "mul",
        "rmul",
        "imul",
        "HPy_nb_multiply",
        "HPy_nb_inplace_multiply",
    ),
    (
        "matmul",
        "rmatmul",
        "imatmul",
        "HPy_nb_matrix_multiply",
        "HPy_nb_inplace_matrix_multiply",
    ),
    (
        "truediv",
        "rtruediv",
        "itruediv",
        "HPy_nb_true_divide",
        "HPy_nb_inplace_true_divide",
    ),
    (
        "floordiv",
        "rfloordiv",
        "ifloordiv",
        "HPy_nb_floor_divide",
        "HPy_nb_inplace_floor_divide",
    ),
    (
        "mod",
        "rmod",
        "imod",
        "HPy_nb_remainder",
        "HPy_nb_inplace_remainder",
    ),
    ("divmod", "rdivmod", "", "HPy_nb_divmod", ""),
    (
        "lshift",
        "rlshift",
        "ilshift",
        "HPy_nb_lshift",
        "HPy_nb_inplace_lshift",
    ),
    (
        "rshift",
        "rrshift",
        "irshift",
        "HPy_nb_rshift",
        "HPy_nb_inplace_rshift",
    ),
    ("and", "rand", "iand", "HPy_nb_and", "HPy_nb_inplace_and"),
    ("or", "ror", "ior", "HPy_nb_or", "HPy_nb_inplace_or"),
    ("xor", "rxor", "ixor", "HPy_nb_xor", "HPy_nb_inplace_xor"),
];

/// Unary special methods returning an object: (name, slot, convention).
const UNARY: &[(&str, &str, &str)] = &[
    ("repr", "HPy_tp_repr", "REPRFUNC"),
    ("str", "HPy_tp_str", "REPRFUNC"),
    ("neg", "HPy_nb_negative", "UNARYFUNC"),
    ("pos", "HPy_nb_positive", "UNARYFUNC"),
    ("abs", "HPy_nb_absolute", "UNARYFUNC"),
    ("invert", "HPy_nb_invert", "UNARYFUNC"),
    ("int", "HPy_nb_int", "UNARYFUNC"),
    ("float", "HPy_nb_float", "UNARYFUNC"),
    ("index", "HPy_nb_index", "UNARYFUNC"),
];

const COMPARE: &[(&str, &str)] = &[
    ("lt", "Lt"),
    ("le", "Le"),
    ("eq", "Eq"),
    ("ne", "Ne"),
    ("gt", "Gt"),
    ("ge", "Ge"),
];

const OTHERS: &[&str] = &[
    "hash", "len", "bool", "getitem", "setitem", "delitem", "contains", "call", "richcmp", "pow",
    "rpow", "ipow",
];

const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "iter",
        "HPy 0.9 has no tp_iter slot; return a Python iterator from a method instead",
    ),
    ("next", "HPy 0.9 has no tp_iternext slot"),
    ("init", "use `#[new]` to construct the object"),
    ("del", "implement `Drop` for the struct instead"),
    ("getattr", "HPy types cannot override attribute lookup"),
    ("setattr", "HPy types cannot override attribute assignment"),
    ("traverse", "fields of type `Field` are traversed for you"),
    (
        "clear",
        "HPy has no tp_clear: fields are cleared when the object dies",
    ),
    ("getbuffer", "buffers are not supported by #[hpy_def] yet"),
    (
        "releasebuffer",
        "buffers are not supported by #[hpy_def] yet",
    ),
];

/// Is `name` (without underscores) a special method we know?
pub fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

fn all_names() -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for (a, b, c, _, _) in BINARY {
        v.extend(
            [a, b, c]
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.to_string()),
        );
    }
    v.extend(UNARY.iter().map(|u| u.0.to_string()));
    v.extend(COMPARE.iter().map(|c| c.0.to_string()));
    v.extend(OTHERS.iter().map(|s| s.to_string()));
    v
}

/// A special method of the impl block.
pub struct Special<'a> {
    pub name: String,
    pub f: &'a ImplItemFn,
}

/// The generated slot definitions (statics of type `SyncDef`) and their code.
pub struct SlotCode {
    pub code: TokenStream,
    pub defs: Vec<Ident>,
}

/// How a special method's value comes back.
enum Ret {
    Obj,
    Hash,
    Len,
    Bool,
    Status,
}

fn ret_convert(ret: &Ret, value: TokenStream) -> TokenStream {
    let wrapped = quote! {{
        #[allow(unused_imports)]
        use ::hpy_core::__private::WrapOk as _;
        ::hpy_core::__private::Wrap(#value).into_result()?
    }};
    match ret {
        Ret::Obj => quote!(::hpy_core::__private::ret_obj(__cx, #wrapped)),
        Ret::Hash => quote!(::hpy_core::__private::ret_hash(#wrapped)),
        Ret::Len => quote!(::hpy_core::__private::ret_len(#wrapped)),
        Ret::Bool => quote!(::hpy_core::__private::ret_bool(#wrapped)),
        Ret::Status => quote!(::hpy_core::__private::ret_unit(#wrapped)),
    }
}

fn returns_unit(ret: &ReturnType) -> bool {
    match ret {
        ReturnType::Default => true,
        ReturnType::Type(_, t) => {
            let s = quote!(#t).to_string().replace(' ', "");
            s == "()" || s.ends_with("Result<()>") || s.contains("Result<(),")
        }
    }
}

/// The receiver: `&self` or `&mut self`.
fn receiver(f: &ImplItemFn) -> syn::Result<bool> {
    match f.sig.receiver() {
        Some(r) if r.reference.is_some() => Ok(r.mutability.is_some()),
        Some(r) => Err(syn::Error::new(
            r.span(),
            "special methods take `&self` or `&mut self`, not `self`",
        )),
        None => Err(syn::Error::new(
            f.sig.ident.span(),
            format!("`{}` needs a receiver: `&self` or `&mut self`", f.sig.ident),
        )),
    }
}

/// Binds the receiver from the handle `h` as `this` (`&T` or `&mut T`).
fn bind_self(ty: &Type, h: &TokenStream, this: &Ident, mutable: bool) -> TokenStream {
    let holder = format_ident!("{}_holder", this);
    if mutable {
        quote! {
            let mut #holder = <<#ty as ::hpy_core::FromHPyRefMut<'_>>::Holder as ::core::default::Default>::default();
            // SAFETY: the receiver of a method, getter, setter or slot of the type: the runtime calls them only on its instances.
            let #this = unsafe { ::hpy_core::__private::receiver_mut::<#ty>(#h, &mut #holder) }?;
        }
    } else {
        quote! {
            let mut #holder = <<#ty as ::hpy_core::FromHPyRef<'_>>::Holder as ::core::default::Default>::default();
            // SAFETY: the receiver of a method, getter, setter or slot of the type: the runtime calls them only on its instances.
            let #this = unsafe { ::hpy_core::__private::receiver_ref::<#ty>(#h, &mut #holder) }?;
        }
    }
}

/// Binds the receiver from `h` as `this` if `h` is an instance of `ty`,
/// else leaves the block labelled `'op` (one type check).
fn bind_self_if_instance(ty: &Type, h: &TokenStream, this: &Ident, mutable: bool) -> TokenStream {
    let holder = format_ident!("{}_holder", this);
    let (trait_, f) = if mutable {
        (quote!(FromHPyRefMut), quote!(mut_if_instance))
    } else {
        (quote!(FromHPyRef), quote!(ref_if_instance))
    };
    quote! {
        let mut #holder = <<#ty as ::hpy_core::#trait_<'_>>::Holder as ::core::default::Default>::default();
        let ::core::option::Option::Some(#this) = ::hpy_core::__private::#f::<#ty>(#h, &mut #holder)? else { break 'op; };
    }
}

/// The call of `f` with `this` and the operand handles `ops` for its Python
/// parameters, in order. With `soft`, an operand that does not convert
/// leaves the block labelled `'op` (for `NotImplemented`) instead of raising.
fn call(
    ty: &Type,
    f: &ImplItemFn,
    this: &TokenStream,
    slf: &TokenStream,
    ops: &[TokenStream],
    soft: bool,
) -> syn::Result<(TokenStream, TokenStream)> {
    let params = rust_params(f.sig.inputs.iter(), true)?;
    let n_args = params
        .iter()
        .filter(|p| matches!(p.role, Role::Arg))
        .count();
    if n_args != ops.len() {
        // at the first parameter too many, or at the parameter list
        let span = match params
            .iter()
            .filter(|p| matches!(p.role, Role::Arg))
            .nth(ops.len())
        {
            Some(extra) => extra.name.span(),
            None => f.sig.paren_token.span.join(),
        };
        let expected = match ops.len() {
            0 => "no arguments".to_string(),
            1 => "1 argument".to_string(),
            n => format!("{n} arguments"),
        };
        return Err(syn::Error::new(
            span,
            format!(
                "`{}` takes {expected} after `self`, not {n_args}",
                f.sig.ident
            ),
        ));
    }
    let mut stmts = TokenStream::new();
    let mut args = vec![this.clone()];
    let mut k = 0;
    for (i, p) in params.iter().enumerate() {
        match p.role {
            Role::Ctx => args.push(quote!(__cx)),
            Role::CtxRef => args.push(quote!(&__cx)),
            Role::Slf => args.push(slf.clone()),
            Role::Arg => {
                let v = format_ident!("__o{}", i);
                let h = &ops[k];
                k += 1;
                stmts.extend(operand(p, h, &v, soft));
                args.push(quote!(#v));
            }
        }
    }
    let name = &f.sig.ident;
    Ok((stmts, quote!(<#ty>::#name(#(#args),*))))
}

fn operand(p: &RustParam, h: &TokenStream, v: &Ident, soft: bool) -> TokenStream {
    if !soft {
        let (pre, ex) = extract_value(&p.ty, h, v, &p.name.to_string());
        let t = elide_lifetimes(&p.ty);
        return quote! { #pre let #v: #t = #ex; };
    }
    match &p.ty {
        Type::Reference(r) if r.mutability.is_none() => {
            let inner = elide_lifetimes(&r.elem);
            let holder = format_ident!("{}_holder", v);
            quote! {
                let mut #holder = <<#inner as ::hpy_core::FromHPyRef<'_>>::Holder as ::core::default::Default>::default();
                let ::core::option::Option::Some(#v) =
                    ::hpy_core::__private::try_extract_ref::<#inner>(#h, &mut #holder) else { break 'op; };
            }
        }
        _ => {
            let t = elide_lifetimes(&p.ty);
            quote! {
                let ::core::option::Option::Some(#v) = ::hpy_core::__private::try_extract::<#t>(#h) else { break 'op; };
            }
        }
    }
}

/// `'op: { <self, if an instance> <operands> return <result>; }`: one way
/// to serve an operator (forward or reflected); leaving the block means
/// `NotImplemented` from this method.
fn reflected_arm(
    ty: &Type,
    f: &ImplItemFn,
    me: &TokenStream,
    ops: &[TokenStream],
) -> syn::Result<TokenStream> {
    let this = format_ident!("__this");
    let m = receiver(f)?;
    let (pre, c) = call(ty, f, &quote!(#this), me, ops, true)?;
    let selfb = bind_self_if_instance(ty, me, &this, m);
    let value = ret_convert(&Ret::Obj, c);
    Ok(quote! {
        'op: {
            #selfb #pre
            return #value;
        }
    })
}

/// The body of an in-place operator (self is `__x`): a method returning
/// `()` gives the object itself back.
fn inplace_body(ty: &Type, f: &ImplItemFn, ops: &[TokenStream]) -> syn::Result<TokenStream> {
    let this = format_ident!("__this");
    let m = receiver(f)?;
    let (pre, c) = call(ty, f, &quote!(#this), &quote!(&__x), ops, true)?;
    let selfb = bind_self(ty, &quote!(&__x), &this, m);
    let value = if returns_unit(&f.sig.output) {
        let unit = ret_convert(&Ret::Status, c);
        quote! { #unit?; return ::core::result::Result::Ok(__x.dup().into_raw()); }
    } else {
        let v = ret_convert(&Ret::Obj, c);
        quote! { return #v; }
    };
    Ok(quote! { #selfb #pre #value })
}

/// The operands of a `__pow__`-like method: the other one and, if it takes
/// it, the modulo (`__z`).
fn pow_ops(f: &ImplItemFn, other: TokenStream) -> syn::Result<Vec<TokenStream>> {
    let n = rust_params(f.sig.inputs.iter(), true)?
        .iter()
        .filter(|p| matches!(p.role, Role::Arg))
        .count();
    Ok(if n == 2 {
        vec![other, quote!(&__z)]
    } else {
        vec![other]
    })
}

/// A slot `HPyDef` named `def` filled by `impl_fn` (of convention `conv`).
fn slot_def(
    def: &Ident,
    marker: &Ident,
    conv: &str,
    fn_ty: &str,
    slot: &str,
    impl_fn: &Ident,
) -> TokenStream {
    let conv = format_ident!("{}", conv);
    let fn_ty = format_ident!("{}", fn_ty);
    let slot = format_ident!("{}", slot);
    quote! {
        struct #marker;
        impl ::hpy_core::__private::Impl<::hpy_core::sys::#fn_ty> for #marker {
            const IMPL: ::hpy_core::sys::#fn_ty = ::core::option::Option::Some(#impl_fn);
        }
        static #def: ::hpy_core::__private::SyncDef =
            ::hpy_core::trampolines::#conv::slot::<#marker>(::hpy_core::sys::#slot);
    }
}

/// The start of a slot impl: the signature of convention `conv` with
/// `body` (statements ending with the `HPyResult` of the slot's value).
fn slot_fn(impl_fn: &Ident, conv: &str, body: TokenStream) -> TokenStream {
    let (params, ret, err) = match conv {
        "REPRFUNC" | "UNARYFUNC" => (
            quote!(__a0: ::hpy_core::sys::HPy),
            quote!(::hpy_core::sys::HPy),
            quote!(::hpy_core::__private::NULL),
        ),
        "HASHFUNC" => (
            quote!(__a0: ::hpy_core::sys::HPy),
            quote!(::hpy_core::sys::HPy_hash_t),
            quote!(-1),
        ),
        "LENFUNC" => (
            quote!(__a0: ::hpy_core::sys::HPy),
            quote!(::hpy_core::sys::HPy_ssize_t),
            quote!(-1),
        ),
        "INQUIRY" => (
            quote!(__a0: ::hpy_core::sys::HPy),
            quote!(::core::ffi::c_int),
            quote!(-1),
        ),
        "BINARYFUNC" => (
            quote!(__a0: ::hpy_core::sys::HPy, __a1: ::hpy_core::sys::HPy),
            quote!(::hpy_core::sys::HPy),
            quote!(::hpy_core::__private::NULL),
        ),
        "OBJOBJPROC" => (
            quote!(__a0: ::hpy_core::sys::HPy, __a1: ::hpy_core::sys::HPy),
            quote!(::core::ffi::c_int),
            quote!(-1),
        ),
        "OBJOBJARGPROC" => (
            quote!(__a0: ::hpy_core::sys::HPy, __a1: ::hpy_core::sys::HPy, __a2: ::hpy_core::sys::HPy),
            quote!(::core::ffi::c_int),
            quote!(-1),
        ),
        "TERNARYFUNC" => (
            quote!(__a0: ::hpy_core::sys::HPy, __a1: ::hpy_core::sys::HPy, __a2: ::hpy_core::sys::HPy),
            quote!(::hpy_core::sys::HPy),
            quote!(::hpy_core::__private::NULL),
        ),
        "RICHCMPFUNC" => (
            quote!(__a0: ::hpy_core::sys::HPy, __a1: ::hpy_core::sys::HPy, __op: ::hpy_core::sys::HPy_RichCmpOp),
            quote!(::hpy_core::sys::HPy),
            quote!(::hpy_core::__private::NULL),
        ),
        "KEYWORDS" => (
            quote!(__self: ::hpy_core::sys::HPy, args: *const ::hpy_core::sys::HPy, nargs: usize, kwnames: ::hpy_core::sys::HPy),
            quote!(::hpy_core::sys::HPy),
            quote!(::hpy_core::__private::NULL),
        ),
        other => unreachable!("convention {other}"),
    };
    quote! {
        extern "C" fn #impl_fn(__ctx: *mut ::hpy_core::sys::HPyContext, #params) -> #ret {
            // SAFETY: the runtime calls implementations with the live context of the call.
            ::hpy_core::__private::entry(unsafe { ::hpy_core::Context::from_raw(__ctx) }, #err, |__cx| { #body })
        }
    }
}

pub fn expand(ty: &Type, specials: &[Special]) -> syn::Result<SlotCode> {
    let known = all_names();
    let mut by_name = std::collections::HashMap::new();
    for s in specials {
        let bare = s
            .name
            .trim_start_matches("__")
            .trim_end_matches("__")
            .to_string();
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(n, _)| *n == bare) {
            return Err(syn::Error::new(
                s.f.sig.ident.span(),
                format!("`{}` is not supported: {why}", s.name),
            ));
        }
        if !known.contains(&bare) {
            let mut list: Vec<String> = known.iter().map(|n| format!("__{n}__")).collect();
            list.sort();
            return Err(syn::Error::new(
                s.f.sig.ident.span(),
                format!(
                    "unknown special method `{}`; #[hpy_def] types support: {}",
                    s.name,
                    list.join(", ")
                ),
            ));
        }
        by_name.insert(bare, s.f);
    }
    let mut out = SlotCode {
        code: TokenStream::new(),
        defs: Vec::new(),
    };
    let this = format_ident!("__this");
    let mut emit = |name: &str, conv: &str, slots: &[&str], body: TokenStream| {
        let (impl_fn, _, marker) = names(name);
        out.code.extend(slot_fn(&impl_fn, conv, body));
        for (k, slot) in slots.iter().enumerate() {
            let def = format_ident!("__HPY_SLOT_{}_{}", name.to_uppercase(), k);
            let fn_ty = format!("HPyFunc_{}", conv.to_lowercase());
            let m = format_ident!("{}_{}", marker, k);
            out.code
                .extend(slot_def(&def, &m, conv, &fn_ty, slot, &impl_fn));
            out.defs.push(def);
        }
    };

    // (self) -> value
    let mut simple: Vec<(&str, &str, Vec<&str>, Ret)> = UNARY
        .iter()
        .map(|(n, s, c)| (*n, *c, vec![*s], Ret::Obj))
        .collect();
    simple.push(("hash", "HASHFUNC", vec!["HPy_tp_hash"], Ret::Hash));
    simple.push((
        "len",
        "LENFUNC",
        vec!["HPy_mp_length", "HPy_sq_length"],
        Ret::Len,
    ));
    simple.push(("bool", "INQUIRY", vec!["HPy_nb_bool"], Ret::Bool));
    for (name, conv, slots, ret) in simple {
        let Some(f) = by_name.get(name) else { continue };
        let m = receiver(f)?;
        let (pre, c) = call(ty, f, &quote!(#this), &quote!(&__s), &[], false)?;
        let selfb = bind_self(ty, &quote!(&__s), &this, m);
        let value = ret_convert(&ret, c);
        emit(
            name,
            conv,
            &slots,
            quote! {
                // SAFETY: the runtime's argument, open for the call.
                let __s = unsafe { ::hpy_core::__private::arg(__cx, __a0) };
                #selfb #pre #value
            },
        );
    }

    // (self, operand) -> value
    for (name, conv, slot, ret) in [
        ("getitem", "BINARYFUNC", "HPy_mp_subscript", Ret::Obj),
        ("contains", "OBJOBJPROC", "HPy_sq_contains", Ret::Bool),
    ] {
        let Some(f) = by_name.get(name) else { continue };
        let m = receiver(f)?;
        let (pre, c) = call(ty, f, &quote!(#this), &quote!(&__s), &[quote!(&__o)], false)?;
        let selfb = bind_self(ty, &quote!(&__s), &this, m);
        let value = ret_convert(&ret, c);
        emit(
            name,
            conv,
            &[slot],
            quote! {
                // SAFETY: the runtime's arguments, open for the call.
                let __s = unsafe { ::hpy_core::__private::arg(__cx, __a0) };
                // SAFETY: as above.
                let __o = unsafe { ::hpy_core::__private::arg(__cx, __a1) };
                #selfb #pre #value
            },
        );
    }

    // __setitem__ / __delitem__: one slot, value NULL for del
    if by_name.contains_key("setitem") || by_name.contains_key("delitem") {
        let set = match by_name.get("setitem") {
            Some(f) => {
                let m = receiver(f)?;
                let (pre, c) = call(
                    ty,
                    f,
                    &quote!(#this),
                    &quote!(&__s),
                    &[quote!(&__k), quote!(__v)],
                    false,
                )?;
                let selfb = bind_self(ty, &quote!(&__s), &this, m);
                let value = ret_convert(&Ret::Status, c);
                quote! { #selfb #pre #value }
            }
            None => quote! {
                ::core::result::Result::Err(::hpy_core::exc::TypeError::new_err("object does not support item assignment"))
            },
        };
        let del = match by_name.get("delitem") {
            Some(f) => {
                let m = receiver(f)?;
                let (pre, c) = call(ty, f, &quote!(#this), &quote!(&__s), &[quote!(&__k)], false)?;
                let selfb = bind_self(ty, &quote!(&__s), &this, m);
                let value = ret_convert(&Ret::Status, c);
                quote! { #selfb #pre #value }
            }
            None => quote! {
                ::core::result::Result::Err(::hpy_core::exc::TypeError::new_err("object does not support item deletion"))
            },
        };
        emit(
            "setitem",
            "OBJOBJARGPROC",
            &["HPy_mp_ass_subscript"],
            quote! {
                // SAFETY: the runtime's arguments, open for the call (a NULL
                // value means `del`).
                let __s = unsafe { ::hpy_core::__private::arg(__cx, __a0) };
                // SAFETY: as above.
                let __k = unsafe { ::hpy_core::__private::arg(__cx, __a1) };
                // SAFETY: as above.
                match unsafe { ::hpy_core::__private::opt_arg(__cx, __a2) } {
                    ::core::option::Option::Some(__v) => { let __v = &__v; #set }
                    ::core::option::Option::None => { #del }
                }
            },
        );
    }

    // binary operators, with their reflected forms and in-place forms
    for (op, rop, iop, slot, islot) in BINARY {
        let fwd = by_name.get(*op);
        let rev = by_name.get(*rop);
        if fwd.is_some() || rev.is_some() {
            let mut body = TokenStream::new();
            for (f, me, other) in [
                (fwd, quote!(&__x), quote!(&__y)),
                (rev, quote!(&__y), quote!(&__x)),
            ] {
                let Some(f) = f else { continue };
                body.extend(reflected_arm(ty, f, &me, std::slice::from_ref(&other))?);
            }
            emit(
                op,
                "BINARYFUNC",
                &[slot],
                quote! {
                    // SAFETY: the runtime's arguments, open for the call.
                    let __x = unsafe { ::hpy_core::__private::arg(__cx, __a0) };
                    // SAFETY: as above.
                    let __y = unsafe { ::hpy_core::__private::arg(__cx, __a1) };
                    #body
                    ::hpy_core::__private::not_implemented(__cx)
                },
            );
        }
        if iop.is_empty() {
            continue;
        }
        if let Some(f) = by_name.get(*iop) {
            let value = inplace_body(ty, f, &[quote!(&__y)])?;
            emit(
                iop,
                "BINARYFUNC",
                &[islot],
                quote! {
                    // SAFETY: the runtime's arguments, open for the call.
                    let __x = unsafe { ::hpy_core::__private::arg(__cx, __a0) };
                    // SAFETY: as above.
                    let __y = unsafe { ::hpy_core::__private::arg(__cx, __a1) };
                    'op: { #value }
                    ::hpy_core::__private::not_implemented(__cx)
                },
            );
        }
    }

    // __pow__ / __rpow__ (an optional modulo) and __ipow__: the operands
    // (the third is None when there is no modulo)
    let xyz = quote! {
        // SAFETY: the runtime's arguments, open for the call.
        let __x = unsafe { ::hpy_core::__private::arg(__cx, __a0) };
        // SAFETY: as above.
        let __y = unsafe { ::hpy_core::__private::arg(__cx, __a1) };
        // SAFETY: as above.
        let __z = unsafe { ::hpy_core::__private::arg(__cx, __a2) };
    };
    if by_name.contains_key("pow") || by_name.contains_key("rpow") {
        let mut body = TokenStream::new();
        for (name, me, other) in [
            ("pow", quote!(&__x), quote!(&__y)),
            ("rpow", quote!(&__y), quote!(&__x)),
        ] {
            let Some(f) = by_name.get(name) else { continue };
            body.extend(reflected_arm(ty, f, &me, &pow_ops(f, other)?)?);
        }
        emit(
            "pow",
            "TERNARYFUNC",
            &["HPy_nb_power"],
            quote! {
                #xyz
                #body
                ::hpy_core::__private::not_implemented(__cx)
            },
        );
    }
    if let Some(f) = by_name.get("ipow") {
        let value = inplace_body(ty, f, &pow_ops(f, quote!(&__y))?)?;
        emit(
            "ipow",
            "TERNARYFUNC",
            &["HPy_nb_inplace_power"],
            quote! {
                #xyz
                'op: { #value }
                ::hpy_core::__private::not_implemented(__cx)
            },
        );
    }

    // comparisons: __richcmp__, or any of __eq__, __lt__, ...
    let cmp_prelude = quote! {
        let __opv = ::hpy_core::__private::compare_op(__op)?;
        // SAFETY: the runtime's arguments, open for the call.
        let __x = unsafe { ::hpy_core::__private::arg(__cx, __a0) };
        // SAFETY: as above.
        let __y = unsafe { ::hpy_core::__private::arg(__cx, __a1) };
    };
    let has_cmp = COMPARE.iter().any(|(n, _)| by_name.contains_key(*n));
    if by_name.contains_key("richcmp") && has_cmp {
        let f = by_name["richcmp"];
        return Err(syn::Error::new(
            f.sig.ident.span(),
            "define either `__richcmp__` or the single comparisons (`__eq__`, `__lt__`, ...), not both",
        ));
    }
    if let Some(f) = by_name.get("richcmp") {
        let m = receiver(f)?;
        let params = rust_params(f.sig.inputs.iter(), true)?;
        let args: Vec<&RustParam> = params
            .iter()
            .filter(|p| matches!(p.role, Role::Arg))
            .collect();
        if args.len() != 2 {
            return Err(syn::Error::new(
                f.sig.inputs.span(),
                "`__richcmp__` takes `&self`, the other operand and `op: CompareOp`",
            ));
        }
        // the operator is passed as it is, not converted from an object
        let other = operand(args[0], &quote!(&__y), &format_ident!("__o0"), true);
        let name = &f.sig.ident;
        let mut call_args = vec![quote!(#this)];
        for p in &params {
            match p.role {
                Role::Ctx => call_args.push(quote!(__cx)),
                Role::CtxRef => call_args.push(quote!(&__cx)),
                Role::Slf => call_args.push(quote!(&__x)),
                Role::Arg => {}
            }
        }
        call_args.insert(1, quote!(__o0));
        call_args.insert(2, quote!(__opv));
        let selfb = bind_self_if_instance(ty, &quote!(&__x), &this, m);
        let value = ret_convert(&Ret::Obj, quote!(<#ty>::#name(#(#call_args),*)));
        emit(
            "richcmp",
            "RICHCMPFUNC",
            &["HPy_tp_richcompare"],
            quote! {
                #cmp_prelude
                'op: {
                    #selfb #other
                    return #value;
                }
                ::hpy_core::__private::not_implemented(__cx)
            },
        );
    } else if has_cmp {
        let mut arms = TokenStream::new();
        for (n, variant) in COMPARE {
            let Some(f) = by_name.get(*n) else { continue };
            let m = receiver(f)?;
            let (pre, c) = call(ty, f, &quote!(#this), &quote!(&__x), &[quote!(&__y)], true)?;
            let selfb = bind_self_if_instance(ty, &quote!(&__x), &this, m);
            let value = ret_convert(&Ret::Obj, c);
            let v = format_ident!("{}", variant);
            arms.extend(quote! {
                ::hpy_core::CompareOp::#v => 'op: { #selfb #pre return #value; }
            });
        }
        emit(
            "richcmp",
            "RICHCMPFUNC",
            &["HPy_tp_richcompare"],
            quote! {
                #cmp_prelude
                #[allow(unreachable_patterns)]
                match __opv { #arms _ => {} }
                ::hpy_core::__private::not_implemented(__cx)
            },
        );
    }
    Ok(out)
}

fn names(name: &str) -> (Ident, Ident, Ident) {
    (
        format_ident!("__hpy_slot_{}", name),
        format_ident!("__HPY_SLOT_{}", name.to_uppercase()),
        format_ident!("__HpySlot_{}", name),
    )
}
