"""scripts/conformance.py must turn red when upstream's suite does not pass:
against a planted failure, against an implementation known to fail
(upstream HPy 0.9.0 itself on CPython 3.13), and against its own fake suite
of crashes and timeouts; and green when the failing test is listed, with a
reason, as an exclusion."""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import upstream

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "scripts" / "conformance.py"

PLANTED = textwrap.dedent('''
    from .support import HPyTest


    class TestPlanted(HPyTest):

        def test_passes(self):
            mod = self.make_module("""
                HPyDef_METH(f, "f", HPyFunc_NOARGS)
                static HPy f_impl(HPyContext *ctx, HPy self)
                {
                    return HPyLong_FromLong(ctx, 1);
                }
                @EXPORT(f)
                @INIT
            """)
            assert mod.f() == 1

        def test_planted_failure(self):
            mod = self.make_module("""
                HPyDef_METH(f, "f", HPyFunc_NOARGS)
                static HPy f_impl(HPyContext *ctx, HPy self)
                {
                    return HPyLong_FromLong(ctx, 1);
                }
                @EXPORT(f)
                @INIT
            """)
            assert mod.f() == 2, "planted failure"
''')


def run_runner(tmp_path, *args, python=None):
    cmd = [sys.executable, str(RUNNER), "--quiet", "--report", str(tmp_path / "report.txt"),
           "--timeout", "120"]
    if python:
        cmd += ["--python", str(python)]
    r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=1800)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture(scope="module")
def planted_suite(tmp_path_factory):
    """upstream's test/ with one extra file: a passing and a failing test."""
    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(upstream.sdist_dir() / "test", root / "test",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "test" / "test_zz_planted.py").write_text(PLANTED)
    return root / "test"


def test_planted_failure_is_red(planted_suite, tmp_path):
    rc, out = run_runner(tmp_path, "--test-dir", str(planted_suite), "--abi", "universal",
                         "--files", "test_zz_planted.py")
    assert rc == 1, out
    assert "test_planted_failure[universal]" in out
    assert "conformance: FAILED: 1 test(s) failed" in out


def test_planted_failure_listed_as_excluded_is_green(planted_suite, tmp_path):
    exclusions = tmp_path / "exclusions.txt"
    exclusions.write_text("test/test_zz_planted.py::TestPlanted::test_planted_failure"
                          "  # planted by the runner's own test\n")
    rc, out = run_runner(tmp_path, "--test-dir", str(planted_suite), "--abi", "universal",
                         "--files", "test_zz_planted.py", "--exclusions", str(exclusions))
    assert rc == 0, out
    assert "conformance: OK: 1 passed" in out


def test_exclusion_without_a_reason_is_refused(planted_suite, tmp_path):
    exclusions = tmp_path / "exclusions.txt"
    exclusions.write_text("test/test_zz_planted.py::TestPlanted::test_planted_failure\n")
    rc, out = run_runner(tmp_path, "--test-dir", str(planted_suite), "--abi", "universal",
                         "--files", "test_zz_planted.py", "--exclusions", str(exclusions))
    assert rc == 2, out
    assert "no reason given" in out


def test_crashes_timeouts_and_setup_errors_are_red(tmp_path):
    selftest = REPO / "tests" / "conformance" / "selftest" / "test"
    rc, out = run_runner(tmp_path, "--test-dir", str(selftest), "--timeout", "10")
    assert rc == 1, out
    for needle in ("[failed, crashed]", "[failed, timeout]", "[error, in setup]"):
        assert needle in out


def find_python313():
    """python3.13 on PATH if it runs (a pyenv shim may not), else pyenv's."""
    candidates = [shutil.which("python3.13")]
    if shutil.which("pyenv"):
        vers = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True,
                              text=True).stdout.split()
        for v in sorted((v for v in vers if v.startswith("3.13")),
                        key=lambda v: [int(x) for x in v.split(".") if x.isdigit()],
                        reverse=True):
            env = dict(os.environ, PYENV_VERSION=v)
            candidates.append(subprocess.run(["pyenv", "which", "python"], env=env,
                                             capture_output=True, text=True).stdout.strip())
    for exe in filter(None, candidates):
        if subprocess.run([exe, "-c", "import sys"], capture_output=True).returncode == 0:
            return exe
    return None


def test_upstream_on_python313_is_red(tmp_path):
    """Upstream 0.9.0, built from its sdist on CPython 3.13, fails part of its
    own suite there (2 of test_helpers.py in the universal ABI, 191 of 1133
    in all): the runner must say so."""
    py313 = find_python313()
    if py313 is None:
        if os.environ.get("CI"):
            pytest.fail("CPython 3.13 is needed for this test in CI")
        pytest.skip("no CPython 3.13 here")
    upstream_python = upstream.venv_python(py313)
    rc, out = run_runner(tmp_path, "--files", "test_helpers.py", "--abi", "universal",
                         python=upstream_python)
    assert rc == 1, out
    assert "conformance: FAILED: 2 test(s) failed" in out
