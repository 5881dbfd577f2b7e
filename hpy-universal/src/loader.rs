//! Loading a universal binary: `hpy.universal.load` and `_load_bootstrap`
//! (the loader protocol of `hpy-sys/abi/symbols.md`).
//!
//! Unlike upstream, one file can be loaded in several modes in one process,
//! each module keeping its mode's context: see [`binary_for`].

use crate::module::create_module;
use crate::util::raise;
use hpy_sys::{HPyContext, HPyModuleDef, HPY_ABI_VERSION, HPY_ABI_VERSION_MINOR};
use pyo3_ffi as ffi;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::sync::{LazyLock, Mutex};

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

/// How error messages name a mode.
fn mode_name(mode: c_int) -> &'static str {
    match mode {
        MODE_DEBUG => "debug",
        MODE_TRACE => "trace",
        _ => "universal",
    }
}

/// The loaded binaries and the context each one's `_ctx_for_trampolines`
/// holds. That global is one variable per loaded object, and every module
/// made from the object runs with it; so when a file already loaded in one
/// mode is loaded in another, the new mode gets a private copy of the file,
/// loaded as another object with its own globals ([`private_copy`]). At most
/// one object per file and context: loading again in a mode reuses it.
#[derive(Default)]
struct Binaries {
    /// dlopen handle → the name of the mode whose context is installed in it.
    installed: HashMap<usize, &'static str>,
    /// (dlopen handle of the file, context) → handle of the object that
    /// serves the file in that context.
    serving: HashMap<(usize, usize), usize>,
}

static BINARIES: LazyLock<Mutex<Binaries>> = LazyLock::new(Mutex::default);

/// The object whose modules run with `ctx`, for the file `lib` (dlopened
/// from `path`): `lib` itself, unless it already serves another context.
/// Err: why no private copy could be loaded.
fn binary_for(
    lib: *mut c_void,
    path: &CStr,
    ctx: *mut HPyContext,
    mode: c_int,
) -> Result<*mut c_void, String> {
    let mut b = BINARIES.lock().unwrap_or_else(|e| e.into_inner());
    let key = (lib as usize, ctx as usize);
    if let Some(&l) = b.serving.get(&key) {
        return Ok(l as *mut c_void);
    }
    let Some(&other) = b.installed.get(&(lib as usize)) else {
        b.installed.insert(lib as usize, mode_name(mode));
        b.serving.insert(key, lib as usize);
        return Ok(lib);
    };
    let fail = |why: String| {
        format!(
            "Cannot load the HPy extension module at path '{}' in {} mode: this process already loaded it in {other} mode, and a loaded binary runs in one mode only (its global context); loading a private copy of it failed: {why}",
            path.to_string_lossy(),
            mode_name(mode)
        )
    };
    let copy = private_copy(path).map_err(fail)?;
    if b.installed.contains_key(&(copy as usize)) {
        // The system loader took the copy for an object it had loaded.
        return Err(fail("the copy is an already loaded binary".into()));
    }
    b.installed.insert(copy as usize, mode_name(mode));
    b.serving.insert(key, copy as usize);
    Ok(copy)
}

/// Loads a copy of the file at `path` as a new object: dlopen knows objects
/// by name and by file identity, so a copy with another name and inode is
/// loaded anew, with its own globals. The copy is written to a private
/// temporary directory and removed once loaded (the mapping keeps it); where
/// that cannot be loaded (a `noexec` temporary directory, say), on Linux, to
/// an anonymous memory file.
fn private_copy(path: &CStr) -> Result<*mut c_void, String> {
    let src = Path::new(OsStr::from_bytes(path.to_bytes()));
    match copy_to_temp_dir(src) {
        Ok(lib) => Ok(lib),
        #[cfg(target_os = "linux")]
        Err(e) => copy_to_memfd(src).map_err(|e2| format!("{e}; {e2}")),
        #[cfg(not(target_os = "linux"))]
        Err(e) => Err(e),
    }
}

fn copy_to_temp_dir(src: &Path) -> Result<*mut c_void, String> {
    let tmp = std::env::temp_dir();
    let mut template = tmp.join("hpy-copy-XXXXXX").into_os_string().into_vec();
    template.push(0);
    // SAFETY: `template` is a writable NUL-terminated path ending in XXXXXX,
    // which mkdtemp replaces in place.
    if unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) }.is_null() {
        return Err(format!(
            "cannot create a directory in {}: {}",
            tmp.display(),
            std::io::Error::last_os_error()
        ));
    }
    template.pop();
    let dir = PathBuf::from(OsString::from_vec(template));
    let dest = dir.join(src.file_name().unwrap_or(OsStr::new("extension.so")));
    let loaded = std::fs::copy(src, &dest)
        .map_err(|e| format!("cannot copy {} to {}: {e}", src.display(), dest.display()))
        .and_then(|_| dlopen_path(&dest));
    let _ = std::fs::remove_file(&dest);
    let _ = std::fs::remove_dir(&dir);
    loaded
}

#[cfg(target_os = "linux")]
fn copy_to_memfd(src: &Path) -> Result<*mut c_void, String> {
    use std::os::fd::{FromRawFd, IntoRawFd};
    // SAFETY: a NUL-terminated name and valid flags.
    let fd = unsafe { libc::memfd_create(c"hpy-copy".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    std::fs::File::open(src)
        .and_then(|mut f| std::io::copy(&mut f, &mut file))
        .map_err(|e| format!("cannot copy {} to a memory file: {e}", src.display()))?;
    let lib = dlopen_path(Path::new(&format!("/proc/self/fd/{fd}")))?;
    // Kept open for good: the loader knows the copy by this name, which must
    // not come to name another file.
    let _ = file.into_raw_fd();
    Ok(lib)
}

/// `dlopen(path, RTLD_NOW)`, as for the original (local scope).
fn dlopen_path(path: &Path) -> Result<*mut c_void, String> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: `c` is NUL-terminated. Loading runs the copy's initialisers, as
    // loading the original did.
    let lib = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW) };
    if lib.is_null() {
        Err(format!("dlopen: {}", dlerror()))
    } else {
        Ok(lib)
    }
}

/// The base address of the loaded object holding `addr` (0 if none).
fn object_base(addr: *const c_void) -> usize {
    // SAFETY: dladdr only reads the loader's tables; `info` is a plain
    // out-parameter.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr, &mut info) == 0 {
            0
        } else {
            info.dli_fbase as usize
        }
    }
}

/// True if the module definition of a private copy, one of its `HPyDef`s
/// or one of its `HPyGlobal`s lies in the object `base` (the original): the
/// copy's references to its exported symbols were bound to the original's
/// (loaded with RTLD_GLOBAL, say), so its trampolines would run with the
/// original's context, or its globals be shared with the original's modules.
///
/// # Safety
/// `def` is the `HPyModuleDef` returned by the copy's `HPyInit_<ext>`.
unsafe fn uses_object(def: *const HPyModuleDef, base: usize) -> bool {
    if base == 0 {
        return false;
    }
    let inside = |p: *const c_void| object_base(p) == base;
    // SAFETY: `defines` and `globals` are NULL or NULL-terminated arrays of
    // pointers (the caller's contract).
    unsafe {
        inside(def.cast())
            || crate::module::null_terminated((*def).defines).any(|d| inside(d.cast_const().cast()))
            || crate::module::null_terminated((*def).globals).any(|g| inside(g.cast_const().cast()))
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
pub unsafe fn ext_name(name: *mut ffi::PyObject) -> Option<String> {
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

        if let Err(why) = check_segments_in_file(Path::new(OsStr::from_bytes(soname.to_bytes()))) {
            raise(
                ffi::PyExc_RuntimeError,
                &format!("Error during loading of the HPy extension module at path '{so}'. {why}"),
            );
            return null_mut();
        }
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
        let file = lib;
        let lib = match binary_for(file, &soname, ctx, mode) {
            Ok(lib) => lib,
            Err(msg) => {
                raise(ffi::PyExc_ImportError, &msg);
                return null_mut();
            }
        };

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
        if lib != file && uses_object(def, object_base(sym(file, &init_name))) {
            raise(
                ffi::PyExc_ImportError,
                &format!(
                    "Cannot load the HPy extension module at path '{so}' in {} mode: this process already loaded it in another mode, and the private copy loaded for this mode uses the definitions or globals of the first one (was it loaded with RTLD_GLOBAL?)",
                    mode_name(mode)
                ),
            );
            return null_mut();
        }
        create_module(&*def, spec.cast()).cast()
    }
}

/// Rejects an ELF file whose program headers or loaded segments extend past
/// its end (a truncated copy, say): dlopen maps such a segment and the
/// first access to a page beyond the end of the file kills the process with
/// SIGBUS instead of failing. Anything else (not ELF, another class or byte
/// order, an unreadable file) is left to dlopen, which reports it.
pub fn check_segments_in_file(path: &Path) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    const PT_LOAD: u32 = 1;
    let wide = cfg!(target_pointer_width = "64");
    let (ehdr_size, phent_size) = if wide { (64, 56) } else { (52, 32) };
    let Ok(mut f) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(size) = f.metadata().map(|m| m.len()) else {
        return Ok(());
    };
    let mut ehdr = vec![0u8; ehdr_size];
    let native_data = if cfg!(target_endian = "little") { 1 } else { 2 };
    if f.read_exact(&mut ehdr).is_err()
        || ehdr[..4] != *b"\x7fELF"
        || ehdr[4] != if wide { 2 } else { 1 }
        || ehdr[5] != native_data
    {
        return Ok(());
    }
    let uint = |b: &[u8]| -> u64 {
        let mut x = [0u8; 8];
        if cfg!(target_endian = "little") {
            x[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(x)
        } else {
            x[8 - b.len()..].copy_from_slice(b);
            u64::from_be_bytes(x)
        }
    };
    let (phoff, phentsize, phnum) = if wide {
        (
            uint(&ehdr[32..40]),
            uint(&ehdr[54..56]),
            uint(&ehdr[56..58]),
        )
    } else {
        (
            uint(&ehdr[28..32]),
            uint(&ehdr[42..44]),
            uint(&ehdr[44..46]),
        )
    };
    if phentsize != phent_size as u64 {
        return Ok(());
    }
    let truncated = |end: u64, what: &str| {
        format!("The file is truncated: {what} ends at byte {end}, but the file has {size} bytes.")
    };
    let table_end = phoff.saturating_add(phnum * phentsize);
    if table_end > size {
        return Err(truncated(table_end, "its program header table"));
    }
    let mut table = vec![0u8; (phnum * phentsize) as usize];
    if f.seek(SeekFrom::Start(phoff)).is_err() || f.read_exact(&mut table).is_err() {
        return Ok(());
    }
    for ph in table.chunks(phent_size) {
        let (p_type, offset, filesz) = if wide {
            (uint(&ph[0..4]), uint(&ph[8..16]), uint(&ph[32..40]))
        } else {
            (uint(&ph[0..4]), uint(&ph[4..8]), uint(&ph[16..20]))
        };
        let end = offset.saturating_add(filesz);
        if p_type == u64::from(PT_LOAD) && end > size {
            return Err(truncated(end, "a loadable segment"));
        }
    }
    Ok(())
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

/// The line `HPY_LOG` prints when module `name` loads in `mode`.
pub fn load_log_line(name: &str, mode: c_int) -> CString {
    let with = match mode {
        MODE_DEBUG => " with a debug context",
        MODE_TRACE => " with a trace context",
        _ => "",
    };
    CString::new(format!(
        "Loading '{}' in HPy universal mode{with}\n",
        truncated(name, 200)
    ))
    .unwrap_or_default()
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
                let line = load_log_line(&s_name, mode);
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
    fn hpy_log_line() {
        assert_eq!(
            load_log_line("m", MODE_DEBUG).to_str(),
            Ok("Loading 'm' in HPy universal mode with a debug context\n")
        );
        assert_eq!(
            load_log_line("m", 7).to_str(),
            Ok("Loading 'm' in HPy universal mode\n")
        );
        let long = "é".repeat(300);
        let line = load_log_line(&long, MODE_UNIVERSAL);
        assert!(line
            .to_str()
            .unwrap()
            .contains(&format!("'{}'", "é".repeat(200))));
    }

    #[test]
    fn abi_tag_is_read_from_the_file_name() {
        // check_abi_tag raises through CPython on failure, so only the
        // accepting cases can run without an interpreter.
        assert!(check_abi_tag("m", "/x/m.hpy0.so", 0, 0));
        assert!(check_abi_tag("m", "/x/m.hpy0-cp311.so", 0, 0));
    }
}
