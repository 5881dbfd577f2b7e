//! The layout asserts run at compile time (src/generated/abi_asserts.rs and the C
//! probe that build.rs compiles); these tests make sure they actually ran, and
//! check the shape of the derived member and calling-convention tables.

#[test]
fn layout_was_checked_against_the_measured_tables() {
    assert!(
        hpy_sys::c_probe_linked(),
        "the C-side ABI probe was not built"
    );
}

#[test]
fn context_has_every_member_in_order() {
    assert_eq!(hpy_sys::CTX_MEMBER_NAMES.len(), 276);
    assert_eq!(hpy_sys::CTX_FUNCTION_NAMES.len(), 189);
    assert_eq!(
        &hpy_sys::CTX_MEMBER_NAMES[..3],
        &["name", "_private", "abi_version"]
    );
    assert_eq!(hpy_sys::CTX_MEMBER_NAMES[80], "ctx_Dup");
    assert_eq!(hpy_sys::CTX_MEMBER_NAMES[275], "ctx_Slice_New");
    assert_eq!(core::mem::size_of::<hpy_sys::HPyContext>(), 276 * 8);
}

macro_rules! count_handles {
    ($(($idx:literal, $name:ident)),* $(,)?) => { [$(($idx, stringify!($name))),*] };
}

#[test]
fn handle_constants_are_the_h_members() {
    let handles = hpy_sys::for_each_ctx_handle!(count_handles);
    assert_eq!(handles.len(), 84);
    for (idx, name) in handles {
        assert_eq!(hpy_sys::CTX_MEMBER_NAMES[idx], name);
        assert!(name.starts_with("h_"));
    }
}

macro_rules! function_entries {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
        [$(($idx, stringify!($name), <[&str]>::len(&[$(stringify!($p)),*]))),*]
    };
}

#[test]
fn function_entries_match_the_declaration() {
    let funcs = hpy_sys::for_each_ctx_function!(function_entries);
    assert_eq!(funcs.len(), 189);
    for (idx, name, _) in funcs {
        assert_eq!(hpy_sys::CTX_MEMBER_NAMES[idx], name);
    }
    let call = funcs.iter().find(|f| f.1 == "ctx_Call").unwrap();
    assert_eq!(
        call.2, 4,
        "ctx_Call takes callable, args, nargs, kwnames after ctx"
    );
}

macro_rules! hpyfunc_entries {
    ($( ($sig:path, $F:ty, $S:ty, ($($conv:ident($($f:ident),+)),*) -> $res:ident) ),* $(,)?) => {
        [$(($sig, core::mem::size_of::<$S>(), stringify!($res))),*]
    };
}

#[test]
fn every_signature_is_derived_or_written_by_hand() {
    let derived = hpy_sys::for_each_hpyfunc!(hpyfunc_entries);
    // `hand` or `-` in hpyfunc.txt: dispatched without the table.
    let hand = [
        hpy_sys::HPyFunc_DESTROYFUNC,
        hpy_sys::HPyFunc_GETBUFFERPROC,
        hpy_sys::HPyFunc_RELEASEBUFFERPROC,
        hpy_sys::HPyFunc_TRAVERSEPROC,
        hpy_sys::HPyFunc_CAPSULE_DESTRUCTOR,
        hpy_sys::HPyFunc_VECTORCALLFUNC,
    ];
    for &(name, sig) in hpy_sys::ENUM_HPyFunc_Signature {
        let n = derived.iter().filter(|d| d.0 == sig).count();
        assert_eq!(n + usize::from(hand.contains(&sig)), 1, "{name}");
    }
    let mod_create = derived
        .iter()
        .find(|d| d.0 == hpy_sys::HPyFunc_MOD_CREATE)
        .unwrap();
    assert_eq!((mod_create.1, mod_create.2), (16, "module"));
}
