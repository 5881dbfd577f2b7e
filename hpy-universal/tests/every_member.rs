//! Calls every function member of the universal and trace contexts once, with neutral
//! arguments (`None` for handles, zero for numbers, a zeroed scratch buffer
//! for pointers), and checks that none of them answers "not implemented".
//!
//! The table cannot have a NULL slot (it is expanded from the context
//! declaration, and a missing implementation does not compile); this test
//! is about what is behind each slot. Bad arguments may raise any other
//! exception: that is fine here, the behaviour of each function is tested
//! elsewhere. The few members that cannot be called with neutral arguments
//! at all are listed in `SKIP`, each with the test that covers it.

use hpy_sys::{HPy, HPyContext};
use pyo3_ffi as ffi;
use std::ffi::CStr;

/// Members not called here, and why.
const SKIP: &[(&str, &str)] = &[
    (
        "ctx_FatalError",
        "aborts the process by design (upstream test_hpyerr::test_FatalError)",
    ),
    (
        "ctx_LeavePythonExecution",
        "releases the GIL (tests/python/test_ctx_misc.py::test_leave_reenter_python)",
    ),
    (
        "ctx_ReenterPythonExecution",
        "needs the state LeavePythonExecution returned (same test)",
    ),
    (
        "ctx_CallRealFunctionFromTrampoline",
        "calls the function pointer it is given (every HPyDef test)",
    ),
    (
        "ctx_Tracker_Add",
        "needs a live tracker (tests/python/test_ctx_builders.py::test_tracker)",
    ),
    ("ctx_Tracker_ForgetAll", "needs a live tracker (same)"),
    ("ctx_Tracker_Close", "needs a live tracker (same)"),
    (
        "ctx_ListBuilder_Set",
        "needs a live builder (tests/python/test_ctx_builders.py)",
    ),
    ("ctx_ListBuilder_Build", "needs a live builder (same)"),
    ("ctx_ListBuilder_Cancel", "needs a live builder (same)"),
    ("ctx_TupleBuilder_Set", "needs a live builder (same)"),
    ("ctx_TupleBuilder_Build", "needs a live builder (same)"),
    ("ctx_TupleBuilder_Cancel", "needs a live builder (same)"),
    (
        "ctx_Global_Load",
        "needs a stored global (tests/python/test_ctx_misc.py::test_global_store_load)",
    ),
    (
        "ctx_Field_Load",
        "needs a field of an HPy object (upstream test_hpyfield)",
    ),
    ("ctx_Field_Store", "needs a field of an HPy object (same)"),
    (
        "ctx_SetCallFunction",
        "needs an instance of a type with a call function (upstream test_call)",
    ),
];

/// A scratch area pointers point into: zeroed, so a `const char *` reads as
/// "", an array as empty, and out-parameters have room to be written.
static mut SCRATCH: [u64; 1024] = [0; 1024];

trait Neutral {
    fn neutral(ctx: &HPyContext) -> Self;
}

macro_rules! neutral_zero {
    ($($t:ty),*) => {$(
        impl Neutral for $t {
            fn neutral(_: &HPyContext) -> Self { Default::default() }
        }
    )*};
}
neutral_zero!(i32, u32, i64, u64, isize, usize, f64, bool);

macro_rules! neutral_zeroed_struct {
    ($($t:ty),*) => {$(
        impl Neutral for $t {
            fn neutral(_: &HPyContext) -> Self {
                // SAFETY: a one-integer struct; zero is its null value.
                unsafe { std::mem::zeroed() }
            }
        }
    )*};
}
neutral_zeroed_struct!(
    hpy_sys::HPyField,
    hpy_sys::HPyGlobal,
    hpy_sys::HPyListBuilder,
    hpy_sys::HPyTupleBuilder,
    hpy_sys::HPyTracker,
    hpy_sys::HPyThreadState
);

impl Neutral for HPy {
    fn neutral(c: &HPyContext) -> Self {
        // A new handle each time: the callee may close it.
        let cp = c as *const HPyContext as *mut HPyContext;
        // SAFETY: GIL held (the test runs under with_gil); Dup of a constant.
        unsafe { c.ctx_Dup.unwrap()(cp, c.h_None) }
    }
}

impl<T> Neutral for *const T {
    fn neutral(_: &HPyContext) -> Self {
        (&raw const SCRATCH).cast()
    }
}

impl<T> Neutral for *mut T {
    fn neutral(_: &HPyContext) -> Self {
        (&raw mut SCRATCH).cast()
    }
}

impl Neutral for hpy_sys::HPyCFunction {
    fn neutral(_: &HPyContext) -> Self {
        None
    }
}

fn with_gil<R>(which: Which, f: impl FnOnce(&HPyContext) -> R) -> R {
    hpy_cpython::embed::with_gil(|| {
        let universal = hpy_universal::universal_ctx();
        let ctx = match which {
            Which::Universal => universal,
            // SAFETY: GIL held; the universal context lives forever.
            Which::Trace => unsafe { hpy_debug::trace::trace_ctx(universal) },
        };
        // SAFETY: the contexts are built once and never freed.
        f(unsafe { &*ctx })
    })
}

/// The pending exception as "Type: message" (and clears it), or None.
///
/// # Safety
/// GIL held.
#[allow(deprecated)] // PyErr_Fetch/NormalizeException (3.12 deprecates them; the replacement is 3.12+)
unsafe fn take_exception() -> Option<String> {
    // SAFETY: GIL held (caller); the fetched references are released below.
    unsafe {
        if ffi::PyErr_Occurred().is_null() {
            return None;
        }
        let (mut t, mut v, mut tb) = (
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        ffi::PyErr_NormalizeException(&mut t, &mut v, &mut tb);
        let text = |o: *mut ffi::PyObject| -> String {
            if o.is_null() {
                return String::new();
            }
            let s = ffi::PyObject_Str(o);
            if s.is_null() {
                ffi::PyErr_Clear();
                return "<?>".into();
            }
            let r = CStr::from_ptr(ffi::PyUnicode_AsUTF8(s))
                .to_string_lossy()
                .into_owned();
            ffi::Py_DECREF(s);
            r
        };
        let name = if t.is_null() {
            String::new()
        } else {
            CStr::from_ptr((*(t as *mut ffi::PyTypeObject)).tp_name)
                .to_string_lossy()
                .into_owned()
        };
        let msg = format!("{name}: {}", text(v));
        ffi::Py_XDECREF(t);
        ffi::Py_XDECREF(v);
        ffi::Py_XDECREF(tb);
        Some(msg)
    }
}

macro_rules! call_every_member {
    ($(($idx:literal, $name:ident, ($($p:ident : $t:ty),*) -> $ret:ty)),* $(,)?) => {
        |c: &HPyContext, calls: &mut Vec<(&'static str, Option<String>)>| {
            let cp = c as *const HPyContext as *mut HPyContext;
            $(
                let name = stringify!($name);
                if !SKIP.iter().any(|(s, _)| *s == name) {
                    let f = c.$name.expect(name);
                    // SAFETY: single-threaded test; nothing holds a reference
                    // into the scratch area between calls.
                    unsafe { (&raw mut SCRATCH).write([0; 1024]) };
                    // SAFETY: GIL held; every argument is a neutral value of
                    // its C type (None, 0, or a pointer into the zeroed
                    // scratch area); the result is not used.
                    let _ = unsafe { f(cp $(, <$t as Neutral>::neutral(c))*) };
                    // SAFETY: GIL held.
                    calls.push((name, unsafe { take_exception() }));
                }
            )*
        }
    };
}

#[derive(Clone, Copy)]
enum Which {
    Universal,
    Trace,
}

#[test]
fn no_member_is_a_placeholder() {
    // One test, so the contexts are exercised one after the other. The debug
    // context is not called with neutral arguments: it treats them as the
    // misuse they are (e.g. None where a type is required is a fatal error,
    // as upstream), and its wrappers are generated over the same members;
    // tests/python/test_debug*.py and upstream's suite in debug mode cover it.
    for which in [Which::Universal, Which::Trace] {
        check_context(which);
    }
}

fn check_context(which: Which) {
    with_gil(which, |c| {
        let mut calls = Vec::new();
        (hpy_sys::for_each_ctx_function!(call_every_member))(c, &mut calls);
        let expected = hpy_sys::CTX_FUNCTION_NAMES.len() - SKIP.len();
        assert_eq!(calls.len(), expected, "every member not skipped was called");
        for (s, _) in SKIP {
            assert!(
                hpy_sys::CTX_FUNCTION_NAMES.contains(s),
                "SKIP names an unknown member {s}"
            );
        }
        let placeholders: Vec<_> = calls
            .iter()
            .filter(|(_, e)| {
                e.as_deref().is_some_and(|e| {
                    let l = e.to_ascii_lowercase();
                    e.starts_with("NotImplementedError")
                        || l.contains("not implemented")
                        || l.contains("todo")
                })
            })
            .collect();
        assert!(
            placeholders.is_empty(),
            "members answering 'not implemented': {placeholders:?}"
        );
    });
}
