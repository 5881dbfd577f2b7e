"""Wheels of a C extension built with hpy.devel's PEP 517 backend.

A small project (a package with one HPy extension calling the helpers)
whose pyproject.toml names ``hpy.devel.build_meta``, built with pip from a
venv that sees the installed hpy-rs and has the newest setuptools:

* the ABI from ``--config-settings hpy-abi=``, ``HPY_ABI`` and ``setup.py``'s
  ``--hpy-abi`` (passed as ``--global-option``), in that order of strength,
  and clear errors for bad values;
* universal: one ``py3-none-<platform>`` wheel with ``.hpy0.so``, no ``.py``
  stub, requiring hpy-rs; cpython and hybrid: ``cp3XY`` wheels;
* ``python -m build`` (sdist, then the wheel from the sdist), stubs on
  request, and no stub of an earlier ``setup.py build`` in the wheel;
* with build isolation, from a local wheelhouse of hpy-rs and no index;
* the universal wheel installed into venvs of CPython 3.8 and 3.13 and
  imported there (no stub: hpy-rs's import hook) in universal, debug and
  trace mode.

Needs the package index (setuptools, wheel, build).  The two last parts need
hpy-rs for other interpreters: a wheelhouse ``HPY_RS_WHEELHOUSE`` holding
``hpy_rs-*.whl`` for them (``pip wheel . -w DIR`` with each Python), else the
package installed in that interpreter (``scripts/test.sh`` installs it in
3.8 and 3.13), else they skip saying so; without a wheel for the running
Python in ``HPY_RS_WHEELHOUSE`` the isolation test builds one (once per
session, ~1 min with a warm cargo target).
"""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE_ENV = "HPY_RS_WHEELHOUSE"
OTHER_PYTHONS = ("3.8", "3.13")
MODES = {  # HPY= value -> the start of the context's name
    "universal": "HPy Universal ABI",
    "debug": "HPy Debug Mode ABI",
    "trace": "HPy Trace Mode ABI",
}

MODULE_SRC = r"""
#include "hpy.h"

HPyDef_METH(add_one, "add_one", HPyFunc_VARARGS)
static HPy add_one_impl(HPyContext *ctx, HPy self, const HPy *args, size_t nargs)
{
    long x;
    if (!HPyArg_Parse(ctx, NULL, args, nargs, "l", &x))
        return HPy_NULL;
    return HPyLong_FromLong(ctx, x + 1);
}

HPyDef_METH(ctx_name, "ctx_name", HPyFunc_NOARGS)
static HPy ctx_name_impl(HPyContext *ctx, HPy self)
{
    return HPyUnicode_FromString(ctx, ctx->name);
}

static HPyDef *defines[] = {&add_one, &ctx_name, NULL};
static HPyModuleDef moduledef = {
    .doc = "built for " HPY_ABI,
    .defines = defines,
};
HPy_MODINIT(wheelmod, moduledef)
"""

PYPROJECT = """\
[build-system]
requires = ["hpy-rs", "setuptools"]
build-backend = "hpy.devel.build_meta"

[project]
name = "wheelpkg"
version = "1.0"
dynamic = ["dependencies"]
"""

SETUP_PY = """\
from setuptools import setup, Extension
setup(packages=["wheelpkg"],
      hpy_ext_modules=[Extension("wheelpkg.wheelmod", ["wheelmod.c"])])
"""

PLATFORM = re.sub(r"[^A-Za-z0-9_]", "_", sysconfig.get_platform())
CP_TAG = "cp%d%d" % sys.version_info[:2]


def run(cmd, check=True, **kwargs):
    proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, **kwargs)
    if check and proc.returncode != 0:
        pytest.fail("%s failed (%d):\n%s" % (" ".join(map(str, cmd)), proc.returncode,
                                             proc.stdout))
    return proc


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("HPY", "HPY_ABI", "PIP_NO_INDEX", "PIP_FIND_LINKS")}
    env.update(extra)
    return env


def other_python_env(**extra):
    """For another Python or an isolated build: nothing of this one's
    sys.path either."""
    env = clean_env(**extra)
    env.pop("PYTHONPATH", None)
    return env


def runtime_requirement():
    from hpy.devel import runtime_requirement
    return runtime_requirement()


def venv(path, base=sys.executable, system_site=False):
    cmd = [base, "-m", "venv", str(path)]
    if system_site:
        cmd.insert(3, "--system-site-packages")
    run(cmd)
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def build_python(tmp_path_factory):
    """A venv that sees the installed hpy-rs, with the newest setuptools,
    wheel and build (the index is needed)."""
    python = venv(tmp_path_factory.mktemp("build-venv") / "venv", system_site=True)
    run([python, "-m", "pip", "install", "-q", "--upgrade", "setuptools", "wheel", "build"],
        env=clean_env())
    return python


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "wheelpkg-src"
    (root / "wheelpkg").mkdir(parents=True)
    (root / "wheelpkg" / "__init__.py").write_text("")
    (root / "wheelmod.c").write_text(MODULE_SRC)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "setup.py").write_text(SETUP_PY)
    return root


def pip_wheel(python, project, out, *args, env=None, check=True):
    """``pip wheel`` of ``project`` (no isolation unless ``args`` say
    otherwise); returns (the wheels made, pip's output)."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [python, "-m", "pip", "wheel", "--no-deps", "-w", out]
    if "--isolation" not in args:
        cmd.append("--no-build-isolation")
    cmd += [a for a in args if a != "--isolation"] + [project]
    proc = run(cmd, check=check, env=env or clean_env())
    return sorted(out.glob("*.whl")), proc.stdout


def _compact(requirement):
    return "".join(requirement.split())


class Wheel:
    def __init__(self, path):
        self.path = Path(path)
        with zipfile.ZipFile(str(path)) as z:
            self.names = sorted(z.namelist())
            info = "wheelpkg-1.0.dist-info/"
            self.metadata = z.read(info + "METADATA").decode()
            self.wheel = z.read(info + "WHEEL").decode()

    @property
    def requires(self):
        """The Requires-Dist values, without blanks (setuptools versions
        differ: older ones write `hpy-rs >=0.9.0`)."""
        return [_compact(line.split(":", 1)[1]) for line in self.metadata.splitlines()
                if line.startswith("Requires-Dist:")]

    @property
    def tags(self):
        return [line.split(":", 1)[1].strip() for line in self.wheel.splitlines()
                if line.startswith("Tag:")]

    @property
    def modules(self):
        return [n for n in self.names if n.startswith("wheelpkg/")]


def the_wheel(wheels):
    assert len(wheels) == 1, wheels
    return Wheel(wheels[0])


def check_universal(whl):
    assert whl.path.name == "wheelpkg-1.0-py3-none-%s.whl" % PLATFORM
    assert whl.tags == ["py3-none-" + PLATFORM]
    assert whl.modules == ["wheelpkg/__init__.py", "wheelpkg/wheelmod.hpy0.so"]
    assert whl.requires == [_compact(runtime_requirement())]


# ------------------------------------------------------------------ the ABI

def test_universal_wheel(build_python, project, tmp_path):
    wheels, _ = pip_wheel(build_python, project, tmp_path / "out",
                          "--config-settings", "hpy-abi=universal")
    check_universal(the_wheel(wheels))
    # hpy-rs at least as new as the headers the binary was compiled with,
    # and only on CPython
    from hpy.devel.version import __version__
    assert runtime_requirement() == \
        'hpy-rs>=%s; implementation_name == "cpython"' % __version__


@pytest.mark.parametrize("abi, suffix, requires", [
    ("cpython", sysconfig.get_config_var("EXT_SUFFIX"), False),
    ("hybrid", ".hpy0-%s.so" % CP_TAG, True),
])
def test_version_specific_wheels(build_python, project, tmp_path, abi, suffix, requires):
    wheels, _ = pip_wheel(build_python, project, tmp_path / "out",
                          "--config-settings", "hpy-abi=" + abi)
    whl = the_wheel(wheels)
    tag = "%s-%s-%s" % (CP_TAG, CP_TAG, PLATFORM)
    assert whl.path.name == "wheelpkg-1.0-%s.whl" % tag
    assert whl.tags == [tag]
    assert whl.modules == ["wheelpkg/__init__.py", "wheelpkg/wheelmod" + suffix]
    assert whl.requires == ([_compact(runtime_requirement())] if requires else [])


def test_default_abi_is_cpython(build_python, project, tmp_path):
    wheels, _ = pip_wheel(build_python, project, tmp_path / "out")
    assert the_wheel(wheels).path.name.startswith("wheelpkg-1.0-%s-" % CP_TAG)


def test_abi_from_the_environment(build_python, project, tmp_path):
    wheels, _ = pip_wheel(build_python, project, tmp_path / "out",
                          env=clean_env(HPY_ABI="universal"))
    check_universal(the_wheel(wheels))


def test_abi_precedence(build_python, project, tmp_path):
    # config setting > environment
    wheels, _ = pip_wheel(build_python, project, tmp_path / "a",
                          "--config-settings", "hpy-abi=universal",
                          env=clean_env(HPY_ABI="hybrid"))
    check_universal(the_wheel(wheels))
    # setup.py's --hpy-abi > config setting
    wheels, _ = pip_wheel(build_python, project, tmp_path / "b",
                          "--config-settings", "--global-option=--hpy-abi=cpython",
                          "--config-settings", "hpy-abi=universal")
    assert the_wheel(wheels).modules == [
        "wheelpkg/__init__.py", "wheelpkg/wheelmod" + sysconfig.get_config_var("EXT_SUFFIX")]


@pytest.mark.parametrize("how, needle", [
    (("--config-settings", "hpy-abi=bogus"),
     "config setting hpy-abi='bogus': choose one of cpython, universal, hybrid"),
    (("--config-settings", "hpy-stub=maybe"),
     "config setting hpy-stub='maybe': choose true or false"),
    ("HPY_ABI",
     "unknown HPy ABI 'bogus' (from the environment variable HPY_ABI): "
     "choose one of cpython, universal, hybrid"),
])
def test_bad_settings_are_clear_errors(build_python, project, tmp_path, how, needle):
    if how == "HPY_ABI":
        args, env = (), clean_env(HPY_ABI="bogus")
    else:
        args, env = how, clean_env()
    wheels, out = pip_wheel(build_python, project, tmp_path / "out", *args, env=env,
                            check=False)
    assert wheels == []
    assert needle in out, out


# ------------------------------------------------------------------ stubs, sdists

def test_stub_on_request(build_python, project, tmp_path):
    wheels, _ = pip_wheel(build_python, project, tmp_path / "out",
                          "--config-settings", "hpy-abi=universal",
                          "--config-settings", "hpy-stub=true")
    whl = the_wheel(wheels)
    assert "wheelpkg/wheelmod.py" in whl.modules
    assert whl.path.name.endswith("-py3-none-%s.whl" % PLATFORM)


def test_stub_of_an_earlier_build_is_not_packed(build_python, project, tmp_path):
    """`setup.py --hpy-stub build` writes the stub (upstream's behaviour, on
    request); a wheel built afterwards from the same tree (pip builds in the
    tree, reusing build/) must not pack it."""
    run([build_python, "setup.py", "-q", "--hpy-abi=universal", "--hpy-stub", "build"],
        cwd=str(project), env=clean_env())
    stubs = list((project / "build").glob("lib*-hpy-universal/wheelpkg/wheelmod.py"))
    assert len(stubs) == 1
    wheels, _ = pip_wheel(build_python, project, tmp_path / "out",
                          "--config-settings", "hpy-abi=universal")
    check_universal(the_wheel(wheels))
    assert not stubs[0].exists()


def test_python_m_build_sdist_then_wheel(build_python, project, tmp_path):
    """The wheel is built from the sdist, whose SOURCES.txt once listed the
    helper sources of hpy.devel by absolute path: build_py then stopped with
    'setup script specifies an absolute path'."""
    out = tmp_path / "dist"
    run([build_python, "-m", "build", "--no-isolation", "-C", "hpy-abi=universal",
         "--outdir", out, project], env=clean_env())
    check_universal(the_wheel(sorted(out.glob("*.whl"))))
    sdists = sorted(out.glob("*.tar.gz"))
    assert [p.name for p in sdists] == ["wheelpkg-1.0.tar.gz"]
    with tarfile.open(str(sdists[0])) as tar:
        names = tar.getnames()
        sources = tar.extractfile("wheelpkg-1.0/wheelpkg.egg-info/SOURCES.txt").read().decode()
    assert all(not os.path.isabs(line) for line in sources.splitlines()), sources
    assert not [n for n in names if n.endswith(("argparse.c", "buildvalue.c"))], names
    assert "wheelpkg-1.0/wheelmod.c" in names


# ------------------------------------------------------------------ hpy-rs for other Pythons

def find_python(version):
    """pythonX.Y on PATH if it runs (a pyenv shim of another version does
    not), else pyenv's newest X.Y; None if neither."""
    candidates = [shutil.which("python" + version)]
    if shutil.which("pyenv"):
        bare = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True,
                              universal_newlines=True).stdout.split()
        mine = [v for v in bare if v == version or v.startswith(version + ".")]
        for v in sorted(mine, key=lambda v: [int(x) for x in v.split(".") if x.isdigit()],
                        reverse=True):
            candidates.append(subprocess.run(
                ["pyenv", "which", "python"], env=dict(os.environ, PYENV_VERSION=v),
                capture_output=True, universal_newlines=True).stdout.strip())
    for exe in filter(None, candidates):
        if subprocess.run([exe, "-c", "import sys"], capture_output=True).returncode == 0:
            return exe
    return None


def wheelhouse_runtime(version):
    """The hpy-rs wheel for CPython ``version`` in $HPY_RS_WHEELHOUSE."""
    house = os.environ.get(WHEELHOUSE_ENV)
    if not house:
        return None
    tag = "cp" + version.replace(".", "")
    found = sorted(Path(house).glob("hpy_rs-*-%s-%s*-*.whl" % (tag, tag)))
    return found[-1] if found else None


def has_installed_runtime(python):
    code = ("import importlib.metadata as m, hpy.universal; "
            "print(m.version('hpy-rs'))")
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def own_wheelhouse(tmp_path_factory):
    """A wheelhouse with hpy-rs for the running Python and setuptools, for
    builds with isolation and no index: $HPY_RS_WHEELHOUSE's wheel, else one
    built from this checkout (once per session)."""
    house = tmp_path_factory.mktemp("wheelhouse")
    version = "%d.%d" % sys.version_info[:2]
    ours = wheelhouse_runtime(version)
    if ours is not None:
        shutil.copy2(str(ours), str(house))
    else:
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", house, REPO],
            env=clean_env(PYO3_PYTHON=sys.executable))
    run([sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:",
         "-d", house, "setuptools", "wheel"], env=clean_env())
    assert list(house.glob("hpy_rs-*.whl")), list(house.iterdir())
    return house


def test_wheel_with_build_isolation(project, tmp_path, own_wheelhouse):
    """pip resolves the build requirement hpy-rs from the local wheelhouse
    (PIP_FIND_LINKS, PIP_NO_INDEX), like a user's CI without our index."""
    python = venv(tmp_path / "venv")
    env = other_python_env(PIP_FIND_LINKS=str(own_wheelhouse), PIP_NO_INDEX="1")
    wheels, _ = pip_wheel(python, project, tmp_path / "out", "--isolation",
                          "--config-settings", "hpy-abi=universal", env=env)
    check_universal(the_wheel(wheels))


@pytest.fixture(scope="module")
def universal_wheel(build_python, tmp_path_factory):
    root = tmp_path_factory.mktemp("universal")
    src = root / "src"
    (src / "wheelpkg").mkdir(parents=True)
    (src / "wheelpkg" / "__init__.py").write_text("")
    (src / "wheelmod.c").write_text(MODULE_SRC)
    (src / "pyproject.toml").write_text(PYPROJECT)
    (src / "setup.py").write_text(SETUP_PY)
    wheels, _ = pip_wheel(build_python, src, root / "out",
                          "--config-settings", "hpy-abi=universal")
    whl = the_wheel(wheels)
    check_universal(whl)
    return whl.path


@pytest.fixture(scope="module", params=OTHER_PYTHONS)
def other_python(request, universal_wheel, tmp_path_factory):
    """A venv of CPython 3.8 or 3.13 with hpy-rs and the universal wheel."""
    version = request.param
    base = find_python(version)
    if base is None:
        pytest.skip("no CPython %s here (pyenv or python%s on PATH)" % (version, version))
    root = tmp_path_factory.mktemp("py" + version.replace(".", ""))
    runtime = wheelhouse_runtime(version)
    if runtime is not None:
        # a fresh venv: pip takes hpy-rs, which the wheel requires, from
        # the wheelhouse, and hpy-rs's own requirement (setuptools, for
        # hpy.devel) from a download for that Python
        python = venv(root / "venv", base=base)
        deps = root / "deps"
        run([python, "-m", "pip", "download", "-q", "--only-binary", ":all:", "-d", deps,
             "setuptools"], env=other_python_env())
        run([python, "-m", "pip", "install", "-q", "--no-index", "--find-links",
             runtime.parent, "--find-links", deps, universal_wheel], env=other_python_env())
    elif has_installed_runtime(base):
        # the interpreter's hpy-rs satisfies the wheel's requirement (it
        # imports: checked above); --no-deps, so that pip does not also
        # resolve hpy-rs's own requirements, which an interpreter whose
        # hpy-rs was installed by hand may not meet (no index here)
        python = venv(root / "venv", base=base, system_site=True)
        run([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", universal_wheel],
            env=other_python_env())
    else:
        pytest.skip("CPython %s has no hpy-rs: set %s to a directory with its wheel "
                    "(pip wheel . -w DIR), or install it there (scripts/test.sh does)"
                    % (version, WHEELHOUSE_ENV))
    return version, python


@pytest.mark.parametrize("mode", sorted(MODES))
def test_universal_wheel_on_other_pythons(other_python, mode):
    version, python = other_python
    code = textwrap.dedent("""
        import os, sys
        import wheelpkg.wheelmod as m
        assert sys.version_info[:2] == %r, sys.version
        stub = os.path.join(os.path.dirname(m.__file__), 'wheelmod.py')
        print(os.path.basename(m.__file__), os.path.exists(stub), m.__spec__.name,
              m.add_one(41), m.__doc__, m.ctx_name(), sep='|')
    """ % (tuple(int(x) for x in version.split(".")),))
    proc = run([python, "-c", code], cwd="/", env=other_python_env(HPY=mode))
    fields = proc.stdout.strip().splitlines()[-1].split("|")
    assert fields[:5] == ["wheelmod.hpy0.so", "False", "wheelpkg.wheelmod", "42",
                          "built for universal"], proc.stdout
    assert fields[5].startswith(MODES[mode]), fields
