//! Derives the Rust-side description of the HPy context from the committed
//! bindgen output (`src/bindings.rs`, itself generated from `hpy/context.h`):
//!
//! - `ctx_members.rs`: X-macros `for_each_ctx_function!`, `for_each_ctx_handle!`
//!   and `with_ctx_function!` that the universal table, the debug wrappers and
//!   the trace wrappers expand, plus the member names in order;
//! - `abi_asserts.rs` and a C probe: compile-time checks that every context
//!   member, struct field and enum value sits where upstream HPy 0.9.0's
//!   measured ABI tables (`abi/*.tsv` in this crate) say.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let bindings_path = manifest.join("src/bindings.rs");
    println!("cargo:rerun-if-changed={}", bindings_path.display());
    // Downstream build scripts find our headers through DEP_HPY_SYS_HEADERS_INCLUDE.
    println!("cargo:include={}", manifest.join("include").display());

    let bindings = std::fs::read_to_string(&bindings_path).expect("read src/bindings.rs");
    let members = context_members(&bindings);
    let mut generated = render_members(&members);
    generated.push_str(&render_enum_tables(&bindings));
    std::fs::write(out.join("ctx_members.rs"), generated).unwrap();

    let abi_dir = manifest.join("abi");
    for f in ["context.tsv", "structs.tsv", "enums.tsv"] {
        println!("cargo:rerun-if-changed={}", abi_dir.join(f).display());
    }
    let asserts = abi_asserts(&abi_dir, &bindings, &members);
    c_probe(&abi_dir, &manifest, &out);
    std::fs::write(out.join("abi_asserts.rs"), asserts).unwrap();
}

/// A context member as bindgen sees it.
struct CtxMember {
    name: String,
    /// `Some((params without ctx, return type))` for function members.
    func: Option<(Vec<(String, String)>, String)>,
}

fn context_members(bindings: &str) -> Vec<CtxMember> {
    let start = bindings
        .find("pub struct _HPyContext_s {")
        .expect("bindings.rs has no struct _HPyContext_s");
    let body_start = start + bindings[start..].find('{').unwrap() + 1;
    let body_end = body_start + bindings[body_start..].find("\n}").unwrap();
    split_top(&bindings[body_start..body_end], ',')
        .into_iter()
        .filter(|f| !f.trim().is_empty())
        .map(|field| {
            let field = field.trim().strip_prefix("pub ").expect("public field");
            let (name, ty) = field.split_once(':').unwrap();
            let ty = squash(ty);
            let func = ty
                .strip_prefix("::core::option::Option<unsafe extern \"C\" fn(")
                .map(|rest| {
                    let rest = rest.strip_suffix('>').unwrap().trim();
                    let close = matching_paren(rest);
                    let params = split_top(&rest[..close], ',')
                        .into_iter()
                        .filter(|p| !p.trim().is_empty())
                        .skip(1) // the ctx
                        .map(|p| {
                            let (n, t) = p.split_once(':').unwrap();
                            let t = t.trim().trim_end_matches(',');
                            (n.trim().to_string(), t.trim().to_string())
                        })
                        .collect();
                    let ret = rest[close + 1..].trim();
                    let ret = ret.strip_prefix("->").map(str::trim).unwrap_or("()");
                    let ret = ret.trim_end_matches(',').trim();
                    (params, ret.to_string())
                });
            CtxMember {
                name: name.trim().to_string(),
                func,
            }
        })
        .collect()
}

fn squash(s: &str) -> String {
    let mut out = String::new();
    for w in s.split_whitespace() {
        let joins = out.ends_with(['(', '<']) || w.starts_with([')', '>', ',']);
        if !out.is_empty() && !joins {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.trim_end_matches(',').to_string()
}

/// Index of the `)` closing the parameter list that `s` starts inside of.
fn matching_paren(s: &str) -> usize {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' if depth > 0 => depth -= 1,
            ')' => return i,
            _ => {}
        }
    }
    panic!("unbalanced parameter list: {s}");
}

fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '>' if prev != '-' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            parts.push(String::new());
        } else {
            parts.last_mut().unwrap().push(c);
        }
        prev = c;
    }
    parts
}

/// Qualifies the bare type names of a bindgen type with `$crate::`.
fn qualify(ty: &str) -> String {
    const KEEP: &[&str] = &[
        "mut", "const", "unsafe", "extern", "fn", "i8", "u8", "i16", "u16", "i32", "u32", "i64",
        "u64", "isize", "usize", "f32", "f64", "bool", "char",
    ];
    let mut out = String::new();
    let mut word = String::new();
    let mut after_path = false;
    let flush = |word: &mut String, out: &mut String, after_path: bool| {
        if !word.is_empty() {
            if !after_path && !KEEP.contains(&word.as_str()) {
                out.push_str("$crate::");
            }
            out.push_str(word);
            word.clear();
        }
    };
    let mut in_str = false;
    for c in ty.chars() {
        if c == '"' {
            in_str = !in_str;
        }
        if !in_str && (c.is_ascii_alphanumeric() || c == '_') {
            word.push(c);
        } else {
            flush(&mut word, &mut out, after_path);
            after_path = c == ':';
            out.push(c);
        }
    }
    flush(&mut word, &mut out, after_path);
    out
}

fn render_members(members: &[CtxMember]) -> String {
    let mut funcs = String::new();
    let mut lookup = String::new();
    let mut handles = String::new();
    for (i, m) in members.iter().enumerate() {
        match &m.func {
            Some((params, ret)) => {
                let ps: Vec<String> = params
                    .iter()
                    .map(|(n, t)| format!("{n}: {}", qualify(t)))
                    .collect();
                let entry = format!("({i}, {}, ({}) -> {})", m.name, ps.join(", "), qualify(ret));
                writeln!(funcs, "            {entry},").unwrap();
                writeln!(
                    lookup,
                    "    ({} $(, $m:ident)+) => {{ $( $m! {{ {entry} }} )+ }};",
                    m.name
                )
                .unwrap();
            }
            None if m.name.starts_with("h_") => {
                writeln!(handles, "            ({i}, {}),", m.name).unwrap();
            }
            None => {}
        }
    }
    let names: Vec<String> = members.iter().map(|m| format!("{:?}", m.name)).collect();
    let nfuncs = members.iter().filter(|m| m.func.is_some()).count();
    let func_names: Vec<String> = members
        .iter()
        .filter(|m| m.func.is_some())
        .map(|m| format!("{:?}", m.name))
        .collect();
    format!(
        "// Generated by hpy-sys/build.rs from src/bindings.rs: do not edit.\n\n\
         /// Calls `$m!` once with every function member of the context, in order, as\n\
         /// `(index, name, (param: Type, ...) -> Ret)` entries (the leading ctx\n\
         /// parameter is left out; every implementation takes it first).\n\
         #[macro_export]\n\
         macro_rules! for_each_ctx_function {{\n    ($m:ident) => {{\n        $m! {{\n{funcs}        }}\n    }};\n}}\n\n\
         /// Calls `$m!` once with every handle constant of the context as `(index, name)`.\n\
         #[macro_export]\n\
         macro_rules! for_each_ctx_handle {{\n    ($m:ident) => {{\n        $m! {{\n{handles}        }}\n    }};\n}}\n\n\
         /// `with_ctx_function!(ctx_X, m1, m2)` calls each macro with the one entry of `ctx_X`.\n\
         #[macro_export]\n\
         macro_rules! with_ctx_function {{\n{lookup}}}\n\n\
         /// The names of all context members, indexed like the struct.\n\
         pub const CTX_MEMBER_NAMES: [&str; {}] = [{}];\n\n\
         /// The names of the function members, in order.\n\
         pub const CTX_FUNCTION_NAMES: [&str; {nfuncs}] = [{}];\n",
        names.len(),
        names.join(", "),
        func_names.join(", "),
    )
}

/// The enums whose complete list of values the runtime needs (to reject an
/// unknown value in an extension's definitions with a clear error).
const ENUM_TABLES: &[&str] = &[
    "HPySlot_Slot",
    "HPyMember_FieldType",
    "HPyType_SpecParam_Kind",
    "HPyFunc_Signature",
];

/// `pub const ENUM_<Type>: &[(&str, <Type>)]` for each of ENUM_TABLES, from
/// the `pub const NAME: Type = value;` lines bindgen wrote.
fn render_enum_tables(bindings: &str) -> String {
    let mut out = String::new();
    for ty in ENUM_TABLES {
        let mut entries = Vec::new();
        for line in bindings.lines() {
            let Some(rest) = line.trim().strip_prefix("pub const ") else {
                continue;
            };
            let Some((name, rest)) = rest.split_once(": ") else {
                continue;
            };
            let Some(value) = rest.strip_prefix(&format!("{ty} = ")) else {
                continue;
            };
            let value = value.trim_end_matches(';');
            entries.push(format!("({name:?}, {value})"));
        }
        assert!(!entries.is_empty(), "no values of enum {ty} in bindings.rs");
        writeln!(
            out,
            "\n/// Every value of `{ty}` with its C name.\npub const ENUM_{ty}: &[(&str, {ty})] = &[{}];",
            entries.join(", ")
        )
        .unwrap();
    }
    out
}

fn tsv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with("# ") && !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split('\t')
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();
    (header, rows)
}

fn col<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    row.get(i).map(String::as_str).unwrap_or("")
}

fn abi_asserts(dir: &Path, bindings: &str, members: &[CtxMember]) -> String {
    let mut s = String::from("// Generated by hpy-sys/build.rs from the measured ABI tables.\n");
    let (h, rows) = tsv_rows(&dir.join("context.tsv"));
    assert_eq!(
        rows.len(),
        members.len(),
        "context.tsv and context.h disagree on the member count"
    );
    for (row, m) in rows.iter().zip(members) {
        let name = col(&h, row, "name");
        assert_eq!(
            name, m.name,
            "context member order differs from context.tsv"
        );
        writeln!(
            s,
            "const _: () = assert!(::core::mem::offset_of!(HPyContext, {name}) == {});",
            col(&h, row, "byte_offset")
        )
        .unwrap();
        let size = col(&h, row, "size");
        let kind = col(&h, row, "kind");
        if kind != "func" {
            writeln!(
                s,
                "const _: () = assert!(size_of_field(|c: &HPyContext| &c.{name}) == {size});"
            )
            .unwrap();
        }
    }
    let (h, rows) = tsv_rows(&dir.join("structs.tsv"));
    let mut sized = std::collections::BTreeSet::new();
    for row in &rows {
        let record = col(&h, row, "record");
        let name = col(&h, row, "name");
        if !matches!(record, "struct" | "typedef") || !bindings.contains(&format!(" {name}")) {
            continue;
        }
        let field = col(&h, row, "field");
        if record == "struct" && !field.is_empty() && !field.contains('(') {
            // bindgen renames fields that are Rust keywords by appending `_`.
            let field = if matches!(field, "impl" | "type" | "self" | "ref" | "fn" | "mod") {
                format!("{field}_")
            } else {
                field.to_string()
            };
            writeln!(
                s,
                "const _: () = assert!(::core::mem::offset_of!({name}, {field}) == {});",
                col(&h, row, "offset")
            )
            .unwrap();
        }
        let size = col(&h, row, "sizeof");
        if !size.is_empty() && sized.insert(name.to_string()) {
            writeln!(
                s,
                "const _: () = assert!(::core::mem::size_of::<{name}>() == {size});"
            )
            .unwrap();
            let align = col(&h, row, "alignof");
            if !align.is_empty() {
                writeln!(
                    s,
                    "const _: () = assert!(::core::mem::align_of::<{name}>() == {align});"
                )
                .unwrap();
            }
        }
    }
    let (h, rows) = tsv_rows(&dir.join("enums.tsv"));
    let first = h[0].clone();
    for row in &rows {
        let owner = col(&h, row, &first);
        let name = col(&h, row, "name");
        let value = col(&h, row, "value");
        let is_enum = !owner.starts_with('#')
            && !owner.contains(' ')
            && owner != "CPython"
            && value.parse::<i64>().is_ok();
        let is_define = owner == "#define" && value.parse::<i64>().is_ok();
        if !(is_enum || is_define) {
            continue;
        }
        let declared = bindings.contains(&format!("pub const {name}:"));
        if is_enum && !declared {
            panic!("enumerator {name} of {owner} is missing from the bindings");
        }
        if declared {
            writeln!(s, "const _: () = assert!({name} as i128 == {value});").unwrap();
        }
    }
    s
}

/// The same layout facts, checked by the C compiler against the headers.
fn c_probe(dir: &Path, manifest: &Path, out: &Path) {
    let mut c = String::from(
        "/* Generated by hpy-sys/build.rs: the ABI tables, checked from C. */\n\
         #include <stddef.h>\n#include \"hpy.h\"\n#define CHECK(e) _Static_assert(e, #e)\n",
    );
    let (h, rows) = tsv_rows(&dir.join("context.tsv"));
    for row in &rows {
        writeln!(
            c,
            "CHECK(offsetof(struct _HPyContext_s, {}) == {});",
            col(&h, row, "name"),
            col(&h, row, "byte_offset")
        )
        .unwrap();
    }
    let (h, rows) = tsv_rows(&dir.join("structs.tsv"));
    for row in &rows {
        let (record, name, field) = (
            col(&h, row, "record"),
            col(&h, row, "name"),
            col(&h, row, "field"),
        );
        if record != "struct" {
            continue;
        }
        let field = field.trim_start_matches("(anonymous union).");
        if !field.is_empty() {
            writeln!(
                c,
                "CHECK(offsetof({name}, {field}) == {});",
                col(&h, row, "offset")
            )
            .unwrap();
        }
        writeln!(c, "CHECK(sizeof({name}) == {});", col(&h, row, "sizeof")).unwrap();
    }
    c.push_str("int hpy_sys_abi_probe_compiled(void) { return 1; }\n");
    let path = out.join("abi_probe.c");
    std::fs::write(&path, c).unwrap();
    cc::Build::new()
        .file(&path)
        .include(manifest.join("include"))
        .include(manifest.join("include/hpy/forbid_python_h"))
        .define("HPY_ABI_UNIVERSAL", None)
        .flag("-std=gnu11")
        .warnings_into_errors(true)
        .compile("hpy_sys_abi_probe");
}
