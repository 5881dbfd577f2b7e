//! Declares `hpy_cpython_abi_staticlib`, set (with panic=abort) only when
//! the crate is built as the static library of `hpy.devel` (see src/lib.rs).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hpy_cpython_abi_staticlib)");
}
