//! Builders: `HPyTupleBuilder` and `HPyListBuilder` (built or cancelled),
//! `HPyTuple_FromArray`, `HPyList_New` with `HPy_SetItem_i` and
//! `HPyDict_New` with `HPy_SetItem`, in the universal context and the
//! CPython ABI (`cpython_abi_ctx`), against `PyTuple_New`/`PyList_New` with
//! `*_SetItem` and `PyDict_New` with `PyDict_SetItem`, on generated sizes
//! (negative and huge ones too) and items.
//!
//! Each leg agrees with the C API on the result (its type, and each item
//! the very object given) or the exception (except where `differences.tsv`,
//! property `builders`, says why not), and leaves every item's
//! reference count as it found it once the result is dropped, built or
//! cancelled.

use hpy_props::*;
use hpy_sys::{HPyListBuilder, HPyTupleBuilder};
use proptest::prelude::*;
use proptest::sample::select;

type Ctx = *mut HPyContext;

/// How a container is made.
#[derive(Clone, Copy, Debug, PartialEq)]
enum How {
    TupleBuilder,
    ListBuilder,
    TupleFromArray,
    ListNewSetItem,
    DictSetItem,
}

#[derive(Clone, Debug)]
struct Case {
    how: How,
    /// the size asked for; items are given only when it is 0..=items
    size: isize,
    /// the items, as Python expressions (each makes a new object)
    items: Vec<&'static str>,
    /// cancel the builder instead of building
    cancel: bool,
}

const ITEMS: &[&str] = &[
    "[1]", "2.5", "10**40", "'item'", "(1, 'a')", "{}", "object()",
];

fn case() -> impl Strategy<Value = Case> {
    (
        select(vec![
            How::TupleBuilder,
            How::ListBuilder,
            How::TupleFromArray,
            How::ListNewSetItem,
            How::DictSetItem,
        ]),
        proptest::collection::vec(select(ITEMS.to_vec()), 0..10),
        prop_oneof![
            8 => Just(None),
            1 => select(vec![-1isize, isize::MIN, isize::MAX, isize::MAX / 8]).prop_map(Some),
        ],
        proptest::bool::weighted(0.25),
    )
        .prop_map(|(how, items, bad_size, cancel)| Case {
            how,
            size: bad_size.unwrap_or(items.len() as isize),
            items,
            cancel: cancel && matches!(how, How::TupleBuilder | How::ListBuilder),
        })
}

/// A result: its type and each item, named `#j` when it is the `j`-th
/// object given (keys and values alike for a dict), or the exception.
fn describe_result(r: Outcome<Obj<'_>>, items: &[Obj<'_>]) -> String {
    let o = match r {
        Ok(o) => o,
        Err(e) => return e.to_string(),
    };
    let py = o.py();
    let name = |p: *mut ffi::PyObject| match items.iter().position(|i| i.as_ptr() == p) {
        Some(j) => format!("#{j}"),
        // SAFETY: a live object of the result.
        None => describe(&unsafe { Obj::borrowed(py, p) }),
    };
    let p = o.as_ptr();
    // SAFETY: GIL held; the type checks come before the reads; the items
    // read are borrowed from the live result.
    let parts: Vec<String> = unsafe {
        if ffi::PyDict_Check(p) != 0 {
            let (mut pos, mut k, mut v) = (0, std::ptr::null_mut(), std::ptr::null_mut());
            let mut parts = Vec::new();
            while ffi::PyDict_Next(p, &mut pos, &mut k, &mut v) != 0 {
                parts.push(format!("{}: {}", name(k), name(v)));
            }
            parts
        } else if ffi::PyTuple_Check(p) != 0 || ffi::PyList_Check(p) != 0 {
            (0..ffi::PySequence_Size(p))
                .map(|i| {
                    let it = Obj::from_owned(py, ffi::PySequence_GetItem(p, i)).unwrap();
                    name(it.as_ptr())
                })
                .collect()
        } else {
            vec![describe(&o)]
        }
    };
    format!("ok: {}[{}]", type_name(&o), parts.join(", "))
}

/// The keys of a dict case: a fresh str per item.
fn keys<'py>(py: Py<'py>, n: usize) -> Vec<Obj<'py>> {
    (0..n)
        .map(|j| eval(py, &format!("'k{j}' + ''.join([])")))
        .collect()
}

/// The HPy leg on `ctx`; `items` (and `keys`) are the objects to put in.
fn run_hpy<'py>(
    py: Py<'py>,
    ctx: Ctx,
    c: &Case,
    items: &[Obj<'py>],
    keys: &[Obj<'py>],
) -> Outcome<Obj<'py>> {
    // Handles are the objects themselves in both ABIs (borrowed here: the
    // members dup what they keep).
    let h = |o: &Obj<'_>| HPy {
        _i: o.as_ptr() as isize,
    };
    let fill = c.size == items.len() as isize;
    let result = match c.how {
        How::TupleBuilder => {
            let b: HPyTupleBuilder = ctx_call!(ctx, ctx_TupleBuilder_New, c.size);
            if fill && b._tup != 0 {
                for (i, it) in items.iter().enumerate() {
                    ctx_call!(ctx, ctx_TupleBuilder_Set, b, i as isize, h(it));
                }
            }
            if c.cancel {
                ctx_call!(ctx, ctx_TupleBuilder_Cancel, b);
                return Ok(eval(py, "'cancelled'"));
            }
            ctx_call!(ctx, ctx_TupleBuilder_Build, b)
        }
        How::ListBuilder => {
            let b: HPyListBuilder = ctx_call!(ctx, ctx_ListBuilder_New, c.size);
            if fill && b._lst != 0 {
                for (i, it) in items.iter().enumerate() {
                    ctx_call!(ctx, ctx_ListBuilder_Set, b, i as isize, h(it));
                }
            }
            if c.cancel {
                ctx_call!(ctx, ctx_ListBuilder_Cancel, b);
                return Ok(eval(py, "'cancelled'"));
            }
            ctx_call!(ctx, ctx_ListBuilder_Build, b)
        }
        How::TupleFromArray => {
            let hs: Vec<HPy> = items.iter().map(h).collect();
            // a bad size only with an empty array: the member reads `size`
            // handles
            let n = if fill { c.size } else { c.size.min(0) };
            ctx_call!(ctx, ctx_Tuple_FromArray, hs.as_ptr(), n)
        }
        How::ListNewSetItem => {
            let l = ctx_call!(ctx, ctx_List_New, c.size);
            if fill && !l.is_null() {
                for (i, it) in items.iter().enumerate() {
                    let rc = ctx_call!(ctx, ctx_SetItem_i, l, i as isize, h(it));
                    assert_eq!(rc, 0, "HPy_SetItem_i on a new list");
                }
            }
            l
        }
        How::DictSetItem => {
            let d = ctx_call!(ctx, ctx_Dict_New);
            for (k, v) in keys.iter().zip(items) {
                let rc = ctx_call!(ctx, ctx_SetItem, d, h(k), h(v));
                assert_eq!(rc, 0, "HPy_SetItem on a new dict");
            }
            d
        }
    };
    from_universal_handle(py, result)
}

/// The C API leg.
fn run_capi<'py>(
    py: Py<'py>,
    c: &Case,
    items: &[Obj<'py>],
    keys: &[Obj<'py>],
) -> Outcome<Obj<'py>> {
    let fill = c.size == items.len() as isize;
    // SAFETY: GIL held; the SetItem functions of tuples and lists steal the
    // new reference each is given, PyDict_SetItem borrows; indices are in
    // range.
    unsafe {
        match c.how {
            How::TupleBuilder | How::TupleFromArray => {
                let n = if c.how == How::TupleFromArray && !fill {
                    c.size.min(0)
                } else {
                    c.size
                };
                let t = Obj::from_owned(py, ffi::PyTuple_New(n))?;
                if fill {
                    for (i, it) in items.iter().enumerate() {
                        ffi::PyTuple_SetItem(t.as_ptr(), i as isize, it.clone().into_ptr());
                    }
                }
                Ok(t)
            }
            How::ListBuilder | How::ListNewSetItem => {
                let l = Obj::from_owned(py, ffi::PyList_New(c.size))?;
                if fill {
                    for (i, it) in items.iter().enumerate() {
                        ffi::PyList_SetItem(l.as_ptr(), i as isize, it.clone().into_ptr());
                    }
                }
                Ok(l)
            }
            How::DictSetItem => {
                let d = Obj::from_owned(py, ffi::PyDict_New())?;
                for (k, v) in keys.iter().zip(items) {
                    assert_eq!(ffi::PyDict_SetItem(d.as_ptr(), k.as_ptr(), v.as_ptr()), 0);
                }
                Ok(d)
            }
        }
    }
}

fn refcounts(objs: &[Obj<'_>]) -> Vec<isize> {
    // SAFETY: GIL held; live objects.
    objs.iter()
        .map(|o| unsafe { ffi::Py_REFCNT(o.as_ptr()) })
        .collect()
}

/// Runs one leg on fresh items; its described result and whether every
/// item's reference count is back where it was once the result is gone.
fn leg(
    c: &Case,
    run: impl for<'py> Fn(Py<'py>, &[Obj<'py>], &[Obj<'py>]) -> Outcome<Obj<'py>>,
) -> (String, bool) {
    with_gil(|py| {
        let items: Vec<Obj<'_>> = c.items.iter().map(|src| eval(py, src)).collect();
        let keys = keys(
            py,
            if c.how == How::DictSetItem {
                items.len()
            } else {
                0
            },
        );
        let before = (refcounts(&items), refcounts(&keys));
        let described = describe_result(run(py, &items, &keys), &items);
        let balanced = (refcounts(&items), refcounts(&keys)) == before;
        (described, balanced)
    })
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let reference = leg(c, |py, items, keys| run_capi(py, c, items, keys));
    prop_assert!(
        reference.1,
        "the C API leg leaked or lost a reference: {:?}",
        c
    );
    for (abi, ctx) in [
        ("universal", universal_ctx as fn(Py<'_>) -> Ctx),
        ("CPython ABI", cpython_abi_ctx),
    ] {
        let ours = leg(c, |py, items, keys| run_hpy(py, ctx(py), c, items, keys));
        prop_assert!(ours.1, "[{}] items' reference counts changed: {:?}", abi, c);
        if c.cancel {
            prop_assert_eq!(&ours.0, "ok: str[str: 'cancelled']", "[{}] {:?}", abi, c);
        } else if ours.0 != reference.0 {
            let context = format!("{:?} size={} -> {}", c.how, c.size, reference.0);
            prop_assert!(
                differences::allowed("builders", &context, &ours.0).is_some(),
                "[{}] {:?}:\n   CPython: {}\n       HPy: {}\n (no row of differences.tsv allows it)",
                abi, c, reference.0, ours.0
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    /// Containers made item by item (or cancelled) agree with the C API's,
    /// with every item the object given and no reference lost or leaked.
    #[test]
    fn builders_agree(c in case()) {
        check(&c)?;
    }
}
