#!/usr/bin/env python3
"""Benchmark: the same extension operations through the CPython C API,
upstream HPy 0.9.0 and hpy-rs (in C, and in Rust with `#[hpy_def]`), and
PyO3, measured side by side in one run.

    python3 scripts/bench.py [--quick | --smoke] [--only PATTERN]...
                             [--variants PATTERN[,PATTERN...]]
                             [--repeat N] [--json OUT.json]

What it does:
  1. builds benches/c/bench_capi.c (Python.h) and benches/c/bench_hpy.c (the
     HPy API) with `setup.py build_ext --inplace`: the C-API module with this
     interpreter; the HPy module for the universal and cpython ABIs with our
     hpy.devel (this interpreter) and with upstream's (a virtualenv holding
     upstream's wheel, made by tests/python/upstream.py, cached in .cache/);
     the Rust crates benches/rust/hpy (`#[hpy_def]`, built for both ABIs
     with `python -m hpy.devel.rust build`) and benches/rust/pyo3 (PyO3) with
     cargo in release mode, their target directories cached in
     .cache/bench-rust-target/ (a rebuild with nothing changed takes ~1 s);
  2. starts one worker process per variant (upstream's and our hpy.universal
     cannot share a process: both are `hpy.universal`), debug and trace modes
     being the universal binary loaded with HPY=debug / HPY=trace;
  3. for each benchmark, calibrates a repetition count per variant (so that a
     sample takes about --target seconds), then takes --repeat samples,
     round-robin over the variants (so that load from other processes hits
     them all alike), and keeps the minimum;
  4. prints ns per operation and the ratio to the C API.

Two kinds of benchmark (see bench_hpy.c): `call`/`slot` ones time a Python
loop calling an extension function with a trivial body, minus the same loop
with `pass` (what remains is the call through the extension's trampoline);
`api` ones call a C function that repeats one API operation n times, and the
time per iteration is that operation's cost. The Rust crates define only the
call/slot functions (the `api` loops measure the C API from C); a variant
that lacks a benchmark gets '-' in the tables.

Not part of the test command (timings are not assertions); --smoke runs every
variant with tiny counts, which tests/python/test_bench.py checks.
"""
import argparse
import fnmatch
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
C_DIR = REPO / "benches" / "c"
RUST_HPY_CRATE = REPO / "benches" / "rust" / "hpy"
RUST_PYO3_CRATE = REPO / "benches" / "rust" / "pyo3"
RUST_TARGET = REPO / ".cache" / "bench-rust-target"

# name, group, description, statement. `call`/`slot` statements run in a
# timeit loop (N = timeit's number); `api` statements run once with N passed
# to the C loop. Names bound in the worker: m (the module), f (m.<function>),
# P (m.Point), p (a Point), o (an object with attribute x), name ("x"), lst,
# tup (8 items each).
BENCHES = [
    ("call_noargs", "call", "f() NOARGS, returns None", "f()", "noargs"),
    ("call_noargs_int", "call", "f() NOARGS, returns 42 (HPyLong_FromLong)", "f()",
     "noargs_int"),
    ("call_o", "call", "f(1) O, returns None", "f(1)", "onearg"),
    ("call_varargs", "call", "f(1, 2) VARARGS (C API: FASTCALL)", "f(1, 2)", "varargs"),
    ("call_keywords", "call", "f(1, b=2) KEYWORDS (C API: FASTCALL|KEYWORDS)",
     "f(1, b=2)", "keywords"),
    ("slot_tp_new", "slot", "P() HPy_tp_new + HPy_New", "P()", None),
    ("slot_nb_add", "slot", "p + p HPy_nb_add, returns its argument", "p + p", None),
    ("slot_tp_call", "slot", "p() HPy_tp_call, returns None", "p()", None),
    ("long_roundtrip", "api", "HPyLong_FromLong + HPyLong_AsLong + HPy_Close",
     "m.long_roundtrip_loop(N)", None),
    ("dup_close", "api", "HPy_Dup + HPy_Close (C API: Py_INCREF + Py_DECREF)",
     "m.dup_close_loop(o, N)", None),
    ("add_ints", "api", "HPy_Add(1, 2) + HPy_Close", "m.add_loop(1, 2, N)", None),
    ("getattr_s", "api", "HPy_GetAttr_s(o, \"x\") (instance dict)",
     "m.getattr_s_loop(o, N)", None),
    ("getattr", "api", "HPy_GetAttr(o, name)", "m.getattr_loop(o, name, N)", None),
    ("getitem_list", "api", "HPy_GetItem_i(list) (C API: PySequence_GetItem)",
     "m.getitem_loop(lst, N)", None),
    ("getitem_tuple", "api", "HPy_GetItem_i(tuple) (C API: PySequence_GetItem)",
     "m.getitem_loop(tup, N)", None),
    ("tuple_builder", "api", "HPyTupleBuilder of 3 items (C API: PyTuple_New + SET_ITEM)",
     "m.tuple_build_loop(o, N)", None),
    ("new_object", "api", "HPy_New of a small type (C API: tp_alloc)", "m.new_loop(N)",
     None),
    ("buildvalue", "api", "HPy_BuildValue(\"(iiO)\") (C API: Py_BuildValue)",
     "m.buildvalue_loop(o, N)", None),
    ("argparse", "api", "HPyArg_Parse \"llld\" (C API: PyArg_ParseTuple)",
     "m.argparse_loop(N, 1, 2, 3.0)", None),
    ("argparse_kw", "api", "HPyArg_ParseKeywords \"ll|d\", 1 keyword "
     "(C API: PyArg_ParseTupleAndKeywords)", "m.argparse_kw_loop(N, 1, c=3.0)", None),
]

# name, label, implementation, abi, mode, table. Implementations: "capi"
# (bench_capi.c), "ours"/"upstream" (bench_hpy.c with that hpy.devel),
# "rust-hpy" (benches/rust/hpy, #[hpy_def]), "pyo3" (benches/rust/pyo3).
# Tables: "release" (the C variants), "rust" (written in Rust, shown next to
# the C API and the C HPy variants of the same ABI), "modes" (informative).
VARIANTS = [
    ("capi", "C API", "capi", None, None, "release"),
    ("hpy-rs-universal", "hpy-rs universal", "ours", "universal", None, "release"),
    ("upstream-universal", "upstream universal", "upstream", "universal", None, "release"),
    ("hpy-rs-cpython", "hpy-rs cpython", "ours", "cpython", None, "release"),
    ("upstream-cpython", "upstream cpython", "upstream", "cpython", None, "release"),
    ("hpy-rs-rust-universal", "hpy-rs rust universal", "rust-hpy", "universal", None,
     "rust"),
    ("hpy-rs-rust-cpython", "hpy-rs rust cpython", "rust-hpy", "cpython", None, "rust"),
    ("pyo3", "PyO3", "pyo3", None, None, "rust"),
    ("hpy-rs-debug", "hpy-rs debug", "ours", "universal", "debug", "modes"),
    ("upstream-debug", "upstream debug", "upstream", "universal", "debug", "modes"),
    ("hpy-rs-trace", "hpy-rs trace", "ours", "universal", "trace", "modes"),
    ("upstream-trace", "upstream trace", "upstream", "universal", "trace", "modes"),
]


# ================================================================ worker

def worker(build_dir, module_name):
    """Runs in the variant's interpreter: imports the module, then answers
    JSON commands (one per line on stdin) with one JSON line on stdout."""
    sys.path.insert(0, build_dir)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not break the protocol
    m = __import__(module_name)

    class Obj:
        pass

    o = Obj()
    o.x = 1
    P = getattr(m, "Point", None)
    ns = {"m": m, "P": P, "p": P() if P else None, "o": o, "name": sys.intern("x"),
          "lst": list(range(8)), "tup": tuple(range(8))}
    benches = {b[0]: b for b in BENCHES}

    def sample(bench, number):
        """One sample: (total seconds, seconds of the empty loop) for `number`
        operations."""
        _, group, _, stmt, func = benches[bench]
        if group == "api":
            t = timeit.Timer("fn(N)", globals={"fn": eval("lambda N: " + stmt, ns),
                                                 "N": number})
            return t.timeit(1), 0.0
        g = dict(ns, f=getattr(m, func) if func else None)
        t = timeit.Timer(stmt, globals=g).timeit(number)
        base = timeit.Timer("pass").timeit(number)
        return t, base

    def calibrate(bench, target):
        number = 1
        while True:
            t, _ = sample(bench, number)
            if t >= target / 4 or number >= 10**9:
                return max(1, int(number * target / max(t, 1e-9)))
            number *= 10 if t < target / 100 else 2

    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "info":
                res = worker_info(m)
                res["benches"] = [b[0] for b in BENCHES if worker_has(m, b)]
            elif cmd["cmd"] == "calibrate":
                res = calibrate(cmd["bench"], cmd["target"])
            elif cmd["cmd"] == "run":
                res = sample(cmd["bench"], cmd["number"])
            else:
                raise ValueError(cmd)
            reply = {"ok": res}
        except Exception as e:  # reported to the parent, which stops
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def worker_has(m, bench):
    """Does module `m` define what `bench` calls?"""
    _, group, _, stmt, func = bench
    names = set(re.findall(r"\bm\.(\w+)", stmt))
    if func:
        names.add(func)
    if group == "slot":
        names.add("Point")
    return all(hasattr(m, n) for n in names)


def worker_info(m):
    """What a worker reports about itself, so the table can show it is what it
    claims to be (whose hpy.universal, which context)."""
    d = {"python": sys.version.split()[0], "executable": sys.executable,
         "ctx_name": m.ctx_name(), "module_file": getattr(m, "__file__", None),
         "hpy_universal": None, "HPY": os.environ.get("HPY")}
    try:
        import hpy.universal
        d["hpy_universal"] = hpy.universal.__file__
    except ImportError:
        pass
    return d


# ================================================================ parent

def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


HPY_SETUP = """\
from setuptools import setup, Extension
setup(name="bench-hpy", version="0",
      hpy_ext_modules=[Extension("bench_hpy", sources=["bench_hpy.c"])],
      setup_requires=["hpy"])
"""
CAPI_SETUP = """\
from setuptools import setup, Extension
setup(name="bench-capi", version="0",
      ext_modules=[Extension("bench_capi", sources=["bench_capi.c"])])
"""


class Skip(Exception):
    """A variant that cannot be built here (said why, then left out)."""


def run_logged(cmd, what, **kw):
    res = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, **kw)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%s):\n%s" % (what, " ".join(map(str, cmd)),
                                                   res.stdout[-4000:]))
    return res.stdout


def cargo():
    exe = shutil.which(os.environ.get("CARGO") or "cargo")
    if exe is None:
        raise SystemExit(
            "bench: cargo not found: the Rust variants (%s) need the Rust toolchain "
            "(https://rustup.rs), or leave them out with --variants 'capi,hpy-rs-u*,"
            "hpy-rs-c*,upstream*,hpy-rs-d*,hpy-rs-t*'"
            % ", ".join(v[0] for v in VARIANTS if v[2] in ("rust-hpy", "pyo3")))
    return exe


def build_rust_hpy(python, abi, out_dir):
    """benches/rust/hpy for `abi` with `python -m hpy.devel.rust build` (cargo
    --release; the cpython ABI with --features hpy-core/cpython-abi), one
    cached target directory per ABI so that neither rebuilds the other's."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(RUST_TARGET / ("hpy-" + abi)))
    env.pop("CARGO_BUILD_TARGET", None)
    run_logged([python, "-m", "hpy.devel.rust", "build", "--release", "--abi", abi,
                "--out", out_dir, RUST_HPY_CRATE], "cargo build of benches/rust/hpy",
               env=env)
    return "bench_rust_hpy"


def build_pyo3(python, out_dir):
    """benches/rust/pyo3 with cargo --release for `python` (PYO3_PYTHON), the
    cdylib copied to bench_rust_pyo3<EXT_SUFFIX>. Skipped (not failed) when
    PyO3 cannot be fetched from crates.io."""
    exe = cargo()
    manifest = RUST_PYO3_CRATE / "Cargo.toml"
    res = subprocess.run([exe, "fetch", "--manifest-path", str(manifest)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:
        lines = [l.strip() for l in res.stdout.splitlines() if l.strip()] or ["?"]
        first = next((l for l in lines if l.startswith("error")), lines[-1])
        raise Skip("PyO3 cannot be fetched from crates.io (cargo fetch: %s)" % first[:300])
    tag = subprocess.run([str(python), "-c", "import sys; print('%s-%d%d' % ("
                          "sys.implementation.name, *sys.version_info[:2]))"],
                         stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    env = dict(os.environ, PYO3_PYTHON=str(python),
               CARGO_TARGET_DIR=str(RUST_TARGET / ("pyo3-" + tag)))
    env.pop("CARGO_BUILD_TARGET", None)
    out = run_logged([exe, "build", "--release", "--lib", "--manifest-path", manifest,
                      "--message-format=json-render-diagnostics"],
                     "cargo build of benches/rust/pyo3", env=env)
    lib = None
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if (msg.get("reason") == "compiler-artifact"
                and msg["target"]["name"] == "bench_rust_pyo3"):
            libs = [f for f in msg["filenames"] if f.endswith((".so", ".dylib", ".dll"))]
            lib = libs[0] if libs else lib
    if lib is None:
        raise RuntimeError("cargo build of benches/rust/pyo3 made no library:\n"
                           + out[-4000:])
    suffix = subprocess.run([str(python), "-c", "import importlib.machinery as m; "
                             "print(m.EXTENSION_SUFFIXES[0])"],
                            stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    shutil.copy(lib, out_dir / ("bench_rust_pyo3" + suffix))
    return "bench_rust_pyo3"


def build(python, impl, abi, out_dir):
    """Builds one variant's module in `out_dir` with `python`'s setuptools
    (and hpy.devel), or cargo for the Rust crates; returns the module name."""
    out_dir.mkdir(parents=True)
    if impl == "rust-hpy":
        cargo()
        return build_rust_hpy(python, abi, out_dir)
    if impl == "pyo3":
        return build_pyo3(python, out_dir)
    if impl == "capi":
        module, setup_py, args = "bench_capi", CAPI_SETUP, []
    else:
        module, setup_py, args = "bench_hpy", HPY_SETUP, ["--hpy-abi=" + abi]
    shutil.copy(C_DIR / (module + ".c"), out_dir)
    (out_dir / "setup.py").write_text(setup_py)
    cmd = [str(python), "setup.py", *args, "build_ext", "--inplace"]
    res = subprocess.run(cmd, cwd=out_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if res.returncode != 0:
        raise RuntimeError("build failed (%s, in %s):\n%s" % (" ".join(cmd), out_dir,
                                                              res.stdout[-4000:]))
    return module


def upstream_python():
    sys.path.insert(0, str(REPO / "tests" / "python"))
    try:
        import upstream
    except ImportError as e:
        raise SystemExit("bench: %s (pip install filelock, or --variants without "
                         "upstream)" % e)
    finally:
        sys.path.pop(0)
    return upstream.venv_python()


class Worker:
    def __init__(self, name, python, build_dir, module, mode):
        self.name = name
        env = dict(os.environ)
        env.pop("HPY", None)
        env.pop("PYTHONPATH", None)
        if mode:
            env["HPY"] = mode
        self.proc = subprocess.Popen(
            [str(python), "-u", str(Path(__file__).resolve()),
             "--worker", str(build_dir), module],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
            cwd=tempfile.gettempdir())

    def ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("%s: worker died (exit status %s) on %s"
                               % (self.name, self.proc.wait(), cmd))
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError("%s: %s on %s" % (self.name, reply["error"], cmd))
        return reply["ok"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def machine_info():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "os": platform.platform(),
            "python": platform.python_implementation() + " " + platform.python_version(),
            "date": time.strftime("%Y-%m-%d")}


def select(items, patterns, key):
    if not patterns:
        return list(items)
    out = []
    for it in items:
        name = key(it)
        if any(fnmatch.fnmatch(name, p) if any(c in p for c in "*?[") else p in name
               for p in patterns):
            out.append(it)
    return out


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def fmt_ns(ns):
    if ns is None or ns != ns:
        return "-"
    return "%.1f" % ns if ns < 100 else "%.0f" % ns


def print_table(title, variants, benches, results, out=sys.stdout):
    cols = [v[1] for v in variants]
    w0 = max(len(b[0]) for b in benches) + 2
    w = max(18, max(len(c) for c in cols) + 2)
    print("\n" + title, file=out)
    print("benchmark".ljust(w0) + "".join(c.rjust(w) for c in cols), file=out)
    for b in benches:
        row = b[0].ljust(w0)
        base = results.get(b[0], {}).get("capi")
        for v in variants:
            ns = results.get(b[0], {}).get(v[0])
            if ns is None:
                cell = "-"
            elif base and v[0] != "capi" and base > 0:
                cell = "%s (%.2fx)" % (fmt_ns(ns), ns / base)
            else:
                cell = fmt_ns(ns)
            row += cell.rjust(w)
        print(row, file=out)
    row = "geomean vs C API".ljust(w0)
    for v in variants:
        if v[0] == "capi":
            row += "1.00x".rjust(w)
            continue
        ratios = [results[b[0]][v[0]] / results[b[0]]["capi"] for b in benches
                  if results.get(b[0], {}).get(v[0]) and results[b[0]].get("capi")
                  and results[b[0]]["capi"] > 0]
        row += ("%.2fx" % geomean(ratios) if ratios else "-").rjust(w)
    print(row, file=out)


def print_rust_targets(variants, benches, results, out=sys.stdout):
    """Issue 10's targets for the #[hpy_def] variants, reported (never
    asserted): per call within 1 ns of the C HPy variant of the same ABI, and
    at most 0.8x PyO3's time."""
    names = {v[0] for v in variants}
    cols = []
    for abi in ("universal", "cpython"):
        rust, c = "hpy-rs-rust-" + abi, "hpy-rs-" + abi
        if rust in names and c in names:
            cols.append(("%s - C HPy" % abi, rust, c, "diff"))
    for abi in ("universal", "cpython"):
        rust = "hpy-rs-rust-" + abi
        if rust in names and "pyo3" in names:
            cols.append(("%s / PyO3" % abi, rust, "pyo3", "ratio"))
    rows = [b for b in benches
            if any(results.get(b[0], {}).get(a) is not None for _, a, _, _ in cols)]
    if not cols or not rows:
        return
    print("\n#[hpy_def] (hpy-rs rust) vs the C HPy variant of the same ABI (ns per call, "
          "target <= +1.0) and vs PyO3 (target <= 0.80x):", file=out)
    w0 = max(len(b[0]) for b in rows) + 2
    w = max(len(c[0]) for c in cols) + 3
    print("benchmark".ljust(w0) + "".join(c[0].rjust(w) for c in cols), file=out)
    for b in rows:
        r = results.get(b[0], {})
        row = b[0].ljust(w0)
        for _, a, ref, kind in cols:
            x, y = r.get(a), r.get(ref)
            if x is None or y is None:
                cell = "-"
            elif kind == "diff":
                cell = "%+.1f%s" % (x - y, "" if x - y <= 1.0 else " !")
            else:
                cell = "%.2fx%s" % (x / y, "" if y > 0 and x / y <= 0.8 else " !") \
                    if y > 0 else "-"
            row += cell.rjust(w)
        print(row, file=out)
    print("('!': target missed)", file=out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short run (5 samples of ~3 ms)")
    ap.add_argument("--smoke", action="store_true",
                    help="check that every variant runs (tiny counts; numbers meaningless)")
    ap.add_argument("--only", action="append", default=[], metavar="PATTERN",
                    help="benchmarks to run (substring or glob; repeatable)")
    ap.add_argument("--variants", default="", metavar="PATTERNS",
                    help="comma-separated variant names or globs, among: "
                    + ", ".join(v[0] for v in VARIANTS))
    ap.add_argument("--repeat", type=int, help="samples per benchmark and variant (15)")
    ap.add_argument("--target", type=float, help="seconds per sample (0.01)")
    ap.add_argument("--json", metavar="OUT", help="write all results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the build directory")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        worker(*args.worker)
        return 0

    repeat = args.repeat or (1 if args.smoke else 5 if args.quick else 15)
    target = args.target or (0.003 if args.quick else 0.01)
    benches = select(BENCHES, args.only, key=lambda b: b[0])
    variants = select(VARIANTS, [p for p in args.variants.split(",") if p],
                      key=lambda v: v[0])
    if not benches or not variants:
        raise SystemExit("bench: nothing selected")
    if "capi" not in [v[0] for v in variants]:
        variants.insert(0, VARIANTS[0])  # the baseline of every ratio
    if any(v[2] in ("rust-hpy", "pyo3") for v in variants):
        cargo()  # before anything is built: say it now if it is missing

    pythons = {impl: Path(sys.executable) for impl in ("capi", "ours", "rust-hpy", "pyo3")}
    if any(v[2] == "upstream" for v in variants):
        log("upstream HPy 0.9.0 virtualenv (tests/python/upstream.py)")
        pythons["upstream"] = upstream_python()

    tmp = Path(tempfile.mkdtemp(prefix="hpy-rs-bench-"))
    workers = {}
    skipped = {}
    try:
        builds = sorted({(v[2], v[3]) for v in variants}, key=str)
        log("building %d modules in %s" % (len(builds), tmp))
        t0 = time.perf_counter()

        def do_build(key):
            impl, abi = key
            d = tmp / ("%s-%s" % (impl, abi or impl))
            t = time.perf_counter()
            try:
                mod = build(pythons[impl], impl, abi, d)
            except Skip as e:
                return key, d, None, str(e)
            if impl in ("rust-hpy", "pyo3"):
                log("built %s%s with cargo in %.1f s" % (impl, " " + abi if abi else "",
                                                          time.perf_counter() - t))
            return key, d, mod, None

        # the cargo builds (slowest when not cached) first
        builds.sort(key=lambda k: k[0] not in ("rust-hpy", "pyo3"))
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
            built = {}
            for key, d, mod, why in ex.map(do_build, builds):
                if mod is None:
                    for v in variants:
                        if (v[2], v[3]) == key:
                            skipped[v[0]] = why
                            log("%s skipped: %s" % (v[0], why))
                else:
                    built[key] = (d, mod)
        variants = [v for v in variants if v[0] not in skipped]
        log("built in %.1f s" % (time.perf_counter() - t0))

        info = {}
        for v in variants:
            d, mod = built[(v[2], v[3])]
            workers[v[0]] = Worker(v[0], pythons[v[2]], d, mod, v[4])
        for v in variants:
            info[v[0]] = workers[v[0]].ask(cmd="info")
            log("%-22s ctx=%-26r hpy.universal=%s" % (v[0], info[v[0]]["ctx_name"],
                                                       info[v[0]]["hpy_universal"]))
            missing = [b[0] for b in benches if b[0] not in info[v[0]]["benches"]]
            if missing:
                log("%-22s defines no %s ('-' in the tables)"
                    % (v[0], ", ".join(missing) if len(missing) < 4 else
                       "%s, ... (%d benchmarks)" % (missing[0], len(missing))))

        results, samples, numbers = {}, {}, {}
        t0 = time.perf_counter()
        for i, b in enumerate(benches):
            name = b[0]
            here = [v for v in variants if name in info[v[0]]["benches"]]
            for v in here:
                numbers.setdefault(name, {})[v[0]] = (
                    3 if args.smoke else workers[v[0]].ask(cmd="calibrate", bench=name,
                                                          target=target))
            raw = {v[0]: [] for v in here}
            for r in range(repeat):
                k = r % len(here) if here else 0
                for v in here[k:] + here[:k]:
                    raw[v[0]].append(workers[v[0]].ask(cmd="run", bench=name,
                                                        number=numbers[name][v[0]]))
            results[name], samples[name] = {}, raw
            for v in here:
                n = numbers[name][v[0]]
                t = min(s[0] for s in raw[v[0]])
                base = min(s[1] for s in raw[v[0]])
                results[name][v[0]] = max(t - base, 0.0) / n * 1e9
            log("%2d/%d %-16s %s" % (i + 1, len(benches), name, "  ".join(
                "%s=%s" % (v[0], fmt_ns(results[name][v[0]])) for v in here)))
        log("measured in %.1f s" % (time.perf_counter() - t0))
    finally:
        for w in workers.values():
            w.close()
        if args.keep:
            log("build directory kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    machine = machine_info()
    print("\nns per operation (min of %d samples of ~%g ms; ratio to the C API in "
          "parentheses)" % (repeat, target * 1000))
    print("%s, %d CPUs, %s, %s" % (machine["cpu"], machine["cpus"], machine["python"],
                                   machine["os"]))
    by_name = {v[0]: v for v in variants}
    release_v = [v for v in variants if v[5] == "release"]
    rust_v = [v for v in variants if v[5] == "rust"]
    info_v = [v for v in variants if v[5] == "modes"]
    print_table("Release ABIs", release_v, benches, results)
    if rust_v:
        # each Rust variant next to the C HPy variant of its ABI
        cols = [VARIANTS[0]]
        for abi in ("universal", "cpython"):
            cols += [by_name[n] for n in ("hpy-rs-" + abi, "hpy-rs-rust-" + abi)
                     if n in by_name]
        cols += [v for v in rust_v if v not in cols]
        rows = [b for b in benches if any(v[0] in results[b[0]] for v in rust_v)]
        print_table("Written in Rust (#[hpy_def] and PyO3), next to bench_hpy.c of the same "
                    "ABI", cols, rows or benches, results)
        print_rust_targets(variants, rows or benches, results)
    if info_v:
        print_table("Debug and trace modes (informative)", [VARIANTS[0]] + info_v, benches,
                    results)
    pairs = [(a, b) for a in variants for b in variants
             if a[2] == "ours" and b[2] == "upstream" and a[3:5] == b[3:5]]
    if pairs:
        print("\nhpy-rs / upstream, geometric mean over the benchmarks:")
        for a, b in pairs:
            ratios = [results[n[0]][a[0]] / results[n[0]][b[0]] for n in benches
                      if results[n[0]].get(a[0], 0) > 0 and results[n[0]].get(b[0], 0) > 0]
            print("  %-18s %.2fx" % (a[1].replace("hpy-rs ", ""), geomean(ratios)))
    for name, why in skipped.items():
        print("\n%s: skipped: %s" % (name, why.splitlines()[0]))
    print("\nbenchmarks:")
    for b in benches:
        print("  %-16s %s" % (b[0], b[2]))
    if args.smoke:
        print("\n(--smoke: counts too small for the numbers to mean anything)")

    if args.json:
        doc = {"machine": machine, "repeat": repeat, "target_seconds": target,
               "smoke": args.smoke,
               "variants": {v[0]: dict(label=v[1], implementation=v[2], abi=v[3],
                                       mode=v[4], table=v[5], informative=v[5] == "modes",
                                       **info[v[0]])
                            for v in variants},
               "skipped": skipped,
               "benchmarks": {b[0]: {"group": b[1], "description": b[2]} for b in benches},
               "ns_per_op": results, "numbers": numbers, "samples": samples}
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
        log("results written to %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
