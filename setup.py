"""Build script of the ``hpy-rs`` distribution (import package ``hpy``).

Metadata lives in pyproject.toml.  This file adds what a declarative config
cannot express:

* the Rust extension ``hpy.universal`` (cdylib of ``hpy-universal/``, built
  by setuptools-rust in release mode; it exports ``PyInit_universal`` itself);
* a ``build_py`` step that copies the C side of ``hpy.devel`` into the build
  tree: headers from ``hpy-sys/include``, the C entry points of the API
  helpers from ``hpy-sys/runtime``, and the static libraries built here with
  cargo (see DEVEL_FILES and find_static_libs):
  - the helper library (crate ``hpy-helpers``) as
    ``lib/<abi>/libhpy-extra-<abi>.a`` for the universal and hybrid ABIs;
  - the static runtime of CPython-ABI extensions (crate ``hpy-cpython-abi``,
    which contains the helpers too) as ``lib/cpython/libhpy-ctx-cpython.a``
    (upstream's file name: cargo's ``libhpy_cpython_abi.a`` is renamed).
    It is specific to the Python version of the interpreter running the
    build, like ``hpy.universal``;
  - the debug and trace contexts as a C library for other runtimes (crate
    ``hpy-debug-capi``; headers ``hpy_debug.h``, ``hpy_trace.h``) as
    ``lib/debug/libhpy_debug.so`` and ``.a``, for the same interpreter;
* the ``hpy-rs.pth`` file at the top of the wheel (so of site-packages),
  which installs the import hook of ``hpy._import_hook`` at interpreter start;
* a refusal to build where upstream HPy's distribution ``hpy`` is installed
  (``hpy/_upstream_guard.py``): both install the import package ``hpy``.
"""

import fnmatch
import glob
import os
import runpy
import shutil
import subprocess
import sys

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py
from setuptools_rust import Binding, RustExtension

ROOT = os.path.dirname(os.path.abspath(__file__))
PYTHON_SRC = 'python'

# (source directory relative to the repository root,
#  destination relative to the hpy/devel package,
#  file patterns to take, recursively)
DEVEL_FILES = [
    ('hpy-sys/include', 'include', ('*.h',)),
    # C sources of the API helpers compiled into every extension
    # (HPyDevel.get_extra_sources / get_ctx_sources look here)
    ('hpy-sys/runtime', os.path.join('src', 'runtime'), ('*.c', '*.h')),
]

HPY_ABIS = ('universal', 'hybrid', 'cpython')

# Installed at the top of purelib/platlib: its one line installs the import
# hook that finds HPy binaries without a .py stub (python/hpy/_import_hook.py).
PTH_FILE = 'hpy-rs.pth'


# The helper library (crate hpy-helpers: Rust logic + the C entry points of
# hpy-sys/runtime) is built as a Rust staticlib and shipped once per ABI
# under the names upstream's hpy.devel uses. The CPython ABI gets the helpers
# inside its static runtime instead (one Rust staticlib per extension: two
# would each carry Rust's standard library and clash at link time).
HELPER_LIB_NAMES = {
    'universal': 'libhpy-extra-universal.a',
    'hybrid': 'libhpy-extra-hybrid.a',
}


# The static runtime of CPython-ABI extensions (crate hpy-cpython-abi: every
# context function, the context, module creation and the helpers), under
# upstream's file name (hpy.devel and users' link lines use it), not cargo's
# (libhpy_cpython_abi.a).
CPYTHON_LIB_NAME = 'libhpy-ctx-cpython.a'


# The debug and trace contexts as a C library for other runtimes (crate
# hpy-debug-capi, whose library target is hpy_debug): libhpy_debug.so and
# libhpy_debug.a in lib/debug/, built for the running interpreter.
DEBUG_LIB_DIR = 'debug'
DEBUG_LIB_NAME = 'libhpy_debug'
DEBUG_LIB_TARGETS = {'hpy-debug-capi': 'hpy_debug'}


def _cargo_static_lib(package, features=(), env=None, profile='release',
                      rustc_args=None, suffix='.a'):
    """Build crate `package` as a static library (cargo profile `profile`)
    and return the path of the .a cargo produced (or of its other artifact
    ending in `suffix`). With `rustc_args` (a list),
    `cargo rustc --crate-type staticlib` builds it, passing them to rustc for
    this crate only."""
    cargo = os.environ.get('CARGO', 'cargo')
    cmd = [cargo, 'build' if rustc_args is None else 'rustc',
           '--profile', profile, '-p', package,
           '--manifest-path', os.path.join(ROOT, 'Cargo.toml'),
           '--message-format=json-render-diagnostics']
    if features:
        cmd += ['--features', ','.join(features)]
    if rustc_args is not None:
        cmd += ['--crate-type', 'staticlib', '--'] + list(rustc_args)
    try:
        out = subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE,
                             text=True, env=env)
    except OSError as e:
        raise SystemExit('building %s needs cargo: %s' % (package, e))
    import json
    names = (package, package.replace('-', '_'), DEBUG_LIB_TARGETS.get(package, package))
    for line in out.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get('reason') == 'compiler-artifact' and \
                msg.get('target', {}).get('name') in names:
            for f in msg.get('filenames', []):
                if f.endswith(suffix):
                    return f
    raise SystemExit('cargo did not produce the %s static library' % package)


# How the helper library is built (hpy-helpers/Cargo.toml says why; the same
# command is in scripts/dev-helpers.sh): no_std with its own panic handler,
# in the `helpers-lib` profile (panic=abort, LTO, optimized for size).
HELPER_LIB_PROFILE = 'helpers-lib'
HELPER_LIB_RUSTC_ARGS = ['--cfg', 'hpy_helpers_staticlib']


def build_helper_lib():
    """Build crate hpy-helpers as a static library and return its path."""
    return _cargo_static_lib('hpy-helpers', profile=HELPER_LIB_PROFILE,
                             rustc_args=HELPER_LIB_RUSTC_ARGS)


# How the CPython-ABI runtime is built (the same command is in
# scripts/dev-helpers.sh): without libpython, the helpers calling the runtime
# directly, LTO'd, no_std with its own allocator and panic handler (the cfg;
# profile `cpython-lib` in Cargo.toml says why). As a staticlib only
# (`cargo rustc --crate-type staticlib`): cargo does not run LTO for a crate
# that is also built as an rlib, as its Cargo.toml lists.
CPYTHON_LIB_PROFILE = 'cpython-lib'
CPYTHON_LIB_FEATURES = ['extension-module', 'direct-calls']
CPYTHON_LIB_RUSTC_ARGS = ['--cfg', 'hpy_cpython_abi_staticlib']


def build_cpython_lib():
    """Build crate hpy-cpython-abi as a static library for the running
    interpreter (hpy-cpython's build script reads it from PYO3_PYTHON) without
    a dependency on libpython, and return its path."""
    env = dict(os.environ, PYO3_PYTHON=sys.executable)
    return _cargo_static_lib('hpy-cpython-abi', features=CPYTHON_LIB_FEATURES,
                             env=env, profile=CPYTHON_LIB_PROFILE,
                             rustc_args=CPYTHON_LIB_RUSTC_ARGS)


def build_debug_libs():
    """Build crate hpy-debug-capi (the debug and trace contexts as a C
    library, headers hpy_debug.h and hpy_trace.h) for the running
    interpreter, without a dependency on libpython, and return
    [(path, installed name)] of its shared and static libraries."""
    env = dict(os.environ, PYO3_PYTHON=sys.executable)
    return [(_cargo_static_lib('hpy-debug-capi', features=['extension-module'],
                               env=env, suffix=suffix, profile='debug-lib'), DEBUG_LIB_NAME + suffix)
            for suffix in ('.a', '.so')]


def find_static_libs():
    """Return {abi: [(source path, installed name)]} of the static
    libraries to ship as hpy/devel/lib/<abi>/ (HPyDevel.get_static_libs),
    and the debug library's as lib/debug/ (HPyDevel.get_debug_lib_dir)."""
    lib = build_helper_lib()
    libs = {abi: [(lib, name)] for abi, name in HELPER_LIB_NAMES.items()}
    libs['cpython'] = [(build_cpython_lib(), CPYTHON_LIB_NAME)]
    libs[DEBUG_LIB_DIR] = build_debug_libs()
    return libs


def _copy_static_lib(src, target):
    """Copy a static library without its debug information (it is only
    linked into extensions; the debug info is most of its size)."""
    shutil.copyfile(src, target)
    strip = shutil.which('strip')
    if strip and not sys.platform.startswith('darwin'):
        subprocess.run([strip, '--strip-debug', target], check=False)


def _git_revision():
    try:
        out = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _copy_matching(src_dir, dst_dir, patterns):
    """Mirror the files of src_dir matching patterns into dst_dir (which is
    emptied first, so files deleted upstream do not linger).  Returns the
    list of written paths."""
    if os.path.isdir(dst_dir):
        shutil.rmtree(dst_dir)
    written = []
    for dirpath, dirnames, filenames in os.walk(src_dir):
        dirnames.sort()
        rel = os.path.relpath(dirpath, src_dir)
        for name in sorted(filenames):
            if not any(fnmatch.fnmatch(name, p) for p in patterns):
                continue
            target_dir = os.path.normpath(os.path.join(dst_dir, rel))
            os.makedirs(target_dir, exist_ok=True)
            target = os.path.join(target_dir, name)
            shutil.copyfile(os.path.join(dirpath, name), target)
            written.append(target)
    return written


class build_py_hpy(build_py):
    """build_py that also installs the C side of hpy.devel."""

    def run(self):
        super().run()
        self._hpy_outputs = self._install_devel_files(
            os.path.join(self.build_lib, 'hpy', 'devel'), stamp_version=True)
        self._hpy_outputs.append(self._install_pth_file())
        if getattr(self, 'editable_mode', False):
            # editable installs import hpy.devel from the source tree
            self._install_devel_files(os.path.join(ROOT, PYTHON_SRC, 'hpy', 'devel'))

    def _install_pth_file(self):
        target = os.path.join(self.build_lib, PTH_FILE)
        shutil.copyfile(os.path.join(ROOT, PYTHON_SRC, PTH_FILE), target)
        return target

    def _install_devel_files(self, devel_dir, stamp_version=False):
        outputs = []
        for src, dst, patterns in DEVEL_FILES:
            src_dir = os.path.join(ROOT, src)
            dst_dir = os.path.join(devel_dir, dst)
            if not os.path.isdir(src_dir):
                if os.path.isdir(dst_dir):
                    shutil.rmtree(dst_dir)
                continue
            outputs += _copy_matching(src_dir, dst_dir, patterns)
        lib_root = os.path.join(devel_dir, 'lib')
        if os.path.isdir(lib_root):
            shutil.rmtree(lib_root)
        for abi, libs in find_static_libs().items():
            abi_dir = os.path.join(lib_root, abi)
            os.makedirs(abi_dir, exist_ok=True)
            for lib, name in libs:
                target = os.path.join(abi_dir, name)
                _copy_static_lib(lib, target)
                outputs.append(target)
        if stamp_version:
            rev = _git_revision()
            version_py = os.path.join(devel_dir, 'version.py')
            if rev and os.path.isfile(version_py):
                with open(version_py, encoding='utf-8') as f:
                    text = f.read()
                with open(version_py, 'w', encoding='utf-8') as f:
                    f.write(text.replace('"__UNKNOWN__"', '"%s"' % rev))
        return outputs

    def get_outputs(self, include_bytecode=1):
        outputs = super().get_outputs(include_bytecode)
        return outputs + list(getattr(self, '_hpy_outputs', []))


def _python_packages():
    generated = ('hpy.devel.include', 'hpy.devel.src', 'hpy.devel.lib')
    # 'hpy' itself (a namespace package, as upstream's) for its modules
    # _import_hook and _upstream_guard
    pkgs = find_namespace_packages(PYTHON_SRC, include=['hpy', 'hpy.*'])
    return sorted(p for p in pkgs
                  if not p.startswith(generated) and '__pycache__' not in p)


def refuse_upstream_hpy():
    """Stop the build where upstream's ``hpy`` shares the ``hpy`` package
    (only visible to builds without isolation, or ``setup.py install``)."""
    guard = runpy.run_path(os.path.join(ROOT, PYTHON_SRC, 'hpy', '_upstream_guard.py'))
    try:
        guard['check']()
    except ImportError as e:
        raise SystemExit('error: %s' % e)


refuse_upstream_hpy()

setup(
    package_dir={'': PYTHON_SRC},
    packages=_python_packages(),
    rust_extensions=[
        RustExtension(
            'hpy.universal',
            path='hpy-universal/Cargo.toml',
            binding=Binding.NoBinding,
            # don't link libpython: the module is loaded into a running interpreter
            features=['extension-module'],
            debug=False,
            py_limited_api=False,
        ),
    ],
    cmdclass={'build_py': build_py_hpy},
    zip_safe=False,
)
