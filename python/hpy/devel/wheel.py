"""Wheels of projects with ``hpy_ext_modules``: tag and runtime requirement.

``hpy.devel`` wraps two setuptools commands with these mixins:

* ``bdist_wheel``: marks the distribution as building a wheel (no ``.py``
  stubs by default, see :mod:`hpy.devel.settings`), adds the runtime
  requirement, and tags a universal build ``py3-none-<platform>``: one wheel
  for every CPython hpy-rs runs on (pip installs ``linux_x86_64`` wheels from
  files; for an index, ``auditwheel repair`` turns the platform into a
  ``manylinux`` one and keeps ``py3-none``).  cpython and hybrid builds keep
  the usual ``cp311-cp311-<platform>``: a hybrid binary calls the C API of
  the CPython it was compiled for, and is named for it (``.hpy0-cp311.so``);
* ``dist_info``: the metadata a PEP 517 frontend asks for before the wheel
  carries the same requirement.

The requirement: universal and hybrid binaries are loaded by hpy-rs's
``hpy.universal``, at least the version whose headers compiled them (they may
use any context member those headers declare), and only on CPython (other
Pythons have HPy built in).  cpython-ABI binaries need nothing.
"""

import re

from .settings import dist_hpy_abi

__all__ = [
    'RUNTIME_DISTRIBUTION', 'runtime_requirement', 'add_runtime_requirement',
    'is_universal_wheel', 'bdist_wheel_hpy_mixin', 'dist_info_hpy_mixin',
]

RUNTIME_DISTRIBUTION = 'hpy-rs'
_RUNTIME_MARKER = 'implementation_name == "cpython"'


def runtime_requirement():
    """``hpy-rs>=<this version>; implementation_name == "cpython"``."""
    from .version import __version__
    return '%s>=%s; %s' % (RUNTIME_DISTRIBUTION, __version__, _RUNTIME_MARKER)


def _requirement_name(req):
    name = re.split(r'[\s<>=!~;\[(@]', req.strip(), 1)[0]
    return re.sub(r'[-_.]+', '-', name).lower()


def add_runtime_requirement(dist):
    """Make ``dist`` require the runtime if its HPy binaries need it and it
    does not name the runtime already."""
    if not getattr(dist, 'hpy_ext_modules', None) or \
            dist_hpy_abi(dist) == 'cpython':
        return
    requires = [str(r) for r in getattr(dist, 'install_requires', None) or ()]
    if any(_requirement_name(r) == RUNTIME_DISTRIBUTION for r in requires):
        return
    # new lists: setuptools marks the ones it read from pyproject.toml as
    # static, and warns about changes made to them in place
    requires.append(runtime_requirement())
    dist.install_requires = requires
    if hasattr(dist.metadata, 'install_requires'):
        dist.metadata.install_requires = list(requires)


def is_universal_wheel(dist):
    """A wheel of ``dist`` serves every Python: its only binaries are
    universal HPy ones (ordinary extensions are version-specific)."""
    return dist_hpy_abi(dist) == 'universal' and \
        not getattr(dist, 'ext_modules', None) and \
        not getattr(dist, 'libraries', None)


class bdist_wheel_hpy_mixin:
    """Override for ``bdist_wheel`` (see the module's docstring)."""

    def run(self):
        self.distribution._hpy_building_wheel = True
        add_runtime_requirement(self.distribution)
        return self._mixin_super.run(self)

    def get_tag(self):
        tag = self._mixin_super.get_tag(self)
        if is_universal_wheel(self.distribution):
            return ('py3', 'none', tag[2])
        return tag


class dist_info_hpy_mixin:
    """Override for ``dist_info``: the runtime requirement."""

    def run(self):
        add_runtime_requirement(self.distribution)
        return self._mixin_super.run(self)
