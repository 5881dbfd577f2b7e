//! Hostile loader inputs: `hpy.universal.load` given generated files (random
//! bytes, random bytes behind an ELF magic number, truncated copies of a
//! real universal extension and of the C library) or generated arguments
//! (wrong types, NULs, surrogates, missing files) always raises a Python
//! exception, and never crashes the process. A file that is a complete
//! enough copy of the real extension may load: that is the only module a
//! case may give.
//!
//! Each case runs `hpy.universal.load` (the module created by
//! `PyInit_universal`, called from Python) in a forked child of the test
//! process, so a crash is a failing case that proptest can shrink (and the
//! test process never accumulates the objects the cases load).

#![cfg(target_os = "linux")] // fork, ELF files, glibc's dlopen

use hpy_props::*;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// A small universal extension, built with `cc` from this source.
const TINY_C: &str = r#"
#include "hpy.h"
HPyDef_METH(add, "add", HPyFunc_VARARGS)
static HPy add_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    if (nargs != 2) {
        HPyErr_SetString(ctx, ctx->h_TypeError, "add() takes 2 arguments");
        return HPy_NULL;
    }
    return HPy_Add(ctx, args[0], args[1]);
}
static HPyDef *defines[] = { &add, NULL };
static HPyModuleDef moduledef = { .doc = "a test extension", .defines = defines };
HPy_MODINIT(tiny, moduledef)
"#;

struct Fixtures {
    /// Where the cases write their files.
    dir: PathBuf,
    tiny_path: PathBuf,
    tiny: Vec<u8>,
    /// The shortest prefix of `tiny` holding all its loaded segments.
    tiny_loadable: usize,
    libc: Vec<u8>,
    libc_loadable: usize,
}

/// The end of the last byte of the file that a PT_LOAD segment maps (ELF64,
/// little-endian: this machine's format).
fn loadable_end(elf: &[u8]) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!((elf[4], elf[5]), (2, 1), "an ELF64 little-endian object");
    let (phoff, phentsize, phnum) = (u64_at(32), u16_at(54), u16_at(56));
    (0..phnum)
        .map(|i| phoff + i * phentsize)
        .filter(|&p| u32::from_le_bytes(elf[p..p + 4].try_into().unwrap()) == 1)
        .map(|p| u64_at(p + 8) + u64_at(p + 32))
        .chain([phoff + phnum * phentsize])
        .max()
        .unwrap()
}

/// The file the C library of this process was loaded from.
fn libc_path() -> PathBuf {
    // SAFETY: dladdr only reads the loader's tables; `info` is an
    // out-parameter; `dli_fname` is a C string owned by the loader.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        let f: unsafe extern "C" fn(libc::size_t) -> *mut c_void = libc::malloc;
        assert_ne!(libc::dladdr(f as *const c_void, &mut info), 0);
        let name = std::ffi::CStr::from_ptr(info.dli_fname);
        PathBuf::from(name.to_str().unwrap())
    }
}

/// Removes the `loader-<pid>` directories of earlier runs (whose process
/// is gone).
fn remove_stale_dirs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("loader-")) else {
            continue;
        };
        let Ok(pid) = pid.parse::<libc::pid_t>() else {
            continue;
        };
        // SAFETY: signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_dirs(tmp);
        let dir = tmp.join(format!("loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = dir.join("tiny.c");
        std::fs::write(&src, TINY_C).unwrap();
        let tiny_path = dir.join("tiny.hpy0.so");
        let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hpy-sys/include");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = std::process::Command::new(&cc)
            .args(["-shared", "-fPIC", "-O1", "-DHPY_ABI_UNIVERSAL", "-I"])
            .arg(&include)
            .arg(&src)
            .arg("-o")
            .arg(&tiny_path)
            .status()
            .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?}: {e}"));
        assert!(status.success(), "{cc} failed to build the test extension");
        let tiny = std::fs::read(&tiny_path).unwrap();
        let libc = std::fs::read(libc_path()).unwrap();
        Fixtures {
            tiny_loadable: loadable_end(&tiny),
            libc_loadable: loadable_end(&libc),
            dir,
            tiny_path,
            tiny,
            libc,
        }
    })
}

/// Defines `universal` (the `hpy.universal` module, made once by its
/// `PyInit_universal`) and `try_load`, which describes what `load` did.
fn setup(py: Py<'_>) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // SAFETY: GIL held; module init returns a new reference or NULL.
        let m = unsafe { Obj::from_owned(py, hpy_universal::PyInit_universal()) }
            .expect("PyInit_universal");
        let g = eval(py, "globals()");
        // SAFETY: GIL held; `g` is the helpers' namespace dict.
        let rc =
            unsafe { ffi::PyDict_SetItemString(g.as_ptr(), c"universal".as_ptr(), m.as_ptr()) };
        assert_eq!(rc, 0);
        exec(
            py,
            r#"
import importlib.machinery as _machinery

def try_load(name, path, mode, spec=None):
    if spec is None:
        spec = _machinery.ModuleSpec(name if isinstance(name, str) else "x", None, origin=path)
    try:
        m = universal.load(name, path, spec, mode=mode)
    except BaseException as e:
        return f"raised {type(e).__name__}: {e}"
    return f"module {type(m).__name__} {m.__name__!r}"
"#,
        );
    });
}

/// What a generated file holds.
#[derive(Clone, Debug)]
enum Content {
    Random(Vec<u8>),
    /// `\x7fELF` and random bytes.
    ElfMagic(Vec<u8>),
    /// The first n bytes of the test extension (n < its size).
    TinyPrefix(usize),
    /// The first n bytes of the C library, n inside its loaded segments (a
    /// complete enough copy would load a second C library into the child).
    LibcPrefix(usize),
}

impl Content {
    fn bytes(&self) -> Vec<u8> {
        let f = fixtures();
        match self {
            Content::Random(b) => b.clone(),
            Content::ElfMagic(b) => [b"\x7fELF".as_slice(), b].concat(),
            Content::TinyPrefix(n) => f.tiny[..*n].to_vec(),
            Content::LibcPrefix(n) => f.libc[..*n].to_vec(),
        }
    }
}

fn content() -> impl Strategy<Value = Content> {
    let f = fixtures();
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..2048).prop_map(Content::Random),
        1 => proptest::collection::vec(any::<u8>(), 0..2048).prop_map(Content::ElfMagic),
        4 => (0..f.tiny.len()).prop_map(Content::TinyPrefix),
        2 => (0..f.libc_loadable).prop_map(Content::LibcPrefix),
    ]
}

static CASE: AtomicUsize = AtomicUsize::new(0);

/// Writes `bytes` to a new file `<stem><tag>` in a directory of its own.
fn write_case(stem: &str, tag: &str, bytes: &[u8]) -> PathBuf {
    let n = CASE.fetch_add(1, Ordering::Relaxed);
    let dir = fixtures().dir.join(format!("case{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{stem}{tag}"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn remove_case(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_dir(path.parent().unwrap());
}

/// The exception types the loader raises for a file it cannot load.
fn is_load_error(outcome: &str) -> bool {
    outcome.starts_with("raised RuntimeError: ") || outcome.starts_with("raised ImportError: ")
}

/// `hpy.universal.load(name, path, spec, mode=mode)` in a child.
fn load_in_child(py: Py<'_>, name: &str, path: &Path, mode: i32) -> Result<String, String> {
    setup(py);
    let name = str_from_code_points(py, &name.chars().map(|c| c as u32).collect::<Vec<_>>());
    let path = str_from_code_points(
        py,
        &path
            .to_str()
            .unwrap()
            .chars()
            .map(|c| c as u32)
            .collect::<Vec<_>>(),
    );
    let mode = int(py, mode.into());
    in_child(py, || {
        let r = call(py, "try_load", &[&name, &path, &mode]).expect("try_load");
        text(&r)
    })
}

/// Forks must not race another thread inside the interpreter: CPython 3.11's
/// `PyOS_AfterFork_Child` takes the runtime's thread-state lock before
/// resetting it, so a child forked while another test thread was making its
/// thread state (`PyGILState_Ensure`) hangs. Each property holds this lock
/// for its whole run: the other one waits on it, touching nothing.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs a property like `proptest!` does, holding [`SERIAL`].
fn run_serially<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}\n{runner}");
    }
}

/// Random, ELF-looking and truncated files: a RuntimeError or an
/// ImportError, never a crash; only a complete enough copy of the real
/// extension, loaded under its own name, gives a module.
#[test]
fn hostile_files_raise() {
    let strategy = (
        content(),
        prop_oneof![3 => Just("tiny".to_string()), 1 => "[a-z][a-z0-9_]{0,6}"],
        select(vec![".hpy0.so", ".hpy0.so", ".hpy0.so", ".hpy1.so", ".so"]),
        select(vec![-1, 0, 1, 2]),
    );
    run_serially(256, strategy, |(content, name, tag, mode)| {
        check_file(&content, &name, tag, mode)
    });
}

fn check_file(content: &Content, name: &str, tag: &str, mode: i32) -> Result<(), TestCaseError> {
    let f = fixtures();
    let path = write_case(name, tag, &content.bytes());
    let outcome = with_gil(|py| load_in_child(py, name, &path, mode));
    remove_case(&path);
    let outcome = outcome.map_err(TestCaseError::fail)?;
    let loadable = matches!(content, Content::TinyPrefix(n) if *n >= f.tiny_loadable)
        && name == "tiny"
        && tag == ".hpy0.so";
    if loadable && outcome.starts_with("module ") {
        prop_assert_eq!(outcome, "module module 'tiny'");
    } else {
        prop_assert!(is_load_error(&outcome), "unexpected outcome: {}", outcome);
    }
    Ok(())
}

/// Wrong arguments (types, NULs, lone surrogates, missing files,
/// directories, odd specs and modes), around the real extension: an
/// exception (never a SystemError, the sign of a C API misuse) or, for the
/// real file under its own name, a module; never a crash. (A path with a
/// NUL is cut there, as CPython's own extension loader does.)
#[test]
fn hostile_arguments_raise() {
    let strategy = (
        select(vec![
            "'tiny'",
            "'pkg.tiny'",
            "''",
            "'.'",
            "'ti\\x00ny'",
            "'tiny\\x00'",
            "'\\udcff'",
            "'t\u{fc}ny'",
            "b'tiny'",
            "None",
            "42",
            "'x' * 300",
            "'tiny-'",
        ]),
        select(vec![
            "TINY",
            "TINY + '\\x00junk'",
            "'/nonexistent/tiny.hpy0.so'",
            "''",
            "DIR",
            "'/dev/null'",
            "b'/tmp/tiny.hpy0.so'",
            "None",
            "'\\udcff.hpy0.so'",
            "3.5",
        ]),
        select(vec![
            "None",
            "object()",
            "__import__('types').SimpleNamespace(name=42)",
            "__import__('types').SimpleNamespace(name='ti\\x00ny')",
            "__import__('types').SimpleNamespace(name='\\udcff')",
        ]),
        select(vec!["-1", "0", "1", "2", "3", "2**40", "'x'", "None"]),
    );
    run_serially(256, strategy, |(name, path, spec, mode)| {
        let f = fixtures();
        let outcome = with_gil(|py| {
            setup(py);
            exec(
                py,
                &format!(
                    "TINY = {:?}\nDIR = {:?}",
                    f.tiny_path.to_str().unwrap(),
                    f.dir.to_str().unwrap()
                ),
            );
            let args = eval(py, &format!("({name}, {path}, {mode}, {spec})"));
            in_child(py, || {
                let r = call(py, "lambda a: try_load(*a)", &[&args]).expect("try_load");
                text(&r)
            })
        });
        let outcome = outcome.map_err(TestCaseError::fail)?;
        prop_assert!(!outcome.starts_with("raised SystemError"), "{}", outcome);
        if outcome.starts_with("module ") {
            prop_assert!(
                path.starts_with("TINY") && matches!(name, "'tiny'" | "'pkg.tiny'" | "'tiny\\x00'"),
                "{}",
                outcome
            );
        } else {
            prop_assert!(outcome.starts_with("raised "), "{}", outcome);
        }
        Ok(())
    });
}

/// Found by `hostile_files_raise`, shrunk to `TinyPrefix(568)` (any cut
/// inside the extension's loaded segments did it): dlopen mapped segments
/// past the end of the truncated file and the process died of SIGBUS.
/// `hpy.universal.load` now checks the segments first and raises
/// RuntimeError. Fixed in hpy-universal/src/loader.rs.
#[test]
fn regression_truncated_extension_raises() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let content = Content::TinyPrefix(568);
    let path = write_case("tiny", ".hpy0.so", &content.bytes());
    let outcome = with_gil(|py| load_in_child(py, "tiny", &path, 0));
    remove_case(&path);
    let outcome = outcome.unwrap();
    assert!(
        outcome.starts_with(
            "raised RuntimeError: Error during loading of the HPy extension module at path "
        ) && outcome.contains("The file is truncated: a loadable segment ends at byte"),
        "{outcome}"
    );
}
