#!/usr/bin/env python3
"""Benchmark: the same extension operations through the CPython C API,
upstream HPy 0.9.0 and hpy-rs (in C, and in Rust with `#[hpy_def]`), and
PyO3, measured side by side in one run.

    python3 scripts/bench.py [--quick | --smoke] [--only PATTERN]...
                             [--variants PATTERN[,PATTERN...]]
                             [--repeat N] [--json OUT.json] [--results [DIR]]
    python3 scripts/bench.py --callgrind [--smoke] [--only ...] [--variants ...]

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
  4. prints ns per operation and the ratio to the C API; with --results
     (default directory benches/results/) also writes them as a markdown
     table, results.md (with the command, date, CPU and Python version), and
     a plot of the ratios, results.png (needs matplotlib: without it the
     table is written and the plot skipped, with a message).

--callgrind counts instructions instead of timing (repeatable on a noisy
machine): each variant's worker runs under `valgrind --tool=callgrind`, and
each benchmark is run for a fixed, small number of iterations and for zero
(the `api` loops: one) after a warm-up, the counters zeroed before and
dumped after each run (callgrind client requests, benches/c/callgrind_ctl.c);
the difference divided by the difference in iterations is the instructions
per operation (for `call`/`slot`, minus the same for the empty loop). The
workers run with PYTHONHASHSEED=0 and a large glibc tcache (see Worker), so
that the same command gives the same counts. With --results it writes
callgrind.md and callgrind.png.

Two kinds of benchmark (see bench_hpy.c): `call`/`slot` ones time a Python
loop calling an extension function with a trivial body, minus the same loop
with `pass` (what remains is the call through the extension's trampoline);
`api` ones call a C function that repeats one API operation n times, and the
time per iteration is that operation's cost. The Rust crates define only the
call/slot functions (the `api` loops measure the C API from C); a variant
that lacks a benchmark gets '-' in the tables.

A third kind, `workload`: a Python function doing numeric work with a small
array type, `Array` (benches/c/array_hpy.c, the HPy API, built like
bench_hpy.c for each ABI with each hpy.devel; benches/c/array_capi.c, the
same type against Python.h): RK4 steps of the Lorenz system on Arrays of
doubles, only through the Array's number slots, so that the time goes into
calls into the extension, object creation and deallocation, and the loops
over the doubles. The time is per RK4 step (80 Array operations). Every
variant's result is checked against the C API's (len, [], tolist) before
anything is measured.

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
import shlex
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

# name, group, description, statement, function. `call`/`slot` statements
# run in a timeit loop (N = timeit's number); `api` and `workload` statements
# run once with N passed to the C loop / the Python driver. Names bound in
# the worker: m (the module), f (m.<function>), P (m.Point), p (a Point), o
# (an object with attribute x), name ("x"), lst, tup (8 items each),
# rk4_lorenz, S1000 and S16 (initial states: three Arrays of that many
# doubles, when the variant has the array module).
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
    ("rk4_array", "workload", "one RK4 step, Lorenz system on Arrays of 1000 doubles "
     "(80 Array operations; time per step)", "rk4_lorenz(S1000, N)", None),
    ("rk4_array_16", "workload", "the same on Arrays of 16 doubles (calls, allocation "
     "and deallocation dominate)", "rk4_lorenz(S16, N)", None),
]
GROUPS_RUN_ONCE = ("api", "workload")  # N is passed to the statement

# --callgrind: iterations per measured run (RK4 steps for the workloads;
# default CALLGRIND_NUMBER), and per run when --smoke
CALLGRIND_NUMBER = 2000
CALLGRIND_NUMBERS = {"rk4_array": 10, "rk4_array_16": 100}
CALLGRIND_SMOKE = {"rk4_array": 2, "rk4_array_16": 3}
CALLGRIND_TCACHE_COUNT = 1000  # see Worker

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


# ================================================================ workload

LORENZ_SIGMA, LORENZ_RHO, LORENZ_BETA = 10.0, 28.0, 8.0 / 3.0
RK4_DT = 0.01


def lorenz(x, y, z):
    """The Lorenz system's derivatives (8 Array operations)."""
    return ((y - x) * LORENZ_SIGMA, x * (LORENZ_RHO - z) - y,
            x * y - z * LORENZ_BETA)


def rk4_lorenz(state, steps, dt=RK4_DT):
    """`steps` classic Runge-Kutta steps of the Lorenz system from `state`
    (x, y, z: Arrays, one independent system per index), written as
    piconumpy's RK4 benchmark writes it; every step makes 80 Arrays (each
    operation returns a new one) and frees them. Returns the final state."""
    x, y, z = state
    for _ in range(steps):
        k1x, k1y, k1z = lorenz(x, y, z)
        k1x, k1y, k1z = k1x * dt, k1y * dt, k1z * dt
        k2x, k2y, k2z = lorenz(x + k1x / 2, y + k1y / 2, z + k1z / 2)
        k2x, k2y, k2z = k2x * dt, k2y * dt, k2z * dt
        k3x, k3y, k3z = lorenz(x + k2x / 2, y + k2y / 2, z + k2z / 2)
        k3x, k3y, k3z = k3x * dt, k3y * dt, k3z * dt
        k4x, k4y, k4z = lorenz(x + k3x, y + k3y, z + k3z)
        k4x, k4y, k4z = k4x * dt, k4y * dt, k4z * dt
        x = x + (k1x + 2 * k2x + 2 * k3x + k4x) / 6
        y = y + (k1y + 2 * k2y + 2 * k3y + k4y) / 6
        z = z + (k1z + 2 * k2z + 2 * k3z + k4z) / 6
    return x, y, z


def rk4_initial(A, n):
    """n Lorenz systems near the attractor, slightly apart (Arrays of n
    doubles, built from lists of floats)."""
    return (A([1.0 + 1e-3 * i for i in range(n)]), A([1.0 - 1e-3 * i for i in range(n)]),
            A([20.0 + 1e-2 * i for i in range(n)]))


def rk4_check(A):
    """What every variant must compute alike: 10 steps on 16 doubles, seen
    through len(), [] (also negative) and tolist()."""
    x, y, z = rk4_lorenz(rk4_initial(A, 16), 10)
    return [len(x), len(y), len(z), x[0], y[-1], z[7]] + x.tolist() + y.tolist() + z.tolist()


# ================================================================ worker

def worker(build_dir, module_name, *extra_modules):
    """Runs in the variant's interpreter: imports the module (and the array
    module, if the variant has one), then answers JSON commands (one per line
    on stdin) with one JSON line on stdout."""
    sys.path.insert(0, build_dir)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything else printed must not break the protocol
    m = __import__(module_name)
    A = None
    for name in extra_modules:
        A = getattr(__import__(name), "Array")

    class Obj:
        pass

    o = Obj()
    o.x = 1
    P = getattr(m, "Point", None)
    ns = {"m": m, "P": P, "p": P() if P else None, "o": o, "name": sys.intern("x"),
          "lst": list(range(8)), "tup": tuple(range(8)), "A": A,
          "rk4_lorenz": rk4_lorenz}
    if A is not None:
        ns.update(S1000=rk4_initial(A, 1000), S16=rk4_initial(A, 16))
    benches = {b[0]: b for b in BENCHES}

    def runner(bench):
        """run(n) runs `bench` for n operations; the same compiled loop each
        time (so that it is warm after the first run). For call/slot
        benchmarks, also the empty loop's runner."""
        _, group, _, stmt, func = benches[bench]
        if group in GROUPS_RUN_ONCE:
            g = {"fn": eval("lambda N: " + stmt, ns), "N": 0}
            t = timeit.Timer("fn(N)", globals=g)

            def run(n):
                g["N"] = n
                return t.timeit(1)
            return run, None
        g = dict(ns, f=getattr(m, func) if func else None)
        return timeit.Timer(stmt, globals=g).timeit, timeit.Timer("pass").timeit

    def sample(bench, number):
        """One sample: (total seconds, seconds of the empty loop) for `number`
        operations."""
        run, empty = runner(bench)
        t = run(number)
        return t, empty(number) if empty else 0.0

    def calibrate(bench, target):
        number = 1
        while True:
            t, _ = sample(bench, number)
            if t >= target / 4 or number >= 10**9:
                return max(1, int(number * target / max(t, 1e-9)))
            number *= 10 if t < target / 100 else 2

    cg_state = {"ctl": None, "dumps": 0}  # callgrind_ctl once instrumenting

    def callgrind(bench, number, base, warm):
        """Instructions per operation: (Ir(number) - Ir(base)) / (number -
        base), after `warm` operations, minus the same for the empty loop."""
        import gc
        if cg_state["ctl"] is None:  # the first measurement
            sys.path.insert(0, os.environ["BENCH_CALLGRIND_CTL"])
            import callgrind_ctl
            sys.path.pop(0)
            callgrind_ctl.start_instrumentation()
            cg_state["ctl"] = callgrind_ctl
        cg = cg_state["ctl"]

        def measure(run, n):
            gc.collect()
            cg.zero_stats()
            run(n)
            cg.dump_stats("%s %d" % (bench, n))
            cg_state["dumps"] += 1  # callgrind numbers its dumps <out>.1, .2, ...
            path = "%s.%d" % (os.environ["BENCH_CALLGRIND_OUT"], cg_state["dumps"])
            with open(path) as f:
                ir = next(int(line.split()[1]) for line in f
                          if line.startswith("summary:"))
            if not os.environ.get("BENCH_CALLGRIND_KEEP"):
                os.unlink(path)
            return ir

        run, empty = runner(bench)
        raw = []
        per_op = 0.0
        for sign, r in ((1, run), (-1, empty)):
            if r is None:
                continue
            r(warm)
            n_ir, base_ir = measure(r, number), measure(r, base)
            raw.append([n_ir, base_ir])
            per_op += sign * (n_ir - base_ir) / (number - base)
        return {"ir_per_op": per_op, "raw": raw}

    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "info":
                res = worker_info(m)
                res["benches"] = [b[0] for b in BENCHES if worker_has(m, ns, b)]
                if A is not None:
                    res["array_module_file"] = sys.modules[A.__module__].__file__
                    res["rk4_check"] = rk4_check(A)
            elif cmd["cmd"] == "calibrate":
                res = calibrate(cmd["bench"], cmd["target"])
            elif cmd["cmd"] == "run":
                res = sample(cmd["bench"], cmd["number"])
            elif cmd["cmd"] == "callgrind":
                res = callgrind(cmd["bench"], cmd["number"], cmd["base"], cmd["warm"])
            else:
                raise ValueError(cmd)
            reply = {"ok": res}
        except Exception as e:  # reported to the parent, which stops
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def worker_has(m, ns, bench):
    """Does module `m` (and the array module, ns["A"]) define what `bench`
    calls?"""
    _, group, _, stmt, func = bench
    if group == "workload":
        return ns.get("A") is not None
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
      hpy_ext_modules=[Extension("bench_hpy", sources=["bench_hpy.c"]),
                       Extension("array_hpy", sources=["array_hpy.c"])])
"""
CAPI_SETUP = """\
from setuptools import setup, Extension
setup(name="bench-capi", version="0",
      ext_modules=[Extension("bench_capi", sources=["bench_capi.c"]),
                   Extension("array_capi", sources=["array_capi.c"])])
"""
CALLGRIND_SETUP = """\
from setuptools import setup, Extension
setup(name="bench-callgrind-ctl", version="0",
      ext_modules=[Extension("callgrind_ctl", sources=["callgrind_ctl.c"])])
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


def setup_py_build(python, out_dir, sources, setup_py, args=()):
    """`python setup.py [args] build_ext --inplace` of benches/c/<sources> in
    `out_dir`."""
    out_dir.mkdir(parents=True)
    for src in sources:
        shutil.copy(C_DIR / src, out_dir)
    (out_dir / "setup.py").write_text(setup_py)
    cmd = [str(python), "setup.py", *args, "build_ext", "--inplace"]
    res = subprocess.run(cmd, cwd=out_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if res.returncode != 0:
        raise RuntimeError("build failed (%s, in %s):\n%s" % (" ".join(cmd), out_dir,
                                                              res.stdout[-4000:]))


def build(python, impl, abi, out_dir):
    """Builds one variant's modules in `out_dir` with `python`'s setuptools
    (and hpy.devel), or cargo for the Rust crates; returns the module names
    (the benchmark module, then the array module if the variant has one)."""
    if impl == "rust-hpy":
        cargo()
        out_dir.mkdir(parents=True)
        return [build_rust_hpy(python, abi, out_dir)]
    if impl == "pyo3":
        out_dir.mkdir(parents=True)
        return [build_pyo3(python, out_dir)]
    if impl == "capi":
        modules, setup_py, args = ["bench_capi", "array_capi"], CAPI_SETUP, []
    else:
        modules, setup_py, args = (["bench_hpy", "array_hpy"], HPY_SETUP,
                                   ["--hpy-abi=" + abi])
    setup_py_build(python, out_dir, [m + ".c" for m in modules], setup_py, args)
    return modules


def valgrind():
    """valgrind's path, else SystemExit saying what to install."""
    exe = shutil.which("valgrind")
    if exe is None:
        raise SystemExit("bench: --callgrind needs valgrind (e.g. apt-get install valgrind)")
    return exe


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
    """One variant's worker process. With `callgrind` (a directory holding
    callgrind_ctl for this interpreter, and a file name for the dumps), it
    runs under valgrind --tool=callgrind; `keep`: its dumps are not deleted."""

    def __init__(self, name, python, build_dir, modules, mode, callgrind=None, keep=False):
        self.name = name
        env = dict(os.environ)
        env.pop("HPY", None)
        env.pop("PYTHONPATH", None)
        if mode:
            env["HPY"] = mode
        cmd = [str(python), "-u", str(Path(__file__).resolve()),
               "--worker", str(build_dir), *modules]
        if callgrind:
            ctl_dir, out_file = callgrind
            env["BENCH_CALLGRIND_CTL"] = str(ctl_dir)
            env["PYTHONHASHSEED"] = "0"  # the same dict layouts in every run
            # glibc's per-thread cache large enough for every small buffer that
            # a benchmark frees and takes again: otherwise glibc's path for
            # them (and rk4_array_16's count, by up to 19 %) depends on the
            # heap's history, e.g. on which benchmarks ran before
            env["GLIBC_TUNABLES"] = ":".join(
                [t for t in [env.get("GLIBC_TUNABLES")] if t]
                + ["glibc.malloc.tcache_count=%d" % CALLGRIND_TCACHE_COUNT])
            env["BENCH_CALLGRIND_OUT"] = str(out_file)
            if keep:
                env["BENCH_CALLGRIND_KEEP"] = "1"
            cmd = [valgrind(), "--tool=callgrind", "-q", "--instr-atstart=no",
                   "--callgrind-out-file=%s" % out_file, "--dump-line=no",
                   "--dump-instr=no", "--compress-strings=no"] + cmd
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
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
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except (OSError, AttributeError):
        load = None
    commit = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True).stdout.strip()
        if commit and dirty:
            commit += " + uncommitted changes"
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "os": platform.platform(),
            "python": platform.python_implementation() + " " + platform.python_version(),
            "date": time.strftime("%Y-%m-%d"), "time": time.strftime("%H:%M:%S %z"),
            "load_average": load, "commit": commit}


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


def fmt_ir(ir):
    if ir is None or ir != ir:
        return "-"
    return "%.1f" % ir if abs(ir) < 100 else "{:,.0f}".format(ir)


def table_cells(variants, benches, results, fmt=fmt_ns, geomean_row=True,
                times="x"):
    """The cells of one table, [[first column, cell, ...], ...]: a row per
    benchmark (value, with its ratio to the C API in parentheses), then the
    geometric mean of each variant's ratios over the benchmarks it has."""
    rows = []
    for b in benches:
        row = [b[0]]
        base = results.get(b[0], {}).get("capi")
        for v in variants:
            x = results.get(b[0], {}).get(v[0])
            if x is None:
                row.append("-")
            elif base and v[0] != "capi" and base > 0:
                row.append("%s (%.2f%s)" % (fmt(x), x / base, times))
            else:
                row.append(fmt(x))
        rows.append(row)
    if geomean_row:
        row = ["geomean vs C API"]
        for v in variants:
            if v[0] == "capi":
                row.append("1.00" + times)
                continue
            ratios = [results[b[0]][v[0]] / results[b[0]]["capi"] for b in benches
                      if results.get(b[0], {}).get(v[0]) and results[b[0]].get("capi")
                      and results[b[0]]["capi"] > 0]
            row.append("%.2f%s" % (geomean(ratios), times) if ratios else "-")
        rows.append(row)
    return rows


def print_table(title, variants, benches, results, out=sys.stdout, fmt=fmt_ns,
                geomean_row=True):
    cols = [v[1] for v in variants]
    rows = table_cells(variants, benches, results, fmt, geomean_row)
    w0 = max(len(r[0]) for r in rows) + 2
    w = max(18, max(len(c) for c in cols) + 2, max(len(c) for r in rows for c in r[1:]) + 2)
    print("\n" + title, file=out)
    print("benchmark".ljust(w0) + "".join(c.rjust(w) for c in cols), file=out)
    for r in rows:
        print(r[0].ljust(w0) + "".join(c.rjust(w) for c in r[1:]), file=out)


def md_table(variants, benches, results, fmt=fmt_ns, geomean_row=True):
    """The same table in markdown (lines)."""
    lines = ["| benchmark | " + " | ".join(v[1] for v in variants) + " |",
             "|---|" + "---:|" * len(variants)]
    for r in table_cells(variants, benches, results, fmt, geomean_row, times="×"):
        first = r[0] if r[0].startswith("geomean") else "`%s`" % r[0]
        lines.append("| " + " | ".join([first] + r[1:]) + " |")
    return lines


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


def report_tables(variants, benches, results, unit):
    """The tables to show: (title, variants, benchmarks, geomean row?). The
    microbenchmarks: the release ABIs; each Rust variant next to the C HPy
    variant of its ABI; the debug and trace modes. The workloads in a table
    of their own (not in any geomean)."""
    by_name = {v[0]: v for v in variants}
    capi = [by_name["capi"]] if "capi" in by_name else []
    micro = [b for b in benches if b[1] != "workload"]
    work = [b for b in benches if b[1] == "workload"]
    release_v = [v for v in variants if v[5] == "release"]
    rust_v = [v for v in variants if v[5] == "rust"]
    modes_v = [v for v in variants if v[5] == "modes"]
    tables = []
    if micro:
        tables.append(("Release ABIs (%s per operation)" % unit, release_v, micro, True))
        if rust_v:
            cols = list(capi)
            for abi in ("universal", "cpython"):
                cols += [by_name[n] for n in ("hpy-rs-" + abi, "hpy-rs-rust-" + abi)
                         if n in by_name]
            cols += [v for v in rust_v if v not in cols]
            rows = [b for b in micro if any(v[0] in results.get(b[0], {}) for v in rust_v)]
            tables.append(("Written in Rust (#[hpy_def] and PyO3), next to bench_hpy.c of "
                           "the same ABI (%s per operation)" % unit, cols, rows or micro,
                           True))
        if modes_v:
            tables.append(("Debug and trace modes, informative (%s per operation)" % unit,
                           capi + modes_v, micro, True))
    if work:
        cols = [v for v in variants
                if any(v[0] in results.get(b[0], {}) for b in work)]
        tables.append(("Workloads (%s per RK4 step)" % unit, cols, work, False))
    return tables


def upstream_pairs(variants, benches, results):
    """(label, geomean of hpy-rs / upstream) per ABI and mode, over the
    microbenchmarks."""
    out = []
    for a in variants:
        for b in variants:
            if a[2] == "ours" and b[2] == "upstream" and a[3:5] == b[3:5]:
                ratios = [results[n[0]][a[0]] / results[n[0]][b[0]] for n in benches
                          if n[1] != "workload"
                          and results.get(n[0], {}).get(a[0], 0) > 0
                          and results[n[0]].get(b[0], 0) > 0]
                if ratios:
                    out.append((a[1].replace("hpy-rs ", ""), geomean(ratios)))
    return out


# ================================================================ results

def plot_results(path, variants, benches, results, unit, title):
    """results.png: each variant's ratio to the C API per benchmark, as a bar
    from 1x, on a log scale; the release ABIs and the Rust variants on the
    left, the debug and trace modes (much slower) on the right. Returns a
    message when matplotlib is missing (the plot is then not written)."""
    try:
        if os.environ.get("HPY_BENCH_NO_MATPLOTLIB"):
            raise ImportError("HPY_BENCH_NO_MATPLOTLIB is set")
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    except ImportError as e:
        return "matplotlib is not installed (%s): %s not written (pip install matplotlib)" \
            % (e, path.name)
    rows = [b for b in benches if any(v[0] != "capi" and results.get(b[0], {}).get(v[0])
                                      and results[b[0]].get("capi") for v in variants)]
    panels = [("release ABIs and Rust authoring",
               [v for v in variants if v[5] in ("release", "rust") and v[0] != "capi"]),
              ("debug and trace modes",
               [v for v in variants if v[5] == "modes"])]
    panels = [(t, vs) for t, vs in panels
              if any(results.get(b[0], {}).get(v[0]) for b in rows for v in vs)]
    if not rows or not panels:
        return "nothing to plot: %s not written" % path.name
    colors = {"hpy-rs-universal": "#1f77b4", "hpy-rs-cpython": "#6baed6",
              "upstream-universal": "#d62728", "upstream-cpython": "#fc9272",
              "hpy-rs-rust-universal": "#2ca02c", "hpy-rs-rust-cpython": "#98df8a",
              "pyo3": "#9467bd", "hpy-rs-debug": "#1f77b4", "upstream-debug": "#d62728",
              "hpy-rs-trace": "#6baed6", "upstream-trace": "#fc9272"}
    row_h = 0.42 + 0.07 * max(len(vs) for _, vs in panels)
    ax_h = row_h * len(rows)
    fig_h = 1.6 + ax_h
    fig, axes = plt.subplots(1, len(panels), figsize=(7.2 * len(panels), fig_h),
                             sharey=True, squeeze=False)
    ys = {b[0]: len(rows) - 1 - i for i, b in enumerate(rows)}  # first row on top
    for ax, (ptitle, vs) in zip(axes[0], panels):
        k = len(vs)
        h = 0.8 / k
        lo, hi = 1.0, 1.0
        for j, v in enumerate(vs):
            ys_v, rs = [], []
            for b in rows:
                x, base = results.get(b[0], {}).get(v[0]), results[b[0]].get("capi")
                if x and base and base > 0 and x > 0:
                    ys_v.append(ys[b[0]] + 0.4 - h * (j + 0.5))
                    rs.append(x / base)
                    if b[1] == "workload":  # the workloads' ratios, written out
                        ax.annotate("%.2f×" % rs[-1], (max(rs[-1], 1.0), ys_v[-1]),
                                    xytext=(3, 0), textcoords="offset points",
                                    va="center", fontsize=6.5, color="0.25")
            if not rs:
                continue
            lo, hi = min(lo, min(rs)), max(hi, max(rs))
            ax.barh(ys_v, [r - 1.0 for r in rs], left=1.0, height=h * 0.92,
                    color=colors.get(v[0], "C%d" % j), label=v[1],
                    hatch="//" if v[4] == "trace" else None, edgecolor="white",
                    linewidth=0.3)
        ax.set_xscale("log")
        ax.set_xlim(min(lo / 1.2, 0.8), max(hi * 1.2, 1.25))
        ax.axvline(1.0, color="black", linewidth=1.0)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        if hi / lo < 20:  # a narrow range: more labels
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0,
                                                                 7.0)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda x, _: ("%g×" % x) if x >= 0.01 else ""))
        ax.grid(axis="x", which="major", linestyle=":", color="0.6")
        ax.set_axisbelow(True)
        for i in range(len(rows) - 1):
            ax.axhline(i + 0.5, color="0.9", linewidth=0.5)
        n_micro = sum(1 for b in rows if b[1] != "workload")
        if 0 < n_micro < len(rows):
            ax.axhline(len(rows) - n_micro - 0.5, color="0.3", linewidth=1.0)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_title(ptitle, fontsize=11)
        ax.set_xlabel("%s relative to the C API (log scale; < 1× is %s)" % (
            "instructions" if unit == "Ir" else "time", "fewer" if unit == "Ir" else
            "faster"), fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6 / ax_h), ncol=min(k, 4),
                  fontsize=8, frameon=False)
    ax0 = axes[0][0]
    ax0.set_yticks([ys[b[0]] for b in rows])
    ax0.set_yticklabels([b[0] for b in rows], fontsize=9, family="monospace")
    for label, b in zip(ax0.get_yticklabels(), rows):
        if b[1] == "workload":
            label.set_fontweight("bold")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig_h))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return None


def write_results(out_dir, stem, variants, benches, results, unit, fmt, meta, skipped,
                  pairs, notes):
    """<out_dir>/<stem>.md (the tables, with the command, date, CPU, Python)
    and <stem>.png (the ratios, if matplotlib is there). Returns the paths
    written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, png = out_dir / (stem + ".md"), out_dir / (stem + ".png")
    m = meta["machine"]
    title = "hpy-rs benchmarks (%s): %s, %d CPUs, %s, %s" % (
        unit, m["cpu"], m["cpus"], m["python"], m["date"])
    why = plot_results(png, variants, benches, results, unit, title)
    if why:
        log(why)
        if png.exists():
            png.unlink()
            log("removed the stale %s (it would not match %s)" % (png, md.name))
    lines = ["# hpy-rs benchmarks: %s" % ("instructions per operation (callgrind)"
                                          if unit == "Ir" else "time per operation"),
             "",
             "Made by `scripts/bench.py` (see README.md, \"Benchmarks\"); regenerate with:",
             "",
             "```sh",
             meta["command"],
             "```",
             "",
             "| | |", "|---|---|",
             "| date | %s %s |" % (m["date"], m["time"]),
             "| CPU | %s, %d CPUs |" % (m["cpu"], m["cpus"]),
             "| Python | %s |" % m["python"],
             "| OS | %s |" % m["os"],
             "| commit | %s |" % (m["commit"] or "?"),
             "| load average at start | %s |" % (m["load_average"] or "?"),
             "| method | %s |" % meta["method"],
             "| duration | %s |" % meta["duration"],
             ""]
    if meta.get("smoke"):
        lines += ["**--smoke run: the counts are too small for the numbers to mean "
                  "anything.**", ""]
    for t, vs, bs, gm in report_tables(variants, benches, results, unit):
        lines += ["## " + t, ""] + md_table(vs, bs, results, fmt, gm) + [""]
    if pairs:
        lines += ["hpy-rs / upstream, geometric mean over the microbenchmarks: "
                  + ", ".join("%s %.2f×" % p for p in pairs) + ".", ""]
    for line in notes:
        lines += [line, ""]
    for name, reason in skipped.items():
        lines += ["`%s` skipped: %s" % (name, reason.splitlines()[0]), ""]
    lines += ["## Benchmarks", ""]
    lines += ["- `%s` (%s): %s" % (b[0], b[1], b[2]) for b in benches]
    lines += [""]
    if not why:
        lines += ["## Plot", "", "![%s relative to the C API](%s)" % (unit, png.name), ""]
    else:
        lines += ["(no plot: %s)" % why, ""]
    md.write_text("\n".join(lines))
    log("results written to %s%s" % (md, "" if why else " and " + png.name))
    return [md] + ([] if why else [png])


# ================================================================ main

def callgrind_counts(bench, smoke):
    """(iterations, base iterations, warm-up iterations) of one --callgrind
    measurement. The `api` loops run at least once (the argparse ones parse
    before looping), so their base is 1."""
    name, group = bench[0], bench[1]
    if smoke:
        number = CALLGRIND_SMOKE.get(name, 20)
    else:
        number = CALLGRIND_NUMBERS.get(name, CALLGRIND_NUMBER)
    base = 1 if group == "api" else 0
    warm = (1 if smoke else 5) if group == "workload" else min(number, 100)
    return number, base, warm


def measure_timed(workers, variants, benches, info, args, repeat, target):
    """The timed samples, round-robin over the variants; the min is kept."""
    results, samples, numbers = {}, {}, {}
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
    return results, samples, numbers


def measure_callgrind(workers, variants, benches, info, smoke):
    """Instructions per operation, each variant's worker (under callgrind)
    driven by a thread of its own."""
    def one(v):
        t0 = time.perf_counter()
        res, raw = {}, {}
        for b in benches:
            if b[0] not in info[v[0]]["benches"]:
                continue
            number, base, warm = callgrind_counts(b, smoke)
            r = workers[v[0]].ask(cmd="callgrind", bench=b[0], number=number, base=base,
                                  warm=warm)
            res[b[0]], raw[b[0]] = r["ir_per_op"], dict(
                number=number, base=base, warm=warm, ir=r["raw"])
        log("%-22s %5.1f s  %s" % (v[0], time.perf_counter() - t0, "  ".join(
            "%s=%s" % (k, fmt_ir(x)) for k, x in res.items())))
        return v[0], res, raw

    results, samples = {b[0]: {} for b in benches}, {b[0]: {} for b in benches}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        for name, res, raw in ex.map(one, variants):
            for b, x in res.items():
                results[b][name] = x
                samples[b][name] = raw[b]
    return ({b: r for b, r in results.items() if r},
            {b: r for b, r in samples.items() if r})


def check_rk4(variants, info):
    """Every variant with the array module computes what the C API does."""
    ref = info.get("capi", {}).get("rk4_check")
    bad = []
    for v in variants:
        got = info[v[0]].get("rk4_check")
        if ref is None or got is None:
            continue
        if len(got) != len(ref) or not all(
                math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300) for a, b in zip(got, ref)):
            bad.append(v[0])
    if bad:
        raise RuntimeError("rk4 workload: %s compute(s) something else than the C API "
                           "(array_hpy.c and array_capi.c must agree): %s vs %s"
                           % (", ".join(bad), info[bad[0]]["rk4_check"][:8], ref[:8]))
    if ref is not None:
        log("rk4 workload: every variant computes what the C API does (%d values)"
            % len(ref))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
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
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions per operation under valgrind --tool=callgrind "
                    "(fixed iteration counts) instead of timing")
    ap.add_argument("--json", metavar="OUT", help="write all results to this file")
    ap.add_argument("--results", nargs="?", const=str(REPO / "benches" / "results"),
                    metavar="DIR", help="write results.md (the tables, the command, date, "
                    "CPU, Python) and results.png (the ratios; needs matplotlib) to DIR "
                    "(default: benches/results); with --callgrind callgrind.md/.png")
    ap.add_argument("--keep", action="store_true", help="keep the build directory (and "
                    "with --callgrind the dumps, <variant>.cg.<n>, for callgrind_annotate)")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        worker(*args.worker)
        return 0

    t_start = time.perf_counter()
    command = "python3 scripts/bench.py" + "".join(" " + shlex.quote(a) for a in argv)
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
    if args.callgrind:
        valgrind()
    machine = machine_info()  # before the builds load the machine

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
            if impl == "callgrind_ctl":  # abi: the interpreter
                d = tmp / ("callgrind-ctl-%d" % sorted(set(pythons.values())).index(abi))
                try:
                    setup_py_build(abi, d, ["callgrind_ctl.c"], CALLGRIND_SETUP)
                except RuntimeError as e:
                    if "callgrind.h" in str(e):
                        raise SystemExit("bench: --callgrind needs valgrind's headers "
                                         "(<valgrind/callgrind.h>: valgrind-dev or "
                                         "valgrind-devel)")
                    raise
                return key, d, [], None
            d = tmp / ("%s-%s" % (impl, abi or impl))
            t = time.perf_counter()
            try:
                mods = build(pythons[impl], impl, abi, d)
            except Skip as e:
                return key, d, None, str(e)
            if impl in ("rust-hpy", "pyo3"):
                log("built %s%s with cargo in %.1f s" % (impl, " " + abi if abi else "",
                                                          time.perf_counter() - t))
            return key, d, mods, None

        # the cargo builds (slowest when not cached) first
        builds.sort(key=lambda k: k[0] not in ("rust-hpy", "pyo3"))
        if args.callgrind:
            builds += [("callgrind_ctl", p) for p in
                       sorted({pythons[v[2]] for v in variants})]
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
            built = {}
            for key, d, mods, why in ex.map(do_build, builds):
                if mods is None:
                    for v in variants:
                        if (v[2], v[3]) == key:
                            skipped[v[0]] = why
                            log("%s skipped: %s" % (v[0], why))
                else:
                    built[key] = (d, mods)
        variants = [v for v in variants if v[0] not in skipped]
        log("built in %.1f s" % (time.perf_counter() - t0))

        info = {}
        t0 = time.perf_counter()
        for v in variants:
            d, mods = built[(v[2], v[3])]
            cg = None
            if args.callgrind:
                cg = (built[("callgrind_ctl", pythons[v[2]])][0], tmp / ("%s.cg" % v[0]))
            workers[v[0]] = Worker(v[0], pythons[v[2]], d, mods, v[4], callgrind=cg,
                                   keep=args.keep)
        for v in variants:
            info[v[0]] = workers[v[0]].ask(cmd="info")
            log("%-22s ctx=%-26r hpy.universal=%s" % (v[0], info[v[0]]["ctx_name"],
                                                       info[v[0]]["hpy_universal"]))
            missing = [b[0] for b in benches if b[0] not in info[v[0]]["benches"]]
            if missing:
                log("%-22s defines no %s ('-' in the tables)"
                    % (v[0], ", ".join(missing) if len(missing) < 4 else
                       "%s, ... (%d benchmarks)" % (missing[0], len(missing))))
        if args.callgrind:
            log("workers started under callgrind in %.1f s" % (time.perf_counter() - t0))
        check_rk4(variants, info)

        t0 = time.perf_counter()
        numbers = {}
        if args.callgrind:
            results, samples = measure_callgrind(workers, variants, benches, info,
                                                 args.smoke)
        else:
            results, samples, numbers = measure_timed(workers, variants, benches, info,
                                                      args, repeat, target)
        log("measured in %.1f s" % (time.perf_counter() - t0))
    finally:
        for w in workers.values():
            w.close()
        if args.keep:
            log("build directory kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    duration = time.perf_counter() - t_start

    unit, fmt = ("Ir", fmt_ir) if args.callgrind else ("ns", fmt_ns)
    if args.callgrind:
        counts = CALLGRIND_SMOKE if args.smoke else CALLGRIND_NUMBERS
        method = ("instructions (callgrind Ir) per operation: (Ir(N) - Ir(base)) / (N - base) "
                  "after a warm-up, N = %d (%s steps), base 0 (api loops: 1); call/slot minus "
                  "the empty loop; workers with PYTHONHASHSEED=0 and GLIBC_TUNABLES="
                  "glibc.malloc.tcache_count=%d" % (
                      20 if args.smoke else CALLGRIND_NUMBER,
                      ", ".join("%s: %d" % kv for kv in counts.items()),
                      CALLGRIND_TCACHE_COUNT))
        print("\ninstructions per operation (callgrind; ratio to the C API in parentheses)")
    else:
        method = ("min of %d samples of ~%g ms, round-robin over the variants; call/slot "
                  "minus the empty loop" % (repeat, target * 1000))
        print("\nns per operation (min of %d samples of ~%g ms; ratio to the C API in "
              "parentheses)" % (repeat, target * 1000))
    print("%s, %d CPUs, %s, %s" % (machine["cpu"], machine["cpus"], machine["python"],
                                   machine["os"]))
    for title, vs, bs, gm in report_tables(variants, benches, results, unit):
        print_table(title, vs, bs, results, fmt=fmt, geomean_row=gm)
        if title.startswith("Written in Rust") and not args.callgrind:
            print_rust_targets(variants, bs, results)
    pairs = upstream_pairs(variants, benches, results)
    if pairs:
        print("\nhpy-rs / upstream, geometric mean over the microbenchmarks:")
        for label, g in pairs:
            print("  %-18s %.2fx" % (label, g))
    for name, why in skipped.items():
        print("\n%s: skipped: %s" % (name, why.splitlines()[0]))
    print("\nbenchmarks:")
    for b in benches:
        print("  %-16s %s" % (b[0], b[2]))
    if args.smoke:
        print("\n(--smoke: counts too small for the numbers to mean anything)")
    log("total %.0f s" % duration)

    if args.json:
        doc = {"machine": machine, "command": command, "mode":
               "callgrind" if args.callgrind else "time", "repeat": repeat,
               "target_seconds": target, "smoke": args.smoke,
               "variants": {v[0]: dict(label=v[1], implementation=v[2], abi=v[3],
                                       mode=v[4], table=v[5], informative=v[5] == "modes",
                                       **info[v[0]])
                            for v in variants},
               "skipped": skipped,
               "benchmarks": {b[0]: {"group": b[1], "description": b[2]} for b in benches},
               ("ir_per_op" if args.callgrind else "ns_per_op"): results,
               "numbers": numbers, "samples": samples}
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
        log("results written to %s" % args.json)
    if args.results:
        notes = []
        if any(b[1] == "workload" for b in benches):
            notes.append("Workloads: %s per RK4 step of the Lorenz system (80 Array "
                         "operations, each making a new Array); every variant's result was "
                         "checked against the C API's." % unit)
        write_results(Path(args.results), "callgrind" if args.callgrind else "results",
                      variants, benches, results, unit, fmt,
                      {"machine": machine, "command": command, "method": method,
                       "duration": "%.0f s (builds included)" % duration,
                       "smoke": args.smoke},
                      skipped, pairs, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
