"""Builds the example once per ABI (universal, cpython) into a temporary
directory and loads it in each mode: universal, debug (every test inside a
LeakDetector: no handle may leak) and cpython. Run from any directory:

    python -m pytest examples/rust-geometry/tests
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

CRATE = Path(__file__).resolve().parents[1]
MODES = os.environ.get("GEOMETRY_MODES", "universal,debug,cpython").split(",")


@pytest.fixture(scope="session")
def builds(tmp_path_factory):
    return {}


def build(builds, tmp_path_factory, abi):
    if abi not in builds:
        out = tmp_path_factory.mktemp("build-" + abi)
        env = dict(os.environ)
        # a target directory shared by the runs (and kept between them)
        env.setdefault("CARGO_TARGET_DIR", str(CRATE / "target"))
        subprocess.run([sys.executable, "-m", "hpy.devel.rust", "build", "--abi", abi,
                        "--out", str(out), str(CRATE)], check=True, env=env)
        builds[abi] = out
    return builds[abi]


@pytest.fixture(scope="session", params=MODES)
def geometry(request, builds, tmp_path_factory):
    mode = request.param
    out = build(builds, tmp_path_factory, "cpython" if mode == "cpython" else "universal")
    if mode == "cpython":
        path = next(out.glob("geometry.cpython-*.so"))
        spec = importlib.util.spec_from_file_location("geometry", str(path))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    else:
        import hpy.universal
        path = out / "geometry.hpy0.so"
        spec = importlib.util.spec_from_file_location("geometry", str(path))
        mod = hpy.universal.load("geometry", str(path), spec, debug=(mode == "debug"))
    mod._test_mode = mode
    return mod


@pytest.fixture(autouse=True)
def no_leaks(request):
    """In debug mode, every test runs inside a LeakDetector."""
    if "geometry" not in request.fixturenames:
        yield
        return
    mod = request.getfixturevalue("geometry")
    if mod._test_mode != "debug":
        yield
        return
    from hpy.debug import LeakDetector
    with LeakDetector():
        yield
