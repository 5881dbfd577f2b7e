"""The import hook that lets ``import foo`` find ``foo.hpy0.so`` without a stub.

Importing this module installs the hook (the ``hpy-rs.pth`` file that hpy-rs
installs at the top of site-packages does it at interpreter start; with
``python -S`` or in an embedded interpreter without ``site``, import it
yourself).  It replaces the ``FileFinder`` path hook of ``sys.path_hooks``
with one that knows one more kind of file: HPy universal binaries
(``<name>.hpy0.so``) and hybrid binaries of this interpreter's ABI
(``<name>.hpy0-cp311.so`` on CPython 3.11), loaded through
``hpy.universal._load_bootstrap``, which honours ``HPY`` (``universal``,
``debug``, ``trace``, or per module ``HPY=mod1:debug,mod2:trace``) and
``HPY_LOG`` as the stubs do.  Nothing else is imported until such a file is
found.

Precedence inside one directory is FileFinder's, with the HPy suffixes last:
a package directory (``foo/__init__.*``) first, then ``foo`` with CPython's
extension suffixes (``foo.cpython-311-x86_64-linux-gnu.so``, ``foo.abi3.so``,
``foo.so``), then ``foo.py``, ``foo.pyc``, then ``foo.hpy0-cp311.so`` and
``foo.hpy0.so``; a directory ``foo/`` without ``__init__`` (namespace package)
only when none of those exists.  So a ``.py`` stub next to the binary still
wins, and so does a CPython-ABI build of the same module, as CPython prefers
extensions to sources.  Directories earlier on ``sys.path`` win as always.

``importlib.reload`` of an HPy module returns the same module object
unchanged, as for CPython's extension modules: a binary loaded in a process
cannot be loaded afresh, and its module is not executed twice.
"""

import sys
from importlib.machinery import (BYTECODE_SUFFIXES, EXTENSION_SUFFIXES, SOURCE_SUFFIXES,
                                 ExtensionFileLoader, FileFinder, SourceFileLoader,
                                 SourcelessFileLoader)

# hpy.devel.abitag names binaries; importing it here would import hpy.devel
# and setuptools at every interpreter start, so the two rules it applies to
# CPython's EXT_SUFFIX are repeated below (tests/python/test_import_hook.py
# checks that both agree).
HPY_ABI_TAG = 'hpy0'


def hpy_suffixes(ext_suffix=None):
    """The file suffixes of HPy binaries this interpreter can load, most
    specific first: ``['.hpy0-cp311.so', '.hpy0.so']`` on CPython 3.11."""
    if ext_suffix is None:
        ext_suffix = EXTENSION_SUFFIXES[0]  # CPython's EXT_SUFFIX
    soabi, _, ext = ext_suffix[1:].rpartition('.')
    fields = soabi.split('-')
    suffixes = ['.%s.%s' % (HPY_ABI_TAG, ext)]
    if fields[0] == 'cpython' and len(fields) > 1:    # .cpython-311-x86_64-linux-gnu.so
        suffixes.insert(0, '.%s-cp%s.%s' % (HPY_ABI_TAG, fields[1], ext))
    elif fields[0].startswith('cp'):                  # .cp311-win_amd64.pyd
        suffixes.insert(0, '.%s-%s.%s' % (HPY_ABI_TAG, fields[0], ext))
    return suffixes


SUFFIXES = hpy_suffixes()


class HPyExtensionLoader(ExtensionFileLoader):
    """Loads an HPy universal or hybrid binary as a module, through
    ``hpy.universal`` (``FileFinder`` makes one per file it finds)."""

    def is_package(self, fullname):
        name = self.path.replace('\\', '/').rpartition('/')[2]
        return any(name == '__init__' + s for s in SUFFIXES)

    def create_module(self, spec):
        import os
        from hpy import _upstream_guard
        # Upstream's hpy installed after ours replaces hpy.universal, which
        # would then not check by itself.
        _upstream_guard.check()
        from hpy.universal import _load_bootstrap
        short_name = spec.name.rpartition('.')[2]
        return _load_bootstrap(short_name, spec.name, spec.parent, spec.origin,
                               self, spec, os.environ)

    def exec_module(self, module):
        # _load_bootstrap created and executed the module; on reload the
        # module stays as it is (see the module docstring).
        pass


def _finder_hook_details(hook):
    """(FileFinder class, loader details) of a hook made by
    ``FileFinder.path_hook``, else None."""
    code = getattr(hook, '__code__', None)
    if code is None or code.co_freevars != ('cls', 'loader_details'):
        return None
    cls, details = (c.cell_contents for c in hook.__closure__)
    if not (isinstance(cls, type) and issubclass(cls, FileFinder)):
        return None
    return cls, list(details)


def _default_details():
    return [(ExtensionFileLoader, EXTENSION_SUFFIXES), (SourceFileLoader, SOURCE_SUFFIXES),
            (SourcelessFileLoader, BYTECODE_SUFFIXES)]


def _drop_file_finders():
    """Forget the finders made before the hook changed: ``PathFinder`` makes
    new ones through ``sys.path_hooks`` on the next import."""
    for path, finder in list(sys.path_importer_cache.items()):
        if isinstance(finder, FileFinder):
            del sys.path_importer_cache[path]


def installed():
    """The hook installed in ``sys.path_hooks``, or None."""
    for hook in sys.path_hooks:
        if getattr(hook, '_hpy_previous', None) is not None:
            return hook
    return None


def install():
    """Install the hook (idempotent): replace the ``FileFinder`` path hook
    with one that also loads HPy binaries, keeping the loaders it had."""
    if installed() is not None:
        return
    for i, hook in enumerate(sys.path_hooks):
        found = _finder_hook_details(hook)
        if found is not None:
            cls, details = found
            new = cls.path_hook(*details, (HPyExtensionLoader, SUFFIXES))
            new._hpy_previous = hook
            sys.path_hooks[i] = new
            break
    else:
        new = FileFinder.path_hook(*_default_details(), (HPyExtensionLoader, SUFFIXES))
        new._hpy_previous = True   # nothing to restore: uninstall removes it
        sys.path_hooks.append(new)
    _drop_file_finders()


def uninstall():
    """Put back the path hook that `install` replaced."""
    hook = installed()
    if hook is None:
        return
    i = sys.path_hooks.index(hook)
    if hook._hpy_previous is True:
        del sys.path_hooks[i]
    else:
        sys.path_hooks[i] = hook._hpy_previous
    _drop_file_finders()


install()
