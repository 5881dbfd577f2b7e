"""hpy.devel's build settings on setup.py's command line: where the ABI and
the .py stub come from, and a build for one ABI replacing another's files
(in place and installed: upstream's test_dont_mix_cpython_and_universal_abis).
The PEP 517 side (config settings, wheels) is test_wheels.py."""
import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
HYBRID_SUFFIX = ".hpy0-cp%d%d.so" % sys.version_info[:2]

MODULE_SRC = r"""
#include "hpy.h"
static HPyModuleDef moduledef = { .doc = "built for " HPY_ABI };
HPy_MODINIT(hpymod, moduledef)
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "hpymod.c").write_text(MODULE_SRC)
    (tmp_path / "setup.py").write_text(textwrap.dedent("""
        from setuptools import setup, Extension
        setup(name="settings_project", version="0.1",
              hpy_ext_modules=[Extension("hpymod", ["hpymod.c"])])
    """))
    return tmp_path


def setup_py(project, *args, env_extra=None, check=True):
    env = {k: v for k, v in os.environ.items() if k not in ("HPY", "HPY_ABI")}
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "setup.py", "-q"] + list(args), cwd=str(project),
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if check:
        assert proc.returncode == 0, proc.stdout
    return proc


def hpymod_files(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("hpymod")
                  and p.name != "hpymod.c")


def imported_doc(directory):
    proc = subprocess.run([sys.executable, "-c", "import hpymod; print(hpymod.__doc__)"],
                          cwd=str(directory), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout.strip()


def test_switching_abis_in_place_replaces_the_module(project):
    setup_py(project, "build_ext", "--inplace")
    assert hpymod_files(project) == ["hpymod" + EXT_SUFFIX]
    setup_py(project, "--hpy-abi=universal", "build_ext", "--inplace")
    # no stub: the import hook loads it
    assert hpymod_files(project) == ["hpymod.hpy0.so"]
    assert imported_doc(project) == "built for universal"
    # with a stub asked for, the next ABI's build removes it with the binary
    setup_py(project, "--hpy-abi=universal", "--hpy-stub", "build_ext", "--inplace")
    assert hpymod_files(project) == ["hpymod.hpy0.so", "hpymod.py"]
    assert imported_doc(project) == "built for universal"
    setup_py(project, "--hpy-abi=hybrid", "build_ext", "--inplace")
    assert hpymod_files(project) == ["hpymod" + HYBRID_SUFFIX]
    setup_py(project, "--hpy-abi=cpython", "build_ext", "--inplace")
    assert hpymod_files(project) == ["hpymod" + EXT_SUFFIX]
    assert imported_doc(project) == "built for cpython"


def test_installing_another_abi_replaces_the_module(project, tmp_path):
    target = tmp_path / "site"
    setup_py(project, "build", "install_lib", "-d", str(target))
    assert hpymod_files(target) == ["hpymod" + EXT_SUFFIX]
    setup_py(project, "--hpy-abi=universal", "build", "install_lib", "-d", str(target))
    assert hpymod_files(target) == ["hpymod.hpy0.so"]
    assert imported_doc(target) == "built for universal"
    # both builds are kept apart in build/ (upstream's issue #322)
    assert len(list((project / "build").glob("lib*"))) == 2


def test_abi_from_the_environment(project):
    setup_py(project, "build_ext", "--inplace", env_extra={"HPY_ABI": "hybrid"})
    assert hpymod_files(project) == ["hpymod" + HYBRID_SUFFIX]
    # the command line wins
    setup_py(project, "--hpy-abi=universal", "build_ext", "--inplace",
             env_extra={"HPY_ABI": "hybrid"})
    assert hpymod_files(project) == ["hpymod.hpy0.so"]


@pytest.mark.parametrize("args, env, needle", [
    (["--hpy-abi=bogus"], {}, "unknown HPy ABI 'bogus' (from --hpy-abi): "
                              "choose one of cpython, universal, hybrid"),
    ([], {"HPY_ABI": "Universal"}, "unknown HPy ABI 'Universal' (from the environment "
                                   "variable HPY_ABI)"),
])
def test_bad_abi(project, args, env, needle):
    proc = setup_py(project, *args, "build_ext", "--inplace", env_extra=env, check=False)
    assert proc.returncode != 0
    assert needle in proc.stdout, proc.stdout
    assert hpymod_files(project) == []


def test_stub_options(project):
    setup_py(project, "--hpy-abi=universal", "build")
    lib = next((project / "build").glob("lib*-hpy-universal"))
    assert hpymod_files(lib) == ["hpymod.hpy0.so"]
    # the stub is back on request, and gone again without
    setup_py(project, "--hpy-abi=universal", "--hpy-stub", "build")
    assert hpymod_files(lib) == ["hpymod.hpy0.so", "hpymod.py"]
    setup_py(project, "--hpy-abi=universal", "--no-hpy-stub", "build")
    assert hpymod_files(lib) == ["hpymod.hpy0.so"]


def test_a_file_that_is_not_our_stub_is_kept(project):
    (project / "hpymod.py").write_text("# the project's own module\n")
    setup_py(project, "--hpy-abi=universal", "--no-hpy-stub", "build_ext", "--inplace")
    assert (project / "hpymod.py").read_text() == "# the project's own module\n"
