//! Compiles `shim/varcall.c` (variadic calls through libffi) and links
//! libffi. The shim is plain C, built without coverage instrumentation: it
//! is the harness, not the code under test.

fn main() {
    println!("cargo:rerun-if-changed=shim/varcall.c");
    cc::Build::new()
        .file("shim/varcall.c")
        .warnings(true)
        .extra_warnings(true)
        .compile("fuzz_varcall");
    println!("cargo:rustc-link-lib=ffi");
}
