"""Upstream HPy 0.9.0 from PyPI, for the binary-compatibility tests and the
conformance runner: its sdist (headers, test suite) and a virtualenv with its
wheel (its hpy.universal). Both are cached under .cache/ in the repo."""
import os
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("HPY_RS_CACHE", REPO / ".cache"))
VERSION = "0.9.0"


def _lock():
    CACHE.mkdir(parents=True, exist_ok=True)
    return FileLock(str(CACHE / ".lock"))


def sdist_dir():
    """The extracted upstream sdist (downloaded once)."""
    target = CACHE / f"hpy-{VERSION}"
    with _lock():
        if not (target / "hpy" / "devel" / "include" / "hpy.h").exists():
            dl = CACHE / "download"
            dl.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                            "--no-deps", "-q", "-d", str(dl),
                            f"hpy=={VERSION}"], check=True)
            with tarfile.open(dl / f"hpy-{VERSION}.tar.gz") as tar:
                tar.extractall(CACHE)
    return target


def venv_python():
    """A virtualenv with upstream's binary wheel installed; returns its python."""
    env_dir = CACHE / f"upstream-venv-{sys.version_info[0]}{sys.version_info[1]}"
    py = env_dir / "bin" / "python"
    with _lock():
        marker = env_dir / ".hpy-installed"
        if not marker.exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--only-binary", ":all:",
                            f"hpy=={VERSION}"], check=True)
            marker.write_text("ok")
    return py
