"""Our distribution is `hpy-rs` (import package `hpy`), and it refuses to run
mixed with upstream HPy's distribution `hpy`, which installs the same package
(`hpy/_upstream_guard.py`, called by hpy.universal, hpy.devel, the import
hook and setup.py)."""
import importlib.util
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from hpy import _upstream_guard as guard

from conftest import compile_hpy_module

REPO = Path(__file__).resolve().parents[2]
OUR_SITE = Path(guard.__file__).resolve().parents[1]   # the directory holding our hpy/


def test_distribution_name_and_version():
    dist = metadata.distribution('hpy-rs')
    assert dist.metadata['Name'] == 'hpy-rs'
    assert dist.version == '0.9.0'
    files = {str(f) for f in dist.files}
    assert {'hpy-rs.pth', 'hpy/_import_hook.py', 'hpy/_upstream_guard.py',
            'hpy/devel/__init__.py'} <= files
    assert any(f.startswith('hpy/universal.') for f in files)
    # the .pth sits at the top of site-packages, next to the package
    assert Path(dist.locate_file('hpy-rs.pth')).resolve().parent == OUR_SITE
    eps = [ep for ep in dist.entry_points if ep.group == 'distutils.setup_keywords']
    assert sorted(ep.value for ep in eps) == ['hpy.devel:handle_hpy_ext_modules',
                                              'hpy.devel:handle_hpy_stub']


def fake_dist(site, name, files, kind='dist-info'):
    """A metadata directory `site/<name>-0.9.0.<kind>` listing `files`
    (dist-info: RECORD; egg-info: installed-files.txt, relative to it)."""
    site.mkdir(parents=True, exist_ok=True)
    (site / 'hpy').mkdir(exist_ok=True)
    meta = site / ('%s-0.9.0.%s' % (name, kind))
    meta.mkdir()
    (meta / ('METADATA' if kind == 'dist-info' else 'PKG-INFO')).write_text(
        'Metadata-Version: 2.1\nName: %s\nVersion: 0.9.0\n' % name)
    if kind == 'dist-info':
        (meta / 'RECORD').write_text(''.join('%s,,\n' % f for f in files))
    else:
        (meta / 'installed-files.txt').write_text(''.join('../%s\n' % f for f in files))
    return meta


UPSTREAM_FILES = ['hpy/devel/__init__.py', 'hpy/universal.cpython-311-x86_64-linux-gnu.so']


@pytest.mark.parametrize('kind', ['dist-info', 'egg-info'])
def test_upstream_found(tmp_path, kind):
    meta = fake_dist(tmp_path, 'hpy', UPSTREAM_FILES, kind)
    assert guard.find_upstream([str(tmp_path)]) == (str(meta), '0.9.0')
    with pytest.raises(ImportError) as exc:
        guard.check([str(tmp_path)])
    msg = str(exc.value)
    assert "distribution 'hpy-rs'" in msg and "distribution 'hpy' 0.9.0" in msg
    assert str(meta) in msg and '`pip uninstall -y hpy hpy-rs`' in msg


def test_upstream_egg_found(tmp_path):
    egg = tmp_path / 'hpy-0.9.0-py3.11-linux-x86_64.egg'
    (egg / 'hpy').mkdir(parents=True)
    (egg / 'EGG-INFO').mkdir()
    (egg / 'EGG-INFO' / 'PKG-INFO').write_text('Metadata-Version: 2.1\nName: hpy\nVersion: 0.9.0\n')
    (egg / 'EGG-INFO' / 'SOURCES.txt').write_text('hpy/devel/__init__.py\n')
    assert guard.find_upstream([str(egg)]) == (str(egg / 'EGG-INFO'), '0.9.0')


@pytest.mark.parametrize('name, files', [
    ('hpy_rs', UPSTREAM_FILES),                           # ours
    ('hpy', UPSTREAM_FILES + ['hpy/devel/rust.py']),      # ours, before the rename
    ('hpy', ['something_else/__init__.py']),              # not an hpy package
    ('hpyx', UPSTREAM_FILES),                             # another project
])
def test_not_upstream(tmp_path, name, files):
    fake_dist(tmp_path, name, files)
    assert guard.find_upstream([str(tmp_path)]) is None
    guard.check([str(tmp_path)])


def test_installed_package_is_not_mixed():
    assert guard.find_upstream() is None


def run(python, code, cwd=None, **env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ('HPY', 'PYTHONPATH')}
    env.update(env_extra)
    return subprocess.run([str(python), '-c', textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True)


MODULE = r"""
#include "hpy.h"
static HPyModuleDef moduledef = { .doc = "guard test" };
HPy_MODINIT(guardmod, moduledef)
"""


@pytest.mark.parametrize('what', ['import hpy.universal', 'import hpy.devel', 'import guardmod'])
def test_refused_at_import(tmp_path, what):
    """An `hpy` distribution in a directory earlier on sys.path: its `hpy/`
    merges with ours into one namespace package."""
    fake_dist(tmp_path / 'upstream', 'hpy', UPSTREAM_FILES)
    compile_hpy_module(MODULE, 'guardmod', tmp_path)
    proc = run(sys.executable, """
        import sys
        sys.path.insert(0, %r)
        %s
    """ % (str(tmp_path / 'upstream'), what), cwd=str(tmp_path))
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: hpy-rs (distribution 'hpy-rs') cannot run together "
                           "with upstream HPy's distribution 'hpy' 0.9.0"), proc.stderr


@pytest.mark.skipif(importlib.util.find_spec('setuptools_rust') is None,
                    reason='setup.py needs setuptools-rust')
def test_refused_by_setup_py(tmp_path):
    fake_dist(tmp_path, 'hpy', UPSTREAM_FILES)
    proc = subprocess.run([sys.executable, str(REPO / 'setup.py'), '--version'], cwd=str(REPO),
                          env=dict(os.environ, PYTHONPATH=str(tmp_path)),
                          capture_output=True, text=True)
    assert proc.returncode == 1
    # The refusal is setup.py's first and only error line; setuptools may
    # print warnings before it (e.g. a FutureWarning when `wheel` is installed).
    errors = [line for line in proc.stderr.splitlines() if line.startswith('error: ')]
    assert errors and errors[0].startswith(
        "error: hpy-rs (distribution 'hpy-rs') cannot run together"), proc.stderr


def test_with_upstreams_real_install(tmp_path):
    """Upstream's hpy 0.9.0 from PyPI in a venv, our package on its sys.path:
    ours first refuses at `import hpy.universal`; upstream's first, its
    hpy.universal imports, and our import hook refuses to load a binary."""
    import upstream
    python = upstream.venv_python()
    compile_hpy_module(MODULE, 'guardmod', tmp_path)
    proc = run(python, 'import hpy.universal', cwd=str(tmp_path), PYTHONPATH=str(OUR_SITE))
    assert proc.returncode == 1
    assert "ImportError: hpy-rs (distribution 'hpy-rs') cannot run together" in proc.stderr
    proc = run(python, """
        import sys
        sys.path.append(%r)
        import hpy.universal, hpy._import_hook
        print(hpy.universal.__file__)
        import guardmod
    """ % str(OUR_SITE), cwd=str(tmp_path))
    assert proc.returncode == 1
    assert not proc.stdout.startswith(str(OUR_SITE))
    assert "ImportError: hpy-rs (distribution 'hpy-rs') cannot run together" in proc.stderr
