//! A model of debug mode: generated sequences of operations on the debug
//! context (open a handle for an object, dup, close, leak, use after close
//! through `HPy_Repr`/`HPy_Dup`/`Set`, double close; tuple and list
//! builders: new, set, build, cancel, use after build) are run against the
//! real debug context and, step by step, against a small model of its
//! handle table: which handles are open, which wait in the closed-handles
//! queue (whose size each sequence picks), which slots were handed back,
//! and which builders are consumed; trackers (new, add any handle,
//! forget all, close: every added handle closed in order) too. After each step the results (objects,
//! exceptions) agree; after each sequence the debug context's report agrees
//! with the model: the open handles of the sequence's generation (its
//! leaks, in opening order), its closed handles still queued, and how many
//! invalid handles and invalid builders were reported.
//!
//! Invalid uses are reported to the `on_invalid_handle` and
//! `on_invalid_builder_handle` callbacks (which count them) instead of
//! aborting the process. A handle used after close still reaches its
//! (stale) object: the test keeps every object it ever handed to the debug
//! context alive until the sequence ends, so no freed memory is read.

use hpy_props::*;
use hpy_sys::{HPyListBuilder, HPyTracker, HPyTupleBuilder};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The debug context's state is process-wide: one sequence at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Tuple,
    List,
}

#[derive(Clone, Debug)]
enum Step {
    /// `HPy_FromPyObject` of an object of the pool.
    Open(usize),
    /// `HPy_Dup` of any handle of the sequence (closed ones included).
    Dup(Index),
    /// `HPy_Close` of any handle that is not leaked (closed ones included).
    Close(Index),
    /// This handle is never closed: it must show up as a leak.
    Leak(Index),
    /// `HPy_Repr` of any handle (a use after close when it is closed).
    Repr(Index),
    BuilderNew(Kind, isize),
    /// `Set(builder, index, handle)`, any builder and handle.
    BuilderSet(Index, isize, Index),
    BuilderBuild(Index),
    BuilderCancel(Index),
    /// `HPy_Dup` of a context constant (`h_None`, `h_True`, `h_TypeError`).
    ConstDup(usize),
    /// `HPy_Close` of a context constant: reported, changes nothing.
    ConstClose(usize),
    /// `HPyTracker_New` with a size hint.
    TrackerNew(isize),
    /// `HPyTracker_Add(tracker, handle)`: any live tracker, any handle (a
    /// closed one is reported, and closed again, reported again, by the
    /// tracker's `Close`).
    TrackerAdd(Index, Index),
    TrackerForgetAll(Index),
    /// `HPyTracker_Close`: closes every handle added since the last
    /// `ForgetAll`, in order. (A tracker used after its close is a fatal
    /// error, tested in `tests/python/test_debug_checks.py`, not here.)
    TrackerClose(Index),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..4).prop_map(Step::Open),
        2 => any::<Index>().prop_map(Step::Dup),
        4 => any::<Index>().prop_map(Step::Close),
        1 => any::<Index>().prop_map(Step::Leak),
        3 => any::<Index>().prop_map(Step::Repr),
        2 => (select(vec![Kind::Tuple, Kind::List]), -1isize..4).prop_map(|(k, n)| Step::BuilderNew(k, n)),
        3 => (any::<Index>(), -1isize..4, any::<Index>()).prop_map(|(b, i, h)| Step::BuilderSet(b, i, h)),
        2 => any::<Index>().prop_map(Step::BuilderBuild),
        1 => any::<Index>().prop_map(Step::BuilderCancel),
        1 => (0usize..3).prop_map(Step::ConstDup),
        1 => (0usize..3).prop_map(Step::ConstClose),
        1 => (-1isize..4).prop_map(Step::TrackerNew),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(t, h)| Step::TrackerAdd(t, h)),
        1 => any::<Index>().prop_map(Step::TrackerForgetAll),
        1 => any::<Index>().prop_map(Step::TrackerClose),
    ]
}

/// A sequence: the closed-handles queue size it runs with, and its steps.
fn scenario() -> impl Strategy<Value = (usize, Vec<Step>)> {
    (
        select(vec![0usize, 1, 2, 3, 5, 1024]),
        proptest::collection::vec(step(), 1..48),
    )
}

/// What the model knows of a debug handle's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    /// Open, holding the object of this index in `objs`.
    Open(usize),
    /// Closed, waiting in the queue (a use is reported, and reaches the
    /// stale object).
    Queued(usize),
    /// Out of the table (a use is reported as an unknown handle and
    /// reaches HPy_NULL); the slot may be handed out again.
    Gone,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum BuilderState {
    /// `New` failed (negative size): the builder is 0.
    Failed,
    Open {
        kind: Kind,
        items: Vec<Option<usize>>,
    },
    /// Built or cancelled; still recognised (a use is reported).
    Consumed,
    /// Consumed long ago: freed, unknown (a use is reported).
    Gone,
}

/// The model, and the record of what the sequence made.
struct Model {
    queue_max: usize,
    /// Every handle value the sequence received (in order), and whether
    /// it was marked leaked. The same value can come again (a slot reused).
    handles: Vec<(isize, bool)>,
    slots: HashMap<isize, SlotState>,
    /// Open handles, in opening order.
    open: Vec<isize>,
    /// The closed-handles queue; `None` for entries of earlier sequences.
    queue: VecDeque<Option<isize>>,
    /// Every builder value the sequence received (0 for a failed `New`).
    builders: Vec<isize>,
    bstate: HashMap<isize, BuilderState>,
    /// Consumed builders, oldest first (the queue keeps the newest
    /// `queue_max` of them).
    consumed: Vec<isize>,
    handle_reports: usize,
    builder_reports: usize,
    /// Live trackers (value, the handles added since the last `ForgetAll`),
    /// oldest first.
    trackers: Vec<(isize, Vec<isize>)>,
}

/// What a use of a handle reaches, as the model predicts it.
enum Reach {
    Obj(usize),
    Null,
}

impl Model {
    /// A handle the context just opened, holding `obj`: checks that it is
    /// the slot the model expects (the oldest queued one when the queue is
    /// full, else one that is not in the table).
    fn opened(&mut self, v: isize, obj: usize) -> Result<(), TestCaseError> {
        prop_assert!(v != 0, "a new handle is HPy_NULL");
        if !self.queue.is_empty() && self.queue.len() >= self.queue_max {
            let front = self.queue.pop_front().unwrap();
            if let Some(x) = front {
                prop_assert_eq!(v, x, "a full queue hands its oldest slot to a new handle");
                self.slots.insert(x, SlotState::Gone);
            }
        }
        let s = self.slots.get(&v).copied();
        prop_assert!(
            matches!(s, None | Some(SlotState::Gone)),
            "new handle {:#x} is a slot still in the table ({:?})",
            v,
            s
        );
        self.slots.insert(v, SlotState::Open(obj));
        self.open.push(v);
        self.handles.push((v, false));
        Ok(())
    }

    /// What using handle `v` reaches; counts the report of an invalid use.
    fn use_handle(&mut self, v: isize) -> Reach {
        match self.slots[&v] {
            SlotState::Open(o) => Reach::Obj(o),
            SlotState::Queued(o) => {
                self.handle_reports += 1;
                Reach::Obj(o)
            }
            SlotState::Gone => {
                self.handle_reports += 1;
                Reach::Null
            }
        }
    }

    fn close(&mut self, v: isize) {
        match self.slots[&v] {
            SlotState::Open(o) => {
                self.slots.insert(v, SlotState::Queued(o));
                self.open.retain(|&x| x != v);
                self.queue.push_back(Some(v));
                if self.queue.len() > self.queue_max {
                    if let Some(Some(x)) = self.queue.pop_front() {
                        self.slots.insert(x, SlotState::Gone);
                    }
                }
            }
            SlotState::Queued(_) | SlotState::Gone => self.handle_reports += 1,
        }
    }

    fn builder_opened(&mut self, b: isize, kind: Kind, size: isize) -> Result<(), TestCaseError> {
        if size < 0 {
            prop_assert_eq!(b, 0, "New with a negative size gives the failed builder 0");
            self.builders.push(0);
            return Ok(());
        }
        let s = self.bstate.get(&b).cloned();
        prop_assert!(
            b != 0 && matches!(s, None | Some(BuilderState::Gone)),
            "new builder {:#x} is a live one ({:?})",
            b,
            s
        );
        self.bstate.insert(
            b,
            BuilderState::Open {
                kind,
                items: vec![None; size as usize],
            },
        );
        self.builders.push(b);
        Ok(())
    }

    fn builder_state(&self, b: isize) -> BuilderState {
        if b == 0 {
            BuilderState::Failed
        } else {
            self.bstate[&b].clone()
        }
    }

    /// Marks `b` consumed; the consumed-builders queue keeps the newest
    /// `queue_max`, older ones are freed.
    fn consume(&mut self, b: isize) {
        self.bstate.insert(b, BuilderState::Consumed);
        self.consumed.push(b);
        let keep = self.consumed.len().saturating_sub(self.queue_max);
        for &x in &self.consumed[..keep] {
            if self.bstate.get(&x) == Some(&BuilderState::Consumed) {
                self.bstate.insert(x, BuilderState::Gone);
            }
        }
    }
}

/// Reads the counters the report callbacks increment.
fn counter(py: Py<'_>, name: &str) -> usize {
    let o = eval(py, &format!("len({name})"));
    // SAFETY: GIL held; `o` is an int.
    unsafe { ffi::PyLong_AsSsize_t(o.as_ptr()) as usize }
}

/// Installs the report callbacks (once; they append to two lists).
fn install_callbacks(py: Py<'_>) {
    exec(
        py,
        "try:\n    _invalid_handles\nexcept NameError:\n    _invalid_handles = []\n    _invalid_builders = []\n",
    );
    let h = eval(py, "lambda: _invalid_handles.append(1)");
    let b = eval(py, "lambda: _invalid_builders.append(1)");
    // SAFETY: GIL held; the setters take their own references.
    unsafe {
        hpy_debug::set_on_invalid_handle(h.as_ptr());
        hpy_debug::set_on_invalid_builder_handle(b.as_ptr());
    }
}

/// The object behind an open debug handle (a new reference).
fn object_of<'py>(py: Py<'py>, h: HPy) -> Obj<'py> {
    // SAFETY: `h` is open (checked by the caller's model); universal handles
    // are the objects themselves; GIL held.
    unsafe {
        let uh = hpy_debug::unwrap_handle(h);
        Obj::borrowed(py, uh._i as *mut ffi::PyObject)
    }
}

/// The constants `ConstDup`/`ConstClose` use; their objects are `objs[4..7]`.
fn consts(d: *mut HPyContext) -> [HPy; 3] {
    // SAFETY: `d` is the live debug context.
    let d = unsafe { &*d };
    [d.h_None, d.h_True, d.h_TypeError]
}

fn pick<T: Copy>(v: &[T], i: &Index) -> Option<T> {
    (!v.is_empty()).then(|| v[i.index(v.len())])
}

/// Runs one sequence against the debug context and the model.
fn run_scenario(queue_max: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    with_gil(|py| {
        let d = debug_ctx(py);
        install_callbacks(py);
        let (h0, b0) = (
            counter(py, "_invalid_handles"),
            counter(py, "_invalid_builders"),
        );
        let foreign = hpy_debug::closed_handles(0).len();
        hpy_debug::set_closed_handles_queue_max_size(queue_max);
        let gen = hpy_debug::new_generation();
        // Every object the debug context is given or gives back, kept
        // alive until the end (a use after close reaches a stale object).
        let mut objs: Vec<Obj<'_>> = vec![
            eval(py, "10**20 + 7"),
            eval(py, "'spam'"),
            eval(py, "[1, 2]"),
            eval(py, "2.5"),
            // the objects of the constants of `CONSTS`
            eval(py, "None"),
            eval(py, "True"),
            eval(py, "TypeError"),
        ];
        let mut m = Model {
            queue_max,
            handles: vec![],
            slots: HashMap::new(),
            open: vec![],
            queue: std::iter::repeat_n(None, foreign).collect(),
            builders: vec![],
            bstate: HashMap::new(),
            consumed: vec![],
            handle_reports: 0,
            builder_reports: 0,
            trackers: vec![],
        };
        let result = run_steps(py, d, &mut m, &mut objs, steps);
        let report = result.and_then(|()| {
            // The debug context's report against the model's.
            let open: Vec<isize> = hpy_debug::open_handles(gen)
                .iter()
                .map(|h| h.id() as isize)
                .collect();
            prop_assert_eq!(&open, &m.open, "open handles of the generation (the leaks)");
            let queued: Vec<isize> = hpy_debug::closed_handles(gen)
                .iter()
                .map(|h| h.id() as isize)
                .collect();
            let expected: Vec<isize> = m.queue.iter().flatten().copied().collect();
            prop_assert_eq!(queued, expected, "closed handles still queued");
            prop_assert_eq!(
                counter(py, "_invalid_handles") - h0,
                m.handle_reports,
                "invalid handles reported"
            );
            prop_assert_eq!(
                counter(py, "_invalid_builders") - b0,
                m.builder_reports,
                "invalid builders reported"
            );
            Ok(())
        });
        // Clean up whatever happened: close the leaks, cancel open builders.
        let _ = take_err(py);
        for &v in &m.open.clone() {
            ctx_call!(d, ctx_Close, HPy { _i: v });
        }
        for &b in &m.builders {
            if let Some(BuilderState::Open { kind, .. }) = m.bstate.get(&b) {
                match kind {
                    Kind::Tuple => {
                        ctx_call!(d, ctx_TupleBuilder_Cancel, HPyTupleBuilder { _tup: b })
                    }
                    Kind::List => ctx_call!(d, ctx_ListBuilder_Cancel, HPyListBuilder { _lst: b }),
                }
            }
        }
        for &(t, _) in &m.trackers {
            ctx_call!(d, ctx_Tracker_ForgetAll, HPyTracker { _i: t });
            ctx_call!(d, ctx_Tracker_Close, HPyTracker { _i: t });
        }
        hpy_debug::set_closed_handles_queue_max_size(1024);
        assert_no_err(py, "after the clean-up");
        report
    })
}

fn run_steps<'py>(
    py: Py<'py>,
    d: *mut HPyContext,
    m: &mut Model,
    objs: &mut Vec<Obj<'py>>,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    for (n, step) in steps.iter().enumerate() {
        let all: Vec<isize> = m.handles.iter().map(|&(v, _)| v).collect();
        let closable: Vec<isize> = m
            .handles
            .iter()
            .filter(|&&(_, leaked)| !leaked)
            .map(|&(v, _)| v)
            .collect();
        let ctx_of = |what: &str| format!("step {n} ({step:?}): {what}");
        match step {
            Step::Open(i) => {
                let o = objs[*i].as_ptr();
                let h = ctx_call!(d, ctx_FromPyObject, o.cast());
                assert_no_err(py, "HPy_FromPyObject");
                m.opened(h._i, *i)?;
            }
            Step::Dup(i) => {
                let Some(v) = pick(&all, i) else { continue };
                let reach = m.use_handle(v);
                let h = ctx_call!(d, ctx_Dup, HPy { _i: v });
                assert_no_err(py, "HPy_Dup");
                match reach {
                    Reach::Obj(o) => {
                        prop_assert_eq!(
                            object_of(py, h).as_ptr(),
                            objs[o].as_ptr(),
                            "{}",
                            ctx_of("the dup holds the object")
                        );
                        m.opened(h._i, o)?;
                    }
                    Reach::Null => {
                        prop_assert!(h.is_null(), "{}", ctx_of("dup of an unknown handle"))
                    }
                }
            }
            Step::Close(i) => {
                let Some(v) = pick(&closable, i) else {
                    continue;
                };
                ctx_call!(d, ctx_Close, HPy { _i: v });
                assert_no_err(py, "HPy_Close");
                m.close(v);
            }
            Step::Leak(i) => {
                if let Some(k) = (!m.handles.is_empty()).then(|| i.index(m.handles.len())) {
                    m.handles[k].1 = true;
                }
            }
            Step::Repr(i) => {
                let Some(v) = pick(&all, i) else { continue };
                let reach = m.use_handle(v);
                let h = ctx_call!(d, ctx_Repr, HPy { _i: v });
                prop_assert!(!h.is_null(), "{}", ctx_of("HPy_Repr failed"));
                assert_no_err(py, "HPy_Repr");
                let r = object_of(py, h);
                let expected = match reach {
                    Reach::Obj(o) => repr(&objs[o]),
                    Reach::Null => "<NULL>".to_string(),
                };
                prop_assert_eq!(text(&r), expected, "{}", ctx_of("repr"));
                objs.push(r);
                m.opened(h._i, objs.len() - 1)?;
            }
            Step::ConstDup(i) => {
                let h = ctx_call!(d, ctx_Dup, consts(d)[*i]);
                assert_no_err(py, "HPy_Dup of a constant");
                prop_assert_eq!(
                    object_of(py, h).as_ptr(),
                    objs[4 + i].as_ptr(),
                    "{}",
                    ctx_of("dup of a constant")
                );
                m.opened(h._i, 4 + i)?;
            }
            Step::ConstClose(i) => {
                ctx_call!(d, ctx_Close, consts(d)[*i]);
                assert_no_err(py, "HPy_Close of a constant");
                m.handle_reports += 1;
            }
            Step::TrackerNew(size) => {
                let t = ctx_call!(d, ctx_Tracker_New, *size);
                assert_no_err(py, "HPyTracker_New");
                prop_assert!(t._i != 0, "{}", ctx_of("a new tracker is 0"));
                prop_assert!(
                    m.trackers.iter().all(|&(x, _)| x != t._i),
                    "{}",
                    ctx_of("a new tracker is a live one")
                );
                m.trackers.push((t._i, vec![]));
            }
            Step::TrackerAdd(ti, hi) => {
                let (Some(k), Some(v)) = (
                    (!m.trackers.is_empty()).then(|| ti.index(m.trackers.len())),
                    pick(&all, hi),
                ) else {
                    continue;
                };
                let _ = m.use_handle(v);
                let t = HPyTracker {
                    _i: m.trackers[k].0,
                };
                let r = ctx_call!(d, ctx_Tracker_Add, t, HPy { _i: v });
                assert_no_err(py, "HPyTracker_Add");
                prop_assert_eq!(r, 0, "{}", ctx_of("HPyTracker_Add"));
                m.trackers[k].1.push(v);
            }
            Step::TrackerForgetAll(ti) | Step::TrackerClose(ti) => {
                let Some(k) = (!m.trackers.is_empty()).then(|| ti.index(m.trackers.len())) else {
                    continue;
                };
                let t = HPyTracker {
                    _i: m.trackers[k].0,
                };
                if matches!(step, Step::TrackerForgetAll(_)) {
                    ctx_call!(d, ctx_Tracker_ForgetAll, t);
                    m.trackers[k].1.clear();
                } else {
                    ctx_call!(d, ctx_Tracker_Close, t);
                    let (_, added) = m.trackers.remove(k);
                    for v in added {
                        m.close(v);
                    }
                }
                assert_no_err(py, "HPyTracker_ForgetAll/Close");
            }
            Step::BuilderNew(kind, size) => {
                let b = match kind {
                    Kind::Tuple => ctx_call!(d, ctx_TupleBuilder_New, *size)._tup,
                    Kind::List => ctx_call!(d, ctx_ListBuilder_New, *size)._lst,
                };
                assert_no_err(py, "Builder_New");
                m.builder_opened(b, *kind, *size)?;
            }
            Step::BuilderSet(bi, index, hi) => {
                let (Some(b), Some(v)) = (pick(&m.builders, bi), pick(&all, hi)) else {
                    continue;
                };
                let state = m.builder_state(b);
                // arguments are checked in order: the builder, then the item
                if matches!(state, BuilderState::Consumed | BuilderState::Gone) {
                    m.builder_reports += 1;
                }
                let reach = m.use_handle(v);
                let kind = match &state {
                    BuilderState::Open { kind, .. } => *kind,
                    _ => Kind::Tuple, // a dead builder: either setter ignores it
                };
                match kind {
                    Kind::Tuple => ctx_call!(
                        d,
                        ctx_TupleBuilder_Set,
                        HPyTupleBuilder { _tup: b },
                        *index,
                        HPy { _i: v }
                    ),
                    Kind::List => ctx_call!(
                        d,
                        ctx_ListBuilder_Set,
                        HPyListBuilder { _lst: b },
                        *index,
                        HPy { _i: v }
                    ),
                }
                assert_no_err(py, "Builder_Set");
                if let (BuilderState::Open { kind, mut items }, Reach::Obj(o)) = (state, reach) {
                    if *index >= 0 && (*index as usize) < items.len() {
                        items[*index as usize] = Some(o);
                        m.bstate.insert(b, BuilderState::Open { kind, items });
                    }
                }
            }
            Step::BuilderBuild(bi) | Step::BuilderCancel(bi) => {
                let Some(b) = pick(&m.builders, bi) else {
                    continue;
                };
                let build = matches!(step, Step::BuilderBuild(_));
                let state = m.builder_state(b);
                let kind = match &state {
                    BuilderState::Open { kind, .. } => *kind,
                    _ => Kind::Tuple,
                };
                let h = match (kind, build) {
                    (Kind::Tuple, true) => {
                        ctx_call!(d, ctx_TupleBuilder_Build, HPyTupleBuilder { _tup: b })
                    }
                    (Kind::List, true) => {
                        ctx_call!(d, ctx_ListBuilder_Build, HPyListBuilder { _lst: b })
                    }
                    (Kind::Tuple, false) => {
                        ctx_call!(d, ctx_TupleBuilder_Cancel, HPyTupleBuilder { _tup: b });
                        HPy_NULL
                    }
                    (Kind::List, false) => {
                        ctx_call!(d, ctx_ListBuilder_Cancel, HPyListBuilder { _lst: b });
                        HPy_NULL
                    }
                };
                let err = take_err(py);
                let no_builder = Some(PyErr {
                    ty: "MemoryError".into(),
                    msg: String::new(),
                });
                match state {
                    BuilderState::Failed => {
                        prop_assert!(h.is_null());
                        prop_assert_eq!(
                            err,
                            if build { no_builder } else { None },
                            "{}",
                            ctx_of("failed builder")
                        );
                    }
                    BuilderState::Consumed | BuilderState::Gone => {
                        m.builder_reports += 1;
                        prop_assert!(h.is_null());
                        prop_assert_eq!(
                            err,
                            if build { no_builder } else { None },
                            "{}",
                            ctx_of("dead builder")
                        );
                    }
                    BuilderState::Open { kind, items } => {
                        m.consume(b);
                        if !build {
                            prop_assert_eq!(err, None);
                            continue;
                        }
                        let api = match kind {
                            Kind::Tuple => "HPyTupleBuilder_Build",
                            Kind::List => "HPyListBuilder_Build",
                        };
                        if let Some(missing) = items.iter().position(Option::is_none) {
                            prop_assert!(h.is_null());
                            prop_assert_eq!(
                                err,
                                Some(PyErr {
                                    ty: "SystemError".into(),
                                    msg: format!("{api}: item {missing} was never set"),
                                }),
                                "{}",
                                ctx_of("unset item")
                            );
                            continue;
                        }
                        prop_assert_eq!(err, None, "{}", ctx_of("build"));
                        let r = object_of(py, h);
                        // the container holds exactly the objects set
                        let got: Vec<*mut ffi::PyObject> = (0..items.len())
                            // SAFETY: GIL held; `r` is a tuple or list of
                            // items.len() items (checked by the type below).
                            .map(|i| unsafe { ffi::PySequence_GetItem(r.as_ptr(), i as isize) })
                            .map(|p| {
                                // SAFETY: a new reference to a live item.
                                let o = unsafe { Obj::from_owned(py, p) }.expect("item");
                                o.as_ptr()
                            })
                            .collect();
                        let want: Vec<*mut ffi::PyObject> =
                            items.iter().map(|o| objs[o.unwrap()].as_ptr()).collect();
                        prop_assert_eq!(got, want, "{}", ctx_of("built items"));
                        let tn = type_name(&r);
                        prop_assert_eq!(tn, if kind == Kind::Tuple { "tuple" } else { "list" });
                        objs.push(r);
                        m.opened(h._i, objs.len() - 1)?;
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// Handles and builders together, with a queue size per sequence.
    #[test]
    fn debug_context_matches_model((queue_max, steps) in scenario()) {
        run_scenario(queue_max, &steps)?;
    }

    /// Handles only, long sequences with a short queue: slots are
    /// evicted and reused often.
    #[test]
    fn debug_handles_match_model(
        queue_max in 0usize..4,
        steps in proptest::collection::vec(
            prop_oneof![
                3 => (0usize..4).prop_map(Step::Open),
                2 => any::<Index>().prop_map(Step::Dup),
                4 => any::<Index>().prop_map(Step::Close),
                1 => any::<Index>().prop_map(Step::Leak),
                3 => any::<Index>().prop_map(Step::Repr),
            ],
            1..96,
        ),
    ) {
        run_scenario(queue_max, &steps)?;
    }
}
