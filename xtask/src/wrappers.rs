//! Renders `hpy/universal/autogen_api.h`: the inline API functions that
//! extension authors call, each jumping through one context member.
//!
//! The public name follows from the member name (see `public_name`); the few
//! wrappers that differ from their member are the data tables below
//! (`PREFIXES`, `PRIVATE`, `RETURNS_NULL`, `CAPSULE_WRAPPERS`).

use crate::ctxdecl::{Member, Param};
use std::fmt::Write;

/// Prefixes that become `HPy<Prefix>_...` (otherwise a member is `HPy_...`).
const PREFIXES: &[&str] = &[
    "Long",
    "Float",
    "Bool",
    "Number",
    "Callable",
    "Err",
    "Type",
    "Bytes",
    "Unicode",
    "List",
    "Dict",
    "Tuple",
    "Import",
    "ListBuilder",
    "TupleBuilder",
    "Tracker",
    "Field",
    "Global",
    "Capsule",
    "ContextVar",
    "Slice",
    "Iter",
];

/// Members whose public name is private (leading underscore).
const PRIVATE: &[&str] = &[
    "New",
    "Dump",
    "CallRealFunctionFromTrampoline",
    "Type_GetBuiltinShape",
];

/// Wrappers that return `HPy_NULL` although the member returns void.
const RETURNS_NULL: &[&str] = &[
    "Err_SetString",
    "Err_SetObject",
    "Err_SetFromErrnoWithFilenameObjects",
    "Err_NoMemory",
];

/// Extra wrappers over one member with a fixed argument: (member, name, ret, params, call args).
const CAPSULE_WRAPPERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Capsule_Get",
        "HPyCapsule_GetPointer",
        "void *",
        "HPy capsule, const char *name",
        "capsule, HPyCapsule_key_Pointer, name",
    ),
    (
        "Capsule_Get",
        "HPyCapsule_GetName",
        "const char *",
        "HPy capsule",
        "capsule, HPyCapsule_key_Name, NULL",
    ),
    (
        "Capsule_Get",
        "HPyCapsule_GetContext",
        "void *",
        "HPy capsule",
        "capsule, HPyCapsule_key_Context, NULL",
    ),
    (
        "Capsule_Set",
        "HPyCapsule_SetPointer",
        "int",
        "HPy capsule, void *pointer",
        "capsule, HPyCapsule_key_Pointer, pointer",
    ),
    (
        "Capsule_Set",
        "HPyCapsule_SetName",
        "int",
        "HPy capsule, const char *name",
        "capsule, HPyCapsule_key_Name, (void *)name",
    ),
    (
        "Capsule_Set",
        "HPyCapsule_SetContext",
        "int",
        "HPy capsule, void *context",
        "capsule, HPyCapsule_key_Context, context",
    ),
    (
        "Capsule_Set",
        "HPyCapsule_SetDestructor",
        "int",
        "HPy capsule, HPyCapsule_Destructor *destructor",
        "capsule, HPyCapsule_key_Destructor, (void *)destructor",
    ),
];

pub fn public_name(member: &str) -> Result<String, String> {
    let x = member
        .strip_prefix("ctx_")
        .ok_or_else(|| format!("not a ctx function: {member}"))?;
    let public = match x.split_once('_') {
        Some((prefix, rest)) if PREFIXES.contains(&prefix) && !x.starts_with("AsStruct") => {
            format!("HPy{prefix}_{rest}")
        }
        _ => format!("HPy_{x}"),
    };
    if PRIVATE.contains(&x) || x.starts_with("AsStruct_") {
        Ok(format!("_{public}"))
    } else {
        Ok(public)
    }
}

fn ret_prefix(ret: &str) -> String {
    if ret.ends_with('*') {
        ret.to_string()
    } else {
        format!("{ret} ")
    }
}

fn args(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn decls(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| p.decl.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a generated wrapper finds the implementation of its member.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Universal and hybrid ABIs: through the context, `ctx->ctx_X(ctx, ...)`.
    Table,
    /// CPython ABI: a direct call of the static runtime's hidden function
    /// `_HPyRs_cpy_ctx_X(ctx, ...)` (libhpy-ctx-cpython.a), no indirection.
    Runtime,
}

/// Prefix of the static runtime's C name for member `ctx_X`: the CPython-ABI
/// headers call `_HPyRs_cpy_ctx_X` and crate hpy-cpython-abi exports it.
pub const RUNTIME_PREFIX: &str = "_HPyRs_cpy_";

impl Target {
    fn call(self, member: &str, args: &str) -> String {
        match self {
            Target::Table => format!("ctx->{member}({args})"),
            Target::Runtime => format!("{RUNTIME_PREFIX}{member}({args})"),
        }
    }
}

/// Every public name a wrapper of `members` defines (for checking the
/// hand-written list of the CPython ABI).
pub fn public_names(members: &[Member]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for m in members {
        let Member::Func { name, .. } = m else {
            continue;
        };
        names.push(public_name(name)?);
        for (member, wname, ..) in CAPSULE_WRAPPERS {
            if *member == &name[4..] {
                names.push(wname.to_string());
            }
        }
    }
    Ok(names)
}

/// `hpy/universal/autogen_api.h`.
pub fn render(members: &[Member]) -> Result<String, String> {
    let mut s = String::new();
    s.push_str(concat!(
        "/* Generated by `cargo xtask gen` from hpy/context.h: do not edit.\n",
        " *\n",
        " * The HPy API of the universal and hybrid ABIs: each function forwards to\n",
        " * one member of the context. */\n",
        "#ifndef HPY_UNIVERSAL_AUTOGEN_API_H\n#define HPY_UNIVERSAL_AUTOGEN_API_H\n\n",
    ));
    render_wrappers(&mut s, members, Target::Table, &[])?;
    s.push_str("#endif /* HPY_UNIVERSAL_AUTOGEN_API_H */\n");
    Ok(s)
}

/// `hpy/cpython/autogen_api.h`: the prototypes of the static runtime's
/// functions, then a wrapper calling each of them directly, except for the
/// names `handwritten` (hpy/cpython/api.h maps those onto Python.h itself).
pub fn render_cpython(members: &[Member], handwritten: &[String]) -> Result<String, String> {
    let mut s = String::new();
    s.push_str(concat!(
        "/* Generated by `cargo xtask gen` from hpy/context.h and the list of\n",
        " * hand-written functions in hpy/cpython/api.h: do not edit.\n",
        " *\n",
        " * The HPy API of the CPython ABI. Each context member ctx_X has one\n",
        " * implementation in the static runtime linked into every CPython-ABI\n",
        " * extension (libhpy-ctx-cpython.a), under the hidden C name _HPyRs_cpy_ctx_X;\n",
        " * the API functions call it directly, without going through the context.\n",
        " * The hottest functions are mapped onto Python.h in hpy/cpython/api.h\n",
        " * instead and are skipped here. */\n",
        "#ifndef HPY_CPYTHON_AUTOGEN_API_H\n#define HPY_CPYTHON_AUTOGEN_API_H\n\n",
        "/* the static runtime */\n",
    ));
    for m in members {
        let Member::Func { ret, name, params } = m else {
            continue;
        };
        writeln!(
            s,
            "HPyAPI_IMPL {}{RUNTIME_PREFIX}{name}({});",
            ret_prefix(ret),
            decls(params)
        )
        .unwrap();
    }
    s.push_str("\n/* the API */\n");
    render_wrappers(&mut s, members, Target::Runtime, handwritten)?;
    s.push_str("#endif /* HPY_CPYTHON_AUTOGEN_API_H */\n");
    Ok(s)
}

fn render_wrappers(
    s: &mut String,
    members: &[Member],
    target: Target,
    skip: &[String],
) -> Result<(), String> {
    let mut nfuncs = 0;
    for m in members {
        let Member::Func { ret, name, params } = m else {
            continue;
        };
        nfuncs += 1;
        let x = &name[4..];
        let public = public_name(name)?;
        let all = decls(params);
        let call = target.call(name, &args(params));
        if skip.contains(&public) {
            // defined by hand
        } else if x == "FatalError" {
            writeln!(
                s,
                "#if defined(__GNUC__) || defined(__clang__)\n__attribute__((noreturn))\n#endif"
            )
            .unwrap();
            writeln!(s, "static inline void {public}({all})\n{{\n    {call};\n    /* the member must not return; make sure of it */\n    abort();\n}}\n").unwrap();
        } else if RETURNS_NULL.contains(&x) {
            writeln!(
                s,
                "static inline HPy {public}({all})\n{{\n    {call};\n    return HPy_NULL;\n}}\n"
            )
            .unwrap();
        } else if x == "New" {
            // The caller passes any T** cast to void**; go through a real void*
            // so that the runtime never writes through a pointer of another type.
            let call = target.call(name, "ctx, h_type, &payload");
            writeln!(s, "static inline HPy {public}(HPyContext *ctx, HPy h_type, void **data)\n{{\n    void *payload = NULL;\n    HPy result = {call};\n    *data = payload;\n    return result;\n}}\n").unwrap();
        } else {
            let ret_kw = if ret == "void" { "" } else { "return " };
            writeln!(
                s,
                "static inline {}{public}({all})\n{{\n    {ret_kw}{call};\n}}\n",
                ret_prefix(ret)
            )
            .unwrap();
        }
        for (member, wname, wret, wparams, wargs) in CAPSULE_WRAPPERS {
            if *member == x && !skip.iter().any(|n| n == wname) {
                let cast = if *wret == "const char *" {
                    "(const char *)"
                } else {
                    ""
                };
                let call = target.call(name, &format!("ctx, {wargs}"));
                writeln!(s, "static inline {}{wname}(HPyContext *ctx, {wparams})\n{{\n    return {cast}{call};\n}}\n", ret_prefix(wret)).unwrap();
            }
        }
    }
    if nfuncs == 0 {
        return Err("context.h declares no functions".into());
    }
    Ok(())
}

/// The API functions `hpy/cpython/api.h` defines by hand: every line that
/// starts with `HPyAPI_FUNC` names one (the identifier before the first
/// parenthesis). Each must be a generated wrapper's name, so that a typo or a
/// renamed member is an error here rather than a duplicate definition.
pub fn handwritten_names(api_h: &str, members: &[Member]) -> Result<Vec<String>, String> {
    let known = public_names(members)?;
    let mut names = Vec::new();
    for line in api_h.lines() {
        let Some(rest) = line.strip_prefix("HPyAPI_FUNC ") else {
            continue;
        };
        let head = rest.split('(').next().unwrap_or("");
        let name = head
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("")
            .to_string();
        if !known.contains(&name) {
            return Err(format!(
                "hpy/cpython/api.h: `{name}` is not an API function derived from context.h \
                 (only those may be written by hand; use plain `static inline` for other helpers)"
            ));
        }
        if names.contains(&name) {
            return Err(format!("hpy/cpython/api.h defines `{name}` twice"));
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::{handwritten_names, public_name};
    use crate::ctxdecl::parse;

    const DECL: &str = "/* BEGIN CONTEXT MEMBERS */\n    HPy h_None;\n    HPy (*ctx_Dup)(HPyContext *ctx, HPy h);\n    void *(*ctx_Capsule_Get)(HPyContext *ctx, HPy capsule, _HPyCapsule_key key, const char *utf8_name);\n    /* END CONTEXT MEMBERS */";

    #[test]
    fn handwritten_list_comes_from_hpyapi_func_lines() {
        let members = parse(DECL).unwrap();
        let api = "static inline PyObject *_h2py(HPy h) { return 0; }\n\
                   HPyAPI_FUNC HPy HPy_Dup(HPyContext *ctx, HPy h)\n{\n}\n\
                   HPyAPI_FUNC void *HPyCapsule_GetPointer(HPyContext *ctx, HPy c, const char *n)\n";
        assert_eq!(
            handwritten_names(api, &members).unwrap(),
            ["HPy_Dup", "HPyCapsule_GetPointer"]
        );
        assert!(
            handwritten_names("HPyAPI_FUNC HPy HPy_Nope(HPyContext *ctx)\n", &members).is_err()
        );
        assert!(handwritten_names(
            "HPyAPI_FUNC HPy HPy_Dup(x)\nHPyAPI_FUNC HPy HPy_Dup(x)\n",
            &members
        )
        .is_err());
    }

    #[test]
    fn naming_rule_matches_upstream_names() {
        for (member, public) in [
            ("ctx_Dup", "HPy_Dup"),
            ("ctx_Long", "HPy_Long"),
            ("ctx_Long_AsDouble", "HPyLong_AsDouble"),
            ("ctx_Type", "HPy_Type"),
            ("ctx_TypeCheck", "HPy_TypeCheck"),
            ("ctx_Type_FromSpec", "HPyType_FromSpec"),
            ("ctx_Type_GetBuiltinShape", "_HPyType_GetBuiltinShape"),
            ("ctx_GetAttr_s", "HPy_GetAttr_s"),
            ("ctx_AsStruct_Object", "_HPy_AsStruct_Object"),
            ("ctx_New", "_HPy_New"),
            ("ctx_Compile_s", "HPy_Compile_s"),
            ("ctx_Err_SetString", "HPyErr_SetString"),
            ("ctx_Iter_Next", "HPyIter_Next"),
            (
                "ctx_CallRealFunctionFromTrampoline",
                "_HPy_CallRealFunctionFromTrampoline",
            ),
        ] {
            assert_eq!(public_name(member).unwrap(), public);
        }
    }
}
