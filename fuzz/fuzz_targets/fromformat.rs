//! `HPyUnicode_FromFormat` and `HPyErr_Format` through the universal
//! context, on a fuzzed format string and arguments.
//!
//! Input: a flags byte (which function; the exception type for
//! `HPyErr_Format`), the format up to a NUL, then the arguments. The
//! harness reads the format as the HPy documentation describes it —
//! `%[0][width][.precision][l|ll|z]X` with X in `c d i u x p s U V S R A`,
//! the size only before `d i u` — and passes each conversion the variable
//! arguments of its C types (two for `%V`), in order. It does so even for a
//! conversion the helper refuses (a zero pad or width where none may be):
//! the helper stops at the first refused conversion, and surplus variable
//! arguments are harmless, so only a helper that reads a conversion as
//! another type than documented can go wrong here.
//!
//! Checks: `HPyUnicode_FromFormat` gives a `str` with no exception pending,
//! or NULL with one; `HPyErr_Format` always returns NULL with an exception
//! set.

#![no_main]

use hpy_rs_fuzz::input::Input;
use hpy_rs_fuzz::py::{self, h, Objects};
use hpy_rs_fuzz::varcall::{self, Arg};
use hpy_sys::HPy_NULL;
use libfuzzer_sys::fuzz_target;
use pyo3_ffi as ffi;
use std::ffi::{c_void, CString};

/// The C-level sizes a `d`, `i` or `u` conversion may name.
#[derive(Clone, Copy)]
enum Size {
    Int,
    Long,
    LongLong,
    SizeT,
}

/// Widths and precisions above this are skipped: a width of 10⁹ is a
/// legitimate request for a gigabyte of padding, which only exhausts the
/// fuzzer's memory. Numbers beyond `HPy_ssize_t`, which the helper refuses
/// without allocating, are kept.
const MAX_WIDTH: u128 = 10_000;

/// The conversions of `fmt`, each as (size, conversion character), in
/// order; None for a format with a width or precision above [`MAX_WIDTH`].
fn conversions(fmt: &[u8]) -> Option<Vec<(Size, u8)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        // flags, width, precision: digits, '0' and one '.'
        let start = i;
        while fmt.get(i).is_some_and(|b| b.is_ascii_digit() || *b == b'.') {
            i += 1;
        }
        let huge = fmt[start..i].split(|&b| b == b'.').any(|digits| {
            let n = digits.iter().fold(0u128, |n, &d| {
                (n * 10 + u128::from(d - b'0')).min(u128::from(u64::MAX))
            });
            n > MAX_WIDTH && n <= isize::MAX as u128
        });
        if huge {
            return None;
        }
        let rest = &fmt[i..];
        let (size, skip) = match rest {
            [b'l', b'l', b'd' | b'i' | b'u', ..] => (Size::LongLong, 2),
            [b'l', b'd' | b'i' | b'u', ..] => (Size::Long, 1),
            [b'z', b'd' | b'i' | b'u', ..] => (Size::SizeT, 1),
            _ => (Size::Int, 0),
        };
        i += skip;
        match fmt.get(i) {
            Some(&c) if b"cdiuxpsUVSRA".contains(&c) => {
                out.push((size, c));
                i += 1;
            }
            // anything else is refused: nothing after it is read
            _ => break,
        }
    }
    Some(out)
}

/// The exception types `HPyErr_Format` may be given.
fn exception_type(pick: u8) -> *mut ffi::PyObject {
    // SAFETY: reading the addresses of CPython's static exception types.
    unsafe {
        match pick % 6 {
            0 => ffi::PyExc_ValueError,
            1 => ffi::PyExc_TypeError,
            2 => ffi::PyExc_KeyError,
            3 => ffi::PyExc_SystemError,
            4 => ffi::PyExc_UnicodeError,
            _ => ffi::PyExc_Exception,
        }
    }
}

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let ctx = py::ctx();
    let mut input = Input::new(data);
    let flags = input.u8();
    let err_format = flags & 1 != 0;
    let fmt = CString::new(input.until_nul()).unwrap();
    let Some(conversions) = conversions(fmt.as_bytes()) else {
        return;
    };
    let mut objs = Objects::default();
    let mut strings: Vec<CString> = Vec::new();
    let mut call = vec![Arg::Ptr(ctx.cast())];
    if err_format {
        call.push(Arg::Hpy(h(exception_type(flags >> 1))));
    }
    call.push(Arg::Ptr(fmt.as_ptr().cast()));
    for (size, conv) in conversions {
        let v = input.edgy_i64();
        let mut cstr = |input: &mut Input, null: bool| {
            if null {
                return Arg::Ptr(std::ptr::null());
            }
            let n = usize::from(input.u8() % 24);
            let bytes: Vec<u8> = input.bytes(n).iter().map(|&b| b.max(1)).collect();
            strings.push(CString::new(bytes).unwrap());
            Arg::Ptr(strings.last().unwrap().as_ptr().cast::<c_void>())
        };
        match (conv, size) {
            (b'c' | b'x', _) | (b'd' | b'i', Size::Int) => call.push(Arg::Int(v as i32)),
            (b'd' | b'i', Size::Long) => call.push(Arg::Long(v as _)),
            (b'd' | b'i', Size::LongLong) => call.push(Arg::LongLong(v)),
            (b'd' | b'i', Size::SizeT) => call.push(Arg::Ssize(v as isize)),
            (b'u', Size::Int) => call.push(Arg::UInt(v as u32)),
            (b'u', Size::Long) => call.push(Arg::ULong(v as _)),
            (b'u', Size::LongLong) => call.push(Arg::ULongLong(v as u64)),
            (b'u', Size::SizeT) => call.push(Arg::Size(v as usize)),
            // only printed, never followed
            (b'p', _) => call.push(Arg::Ptr(v as usize as *const c_void)),
            (b's', _) => call.push(cstr(&mut input, v % 16 == 0)),
            // %U takes a str (or HPy_NULL, refused); %S %R %A any object
            (b'U' | b'V', _) => {
                let o = if v % 8 == 0 {
                    HPy_NULL
                } else {
                    let n = usize::from(input.u8() % 24);
                    h(objs.str_from(input.bytes(n)))
                };
                call.push(Arg::Hpy(o));
                if conv == b'V' {
                    call.push(cstr(&mut input, v % 3 == 0));
                }
            }
            _ => {
                let o = if v % 16 == 0 {
                    HPy_NULL
                } else {
                    h(objs.value(&mut input, 0))
                };
                call.push(Arg::Hpy(o));
            }
        }
    }
    let helper = if err_format {
        varcall::ERR_FORMAT
    } else {
        varcall::UNICODE_FROM_FORMAT
    };
    // SAFETY: the named parameters (a live context; an exception type; a C
    // string), then each conversion's variable arguments with its
    // documented C types, in order (see the module comment).
    let result = unsafe { varcall::call_hpy(helper, &call) };
    if err_format {
        assert_eq!(result._i, 0, "HPyErr_Format returned a value");
        assert!(py::take_err().is_some(), "HPyErr_Format set no exception");
    } else if result._i == 0 {
        assert!(py::take_err().is_some(), "NULL without an exception");
    } else {
        assert!(!py::err_pending(), "a result with an exception pending");
        // SAFETY: GIL held; the result is a new reference, ours.
        unsafe {
            assert!(ffi::PyUnicode_CheckExact(py::obj(result)) != 0, "not a str");
            ffi::Py_DECREF(py::obj(result));
        }
    }
}
