//! Declares `hpy_cpython_abi_staticlib`, set (with panic=abort) only when
//! the crate is built as the static library of `hpy.devel` (see src/lib.rs).
//!
//! Links libpython, as an embedding program must, unless the feature
//! `extension-module` says the library ends up in an extension module,
//! which the running interpreter provides the symbols to.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hpy_cpython_abi_staticlib)");
    if std::env::var_os("CARGO_FEATURE_EXTENSION_MODULE").is_some() {
        return;
    }
    // the interpreter hpy-cpython's build.rs (and pyo3-ffi's) resolves
    let target = pyo3_build_config::pyo3_build_script_impl::target_triple_from_env();
    let config = pyo3_build_config::pyo3_build_script_impl::resolve_build_config(&target)
        .expect("hpy-cpython-abi: no Python interpreter to link (set PYO3_PYTHON)")
        .interpreter_config;
    if let Some(dir) = config.lib_dir() {
        println!("cargo:rustc-link-search=native={dir}");
    }
    if let Some(name) = config.lib_name() {
        let kind = if config.shared() { "" } else { "static=" };
        println!("cargo:rustc-link-lib={kind}{name}");
    }
}
