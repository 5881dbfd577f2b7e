"""PEP 517 build backend for Rust HPy extensions (crates using ``hpy-core``).

A crate directory becomes pip-installable with this ``pyproject.toml``
next to its ``Cargo.toml``::

    [build-system]
    requires = ["hpy-rs"]
    build-backend = "hpy.devel.rust_backend"

    [project]
    name = "demo"
    version = "0.1.0"

    [tool.hpy]
    module = "demo"   # optional; default: the crate's [lib] name

``pip install --no-build-isolation CRATE_DIR`` builds it with the installed
hpy-rs (with build isolation pip fetches ``hpy-rs``, which is not on PyPI:
point pip at our wheel with ``--find-links``).  The ABI is chosen with
``--config-settings hpy-abi=universal|cpython`` or ``HPY_ABI=...`` in the
environment (default: universal); see :mod:`hpy.devel.rust` for what each
produces.
"""

import sys
from pathlib import Path

from . import rust
from .rust import RustBuildError

__all__ = [
    'build_wheel', 'build_sdist', 'build_editable',
    'get_requires_for_build_wheel', 'get_requires_for_build_sdist',
    'get_requires_for_build_editable', 'prepare_metadata_for_build_wheel',
    'prepare_metadata_for_build_editable',
]


def _crate_dir():
    # PEP 517: hooks run with the source tree as the working directory
    return Path.cwd()


def _fail(e):
    print('\nhpy.devel.rust_backend: error: %s\n' % e, file=sys.stderr,
          flush=True)
    return e


def _meta(config_settings):
    abi = rust.resolve_abi(config_settings=config_settings)
    crate_dir = _crate_dir()
    pyproject = rust.read_pyproject(crate_dir)
    return crate_dir, pyproject, rust.ProjectMetadata(crate_dir, pyproject, abi)


def _profile_release(config_settings):
    value = (config_settings or {}).get('hpy-profile', 'release')
    if isinstance(value, (list, tuple)):
        value = value[-1]
    if value not in ('release', 'debug'):
        raise RustBuildError('hpy-profile must be release or debug, not %r'
                             % (value,))
    return value == 'release'


def get_requires_for_build_wheel(config_settings=None):
    # cargo is not a Python package; everything else is the standard library
    return []


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    try:
        _, _, meta = _meta(config_settings)
        return rust.write_metadata_dir(metadata_directory, meta,
                                       rust.wheel_tag(meta.abi))
    except RustBuildError as e:
        raise _fail(e)


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def _stub(config_settings):
    """``--config-settings hpy-stub=true``: put the ``.py`` loader stub
    into universal wheels too (for upstream HPy's runtime)."""
    value = str((config_settings or {}).get('hpy-stub', 'false')).lower()
    if value not in ('true', 'false', '1', '0', 'yes', 'no'):
        raise RustBuildError('hpy-stub must be true or false, not %r' % value)
    return value in ('true', '1', 'yes')


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    try:
        crate_dir, pyproject, meta = _meta(config_settings)
        result = rust.build_extension(
            crate_dir, abi=meta.abi, release=_profile_release(config_settings),
            pyproject=pyproject, stub=_stub(config_settings))
        return rust.write_wheel(wheel_directory, meta,
                                rust.wheel_tag(meta.abi), result.files())
    except RustBuildError as e:
        raise _fail(e)


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    """PEP 660: build the extension into the crate directory (as
    ``python -m hpy.devel.rust build`` does) and install a ``.pth`` file that
    puts the crate directory on ``sys.path``.  Rebuild with
    ``python -m hpy.devel.rust build CRATE_DIR`` after changing the Rust code."""
    try:
        crate_dir, pyproject, meta = _meta(config_settings)
        result = rust.build_extension(
            crate_dir, abi=meta.abi, release=_profile_release(config_settings),
            pyproject=pyproject, stub=_stub(config_settings))
        rust.install_inplace(result, crate_dir)
        pth = '__editable__.%s.pth' % rust._escape(meta.name)
        return rust.write_wheel(wheel_directory, meta, rust.wheel_tag(meta.abi),
                                [(pth, str(crate_dir) + '\n')])
    except RustBuildError as e:
        raise _fail(e)


def build_sdist(sdist_directory, config_settings=None):
    """A plain source archive of the crate directory plus PKG-INFO."""
    try:
        crate_dir, _, meta = _meta(config_settings)
        return rust.write_sdist(sdist_directory, crate_dir, meta)
    except RustBuildError as e:
        raise _fail(e)
