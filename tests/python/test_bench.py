"""scripts/bench.py runs: every variant (C API, upstream HPy 0.9.0 and hpy-rs
in each ABI and mode, and the Rust crates: #[hpy_def] in both ABIs and PyO3)
builds, loads and produces a number for every benchmark it defines (the Rust
crates define the call/slot ones; the rk4 workloads need the array module,
which only the C variants have). The numbers themselves are not checked
(--smoke counts are tiny, and timings are not assertions). The Rust variants
need cargo; their target directories are cached in .cache/bench-rust-target,
so a run with nothing changed rebuilds nothing. Also: --results writes its
table (the plot is skipped cleanly without matplotlib), and --callgrind
--smoke counts instructions when valgrind is there."""
import importlib.util
import io
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

import upstream

C_VARIANTS = {"capi", "hpy-rs-universal", "upstream-universal", "hpy-rs-cpython",
              "upstream-cpython", "hpy-rs-debug", "upstream-debug", "hpy-rs-trace",
              "upstream-trace"}
RUST_VARIANTS = {"hpy-rs-rust-universal", "hpy-rs-rust-cpython", "pyo3"}
VARIANTS = C_VARIANTS | RUST_VARIANTS


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", str(REPO / "scripts" / "bench.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_bench_smoke(tmp_path):
    """Every variant, every benchmark, tiny counts; --results as well, with
    matplotlib made unimportable (the table is written, the plot skipped
    with a message, a stale plot removed)."""
    upstream.venv_python()  # made under the cache lock, shared with other tests
    out = tmp_path / "bench.json"
    results = tmp_path / "results"
    results.mkdir()
    (results / "results.png").write_bytes(b"stale")
    env = dict(os.environ, HPY_BENCH_NO_MATPLOTLIB="1")
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--smoke",
                          "--json", str(out), "--results", str(results)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=900, env=env)
    assert res.returncode == 0, res.stdout[-4000:]
    doc = json.loads(out.read_text())
    # PyO3 is left out (with a message) only when crates.io cannot be reached
    assert set(doc["skipped"]) <= {"pyo3"}, doc["skipped"]
    assert all("cannot be fetched" in why for why in doc["skipped"].values())
    expected = VARIANTS - set(doc["skipped"])
    assert set(doc["variants"]) == expected
    assert len(doc["ns_per_op"]) >= 20
    for bench, per_variant in doc["ns_per_op"].items():
        group = doc["benchmarks"][bench]["group"]
        want = expected if group in ("call", "slot") else C_VARIANTS
        assert set(per_variant) == want, bench
        assert all(math.isfinite(ns) and ns >= 0 for ns in per_variant.values()), bench
    assert sum(doc["benchmarks"][b]["group"] in ("call", "slot") for b in doc["ns_per_op"]) >= 8
    assert {"rk4_array", "rk4_array_16"} <= set(doc["ns_per_op"])
    assert all(doc["benchmarks"][b]["group"] == "workload" for b in ("rk4_array",
                                                                      "rk4_array_16"))
    # each worker is what it claims to be
    v = doc["variants"]
    for name in ("upstream-universal", "upstream-cpython", "upstream-debug",
                 "upstream-trace"):
        assert "upstream-venv" in v[name]["hpy_universal"], name
    for name in ("hpy-rs-universal", "hpy-rs-debug", "hpy-rs-trace"):
        assert "hpy-rs" in v[name]["ctx_name"], name
    assert "upstream-venv" not in v["hpy-rs-cpython"]["hpy_universal"]
    assert v["hpy-rs-cpython"]["ctx_name"] == v["upstream-cpython"]["ctx_name"] == \
        "HPy CPython ABI"
    assert [v[n]["HPY"] for n in ("hpy-rs-debug", "upstream-trace", "hpy-rs-universal")] \
        == ["debug", "trace", None]
    # the #[hpy_def] crate, one source in both ABIs, and PyO3
    assert "hpy-rs" in v["hpy-rs-rust-universal"]["ctx_name"]
    assert v["hpy-rs-rust-universal"]["module_file"].endswith("bench_rust_hpy.hpy0.so")
    assert v["hpy-rs-rust-cpython"]["ctx_name"] == "HPy CPython ABI"
    assert "bench_rust_hpy.cpython-" in v["hpy-rs-rust-cpython"]["module_file"]
    if "pyo3" in v:
        assert v["pyo3"]["ctx_name"] == "PyO3"
        assert "bench_rust_pyo3.cpython-" in v["pyo3"]["module_file"]
    # the array module: the HPy one in every C HPy variant (each ABI, each
    # hpy.devel), and every variant computes what the C API computes
    for name in C_VARIANTS - {"capi"}:
        assert "array_hpy" in v[name]["array_module_file"], name
    assert "array_capi" in v["capi"]["array_module_file"]
    checks = {name: v[name]["rk4_check"] for name in C_VARIANTS}
    assert checks["capi"][:3] == [16, 16, 16]
    assert all(c == checks["capi"] for c in checks.values()), checks
    assert all("rk4_check" not in v[name] for name in RUST_VARIANTS if name in v)
    # the table names every variant
    for label in ("C API", "hpy-rs universal", "upstream cpython", "hpy-rs debug",
                  "hpy-rs rust universal", "hpy-rs rust cpython"):
        assert label in res.stdout
    assert "PyO3" in res.stdout or doc["skipped"]
    assert "Workloads (ns per RK4 step)" in res.stdout
    # --results: the markdown table, no plot
    md = (results / "results.md").read_text()
    assert "python3 scripts/bench.py --smoke --json" in md
    for text in ("| CPU |", "| Python | CPython", "| date |", "## Release ABIs",
                 "## Debug and trace modes", "## Workloads", "| `rk4_array` |",
                 "| `rk4_array_16` |", "| hpy-rs cpython |", "(no plot: matplotlib"):
        assert text in md, text
    rk4_row = next(line for line in md.splitlines() if line.startswith("| `rk4_array_16`"))
    assert rk4_row.count("×)") == len(C_VARIANTS) - 1, rk4_row
    assert not (results / "results.png").exists()  # the stale plot is gone
    assert "matplotlib is not installed" in res.stdout


def test_bench_table_missing_cells():
    """A variant without a benchmark gets '-' (the Rust crates define only the
    call/slot functions), and its geomean is over the benchmarks it has."""
    bench = load_bench()
    variants = [v for v in bench.VARIANTS if v[0] in ("capi", "hpy-rs-cpython", "pyo3")]
    benches = [b for b in bench.BENCHES if b[0] in ("call_o", "getitem_list")]
    results = {"call_o": {"capi": 4.0, "hpy-rs-cpython": 4.0, "pyo3": 8.0},
               "getitem_list": {"capi": 2.0, "hpy-rs-cpython": 4.0}}
    out = io.StringIO()
    bench.print_table("t", variants, benches, results, out=out)
    rows = {line.split()[0]: line.split() for line in out.getvalue().splitlines()[2:]}
    assert rows["getitem_list"][-1] == "-"
    assert rows["call_o"][-2:] == ["8.0", "(2.00x)"]
    assert rows["geomean"][-2:] == ["1.41x", "2.00x"]


FAKE_RESULTS = {"call_o": {"capi": 4.0, "hpy-rs-universal": 6.0, "hpy-rs-debug": 80.0,
                           "pyo3": 8.0},
                "getitem_list": {"capi": 2.0, "hpy-rs-universal": 1.5, "hpy-rs-debug": 30.0},
                "rk4_array_16": {"capi": 4000.0, "hpy-rs-universal": 7000.0,
                                 "hpy-rs-debug": 23000.0}}


def write_fake_results(bench, out_dir):
    variants = [v for v in bench.VARIANTS
                if v[0] in ("capi", "hpy-rs-universal", "pyo3", "hpy-rs-debug")]
    benches = [b for b in bench.BENCHES if b[0] in FAKE_RESULTS]
    meta = {"machine": bench.machine_info(), "command": "python3 scripts/bench.py --results",
            "method": "fake", "duration": "0 s", "smoke": False}
    return bench.write_results(out_dir, "results", variants, benches, FAKE_RESULTS, "ns",
                               bench.fmt_ns, meta, {}, [], [])


def test_bench_results_table_without_matplotlib(tmp_path, monkeypatch):
    """--results without matplotlib: the table alone (and a message)."""
    bench = load_bench()
    monkeypatch.setenv("HPY_BENCH_NO_MATPLOTLIB", "1")
    written = write_fake_results(bench, tmp_path)
    assert written == [tmp_path / "results.md"]
    md = (tmp_path / "results.md").read_text()
    assert "python3 scripts/bench.py --results" in md
    assert "| `call_o` | 4.0 | 6.0 (1.50×) | 8.0 (2.00×) |" in md
    assert "| `getitem_list` | 2.0 | 1.5 (0.75×) |" in md
    assert "| `getitem_list` | 2.0 | 30.0 (15.00×) |" in md  # debug mode
    assert "| `rk4_array_16` | 4000 | 7000 (1.75×) | 23000 (5.75×) |" in md
    assert "| geomean vs C API | 1.00× | 1.06× |" in md  # workloads left out
    assert "(no plot: matplotlib" in md


def test_bench_results_plot(tmp_path, monkeypatch):
    """With matplotlib: results.png too, linked from the table."""
    pytest.importorskip("matplotlib")
    bench = load_bench()
    monkeypatch.delenv("HPY_BENCH_NO_MATPLOTLIB", raising=False)
    written = write_fake_results(bench, tmp_path)
    png = tmp_path / "results.png"
    assert written == [tmp_path / "results.md", png]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![ns relative to the C API](results.png)" in (tmp_path / "results.md").read_text()


def have_callgrind():
    """valgrind, and its <valgrind/callgrind.h> for benches/c/callgrind_ctl.c"""
    if shutil.which("valgrind") is None:
        return False
    cc = os.environ.get("CC", "cc").split()
    res = subprocess.run(cc + ["-E", "-x", "c", "-"], input="#include <valgrind/callgrind.h>\n",
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    return res.returncode == 0


@pytest.mark.skipif(not have_callgrind(), reason="valgrind (with its headers) is not installed")
def test_bench_callgrind_smoke(tmp_path):
    """--callgrind --smoke: instructions per operation for a call, an API loop
    and the small rk4 workload, in the C API and hpy-rs universal variants."""
    out = tmp_path / "cg.json"
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--callgrind",
                          "--smoke", "--variants", "capi,hpy-rs-universal", "--only", "call_o",
                          "--only", "getitem_list", "--only", "rk4_array_16", "--json",
                          str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:]
    doc = json.loads(out.read_text())
    assert doc["mode"] == "callgrind"
    ir = doc["ir_per_op"]
    assert set(ir) == {"call_o", "getitem_list", "rk4_array_16"}
    for bench, per_variant in ir.items():
        assert set(per_variant) == {"capi", "hpy-rs-universal"}, bench
        assert all(math.isfinite(x) and x > 0 for x in per_variant.values()), (bench, ir)
    # an RK4 step (80 Array operations) costs more than one call
    assert ir["rk4_array_16"]["capi"] > 80 * ir["call_o"]["capi"], ir
    assert "Workloads (Ir per RK4 step)" in res.stdout
