"""scripts/bench.py runs: every variant (C API, upstream HPy 0.9.0 and hpy-rs
in each ABI and mode, and the Rust crates: #[hpy_def] in both ABIs and PyO3)
builds, loads and produces a number for every benchmark it defines (the Rust
crates define the call/slot ones). The numbers themselves are not checked
(--smoke counts are tiny, and timings are not assertions). The Rust variants
need cargo; their target directories are cached in .cache/bench-rust-target,
so a run with nothing changed rebuilds nothing."""
import json
import math
import subprocess
import sys

from conftest import REPO

import upstream

C_VARIANTS = {"capi", "hpy-rs-universal", "upstream-universal", "hpy-rs-cpython",
              "upstream-cpython", "hpy-rs-debug", "upstream-debug", "hpy-rs-trace",
              "upstream-trace"}
RUST_VARIANTS = {"hpy-rs-rust-universal", "hpy-rs-rust-cpython", "pyo3"}
VARIANTS = C_VARIANTS | RUST_VARIANTS


def test_bench_smoke(tmp_path):
    upstream.venv_python()  # made under the cache lock, shared with other tests
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--smoke",
                          "--json", str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=900)
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
    # the table names every variant
    for label in ("C API", "hpy-rs universal", "upstream cpython", "hpy-rs debug",
                  "hpy-rs rust universal", "hpy-rs rust cpython"):
        assert label in res.stdout
    assert "PyO3" in res.stdout or doc["skipped"]


def test_bench_table_missing_cells():
    """A variant without a benchmark gets '-' (the Rust crates define only the
    call/slot functions), and its geomean is over the benchmarks it has."""
    import importlib.util
    import io
    spec = importlib.util.spec_from_file_location("bench", str(REPO / "scripts" / "bench.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
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
