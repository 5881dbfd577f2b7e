"""PEP 517 build backend for setuptools projects with ``hpy_ext_modules``.

setuptools' own backend hands a project's ``setup.py`` no config settings
but ``--global-option``/``--build-option``, so ``pip wheel --config-settings
hpy-abi=universal .`` would not reach ``hpy.devel``.  This backend is
setuptools' with one addition: the config settings ``hpy-abi`` (``cpython``,
``universal`` or ``hybrid``) and ``hpy-stub`` (``true`` or ``false``) are read,
checked and handed to ``hpy.devel`` for the duration of each hook (see
:mod:`hpy.devel.settings` for what wins over what).  A project says::

    [build-system]
    requires = ["hpy-rs", "setuptools"]
    build-backend = "hpy.devel.build_meta"

and is built with any frontend::

    pip wheel --config-settings hpy-abi=universal .
    python -m build --wheel -C hpy-abi=universal .
    HPY_ABI=universal pip wheel .       # tools that only set the environment

A universal build gives one ``py3-none-<platform>`` wheel that requires
hpy-rs; cpython (the default) and hybrid builds give ``cp3XY`` wheels.
"""

import inspect
import sys

from setuptools import build_meta as _setuptools

from .settings import VALID_HPY_ABIS, pep517_settings

_TRUE = ('1', 'true', 'yes', 'on')
_FALSE = ('0', 'false', 'no', 'off')

# Our config settings: key -> (setting name, parser of the value).
_KEYS = {}


class BuildSettingError(ValueError):
    """A config setting of ours has a value we cannot use."""


def _setting(key, name):
    def register(parse):
        _KEYS[key] = (name, parse)
        return parse
    return register


@_setting('hpy-abi', 'abi')
def _parse_abi(value):
    abi = value.strip().lower()
    if abi not in VALID_HPY_ABIS:
        raise BuildSettingError(
            'config setting hpy-abi=%r: choose one of %s'
            % (value, ', '.join(VALID_HPY_ABIS)))
    return abi


@_setting('hpy-stub', 'stub')
def _parse_stub(value):
    flag = value.strip().lower()
    if flag in _TRUE:
        return True
    if flag in _FALSE:
        return False
    raise BuildSettingError('config setting hpy-stub=%r: choose true or false'
                            % (value,))


def split_config_settings(config_settings):
    """``(ours, rest)``: our settings as keyword arguments of
    :class:`hpy.devel.settings.pep517_settings`, and the config settings left
    for setuptools.  A key given several times (pip's ``-C k=a -C k=b``)
    counts with its last value."""
    ours, rest = {}, {}
    for key, value in (config_settings or {}).items():
        if key not in _KEYS:
            rest[key] = value
            continue
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ''
        name, parse = _KEYS[key]
        ours[name] = parse(str(value))
    return ours, (rest if config_settings is not None else None)


def _hook(name):
    setuptools_hook = getattr(_setuptools, name)
    signature = inspect.signature(setuptools_hook)

    def hook(*args, **kwargs):
        # frontends pass config_settings by position or by name
        bound = signature.bind(*args, **kwargs)
        try:
            ours, rest = split_config_settings(
                bound.arguments.get('config_settings'))
        except BuildSettingError as e:
            print('\nhpy.devel.build_meta: error: %s\n' % e, file=sys.stderr,
                  flush=True)
            raise
        if 'config_settings' in bound.arguments:
            bound.arguments['config_settings'] = rest
        with pep517_settings(**ours):
            return setuptools_hook(*bound.args, **bound.kwargs)
    hook.__name__ = hook.__qualname__ = name
    hook.__signature__ = signature
    hook.__doc__ = 'setuptools.build_meta.%s, with our config settings.' % name
    return hook


# setuptools' hooks, those of this setuptools version (the editable ones
# came with setuptools 64): a frontend looks for the optional ones by name.
_HOOKS = ('get_requires_for_build_wheel', 'get_requires_for_build_sdist',
          'prepare_metadata_for_build_wheel', 'build_wheel', 'build_sdist',
          'get_requires_for_build_editable',
          'prepare_metadata_for_build_editable', 'build_editable')
__all__ = [name for name in _HOOKS if hasattr(_setuptools, name)]
globals().update((name, _hook(name)) for name in __all__)
