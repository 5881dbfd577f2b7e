//! Loading a universal binary: `hpy.universal.load` and `_load_bootstrap`
//! (the loader protocol of `hpy-sys/abi/symbols.md`).

use crate::module::create_module;
use crate::util::raise;
use hpy_sys::{HPyContext, HPyModuleDef, HPY_ABI_VERSION, HPY_ABI_VERSION_MINOR};
use pyo3_ffi as ffi;
use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr::null_mut;

pub const MODE_UNIVERSAL: c_int = 0;
pub const MODE_DEBUG: c_int = 1;
pub const MODE_TRACE: c_int = 2;
pub const MODE_NAMES: [&str; 3] = ["MODE_UNIVERSAL", "MODE_DEBUG", "MODE_TRACE"];

/// The context an extension is given in `mode`.
///
/// # Safety
/// GIL held.
unsafe fn context_for(mode: c_int) -> *mut HPyContext {
    let universal = crate::context::universal_ctx();
    match mode {
        // SAFETY: GIL held; the universal context lives forever.
        MODE_DEBUG => unsafe { hpy_debug::debug_ctx(universal) },
        // SAFETY: GIL held; the universal context lives forever.
        MODE_TRACE => unsafe { hpy_debug::trace::trace_ctx(universal) },
        // Like upstream, any other value means the universal context.
        _ => universal,
    }
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a thread-local C string.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "no error message provided by the system".into()
    } else {
        // SAFETY: non-NULL, NUL-terminated.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

/// The C identifier part of a module name: after the last dot, ASCII, `-` as `_`.
///
/// # Safety
/// GIL held; `name` is any object.
unsafe fn ext_name(name: *mut ffi::PyObject) -> Option<String> {
    // SAFETY: GIL held.
    unsafe {
        let b = ffi::PyUnicode_AsASCIIString(name);
        if b.is_null() {
            return None;
        }
        let s = CStr::from_ptr(ffi::PyBytes_AsString(b))
            .to_string_lossy()
            .into_owned();
        ffi::Py_DECREF(b);
        let short = s.rsplit('.').next().unwrap_or("").replace('-', "_");
        Some(short)
    }
}

type VersionFn = unsafe extern "C" fn() -> u32;
type InitCtxFn = unsafe extern "C" fn(*mut HPyContext);
type InitFn = unsafe extern "C" fn() -> *mut HPyModuleDef;

unsafe fn sym(lib: *mut libc::c_void, name: &str) -> *mut libc::c_void {
    let c = CString::new(name).unwrap_or_default();
    // SAFETY: `lib` is a dlopen handle, `c` NUL-terminated.
    unsafe { libc::dlsym(lib, c.as_ptr()) }
}

fn truncated(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Loads `path` as the HPy extension `name` in `mode` (steps 1–10).
///
/// # Safety
/// GIL held; arguments are objects.
pub unsafe fn do_load(
    name: *mut ffi::PyObject,
    path: *mut ffi::PyObject,
    mode: c_int,
    spec: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: GIL held throughout; symbols are called with the C signatures
    // that HPy_MODINIT gives them (symbols.md).
    unsafe {
        let Some(short) = ext_name(name) else {
            return null_mut();
        };
        let short = truncated(&short, 200).to_string();
        let pathbytes = ffi::PyUnicode_EncodeFSDefault(path);
        if pathbytes.is_null() {
            return null_mut();
        }
        let soname = CStr::from_ptr(ffi::PyBytes_AsString(pathbytes)).to_owned();
        ffi::Py_DECREF(pathbytes);
        let so = soname.to_string_lossy().into_owned();

        // The handle is never closed: the module's code must outlive it.
        let lib = libc::dlopen(soname.as_ptr(), libc::RTLD_NOW);
        if lib.is_null() {
            raise(
                ffi::PyExc_RuntimeError,
                &format!("Error during loading of the HPy extension module at path '{so}'. Error message from dlopen/WinAPI: {}", dlerror()),
            );
            return null_mut();
        }

        let minor_name = format!("get_required_hpy_minor_version_{short}");
        let major_name = format!("get_required_hpy_major_version_{short}");
        let minor_ptr = sym(lib, &minor_name);
        let major_ptr = sym(lib, &major_name);
        if minor_ptr.is_null() || major_ptr.is_null() {
            raise(
                ffi::PyExc_RuntimeError,
                &format!(
                    "Error during loading of the HPy extension module at path '{so}'. Cannot locate the required minimal HPy versions as symbols '{minor_name}' and `{major_name}`. Error message from dlopen/WinAPI: {}",
                    dlerror()
                ),
            );
            return null_mut();
        }
        let minor = std::mem::transmute::<*mut libc::c_void, VersionFn>(minor_ptr)();
        let major = std::mem::transmute::<*mut libc::c_void, VersionFn>(major_ptr)();
        if major != HPY_ABI_VERSION || minor > HPY_ABI_VERSION_MINOR {
            raise(
                ffi::PyExc_RuntimeError,
                &format!(
                    "HPy extension module '{short}' requires unsupported version of the HPy runtime. Requested version: {major}.{minor}. Current HPy version: {HPY_ABI_VERSION}.{HPY_ABI_VERSION_MINOR}."
                ),
            );
            return null_mut();
        }
        if !check_abi_tag(&short, &so, major, minor) {
            return null_mut();
        }

        let ctx = context_for(mode);

        // Upstream formats "%.20s_%.200s" with a 21-character prefix, which
        // drops the prefix's own trailing underscore: one underscore remains.
        let init_ctx_name = format!("HPyInitGlobalContext_{short}");
        let init_ctx = sym(lib, &init_ctx_name);
        if init_ctx.is_null() {
            dlsym_error(&so, &init_ctx_name);
            return null_mut();
        }
        std::mem::transmute::<*mut libc::c_void, InitCtxFn>(init_ctx)(ctx);

        let init_name = format!("HPyInit_{short}");
        let init = sym(lib, &init_name);
        if init.is_null() {
            dlsym_error(&so, &init_name);
            return null_mut();
        }
        let def = std::mem::transmute::<*mut libc::c_void, InitFn>(init)();
        if def.is_null() {
            raise(
                ffi::PyExc_RuntimeError,
                &format!("Error during loading of the HPy extension module at path '{so}'. Function '{init_name}' returned NULL."),
            );
            return null_mut();
        }
        create_module(&*def, spec)
    }
}

fn dlsym_error(so: &str, symbol: &str) {
    let msg = format!(
        "Error during loading of the HPy extension module at path '{so}' while trying to find symbol '{symbol}'. Did you use the HPy_MODINIT macro to register your module? Error message from dlsym/WinAPI: {}",
        dlerror()
    );
    // SAFETY: called from do_load with the GIL held.
    unsafe { raise(ffi::PyExc_RuntimeError, &msg) }
}

/// The `.hpy<N>` tag in the file name must name the major version.
fn check_abi_tag(short: &str, so: &str, major: u32, minor: u32) -> bool {
    let msg = match so.find(".hpy") {
        Some(i) if so[i + 4..].starts_with(|c: char| c.is_ascii_digit()) => {
            let digits: String = so[i + 4..].chars().take_while(char::is_ascii_digit).collect();
            let tag: u64 = digits.parse().unwrap_or(u64::MAX);
            if tag == u64::from(major) {
                return true;
            }
            format!(
                "HPy extension module '{short}' at path '{so}': mismatch between the HPy ABI tag encoded in the filename and the major version requested by the HPy extension itself. Major version tag parsed from filename: {tag}. Requested version: {major}.{minor}."
            )
        }
        _ => format!(
            "HPy extension module '{short}' at path '{so}': could not find HPy ABI tag encoded in the filename. The extension claims to be compiled with HPy ABI version: {major}.{minor}."
        ),
    };
    // SAFETY: called from do_load with the GIL held.
    unsafe { raise(ffi::PyExc_RuntimeError, &msg) };
    false
}

/// Parses the `HPY` environment variable for module `name`.
/// `HPY := MODE | NAME ':' MODE {',' NAME ':' MODE}`.
pub fn mode_from_env(name: &str, value: Option<&str>) -> Result<c_int, String> {
    let Some(value) = value else {
        return Ok(MODE_UNIVERSAL);
    };
    let invalid = || format!("invalid HPy mode: {}", truncated(value, 50));
    let mode = if value.contains(':') {
        value
            .split(',')
            .filter_map(|entry| entry.split_once(':'))
            .find(|(module, _)| name.starts_with(module))
            .and_then(|(_, mode)| mode_named(mode))
    } else {
        mode_named(value)
    };
    mode.ok_or_else(invalid)
}

/// A mode name, matched case-insensitively on as many characters as given.
fn mode_named(s: &str) -> Option<c_int> {
    let s = s.to_ascii_lowercase();
    [
        ("debug", MODE_DEBUG),
        ("trace", MODE_TRACE),
        ("universal", MODE_UNIVERSAL),
    ]
    .into_iter()
    .find(|(n, _)| n.starts_with(&s))
    .map(|(_, m)| m)
}

/// `env[key]` or None; Err when looking up raised something else than KeyError.
unsafe fn mapping_get(
    env: *mut ffi::PyObject,
    key: &CStr,
) -> Result<Option<*mut ffi::PyObject>, ()> {
    // SAFETY: GIL held; returns a new reference.
    unsafe {
        let v = ffi::PyMapping_GetItemString(env, key.as_ptr());
        if v.is_null() {
            if ffi::PyErr_ExceptionMatches(ffi::PyExc_KeyError) != 0 {
                ffi::PyErr_Clear();
                return Ok(None);
            }
            return Err(());
        }
        Ok(Some(v))
    }
}

/// `hpy.universal.load(name, path, spec, debug=False, mode=-1)`.
///
/// # Safety
/// CPython calls it as a METH_VARARGS|METH_KEYWORDS function: GIL held,
/// `args` a tuple and `kwargs` NULL or a dict.
pub unsafe extern "C" fn load(
    _self: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let mut kwlist: [*mut c_char; 6] = [
        c"name".as_ptr() as *mut c_char,
        c"path".as_ptr() as *mut c_char,
        c"spec".as_ptr() as *mut c_char,
        c"debug".as_ptr() as *mut c_char,
        c"mode".as_ptr() as *mut c_char,
        null_mut(),
    ];
    let (mut name, mut path, mut spec) = (null_mut(), null_mut(), null_mut());
    let mut debug: c_int = 0;
    let mut mode: c_int = -1;
    // SAFETY: format "OOO|pi" matches the out-pointers' types; GIL held.
    unsafe {
        if ffi::PyArg_ParseTupleAndKeywords(
            args,
            kwargs,
            c"OOO|pi:load".as_ptr(),
            // (`char **` until 3.12, `char *const *` since 3.13)
            kwlist.as_mut_ptr() as _,
            &mut name,
            &mut path,
            &mut spec,
            &mut debug,
            &mut mode,
        ) == 0
        {
            return null_mut();
        }
        let mode = if mode > 0 {
            mode
        } else if debug != 0 {
            MODE_DEBUG
        } else {
            MODE_UNIVERSAL
        };
        do_load(name, path, mode, spec)
    }
}

/// `hpy.universal._load_bootstrap(name, ext_name, package, file, loader, spec, env)`.
///
/// # Safety
/// As for [`load`].
pub unsafe extern "C" fn load_bootstrap(
    _self: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let mut kwlist: [*mut c_char; 8] = [
        c"name".as_ptr() as *mut c_char,
        c"ext_name".as_ptr() as *mut c_char,
        c"package".as_ptr() as *mut c_char,
        c"file".as_ptr() as *mut c_char,
        c"loader".as_ptr() as *mut c_char,
        c"spec".as_ptr() as *mut c_char,
        c"env".as_ptr() as *mut c_char,
        null_mut(),
    ];
    let mut o: [*mut ffi::PyObject; 7] = [null_mut(); 7];
    // SAFETY: seven "O" units for seven out-pointers; GIL held.
    unsafe {
        let [a0, a1, a2, a3, a4, a5, a6] = &mut o;
        if ffi::PyArg_ParseTupleAndKeywords(
            args,
            kwargs,
            c"OOOOOOO:_load_bootstrap".as_ptr(),
            // (`char **` until 3.12, `char *const *` since 3.13)
            kwlist.as_mut_ptr() as _,
            a0 as *mut _,
            a1 as *mut _,
            a2 as *mut _,
            a3 as *mut _,
            a4 as *mut _,
            a5 as *mut _,
            a6 as *mut _,
        ) == 0
        {
            return null_mut();
        }
        let [module_name, ext_name, package, file, loader, spec, env] = o;
        let s_name = ffi::PyUnicode_AsUTF8(module_name);
        if s_name.is_null() {
            return null_mut();
        }
        let s_name = CStr::from_ptr(s_name).to_string_lossy().into_owned();
        let hpy = match mapping_get(env, c"HPY") {
            Ok(v) => v,
            Err(()) => return null_mut(),
        };
        let hpy_value = match hpy {
            None => None,
            Some(v) => {
                let s = ffi::PyUnicode_AsUTF8(v);
                let r = if s.is_null() {
                    None
                } else {
                    Some(CStr::from_ptr(s).to_string_lossy().into_owned())
                };
                ffi::Py_DECREF(v);
                if r.is_none() {
                    return null_mut();
                }
                r
            }
        };
        let mode = match mode_from_env(&s_name, hpy_value.as_deref()) {
            Ok(m) => m,
            Err(msg) => {
                raise(ffi::PyExc_ValueError, &msg);
                return null_mut();
            }
        };
        match mapping_get(env, c"HPY_LOG") {
            Err(()) => return null_mut(),
            Ok(None) => {}
            Ok(Some(v)) => {
                ffi::Py_DECREF(v);
                let with = match mode {
                    MODE_DEBUG => " with a debug context",
                    MODE_TRACE => " with a trace context",
                    _ => "",
                };
                let line = CString::new(format!(
                    "Loading '{}' in HPy universal mode{with}\n",
                    truncated(&s_name, 200)
                ))
                .unwrap_or_default();
                ffi::PySys_WriteStdout(c"%s".as_ptr(), line.as_ptr());
            }
        }
        let m = do_load(module_name, file, mode, spec);
        if m.is_null() {
            return null_mut();
        }
        for (attr, value) in [
            (c"__file__", file),
            (c"__loader__", loader),
            (c"__name__", ext_name),
            (c"__package__", package),
        ] {
            if ffi::PyObject_SetAttrString(m, attr.as_ptr(), value) < 0 {
                ffi::Py_DECREF(m);
                return null_mut();
            }
        }
        if ffi::PyObject_SetAttrString(spec, c"origin".as_ptr(), file) < 0
            || ffi::PyObject_SetAttrString(m, c"__spec__".as_ptr(), spec) < 0
        {
            ffi::Py_DECREF(m);
            return null_mut();
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hpy_env_grammar() {
        assert_eq!(mode_from_env("foo", None), Ok(MODE_UNIVERSAL));
        assert_eq!(mode_from_env("foo", Some("debug")), Ok(MODE_DEBUG));
        assert_eq!(mode_from_env("foo", Some("TRACE")), Ok(MODE_TRACE));
        assert_eq!(mode_from_env("foo", Some("D")), Ok(MODE_DEBUG));
        assert_eq!(mode_from_env("foo", Some("")), Ok(MODE_DEBUG));
        assert_eq!(mode_from_env("foo", Some("u")), Ok(MODE_UNIVERSAL));
        assert!(mode_from_env("foo", Some("bogus")).is_err());
        assert_eq!(
            mode_from_env("foo", Some("bar:debug,foo:trace")),
            Ok(MODE_TRACE)
        );
        assert_eq!(mode_from_env("foobar", Some("foo:trace")), Ok(MODE_TRACE));
        assert_eq!(
            mode_from_env("baz", Some("bar:debug")),
            Err("invalid HPy mode: bar:debug".to_string())
        );
    }

    #[test]
    fn abi_tag_is_read_from_the_file_name() {
        // check_abi_tag raises through CPython on failure, so only the
        // accepting cases can run without an interpreter.
        assert!(check_abi_tag("m", "/x/m.hpy0.so", 0, 0));
        assert!(check_abi_tag("m", "/x/m.hpy0-cp311.so", 0, 0));
    }
}
