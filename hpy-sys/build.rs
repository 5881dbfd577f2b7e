//! Compiles the C probe of the ABI tables (`src/generated/abi_probe.c`,
//! written by `cargo xtask gen`): every context offset, struct layout and enum
//! value of upstream 0.9.0's measured tables, checked by the C compiler
//! against our headers. Nothing is parsed or generated here.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let include = manifest.join("include");
    let probe = manifest.join("src/generated/abi_probe.c");
    println!("cargo:rerun-if-changed={}", probe.display());
    println!("cargo:rerun-if-changed={}", include.display());
    // Downstream build scripts find our headers through DEP_HPY_SYS_HEADERS_INCLUDE.
    println!("cargo:include={}", include.display());
    cc::Build::new()
        .file(&probe)
        .include(&include)
        .include(include.join("hpy/forbid_python_h"))
        .define("HPY_ABI_UNIVERSAL", None)
        .flag("-std=gnu11")
        .warnings_into_errors(true)
        .compile("hpy_sys_abi_probe");
}
