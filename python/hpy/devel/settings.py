"""Where the settings of an HPy build come from: the ABI and the ``.py`` stub.

Strongest first:

1. the ``setup.py`` command line (``--hpy-abi=``, ``--hpy-stub``,
   ``--no-hpy-stub``), or the attribute a tool sets on the Distribution
   (``dist.hpy_abi``, ``dist.hpy_stub``), as upstream's test support does;
2. the PEP 517 config settings ``hpy-abi`` and ``hpy-stub`` that
   :mod:`hpy.devel.build_meta` hands over while one of its hooks runs
   ``setup.py`` in this process (:class:`pep517_settings`);
3. ``setup(hpy_stub=...)`` in the project (stub only);
4. the environment variable ``HPY_ABI`` (ABI only), for tools that can set
   nothing else;
5. the default: the ``cpython`` ABI on CPython (``universal`` elsewhere), as
   upstream; no stub anywhere (hpy-rs's import hook, installed with the
   package, loads ``foo.hpy0.so`` itself). ``--hpy-stub`` (or
   ``hpy-stub=true``, ``setup(hpy_stub=True)``) writes upstream's stub for
   trees that must also load with upstream's runtime, which needs it.
"""

import os
import sys

from distutils.errors import DistutilsError

__all__ = [
    'DEFAULT_HPY_ABI', 'VALID_HPY_ABIS', 'HPY_ABI_ENV', 'GLOBAL_OPTIONS',
    'NEGATIVE_OPTIONS', 'pep517_settings', 'check_hpy_abi', 'dist_hpy_abi',
    'dist_hpy_stub', 'handle_hpy_stub',
]

# On CPython an HPy extension is by default compiled straight against the
# CPython ABI; elsewhere the only thing that can work is the universal ABI.
if getattr(sys, 'implementation', None) is not None and \
        sys.implementation.name == 'cpython':
    DEFAULT_HPY_ABI = 'cpython'
else:
    DEFAULT_HPY_ABI = 'universal'

VALID_HPY_ABIS = ('cpython', 'universal', 'hybrid')
HPY_ABI_ENV = 'HPY_ABI'

# The global options of setup.py that ``hpy_ext_modules`` adds (distutils
# stores ``--hpy-abi=x`` as ``dist.hpy_abi``), and their negative forms.
GLOBAL_OPTIONS = (
    ('hpy-abi=', None,
     'HPy ABI to build for: %s (default: $%s, else %s)'
     % (', '.join(VALID_HPY_ABIS), HPY_ABI_ENV, DEFAULT_HPY_ABI)),
    ('hpy-use-static-libs', None,
     'link the prebuilt static libraries of the HPy helpers instead of '
     'compiling their sources (default: off)'),
    ('hpy-stub', None,
     'write a .py loader stub next to universal/hybrid binaries, for '
     "upstream HPy's runtime (default: yes, but not in wheels)"),
    ('no-hpy-stub', None, "don't write .py loader stubs"),
)
NEGATIVE_OPTIONS = {'no-hpy-stub': 'hpy-stub'}

# The config settings of the PEP 517 hook running now (level 2 above).
_pep517 = {'abi': None, 'stub': None}


class pep517_settings:
    """Context manager: while it is active, ``setup.py`` run in this process
    sees ``abi`` and ``stub`` (None: not set) as the PEP 517 config settings
    ``hpy-abi`` and ``hpy-stub``."""

    def __init__(self, abi=None, stub=None):
        self.settings = {'abi': abi, 'stub': stub}
        self.saved = None

    def __enter__(self):
        self.saved = dict(_pep517)
        _pep517.update(self.settings)
        return self

    def __exit__(self, *exc):
        _pep517.update(self.saved)


def check_hpy_abi(abi, source):
    """``abi`` if it names an HPy ABI, else a DistutilsError that says where
    the value came from and which values are allowed."""
    if abi not in VALID_HPY_ABIS:
        raise DistutilsError(
            'unknown HPy ABI %r (from %s): choose one of %s'
            % (abi, source, ', '.join(VALID_HPY_ABIS)))
    return abi


def dist_hpy_abi(dist):
    """The ABI ``dist`` builds for."""
    for value, source in (
            (getattr(dist, 'hpy_abi', None), '--hpy-abi'),
            (_pep517['abi'], 'the config setting hpy-abi'),
            (os.environ.get(HPY_ABI_ENV),
             'the environment variable ' + HPY_ABI_ENV)):
        if value:
            return check_hpy_abi(value, source)
    return DEFAULT_HPY_ABI


def dist_hpy_stub(dist):
    """Whether universal/hybrid binaries of ``dist`` get a ``.py`` stub:
    only when asked for (level 1 to 3 above)."""
    for value in (getattr(dist, 'hpy_stub', None), _pep517['stub'],
                  getattr(dist, '_hpy_stub_keyword', None)):
        if value is not None:
            return bool(value)
    return False


def handle_hpy_stub(dist, attr, value):
    """Handler of the ``hpy_stub`` keyword of ``setup()`` (level 3 above)."""
    if attr != 'hpy_stub':
        raise DistutilsError('unexpected setup() keyword %r' % (attr,))
    if value not in (True, False, None):
        raise DistutilsError('setup(hpy_stub=...) must be True or False, '
                             'not %r' % (value,))
    dist._hpy_stub_keyword = value
    # dist.hpy_stub itself is the command line's (--hpy-stub), which wins
    dist.hpy_stub = None
