"""File-name tags for HPy binaries.

An HPy extension built for the universal ABI is called ``<mod>.hpy<N>.<ext>``
(for example ``foo.hpy0.so``); a hybrid one also carries the tag of the
CPython ABI it was compiled against (``foo.hpy0-cp311.so``).  Extensions built
for the CPython ABI use the interpreter's ordinary ``EXT_SUFFIX``.

The loader in ``hpy.universal`` checks the digit that follows ``.hpy`` in the
file name against the major ABI version the extension reports, so the
numbers below must agree with ``HPY_ABI_VERSION``/``HPY_ABI_VERSION_MINOR``
in ``hpy.h``.
"""

import sysconfig

HPY_ABI_VERSION = 0
HPY_ABI_VERSION_MINOR = 0
HPY_ABI_TAG = 'hpy{}'.format(HPY_ABI_VERSION)

_KNOWN_HPY_ABIS = ('cpython', 'universal', 'hybrid')

# How many dash-separated fields of the SOABI part of EXT_SUFFIX describe the
# interpreter ABI (the remaining fields describe the platform).  Prefixes are
# tried in order, so 'cpython' must come before 'cp'.
_ABI_FIELDS_BY_PREFIX = (
    ('cpython', 2),   # .cpython-311-x86_64-linux-gnu.so, .cpython-311-darwin.so
    ('cp', 1),        # .cp311-win_amd64.pyd
    ('pypy', 2),      # .pypy38-pp73-x86_64-linux-gnu.so
    ('graalpy', 3),   # .graalpy-38-native-x86_64-darwin.dylib
)


def _default_ext_suffix():
    suffix = sysconfig.get_config_var('EXT_SUFFIX')
    if not suffix:
        raise RuntimeError('cannot determine EXT_SUFFIX of this interpreter')
    return suffix


def parse_ext_suffix(ext_suffix=None):
    """Split an ``EXT_SUFFIX`` into ``(cpy_abi_tag, file_extension)``.

    ``ext_suffix`` defaults to the running interpreter's ``EXT_SUFFIX``.

    >>> parse_ext_suffix('.cpython-311-x86_64-linux-gnu.so')
    ('cp311', 'so')
    >>> parse_ext_suffix('.cp310-win_amd64.pyd')
    ('cp310', 'pyd')
    """
    if ext_suffix is None:
        ext_suffix = _default_ext_suffix()
    if not ext_suffix.startswith('.'):
        raise ValueError('EXT_SUFFIX must start with a dot: %r' % (ext_suffix,))
    soabi, dot, ext = ext_suffix[1:].rpartition('.')
    if not dot:
        # a bare '.so'/'.pyd': there is no interpreter tag at all
        return '', ext
    fields = soabi.split('-')
    keep = len(fields)
    for prefix, count in _ABI_FIELDS_BY_PREFIX:
        if fields[0].startswith(prefix):
            keep = count
            break
    tag = '-'.join(fields[:keep])
    if tag.startswith('cpython-'):
        # wheel-style short form: cpython-311 -> cp311
        tag = 'cp' + tag[len('cpython-'):]
    return tag, ext


def get_hpy_ext_suffix(hpy_abi, ext_suffix=None):
    """Return the file suffix (with the leading dot) of an extension built
    for ``hpy_abi``: ``'.hpy0.so'`` for universal, ``'.hpy0-cp311.so'`` for
    hybrid, and ``EXT_SUFFIX`` itself for cpython.
    """
    if hpy_abi not in _KNOWN_HPY_ABIS:
        raise ValueError('unknown HPy ABI %r (expected one of: %s)'
                         % (hpy_abi, ', '.join(_KNOWN_HPY_ABIS)))
    if ext_suffix is None:
        ext_suffix = _default_ext_suffix()
    if hpy_abi == 'cpython':
        return ext_suffix
    cpy_tag, ext = parse_ext_suffix(ext_suffix)
    if hpy_abi == 'universal' or not cpy_tag:
        return '.{}.{}'.format(HPY_ABI_TAG, ext)
    return '.{}-{}.{}'.format(HPY_ABI_TAG, cpy_tag, ext)
