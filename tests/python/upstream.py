"""Upstream HPy 0.9.0 from PyPI, for the binary-compatibility tests and the
conformance runner: its sdist (headers, test suite) and a virtualenv with its
wheel (its hpy.universal). Both are cached under .cache/ in the repo."""
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("HPY_RS_CACHE", REPO / ".cache"))
VERSION = "0.9.0"


def _lock():
    CACHE.mkdir(parents=True, exist_ok=True)
    return FileLock(str(CACHE / ".lock"))


def _sdist_tarball():
    """Upstream's sdist, downloaded once (call it under the lock)."""
    dl = CACHE / "download"
    tarball = dl / f"hpy-{VERSION}.tar.gz"
    if not tarball.exists():
        dl.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                        "--no-deps", "-q", "-d", str(dl),
                        f"hpy=={VERSION}"], check=True)
    return tarball


def sdist_dir():
    """The extracted upstream sdist (downloaded once)."""
    target = CACHE / f"hpy-{VERSION}"
    with _lock():
        if not (target / "hpy" / "devel" / "include" / "hpy.h").exists():
            with tarfile.open(_sdist_tarball()) as tar:
                # (the "data" filter exists from 3.12 and in later 3.8-3.11 releases)
                safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(CACHE, **safe)
    return target


def venv_python(base_python=None):
    """A virtualenv with upstream's hpy installed; returns its python.

    The venv is made with `base_python` (an interpreter's path; default: the
    running one) and cached per Python version. Upstream published binary
    wheels of 0.9.0 for CPython 3.8 to 3.11 only; for a newer interpreter its
    sdist is built instead (it compiles there). The `.py` stubs its hpy.devel
    writes next to universal binaries import pkg_resources, which setuptools
    81 removed: hence the pin (the venvs of 3.12 and later have no setuptools
    of their own)."""
    base = base_python or sys.executable
    ver = subprocess.run([str(base), "-c", "import sys; print('%d%d' % sys.version_info[:2])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    env_dir = CACHE / f"upstream-venv-{ver}"
    py = env_dir / "bin" / "python"
    with _lock():
        marker = env_dir / ".hpy-installed"
        if not marker.exists():
            subprocess.run([str(base), "-m", "venv", "--clear", str(env_dir)], check=True)
            wheel = subprocess.run([str(py), "-m", "pip", "install", "-q", "--only-binary",
                                    ":all:", f"hpy=={VERSION}", "setuptools<81"],
                                   capture_output=True, text=True)
            if wheel.returncode != 0:
                if "No matching distribution" not in wheel.stderr:
                    sys.stderr.write(wheel.stderr)
                    wheel.check_returncode()
                subprocess.run([str(py), "-m", "pip", "install", "-q",
                                str(_sdist_tarball()), "setuptools<81"], check=True)
            marker.write_text("ok")
    return py
