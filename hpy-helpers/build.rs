//! Compiles the C side of the helpers (`hpy-sys/runtime/*.c`: the public
//! entry points and the `va_list` cursor) and bundles it into this crate, so
//! `libhpy_helpers.a` is the complete helper library of an extension.

use std::path::PathBuf;

fn main() {
    // Set (with `-C panic=abort`) only when the crate is built as the
    // static library of `hpy.devel`: it brings its own panic handler then.
    println!("cargo::rustc-check-cfg=cfg(hpy_helpers_staticlib)");
    // The x86-64 System V ABI (not Windows' x64 one): src/va.rs reads its
    // `va_list` itself.
    println!("cargo::rustc-check-cfg=cfg(sysv_va)");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_ARCH") == "x86_64" && var("CARGO_CFG_TARGET_OS") != "windows" {
        println!("cargo::rustc-cfg=sysv_va");
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let sys = manifest.parent().unwrap().join("hpy-sys");
    let runtime = sys.join("runtime");
    let include = sys.join("include");
    println!("cargo:rerun-if-changed={}", runtime.display());
    println!("cargo:rerun-if-changed={}", include.display());

    let mut sources: Vec<PathBuf> = std::fs::read_dir(&runtime)
        .expect("hpy-sys/runtime")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    let mut build = cc::Build::new();
    build
        .include(&include)
        .include(include.join("hpy").join("forbid_python_h"))
        .define("HPY", None)
        .define("HPY_ABI_UNIVERSAL", None)
        .flag_if_supported("-std=c99")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true);
    for s in &sources {
        println!("cargo:rerun-if-changed={}", s.display());
        build.file(s);
    }
    build.compile("hpy_helpers_shim");
}
