//! The CPython ABI (`cpython-abi`): the extension's own context, filled on
//! first use, with `hpy-cpython`'s functions (which `raw` calls directly).

use hpy_sys::HPyContext;

struct CtxCell(core::cell::UnsafeCell<HPyContext>);

// SAFETY: filled once under the interpreter lock (`context`), then only
// read; the runtime never writes to it.
unsafe impl Sync for CtxCell {}

static CTX: CtxCell = CtxCell(core::cell::UnsafeCell::new(
    // SAFETY: HPyContext is plain data (pointers, integers, handles and
    // Option<fn>), for which all-zero is a valid value.
    unsafe { core::mem::zeroed() },
));

/// `ctx->name` in this ABI (upstream's tests compare it verbatim).
const NAME: &core::ffi::CStr = c"HPy CPython ABI";

/// The context (filled on the first call, from `PyInit_<name>`, which runs
/// with the interpreter held).
#[inline(always)]
pub fn context() -> *mut HPyContext {
    let p = CTX.0.get();
    // SAFETY: the interpreter lock serialises the first fill (every caller
    // holds it); afterwards `name` is non-NULL and nothing writes again.
    unsafe {
        if (*p).name.is_null() {
            fill(p);
        }
    }
    p
}

#[cold]
unsafe fn fill(p: *mut HPyContext) {
    // SAFETY: see `context`: exclusive access under the interpreter lock.
    unsafe {
        hpy_cpython::context::fill_context(
            &mut *p,
            NAME,
            crate::raw::ctx_CallRealFunctionFromTrampoline_fn(),
        )
    }
}

/// `PyInit_<name>`'s body: the module definition for CPython's multi-phase
/// initialisation.
pub fn py_init(
    def: *mut hpy_sys::HPyModuleDef,
    name: &'static core::ffi::CStr,
) -> *mut hpy_cpython::ffi::PyObject {
    context();
    // SAFETY: `def` is the module's static definition (module_init), `name`
    // a static string; PyInit runs with the interpreter held.
    unsafe { hpy_cpython::module::module_def_init(&*def, name.as_ptr()) }
}

/// The items of a tuple (`tp_new`/`tp_init` arguments), or NULL for NULL.
#[inline(always)]
pub fn tuple_items(t: *mut hpy_cpython::ffi::PyObject) -> *const *mut hpy_cpython::ffi::PyObject {
    if t.is_null() {
        return core::ptr::null();
    }
    // SAFETY: CPython passes a tuple; its items are contiguous.
    unsafe {
        (*t.cast::<hpy_cpython::ffi::PyTupleObject>())
            .ob_item
            .as_ptr()
    }
}

/// The length of a tuple, or 0 for NULL.
#[inline(always)]
pub fn tuple_len(t: *mut hpy_cpython::ffi::PyObject) -> isize {
    if t.is_null() {
        return 0;
    }
    // SAFETY: CPython passes a tuple.
    unsafe { hpy_cpython::ffi::PyTuple_GET_SIZE(t) }
}
