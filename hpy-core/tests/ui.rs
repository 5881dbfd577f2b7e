//! Compile-fail tests of `#[hpy_def]`/`#[hpy_module]`: each `ui/*.rs` is a
//! mistake a user makes, and the `.stderr` next to it the message the
//! compiler must print (pointing at the user's code). The `pass` cases use
//! every feature and must compile. Bless changed messages with
//! `TRYBUILD=overwrite cargo test -p hpy-core --test ui`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_all_features.rs");
    t.pass("tests/ui/pass_no_implicit_prelude.rs");
    t.compile_fail("tests/ui/param_not_convertible.rs");
    t.compile_fail("tests/ui/return_not_convertible.rs");
    t.compile_fail("tests/ui/unknown_special_method.rs");
    t.compile_fail("tests/ui/wrong_special_signature.rs");
    t.compile_fail("tests/ui/signature_missing_param.rs");
    t.compile_fail("tests/ui/signature_leaves_out_param.rs");
    t.compile_fail("tests/ui/unsupported_special_method.rs");
    t.compile_fail("tests/ui/hpy_def_on_enum.rs");
    t.compile_fail("tests/ui/method_without_self.rs");
    t.compile_fail("tests/ui/generic_function.rs");
}
