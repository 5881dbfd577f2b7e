"""scripts/bench.py runs: every variant (C API, upstream HPy 0.9.0 and hpy-rs
in each ABI and mode) builds, loads and produces a number for every
benchmark. The numbers themselves are not checked (--smoke counts are tiny,
and timings are not assertions)."""
import json
import math
import subprocess
import sys

from conftest import REPO

import upstream

VARIANTS = {"capi", "hpy-rs-universal", "upstream-universal", "hpy-rs-cpython",
            "upstream-cpython", "hpy-rs-debug", "upstream-debug", "hpy-rs-trace",
            "upstream-trace"}


def test_bench_smoke(tmp_path):
    upstream.venv_python()  # made under the cache lock, shared with other tests
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--smoke",
                          "--json", str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-4000:]
    doc = json.loads(out.read_text())
    assert set(doc["variants"]) == VARIANTS
    assert len(doc["ns_per_op"]) >= 20
    for bench, per_variant in doc["ns_per_op"].items():
        assert set(per_variant) == VARIANTS, bench
        assert all(math.isfinite(ns) and ns >= 0 for ns in per_variant.values()), bench
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
    # the table names every variant
    for label in ("C API", "hpy-rs universal", "upstream cpython", "hpy-rs debug"):
        assert label in res.stdout
