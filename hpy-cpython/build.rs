//! 1. The version cfgs of the target interpreter (`Py_3_9`, `Py_3_10`, ...:
//!    each set when that version or a later one is the target), for the few
//!    places where CPython's API differs between versions.
//! 2. The layout check of `src/ffi/`: a C program built against the target
//!    interpreter's headers prints every fact `src/ffi/layout.txt` lists
//!    (sizes, field offsets, constants); `$OUT_DIR/layout.rs` asserts each at
//!    compile time, so a declaration that disagrees with the headers of the
//!    version being built for does not compile. Skipped, with a warning,
//!    when the probe cannot run here (cross-compiling, no interpreter).
//!
//! The interpreter is the one pyo3-ffi's build script picks for the other
//! crates (`PYO3_PYTHON`, a config file, cross-compiling settings, else
//! `python3` on `PATH`): pyo3-build-config's resolver, called as pyo3-ffi
//! calls it. Its documented `get()` only serves direct dependents of
//! pyo3-ffi, which this crate is not (pyo3-ffi links std).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const TABLE: &str = "src/ffi/layout.txt";

use pyo3_build_config::pyo3_build_script_impl::{resolve_build_config, target_triple_from_env};
use pyo3_build_config::InterpreterConfig;

fn main() {
    let config = resolve_build_config(&target_triple_from_env())
        .expect("hpy-cpython: no Python interpreter to build for (set PYO3_PYTHON)")
        .interpreter_config;
    pyo3_build_config::print_expected_cfgs();
    for line in config.build_script_outputs() {
        println!("{line}");
    }
    println!("cargo:rerun-if-changed={TABLE}");
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let asserts = match probe(&config, &out) {
        Ok(asserts) => asserts,
        Err(why) => {
            println!("cargo:warning=hpy-cpython: CPython layouts not checked: {why}");
            String::from("// not checked: see the build's warning\n")
        }
    };
    std::fs::write(out.join("layout.rs"), asserts).unwrap();
}

/// One row of the table that applies to the target version.
enum Fact {
    Size(String),
    Offset {
        ty: String,
        field: String,
        c_field: String,
    },
    Const {
        name: String,
        c_expr: String,
    },
}

impl Fact {
    fn c_expr(&self) -> String {
        match self {
            Fact::Size(ty) => format!("sizeof({ty})"),
            Fact::Offset { ty, c_field, .. } => format!("offsetof({ty}, {c_field})"),
            Fact::Const { c_expr, .. } => format!("({c_expr})"),
        }
    }

    fn rust_assert(&self, value: u64) -> String {
        let (expr, what) = match self {
            Fact::Size(ty) => (format!("size_of::<{ty}>()"), format!("sizeof({ty})")),
            Fact::Offset { ty, field, c_field } => (
                format!("offset_of!({ty}, {field})"),
                format!("offsetof({ty}, {c_field})"),
            ),
            Fact::Const { name, c_expr } => (name.clone(), c_expr.clone()),
        };
        format!(
            "const _: () = assert!({expr} as u64 == {value}, \"{what} is {value} in the target interpreter's headers\");\n"
        )
    }
}

/// The rows of the table for Python 3.`minor`.
fn facts(table: &str, minor: u8) -> Result<Vec<Fact>, String> {
    let mut out = Vec::new();
    for (n, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words: Vec<&str> = line.split_whitespace().collect();
        if let Some(cond) = words.last().and_then(|w| w.strip_prefix("py")) {
            let (ge, v) = match (cond.strip_prefix(">="), cond.strip_prefix('<')) {
                (Some(v), _) => (true, v),
                (_, Some(v)) => (false, v),
                _ => return Err(format!("{TABLE}:{}: bad condition {cond}", n + 1)),
            };
            let want: u8 = v.strip_prefix("3.").and_then(|m| m.parse().ok()).ok_or(v)?;
            words.pop();
            if (minor >= want) != ge {
                continue;
            }
        }
        let split = |w: &str| match w.split_once('=') {
            Some((a, b)) => (a.to_owned(), b.to_owned()),
            None => (w.to_owned(), w.to_owned()),
        };
        out.push(match words[..] {
            ["size", ty] => Fact::Size(ty.to_owned()),
            ["offset", ty, field] => {
                let (field, c_field) = split(field);
                Fact::Offset {
                    ty: ty.to_owned(),
                    field,
                    c_field,
                }
            }
            ["const", name] => {
                let (name, c_expr) = split(name);
                Fact::Const { name, c_expr }
            }
            _ => return Err(format!("{TABLE}:{}: cannot read {line:?}", n + 1)),
        });
    }
    Ok(out)
}

/// Builds and runs the probe; the asserts for `layout.rs`.
fn probe(config: &InterpreterConfig, out: &Path) -> Result<String, String> {
    if std::env::var("HOST") != std::env::var("TARGET") {
        return Err("cross-compiling (the probe runs on the build machine)".into());
    }
    let include = config
        .run_python_script("import sysconfig; print(sysconfig.get_paths()['include'])")
        .map_err(|e| format!("no include directory from the interpreter: {e}"))?;
    let minor = config.version().minor;
    let table = std::fs::read_to_string(TABLE).map_err(|e| e.to_string())?;
    let facts = facts(&table, minor)?;

    // The old names that the table's rows spell out (`T_PYSSIZET`,
    // `READONLY`) live in structmember.h on every version.
    let mut c = String::from(
        "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n#include <structmember.h>\n\
         #include <stddef.h>\n#include <stdio.h>\nint main(void) {\n",
    );
    for f in &facts {
        writeln!(
            c,
            "    printf(\"%llu\\n\", (unsigned long long){});",
            f.c_expr()
        )
        .unwrap();
    }
    c.push_str("    return 0;\n}\n");
    let src = out.join("layout_probe.c");
    let exe = out.join("layout_probe");
    std::fs::write(&src, c).map_err(|e| e.to_string())?;

    let compiler = cc::Build::new().cargo_metadata(false).get_compiler();
    let status = compiler
        .to_command()
        .arg("-I")
        .arg(include.trim())
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status()
        .map_err(|e| format!("cannot run the C compiler: {e}"))?;
    if !status.success() {
        // Not a warning: a probe that does not compile means the table
        // names something the headers lack.
        panic!(
            "the CPython layout probe {} does not compile",
            src.display()
        );
    }
    let run = Command::new(&exe)
        .output()
        .map_err(|e| format!("cannot run the probe: {e}"))?;
    let text = String::from_utf8(run.stdout).map_err(|e| e.to_string())?;
    let values: Vec<u64> = text.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(
        values.len(),
        facts.len(),
        "the probe printed one value per row"
    );
    let mut rs = format!("// Generated by build.rs from {TABLE} for CPython 3.{minor}.\n");
    for (f, v) in facts.iter().zip(values) {
        rs.push_str(&f.rust_assert(v));
    }
    Ok(rs)
}
