"""Build support for HPy extensions (setuptools integration).

Projects use it through the ``hpy_ext_modules`` keyword of ``setup()``::

    from setuptools import setup, Extension
    setup(
        name="example",
        hpy_ext_modules=[Extension("example", ["example.c"])],
    )

with ``hpy-rs`` among the build requirements.  The target ABI
(``cpython``, ``universal`` or ``hybrid``) comes from, strongest first:
``python setup.py --hpy-abi=...``; the config setting ``hpy-abi`` of a PEP 517
build through :mod:`hpy.devel.build_meta` (``pip wheel --config-settings
hpy-abi=universal .``); the environment variable ``HPY_ABI``; the default
(``cpython`` on CPython).  Tools that drive setuptools directly create a
``Distribution``, set ``hpy_abi``, ``hpy_ext_modules`` (and optionally
``hpy_use_static_libs``) on it and call ``HPyDevel().fix_distribution(dist)``.

Universal and hybrid binaries (``foo.hpy0.so``, ``foo.hpy0-cp311.so``) are
imported through the import hook of hpy-rs's runtime, so no ``.py`` loader
stub is written next to them, in a directory or in a wheel.  Upstream's
runtime needs one: ``--hpy-stub``, the config setting ``hpy-stub=true`` or
``setup(hpy_stub=True)`` write it (``--no-hpy-stub`` / ``hpy-stub=false``
undo a ``setup()`` that asks for it).  A universal wheel is tagged
``py3-none-<platform>``: one wheel for every CPython hpy-rs supports.

This package also ships the C headers (``include/``), the C sources of the
API helpers that are compiled into every extension (``src/runtime/``) and
prebuilt static libraries of those helpers (``lib/<abi>/``).

Extensions written in Rust (crates using ``hpy-core``) build with
:mod:`hpy.devel.rust` (``python -m hpy.devel.rust build``) and the PEP 517
backend :mod:`hpy.devel.rust_backend`.
"""

import functools
import os
import re
import sys
import types
from pathlib import Path

# upstream HPy's distribution `hpy` installed too mixes its files with ours
from .._upstream_guard import check as _refuse_upstream_hpy
_refuse_upstream_hpy()

# Importing setuptools first makes ``distutils`` resolve to whatever
# distutils setuptools itself uses (its bundled copy on modern versions, or
# the stdlib one when SETUPTOOLS_USE_DISTUTILS=stdlib on Python < 3.12).  All
# distutils names below are taken after that, so our classes always mix with
# setuptools' own base classes.
import setuptools
import setuptools.command.build_ext
import setuptools.command.bdist_egg
try:
    import setuptools.command.build as _st_build
except ImportError:  # setuptools < 62.4
    _st_build = None
from distutils.errors import DistutilsError
try:
    from distutils import log
except ImportError:  # pragma: no cover - distutils without the log module
    import logging
    log = logging.getLogger('hpy.devel')

from .abitag import HPY_ABI_TAG, get_hpy_ext_suffix
from .settings import (DEFAULT_HPY_ABI, GLOBAL_OPTIONS, HPY_ABI_ENV,
                       NEGATIVE_OPTIONS, VALID_HPY_ABIS, check_hpy_abi,
                       dist_hpy_abi, dist_hpy_stub, handle_hpy_stub,
                       pep517_settings)
from .wheel import (RUNTIME_DISTRIBUTION, bdist_wheel_hpy_mixin,
                    dist_info_hpy_mixin, runtime_requirement)

__all__ = [
    'DEFAULT_HPY_ABI', 'HPyDevel', 'HPyExtensionName', 'handle_hpy_ext_modules',
    'handle_hpy_stub', 'pep517_settings', 'check_hpy_abi', 'runtime_requirement',
    'RUNTIME_DISTRIBUTION', 'HPY_ABI_ENV',
    'is_hpy_extension', 'remember_hpy_extension', 'make_mixin', 'monkeypatch',
    'build_hpy_mixin', 'build_ext_hpy_mixin',
]

_ABI_MACROS = {
    'cpython': 'HPY_ABI_CPYTHON',
    'hybrid': 'HPY_ABI_HYBRID',
    'universal': 'HPY_ABI_UNIVERSAL',
}
# The C helper sources upstream HPy compiles into every extension, in the
# order it lists them.  We return the ones our package actually ships.
_HELPER_SOURCE_NAMES = (
    'argparse.c', 'buildvalue.c', 'format.c', 'helpers.c', 'structseq.c',
)


# ABIs whose extensions link a Rust static library of ours, whatever
# ``hpy_use_static_libs`` says: the helpers (HPyArg_Parse, HPy_BuildValue, ...)
# are implemented in Rust, in lib/<abi>/libhpy-extra-<abi>.a for the
# universal and hybrid ABIs, and for the CPython ABI in its static runtime
# lib/cpython/libhpy-ctx-cpython.a (every context function, the extension's
# context, module creation and the helpers).
_ABIS_WITH_HELPER_LIB = ('universal', 'hybrid', 'cpython')

# What the CPython ABI's static runtime (a Rust staticlib with Rust's
# standard library) needs from the system when linked into a shared object,
# as ``rustc --print native-static-libs`` reports it (less libc itself and
# the libraries nothing we use pulls in). The helper library of the other
# ABIs needs nothing but libc (it is built without the standard library).
if sys.platform.startswith('linux'):
    _HELPER_LIB_SYSTEM_LIBS = ('gcc_s', 'pthread', 'm', 'dl')
else:
    _HELPER_LIB_SYSTEM_LIBS = ()


def _add_helper_lib_link_options(ext, libs, abi):
    """Link options for the helper library: its system dependencies, and
    (with GNU ld) no re-export of its symbols -- the Rust runtime inside it
    is private to the extension -- and ``--gc-sections``: the library is one
    LTO'd object (one archive member), so without it every helper would be
    linked into every extension, used or not; with it an extension carries
    the helpers it calls (as a C library of one file per function would).
    Sections the linker script keeps (``.init_array``, ``.ctors``...) and
    everything reachable from the dynamic exports stay."""
    libraries = list(ext.libraries or [])
    for lib in _HELPER_LIB_SYSTEM_LIBS if abi == 'cpython' else ():
        if lib not in libraries:
            libraries.append(lib)
    ext.libraries = libraries
    if sys.platform.startswith('linux'):
        names = ','.join(os.path.basename(lib) for lib in libs)
        extra = list(ext.extra_link_args or [])
        for flag in ('-Wl,--exclude-libs,' + names, '-Wl,--gc-sections'):
            if flag not in extra:
                extra.append(flag)
        ext.extra_link_args = extra


def _command_class(dist, name):
    """The class ``dist`` would run as command ``name``, or None if there is
    no such command here (bdist_wheel before setuptools 70.1 comes from the
    ``wheel`` package; a plain distutils Distribution knows neither)."""
    try:
        return dist.get_command_class(name)
    except Exception:   # DistutilsModuleError, or a broken plugin
        return None


class HPyDevel:
    """Locations of the files an HPy extension is compiled with.

    ``base_dir`` defaults to the directory of this package; other
    implementations may point it at their own copy of the files.
    """

    _DEFAULT_BASE_DIR = Path(__file__).resolve().parent

    def __init__(self, base_dir=_DEFAULT_BASE_DIR):
        self.base_dir = Path(base_dir)
        self.include_dir = self.base_dir / 'include'
        self.src_dir = self.base_dir / 'src' / 'runtime'
        self._static_libs_by_abi = None

    # ---- files ------------------------------------------------------------

    def get_extra_include_dirs(self):
        """Include directories every HPy extension needs, whatever its ABI."""
        return [str(self.include_dir)]

    def get_include_dir_forbid_python_h(self):
        """Directory with a ``Python.h`` that refuses to be included; it is put
        first on the include path of universal-ABI builds."""
        return self.include_dir / 'hpy' / 'forbid_python_h'

    def get_extra_sources(self):
        """C sources of the API helpers (``HPyArg_Parse``, ``HPy_BuildValue``,
        ...) to compile into an extension when no static library is used.

        Only files present in this package are returned: the upstream set
        first, in upstream's order, then any other non-``ctx_*`` C file of
        ``src/runtime``.
        """
        if not self.src_dir.is_dir():
            return []
        result = [self.src_dir / name for name in _HELPER_SOURCE_NAMES
                  if (self.src_dir / name).is_file()]
        known = set(_HELPER_SOURCE_NAMES)
        others = sorted(p for p in self.src_dir.glob('*.c')
                        if p.name not in known and not p.name.startswith('ctx_'))
        return [str(p) for p in result + others]

    def get_ctx_sources(self):
        """Extra C sources needed only by CPython-ABI builds (``ctx_*.c``).

        Upstream compiles its CPython-ABI runtime from these; ours is the
        static library ``lib/cpython/libhpy-ctx-cpython.a``, so this package
        ships none and the list is empty (kept for tools that call it)."""
        if not self.src_dir.is_dir():
            return []
        return [str(p) for p in sorted(self.src_dir.glob('ctx_*.c'))]

    def _find_static_libs(self):
        found = {}
        lib_dir = self.base_dir / 'lib'
        if lib_dir.is_dir():
            for abi_dir in sorted(lib_dir.iterdir()):
                if abi_dir.is_dir():
                    # the static libraries of lib/<abi>/ (hidden files,
                    # e.g. a copy being replaced, are not)
                    found[abi_dir.name] = sorted(
                        str(f) for f in abi_dir.iterdir()
                        if f.is_file() and not f.name.startswith('.')
                        and f.suffix in ('.a', '.lib'))
        return found

    def get_static_libs(self, hpy_abi):
        """Static libraries (paths) an extension for ``hpy_abi`` must link
        against when ``hpy_use_static_libs`` is on, or None if this package
        ships none for that ABI."""
        if self._static_libs_by_abi is None:
            self._static_libs_by_abi = self._find_static_libs()
        libs = self._static_libs_by_abi.get(hpy_abi)
        return list(libs) if libs else None

    def get_debug_lib_dir(self):
        """Directory of ``libhpy_debug.so`` and ``libhpy_debug.a``: the debug
        and trace contexts as a C library (``hpy_debug.h``, ``hpy_trace.h``
        in the include directory), for runtimes that wrap their own
        universal context. Built for this package's Python version."""
        return str(self.base_dir / 'lib' / 'debug')

    # ---- setuptools integration -------------------------------------------

    def fix_distribution(self, dist):
        """Teach ``dist`` to build its ``hpy_ext_modules``.

        Installs HPy-aware ``build`` and ``build_ext`` commands in
        ``dist.cmdclass`` and makes ``bdist_egg`` keep our loader stubs.
        Safe to call more than once.
        """
        dist.hpydevel = self
        # Defaults, for distributions that did not come through the
        # ``hpy_ext_modules`` keyword (e.g. a bare Distribution()).  The ABI
        # and the stub stay None until chosen: settings.dist_hpy_abi/dist_hpy_stub
        # look further.
        for attr in ('hpy_abi', 'hpy_stub'):
            if getattr(dist, attr, None) is None:
                setattr(dist, attr, None)
        if getattr(dist, 'hpy_use_static_libs', None) is None:
            dist.hpy_use_static_libs = False
        if getattr(dist, 'hpy_ext_modules', None) is None:
            dist.hpy_ext_modules = []

        # A project with only HPy extensions is still platform specific:
        # build/lib.<plat>, platlib install, non-pure wheel.
        if not getattr(dist.has_ext_modules, '_hpy_patched', False):
            def has_ext_modules(self):
                return bool(self.ext_modules) or \
                    bool(getattr(self, 'hpy_ext_modules', None))
            has_ext_modules._hpy_patched = True
            dist.has_ext_modules = types.MethodType(has_ext_modules, dist)

        if _st_build is not None:
            base = dist.cmdclass.get('build', _st_build.build)
            dist.cmdclass['build'] = make_mixin(base, build_hpy_mixin)

        base = dist.cmdclass.get('build_ext',
                                 setuptools.command.build_ext.build_ext)
        self.build_ext_sanity_check(base)
        dist.cmdclass['build_ext'] = make_mixin(base, build_ext_hpy_mixin)

        # installing one ABI replaces the others' binaries; wheels: the tag,
        # the runtime requirement
        for name, mixin in (('install_lib', install_lib_hpy_mixin),
                            ('bdist_wheel', bdist_wheel_hpy_mixin),
                            ('dist_info', dist_info_hpy_mixin)):
            base = _command_class(dist, name)
            if base is not None:
                dist.cmdclass[name] = make_mixin(base, mixin)

        _patch_bdist_egg_write_stub()

    def build_ext_sanity_check(self, build_ext):
        """Refuse ``build_ext`` classes that do not derive from setuptools'
        (our overrides rely on its stub and in-place machinery)."""
        if not isinstance(build_ext, type):
            return
        for klass in build_ext.__mro__:
            if (klass.__module__ == 'setuptools.command.build_ext'
                    and klass.__name__ == 'build_ext'):
                return
        raise DistutilsError(
            "dist.cmdclass['build_ext'] (%s.%s) must be a subclass of "
            "setuptools.command.build_ext.build_ext to build HPy extensions; "
            "distutils' build_ext is not supported"
            % (build_ext.__module__, build_ext.__qualname__))


def handle_hpy_ext_modules(dist, attr, hpy_ext_modules):
    """Handler of the ``hpy_ext_modules`` keyword of ``setup()``.

    Registered through the ``distutils.setup_keywords`` entry point.  Adds
    the ``--hpy-abi=`` and ``--hpy-use-static-libs`` global options, the
    matching ``hpy_abi``/``hpy_use_static_libs`` attributes, and fixes the
    distribution's commands.
    """
    if attr != 'hpy_ext_modules':
        raise DistutilsError('unexpected setup() keyword %r' % (attr,))
    if getattr(dist, 'hpydevel', None) is not None:
        # setuptools may run keyword handlers more than once
        return
    if getattr(dist, 'hpy_use_static_libs', None) is None:
        dist.hpy_use_static_libs = False
    known = {opt[0] for opt in dist.global_options}
    extra = [opt for opt in GLOBAL_OPTIONS if opt[0] not in known]
    # instance attributes: other Distribution objects are left alone
    dist.global_options = list(dist.global_options) + extra
    dist.negative_opt = dict(dist.negative_opt, **NEGATIVE_OPTIONS)
    HPyDevel().fix_distribution(dist)


# The loader stub written as <module>.py next to a universal/hybrid binary.
# ``.hpy0.so`` is not an extension suffix CPython's import system knows, so a
# plain ``import foo`` finds this file, which loads the binary through
# hpy.universal.  Placeholders: {ext_file!r} (binary file name) and
# {module_name!r} (the short module name).
_HPY_UNIVERSAL_MODULE_STUB_TEMPLATE = """\
# This file is automatically generated by hpy.devel -- do not edit it.
# Loader stub: "import" finds this file and it loads the HPy binary
# {ext_file!r} through hpy.universal.

def __bootstrap__():
    import os
    import sys
    from hpy.universal import _load_bootstrap

    binary = {ext_file!r}
    path = None
    here = globals().get('__file__')
    if here:
        candidate = os.path.join(os.path.dirname(os.path.abspath(here)), binary)
        if os.path.exists(candidate):
            path = candidate
    if path is None:
        # not a plain directory on disk (zip, egg...): ask the package
        # resources for a real file
        try:
            from pkg_resources import resource_filename
        except ImportError:
            resource_filename = None
        if resource_filename is not None:
            path = resource_filename(__name__, binary)
    if path is None:
        raise ImportError('cannot locate HPy binary %r for module %r'
                          % (binary, __name__), name=__name__)
    module = _load_bootstrap({module_name!r}, __name__, __package__, path,
                             __loader__, __spec__, os.environ)
    sys.modules[__name__] = module

__bootstrap__()
"""


def _write_hpy_stub(cmd, stub_file, ext):
    ext_file = os.path.basename(ext._file_name)
    module_name = ext_file.split('.', 1)[0]
    log.info('writing HPy loader stub for %s to %s', ext._full_name, stub_file)
    if getattr(cmd, 'dry_run', False):
        return
    stub_dir = os.path.dirname(stub_file)
    if stub_dir:
        os.makedirs(stub_dir, exist_ok=True)
    content = _HPY_UNIVERSAL_MODULE_STUB_TEMPLATE.format(
        ext_file=ext_file, module_name=module_name)
    with open(stub_file, 'w', encoding='utf-8') as f:
        f.write(content)


def _remove_hpy_stub(cmd, stub_file):
    """Remove ``stub_file`` if it is a loader stub hpy.devel wrote."""
    try:
        with open(stub_file, encoding='utf-8') as f:
            first = f.readline().rstrip('\n')
    except (OSError, UnicodeDecodeError):
        return
    if first != _HPY_UNIVERSAL_MODULE_STUB_TEMPLATE.splitlines()[0]:
        return
    log.info('removing the HPy loader stub %s (no stubs in this build)',
             stub_file)
    if not getattr(cmd, 'dry_run', False):
        os.remove(stub_file)


class HPyExtensionName(str):
    """A ``str`` that marks the name of an HPy extension.

    Several ``build_ext`` methods receive only an extension's name, not the
    Extension object.  Names of HPy extensions are wrapped in this class so
    the overrides in :class:`build_ext_hpy_mixin` can tell them apart; the
    mark survives ``split`` and ``translate``, which distutils applies to
    module names on the way.
    """

    def split(self, *args, **kwargs):
        return [HPyExtensionName(part)
                for part in str.split(self, *args, **kwargs)]

    def translate(self, *args, **kwargs):
        return HPyExtensionName(str.translate(self, *args, **kwargs))


def is_hpy_extension(ext_name):
    """True if ``ext_name`` names an HPy extension."""
    return isinstance(ext_name, HPyExtensionName)


def remember_hpy_extension(f):
    """Decorator for ``build_ext`` methods ``f(self, ext_name) -> str``: the
    result is an :class:`HPyExtensionName` when ``ext_name`` was one (or
    when the build has HPy extensions only)."""
    @functools.wraps(f)
    def wrapper(self, ext_name):
        if getattr(self, '_only_hpy_extensions', False) and \
                not is_hpy_extension(ext_name):
            # every extension of this build is an HPy one, so a name that
            # lost its mark on the way (plain str operations) still is one
            ext_name = HPyExtensionName(ext_name)
        result = f(self, ext_name)
        if is_hpy_extension(ext_name) and not is_hpy_extension(result):
            result = HPyExtensionName(result)
        return result
    return wrapper


def make_mixin(base, mixin):
    """Return a subclass of ``base`` whose methods from ``mixin`` take
    precedence; ``mixin`` methods reach the base class through
    ``self._mixin_super``.  Mixing the same mixin twice is a no-op."""
    if issubclass(base, mixin):
        return base
    return type(base.__name__ + '_hpy', (mixin, base),
                {'_mixin_super': base, '__module__': mixin.__module__})


def monkeypatch(target):
    """Decorator replacing the attribute of ``target`` (a module or class)
    named like the decorated function; the replaced object stays reachable
    as ``<function>.super``."""
    def decorator(fn):
        fn.super = getattr(target, fn.__name__)
        setattr(target, fn.__name__, fn)
        return fn
    return decorator


_HPY_BINARY_RE = re.compile(
    r'\.' + re.escape(HPY_ABI_TAG) + r'(-[^.]+)?\.[A-Za-z0-9]+$')


def _patch_bdist_egg_write_stub():
    """bdist_egg writes a generic .py loader next to every binary it packs,
    which would overwrite our HPy stub; keep ours for HPy binaries."""
    module = setuptools.command.bdist_egg
    if getattr(getattr(module, 'write_stub', None), '_hpy_patched', False):
        return

    @monkeypatch(module)
    def write_stub(resource, pyfile):
        if _HPY_BINARY_RE.search(resource):
            log.info('keeping the HPy loader stub for %s', resource)
            return
        return write_stub.super(resource, pyfile)
    write_stub._hpy_patched = True


def _remove_other_abi_binaries(cmd, base, ext):
    """Remove what a build of ``ext`` for another ABI left next to this
    one's binary (``base`` is its path without the suffix): binaries that
    would shadow or be shadowed by this one (CPython prefers ``EXT_SUFFIX``
    files, then a ``.py`` stub, to ``.hpy0.so``), and our stub when this
    build has none."""
    abi = ext.hpy_abi
    for other in VALID_HPY_ABIS:
        if other != abi:
            path = base + get_hpy_ext_suffix(other)
            if os.path.exists(path):
                log.info('removing %s (a build of %s for the %s ABI)',
                         path, ext.name, other)
                if not getattr(cmd, 'dry_run', False):
                    os.remove(path)
    if not getattr(ext, '_needs_stub', False):
        _remove_hpy_stub(cmd, base + '.py')


class install_lib_hpy_mixin:
    """Override for ``install_lib``: ``setup.py install`` of a project for
    one ABI after another replaces the module, as the build directories
    are kept apart (``build_hpy_mixin``)."""

    def install(self):
        for ext in getattr(self.distribution, 'hpy_ext_modules', None) or ():
            if getattr(ext, '_hpy_prepared', False):
                parts = ext._full_name.split('.')
                _remove_other_abi_binaries(
                    self, os.path.join(self.install_dir, *parts), ext)
        return self._mixin_super.install(self)


class build_hpy_mixin:
    """Override for the ``build`` command: non-cpython builds go to separate
    build directories (``build/lib.<plat>-hpy-universal`` ...), so switching
    ABIs never mixes object files or binaries."""

    def finalize_options(self):
        self._mixin_super.finalize_options(self)
        abi = dist_hpy_abi(self.distribution)
        if abi != 'cpython':
            tail = '-hpy-' + abi
            for attr in ('build_platlib', 'build_lib', 'build_temp'):
                value = getattr(self, attr, None)
                if value and not value.endswith(tail):
                    setattr(self, attr, value + tail)


class build_ext_hpy_mixin:
    """Override for ``build_ext`` that also builds ``hpy_ext_modules``.

    Each HPy extension gets the HPy include directory, the ABI defines, the
    helper sources (compiled on the side, see build_extension) or static
    libraries, an ABI-specific file name and, for universal/hybrid, a ``.py``
    loader stub where one is wanted (see settings.dist_hpy_stub).
    """

    # distutils' and setuptools' finalize_options both assign
    # ``self.extensions`` from ``distribution.ext_modules``.  The full list
    # (legacy + HPy extensions) lives in _hpy_all_extensions; assignments
    # to ``extensions`` are ignored once it exists.
    _hpy_all_extensions = None
    _only_hpy_extensions = False

    @property
    def extensions(self):
        return self._hpy_all_extensions

    @extensions.setter
    def extensions(self, value):
        if self._hpy_all_extensions is None and value is not None:
            self._hpy_all_extensions = value

    def initialize_options(self):
        self._mixin_super.initialize_options(self)
        self.hpydevel = getattr(self.distribution, 'hpydevel', None) or HPyDevel()

    def _hpy_prepare_extension(self, ext):
        abi = dist_hpy_abi(self.distribution)
        if getattr(ext, 'hpy_abi', None) == abi and \
                getattr(ext, '_hpy_prepared', False):
            return
        if getattr(ext, 'hpy_abi', None) is not None:
            raise DistutilsError(
                'HPy extension %r was already configured for the %r ABI'
                % (ext.name, ext.hpy_abi))
        ext.name = HPyExtensionName(ext.name)
        ext.hpy_abi = abi
        hpydevel = self.hpydevel

        include_dirs = list(ext.include_dirs or [])
        include_dirs += hpydevel.get_extra_include_dirs()
        if abi == 'universal':
            include_dirs.insert(
                0, str(hpydevel.get_include_dir_forbid_python_h()))
        ext.include_dirs = include_dirs

        helper_sources = []
        extra_objects = list(ext.extra_objects or [])
        libs = hpydevel.get_static_libs(abi)
        if abi in _ABIS_WITH_HELPER_LIB:
            # The helpers' logic (and for the CPython ABI, the runtime) lives
            # in the static library whatever the build mode;
            # --hpy-use-static-libs only decides whether the helpers' C entry
            # points are compiled from source or taken from it too.
            if not libs:
                raise DistutilsError(
                    'hpy.devel: the HPy %s for the %s ABI is missing from '
                    'this installation (%s)'
                    % ('static runtime' if abi == 'cpython'
                       else 'helper library',
                       abi, hpydevel.base_dir / 'lib' / abi))
            if not self.distribution.hpy_use_static_libs:
                helper_sources = hpydevel.get_extra_sources()
            extra_objects += libs
            _add_helper_lib_link_options(ext, libs, abi)
        else:  # pragma: no cover - every valid ABI has a library
            helper_sources = hpydevel.get_extra_sources()
            if self.distribution.hpy_use_static_libs and libs:
                extra_objects += libs
        # Not in ext.sources: those are the project's own files, which
        # setuptools lists in SOURCES.txt and sdists, and must be relative
        # to the setup.py directory (an absolute path there stops
        # build_py).  build_extension compiles these.
        ext._hpy_helper_sources = helper_sources
        ext.extra_objects = extra_objects

        macros = list(ext.define_macros or [])
        macros.append(('HPY', None))
        macros.append((_ABI_MACROS[abi], None))
        ext.define_macros = macros

        # a binary that a .py stub can load (whether it gets one is decided
        # when building: _hpy_decide_stubs)
        ext._hpy_needs_stub = abi in ('universal', 'hybrid')
        ext._hpy_prepared = True

    def finalize_options(self):
        dist = self.distribution
        legacy = list(dist.ext_modules or [])
        hpy_exts = list(getattr(dist, 'hpy_ext_modules', None) or [])
        self._only_hpy_extensions = not legacy
        for ext in hpy_exts:
            self._hpy_prepare_extension(ext)
        self._hpy_all_extensions = legacy + hpy_exts
        self._mixin_super.finalize_options(self)
        self._hpy_decide_stubs()

    def _hpy_hpy_extensions(self):
        return [ext for ext in self.extensions or ()
                if getattr(ext, '_hpy_prepared', False)]

    def _hpy_decide_stubs(self):
        # setuptools decides _needs_stub for its own reasons (shared-library
        # stubs); for HPy extensions the answer is ours.  It can change
        # between finalize_options and run (bdist_wheel marks the
        # distribution when it starts), so run() decides again.
        wanted = dist_hpy_stub(self.distribution)
        for ext in self._hpy_hpy_extensions():
            ext._needs_stub = ext._hpy_needs_stub and wanted

    def _hpy_abi_needs_stub(self, ext):
        return getattr(ext, '_hpy_needs_stub', False) and \
            dist_hpy_abi(self.distribution) in ('universal', 'hybrid')

    def run(self):
        self._hpy_decide_stubs()
        result = self._mixin_super.run(self)
        # what earlier builds for another ABI, or with a stub, left where
        # this one put its binaries: build_lib (a wheel packs all of it) and
        # for --inplace the source tree
        build_py = self.get_finalized_command('build_py')
        for ext in self._hpy_hpy_extensions():
            parts = ext._full_name.split('.')
            bases = [os.path.join(self.build_lib or os.curdir, *parts)]
            if getattr(self, 'inplace', False):
                bases.append(os.path.join(
                    build_py.get_package_dir('.'.join(parts[:-1])), parts[-1]))
            for base in bases:
                _remove_other_abi_binaries(self, base, ext)
        return result

    def build_extension(self, ext):
        helper_sources = getattr(ext, '_hpy_helper_sources', None)
        if not helper_sources:
            return self._mixin_super.build_extension(self, ext)
        # The helpers' C files, compiled with the extension's flags into a
        # directory of its own under build_temp (extensions may differ in
        # flags, and builds may run in parallel), then linked like
        # extra_objects, before the static libraries they call into.
        macros = list(ext.define_macros or [])
        macros += [(name,) for name in ext.undef_macros or ()]
        objects = self.compiler.compile(
            helper_sources,
            output_dir=os.path.join(self.build_temp, 'hpy-helpers',
                                    ext._full_name),
            macros=macros, include_dirs=ext.include_dirs, debug=self.debug,
            extra_postargs=list(ext.extra_compile_args or []),
            depends=ext.depends)
        saved = ext.extra_objects
        ext.extra_objects = objects + list(saved or [])
        try:
            return self._mixin_super.build_extension(self, ext)
        finally:
            ext.extra_objects = saved

    @remember_hpy_extension
    def get_ext_fullname(self, ext_name):
        return self._mixin_super.get_ext_fullname(self, ext_name)

    @remember_hpy_extension
    def get_ext_fullpath(self, ext_name):
        return self._mixin_super.get_ext_fullpath(self, ext_name)

    @remember_hpy_extension
    def get_ext_filename(self, ext_name):
        abi = dist_hpy_abi(self.distribution)
        if not is_hpy_extension(ext_name) or abi == 'cpython':
            return self._mixin_super.get_ext_filename(self, ext_name)
        parts = str(ext_name).split('.')
        return os.path.join(*parts) + get_hpy_ext_suffix(abi)

    def write_stub(self, output_dir, ext, compile=False):
        if not self._hpy_abi_needs_stub(ext):
            return self._mixin_super.write_stub(self, output_dir, ext, compile)
        parts = ext._full_name.split('.')
        if compile:
            # in-place copy: output_dir already is the package directory
            parts = parts[-1:]
        stub_file = os.path.join(output_dir, *parts) + '.py'
        _write_hpy_stub(self, stub_file, ext)

    def _write_stub_file(self, stub_file, ext, compile=False):
        # setuptools >= 64 funnels both the build_lib stub and the in-place
        # stub (build_ext --inplace) through here.  For HPy extensions we
        # write our stub and keep it as a .py file (setuptools would
        # byte-compile its own and delete the source, and refuse to overwrite
        # an existing one on rebuilds).
        if not self._hpy_abi_needs_stub(ext):
            return self._mixin_super._write_stub_file(
                self, stub_file, ext, compile)
        _write_hpy_stub(self, stub_file, ext)

    def get_export_symbols(self, ext):
        # Only matters on Windows, where the DLL's exports are listed
        # explicitly: an HPy binary exports HPyInit_<name>, not PyInit_.
        symbols = self._mixin_super.get_export_symbols(self, ext)
        if getattr(ext, 'hpy_abi', None) in ('universal', 'hybrid'):
            symbols = [('HPyInit_' + s[len('PyInit_'):])
                       if s.startswith('PyInit_') else s for s in symbols]
        return symbols
