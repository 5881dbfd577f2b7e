"""Tests of hpy.devel (setuptools integration, file naming, shipped files).

Run against the installed package:  pip install . && python -m pytest tests/python
"""
import importlib
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import hpy.devel
from hpy.devel import HPyDevel, abitag

REPO = Path(__file__).resolve().parents[2]

SIMPLE_MODULE_SRC = r'''
#include <hpy.h>

HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, 1234);
}

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

static HPyDef *defines[] = { &f, &ctx_name, NULL };
static HPyModuleDef moduledef = {
    .doc = "built for " HPY_ABI,
    .defines = defines,
};
HPy_MODINIT(%(name)s, moduledef)
'''


# --------------------------------------------------------------------------
# the package under test really is the installed one
# --------------------------------------------------------------------------

def test_imported_from_installed_package():
    devel_dir = Path(hpy.devel.__file__).resolve().parent
    assert REPO / 'python' not in devel_dir.parents, (
        'tests must run against the installed package (pip install .), '
        'not %s' % devel_dir)


def test_entry_point_registered():
    from importlib import metadata
    eps = metadata.entry_points()
    if hasattr(eps, 'select'):
        group = eps.select(group='distutils.setup_keywords')
    else:  # Python 3.8/3.9
        group = eps.get('distutils.setup_keywords', [])
    ours = [ep for ep in group if ep.name == 'hpy_ext_modules']
    assert len(ours) == 1
    assert ours[0].value == 'hpy.devel:handle_hpy_ext_modules'
    assert ours[0].load() is hpy.devel.handle_hpy_ext_modules
    assert metadata.version('hpy-rs') == '0.9.0'


def test_namespace_package():
    import hpy
    assert getattr(hpy, '__file__', None) is None  # no hpy/__init__.py


# --------------------------------------------------------------------------
# abitag
# --------------------------------------------------------------------------

def test_abitag_constants():
    assert abitag.HPY_ABI_VERSION == 0
    assert abitag.HPY_ABI_VERSION_MINOR == 0
    assert abitag.HPY_ABI_TAG == 'hpy0'


@pytest.mark.parametrize('suffix, expected', [
    ('.cpython-38-x86_64-linux-gnu.so', ('cp38', 'so')),
    ('.cpython-38d-x86_64-linux-gnu.so', ('cp38d', 'so')),
    ('.cpython-311-x86_64-linux-gnu.so', ('cp311', 'so')),
    ('.cpython-313t-x86_64-linux-gnu.so', ('cp313t', 'so')),
    ('.cpython-310-darwin.so', ('cp310', 'so')),
    ('.cp310-win_amd64.pyd', ('cp310', 'pyd')),
    ('.pypy38-pp73-x86_64-linux-gnu.so', ('pypy38-pp73', 'so')),
    ('.graalpy-38-native-x86_64-darwin.dylib', ('graalpy-38-native', 'dylib')),
])
def test_parse_ext_suffix(suffix, expected):
    assert abitag.parse_ext_suffix(suffix) == expected


def test_parse_ext_suffix_default():
    tag, ext = abitag.parse_ext_suffix()
    expected_ext = sysconfig.get_config_var('EXT_SUFFIX').rsplit('.', 1)[1]
    assert ext == expected_ext
    if sys.implementation.name == 'cpython':
        assert tag.startswith('cp%d%d' % sys.version_info[:2])


def test_get_hpy_ext_suffix():
    linux38 = '.cpython-38-x86_64-linux-gnu.so'
    assert abitag.get_hpy_ext_suffix('universal', linux38) == '.hpy0.so'
    assert abitag.get_hpy_ext_suffix('hybrid', linux38) == '.hpy0-cp38.so'
    assert abitag.get_hpy_ext_suffix('cpython', linux38) == linux38
    win = '.cp310-win_amd64.pyd'
    assert abitag.get_hpy_ext_suffix('universal', win) == '.hpy0.pyd'
    assert abitag.get_hpy_ext_suffix('hybrid', win) == '.hpy0-cp310.pyd'
    # default: this interpreter
    ext_suffix = sysconfig.get_config_var('EXT_SUFFIX')
    assert abitag.get_hpy_ext_suffix('cpython') == ext_suffix
    tag, ext = abitag.parse_ext_suffix(ext_suffix)
    assert abitag.get_hpy_ext_suffix('universal') == '.hpy0.' + ext
    assert abitag.get_hpy_ext_suffix('hybrid') == '.hpy0-%s.%s' % (tag, ext)
    with pytest.raises(ValueError):
        abitag.get_hpy_ext_suffix('debug')


def test_hpy_suffix_is_not_an_extension_suffix():
    # the stub is what makes these files importable
    import importlib.machinery
    for abi in ('universal', 'hybrid'):
        assert abitag.get_hpy_ext_suffix(abi) not in \
            importlib.machinery.EXTENSION_SUFFIXES


# --------------------------------------------------------------------------
# HPyDevel: files shipped in the installed package
# --------------------------------------------------------------------------

def test_hpydevel_paths():
    d = HPyDevel()
    pkg_dir = Path(hpy.devel.__file__).resolve().parent
    assert d.base_dir == pkg_dir
    assert d.include_dir == pkg_dir / 'include'
    assert d.src_dir == pkg_dir / 'src' / 'runtime'
    assert d.get_extra_include_dirs() == [str(pkg_dir / 'include')]
    assert Path(d.get_include_dir_forbid_python_h()) == \
        pkg_dir / 'include' / 'hpy' / 'forbid_python_h'


def test_headers_installed():
    d = HPyDevel()
    assert (d.include_dir / 'hpy.h').is_file()
    assert (d.include_dir / 'hpy').is_dir()
    assert (Path(d.get_include_dir_forbid_python_h()) / 'Python.h').is_file()
    # every header of hpy-sys/include is shipped (when the repo is here; a
    # failure can also mean the install is older than the checkout)
    src = REPO / 'hpy-sys' / 'include'
    if src.is_dir():
        for f in src.rglob('*.h'):
            installed = d.include_dir / f.relative_to(src)
            assert installed.is_file(), installed


def test_extra_sources_exist():
    d = HPyDevel()
    for f in d.get_extra_sources() + d.get_ctx_sources():
        assert Path(f).is_file()
    assert not any(Path(f).name.startswith('ctx_')
                   for f in d.get_extra_sources())
    assert all(Path(f).name.startswith('ctx_') for f in d.get_ctx_sources())


def test_hpydevel_custom_base_dir(tmp_path):
    runtime = tmp_path / 'src' / 'runtime'
    runtime.mkdir(parents=True)
    for name in ('structseq.c', 'argparse.c', 'ctx_long.c', 'ctx_call.c',
                 'extra_shim.c', 'helpers.h'):
        (runtime / name).write_text('/* */\n')
    (tmp_path / 'lib' / 'universal').mkdir(parents=True)
    (tmp_path / 'lib' / 'universal' / 'libhpyextra.a').write_text('')
    d = HPyDevel(tmp_path)
    assert d.base_dir == tmp_path
    assert [Path(p).name for p in d.get_extra_sources()] == \
        ['argparse.c', 'structseq.c', 'extra_shim.c']
    assert [Path(p).name for p in d.get_ctx_sources()] == \
        ['ctx_call.c', 'ctx_long.c']
    assert d.get_static_libs('universal') == \
        [str(tmp_path / 'lib' / 'universal' / 'libhpyextra.a')]
    assert d.get_static_libs('hybrid') is None
    empty = HPyDevel(tmp_path / 'nothing')
    assert empty.get_extra_sources() == []
    assert empty.get_ctx_sources() == []
    assert empty.get_static_libs('universal') is None


# --------------------------------------------------------------------------
# module-level helpers
# --------------------------------------------------------------------------

def test_module_names():
    for name in ('HPyDevel', 'handle_hpy_ext_modules', 'DEFAULT_HPY_ABI',
                 'HPyExtensionName', 'is_hpy_extension',
                 'remember_hpy_extension', 'make_mixin', 'monkeypatch',
                 'build_hpy_mixin', 'build_ext_hpy_mixin',
                 '_HPY_UNIVERSAL_MODULE_STUB_TEMPLATE'):
        assert hasattr(hpy.devel, name), name
    if sys.implementation.name == 'cpython':
        assert hpy.devel.DEFAULT_HPY_ABI == 'cpython'


def test_hpy_extension_name():
    name = hpy.devel.HPyExtensionName('pkg.sub.mod')
    assert name == 'pkg.sub.mod'
    assert hpy.devel.is_hpy_extension(name)
    assert not hpy.devel.is_hpy_extension('pkg.sub.mod')
    parts = name.split('.')
    assert parts == ['pkg', 'sub', 'mod']
    assert all(hpy.devel.is_hpy_extension(p) for p in parts)
    assert hpy.devel.is_hpy_extension(name.translate({ord('.'): '/'}))


def test_remember_hpy_extension():
    class Cmd:
        _only_hpy_extensions = False

        @hpy.devel.remember_hpy_extension
        def get_name(self, ext_name):
            return 'x_' + ext_name

    cmd = Cmd()
    assert hpy.devel.is_hpy_extension(
        cmd.get_name(hpy.devel.HPyExtensionName('a')))
    assert not hpy.devel.is_hpy_extension(cmd.get_name('a'))
    cmd._only_hpy_extensions = True
    assert hpy.devel.is_hpy_extension(cmd.get_name('a'))


def test_make_mixin_and_monkeypatch():
    class Base:
        def who(self):
            return 'base'

    class Mixin:
        def who(self):
            return 'mixin+' + self._mixin_super.who(self)

    New = hpy.devel.make_mixin(Base, Mixin)
    assert New.__name__ == 'Base_hpy'
    assert issubclass(New, Base) and issubclass(New, Mixin)
    assert New().who() == 'mixin+base'

    ns = type(sys)('fake_module')
    ns.greet = lambda: 'hello'

    @hpy.devel.monkeypatch(ns)
    def greet():
        return greet.super().upper()

    assert ns.greet is greet
    assert ns.greet() == 'HELLO'


def test_stub_template():
    tpl = hpy.devel._HPY_UNIVERSAL_MODULE_STUB_TEMPLATE
    src = tpl.format(ext_file='foo.hpy0.so', module_name='foo')
    assert 'This file is automatically generated by hpy' in src
    assert "'foo.hpy0.so'" in src
    assert '_load_bootstrap' in src
    compile(src, 'foo.py', 'exec')


def test_bdist_egg_write_stub_patched(tmp_path):
    import setuptools.command.bdist_egg as bdist_egg
    from distutils.core import Distribution
    dist = Distribution()
    dist.hpy_abi = 'universal'
    HPyDevel().fix_distribution(dist)
    stub = tmp_path / 'foo.py'
    stub.write_text('# ours\n')
    bdist_egg.write_stub('foo.hpy0.so', str(stub))
    assert stub.read_text() == '# ours\n'
    bdist_egg.write_stub('foo.hpy0-cp311.so', str(stub))
    assert stub.read_text() == '# ours\n'
    other = tmp_path / 'bar.py'
    bdist_egg.write_stub('bar' + sysconfig.get_config_var('EXT_SUFFIX'),
                         str(other))
    assert other.is_file() and other.read_text() != ''


def test_sanity_check_rejects_distutils_build_ext():
    from distutils.command.build_ext import build_ext as du_build_ext
    from distutils.errors import DistutilsError
    import setuptools.command.build_ext as st
    HPyDevel().build_ext_sanity_check(st.build_ext)
    with pytest.raises(DistutilsError):
        HPyDevel().build_ext_sanity_check(du_build_ext)


# --------------------------------------------------------------------------
# the Distribution() flow used by upstream's test/support.py
# --------------------------------------------------------------------------

def _make_dist(tmpdir, abi, ext, static_libs=True, hpydevel=None):
    from distutils.core import Distribution
    dist = Distribution()
    dist.parse_config_files()
    opts = dist.get_option_dict('build_ext')
    opts['force'] = ('test', True)
    opts['build_lib'] = ('test', str(tmpdir))
    opts['build_temp'] = ('test', str(tmpdir))
    dist.get_option_dict('build_py')['build_lib'] = ('test', str(tmpdir))
    dist.hpy_abi = abi
    dist.hpy_use_static_libs = static_libs
    dist.hpy_ext_modules = [ext]
    dist.py_modules = [ext.name]
    (hpydevel or HPyDevel()).fix_distribution(dist)
    return dist


def build_module(tmpdir, abi, name='mytest', extra_compile_args=None):
    from distutils.core import Extension
    src = Path(tmpdir) / (name + '.c')
    src.write_text(SIMPLE_MODULE_SRC % {'name': name})
    if extra_compile_args is None:
        extra_compile_args = ['-Wall', '-Werror'] if os.name != 'nt' else []
    ext = Extension(name, sources=[str(src)],
                    extra_compile_args=extra_compile_args)
    dist = _make_dist(tmpdir, abi, ext)
    old = os.getcwd()
    os.chdir(str(tmpdir))
    try:
        dist.run_command('build_ext')
        outputs = dist.get_command_obj('build_ext').get_outputs()
    finally:
        os.chdir(old)
    return ext, outputs


@pytest.mark.parametrize('abi, macro', [
    ('universal', 'HPY_ABI_UNIVERSAL'),
    ('hybrid', 'HPY_ABI_HYBRID'),
    ('cpython', 'HPY_ABI_CPYTHON'),
])
def test_extension_flags(tmp_path, abi, macro):
    from distutils.core import Extension
    ext = Extension('mymod', sources=['mymod.c'])
    dist = _make_dist(tmp_path, abi, ext, static_libs=False)
    cmd = dist.get_command_obj('build_ext')
    cmd.ensure_finalized()
    assert ext in cmd.extensions
    assert hpy.devel.is_hpy_extension(ext.name)
    assert ext.hpy_abi == abi
    macros = [m for m, _ in ext.define_macros]
    assert 'HPY' in macros and macro in macros
    others = {'HPY_ABI_UNIVERSAL', 'HPY_ABI_HYBRID', 'HPY_ABI_CPYTHON'} - {macro}
    assert not others & set(macros)
    d = HPyDevel()
    forbid = str(d.get_include_dir_forbid_python_h())
    assert str(d.include_dir) in ext.include_dirs
    if abi == 'universal':
        assert ext.include_dirs[0] == forbid
    else:
        assert forbid not in ext.include_dirs
    # a binary a stub could load, but no stub unless asked for (--hpy-stub):
    # the import hook loads it
    assert ext._hpy_needs_stub == (abi != 'cpython')
    assert not ext._needs_stub
    dist.hpy_stub = True     # what --hpy-stub sets
    cmd._hpy_decide_stubs()
    assert ext._needs_stub == (abi != 'cpython')
    # the helpers' C files are compiled on the side, never listed among the
    # project's sources (SOURCES.txt, sdists: absolute paths stop build_py)
    assert ext.sources == ['mymod.c']
    assert ext._hpy_helper_sources == d.get_extra_sources()
    filename = cmd.get_ext_filename(cmd.get_ext_fullname(ext.name))
    assert filename == 'mymod' + abitag.get_hpy_ext_suffix(abi)


def test_static_libs_are_linked(tmp_path):
    from distutils.core import Extension
    base = tmp_path / 'devel'
    (base / 'lib' / 'universal').mkdir(parents=True)
    lib = base / 'lib' / 'universal' / 'libhpy-extra-universal.a'
    lib.write_text('')
    (base / 'src' / 'runtime').mkdir(parents=True)
    (base / 'src' / 'runtime' / 'argparse.c').write_text('')
    ext = Extension('mymod', sources=['mymod.c'])
    dist = _make_dist(tmp_path, 'universal', ext, static_libs=True,
                      hpydevel=HPyDevel(base))
    dist.get_command_obj('build_ext').ensure_finalized()
    assert str(lib) in ext.extra_objects
    assert ext.sources == ['mymod.c']
    # without the option the helpers' C entry points are compiled in, and
    # their (Rust) logic still comes from the library
    ext2 = Extension('mymod2', sources=['mymod2.c'])
    dist2 = _make_dist(tmp_path, 'universal', ext2, static_libs=False,
                       hpydevel=HPyDevel(base))
    dist2.get_command_obj('build_ext').ensure_finalized()
    assert ext2.extra_objects == [str(lib)]
    assert ext2.sources == ['mymod2.c']
    assert ext2._hpy_helper_sources == [str(base / 'src' / 'runtime' / 'argparse.c')]
    # the Rust runtime inside the library stays private to the extension
    if sys.platform.startswith('linux'):
        assert '-Wl,--exclude-libs,libhpy-extra-universal.a' in ext2.extra_link_args
        # only what the extension calls is linked in
        assert '-Wl,--gc-sections' in ext2.extra_link_args
        # the helper library is built without Rust's standard library: it
        # needs nothing but libc (the cpython ABI's runtime needs more)
        assert 'gcc_s' not in ext2.libraries
    # hidden files (a copy being replaced) are not libraries
    (base / 'lib' / 'universal' / '.libhpy-extra-universal.a.tmp').write_text('')
    assert HPyDevel(base).get_static_libs('universal') == [str(lib)]


def test_missing_helper_lib_is_an_error(tmp_path):
    from distutils.core import Extension
    from distutils.errors import DistutilsError
    base = tmp_path / 'devel'
    (base / 'src' / 'runtime').mkdir(parents=True)
    ext = Extension('mymod', sources=['mymod.c'])
    dist = _make_dist(tmp_path, 'universal', ext, static_libs=False,
                      hpydevel=HPyDevel(base))
    with pytest.raises(DistutilsError, match='missing from this installation'):
        dist.get_command_obj('build_ext').ensure_finalized()


def test_unknown_abi_rejected(tmp_path):
    from distutils.core import Extension
    from distutils.errors import DistutilsError
    ext = Extension('mymod', sources=['mymod.c'])
    dist = _make_dist(tmp_path, 'bogus', ext)
    with pytest.raises(DistutilsError):
        dist.get_command_obj('build_ext').ensure_finalized()


def _run_py(code, cwd=None, env_extra=None):
    env = dict(os.environ)
    env.pop('HPY', None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, '-c', code], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


@pytest.mark.parametrize('abi', ['universal', 'hybrid'])
def test_build_with_distribution(tmp_path, abi):
    ext, outputs = build_module(tmp_path, abi)
    suffix = abitag.get_hpy_ext_suffix(abi)
    so = tmp_path / ('mytest' + suffix)
    stub = tmp_path / 'mytest.py'
    binaries = [o for o in outputs if not o.endswith(('.py', '.pyc'))]
    assert binaries == [str(so)]
    assert so.is_file()
    # no stub by default: the import hook of hpy-rs.pth loads the binary
    assert not stub.exists()

    # the binary exports the symbols of the loader protocol
    import ctypes
    lib = ctypes.CDLL(str(so))
    for sym in ('get_required_hpy_major_version_mytest',
                'get_required_hpy_minor_version_mytest'):
        fn = getattr(lib, sym)
        fn.restype = ctypes.c_uint32
        assert fn() == 0
    assert hasattr(lib, 'HPyInit_mytest')
    assert hasattr(lib, 'HPyInitGlobalContext_mytest')
    assert not hasattr(lib, 'PyInit_mytest')


@pytest.mark.parametrize('abi', ['universal', 'hybrid'])
def test_built_module_loads(tmp_path, abi):
    ext, outputs = build_module(tmp_path, abi)
    so = str(tmp_path / ('mytest' + abitag.get_hpy_ext_suffix(abi)))
    # 1. explicit hpy.universal.load, like upstream's test support
    proc = _run_py(textwrap.dedent('''
        import importlib.util, hpy.universal
        so = %r
        spec = importlib.util.spec_from_file_location('mytest', so)
        m = hpy.universal.load('mytest', so, spec,
                               mode=hpy.universal.MODE_UNIVERSAL)
        print(m.f(), m.__doc__, m.ctx_name(), sep='|')
    ''' % so))
    assert proc.returncode == 0, proc.stderr
    f, doc, ctx_name = proc.stdout.strip().split('|')
    assert f == '1234'
    assert doc == 'built for ' + abi
    assert ctx_name.startswith('HPy Universal ABI')
    # 2. a plain import, through the import hook (no stub)
    proc = _run_py(textwrap.dedent('''
        import sys
        sys.path.insert(0, %r)
        import mytest
        assert sys.modules['mytest'] is mytest
        print(mytest.f(), mytest.__file__, mytest.__name__, sep='|')
    ''' % str(tmp_path)), cwd='/')
    assert proc.returncode == 0, proc.stderr
    f, file_, name = proc.stdout.strip().split('|')
    assert f == '1234'
    assert file_ == so
    assert name == 'mytest'


@pytest.mark.parametrize('static_libs', [True, False])
def test_build_cpython_abi(tmp_path, static_libs):
    # an ordinary CPython extension: EXT_SUFFIX, no stub, PyInit_<name> is
    # its only exported function, and a plain import loads it
    from distutils.core import Extension
    src = tmp_path / 'mytest.c'
    src.write_text(SIMPLE_MODULE_SRC % {'name': 'mytest'})
    ext = Extension('mytest', sources=[str(src)],
                    extra_compile_args=['-Wall', '-Werror'])
    dist = _make_dist(tmp_path, 'cpython', ext, static_libs=static_libs)
    old = os.getcwd()
    os.chdir(str(tmp_path))
    try:
        dist.run_command('build_ext')
        outputs = dist.get_command_obj('build_ext').get_outputs()
    finally:
        os.chdir(old)
    so = tmp_path / ('mytest' + sysconfig.get_config_var('EXT_SUFFIX'))
    assert [o for o in outputs if not o.endswith(('.py', '.pyc'))] == [str(so)]
    assert not (tmp_path / 'mytest.py').exists()
    assert HPyDevel().get_static_libs('cpython') == \
        [str(HPyDevel().base_dir / 'lib' / 'cpython' / 'libhpy-ctx-cpython.a')]
    assert ext.extra_objects == HPyDevel().get_static_libs('cpython')
    if sys.platform.startswith('linux'):
        nm = subprocess.run(['nm', '-D', '--defined-only', str(so)],
                            stdout=subprocess.PIPE, universal_newlines=True)
        funcs = [line.split()[2] for line in nm.stdout.splitlines()
                 if line.split()[1] == 'T']
        assert funcs == ['PyInit_mytest']
    proc = _run_py(textwrap.dedent('''
        import sys
        sys.path.insert(0, %r)
        import mytest
        print(mytest.f(), mytest.__doc__, mytest.ctx_name(), mytest.__file__,
              sep='|')
    ''' % str(tmp_path)), cwd='/')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().split('|') == \
        ['1234', 'built for cpython', 'HPy CPython ABI', str(so)]


# --------------------------------------------------------------------------
# setup.py command line: hpy_ext_modules=, --hpy-abi, build dirs, --inplace
# --------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    (tmp_path / 'hpymod.c').write_text(SIMPLE_MODULE_SRC % {'name': 'hpymod'})
    (tmp_path / 'setup.py').write_text(textwrap.dedent('''
        from setuptools import setup, Extension
        setup(name="hpy_test_project", version="0.1",
              hpy_ext_modules=[Extension("hpymod", ["hpymod.c"])])
    '''))
    return tmp_path


def _setup_py(project, *args):
    proc = subprocess.run([sys.executable, 'setup.py'] + list(args),
                          cwd=str(project), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def test_setup_py_build_universal(project):
    _setup_py(project, '--hpy-abi=universal', 'build')
    libs = sorted(p.name for p in (project / 'build').glob('lib*'))
    temps = sorted(p.name for p in (project / 'build').glob('temp*'))
    assert len(libs) == 1 and libs[0].endswith('-hpy-universal')
    assert libs[0] != 'lib-hpy-universal'   # platlib: the project is not pure
    assert len(temps) == 1 and temps[0].endswith('-hpy-universal')
    lib = project / 'build' / libs[0]
    assert (lib / 'hpymod.hpy0.so').is_file() or \
        (lib / 'hpymod.hpy0.pyd').is_file()
    # no stub unless asked for (--hpy-stub), unlike upstream
    assert not (lib / 'hpymod.py').exists()
    _setup_py(project, '--hpy-abi=universal', '--hpy-stub', 'build')
    stub = (lib / 'hpymod.py').read_text()
    assert 'This file is automatically generated by hpy' in stub


def test_setup_py_options_listed(project):
    out = _setup_py(project, '--help')
    assert '--hpy-abi' in out
    assert '--hpy-use-static-libs' in out


@pytest.mark.parametrize('abi', ['universal', 'hybrid'])
def test_setup_py_build_ext_inplace(project, abi):
    _setup_py(project, '--hpy-abi=' + abi, 'build_ext', '--inplace')
    suffix = abitag.get_hpy_ext_suffix(abi)
    assert (project / ('hpymod' + suffix)).is_file()
    assert not (project / 'hpymod.py').exists()
    # building again in place must work
    _setup_py(project, '--hpy-abi=' + abi, 'build_ext', '--inplace')
    proc = _run_py('import hpymod; print(hpymod.__doc__, hpymod.f())',
                   cwd=str(project))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'built for %s 1234' % abi
