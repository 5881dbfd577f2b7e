"""`import foo` finds `foo.hpy0.so` without a `.py` stub: the import hook of
`hpy/_import_hook.py`, installed at interpreter start by `hpy-rs.pth`.

In-process tests import from a temporary directory put first on `sys.path`;
the tests of the `.pth` itself, of the `HPY`/`HPY_LOG` variables and of
`python -S` run fresh interpreters."""
import importlib
import importlib.util
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import hpy._import_hook as hook
from hpy.devel import abitag

from conftest import compile_hpy_module

SOURCE = r"""
#include "hpy.h"

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

HPyDef_METH(leak, "leak", HPyFunc_O)
static HPy leak_impl(HPyContext *ctx, HPy self, HPy arg)
{
    HPy_Dup(ctx, arg);
    return HPy_Dup(ctx, ctx->h_None);
}

static HPyDef *defines[] = { &ctx_name, &leak, NULL };
static HPyModuleDef moduledef = { .doc = "import hook test", .defines = defines };
HPy_MODINIT(%(name)s, moduledef)
"""

UNIVERSAL, HYBRID = abitag.get_hpy_ext_suffix('universal'), abitag.get_hpy_ext_suffix('hybrid')


def build(directory, name, abi="universal", filename=None):
    """Compiles the test module `name` into `directory` (no stub)."""
    directory.mkdir(parents=True, exist_ok=True)
    return compile_hpy_module(SOURCE % {"name": name}, name, directory, abi=abi,
                              filename=filename)


@pytest.fixture
def path_entry(tmp_path):
    """`tmp_path/site`, first on sys.path for the test; the modules imported
    from it are forgotten afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    before = set(sys.modules)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield site
    sys.path.remove(str(site))
    sys.path_importer_cache.pop(str(site), None)
    for name in set(sys.modules) - before:
        if getattr(sys.modules[name], "__file__", "") and \
                str(sys.modules[name].__file__).startswith(str(tmp_path)):
            del sys.modules[name]
        elif name.split(".")[0] in ("pkg", "nspkg"):
            del sys.modules[name]


def run_python(code, cwd, *flags, **env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("HPY", "HPY_LOG", "PYTHONPATH")}
    env.update(env_extra)
    return subprocess.run([sys.executable, *flags, "-c", textwrap.dedent(code)], cwd=str(cwd),
                          env=env, capture_output=True, text=True)


# -- the suffixes ----------------------------------------------------------

def test_suffixes_agree_with_abitag():
    assert hook.SUFFIXES == [HYBRID, UNIVERSAL]


@pytest.mark.parametrize("ext_suffix", [
    ".cpython-38-x86_64-linux-gnu.so", ".cpython-313t-x86_64-linux-gnu.so",
    ".cpython-312-darwin.so", ".cp311-win_amd64.pyd", ".so",
])
def test_suffix_rules_agree_with_abitag(ext_suffix):
    # the hook repeats abitag's rules for CPython's EXT_SUFFIX (see its comment)
    expected = [abitag.get_hpy_ext_suffix(abi, ext_suffix) for abi in ("hybrid", "universal")]
    assert hook.hpy_suffixes(ext_suffix) == list(dict.fromkeys(expected))


# -- importing -------------------------------------------------------------

def test_plain_import(path_entry):
    so = build(path_entry, "hookplain")
    import hookplain as m
    assert m.ctx_name().startswith("HPy Universal ABI")
    assert m.__name__ == "hookplain" and m.__package__ == ""
    assert m.__file__ == str(so)
    assert isinstance(m.__loader__, hook.HPyExtensionLoader)
    spec = m.__spec__
    assert spec.name == "hookplain" and spec.origin == str(so) and spec.has_location
    assert spec.loader is m.__loader__ and spec.submodule_search_locations is None
    assert sys.modules["hookplain"] is m
    found = importlib.util.find_spec("hookplain")
    assert found.origin == str(so) and isinstance(found.loader, hook.HPyExtensionLoader)
    assert not m.__loader__.is_package("hookplain")


def test_hybrid_binary(path_entry):
    so = build(path_entry, "hookhybrid", abi="hybrid", filename="hookhybrid" + HYBRID)
    import hookhybrid as m
    assert m.__file__ == str(so)
    assert m.ctx_name().startswith("HPy Universal ABI")


def test_hybrid_binary_of_another_python_is_not_found(path_entry):
    build(path_entry, "hookother", abi="hybrid", filename="hookother.hpy0-cp27.so")
    with pytest.raises(ModuleNotFoundError):
        import hookother  # noqa: F401


def test_in_a_package(path_entry):
    (path_entry / "pkg").mkdir()
    (path_entry / "pkg" / "__init__.py").write_text("")
    so = build(path_entry / "pkg", "sub")
    import pkg.sub as m
    assert m.__name__ == "pkg.sub" and m.__package__ == "pkg"
    assert m.__file__ == str(so) and m.__spec__.parent == "pkg"
    assert m.ctx_name().startswith("HPy Universal ABI")
    from pkg import sub
    assert sub is m


def test_in_a_namespace_package(path_entry):
    so = build(path_entry / "nspkg" / "inner", "leaf")
    import nspkg.inner.leaf as m
    assert m.__name__ == "nspkg.inner.leaf" and m.__package__ == "nspkg.inner"
    assert m.__file__ == str(so)
    assert sys.modules["nspkg"].__spec__.origin in (None, "namespace")


def test_package_whose_init_is_a_binary(path_entry):
    # `pkgbin/__init__.hpy0.so`: a package made of one HPy binary, named
    # after the package (HPyInit_pkgbin) as CPython names PyInit_<package>
    so = build(path_entry / "pkgbin", "pkgbin", filename="__init__" + UNIVERSAL)
    import pkgbin as m
    assert m.__file__ == str(so)
    assert m.__spec__.submodule_search_locations == [str(path_entry / "pkgbin")]
    assert m.__path__ == [str(path_entry / "pkgbin")]
    assert m.__loader__.is_package("pkgbin")


def test_reload_returns_the_module_unchanged(path_entry):
    build(path_entry, "hookreload")
    import hookreload as m
    m.marker = object()
    leak, marker = m.leak, m.marker
    assert importlib.reload(m) is m
    assert m.marker is marker and m.leak is leak
    assert m.ctx_name().startswith("HPy Universal ABI")
    assert sys.modules["hookreload"] is m


def test_invalidate_caches_sees_new_binaries(path_entry):
    with pytest.raises(ModuleNotFoundError):
        import hooklate  # noqa: F401
    build(path_entry, "hooklate")
    importlib.invalidate_caches()
    import hooklate
    assert hooklate.__file__.endswith("hooklate" + UNIVERSAL)


# -- precedence inside one directory ----------------------------------------

def test_py_stub_wins(path_entry):
    build(path_entry, "hookstub")
    (path_entry / "hookstub.py").write_text("FROM_PY = True\n")
    import hookstub
    assert hookstub.FROM_PY and hookstub.__file__ == str(path_entry / "hookstub.py")


def test_cpython_extension_wins(path_entry):
    build(path_entry, "hookboth")
    cpy = build(path_entry, "hookboth", abi="cpython")
    import hookboth
    assert hookboth.__file__ == str(cpy)
    assert type(hookboth.__loader__) is importlib.machinery.ExtensionFileLoader


def test_hybrid_wins_over_universal(path_entry):
    build(path_entry, "hooktwo")
    hybrid = build(path_entry, "hooktwo", abi="hybrid", filename="hooktwo" + HYBRID)
    import hooktwo
    assert hooktwo.__file__ == str(hybrid)


def test_binary_wins_over_namespace_directory(path_entry):
    so = build(path_entry, "hookdir")
    (path_entry / "hookdir").mkdir()
    import hookdir
    assert hookdir.__file__ == str(so)


def test_earlier_sys_path_entry_wins(path_entry, tmp_path):
    build(path_entry, "hookorder")
    later = tmp_path / "later"
    later.mkdir()
    (later / "hookorder.py").write_text("")
    sys.path.append(str(later))
    try:
        import hookorder
        assert hookorder.__file__.endswith(UNIVERSAL)
    finally:
        sys.path.remove(str(later))


# -- installing ------------------------------------------------------------

def test_install_is_idempotent_and_uninstall_restores(path_entry):
    assert hook.installed() is not None
    hooks = list(sys.path_hooks)
    hook.install()
    assert sys.path_hooks == hooks
    build(path_entry, "hookoff")
    hook.uninstall()
    try:
        assert hook.installed() is None
        with pytest.raises(ModuleNotFoundError):
            import hookoff  # noqa: F401
    finally:
        hook.install()
    import hookoff
    assert hookoff.__file__.endswith(UNIVERSAL)


def test_pth_installs_the_hook_at_start(tmp_path):
    build(tmp_path, "hookfresh")
    proc = run_python("""
        import sys
        print(sorted(m for m in ('hpy._import_hook', 'hpy.devel', 'hpy.universal')
                     if m in sys.modules))
        import hookfresh
        print(hookfresh.__file__, type(hookfresh.__loader__).__name__, hookfresh.ctx_name())
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    before, after = proc.stdout.splitlines()
    # at start, only the hook: hpy.devel and hpy.universal wait for a binary
    assert before == "['hpy._import_hook']"
    assert after.startswith(str(tmp_path / ("hookfresh" + UNIVERSAL)) + " HPyExtensionLoader "
                            "HPy Universal ABI")
    pth = Path(sysconfig.get_paths()["platlib"]) / "hpy-rs.pth"
    assert pth.read_text().strip() == "import hpy._import_hook"


def test_without_site_there_is_no_hook(tmp_path):
    build(tmp_path, "hooknosite")
    proc = run_python("import hooknosite", tmp_path, "-S")
    assert proc.returncode != 0
    assert "ModuleNotFoundError: No module named 'hooknosite'" in proc.stderr
    # importing the hook module installs it
    site = os.path.dirname(os.path.dirname(hook.__file__))
    proc = run_python("""
        import sys
        sys.path.append(%r)
        import hpy._import_hook
        import hooknosite
        print(hooknosite.ctx_name())
    """ % site, tmp_path, "-S")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("HPy Universal ABI")


@pytest.mark.parametrize("hpy, name", [
    (None, "HPy Universal ABI"),
    ("universal", "HPy Universal ABI"),
    ("debug", "HPy Debug Mode ABI"),
    ("trace", "HPy Trace Mode ABI"),
    ("other:trace,hookmode:debug", "HPy Debug Mode ABI"),
])
def test_hpy_mode_from_the_environment(tmp_path, hpy, name):
    build(tmp_path, "hookmode")
    env = {} if hpy is None else {"HPY": hpy}
    proc = run_python("import hookmode; print(hookmode.ctx_name())", tmp_path, **env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(name)


def test_debug_mode_catches_a_leak(tmp_path):
    build(tmp_path, "hookleak")
    code = """
        from hpy.debug import HPyLeakError, LeakDetector
        import hookleak
        obj = object()
        try:
            with LeakDetector():
                hookleak.leak(obj)
        except HPyLeakError as e:
            print('leaks:', [h.obj is obj for h in e.leaks])
            for h in e.leaks:
                h._force_close()
        else:
            print('no leak reported')
    """
    debug = run_python(code, tmp_path, HPY="debug")
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.strip() == "leaks: [True]"
    universal = run_python(code, tmp_path)
    assert universal.returncode == 0, universal.stderr
    assert universal.stdout.strip() == "no leak reported"


def test_bad_hpy_value_is_an_import_error_not_a_crash(tmp_path):
    build(tmp_path, "hookbad")
    proc = run_python("import hookbad", tmp_path, HPY="bogus")
    assert proc.returncode == 1
    assert "ValueError: invalid HPy mode: bogus" in proc.stderr


def test_hpy_log(tmp_path):
    build(tmp_path, "hooklog")
    proc = run_python("import hooklog", tmp_path, HPY="debug", HPY_LOG="1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Loading 'hooklog' in HPy universal mode with a debug context\n"


def test_setup_py_build_without_stub(tmp_path):
    """The user's flow: `setup.py build_ext --inplace` with hpy.devel, the
    `.py` stub (if hpy.devel wrote one) removed, then a plain import."""
    (tmp_path / "hookdevel.c").write_text(SOURCE % {"name": "hookdevel"})
    (tmp_path / "setup.py").write_text(textwrap.dedent("""
        from setuptools import setup, Extension
        setup(name="hookdevel", version="0",
              hpy_ext_modules=[Extension("hookdevel", sources=["hookdevel.c"])])
    """))
    build_cmd = [sys.executable, "setup.py", "--hpy-abi=universal", "build_ext", "--inplace"]
    proc = subprocess.run(build_cmd, cwd=str(tmp_path), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / ("hookdevel" + UNIVERSAL)).is_file()
    (tmp_path / "hookdevel.py").unlink(missing_ok=True)
    proc = run_python("import hookdevel; print(hookdevel.__file__, hookdevel.ctx_name())",
                      tmp_path, HPY="trace")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("%s HPy Trace Mode ABI"
                                  % (tmp_path / ("hookdevel" + UNIVERSAL)))
