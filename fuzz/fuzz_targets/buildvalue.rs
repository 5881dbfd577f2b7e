//! `HPy_BuildValue` through the universal context, on a fuzzed format
//! string and values.
//!
//! Input: the format up to a NUL, then the values. The harness gives every
//! unit byte of the format (`i I l k L K n f d s O S`, wherever it stands)
//! a variable argument of that unit's C type, in order: the helper checks
//! the whole format before reading any argument, so a format it refuses
//! reads none, and one it accepts reads exactly these.
//!
//! Checks: a result with no exception pending, or NULL with one; once the
//! result is released, no argument object has gained or lost a reference.

#![no_main]

use hpy_rs_fuzz::input::Input;
use hpy_rs_fuzz::py::{self, h, Objects};
use hpy_rs_fuzz::varcall::{self, Arg};
use hpy_sys::HPy_NULL;
use libfuzzer_sys::fuzz_target;
use pyo3_ffi as ffi;
use std::ffi::{c_void, CString};

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let ctx = py::ctx();
    let mut input = Input::new(data);
    let fmt = CString::new(input.until_nul()).unwrap();
    let mut objs = Objects::default();
    let mut strings: Vec<CString> = Vec::new();
    let mut call = vec![Arg::Ptr(ctx.cast()), Arg::Ptr(fmt.as_ptr().cast())];
    for &unit in fmt.as_bytes() {
        let v = input.edgy_i64();
        let arg = match unit {
            b'i' => Arg::Int(v as i32),
            b'I' => Arg::UInt(v as u32),
            b'l' => Arg::Long(v as _),
            b'k' => Arg::ULong(v as _),
            b'L' => Arg::LongLong(v),
            b'K' => Arg::ULongLong(v as u64),
            b'n' => Arg::Ssize(v as isize),
            // a `float` argument arrives as `double`
            b'f' | b'd' => Arg::Double(f64::from_bits(input.u64())),
            // NULL gives None; any bytes (invalid UTF-8 too) otherwise
            b's' if v % 8 == 0 => Arg::Ptr(std::ptr::null()),
            b's' => {
                let n = usize::from(input.u8() % 24);
                let bytes: Vec<u8> = input.bytes(n).iter().map(|&b| b.max(1)).collect();
                strings.push(CString::new(bytes).unwrap());
                Arg::Ptr(strings.last().unwrap().as_ptr().cast::<c_void>())
            }
            // HPy_NULL must raise, not crash
            b'O' | b'S' if v % 16 == 0 => Arg::Hpy(HPy_NULL),
            b'O' | b'S' => Arg::Hpy(h(objs.value(&mut input, 0))),
            _ => continue,
        };
        call.push(arg);
    }
    let before = objs.refcounts();
    // SAFETY: ctx and a C string, then one variable argument of the unit's
    // C type per unit byte, in order (see the module comment).
    let result = unsafe { varcall::call_hpy(varcall::BUILD_VALUE, &call) };
    if result._i == 0 {
        assert!(py::take_err().is_some(), "NULL without an exception");
    } else {
        assert!(!py::err_pending(), "a result with an exception pending");
        // SAFETY: GIL held; the result is a new reference, ours.
        unsafe { ffi::Py_DECREF(py::obj(result)) };
    }
    assert_eq!(before, objs.refcounts(), "references gained or lost");
}
