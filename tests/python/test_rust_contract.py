"""The Rust-authoring contract (tests/rust/contract/src/lib.rs, the file of
the issue verbatim, under #![forbid(unsafe_code)]) builds unchanged in the
universal and the CPython ABI and behaves as its comments say, in the
universal, debug and cpython modes; each binary exports only its entry
points."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]
CRATE = REPO / "tests" / "rust" / "contract"
TARGET = REPO / ".cache" / "rust-contract-target"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{abi: directory with the built extension}."""
    out = {}
    TARGET.mkdir(parents=True, exist_ok=True)
    with FileLock(str(TARGET) + ".lock"):
        for abi in ("universal", "cpython"):
            d = tmp_path_factory.mktemp(abi)
            env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET / abi))
            subprocess.run([sys.executable, "-m", "hpy.devel.rust", "build", "--abi", abi, "--out", str(d),
                            str(CRATE)], check=True, env=env)
            out[abi] = d
    return out


def load(built, mode):
    if mode == "cpython":
        path = next(built["cpython"].glob("demo.cpython-*.so"))
        spec = importlib.util.spec_from_file_location("demo", str(path))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    import hpy.universal
    path = built["universal"] / "demo.hpy0.so"
    spec = importlib.util.spec_from_file_location("demo", str(path))
    return hpy.universal.load("demo", str(path), spec, debug=(mode == "debug"))


@pytest.fixture(params=["universal", "debug", "cpython"])
def demo(request, built):
    return load(built, request.param)


def test_add(demo):
    assert demo.add(2, 3) == 5
    with pytest.raises(OverflowError):
        demo.add(2**63, 1)
    with pytest.raises(TypeError):
        demo.add("a", 1)
    assert demo.add.__doc__ == "Add two integers."
    assert demo.add.__text_signature__ == "($module, a, b, /)"


def test_scale(demo):
    assert demo.scale(1) == 2.0
    assert demo.scale(1, 3) == 3.0
    assert demo.scale(1, factor=3, offset=1) == 4.0
    with pytest.raises(TypeError):
        demo.scale(1, 2, 3)  # offset is keyword-only


def test_checked_div(demo):
    assert demo.checked_div(7, 2) == 3
    assert demo.checked_div(-7, 2) == -4
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        demo.checked_div(1, 0)


def test_join(demo):
    assert demo.join("a", "b", sep="-") == "a-b"
    assert demo.join("a", "b") == "a b"
    assert demo.join() == ""


def test_first(demo):
    assert demo.first([9, 8]) == 9
    assert demo.first("xyz") == "x"
    with pytest.raises(TypeError):
        demo.first(5)


def test_vec2(demo):
    v = demo.Vec2(3, 4)
    assert (v.x, v.y) == (3.0, 4.0)
    assert v.norm() == 5.0
    w = v + demo.Vec2(1, 1)
    assert repr(w) == "Vec2(4, 5)"
    v.x = 10
    assert v.x == 10.0
    with pytest.raises(AttributeError):
        v.y = 1
    with pytest.raises(TypeError):
        v + 1
    assert demo.Vec2.__module__ == "demo" and demo.Vec2.__name__ == "Vec2"
    assert demo.Vec2.__doc__ == "A 2-d vector."


def test_module(demo):
    assert demo.__doc__ == "A demo module."
    assert sorted(n for n in dir(demo) if not n.startswith("_")) == \
        ["Vec2", "add", "checked_div", "first", "join", "scale"]


def test_debug_mode_reports_no_leaks(built):
    from hpy.debug import LeakDetector
    demo = load(built, "debug")
    with LeakDetector():
        demo.add(1, 2)
        demo.scale(1, factor=2, offset=3)
        demo.join("a", "b", sep="+")
        demo.first([1])
        v = demo.Vec2(1, 2) + demo.Vec2(3, 4)
        repr(v)
        v.norm()
        for f in (lambda: demo.add("a", 1), lambda: demo.checked_div(1, 0), lambda: demo.first(5)):
            with pytest.raises(Exception):
                f()


def exports(path):
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return sorted(line.split()[-1] for line in out.splitlines() if line.strip())


def test_universal_exports_only_the_loader_symbols(built):
    assert exports(built["universal"] / "demo.hpy0.so") == sorted([
        "HPyInit_demo", "HPyInitGlobalContext_demo",
        "get_required_hpy_major_version_demo", "get_required_hpy_minor_version_demo"])


def test_cpython_abi_exports_only_pyinit(built):
    path = next(built["cpython"].glob("demo.cpython-*.so"))
    assert exports(path) == ["PyInit_demo"]


def test_cpython_abi_does_not_call_through_the_context(built):
    """The CPython-ABI binary calls CPython directly: it imports Py* symbols
    (the universal one imports none: everything goes through the context)."""
    path = next(built["cpython"].glob("demo.cpython-*.so"))
    undef = subprocess.run(["nm", "-D", "--undefined-only", str(path)], check=True, capture_output=True,
                           text=True).stdout
    assert "PyLong_FromLongLong" in undef or "PyLong_FromLong" in undef
    uni = subprocess.run(["nm", "-D", "--undefined-only", str(built["universal"] / "demo.hpy0.so")],
                         check=True, capture_output=True, text=True).stdout
    assert " Py" not in uni and "_Py" not in uni
