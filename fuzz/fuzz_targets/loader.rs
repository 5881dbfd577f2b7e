//! What hpy-universal's loader reads itself before it hands a file to
//! dlopen (hpy-universal/src/loader.rs): the module name
//! (`ext_name`: the C identifier part) and the ELF headers
//! (`check_segments_in_file`: program headers and loadable segments must
//! lie within the file, or dlopen would map pages past its end and the
//! first touch would kill the process with SIGBUS).
//!
//! Not dlopen itself: the system loader trusts ELF files (a malformed one
//! can crash it, and a well-formed one runs its constructors and IFUNC
//! resolvers), so fuzzing it in process would report glibc's behaviour or
//! run arbitrary code, not test ours. hpy-props/tests/loader.rs drives the
//! whole `hpy.universal.load` with generated and truncated files in forked
//! children.
//!
//! Input: a flags byte (the name is a `str` or another object), the name up
//! to a NUL, then the file's bytes.
//!
//! Checks: a name gives an ASCII identifier part without `.` or `-`, or a
//! Python exception; a file is accepted or refused as truncated with the
//! file's true size and an end beyond it.

#![no_main]

use hpy_rs_fuzz::input::Input;
use hpy_rs_fuzz::py::{self, Objects};
use hpy_universal::loader::{check_segments_in_file, ext_name};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::LazyLock;

/// This process's scratch file (in memory where /dev/shm exists).
static FILE: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = ["/dev/shm", "/tmp"]
        .into_iter()
        .map(PathBuf::from)
        .find(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("hpy-fuzz-loader-{}.hpy0.so", std::process::id()))
});

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    py::ctx();
    let mut input = Input::new(data);
    let flags = input.u8();
    let name_bytes = input.until_nul();
    let mut objs = Objects::default();
    let name = if flags & 1 == 0 {
        objs.str_from(name_bytes)
    } else {
        objs.value(&mut Input::new(name_bytes), 0)
    };
    // SAFETY: GIL held (py::ctx); `name` is a live object.
    match unsafe { ext_name(name) } {
        Some(short) => {
            assert!(!py::err_pending());
            assert!(short.is_ascii() && !short.contains(['.', '-']), "{short:?}");
        }
        None => assert!(py::take_err().is_some(), "no name and no exception"),
    }

    let contents = input.bytes(usize::MAX);
    std::fs::write(&*FILE, contents).expect("writing the scratch file");
    if let Err(why) = check_segments_in_file(&FILE) {
        let numbers: Vec<u64> = why
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        let [end, size] = numbers[..] else {
            panic!("unexpected message {why:?}");
        };
        assert!(why.starts_with("The file is truncated: "), "{why:?}");
        assert_eq!(size, contents.len() as u64, "{why:?}");
        assert!(end > size, "{why:?}");
    }
}
