"""Refuse to run mixed with upstream HPy's distribution ``hpy``.

hpy-rs (distribution ``hpy-rs``) and upstream HPy (distribution ``hpy``) both
install the import package ``hpy``.  Installed into one directory, the second
overwrites the files of the first; installed into two, both directories merge
into one namespace package.  Either way nothing says whose ``hpy.universal`` or
``hpy.devel`` runs, so `check` raises ImportError naming both distributions.

Run at the import of ``hpy.universal`` and ``hpy.devel``, when the import hook
loads a binary, and by our ``setup.py``.  Cheap when nothing is wrong: one
directory listing per directory that holds an ``hpy`` package; the file list
of a distribution is only read when one named ``hpy`` is found (read here:
``importlib.metadata`` is slower to import and, before Python 3.12, ignores
``installed-files.txt``).
"""

import os
import re
import sys

OURS = 'hpy-rs'
UPSTREAM = 'hpy'
# Files only hpy-rs ever shipped: an ``hpy`` distribution listing one of them
# is hpy-rs installed before its rename, not upstream's.
_OURS_ONLY = ('hpy/devel/rust.py',)
_METADATA_SUFFIXES = ('.dist-info', '.egg-info')


def _project_name(entry):
    """The normalized project name of a metadata directory entry
    (``hpy-0.9.0.dist-info`` -> ``hpy``), or None if it is not one."""
    for suffix in _METADATA_SUFFIXES:
        if entry.endswith(suffix):
            stem = entry[:-len(suffix)]
            break
    else:
        if not entry.endswith('.egg'):
            return None
        stem = entry[:-len('.egg')]
    # both formats escape '-' inside the name, so the first '-' ends it
    return re.sub(r'[-_.]+', '-', stem.split('-', 1)[0]).lower()


def _package_parents():
    """The directories that hold a directory of the ``hpy`` package."""
    pkg = sys.modules.get('hpy')
    if pkg is not None and hasattr(pkg, '__path__'):
        return [os.path.dirname(os.path.abspath(p)) for p in pkg.__path__]
    return [os.path.abspath(p or os.curdir) for p in sys.path
            if isinstance(p, str) and os.path.isdir(os.path.join(p or os.curdir, 'hpy'))]


def _metadata_dirs(parent):
    """Metadata directories of distributions named ``hpy`` for the package
    directory under `parent` (an installed egg holds it under ``EGG-INFO``)."""
    if _project_name(os.path.basename(parent)) == UPSTREAM and parent.endswith('.egg'):
        return [os.path.join(parent, 'EGG-INFO')]
    try:
        entries = os.listdir(parent)
    except OSError:
        return []
    return [os.path.join(parent, e) for e in sorted(entries)
            if e.endswith(_METADATA_SUFFIXES) and _project_name(e) == UPSTREAM]


def _read_lines(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read().splitlines()
    except OSError:
        return None


def _listed_files(meta):
    """The files a metadata directory says its distribution installed, as
    '/'-separated paths relative to the directory that holds the package:
    RECORD (wheels), installed-files.txt (relative to the metadata directory)
    or SOURCES.txt (eggs).  Empty if it lists none."""
    lines = _read_lines(os.path.join(meta, 'RECORD'))
    if lines is not None:
        return {line.split(',', 1)[0] for line in lines if line}
    lines = _read_lines(os.path.join(meta, 'installed-files.txt'))
    if lines is not None:
        parent = os.path.dirname(meta)
        return {os.path.relpath(os.path.normpath(os.path.join(meta, line)), parent)
                .replace(os.sep, '/') for line in lines if line}
    return set(_read_lines(os.path.join(meta, 'SOURCES.txt')) or ())


def _version(meta):
    for name in ('METADATA', 'PKG-INFO'):
        for line in _read_lines(os.path.join(meta, name)) or ():
            if line.startswith('Version:'):
                return line.split(':', 1)[1].strip()
    return '(unknown version)'


def find_upstream(parents=None):
    """Return ``(metadata directory, version)`` of upstream's ``hpy``
    distribution installed next to the ``hpy`` package, or None.

    `parents`: directories to look in (default: those that hold ``hpy``).
    A distribution counts only if its file list names files under ``hpy/``
    and none that only hpy-rs ships."""
    for parent in (_package_parents() if parents is None else parents):
        for meta in _metadata_dirs(parent):
            files = _listed_files(meta)
            if any(f in files for f in _OURS_ONLY):
                continue
            if any(f.startswith('hpy/') for f in files):
                return meta, _version(meta)
    return None


def message(meta, version):
    """The error of `check`: what is installed, and how to get out of it."""
    return (
        "hpy-rs (distribution '%s') cannot run together with upstream HPy's "
        "distribution '%s' %s (found: %s): both install the import package "
        "'hpy', so their files overwrite or shadow each other. Keep one of "
        "them: `pip uninstall -y %s %s` (uninstalling either alone removes "
        "files the other needs), then `pip install %s` (or `pip install %s` "
        "for upstream's)." % (OURS, UPSTREAM, version, meta, UPSTREAM, OURS,
                              OURS, UPSTREAM))


def check(parents=None):
    """Raise ImportError if upstream's ``hpy`` is installed next to ours."""
    found = find_upstream(parents)
    if found is not None:
        raise ImportError(message(*found), name='hpy')
