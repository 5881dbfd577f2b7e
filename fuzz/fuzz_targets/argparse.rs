//! `HPyArg_Parse`, `HPyArg_ParseKeywords` and `HPyArg_ParseKeywordsDict`
//! through the universal context, on a fuzzed format string, keyword names
//! and arguments.
//!
//! Input: a flags byte (which parser; with or without a tracker; keyword
//! names as given or completed to one per unit), the format up to a NUL,
//! comma-separated keyword names up to a NUL, then the arguments (see
//! `hpy_rs_fuzz::py::Objects::value`). Every unit's output is a pointer, so
//! the harness passes one pointer per format byte (never fewer than the
//! units), each to its own 8-byte slot.
//!
//! Checks: the parser returns 1 with no exception pending or 0 with one;
//! once the tracker is closed, no argument has gained or lost a reference.

#![no_main]

use hpy_rs_fuzz::input::Input;
use hpy_rs_fuzz::py::{self, h, Objects};
use hpy_rs_fuzz::varcall::{self, Arg};
use hpy_sys::{HPyTracker, HPy_NULL};
use libfuzzer_sys::fuzz_target;
use pyo3_ffi as ffi;
use std::ffi::{c_void, CString};

/// The format units HPy 0.9 documents for the argument parsers.
const UNITS: &[u8] = b"bBhHiIlkLKnfdOps";

/// Which parser a flags byte picks.
#[derive(Clone, Copy, PartialEq)]
enum Parser {
    Parse,
    Keywords,
    KeywordsDict,
}

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let ctx = py::ctx();
    let mut input = Input::new(data);
    let flags = input.u8();
    let parser = match flags % 3 {
        0 => Parser::Parse,
        1 => Parser::Keywords,
        _ => Parser::KeywordsDict,
    };
    let with_tracker = flags & 0x04 == 0;
    let names_as_given = flags & 0x08 != 0;
    let fmt = CString::new(input.until_nul()).unwrap();
    let units_part = fmt
        .as_bytes()
        .split(|&b| b == b':' || b == b';')
        .next()
        .unwrap_or_default();
    let nunits = units_part.iter().filter(|b| UNITS.contains(b)).count();

    // keyword names: as given, or completed (or cut) to one per unit
    let given = input.until_nul();
    let mut names: Vec<CString> = if given.is_empty() {
        Vec::new()
    } else {
        given
            .split(|&b| b == b',')
            .map(|n| CString::new(n).unwrap())
            .collect()
    };
    if !names_as_given {
        names.truncate(nunits);
        for i in names.len()..nunits {
            names.push(CString::new(format!("k{i}")).unwrap());
        }
    }
    let mut keywords: Vec<*const i8> = names.iter().map(|n| n.as_ptr()).collect();
    keywords.push(std::ptr::null());

    let mut objs = Objects::default();
    let nargs = usize::from(input.u8() % 8);
    let mut args: Vec<_> = (0..nargs).map(|_| h(objs.value(&mut input, 0))).collect();
    // keyword arguments: mostly named after the parameters
    let nkw = usize::from(input.u8() % 5);
    let mut kw_pairs = Vec::new();
    for _ in 0..nkw {
        let pick = input.u8();
        let key = if pick < 192 && !names.is_empty() {
            objs.str_from(names[usize::from(pick) % names.len()].as_bytes())
        } else if parser == Parser::KeywordsDict && pick >= 240 {
            objs.value(&mut input, 1) // a dict may have keys of any kind
        } else {
            let n = usize::from(input.u8() % 16);
            objs.str_from(input.bytes(n))
        };
        kw_pairs.push((key, objs.value(&mut input, 0)));
    }

    // one output slot per format byte: at least one per unit
    let mut slots = vec![0x5a5a_5a5a_5a5a_5a5au64; fmt.as_bytes().len()];
    let outs = slots
        .iter_mut()
        .map(|s| Arg::Ptr(std::ptr::from_mut(s).cast::<c_void>()));

    // the keyword source: kwnames (values after the positional ones) or a dict
    let kw = match parser {
        Parser::Parse => HPy_NULL,
        _ if kw_pairs.is_empty() && input.u8().is_multiple_of(2) => HPy_NULL,
        // SAFETY: GIL held; a new tuple filled with new references (the
        // names are `str`, as vectorcall guarantees).
        Parser::Keywords => unsafe {
            let t = objs.keep(ffi::PyTuple_New(kw_pairs.len() as isize));
            for (i, &(k, _)) in kw_pairs.iter().enumerate() {
                ffi::PyTuple_SetItem(t, i as isize, ffi::Py_NewRef(k));
            }
            args.extend(kw_pairs.iter().map(|&(_, v)| h(v)));
            h(t)
        },
        // SAFETY: GIL held; a new dict; unhashable keys are skipped.
        Parser::KeywordsDict => unsafe {
            let d = objs.keep(ffi::PyDict_New());
            for &(k, v) in &kw_pairs {
                if ffi::PyDict_SetItem(d, k, v) < 0 {
                    ffi::PyErr_Clear();
                }
            }
            h(d)
        },
    };
    // a negative count for the dict parser, now and then: must be refused
    let negative = input.u8() == 0xff;

    let mut tracker = HPyTracker { _i: 0 };
    let ht = if with_tracker {
        Arg::Ptr(std::ptr::from_mut(&mut tracker).cast())
    } else {
        Arg::Ptr(std::ptr::null())
    };
    let mut call: Vec<Arg> = vec![Arg::Ptr(ctx.cast()), ht, Arg::Ptr(args.as_ptr().cast())];
    let (fmt_arg, kw_arg) = (
        Arg::Ptr(fmt.as_ptr().cast()),
        Arg::Ptr(keywords.as_ptr().cast()),
    );
    let helper = match parser {
        Parser::Parse => {
            call.extend([Arg::Size(nargs), fmt_arg]);
            varcall::ARG_PARSE
        }
        Parser::Keywords => {
            call.extend([Arg::Size(nargs), Arg::Hpy(kw), fmt_arg, kw_arg]);
            varcall::ARG_PARSE_KEYWORDS
        }
        Parser::KeywordsDict => {
            let n = if negative { -1 } else { nargs as isize };
            call.extend([Arg::Ssize(n), Arg::Hpy(kw), fmt_arg, kw_arg]);
            varcall::ARG_PARSE_KEYWORDS_DICT
        }
    };
    call.extend(outs);
    let before = objs.refcounts();
    // SAFETY: the parser's parameters with their declared types (`args`
    // holds nargs handles, then len(kwnames) for HPyArg_ParseKeywords;
    // `keywords` is NULL-terminated; `ht` NULL or writable), then one
    // pointer to a distinct 8-byte slot per format byte, at least one per
    // unit, every unit's output fitting in 8 bytes.
    let result = unsafe { varcall::call_int(helper, &call) };
    match result {
        1 => assert!(!py::err_pending(), "returned 1 with an exception pending"),
        0 => assert!(py::take_err().is_some(), "returned 0 without an exception"),
        r => panic!("returned {r}"),
    }
    if result == 1 && with_tracker {
        // SAFETY: the parser opened `tracker` and succeeded: ours to close.
        unsafe { (*ctx).ctx_Tracker_Close.unwrap()(ctx, tracker) };
    }
    assert_eq!(before, objs.refcounts(), "references gained or lost");
}
