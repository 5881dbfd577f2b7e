//! `hpy.universal._debug` (a module named `hpy.debug._debug`, used by
//! `python/hpy/debug`): the Python face of the debug context (`hpy-debug`):
//! its `DebugHandle` views of handles, generations and settings.

use pyo3_ffi as ffi;
use std::ffi::{c_int, c_void};
use std::ptr::null_mut;

/// A `DebugHandle` Python object: a view of one debug handle's slot (it
/// sees the slot's current state, including its reuse for a newer handle).
#[repr(C)]
struct DebugHandleObject {
    ob_base: ffi::PyObject,
    /// Always `Some` once created; taken (unpinning the slot) on dealloc.
    handle: Option<hpy_debug::HandleRef>,
}

static mut DEBUG_HANDLE_TYPE: *mut ffi::PyObject = null_mut();

/// # Safety
/// GIL held; the type is initialised.
unsafe fn new_handle_object(handle: hpy_debug::HandleRef) -> *mut ffi::PyObject {
    // SAFETY: GIL held; the type object was created in `create`, its basic
    // size is that of `DebugHandleObject`; the allocation is zeroed, which is
    // a valid `None` for the handle field, written once here.
    unsafe {
        let tp = DEBUG_HANDLE_TYPE as *mut ffi::PyTypeObject;
        let o = ffi::PyType_GenericAlloc(tp, 0) as *mut DebugHandleObject;
        if o.is_null() {
            return null_mut();
        }
        std::ptr::addr_of_mut!((*o).handle).write(Some(handle));
        o.cast()
    }
}

unsafe extern "C" fn dh_dealloc(o: *mut ffi::PyObject) {
    // SAFETY: `o` is a DebugHandleObject being deallocated; GIL held.
    unsafe {
        let d = o as *mut DebugHandleObject;
        drop((*d).handle.take());
        let tp = ffi::Py_TYPE(o);
        let free = (*tp).tp_free.unwrap();
        free(o.cast());
        ffi::Py_DECREF(tp.cast());
    }
}

fn this(o: *mut ffi::PyObject) -> &'static hpy_debug::HandleRef {
    // SAFETY: getters/methods of DebugHandle get a DebugHandleObject, whose
    // handle is set at creation and only taken by dealloc.
    unsafe {
        (*(o as *const DebugHandleObject))
            .handle
            .as_ref()
            .expect("DebugHandle without a handle")
    }
}

/// The object a handle holds (new reference), or NULL if it is closed.
///
/// # Safety
/// GIL held.
unsafe fn handle_object(h: &hpy_debug::HandleRef) -> *mut ffi::PyObject {
    // Universal handles are the objects themselves (ARCHITECTURE.md).
    let p = h
        .inner_handle()
        .map_or(null_mut(), |uh| uh._i as *mut ffi::PyObject);
    // SAFETY: GIL held; an open handle keeps its object alive.
    unsafe { ffi::Py_XINCREF(p) };
    p
}

/// The getters of `DebugHandle`: each reads the handle's view `$h` (a
/// `&HandleRef`) and returns a new reference (or NULL with an exception set).
macro_rules! handle_getters {
    ($($name:ident($h:ident) => $value:expr;)*) => {$(
        unsafe extern "C" fn $name(o: *mut ffi::PyObject, _c: *mut c_void) -> *mut ffi::PyObject {
            let $h = this(o);
            // SAFETY: GIL held (CPython calls getters with it).
            unsafe { $value }
        }
    )*};
}

handle_getters! {
    dh_get_obj(h) => {
        let p = handle_object(h);
        if p.is_null() {
            none()
        } else {
            p
        }
    };
    dh_get_id(h) => ffi::PyLong_FromSize_t(h.id());
    dh_get_is_closed(h) => ffi::PyBool_FromLong(h.is_closed() as _);
    dh_get_raw_data_size(h) => ffi::PyLong_FromLongLong(h.raw_data_size());
    dh_get_stack_trace(h) => match h.allocation_stack_trace() {
        Some(t) => ffi::PyUnicode_FromStringAndSize(t.as_ptr().cast(), t.len() as ffi::Py_ssize_t),
        None => none(),
    };
}

unsafe extern "C" fn dh_force_close(
    o: *mut ffi::PyObject,
    _a: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held; the debug context exists if any handle does.
    unsafe {
        this(o).force_close();
        none()
    }
}

unsafe extern "C" fn dh_repr(o: *mut ffi::PyObject) -> *mut ffi::PyObject {
    use std::fmt::Write;
    let h = this(o);
    // SAFETY: GIL held; the object reference and its repr are released after
    // use; `u` points to `n` bytes owned by `r`, read before `r` is released.
    unsafe {
        let obj = handle_object(h);
        let trace = h.allocation_stack_trace();
        let tail = match &trace {
            Some(t) => t.as_str(),
            None => hpy_debug::stack_trace_hint(),
        };
        let mut s = String::with_capacity(64 + tail.len());
        if obj.is_null() {
            let _ = write!(s, "<DebugHandle {:#x} CLOSED>", h.id());
        } else {
            let r = ffi::PyObject_Repr(obj);
            ffi::Py_DECREF(obj);
            if r.is_null() {
                return null_mut();
            }
            let mut n: ffi::Py_ssize_t = 0;
            let u = ffi::PyUnicode_AsUTF8AndSize(r, &mut n);
            let _ = write!(s, "<DebugHandle {:#x} for ", h.id());
            if u.is_null() {
                ffi::PyErr_Clear();
                s.push('?');
            } else {
                let bytes = std::slice::from_raw_parts(u.cast::<u8>(), n as usize);
                s.push_str(&String::from_utf8_lossy(bytes));
            }
            ffi::Py_DECREF(r);
            s.push('>');
        }
        s.push('\n');
        if trace.is_some() {
            s.push_str("Allocation stacktrace:\n");
        }
        s.push_str(tail);
        ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast(), s.len() as ffi::Py_ssize_t)
    }
}

unsafe extern "C" fn dh_richcompare(
    a: *mut ffi::PyObject,
    b: *mut ffi::PyObject,
    op: c_int,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held; `b` is checked to be a DebugHandle before the cast.
    unsafe {
        let tp = DEBUG_HANDLE_TYPE as *mut ffi::PyTypeObject;
        if ffi::PyObject_TypeCheck(b, tp) == 0 || (op != ffi::Py_EQ && op != ffi::Py_NE) {
            let r = ffi::Py_NotImplemented();
            ffi::Py_INCREF(r);
            return r;
        }
        let eq = this(a).id() == this(b).id();
        ffi::PyBool_FromLong(((op == ffi::Py_EQ) == eq) as _)
    }
}

unsafe extern "C" fn dh_hash(o: *mut ffi::PyObject) -> ffi::Py_hash_t {
    // Slot addresses are aligned: drop the always-zero low bits.
    ((this(o).id() >> 3) as ffi::Py_hash_t) & ffi::Py_hash_t::MAX
}

/// Wraps handle references into a new list of `DebugHandle`s.
///
/// # Safety
/// GIL held.
unsafe fn list_of(handles: Vec<hpy_debug::HandleRef>) -> *mut ffi::PyObject {
    // SAFETY: GIL held; PyList_SetItem steals the item reference.
    unsafe {
        let l = ffi::PyList_New(handles.len() as ffi::Py_ssize_t);
        if l.is_null() {
            return null_mut();
        }
        for (i, h) in handles.into_iter().enumerate() {
            let o = new_handle_object(h);
            if o.is_null() {
                ffi::Py_DECREF(l);
                return null_mut();
            }
            ffi::PyList_SetItem(l, i as ffi::Py_ssize_t, o);
        }
        l
    }
}

/// # Safety
/// GIL held.
unsafe fn none() -> *mut ffi::PyObject {
    // SAFETY: GIL held.
    unsafe {
        let n = ffi::Py_None();
        ffi::Py_INCREF(n);
        n
    }
}

/// An int argument (None, with an exception set, if it is not an int).
///
/// # Safety
/// GIL held; `o` a valid object.
unsafe fn int_arg(o: *mut ffi::PyObject) -> Option<i64> {
    // SAFETY: GIL held.
    unsafe {
        let v = ffi::PyLong_AsLongLong(o);
        if v == -1 && !ffi::PyErr_Occurred().is_null() {
            None
        } else {
            Some(v)
        }
    }
}

/// A non-negative int argument (OverflowError for a negative one).
///
/// # Safety
/// GIL held; `o` a valid object.
unsafe fn size_arg(o: *mut ffi::PyObject) -> Option<usize> {
    // SAFETY: GIL held.
    unsafe {
        let v = ffi::PyLong_AsSize_t(o);
        if v == usize::MAX && !ffi::PyErr_Occurred().is_null() {
            None
        } else {
            Some(v)
        }
    }
}

unsafe extern "C" fn new_generation(
    _m: *mut ffi::PyObject,
    _a: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held.
    unsafe { ffi::PyLong_FromUnsignedLongLong(hpy_debug::new_generation()) }
}

unsafe extern "C" fn get_open_handles(
    _m: *mut ffi::PyObject,
    gen: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held; `gen` is the single argument.
    unsafe {
        let Some(g) = int_arg(gen) else {
            return null_mut();
        };
        list_of(hpy_debug::open_handles(g.max(0) as u64))
    }
}

unsafe extern "C" fn get_closed_handles(
    _m: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held; `args` is the positional tuple (METH_VARARGS).
    unsafe {
        let n = ffi::PyTuple_Size(args);
        let mut gen = 0i64;
        if n > 1 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"get_closed_handles() takes at most 1 argument".as_ptr(),
            );
            return null_mut();
        }
        if n == 1 {
            let a = ffi::PyTuple_GetItem(args, 0);
            if a != ffi::Py_None() {
                let Some(g) = int_arg(a) else {
                    return null_mut();
                };
                gen = g;
            }
        }
        list_of(hpy_debug::closed_handles(gen.max(0) as u64))
    }
}

/// A callback argument: `None` clears the callback (NULL), a callable sets
/// it; anything else is a `TypeError` (None returned).
///
/// # Safety
/// GIL held; `cb` a valid object.
unsafe fn callback_arg(cb: *mut ffi::PyObject) -> Option<*mut ffi::PyObject> {
    // SAFETY: GIL held.
    unsafe {
        if cb == ffi::Py_None() {
            Some(null_mut())
        } else if ffi::PyCallable_Check(cb) == 0 {
            ffi::PyErr_SetString(
                ffi::PyExc_TypeError,
                c"Expected a callable object or None".as_ptr(),
            );
            None
        } else {
            Some(cb)
        }
    }
}

/// A stack-trace limit argument: `None` (off) or an int (negative: off).
///
/// # Safety
/// GIL held; `o` a valid object.
unsafe fn limit_arg(o: *mut ffi::PyObject) -> Option<Option<usize>> {
    // SAFETY: GIL held.
    unsafe {
        if o == ffi::Py_None() {
            Some(None)
        } else {
            int_arg(o).map(|v| Some(v.max(0) as usize))
        }
    }
}

/// The debug context's settings as module functions, in one table:
/// `METH_NOARGS` getters returning a size, and `METH_O` setters whose
/// argument goes through a converter (`None` from it: it raised).
macro_rules! settings {
    (
        getters { $($get:ident => $read:path;)* }
        setters { $($set:ident($arg:ident) => $write:path;)* }
    ) => {
        $(
            unsafe extern "C" fn $get(
                _m: *mut ffi::PyObject,
                _a: *mut ffi::PyObject,
            ) -> *mut ffi::PyObject {
                // SAFETY: GIL held (CPython calls methods with it).
                unsafe { ffi::PyLong_FromSize_t($read()) }
            }
        )*
        $(
            unsafe extern "C" fn $set(
                _m: *mut ffi::PyObject,
                v: *mut ffi::PyObject,
            ) -> *mut ffi::PyObject {
                // SAFETY: GIL held (CPython calls methods with it).
                unsafe {
                    let Some(v) = $arg(v) else {
                        return null_mut();
                    };
                    $write(v);
                    none()
                }
            }
        )*
    };
}

settings! {
    getters {
        get_closed_max => hpy_debug::closed_handles_queue_max_size;
        get_raw_max => hpy_debug::protected_raw_data_max_size;
    }
    setters {
        set_closed_max(size_arg) => hpy_debug::set_closed_handles_queue_max_size;
        set_raw_max(size_arg) => hpy_debug::set_protected_raw_data_max_size;
        set_on_invalid_handle(callback_arg) => hpy_debug::set_on_invalid_handle;
        set_on_invalid_builder_handle(callback_arg) => hpy_debug::set_on_invalid_builder_handle;
        set_stack_trace_limit(limit_arg) => hpy_debug::set_handle_stack_trace_limit;
    }
}

macro_rules! meth {
    ($name:literal, $f:ident, $flags:expr) => {
        ffi::PyMethodDef {
            ml_name: $name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer { PyCFunction: $f },
            ml_flags: $flags,
            ml_doc: null_mut(),
        }
    };
}

static mut METHODS: [ffi::PyMethodDef; 11] = [
    meth!(c"new_generation", new_generation, ffi::METH_NOARGS),
    meth!(c"get_open_handles", get_open_handles, ffi::METH_O),
    meth!(c"get_closed_handles", get_closed_handles, ffi::METH_VARARGS),
    meth!(
        c"get_closed_handles_queue_max_size",
        get_closed_max,
        ffi::METH_NOARGS
    ),
    meth!(
        c"set_closed_handles_queue_max_size",
        set_closed_max,
        ffi::METH_O
    ),
    meth!(
        c"get_protected_raw_data_max_size",
        get_raw_max,
        ffi::METH_NOARGS
    ),
    meth!(c"set_protected_raw_data_max_size", set_raw_max, ffi::METH_O),
    meth!(c"set_on_invalid_handle", set_on_invalid_handle, ffi::METH_O),
    meth!(
        c"set_on_invalid_builder_handle",
        set_on_invalid_builder_handle,
        ffi::METH_O
    ),
    meth!(
        c"set_handle_stack_trace_limit",
        set_stack_trace_limit,
        ffi::METH_O
    ),
    ffi::PyMethodDef::zeroed(),
];

static mut DH_METHODS: [ffi::PyMethodDef; 2] = [
    meth!(c"_force_close", dh_force_close, ffi::METH_NOARGS),
    ffi::PyMethodDef::zeroed(),
];

macro_rules! getter {
    ($name:literal, $f:ident) => {
        ffi::PyGetSetDef {
            name: $name.as_ptr(),
            get: Some($f),
            set: None,
            doc: null_mut(),
            closure: null_mut(),
        }
    };
}

static mut DH_GETSET: [ffi::PyGetSetDef; 6] = [
    getter!(c"obj", dh_get_obj),
    getter!(c"id", dh_get_id),
    getter!(c"is_closed", dh_get_is_closed),
    getter!(c"raw_data_size", dh_get_raw_data_size),
    getter!(c"allocation_stack_trace", dh_get_stack_trace),
    ffi::PyGetSetDef {
        name: null_mut(),
        get: None,
        set: None,
        doc: null_mut(),
        closure: null_mut(),
    },
];

static mut MODULE_DEF: ffi::PyModuleDef = crate::util::module_def(c"hpy.debug._debug", None);

/// Creates the `_debug` module (new reference, NULL with an exception set).
///
/// # Safety
/// GIL held; called once, from `PyInit_universal`.
pub unsafe fn create() -> *mut ffi::PyObject {
    // SAFETY: GIL held; the statics are initialised here before CPython reads
    // them and never written afterwards; the new type's tp_new is cleared
    // before anything can see the type or make an instance.
    unsafe {
        let slot = |slot, pfunc: *mut c_void| ffi::PyType_Slot { slot, pfunc };
        let mut slots = [
            slot(ffi::Py_tp_dealloc, dh_dealloc as *mut c_void),
            slot(ffi::Py_tp_repr, dh_repr as *mut c_void),
            slot(ffi::Py_tp_richcompare, dh_richcompare as *mut c_void),
            slot(ffi::Py_tp_hash, dh_hash as *mut c_void),
            slot(ffi::Py_tp_methods, (&raw mut DH_METHODS).cast()),
            slot(ffi::Py_tp_getset, (&raw mut DH_GETSET).cast()),
            slot(0, null_mut()),
        ];
        let mut spec = ffi::PyType_Spec {
            // 'static: before 3.11 the type keeps this pointer as its tp_name.
            name: c"hpy.debug._debug.DebugHandle".as_ptr(),
            basicsize: std::mem::size_of::<DebugHandleObject>() as c_int,
            itemsize: 0,
            flags: ffi::Py_TPFLAGS_DEFAULT as _,
            slots: slots.as_mut_ptr(),
        };
        let tp = ffi::PyType_FromSpec(&mut spec);
        if tp.is_null() {
            return null_mut();
        }
        // Not callable from Python: only `new_handle_object` makes instances
        // (one made by `DebugHandle()` would have no handle). What
        // Py_TPFLAGS_DISALLOW_INSTANTIATION (3.10+) does, for every version.
        (*(tp as *mut ffi::PyTypeObject)).tp_new = None;
        ffi::PyType_Modified(tp as *mut ffi::PyTypeObject);
        DEBUG_HANDLE_TYPE = tp;
        let m = crate::util::create_module(&raw mut MODULE_DEF, (&raw mut METHODS).cast());
        if m.is_null() {
            return null_mut();
        }
        ffi::Py_INCREF(tp);
        if ffi::PyModule_AddObject(m, c"DebugHandle".as_ptr(), tp) < 0 {
            ffi::Py_DECREF(tp);
            ffi::Py_DECREF(m);
            return null_mut();
        }
        m
    }
}
