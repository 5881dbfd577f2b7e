//! What the property tests of `tests/` share: their proptest configuration,
//! the embedded interpreter (a GIL token, owned object references, the
//! pending exception as a value) and calls through a context table.
//!
//! This crate has no other use: see README.md for the properties.

use proptest::test_runner::Config;
use std::ffi::{c_char, CStr, CString};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, Ordering};

pub use hpy_sys::{HPy, HPyContext, HPy_NULL};
pub use pyo3_ffi as ffi;

/// The proptest configuration of a property: `cases` cases (sized for CI),
/// unless the `PROPTEST_CASES` environment variable is set, which then wins
/// (as do the other `PROPTEST_*` variables proptest reads, e.g.
/// `PROPTEST_RNG_SEED`). `Config::with_cases(n)` would ignore the variable:
/// only `Config::default()` reads it. Failures are not persisted to files:
/// each shrunk failure becomes a plain `#[test]` next to its property.
pub fn config(cases: u32) -> Config {
    let base = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_some() {
        base
    } else {
        Config { cases, ..base }
    }
}

/// Proof that the GIL is held, for as long as `'py` (see [`with_gil`]).
#[derive(Clone, Copy)]
pub struct Py<'py>(PhantomData<(&'py (), *const ())>);

/// Runs `f` with the GIL held, in the embedded interpreter (initialised on
/// first use by `hpy_cpython::embed`). Unlike `embed::with_gil`, the GIL is
/// released even if `f` panics (proptest catches the panic of a failing case
/// and goes on shrinking, while the other properties' threads wait for the
/// GIL), and an exception the panic left pending is cleared.
pub fn with_gil<R>(f: impl for<'py> FnOnce(Py<'py>) -> R) -> R {
    struct Release(ffi::PyGILState_STATE);
    impl Drop for Release {
        fn drop(&mut self) {
            // SAFETY: pairs the Ensure below, on the same thread.
            unsafe {
                if std::thread::panicking() {
                    ffi::PyErr_Clear();
                }
                ffi::PyGILState_Release(self.0)
            }
        }
    }
    // Initialises the interpreter, once.
    hpy_cpython::embed::with_gil(|| ());
    // SAFETY: the interpreter is initialised; released by the guard.
    let _gil = Release(unsafe { ffi::PyGILState_Ensure() });
    f(Py(PhantomData))
}

/// The universal context (built on first use).
pub fn universal_ctx(_py: Py<'_>) -> *mut HPyContext {
    hpy_universal::universal_ctx()
}

/// The debug context wrapping the universal one (built on first use).
pub fn debug_ctx(py: Py<'_>) -> *mut HPyContext {
    let u = universal_ctx(py);
    // SAFETY: the GIL is held (`py`); the universal context lives forever.
    unsafe { hpy_debug::debug_ctx(u) }
}

/// Calls a member of a context table through its function pointer, as an
/// extension does: `ctx_call!(ctx, ctx_Long_AsInt32_t, h)`. The GIL must be
/// held, and the arguments be what the member's C signature asks for (open
/// handles, valid pointers): the macro cannot check that. (The arguments
/// are evaluated first, outside the unsafe call.)
#[macro_export]
macro_rules! ctx_call {
    ($ctx:expr, $member:ident $(, $arg:expr)* $(,)?) => {
        $crate::__ctx_call!([$ctx, $member] [] $($arg,)*)
    };
}

/// `ctx_call!`'s steps: binds each argument to a variable, then calls.
#[doc(hidden)]
#[macro_export]
macro_rules! __ctx_call {
    ([$ctx:expr, $member:ident] [$($bound:ident)*] $arg:expr, $($rest:expr,)*) => {{
        let arg = $arg;
        $crate::__ctx_call!([$ctx, $member] [$($bound)* arg] $($rest,)*)
    }};
    ([$ctx:expr, $member:ident] [$($bound:ident)*]) => {{
        let ctx: *mut $crate::HPyContext = $ctx;
        let f = $crate::ctx_member!(ctx, $member);
        // SAFETY: `ctx` is a live, fully initialised context; the caller
        // holds the GIL and passes the arguments the C signature requires.
        unsafe { f(ctx $(, $bound)*) }
    }};
}

/// The function pointer of a context member (panics on a NULL slot).
#[macro_export]
macro_rules! ctx_member {
    ($ctx:expr, $member:ident) => {{
        let ctx: *mut $crate::HPyContext = $ctx;
        // SAFETY: `ctx` points to a live context (the callers only pass the
        // universal or debug context, which are never freed).
        unsafe { (*ctx).$member }.expect(concat!(
            "context member ",
            stringify!($member),
            " is NULL"
        ))
    }};
}

/// A Python exception, taken out of the interpreter: its type's name and
/// `str()` of its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyErr {
    pub ty: String,
    pub msg: String,
}

impl std::fmt::Display for PyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.ty, self.msg)
    }
}

/// A result value, or the exception a call left pending.
pub type Outcome<T> = Result<T, PyErr>;

/// Takes the pending exception, if any (and clears it).
#[allow(deprecated)] // PyErr_Fetch: the replacement is 3.12+ only
pub fn take_err(py: Py<'_>) -> Option<PyErr> {
    let (mut t, mut v, mut tb) = (
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    );
    // SAFETY: GIL held; Fetch hands over three new references (or NULLs),
    // all released below.
    unsafe {
        if ffi::PyErr_Occurred().is_null() {
            return None;
        }
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        ffi::PyErr_NormalizeException(&mut t, &mut v, &mut tb);
        let ty = type_name_of_type(t);
        let msg = if v.is_null() {
            String::new()
        } else {
            let s = ffi::PyObject_Str(v);
            if s.is_null() {
                ffi::PyErr_Clear();
                "<str() failed>".to_string()
            } else {
                str_of(py, s)
            }
        };
        ffi::Py_XDECREF(t);
        ffi::Py_XDECREF(v);
        ffi::Py_XDECREF(tb);
        Some(PyErr { ty, msg })
    }
}

/// Panics if an exception is pending (a call that succeeded must not leave
/// one behind).
pub fn assert_no_err(py: Py<'_>, what: &str) {
    if let Some(e) = take_err(py) {
        panic!("{what}: exception left pending: {e}");
    }
}

/// # Safety
/// GIL held; `t` NULL or a type object.
unsafe fn type_name_of_type(t: *mut ffi::PyObject) -> String {
    if t.is_null() {
        return "<NULL>".into();
    }
    // SAFETY: forwarded contract; `tp_name` is a C string.
    unsafe {
        CStr::from_ptr((*(t as *mut ffi::PyTypeObject)).tp_name)
            .to_string_lossy()
            .into_owned()
    }
}

/// The Rust string of a `str` object, consuming the reference; lone
/// surrogates are escaped (`\udXXX`) so that any str has a faithful text.
///
/// # Safety
/// GIL held; `s` is an owned reference to a str.
unsafe fn str_of(py: Py<'_>, s: *mut ffi::PyObject) -> String {
    // SAFETY: forwarded contract.
    let s = unsafe { Obj::from_owned(py, s) }.expect("str_of: NULL");
    code_points(&s)
        .into_iter()
        .map(|c| match char::from_u32(c) {
            Some(ch) => ch.to_string(),
            None => format!("\\u{c:04x}"),
        })
        .collect()
}

/// An owned reference to a Python object, released on drop (the GIL is
/// held for all of `'py`).
pub struct Obj<'py> {
    ptr: NonNull<ffi::PyObject>,
    _py: Py<'py>,
}

impl<'py> Obj<'py> {
    /// Takes ownership of a new reference; NULL gives the pending exception.
    ///
    /// # Safety
    /// `p` is NULL or a new (owned) reference.
    pub unsafe fn from_owned(py: Py<'py>, p: *mut ffi::PyObject) -> Outcome<Obj<'py>> {
        match NonNull::new(p) {
            Some(ptr) => Ok(Obj { ptr, _py: py }),
            None => Err(take_err(py).unwrap_or(PyErr {
                ty: "<no exception>".into(),
                msg: "NULL returned without an exception set".into(),
            })),
        }
    }

    /// A new reference to a borrowed object.
    ///
    /// # Safety
    /// `p` is a live object.
    pub unsafe fn borrowed(py: Py<'py>, p: *mut ffi::PyObject) -> Obj<'py> {
        // SAFETY: forwarded contract; GIL held.
        unsafe { ffi::Py_INCREF(p) };
        Obj {
            ptr: NonNull::new(p).expect("Obj::borrowed: NULL"),
            _py: py,
        }
    }

    pub fn as_ptr(&self) -> *mut ffi::PyObject {
        self.ptr.as_ptr()
    }

    /// Gives up ownership: the reference is the caller's.
    pub fn into_ptr(self) -> *mut ffi::PyObject {
        let p = self.as_ptr();
        std::mem::forget(self);
        p
    }

    pub fn py(&self) -> Py<'py> {
        self._py
    }
}

impl Clone for Obj<'_> {
    fn clone(&self) -> Self {
        // SAFETY: GIL held for 'py; the object is alive (we own a reference).
        unsafe { Obj::borrowed(self._py, self.as_ptr()) }
    }
}

impl Drop for Obj<'_> {
    fn drop(&mut self) {
        // SAFETY: GIL held for 'py; releases the reference we own.
        unsafe { ffi::Py_DECREF(self.as_ptr()) }
    }
}

impl std::fmt::Debug for Obj<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&describe(self))
    }
}

/// The dictionary the helpers' Python code runs in (made on first use,
/// with the helper classes of [`PRELUDE`]).
fn globals(py: Py<'_>) -> *mut ffi::PyObject {
    static GLOBALS: AtomicPtr<ffi::PyObject> = AtomicPtr::new(std::ptr::null_mut());
    let g = GLOBALS.load(Ordering::Acquire);
    if !g.is_null() {
        return g;
    }
    // SAFETY: GIL held (which also serialises this first initialisation);
    // the dictionary is kept for the process lifetime.
    let g = unsafe {
        let g = ffi::PyDict_New();
        assert!(!g.is_null());
        let rc = ffi::PyDict_SetItemString(g, c"__builtins__".as_ptr(), ffi::PyEval_GetBuiltins());
        assert_eq!(rc, 0);
        g
    };
    GLOBALS.store(g, Ordering::Release);
    exec(py, PRELUDE);
    g
}

/// Python helpers the properties build their inputs with.
pub const PRELUDE: &str = r#"
class Idx:
    "an object with __index__"
    def __init__(self, v): self.v = v
    def __index__(self): return self.v
    def __repr__(self): return f"Idx({self.v!r})"

class BadIdx:
    "an __index__ that raises"
    def __index__(self): raise ValueError("BadIdx.__index__ raised")
    def __repr__(self): return "BadIdx()"

class Flt:
    "an object with __float__"
    def __init__(self, v): self.v = v
    def __float__(self): return self.v
    def __repr__(self): return f"Flt({self.v!r})"

class IntSub(int):
    pass

class FloatSub(float):
    pass

class StrSub(str):
    pass

class BytesSub(bytes):
    pass
"#;

/// Runs Python statements in the helpers' namespace (panics on an error).
pub fn exec(py: Py<'_>, src: &str) {
    run(py, src, ffi::Py_file_input).unwrap_or_else(|e| panic!("exec failed: {e}\n{src}"));
}

/// Evaluates a Python expression in the helpers' namespace.
pub fn eval<'py>(py: Py<'py>, src: &str) -> Obj<'py> {
    run(py, src, ffi::Py_eval_input).unwrap_or_else(|e| panic!("eval failed: {e}\n{src}"))
}

fn run<'py>(py: Py<'py>, src: &str, mode: std::ffi::c_int) -> Outcome<Obj<'py>> {
    let g = globals(py);
    let c = CString::new(src).expect("Python source with a NUL");
    // SAFETY: GIL held; NUL-terminated source; `g` is a live dict.
    unsafe { Obj::from_owned(py, ffi::PyRun_String(c.as_ptr(), mode, g, g)) }
}

/// A Python int with the value `v`.
pub fn int<'py>(py: Py<'py>, v: i128) -> Obj<'py> {
    int_from_decimal(py, &v.to_string())
}

/// A Python int from its decimal digits (any size, optional `-`).
pub fn int_from_decimal<'py>(py: Py<'py>, digits: &str) -> Obj<'py> {
    let c = CString::new(digits).expect("digits with a NUL");
    // SAFETY: GIL held; NUL-terminated digits; base 10.
    unsafe {
        Obj::from_owned(
            py,
            ffi::PyLong_FromString(c.as_ptr(), std::ptr::null_mut(), 10),
        )
    }
    .unwrap_or_else(|e| panic!("int({digits}): {e}"))
}

/// A Python str of arbitrary code points (lone surrogates included).
pub fn str_from_code_points<'py>(py: Py<'py>, cps: &[u32]) -> Obj<'py> {
    assert!(cps.iter().all(|&c| c <= 0x10FFFF));
    // SAFETY: GIL held; `cps` holds `len` UCS4 units.
    unsafe {
        Obj::from_owned(
            py,
            ffi::PyUnicode_FromKindAndData(
                ffi::PyUnicode_4BYTE_KIND as _,
                cps.as_ptr().cast(),
                cps.len() as ffi::Py_ssize_t,
            ),
        )
    }
    .expect("str from code points")
}

/// The text of a str (lone surrogates escaped as `\udXXX`).
pub fn text(s: &Obj<'_>) -> String {
    // SAFETY: GIL held; `str_of` consumes the new reference made here.
    unsafe { str_of(s.py(), Obj::borrowed(s.py(), s.as_ptr()).into_ptr()) }
}

/// The code points of a str.
pub fn code_points(s: &Obj<'_>) -> Vec<u32> {
    // SAFETY: GIL held ('py); `s` is a str (asserted); the UCS4 copy holds
    // `len` units and is freed with PyMem_Free.
    unsafe {
        assert!(
            ffi::PyUnicode_Check(s.as_ptr()) != 0,
            "code_points: not a str"
        );
        let n = ffi::PyUnicode_GetLength(s.as_ptr());
        let buf = ffi::PyUnicode_AsUCS4Copy(s.as_ptr());
        assert!(!buf.is_null());
        let v = std::slice::from_raw_parts(buf, n as usize).to_vec();
        ffi::PyMem_Free(buf.cast());
        v
    }
}

/// A Python bytes object holding `b` (NULs included).
pub fn bytes<'py>(py: Py<'py>, b: &[u8]) -> Obj<'py> {
    // SAFETY: GIL held; `b` holds `len` readable bytes.
    unsafe {
        Obj::from_owned(
            py,
            ffi::PyBytes_FromStringAndSize(b.as_ptr().cast(), b.len() as ffi::Py_ssize_t),
        )
    }
    .expect("bytes")
}

/// The content of a bytes object.
pub fn bytes_content(o: &Obj<'_>) -> Vec<u8> {
    // SAFETY: GIL held; `o` is a bytes object (asserted), whose buffer holds
    // `size` bytes.
    unsafe {
        assert!(
            ffi::PyBytes_Check(o.as_ptr()) != 0,
            "bytes_content: not bytes"
        );
        let p = ffi::PyBytes_AsString(o.as_ptr());
        let n = ffi::PyBytes_Size(o.as_ptr());
        std::slice::from_raw_parts(p as *const u8, n as usize).to_vec()
    }
}

/// The exact type name of an object.
pub fn type_name(o: &Obj<'_>) -> String {
    // SAFETY: GIL held; a live object's type is a live type object.
    unsafe { type_name_of_type(ffi::Py_TYPE(o.as_ptr()).cast()) }
}

/// `repr(o)`.
pub fn repr(o: &Obj<'_>) -> String {
    let py = o.py();
    // SAFETY: GIL held; Repr returns a new reference or NULL.
    let r = unsafe { ffi::PyObject_Repr(o.as_ptr()) };
    if r.is_null() {
        let e = take_err(py);
        return format!("<repr() failed: {e:?}>");
    }
    // SAFETY: `r` is an owned str.
    unsafe { str_of(py, r) }
}

/// A canonical description of a value, equal for equal values of the same
/// type: `type: repr`, except floats, which are described by their bit
/// pattern (so -0.0 differs from 0.0), every NaN alike.
pub fn describe(o: &Obj<'_>) -> String {
    // SAFETY: GIL held; a float's value is read only after the type check.
    unsafe {
        if ffi::PyFloat_Check(o.as_ptr()) != 0 {
            let d = ffi::PyFloat_AS_DOUBLE(o.as_ptr());
            return format!("{}: {}", type_name(o), float_key(d));
        }
    }
    format!("{}: {}", type_name(o), repr(o))
}

/// How two doubles are compared: bit patterns, NaN as NaN.
pub fn float_key(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else {
        format!("{d:?} (bits {:#018x})", d.to_bits())
    }
}

/// The outcome of a call that returns a new reference (or NULL with an
/// exception), described for comparison with [`describe`].
///
/// # Safety
/// `p` is NULL or a new reference.
pub unsafe fn obj_outcome(py: Py<'_>, p: *mut ffi::PyObject) -> Outcome<String> {
    // SAFETY: forwarded contract.
    let r = unsafe { Obj::from_owned(py, p) }.map(|o| describe(&o));
    if r.is_ok() {
        assert_no_err(py, "a call that returned an object");
    }
    r
}

/// The outcome of a call returning a C value that signals errors with an
/// exception: the value when none is pending, else the exception (and the
/// value it came with, which must be the API's error value).
pub fn value_outcome<T: std::fmt::Debug + PartialEq>(py: Py<'_>, v: T) -> Outcome<T> {
    match take_err(py) {
        None => Ok(v),
        Some(mut e) => {
            e.msg = format!("{} [returned {v:?}]", e.msg);
            Err(e)
        }
    }
}

/// Runs `f` with a handle of the universal context `ctx` for `o`, opened with
/// `HPy_FromPyObject` and closed after, as a hybrid extension holds one.
pub fn with_handle<R>(ctx: *mut HPyContext, o: &Obj<'_>, f: impl FnOnce(HPy) -> R) -> R {
    let h = ctx_call!(ctx, ctx_FromPyObject, o.as_ptr().cast());
    assert!(!h.is_null(), "HPy_FromPyObject gave HPy_NULL");
    let r = f(h);
    ctx_call!(ctx, ctx_Close, h);
    r
}

/// The object behind a universal handle returned by a context function
/// (which then belongs to the `Obj`), or the pending exception.
pub fn from_universal_handle<'py>(py: Py<'py>, h: HPy) -> Outcome<Obj<'py>> {
    // SAFETY: universal handles are the objects themselves (ARCHITECTURE.md:
    // "a handle is the `PyObject *` itself"), and a returned handle is a new
    // reference, which the `Obj` now owns.
    unsafe { Obj::from_owned(py, h._i as *mut ffi::PyObject) }
}

/// Calls `func` (a Python expression) with `args`.
pub fn call<'py>(py: Py<'py>, func: &str, args: &[&Obj<'py>]) -> Outcome<Obj<'py>> {
    let f = eval(py, func);
    // SAFETY: GIL held; PyTuple_SetItem steals the new reference given to it.
    unsafe {
        let t = Obj::from_owned(py, ffi::PyTuple_New(args.len() as ffi::Py_ssize_t))?;
        for (i, a) in args.iter().enumerate() {
            ffi::Py_INCREF(a.as_ptr());
            ffi::PyTuple_SetItem(t.as_ptr(), i as ffi::Py_ssize_t, a.as_ptr());
        }
        Obj::from_owned(py, ffi::PyObject_CallObject(f.as_ptr(), t.as_ptr()))
    }
}

/// A Python float with exactly the bits of `d`.
pub fn float(py: Py<'_>, d: f64) -> Obj<'_> {
    // SAFETY: GIL held.
    unsafe { Obj::from_owned(py, ffi::PyFloat_FromDouble(d)) }.expect("float")
}

/// A NUL-terminated copy of `b` (which must not contain NUL).
pub fn c_string(b: &[u8]) -> CString {
    CString::new(b.to_vec()).expect("c_string: interior NUL")
}

/// A C string pointer that is NULL for `None`.
pub fn opt_ptr(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

// ------------------- the C shims, the CPython-ABI table, differences.tsv

pub mod differences;
pub mod shims;
pub use shims::cpython_abi_ctx;

// ------------------------------------------------ forked cases (layout, module_defs)

/// Runs `f` in a forked child of this process (the GIL held by the caller,
/// proven by `py`) and returns what it returned, or how it died: a signal,
/// a panic (exit status 101), or a hang (killed after 30 s). The fork goes
/// through CPython's protocol (`PyOS_BeforeFork`/`AfterFork_*`), so the
/// child has a working interpreter; it leaves with `_exit`. Another thread
/// of the test process must not be inside the interpreter (making its
/// thread state) while this forks: run forking properties with
/// [`run_serially`].
pub fn in_child(py: Py<'_>, f: impl FnOnce() -> String) -> Result<String, String> {
    let _ = py;
    let mut fds = [0; 2];
    // SAFETY: `fds` is an array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fork with CPython's own protocol (as os.fork does), GIL held;
    // the child only runs `f`, writes its result to the pipe and `_exit`s.
    let pid = unsafe {
        ffi::PyOS_BeforeFork();
        let pid = libc::fork();
        if pid == 0 {
            ffi::PyOS_AfterFork_Child();
            libc::close(fds[0]);
            let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                Ok(s) => {
                    let b = s.as_bytes();
                    let mut off = 0;
                    while off < b.len() {
                        let n = libc::write(fds[1], b[off..].as_ptr().cast(), b.len() - off);
                        if n <= 0 {
                            break;
                        }
                        off += n as usize;
                    }
                    0
                }
                Err(_) => 101,
            };
            libc::_exit(code);
        }
        ffi::PyOS_AfterFork_Parent();
        libc::close(fds[1]);
        pid
    };
    assert!(pid > 0, "fork failed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let hung = loop {
        let mut pfd = libc::pollfd {
            fd: fds[0],
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, 100) };
        if r > 0 {
            // SAFETY: `buf` is writable for its length.
            let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break false;
            }
            out.extend_from_slice(&buf[..n as usize]);
        } else if std::time::Instant::now() > deadline {
            break true;
        }
    };
    let mut status = 0;
    // SAFETY: `pid` is our child; `fds[0]` is our end of the pipe.
    unsafe {
        if hung {
            libc::kill(pid, libc::SIGKILL);
        }
        libc::waitpid(pid, &mut status, 0);
        libc::close(fds[0]);
    }
    let out = String::from_utf8_lossy(&out).into_owned();
    if hung {
        Err(format!(
            "the child hung (killed after 30 s); it said {out:?}"
        ))
    } else if libc::WIFSIGNALED(status) {
        Err(format!(
            "the child crashed: killed by signal {} (it said {out:?})",
            libc::WTERMSIG(status)
        ))
    } else if libc::WEXITSTATUS(status) != 0 {
        Err(format!(
            "the child exited with status {}: {out:?}",
            libc::WEXITSTATUS(status)
        ))
    } else {
        Ok(out)
    }
}

/// Runs a property as `proptest!` does, but holding `lock` for the whole
/// run: the properties of a test binary that fork ([`in_child`]) take the
/// same lock, so no other of its threads is inside the interpreter when
/// one forks (CPython 3.11's `PyOS_AfterFork_Child` would hang on the
/// runtime's thread-state lock).
pub fn run_serially<S: proptest::strategy::Strategy>(
    lock: &std::sync::Mutex<()>,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
) {
    let _serial = lock.lock().unwrap_or_else(|e| e.into_inner());
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}\n{runner}");
    }
}

/// Describes an outcome for a forked case: `raised <type>: <message>`.
pub fn raised(e: &PyErr) -> String {
    format!("raised {e}")
}

/// The universal handle of an object (not a new reference: valid while `o`
/// lives), for arguments the context borrows (type params, bases).
pub fn handle_of(o: &Obj<'_>) -> HPy {
    HPy {
        _i: o.as_ptr() as isize,
    }
}
