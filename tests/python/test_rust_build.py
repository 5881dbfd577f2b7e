"""Tests of the Rust extension build: the PEP 517 backend
`hpy.devel.rust_backend` and the in-place command `python -m hpy.devel.rust build`.

The crates are made here, in tmp_path. Until the safe layer (`hpy-core`'s
`#[hpy_module]`) exists, the universal one is written by hand against
`hpy-sys`: the four loader symbols, an `HPyModuleDef` with one METH_NOARGS
function and its trampoline, what the macro will generate. All builds share
one CARGO_TARGET_DIR under the repository's .cache/, so only the first run
compiles `hpy-sys` (and, for the cpython ABI, `hpy-core`'s dependencies).

Run against the installed package (`bash scripts/dev-install.sh` refreshes
its Python sources).
"""
import base64
import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from filelock import FileLock

import hpy.devel
from hpy.devel import rust

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "rust-build-tests"
TARGET_DIR = CACHE / "target"
PLATFORM_TAG = re.sub(r"[^A-Za-z0-9_]", "_", sysconfig.get_platform())
CP_TAG = "cp%d%d" % sys.version_info[:2]
EXT_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]

pytestmark = pytest.mark.skipif(shutil.which(os.environ.get("CARGO", "cargo")) is None,
                                reason="needs cargo")

PYPROJECT = """\
[build-system]
requires = ["hpy-rs"]
build-backend = "hpy.devel.rust_backend"

[project]
name = "demo"
version = "0.1.0"
description = "A Rust HPy extension, for the tests"
requires-python = ">=3.8"
dependencies = []

[tool.hpy]
module = "demo"
"""

# The universal module `demo`: answer() -> 42. The lib name differs from the
# module's so that [tool.hpy] module is what names the file.
UNIVERSAL_LIB_RS = r"""
//! A universal HPy extension written by hand against hpy-sys: what
//! `#[hpy_module]` generates, reduced to one METH_NOARGS function.
#![allow(non_snake_case)]
use core::ffi::c_void;
use core::ptr;
use hpy_sys::*;

/// The context the loader hands to HPyInitGlobalContext_demo (universal,
/// debug or trace); the trampoline passes it back to the runtime.
static mut CTX: *mut HPyContext = ptr::null_mut();

unsafe extern "C" fn answer_impl(ctx: *mut HPyContext, _self: HPy) -> HPy {
    unsafe { ((*ctx).ctx_Long_FromInt64_t.unwrap())(ctx, 42) }
}

/// What CPython calls for METH_NOARGS, (self, NULL): like the C macro
/// _HPyFunc_TRAMPOLINE_HPyFunc_NOARGS, it hands an argument block to
/// ctx_CallRealFunctionFromTrampoline and returns the block's result.
unsafe extern "C" fn answer_trampoline(
    self_: *mut cpy_PyObject,
    _ignored: *mut cpy_PyObject,
) -> *mut cpy_PyObject {
    let mut args = _HPyFunc_args_NOARGS { self_, result: ptr::null_mut() };
    unsafe {
        let ctx = CTX;
        ((*ctx).ctx_CallRealFunctionFromTrampoline.unwrap())(
            ctx,
            HPyFunc_NOARGS,
            core::mem::transmute::<HPyFunc_noargs, HPyCFunction>(Some(answer_impl)),
            &raw mut args as *mut c_void,
        );
    }
    args.result
}

type Trampoline2 = unsafe extern "C" fn(*mut cpy_PyObject, *mut cpy_PyObject) -> *mut cpy_PyObject;

static mut ANSWER: HPyDef = HPyDef {
    kind: HPyDef_Kind_Meth,
    __bindgen_anon_1: HPyDef__bindgen_ty_1 {
        meth: HPyMeth {
            name: c"answer".as_ptr(),
            impl_: unsafe {
                core::mem::transmute::<HPyFunc_noargs, HPyCFunction>(Some(answer_impl))
            },
            cpy_trampoline: unsafe {
                core::mem::transmute::<Option<Trampoline2>, cpy_PyCFunction>(Some(answer_trampoline))
            },
            signature: HPyFunc_NOARGS,
            doc: c"answer() -> 42".as_ptr(),
        },
    },
};

static mut DEFINES: [*mut HPyDef; 2] = [&raw mut ANSWER, ptr::null_mut()];

static mut MODULEDEF: HPyModuleDef = HPyModuleDef {
    doc: c"a universal Rust HPy extension".as_ptr(),
    size: 0,
    legacy_methods: ptr::null_mut(),
    defines: &raw mut DEFINES as *mut *mut HPyDef,
    globals: ptr::null_mut(),
};

#[no_mangle]
pub extern "C" fn get_required_hpy_major_version_demo() -> u32 {
    HPY_ABI_VERSION
}

#[no_mangle]
pub extern "C" fn get_required_hpy_minor_version_demo() -> u32 {
    HPY_ABI_VERSION_MINOR
}

#[no_mangle]
pub unsafe extern "C" fn HPyInitGlobalContext_demo(ctx: *mut HPyContext) {
    unsafe { CTX = ctx };
}

#[no_mangle]
pub extern "C" fn HPyInit_demo() -> *mut HPyModuleDef {
    &raw mut MODULEDEF
}
"""

# The cpython-ABI twin: answer() -> 43 through pyo3-ffi, compiled when the
# build enables the crate's own `cpython-abi` feature (next to
# hpy-core/cpython-abi); without it, the universal module above.
CPYTHON_LIB_RS = r"""
#[cfg(not(feature = "cpython-abi"))]
mod universal {
""" + UNIVERSAL_LIB_RS.replace("#![allow(non_snake_case)]", "#![allow(non_snake_case, dead_code)]")\
    .replace("//!", "//") + r"""
}

#[cfg(feature = "cpython-abi")]
mod cpython {
    use core::ptr;
    use pyo3_ffi::*;

    unsafe extern "C" fn answer(_module: *mut PyObject, _unused: *mut PyObject) -> *mut PyObject {
        unsafe { PyLong_FromLong(43) }
    }

    static mut METHODS: [PyMethodDef; 2] = [
        PyMethodDef {
            ml_name: c"answer".as_ptr(),
            ml_meth: PyMethodDefPointer { PyCFunction: answer },
            ml_flags: METH_NOARGS,
            ml_doc: ptr::null(),
        },
        PyMethodDef::zeroed(),
    ];

    static mut MODULEDEF: PyModuleDef = PyModuleDef {
        m_base: PyModuleDef_HEAD_INIT,
        m_name: c"demo".as_ptr(),
        m_doc: ptr::null(),
        m_size: 0,
        m_methods: &raw mut METHODS as *mut PyMethodDef,
        m_slots: ptr::null_mut(),
        m_traverse: None,
        m_clear: None,
        m_free: None,
    };

    #[no_mangle]
    pub unsafe extern "C" fn PyInit_demo() -> *mut PyObject {
        unsafe { PyModule_Create(&raw mut MODULEDEF) }
    }
}
"""


def cargo_env(**extra):
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(TARGET_DIR)
    env.pop("HPY_ABI", None)
    env.update(extra)
    return env


def build_lock():
    """Builds of crates with the same [lib] name write the same file in the
    shared target dir: one at a time (pytest-xdist, other checkouts' runs)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    return FileLock(str(CACHE / ".lock"))


def make_crate(where, lib_rs, cargo_extra="", lib_name="rb_demo", pyproject=PYPROJECT):
    crate = Path(where)
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(f"""\
[package]
name = "{lib_name.replace('_', '-')}"
version = "0.1.0"
edition = "2021"

[lib]
name = "{lib_name}"
crate-type = ["cdylib"]

[dependencies]
hpy-sys = {{ path = "{(REPO / 'hpy-sys').as_posix()}" }}
{cargo_extra}
""")
    (crate / "src" / "lib.rs").write_text(lib_rs)
    if pyproject is not None:
        (crate / "pyproject.toml").write_text(pyproject)
    # the workspace's versions of cc, static_assertions, pyo3-ffi...: already
    # downloaded, and the same the workspace is tested with
    shutil.copy(REPO / "Cargo.lock", crate / "Cargo.lock")
    return crate


def run(cmd, check=True, **kwargs):
    kwargs.setdefault("env", cargo_env())
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, **kwargs)
    if check and proc.returncode != 0:
        pytest.fail("%s failed (%d):\n%s" % (" ".join(map(str, cmd)), proc.returncode,
                                             proc.stdout))
    return proc


def pip_wheel(crate, out, *args):
    with build_lock():
        run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
             "--no-index", "-w", out, *args, crate])
    wheels = list(Path(out).glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def check_record(zf):
    (record_name,) = [n for n in zf.namelist() if n.endswith(".dist-info/RECORD")]
    rows = [line.split(",") for line in zf.read(record_name).decode().splitlines()]
    assert sorted(r[0] for r in rows) == sorted(zf.namelist())
    for name, digest, size in rows:
        if name == record_name:
            assert digest == size == ""
            continue
        data = zf.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        assert digest == "sha256=" + expected.decode()
        assert int(size) == len(data)


def make_venv(path):
    """A venv that sees the installed hpy package: system site-packages, plus a
    .pth naming the directory it is installed in (when the tests run in a
    venv, that is not the system's)."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(path)],
                   check=True)
    python = path / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    hpy_home = Path(hpy.devel.__file__).resolve().parents[2]
    # (and installs the import hook: .pth files of a directory named in a
    # .pth are not read)
    Path(site, "_hpy_under_test.pth").write_text(str(hpy_home) + "\nimport hpy._import_hook\n")
    return python


def import_answer(python, cwd):
    proc = run([python, "-c", "import demo; print(demo.__file__); print(demo.answer())"],
               cwd=str(cwd))
    path, value = proc.stdout.split()[-2:]
    return path, int(value)


# --------------------------------------------------------------------------
# universal ABI
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def universal_crate(tmp_path_factory):
    return make_crate(tmp_path_factory.mktemp("rust-universal") / "demo", UNIVERSAL_LIB_RS)


@pytest.fixture(scope="module")
def universal_wheel(universal_crate, tmp_path_factory):
    return pip_wheel(universal_crate, tmp_path_factory.mktemp("wheelhouse"))


def test_universal_wheel_contents(universal_wheel):
    assert universal_wheel.name == f"demo-0.1.0-py3-none-{PLATFORM_TAG}.whl"
    with zipfile.ZipFile(universal_wheel) as zf:
        names = set(zf.namelist())
        # no .py stub: hpy-rs's import hook finds demo.hpy0.so
        assert names == {"demo.hpy0.so", "demo-0.1.0.dist-info/METADATA",
                         "demo-0.1.0.dist-info/WHEEL", "demo-0.1.0.dist-info/RECORD"}
        assert zf.getinfo("demo.hpy0.so").external_attr >> 16 & 0o111
        metadata = zf.read("demo-0.1.0.dist-info/METADATA").decode().splitlines()
        wheel = zf.read("demo-0.1.0.dist-info/WHEEL").decode().splitlines()
        check_record(zf)
    assert "Name: demo" in metadata and "Version: 0.1.0" in metadata
    assert "Summary: A Rust HPy extension, for the tests" in metadata
    assert "Requires-Python: >=3.8" in metadata
    assert any(line.startswith("Requires-Dist: hpy-rs>=") for line in metadata)
    assert f"Tag: py3-none-{PLATFORM_TAG}" in wheel
    assert "Root-Is-Purelib: false" in wheel


def test_universal_wheel_with_stub(universal_crate, tmp_path):
    """--config-settings hpy-stub=true: the stub for upstream's runtime,
    exactly hpy.devel's."""
    whl = pip_wheel(universal_crate, tmp_path, "--config-settings", "hpy-stub=true")
    with zipfile.ZipFile(whl) as zf:
        assert "demo.py" in zf.namelist()
        assert zf.read("demo.py").decode() == \
            hpy.devel._HPY_UNIVERSAL_MODULE_STUB_TEMPLATE.format(
                ext_file="demo.hpy0.so", module_name="demo")
        check_record(zf)


def test_universal_wheel_installs_and_imports(universal_wheel, tmp_path):
    python = make_venv(tmp_path / "venv")
    # the dependency on hpy is met by the installed package (--no-deps: the
    # venv's own old setuptools would make pip look for hpy's setuptools>=64)
    run([python, "-m", "pip", "install", "--no-index", "--no-deps", universal_wheel])
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    path, value = import_answer(python, cwd)
    assert value == 42
    assert path.endswith(os.path.join("site-packages", "demo.hpy0.so"))


def test_pip_install_no_build_isolation(universal_crate, tmp_path):
    """The documented command, with a venv's pip (its python runs the backend)."""
    python = make_venv(tmp_path / "venv")
    with build_lock():
        run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps",
             universal_crate])
    path, value = import_answer(python, tmp_path)
    assert value == 42


def test_inplace_build_loads_universal_and_debug(universal_crate, tmp_path):
    import hpy.universal
    out = tmp_path / "out"
    with build_lock():
        proc = run([sys.executable, "-m", "hpy.devel.rust", "build", "--out", out,
                    universal_crate])
    assert sorted(p.name for p in out.iterdir()) == ["demo.hpy0.so"]
    assert str(out / "demo.hpy0.so") in proc.stdout  # says where it went
    # a plain import from there goes through the import hook
    path, value = import_answer(sys.executable, out)
    assert (path, value) == (str(out / "demo.hpy0.so"), 42)
    # hpy.universal.load, universal then debug mode (a copy each: one
    # binary holds one context for its trampolines)
    for mode, debug in (("universal", False), ("debug", True)):
        so = tmp_path / mode / "demo.hpy0.so"
        so.parent.mkdir()
        shutil.copy(out / "demo.hpy0.so", so)
        spec = importlib.util.spec_from_file_location("demo", str(so))
        mod = hpy.universal.load("demo", str(so), spec, debug=debug)
        assert mod.answer() == 42, mode
        assert mod.__doc__ == "a universal Rust HPy extension"


def test_inplace_build_debug_profile_default_out(universal_crate, tmp_path):
    crate = tmp_path / "crate"
    shutil.copytree(universal_crate, crate, ignore=shutil.ignore_patterns("demo.*"))
    with build_lock():
        run([sys.executable, "-m", "hpy.devel.rust", "build", "--debug"], cwd=str(crate))
    assert (crate / "demo.hpy0.so").is_file() and not (crate / "demo.py").exists()
    assert import_answer(sys.executable, crate)[1] == 42


def test_sdist(universal_crate, tmp_path):
    import tarfile
    from hpy.devel import rust_backend
    old = os.getcwd()
    os.chdir(universal_crate)
    try:
        name = rust_backend.build_sdist(str(tmp_path))
    finally:
        os.chdir(old)
    assert name == "demo-0.1.0.tar.gz"
    with tarfile.open(tmp_path / name) as tf:
        names = set(tf.getnames())
    assert {"demo-0.1.0/Cargo.toml", "demo-0.1.0/src/lib.rs", "demo-0.1.0/pyproject.toml",
            "demo-0.1.0/PKG-INFO"} <= names
    assert not any("/target/" in n or n.endswith(".so") for n in names)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

def build_cli(crate, *args, env=None):
    return run([sys.executable, "-m", "hpy.devel.rust", "build", *args, crate],
               check=False, env=env or cargo_env())


def test_error_no_cargo_toml(tmp_path):
    proc = build_cli(tmp_path)
    assert proc.returncode == 1
    assert "no Cargo.toml in" in proc.stdout
    assert "Traceback" not in proc.stdout


def test_error_not_cdylib(tmp_path):
    crate = make_crate(tmp_path / "c", "", pyproject=None)
    toml = crate / "Cargo.toml"
    toml.write_text(toml.read_text().replace('crate-type = ["cdylib"]', 'crate-type = ["rlib"]'))
    proc = build_cli(crate)
    assert proc.returncode == 1
    assert 'crate-type = ["cdylib"]' in proc.stdout


def test_error_cargo_missing(tmp_path):
    crate = make_crate(tmp_path / "c", "", pyproject=None)
    proc = build_cli(crate, env=cargo_env(CARGO=str(tmp_path / "no-cargo")))
    assert proc.returncode == 1
    assert "cargo not found" in proc.stdout and "rustup" in proc.stdout


def test_error_abi(tmp_path):
    crate = make_crate(tmp_path / "c", "", pyproject=None)
    proc = build_cli(crate, env=cargo_env(HPY_ABI="hybrid"))
    assert proc.returncode == 1 and "unknown HPy ABI 'hybrid'" in proc.stdout
    # the cpython ABI is selected through hpy-core's feature
    proc = build_cli(crate, "--abi", "cpython")
    assert proc.returncode == 1
    assert "depends on hpy-core" in proc.stdout or "neither depends" in proc.stdout


def test_error_compile(tmp_path):
    # a package name of its own and a target directory of its own: nothing
    # cached by another build can stand in for this one
    crate = make_crate(tmp_path / "c", "this is not rust", lib_name="rb_broken", pyproject=None)
    proc = build_cli(crate, env=cargo_env(CARGO_TARGET_DIR=str(tmp_path / "target")))
    assert proc.returncode == 1, proc.stdout
    assert "cargo failed" in proc.stdout and "error" in proc.stdout


def test_backend_error_is_clear(tmp_path):
    crate = make_crate(tmp_path / "c", "", pyproject=PYPROJECT.replace('version = "0.1.0"\n', ""))
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
                "--no-index", "-w", tmp_path / "wh", crate], check=False)
    assert proc.returncode != 0
    assert "has no version" in proc.stdout


def test_config_settings_and_env():
    assert rust.resolve_abi(config_settings={"hpy-abi": "cpython"}) == "cpython"
    assert rust.resolve_abi(config_settings={"hpy-abi": ["universal", "cpython"]}) == "cpython"
    assert rust.resolve_abi() in rust.RUST_ABIS
    assert rust.wheel_tag("universal") == f"py3-none-{PLATFORM_TAG}"
    assert rust.wheel_tag("cpython").startswith(f"{CP_TAG}-{CP_TAG}")
    assert rust.extension_filename("pkg.demo", "universal") == "demo.hpy0.so"
    assert rust.extension_filename("demo", "cpython") == "demo" + EXT_SUFFIX


# --------------------------------------------------------------------------
# cpython ABI
# --------------------------------------------------------------------------

def hpy_core_has_cpython_abi():
    text = (REPO / "hpy-core" / "Cargo.toml").read_text()
    return rust._toml_loads(text).get("features", {}).get("cpython-abi") is not None


needs_cpython_abi = pytest.mark.skipif(
    not hpy_core_has_cpython_abi(),
    reason="hpy-core has no `cpython-abi` feature yet: the cpython-ABI build "
           "(--config-settings hpy-abi=cpython) cannot be tested end to end")


@pytest.fixture(scope="module")
def cpython_crate(tmp_path_factory):
    extra = (f'hpy-core = {{ path = "{(REPO / "hpy-core").as_posix()}" }}\n'
             'pyo3-ffi = { version = "0.29", optional = true }\n\n'
             '[features]\ncpython-abi = ["dep:pyo3-ffi"]\n')
    return make_crate(tmp_path_factory.mktemp("rust-cpython") / "demo", CPYTHON_LIB_RS,
                      cargo_extra=extra, lib_name="rb_demo_cpy")


@needs_cpython_abi
def test_cpython_wheel(cpython_crate, tmp_path):
    whl = pip_wheel(cpython_crate, tmp_path / "wh", "--config-settings", "hpy-abi=cpython")
    tag = rust.wheel_tag("cpython")
    assert tag == f"{CP_TAG}-{CP_TAG}{sys.abiflags}-{PLATFORM_TAG}"
    assert whl.name == f"demo-0.1.0-{tag}.whl"
    with zipfile.ZipFile(whl) as zf:
        names = set(zf.namelist())
        metadata = zf.read("demo-0.1.0.dist-info/METADATA").decode().splitlines()
        check_record(zf)
    assert "demo" + EXT_SUFFIX in names
    assert "demo.py" not in names and "demo.hpy0.so" not in names
    assert "Requires-Dist: hpy-rs" not in metadata
    python = make_venv(tmp_path / "venv")
    run([python, "-m", "pip", "install", "--no-index", "--no-deps", whl])
    path, value = import_answer(python, tmp_path)
    assert value == 43 and path.endswith("demo" + EXT_SUFFIX)


@needs_cpython_abi
def test_cpython_inplace_replaces_universal(cpython_crate, tmp_path):
    out = tmp_path / "out"
    with build_lock():
        run([sys.executable, "-m", "hpy.devel.rust", "build", "--out", out, cpython_crate])
    assert sorted(p.name for p in out.iterdir()) == ["demo.hpy0.so"]
    assert import_answer(sys.executable, out)[1] == 42
    # HPY_ABI selects the ABI too; the universal binary is removed
    with build_lock():
        run([sys.executable, "-m", "hpy.devel.rust", "build", "--out", out, cpython_crate],
            env=cargo_env(HPY_ABI="cpython"))
    assert [p.name for p in out.iterdir()] == ["demo" + EXT_SUFFIX]
    assert import_answer(sys.executable, out)[1] == 43
    with build_lock():
        run([sys.executable, "-m", "hpy.devel.rust", "build", "--stub", "--out", out,
             cpython_crate])
    assert sorted(p.name for p in out.iterdir()) == ["demo.hpy0.so", "demo.py"]
    assert import_answer(sys.executable, out)[1] == 42
    # a build without --stub removes the stub an earlier build wrote
    with build_lock():
        run([sys.executable, "-m", "hpy.devel.rust", "build", "--out", out, cpython_crate])
    assert sorted(p.name for p in out.iterdir()) == ["demo.hpy0.so"]
    assert import_answer(sys.executable, out)[1] == 42
