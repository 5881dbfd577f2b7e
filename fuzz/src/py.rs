//! The embedded interpreter and the Python values the targets build from
//! their input. The interpreter is initialised once per process and the
//! fuzzing thread keeps the GIL for good (libFuzzer runs every input on the
//! thread that first called the target). In the universal context a handle
//! is the `PyObject *` itself, so the targets pass objects as handles.

use crate::input::Input;
use hpy_sys::{HPy, HPyContext};
use pyo3_ffi as ffi;
use std::ffi::CStr;
use std::sync::Once;

/// The universal context, the interpreter initialised and the GIL held by
/// the calling thread (which must be the fuzzing thread, always the same).
pub fn ctx() -> *mut HPyContext {
    static INIT: Once = Once::new();
    // SAFETY: once per process, before any other use of the interpreter;
    // the GIL stays with this thread.
    INIT.call_once(|| unsafe { ffi::Py_InitializeEx(0) });
    hpy_universal::universal_ctx()
}

/// The handle of `o` in the universal context.
pub fn h(o: *mut ffi::PyObject) -> HPy {
    HPy { _i: o as isize }
}

/// The object behind a universal handle.
pub fn obj(h: HPy) -> *mut ffi::PyObject {
    h._i as *mut ffi::PyObject
}

/// A pending exception, as its type's name and `str()` of its value.
#[derive(Debug)]
pub struct PyErr {
    pub ty: String,
    pub msg: String,
}

/// Whether an exception is pending.
pub fn err_pending() -> bool {
    // SAFETY: GIL held (see `ctx`).
    unsafe { !ffi::PyErr_Occurred().is_null() }
}

/// Takes (and clears) the pending exception, if any.
#[allow(deprecated)] // PyErr_Fetch: its replacement is 3.12+ only
pub fn take_err() -> Option<PyErr> {
    let (mut t, mut v, mut tb) = (
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    );
    // SAFETY: GIL held; Fetch hands over three new references (or NULLs),
    // each released below; the strings are copied before their objects go.
    unsafe {
        if ffi::PyErr_Occurred().is_null() {
            return None;
        }
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        ffi::PyErr_NormalizeException(&mut t, &mut v, &mut tb);
        let ty = CStr::from_ptr((*(t as *mut ffi::PyTypeObject)).tp_name)
            .to_string_lossy()
            .into_owned();
        let msg = text_of(v);
        for o in [t, v, tb] {
            if !o.is_null() {
                ffi::Py_DECREF(o);
            }
        }
        ffi::PyErr_Clear();
        Some(PyErr { ty, msg })
    }
}

/// `str(o)` as Rust text (lossy), or a note if that fails.
fn text_of(o: *mut ffi::PyObject) -> String {
    if o.is_null() {
        return "<NULL>".into();
    }
    // SAFETY: GIL held; `o` is a live object; the new reference is released.
    unsafe {
        let s = ffi::PyObject_Str(o);
        if s.is_null() {
            ffi::PyErr_Clear();
            return "<str() failed>".into();
        }
        let text = utf8_of(s);
        ffi::Py_DECREF(s);
        text
    }
}

/// The text of a `str` object (lone surrogates escaped), for messages.
fn utf8_of(s: *mut ffi::PyObject) -> String {
    // SAFETY: GIL held; `s` is a str; the bytes object is released.
    unsafe {
        let b = ffi::PyUnicode_AsEncodedString(s, c"utf-8".as_ptr(), c"backslashreplace".as_ptr());
        if b.is_null() {
            ffi::PyErr_Clear();
            return "<not text>".into();
        }
        let text = CStr::from_ptr(ffi::PyBytes_AsString(b))
            .to_string_lossy()
            .into_owned();
        ffi::Py_DECREF(b);
        text
    }
}

/// The objects one test case made; each reference is released on drop.
#[derive(Default)]
pub struct Objects {
    owned: Vec<*mut ffi::PyObject>,
}

impl Drop for Objects {
    fn drop(&mut self) {
        for &o in &self.owned {
            // SAFETY: GIL held; each entry is a reference this arena owns.
            unsafe { ffi::Py_DECREF(o) };
        }
    }
}

/// How deep containers may nest.
const MAX_DEPTH: u32 = 3;

impl Objects {
    /// Keeps the new reference `o` (never NULL: object creation from these
    /// inputs cannot fail short of memory exhaustion, which aborts).
    pub fn keep(&mut self, o: *mut ffi::PyObject) -> *mut ffi::PyObject {
        if o.is_null() {
            let e = take_err();
            panic!("the harness could not build an argument: {e:?}");
        }
        self.owned.push(o);
        o
    }

    /// The reference count of each object made so far (0 for `str`, which
    /// interning may change behind the code under test's back).
    pub fn refcounts(&self) -> Vec<isize> {
        self.owned
            .iter()
            // SAFETY: GIL held; each entry is a live object this arena owns.
            .map(|&o| unsafe {
                if ffi::PyUnicode_Check(o) != 0 {
                    0
                } else {
                    ffi::Py_REFCNT(o)
                }
            })
            .collect()
    }

    /// A `str` from arbitrary bytes: UTF-8 where it is valid, each other
    /// byte a lone surrogate (U+DC80..U+DCFF, the `surrogateescape`
    /// handler), so any byte string gives a `str`, NULs and non-BMP
    /// characters included.
    pub fn str_from(&mut self, bytes: &[u8]) -> *mut ffi::PyObject {
        // SAFETY: GIL held; a valid buffer of `len` bytes.
        let o = unsafe {
            ffi::PyUnicode_DecodeUTF8(
                bytes.as_ptr().cast(),
                bytes.len() as ffi::Py_ssize_t,
                c"surrogateescape".as_ptr(),
            )
        };
        self.keep(o)
    }

    /// One Python value chosen by the input: None, bools, integers at the
    /// edges of the C types and beyond 64 bits, floats (NaN, ±inf, -0.0
    /// included), `str` (see [`Objects::str_from`]), `bytes`, `bytearray`,
    /// tuples, lists, dicts (keys of any hashable kind), a plain `object()`
    /// and a type.
    pub fn value(&mut self, input: &mut Input, depth: u32) -> *mut ffi::PyObject {
        let pick = input.u8();
        let kind = if depth >= MAX_DEPTH {
            pick % 12
        } else {
            pick % 15
        };
        // SAFETY: GIL held; each call gets valid arguments and returns a new
        // reference (or NULL, handled by `keep`); borrowed singletons are
        // increfed first.
        unsafe {
            let o = match kind {
                0 => ffi::Py_NewRef(ffi::Py_None()),
                1 => ffi::Py_NewRef(ffi::Py_True()),
                2 => ffi::Py_NewRef(ffi::Py_False()),
                3 | 4 => ffi::PyLong_FromLongLong(input.edgy_i64()),
                5 => ffi::PyLong_FromUnsignedLongLong(input.u64()),
                6 => {
                    // beyond 64 bits: 9 to 24 raw bytes, signed
                    let n = 9 + usize::from(input.u8() % 16);
                    let b = input.bytes(n);
                    ffi::_PyLong_FromByteArray(b.as_ptr(), b.len(), 1, 1)
                }
                7 => ffi::PyFloat_FromDouble(f64::from_bits(input.u64())),
                8 => {
                    const SPECIAL: [f64; 6] =
                        [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e308];
                    ffi::PyFloat_FromDouble(SPECIAL[usize::from(input.u8()) % SPECIAL.len()])
                }
                9 | 10 => {
                    let n = usize::from(input.u8() % 32);
                    let bytes = input.bytes(n);
                    return self.str_from(bytes);
                }
                11 => {
                    let n = usize::from(input.u8() % 32);
                    let b = input.bytes(n);
                    match n % 4 {
                        0 | 1 => {
                            ffi::PyBytes_FromStringAndSize(b.as_ptr().cast(), b.len() as isize)
                        }
                        2 => {
                            ffi::PyByteArray_FromStringAndSize(b.as_ptr().cast(), b.len() as isize)
                        }
                        _ if b.first().is_some_and(|b| b % 2 == 0) => ffi::PyObject_CallNoArgs(
                            std::ptr::addr_of_mut!(ffi::PyBaseObject_Type).cast(),
                        ),
                        _ => ffi::Py_NewRef(std::ptr::addr_of_mut!(ffi::PyLong_Type).cast()),
                    }
                }
                12 | 13 => {
                    let n = usize::from(input.u8() % 5);
                    let items: Vec<_> = (0..n).map(|_| self.value(input, depth + 1)).collect();
                    let seq = if kind == 12 {
                        ffi::PyTuple_New(n as isize)
                    } else {
                        ffi::PyList_New(n as isize)
                    };
                    let seq = self.keep(seq);
                    for (i, &item) in items.iter().enumerate() {
                        let item = ffi::Py_NewRef(item);
                        if kind == 12 {
                            ffi::PyTuple_SetItem(seq, i as isize, item);
                        } else {
                            ffi::PyList_SetItem(seq, i as isize, item);
                        }
                    }
                    return seq;
                }
                _ => {
                    let d = self.keep(ffi::PyDict_New());
                    for _ in 0..input.u8() % 5 {
                        let k = self.value(input, depth + 1);
                        let v = self.value(input, depth + 1);
                        if ffi::PyDict_SetItem(d, k, v) < 0 {
                            ffi::PyErr_Clear(); // an unhashable key: skip it
                        }
                    }
                    return d;
                }
            };
            self.keep(o)
        }
    }
}
