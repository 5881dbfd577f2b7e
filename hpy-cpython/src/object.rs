//! Object protocol, calls, errors and the containers' basic operations.

use crate::compat::vectorcall;
use crate::ffi;
use crate::handle::{as_obj, from_borrowed, from_owned, new_ref, raise};
use core::ffi::{c_char, c_int};
use hpy_sys::{HPy, HPyContext, HPy_hash_t, HPy_ssize_t};

// SAFETY (whole module): every function is a context member, called by C with
// the GIL held and with handles that are open, i.e. valid `PyObject *`s (or
// HPy_NULL where the API allows it); C strings are NUL-terminated.

pub unsafe extern "C" fn ctx_Dup(_ctx: *mut HPyContext, h: HPy) -> HPy {
    // SAFETY: see module comment.
    unsafe { from_borrowed(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Close(_ctx: *mut HPyContext, h: HPy) {
    // SAFETY: see module comment; closing HPy_NULL is a no-op.
    unsafe { ffi::Py_XDECREF(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_FromPyObject(
    _ctx: *mut HPyContext,
    obj: *mut hpy_sys::cpy_PyObject,
) -> HPy {
    // SAFETY: `obj` is NULL or a live object (hybrid ABI contract).
    unsafe { from_borrowed(obj.cast()) }
}

pub unsafe extern "C" fn ctx_AsPyObject(
    _ctx: *mut HPyContext,
    h: HPy,
) -> *mut hpy_sys::cpy_PyObject {
    let o = as_obj(h);
    // SAFETY: see module comment; the caller receives a new reference.
    unsafe { ffi::Py_XINCREF(o) };
    o.cast()
}

macro_rules! unary_obj {
    ($($name:ident => $f:path),* $(,)?) => {$(
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h: HPy) -> HPy {
            // SAFETY: see module comment.
            from_owned(unsafe { $f(as_obj(h)) })
        }
    )*};
}

unary_obj! {
    ctx_Repr => ffi::PyObject_Repr,
    ctx_Str => ffi::PyObject_Str,
    ctx_ASCII => ffi::PyObject_ASCII,
    ctx_Bytes => ffi::PyObject_Bytes,
    ctx_GetIter => ffi::PyObject_GetIter,
}

pub unsafe extern "C" fn ctx_Type(_ctx: *mut HPyContext, obj: HPy) -> HPy {
    // SAFETY: see module comment.
    unsafe { from_borrowed(ffi::Py_TYPE(as_obj(obj)).cast()) }
}

pub unsafe extern "C" fn ctx_TypeCheck(_ctx: *mut HPyContext, obj: HPy, ty: HPy) -> c_int {
    // SAFETY: see module comment; `ty` must be a type (as in CPython).
    unsafe { ffi::PyObject_TypeCheck(as_obj(obj), as_obj(ty).cast()) }
}

pub unsafe extern "C" fn ctx_Is(_ctx: *mut HPyContext, obj: HPy, other: HPy) -> c_int {
    (obj._i == other._i) as c_int
}

pub unsafe extern "C" fn ctx_IsTrue(_ctx: *mut HPyContext, h: HPy) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_IsTrue(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Hash(_ctx: *mut HPyContext, obj: HPy) -> HPy_hash_t {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_Hash(as_obj(obj)) }
}

pub unsafe extern "C" fn ctx_RichCompare(_ctx: *mut HPyContext, v: HPy, w: HPy, op: c_int) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyObject_RichCompare(as_obj(v), as_obj(w), op) })
}

pub unsafe extern "C" fn ctx_RichCompareBool(
    _ctx: *mut HPyContext,
    v: HPy,
    w: HPy,
    op: c_int,
) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_RichCompareBool(as_obj(v), as_obj(w), op) }
}

pub unsafe extern "C" fn ctx_Length(_ctx: *mut HPyContext, h: HPy) -> HPy_ssize_t {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_Size(as_obj(h)) }
}

pub unsafe extern "C" fn ctx_Contains(_ctx: *mut HPyContext, container: HPy, key: HPy) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PySequence_Contains(as_obj(container), as_obj(key)) }
}

pub unsafe extern "C" fn ctx_Callable_Check(_ctx: *mut HPyContext, h: HPy) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyCallable_Check(as_obj(h)) }
}

// ---- attributes ----

pub unsafe extern "C" fn ctx_GetAttr(_ctx: *mut HPyContext, obj: HPy, name: HPy) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyObject_GetAttr(as_obj(obj), as_obj(name)) })
}

pub unsafe extern "C" fn ctx_GetAttr_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_name: *const c_char,
) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyObject_GetAttrString(as_obj(obj), utf8_name) })
}

pub unsafe extern "C" fn ctx_HasAttr(_ctx: *mut HPyContext, obj: HPy, name: HPy) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_HasAttr(as_obj(obj), as_obj(name)) }
}

pub unsafe extern "C" fn ctx_HasAttr_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_name: *const c_char,
) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_HasAttrString(as_obj(obj), utf8_name) }
}

/// `value == HPy_NULL` deletes the attribute (that is how `HPy_DelAttr` is built).
pub unsafe extern "C" fn ctx_SetAttr(
    _ctx: *mut HPyContext,
    obj: HPy,
    name: HPy,
    value: HPy,
) -> c_int {
    // SAFETY: see module comment; NULL value means delete in CPython too.
    unsafe { ffi::PyObject_SetAttr(as_obj(obj), as_obj(name), as_obj(value)) }
}

pub unsafe extern "C" fn ctx_SetAttr_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_name: *const c_char,
    value: HPy,
) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_SetAttrString(as_obj(obj), utf8_name, as_obj(value)) }
}

// ---- items ----

pub unsafe extern "C" fn ctx_GetItem(_ctx: *mut HPyContext, obj: HPy, key: HPy) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyObject_GetItem(as_obj(obj), as_obj(key)) })
}

/// Runs `f` with a temporary Python int for `idx`.
unsafe fn with_index<T: crate::ErrorValue>(
    idx: HPy_ssize_t,
    f: impl FnOnce(*mut ffi::PyObject) -> T,
) -> T {
    // SAFETY: GIL held (module comment).
    let key = unsafe { ffi::PyLong_FromSsize_t(idx) };
    if key.is_null() {
        return T::ERROR;
    }
    let r = f(key);
    // SAFETY: `key` is the new reference made above.
    unsafe { ffi::Py_DECREF(key) };
    r
}

/// Runs `f` with a temporary Python str for a C string key.
unsafe fn with_str_key<T: crate::ErrorValue>(
    key: *const c_char,
    f: impl FnOnce(*mut ffi::PyObject) -> T,
) -> T {
    // SAFETY: NUL-terminated UTF-8 (module comment).
    let k = unsafe { ffi::PyUnicode_FromString(key) };
    if k.is_null() {
        return T::ERROR;
    }
    let r = f(k);
    // SAFETY: `k` is the new reference made above.
    unsafe { ffi::Py_DECREF(k) };
    r
}

pub unsafe extern "C" fn ctx_GetItem_i(_ctx: *mut HPyContext, obj: HPy, idx: HPy_ssize_t) -> HPy {
    let o = as_obj(obj);
    // SAFETY: see module comment.
    unsafe {
        // Exact lists and tuples: an item in range is read directly (as the
        // CPython ABI's header does); otherwise PySequence_GetItem indexes
        // them as `o[idx]` does (negative indices count from the end, same
        // IndexError), without making an int for the index.
        let items = if ffi::PyList_CheckExact(o) != 0 {
            (*o.cast::<ffi::PyListObject>()).ob_item
        } else if ffi::PyTuple_CheckExact(o) != 0 {
            (*o.cast::<ffi::PyTupleObject>()).ob_item.as_mut_ptr()
        } else {
            return get_item_other(o, idx);
        };
        // One unsigned comparison rejects negative indices too.
        if idx as usize >= ffi::Py_SIZE(o) as usize {
            return from_owned(ffi::PySequence_GetItem(o, idx));
        }
        // The items of a list or tuple in range are set.
        from_owned(new_ref(*items.offset(idx)))
    }
}

/// `ctx_GetItem_i` of other objects: `o[idx]` with an int for the index
/// (out of line, so that the fast path above needs no stack frame).
#[inline(never)]
unsafe fn get_item_other(o: *mut ffi::PyObject, idx: HPy_ssize_t) -> HPy {
    // SAFETY: see module comment.
    unsafe { with_index(idx, |k| from_owned(ffi::PyObject_GetItem(o, k))) }
}

pub unsafe extern "C" fn ctx_GetItem_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_key: *const c_char,
) -> HPy {
    // SAFETY: see module comment.
    unsafe {
        with_str_key(utf8_key, |k| {
            from_owned(ffi::PyObject_GetItem(as_obj(obj), k))
        })
    }
}

pub unsafe extern "C" fn ctx_SetItem(
    _ctx: *mut HPyContext,
    obj: HPy,
    key: HPy,
    value: HPy,
) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_SetItem(as_obj(obj), as_obj(key), as_obj(value)) }
}

pub unsafe extern "C" fn ctx_SetItem_i(
    _ctx: *mut HPyContext,
    obj: HPy,
    idx: HPy_ssize_t,
    value: HPy,
) -> c_int {
    // SAFETY: see module comment.
    unsafe {
        with_index(idx, |k| {
            ffi::PyObject_SetItem(as_obj(obj), k, as_obj(value))
        })
    }
}

pub unsafe extern "C" fn ctx_SetItem_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_key: *const c_char,
    value: HPy,
) -> c_int {
    // SAFETY: see module comment.
    unsafe {
        with_str_key(utf8_key, |k| {
            ffi::PyObject_SetItem(as_obj(obj), k, as_obj(value))
        })
    }
}

pub unsafe extern "C" fn ctx_DelItem(_ctx: *mut HPyContext, obj: HPy, key: HPy) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyObject_DelItem(as_obj(obj), as_obj(key)) }
}

pub unsafe extern "C" fn ctx_DelItem_i(_ctx: *mut HPyContext, obj: HPy, idx: HPy_ssize_t) -> c_int {
    // SAFETY: see module comment.
    unsafe { with_index(idx, |k| ffi::PyObject_DelItem(as_obj(obj), k)) }
}

pub unsafe extern "C" fn ctx_DelItem_s(
    _ctx: *mut HPyContext,
    obj: HPy,
    utf8_key: *const c_char,
) -> c_int {
    // SAFETY: see module comment.
    unsafe { with_str_key(utf8_key, |k| ffi::PyObject_DelItem(as_obj(obj), k)) }
}

// ---- calls ----

/// `args` holds `nargs` positional values then one value per name in `kwnames`.
/// Handles are `PyObject *`s, so the array goes to vectorcall as it is.
pub unsafe extern "C" fn ctx_Call(
    _ctx: *mut HPyContext,
    callable: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    // SAFETY: see module comment; `HPy` is a transparent pointer-sized struct,
    // so `*const HPy` and `*const *mut PyObject` have the same layout.
    from_owned(unsafe { vectorcall(as_obj(callable), args.cast(), nargs, as_obj(kwnames)) })
}

pub unsafe extern "C" fn ctx_CallMethod(
    _ctx: *mut HPyContext,
    name: HPy,
    args: *const HPy,
    nargs: usize,
    kwnames: HPy,
) -> HPy {
    if nargs == 0 {
        // SAFETY: GIL held.
        unsafe {
            raise(
                ffi::PyExc_TypeError,
                "HPy_CallMethod requires the receiver as args[0]",
            )
        };
        return HPy { _i: 0 };
    }
    #[cfg(Py_3_9)]
    // SAFETY: as in `ctx_Call`.
    return from_owned(unsafe {
        ffi::PyObject_VectorcallMethod(as_obj(name), args.cast(), nargs, as_obj(kwnames))
    });
    // 3.8 has no PyObject_VectorcallMethod: the method is looked up on
    // args[0] and called with the other arguments.
    #[cfg(not(Py_3_9))]
    // SAFETY: as in `ctx_Call`; `args` has at least one element (checked).
    unsafe {
        let args: *const *mut ffi::PyObject = args.cast();
        let method = ffi::PyObject_GetAttr(*args, as_obj(name));
        if method.is_null() {
            return HPy { _i: 0 };
        }
        let res = vectorcall(method, args.add(1), nargs - 1, as_obj(kwnames));
        ffi::Py_DECREF(method);
        from_owned(res)
    }
}

pub unsafe extern "C" fn ctx_CallTupleDict(
    _ctx: *mut HPyContext,
    callable: HPy,
    args: HPy,
    kw: HPy,
) -> HPy {
    let (a, k) = (as_obj(args), as_obj(kw));
    // SAFETY: see module comment.
    unsafe {
        if !a.is_null() && ffi::PyTuple_Check(a) == 0 {
            raise(
                ffi::PyExc_TypeError,
                "HPy_CallTupleDict requires args to be a tuple or null handle",
            );
            return HPy { _i: 0 };
        }
        if !k.is_null() && ffi::PyDict_Check(k) == 0 {
            raise(
                ffi::PyExc_TypeError,
                "HPy_CallTupleDict requires kw to be a dict or null handle",
            );
            return HPy { _i: 0 };
        }
        if a.is_null() {
            let empty = ffi::PyTuple_New(0);
            if empty.is_null() {
                return HPy { _i: 0 };
            }
            let r = ffi::PyObject_Call(as_obj(callable), empty, k);
            ffi::Py_DECREF(empty);
            from_owned(r)
        } else {
            from_owned(ffi::PyObject_Call(as_obj(callable), a, k))
        }
    }
}

// ---- errors ----

pub unsafe extern "C" fn ctx_Err_SetString(
    _ctx: *mut HPyContext,
    h_type: HPy,
    utf8_message: *const c_char,
) {
    // SAFETY: see module comment.
    unsafe { ffi::PyErr_SetString(as_obj(h_type), utf8_message) }
}

pub unsafe extern "C" fn ctx_Err_SetObject(_ctx: *mut HPyContext, h_type: HPy, h_value: HPy) {
    // SAFETY: see module comment.
    unsafe { ffi::PyErr_SetObject(as_obj(h_type), as_obj(h_value)) }
}

pub unsafe extern "C" fn ctx_Err_Occurred(_ctx: *mut HPyContext) -> c_int {
    // SAFETY: GIL held.
    unsafe { !ffi::PyErr_Occurred().is_null() as c_int }
}

pub unsafe extern "C" fn ctx_Err_ExceptionMatches(_ctx: *mut HPyContext, exc: HPy) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyErr_ExceptionMatches(as_obj(exc)) }
}

pub unsafe extern "C" fn ctx_Err_NoMemory(_ctx: *mut HPyContext) {
    // SAFETY: GIL held.
    unsafe { ffi::PyErr_NoMemory() };
}

pub unsafe extern "C" fn ctx_Err_Clear(_ctx: *mut HPyContext) {
    // SAFETY: GIL held.
    unsafe { ffi::PyErr_Clear() }
}

pub unsafe extern "C" fn ctx_FatalError(_ctx: *mut HPyContext, message: *const c_char) {
    // SAFETY: NUL-terminated message; Py_FatalError does not return.
    unsafe { ffi::Py_FatalError(message) }
}

// ---- modules ----

pub unsafe extern "C" fn ctx_Import_ImportModule(
    _ctx: *mut HPyContext,
    utf8_name: *const c_char,
) -> HPy {
    // SAFETY: see module comment.
    from_owned(unsafe { ffi::PyImport_ImportModule(utf8_name) })
}

// ---- containers: the basics ----

pub unsafe extern "C" fn ctx_List_New(_ctx: *mut HPyContext, len: HPy_ssize_t) -> HPy {
    // SAFETY: GIL held. A new list's slots are NULL until filled; HPy code
    // cannot fill them directly, so fill them with None to keep it valid.
    unsafe {
        let l = ffi::PyList_New(len);
        if !l.is_null() {
            for i in 0..len {
                ffi::Py_INCREF(ffi::Py_None());
                ffi::PyList_SET_ITEM(l, i, ffi::Py_None());
            }
        }
        from_owned(l)
    }
}

pub unsafe extern "C" fn ctx_List_Append(_ctx: *mut HPyContext, h_list: HPy, h_item: HPy) -> c_int {
    // SAFETY: see module comment.
    unsafe { ffi::PyList_Append(as_obj(h_list), as_obj(h_item)) }
}

pub unsafe extern "C" fn ctx_Dict_New(_ctx: *mut HPyContext) -> HPy {
    // SAFETY: GIL held.
    from_owned(unsafe { ffi::PyDict_New() })
}

pub unsafe extern "C" fn ctx_Tuple_FromArray(
    _ctx: *mut HPyContext,
    items: *const HPy,
    n: HPy_ssize_t,
) -> HPy {
    // SAFETY: `items` holds `n` open handles (module comment).
    unsafe {
        let t = ffi::PyTuple_New(n);
        if t.is_null() {
            return HPy { _i: 0 };
        }
        for i in 0..n {
            let o = as_obj(*items.offset(i));
            ffi::Py_INCREF(o);
            ffi::PyTuple_SET_ITEM(t, i, o);
        }
        from_owned(t)
    }
}

macro_rules! type_checks {
    ($($name:ident => $f:path),* $(,)?) => {$(
        pub unsafe extern "C" fn $name(_ctx: *mut HPyContext, h: HPy) -> c_int {
            // SAFETY: see module comment.
            unsafe { $f(as_obj(h)) }
        }
    )*};
}

type_checks! {
    ctx_List_Check => ffi::PyList_Check,
    ctx_Dict_Check => ffi::PyDict_Check,
    ctx_Tuple_Check => ffi::PyTuple_Check,
    ctx_Bytes_Check => ffi::PyBytes_Check,
    ctx_Unicode_Check => ffi::PyUnicode_Check,
    ctx_Number_Check => ffi::PyNumber_Check,
    ctx_Iter_Check => ffi::PyIter_Check,
}

pub unsafe extern "C" fn ctx_Dump(_ctx: *mut HPyContext, h: HPy) {
    // SAFETY: see module comment. Debugging aid: print like upstream's
    // _HPy_Dump, each line formatted by CPython (`%p` a pointer, `%zd` a
    // Py_ssize_t, `%U` a str).
    unsafe {
        let o = as_obj(h);
        dump_line(ffi::PyUnicode_FromFormat(
            c"object address  : %p\n".as_ptr(),
            o,
        ));
        if o.is_null() {
            return;
        }
        dump_line(ffi::PyUnicode_FromFormat(
            c"object refcount : %zd\n".as_ptr(),
            ffi::Py_REFCNT(o),
        ));
        let r = ffi::PyObject_Repr(o);
        if r.is_null() {
            ffi::PyErr_Clear();
            return;
        }
        dump_line(ffi::PyUnicode_FromFormat(
            c"object repr     : %U\n".as_ptr(),
            r,
        ));
        ffi::Py_DECREF(r);
    }
}

/// Writes `line` (a new reference to a str, or NULL with an error set,
/// which is cleared: printing is best effort) to the standard error.
///
/// # Safety
/// GIL held.
unsafe fn dump_line(line: *mut ffi::PyObject) {
    // SAFETY: `line` is NULL or our str; its UTF-8 buffer holds `len` bytes
    // and lives as long as `line`, which is released after the write.
    unsafe {
        if line.is_null() {
            ffi::PyErr_Clear();
            return;
        }
        let mut len = 0;
        let s = ffi::PyUnicode_AsUTF8AndSize(line, &mut len);
        if s.is_null() {
            ffi::PyErr_Clear();
        } else {
            stderr(core::slice::from_raw_parts(s.cast(), len as usize));
        }
        ffi::Py_DECREF(line);
    }
}

fn stderr(text: &[u8]) {
    let mut rest = text;
    while !rest.is_empty() {
        // SAFETY: the pointer and length describe `rest`; a bad descriptor
        // only makes `write` fail.
        let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            return;
        }
        rest = rest.get(n as usize..).unwrap_or_default();
    }
}
