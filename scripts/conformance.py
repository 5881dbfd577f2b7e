#!/usr/bin/env python3
"""Conformance runner: upstream HPy 0.9.0's own test suite against the `hpy`
installed in the test interpreter (normally ours, from `pip install .`).

    python3 scripts/conformance.py [--abi MODE]... [--files PATTERN]...
                                   [-n N] [--timeout SECONDS] [--python PATH]
                                   [--all-failures] [-- extra pytest args]

It downloads upstream's sdist (`pip download --no-binary :all: --no-deps
hpy==0.9.0`, cached in .cache/), copies its test/ directory, unmodified, to a
directory where upstream's own hpy/ package is NOT importable, runs it with
pytest + pytest-xdist and prints a pass/fail/skip/error table per ABI mode.
The table and the failing tests are also written to
.cache/conformance-report.txt and .cache/conformance-report.json.

The only excluded tests are listed in tests/conformance/environmental.txt,
one per line with the environmental reason. See docs/conformance-environment.md.
Upstream's test_distutils.py pip-installs "the package of the tree test/ sits
in": with hpy-rs under test the run directory is a copy of this checkout, and
the file runs in a pytest run of its own (serial, longer timeout: the install
builds our Rust workspace); --without-distutils leaves it out.

Exit status:
  0  every selected test passed (or was skipped by upstream's own conditions);
  1  any test failed, errored, crashed or timed out, a file could not be
     collected, the session ended early, or no test ran at all: a regression
     anywhere in upstream's suite is a red run. The only way to accept a
     failing test is to list its id, with a reason, in environmental.txt;
  2  the runner itself could not do its job (download, missing tools, no hpy
     installed, pytest usage error, ...).
"""
import argparse
import collections
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "tests" / "conformance"
ENVIRONMENTAL = HERE / "environmental.txt"
DEVIATIONS = HERE / "deviations.txt"
PLUGIN = "hpyrs_conformance_plugin"
MODES = ["cpython", "universal", "debug", "hybrid", "hybrid+debug", "trace",
         "hybrid+trace"]
# upstream's tests of the setuptools integration: each pip-installs "the
# package of the tree test/ sits in" (support.HPY_ROOT) into a fresh venv
DISTUTILS_TESTS = "test/hpy_devel/test_distutils.py"
# their per-test timeout: the first test builds the venv template, whose
# `pip install` of our checkout compiles the Rust workspace from scratch
# (more than 300 s on 2 busy cores)
DISTUTILS_TIMEOUT = 1800
NO_ABI = "(no abi)"
TEST_TOOLS = {"pytest": "pytest", "xdist": "pytest-xdist", "filelock": "filelock",
              "pytest_timeout": "pytest-timeout"}


class RunnerError(Exception):
    pass


def log(msg):
    print("[conformance] " + msg, flush=True)


# ---------------------------------------------------------------- setup

def cache_dir(args):
    if args.cache:
        os.environ["HPY_RS_CACHE"] = str(Path(args.cache).resolve())
    return Path(os.environ.get("HPY_RS_CACHE", REPO / ".cache"))


def get_sdist(cache):
    """The extracted upstream sdist; tests/python/upstream.py does the
    download (`pip download --no-binary :all: --no-deps hpy==0.9.0`) and
    reuses an existing extraction."""
    target = cache / "hpy-0.9.0"
    if (target / "test" / "conftest.py").exists():
        return target
    ensure_tools(sys.executable, ["filelock"])
    sys.path.insert(0, str(REPO / "tests" / "python"))
    try:
        import upstream
    finally:
        sys.path.pop(0)
    try:
        target = upstream.sdist_dir()
    except subprocess.CalledProcessError as e:
        raise RunnerError("could not download upstream's sdist: %s" % e)
    if not (target / "test" / "conftest.py").exists():
        raise RunnerError("no test/conftest.py in %s" % target)
    return target


def ensure_tools(python, modules):
    missing = []
    for mod in modules:
        r = subprocess.run([python, "-c", "import " + mod], capture_output=True)
        if r.returncode != 0:
            missing.append(TEST_TOOLS.get(mod, mod))
    if missing:
        log("installing %s into %s" % (" ".join(missing), python))
        r = subprocess.run([python, "-m", "pip", "install", "-q"] + missing)
        if r.returncode != 0:
            raise RunnerError("pip install %s failed" % " ".join(missing))


def read_environmental():
    """[(entry, reason)] from tests/conformance/environmental.txt. An entry is
    a path under test/ (a file or directory: --ignore) or a test id
    (test/...::name: --deselect). Every entry needs a reason after '#'."""
    entries = []
    for n, line in enumerate(ENVIRONMENTAL.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entry, sep, reason = line.partition("#")
        if not sep or not reason.strip():
            raise RunnerError("%s:%d: no reason given for %r (write `ENTRY  # reason`)"
                              % (ENVIRONMENTAL, n, entry.strip()))
        entries.append((entry.strip(), reason.strip()))
    return entries


def add_checkout(work):
    """Make the run directory a copy of our checkout around test/, so that
    test_distutils pip-installs our package (hpy-rs keeps the import package
    under python/hpy: nothing at the top shadows the installed hpy)."""
    for f in checkout_files():
        if f.split("/", 1)[0] in ("test", "pytest.ini"):
            raise RunnerError("%s/%s would overwrite upstream's test/ or the runner's "
                              "pytest.ini in the run directory" % (REPO, f))
        (work / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(str(REPO / f), str(work / f))
    if (work / "hpy").exists():
        raise RunnerError("%s/hpy exists: it would shadow the installed hpy" % work)


def checkout_files():
    """The files of our checkout a `pip install` of it uses: tracked and
    untracked ones, less what .gitignore names (target/, build/, ...)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"],
                             cwd=str(REPO), check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise RunnerError("cannot list the files of %s for test_distutils (git ls-files): %s"
                          % (REPO, e))
    return [f for f in out.decode().split("\0") if f and (REPO / f).is_file()]


def prepare_workdir(cache, test_src):
    """Copy test/ (pristine, every run) into a directory whose parent holds no
    hpy/ package: pytest puts the parent of the test/ package on sys.path
    (rootdir-based 'prepend' import mode) and upstream's support.py uses it
    as HPY_ROOT: for its .hpy.lock, and in test_distutils as the package to
    `pip install` into each test's venv (see add_checkout).
    The pytest.ini is empty like upstream's configuration (upstream has none);
    it stops pytest from picking up our repo's pyproject.toml as rootdir."""
    # one fresh directory per run, so that concurrent runs (e.g. ours and
    # upstream's with --python) never share a copy; removed after the run
    (cache / "conformance-run").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=str(cache / "conformance-run")))
    dst = work / "test"
    shutil.copytree(test_src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (work / "pytest.ini").write_text(
        "# written by scripts/conformance.py: upstream's sdist has no pytest\n"
        "# configuration; this empty one only pins rootdir here.\n[pytest]\n")
    if (work / "hpy").exists():
        raise RunnerError("%s/hpy exists: it would shadow the installed hpy" % work)
    return work


def preflight(python, work, sdist, env):
    """Which hpy the tests will import (from the work dir, like pytest)."""
    code = textwrap.dedent("""
        import importlib.util, json, hpy
        info = {"hpy": list(getattr(hpy, "__path__", []))}
        # hpy.devel.rust: only hpy-rs ever shipped it
        info["hpy-rs"] = importlib.util.find_spec("hpy.devel.rust") is not None
        for m in ("hpy.universal", "hpy.devel"):
            try:
                mod = __import__(m, fromlist=["x"])
                info[m] = mod.__file__
            except Exception as e:
                info[m] = "IMPORT ERROR: %s: %s" % (type(e).__name__, e)
        print(json.dumps(info))
    """)
    r = subprocess.run([python, "-c", code], cwd=str(work), env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RunnerError("`import hpy` fails under %s (did you `pip install .`?):\n%s"
                          % (python, r.stderr.strip()))
    info = json.loads(r.stdout.strip().splitlines()[-1])
    for p in info["hpy"]:
        rp = Path(p).resolve()
        if rp == sdist.resolve() / "hpy" or sdist.resolve() in rp.parents:
            raise RunnerError("the tests would import upstream's sdist copy of hpy (%s)" % p)
    return info


# ---------------------------------------------------------------- running

def select_files(work, patterns):
    """Paths (relative to work) of test files matching the --files patterns:
    a glob on the path under test/ or on the file name; `::` ids pass through."""
    if not patterns:
        return ["test"]
    files = sorted(p.relative_to(work / "test").as_posix()
                   for p in (work / "test").rglob("test_*.py"))
    out = []
    for pat in patterns:
        if "::" in pat:
            out.append(pat if pat.startswith("test/") else "test/" + pat)
            continue
        pat = pat[len("test/"):] if pat.startswith("test/") else pat
        hits = [f for f in files if fnmatch.fnmatch(f, pat)
                or fnmatch.fnmatch(Path(f).name, pat) or f.startswith(pat.rstrip("/") + "/")]
        if not hits:
            raise RunnerError("--files %r matches no test file under test/" % pat)
        out += ["test/" + f for f in hits if "test/" + f not in out]
    return out


def pytest_passes(args, work, excluded):
    """The pytest runs of this run: [(files, serial, timeout)]. Upstream's
    test_distutils gets a run of its own, without xdist (each worker would
    build its own venv template, i.e. pip-install hpy-rs from the checkout
    copy: minutes of cargo each; its subprocesses hold one file lock anyway)
    and with DISTUTILS_TIMEOUT for the test that builds the template."""
    files = select_files(work, args.files)
    if DISTUTILS_TESTS in {entry for entry, _ in excluded}:
        return [(files, False, args.timeout)]
    distutils = [f for f in files if f.split("::")[0] == DISTUTILS_TESTS]
    if files == ["test"]:
        distutils = [DISTUTILS_TESTS]
    main = [f for f in files if f not in distutils]
    passes = [(main, False, args.timeout)] if main else []
    if distutils:
        timeout = max(args.timeout, DISTUTILS_TIMEOUT) if args.timeout else 0
        passes.append((distutils, True, timeout))
    return passes


def run_pytest(args, python, work, env, results, pytest_log, not_here=()):
    """Run the passes of pytest_passes, appending to one results file and one
    log; returns pytest's worst exit status and the time taken."""
    excluded = read_environmental() + list(not_here)
    passes = pytest_passes(args, work, excluded)
    start = time.time()
    statuses = []
    for n, (files, serial, timeout) in enumerate(passes):
        skip = list(excluded)
        if len(passes) > 1 and not serial:
            skip.append((DISTUTILS_TESTS, "has a run of its own"))
        statuses.append(run_pass(args, python, work, env, results, pytest_log, files,
                                 serial, timeout, skip, append=n > 0))
    # 5: nothing collected (e.g. --abi leaves no test of a pass)
    ran = [rc for rc in statuses if rc != 5]
    return (max(ran) if ran else 5), time.time() - start


def run_pass(args, python, work, env, results, pytest_log, files, serial, timeout,
             excluded, append):
    cmd = [*args.wrapper, python, "-m", "pytest", *files,
           "-p", PLUGIN, "--conformance-out", str(results),
           "-p", "no:cacheprovider", "--rootdir", str(work),
           "-rN", "--tb=short", "-q",
           # a test file that fails to import (e.g. a missing hpy.trace) is
           # reported as a collection error; the other files still run
           "--continue-on-collection-errors"]
    if args.n and args.n > 0 and not serial:
        # a worker that segfaults is replaced and the test reported failed;
        # never give up on restarting (the default limit is 4 * workers)
        cmd += ["-n", str(args.n), "--max-worker-restart", "1000000"]
    else:
        cmd += ["-p", "no:xdist"]
    if timeout and timeout > 0:
        cmd += ["--timeout", str(timeout)]
    for entry, _reason in excluded:
        if "::" in entry:
            cmd += ["--deselect", entry]
        else:
            cmd += ["--ignore", entry]
    if args.abi:
        cmd += ["--conformance-abi", ",".join("none" if a in ("none", NO_ABI) else a
                                              for a in args.abi)]
    cmd += args.pytest_args
    log("running: " + " ".join(cmd))
    log("in %s; pytest output: %s" % (work, pytest_log))
    start = time.time()
    with open(pytest_log, "a" if append else "w") as out:
        proc = subprocess.Popen(cmd, cwd=str(work), env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        stop = threading.Event()

        def progress():
            while not stop.wait(15):
                done = 0
                try:
                    with open(results) as f:
                        done = sum(1 for l in f if '"when": "call"' in l
                                   or '"when": "???"' in l)
                except OSError:
                    pass
                log("... %d tests done, %ds" % (done, time.time() - start))
        t = threading.Thread(target=progress, daemon=True)
        if not args.quiet:
            t.start()
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            raise
        finally:
            stop.set()
    log("pytest exited with %d after %.0fs" % (rc, time.time() - start))
    return rc


# ---------------------------------------------------------------- results

def read_deviations():
    """[(test id, expected failure text, reason)] from
    tests/conformance/deviations.txt: upstream tests whose assertion
    contradicts a behaviour hpy-rs has on purpose. Each runs; it must fail
    with a message containing the expected text (then it counts as a
    deviation, not a failure); passing, or failing otherwise, fails the run."""
    entries = []
    for n, line in enumerate(DEVIATIONS.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        body, sep, reason = line.partition("#")
        test, sep2, expected = body.partition("~")
        if not sep or not reason.strip() or not sep2 or not expected.strip():
            raise RunnerError("%s:%d: write `TEST_ID ~ expected failure text  # reason`"
                              % (DEVIATIONS, n))
        entries.append((test.strip(), expected.strip(), reason.strip()))
    return entries


def apply_deviations(results):
    """Marks the listed deviations (see read_deviations) in ``results``."""
    for test, expected, reason in read_deviations():
        for nodeid, r in results.items():
            if nodeid != test and not nodeid.startswith(test + "["):
                continue
            if r["outcome"] == "failed" and not r["tag"] and expected in r["message"]:
                r["outcome"], r["tag"] = "deviation", reason
            elif r["outcome"] != "skipped":
                r["message"] = ("listed in %s as failing with %r, but %s: %s" % (
                    DEVIATIONS.name, expected, r["outcome"], r["message"][:200]))
                r["outcome"], r["tag"] = "error", "listed deviation"


def abi_of(nodeid, recorded):
    if recorded:
        return recorded
    if nodeid.endswith("]") and "[" in nodeid:
        params = nodeid[nodeid.index("[") + 1:-1].split("-")
        for p in params:
            if p in MODES:
                return p
    return NO_ABI


def classify(records):
    """One outcome per test id: passed / failed / error / skipped, plus a tag
    (crashed / timeout / xfail / not run) and a short message."""
    tests = collections.OrderedDict()
    collected, collect_errors, finish, start = [], [], None, None
    for r in records:
        kind = r.get("kind")
        if kind == "test":
            t = tests.setdefault(r["nodeid"], {"reports": [], "abi": None})
            t["reports"].append(r)
            t["abi"] = t["abi"] or r.get("abi")
        elif kind == "collected":
            for i in r["ids"]:
                if i not in collected:
                    collected.append(i)
        elif kind == "collect_error":
            # every xdist worker collects, and so reports the same error
            if all(e["nodeid"] != r["nodeid"] for e in collect_errors):
                collect_errors.append(r)
        elif kind == "session_finish":
            finish = r["exitstatus"]
        elif kind == "session_start":
            start = r
    seen = set(collected)
    for nodeid in tests:
        if nodeid not in seen:
            collected.append(nodeid)
    results = collections.OrderedDict()
    for nodeid in collected:
        t = tests.get(nodeid)
        reps = t["reports"] if t else []
        outcome, tag, msg = "passed", "", ""
        if not reps:
            outcome, tag, msg = "error", "not run", "collected but never reported"
        else:
            by = {r["when"]: r for r in reps}
            if "???" in by:
                outcome, tag = "failed", "crashed"
                msg = by["???"]["message"]
            elif by.get("call", {}).get("outcome") == "failed":
                outcome, msg = "failed", by["call"]["message"]
            elif any(by.get(w, {}).get("outcome") == "failed" for w in ("setup", "teardown")):
                w = "setup" if by.get("setup", {}).get("outcome") == "failed" else "teardown"
                outcome, tag, msg = "error", "in " + w, by[w]["message"]
            elif any(r["outcome"] == "skipped" for r in reps):
                outcome = "skipped"
                r = [r for r in reps if r["outcome"] == "skipped"][0]
                msg, tag = r["message"], ("xfail" if r.get("wasxfail") else "")
            elif "call" not in by:
                outcome, tag, msg = "error", "not run", "no call report"
            if outcome == "failed" and "Timeout" in msg and not tag:
                tag = "timeout"
        results[nodeid] = {"abi": abi_of(nodeid, t and t["abi"]), "outcome": outcome,
                           "tag": tag, "message": msg}
    return results, collect_errors, finish, start


def build_table(results, collect_errors):
    cols = ["passed", "failed", "skipped", "error", "deviation"]
    rows = collections.OrderedDict((m, collections.Counter()) for m in MODES + [NO_ABI])
    for r in results.values():
        c = rows.setdefault(r["abi"], collections.Counter())
        c[r["outcome"]] += 1
        if r["tag"] == "crashed":
            c["crashed"] += 1
        if r["tag"] == "timeout":
            c["timeout"] += 1
    if collect_errors:
        rows[NO_ABI]["error"] += len(collect_errors)
    total = collections.Counter()
    for c in rows.values():
        total.update(c)
    head = "%-14s %7s %7s %7s %7s %9s %7s   %s" % (
        "mode", "passed", "failed", "skipped", "errors", "deviation", "total",
        "(crashed/timeout)")
    lines = [head, "-" * len(head)]

    def fmt(name, c):
        tot = sum(c[k] for k in cols)
        extra = "%d/%d" % (c["crashed"], c["timeout"]) if c["crashed"] or c["timeout"] else ""
        return "%-14s %7d %7d %7d %7d %9d %7d   %s" % (name, *(c[k] for k in cols), tot, extra)
    for name, c in rows.items():
        lines.append(fmt(name, c))
    lines.append("-" * len(head))
    lines.append(fmt("total", total))
    return lines, rows, total


def failure_lines(results, collect_errors, cap):
    bad = [(n, r) for n, r in results.items() if r["outcome"] in ("failed", "error")]
    lines = []
    if collect_errors:
        lines.append("collection errors:")
        for e in collect_errors:
            lines.append("  %s: %s" % (e["nodeid"] or "<session>", e["message"]))
    if not bad:
        return lines
    byfile = collections.OrderedDict()
    for n, r in bad:
        byfile.setdefault(n.split("::")[0], []).append((n, r))
    lines.append("failing tests (%d):" % len(bad))
    shown = 0
    for f, items in byfile.items():
        lines.append("  %s (%d)" % (f, len(items)))
        for n, r in items:
            if cap is not None and shown >= cap:
                continue
            shown += 1
            tag = "[%s%s] " % (r["outcome"], ", " + r["tag"] if r["tag"] else "")
            msg = r["message"].splitlines()[0][:140] if r["message"] else ""
            lines.append("    %s %s%s" % (n.split("::", 1)[-1], tag, msg))
    if cap is not None and shown < len(bad):
        lines.append("  ... %d more not shown (--all-failures; all are in the report file)"
                     % (len(bad) - shown))
    return lines


# ---------------------------------------------------------------- main

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--abi", action="append", default=[], metavar="MODE",
                   help="only tests with this hpy_abi (%s, or 'none' for tests "
                        "without one); repeatable" % ", ".join(MODES))
    p.add_argument("--files", action="append", default=[], metavar="PATTERN",
                   help="only these test files: glob on the name or the path under "
                        "test/ (e.g. test_00_basic.py, 'debug/*'); repeatable")
    p.add_argument("-n", type=int, default=2, help="xdist workers (0: no xdist); default 2")
    p.add_argument("--timeout", type=float, default=300,
                   help="per-test timeout in seconds (pytest-timeout; 0: none); default 300")
    p.add_argument("--wrapper", action="append", default=[], metavar="ARG",
                   help="run pytest (only: not the runner's own checks) under this "
                        "command, e.g. scripts/memcheck.sh's valgrind; repeatable for "
                        "its arguments")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter the tests run under (its installed hpy is tested)")
    p.add_argument("--all-failures", action="store_true", help="list every failing test")
    p.add_argument("--max-failures", type=int, default=150,
                   help="failing tests listed without --all-failures (default 150)")
    p.add_argument("--cache", help="cache directory (default .cache/ in the repo, or $HPY_RS_CACHE)")
    p.add_argument("--report", help="report file (default <cache>/conformance-report.txt; "
                   "the JSON summary goes next to it)")
    p.add_argument("--test-dir", help="run this directory instead of upstream's test/ "
                   "(only for checking the runner itself, see tests/conformance/selftest)")
    p.add_argument("--exclusions", help="read the exclusions from this file instead of "
                   "tests/conformance/environmental.txt (only for checking the runner "
                   "itself: the suite's one exclusions file is that one)")
    p.add_argument("--keep-workdir", action="store_true",
                   help="keep the copied test directory (under <cache>/conformance-run/)")
    p.add_argument("--without-distutils", action="store_true",
                   help="leave out upstream's test_distutils.py (it pip-installs hpy-rs from "
                        "a copy of this checkout: a cold Rust build, minutes)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments "
                   "(e.g. -- --compiler-v)")
    args = p.parse_args(argv)
    for a in args.abi:
        if a not in MODES and a not in ("none", NO_ABI):
            p.error("unknown --abi %r (choose from %s, none)" % (a, ", ".join(MODES)))

    global ENVIRONMENTAL
    if args.exclusions:
        ENVIRONMENTAL = Path(args.exclusions).resolve()
    try:
        return run(args)
    except RunnerError as e:
        print("conformance runner error: %s" % e, file=sys.stderr)
        return 2


def run(args):
    cache = cache_dir(args)
    cache.mkdir(parents=True, exist_ok=True)
    python = args.python
    if shutil.which(python):
        # absolute (the tests run in another directory), but not resolved:
        # a venv's python is a symlink whose target is another environment
        python = os.path.abspath(shutil.which(python))
    sdist = get_sdist(cache)
    test_src = Path(args.test_dir).resolve() if args.test_dir else sdist / "test"
    tools = ["pytest", "xdist", "filelock"] + (["pytest_timeout"] if args.timeout else [])
    ensure_tools(python, tools)
    work = prepare_workdir(cache, test_src)

    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join([str(HERE)] + (
        [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("PYTEST_ADDOPTS", None)
    # (no PYTHONFAULTHANDLER: upstream's debug tests assert that their
    # subprocesses write nothing to stderr)
    info = preflight(python, work, sdist, env)
    log("python: %s" % python)
    log("hpy under test: %s (hpy.universal: %s)" % (", ".join(info["hpy"]), info["hpy.universal"]))
    # (entry, reason): left out of this run only, for what is under test
    not_here = []
    if args.test_dir:
        pass
    elif args.without_distutils:
        not_here.append((DISTUTILS_TESTS, "--without-distutils"))
    elif info["hpy-rs"]:
        add_checkout(work)
    else:
        not_here.append((DISTUTILS_TESTS, "the hpy under test is not hpy-rs, and these tests "
                         "would pip-install hpy-rs's checkout (the tree around test/)"))
    for entry, reason in not_here:
        log("not run: %s (%s)" % (entry, reason))

    report_txt = Path(args.report) if args.report else cache / "conformance-report.txt"
    report_txt.parent.mkdir(parents=True, exist_ok=True)
    report_json = report_txt.with_suffix(".json")
    results_file = report_txt.with_suffix(".results.jsonl")
    pytest_log = report_txt.with_suffix(".pytest.log")
    if results_file.exists():
        results_file.unlink()
    try:
        rc, elapsed = run_pytest(args, python, work, env, results_file, pytest_log, not_here)
    finally:
        if not args.keep_workdir:
            shutil.rmtree(work, ignore_errors=True)

    records = []
    if results_file.exists():
        with open(results_file) as f:
            records = [json.loads(l) for l in f if l.strip()]
    results, collect_errors, finish, start = classify(records)
    apply_deviations(results)
    log_text = Path(pytest_log).read_text(errors="replace")
    conftest_broken = "ImportError while loading conftest" in log_text or \
        "while loading conftest" in log_text
    if rc in (3, 4) and not conftest_broken and not results:
        tail = "\n".join(log_text.splitlines()[-30:])
        raise RunnerError("pytest failed to start (exit %d):\n%s" % (rc, tail))
    if conftest_broken:
        msg = [l for l in log_text.splitlines() if "Error" in l][-1:] or ["?"]
        collect_errors.append({"nodeid": "test/conftest.py",
                               "message": "upstream's conftest.py does not import: " + msg[0].strip(" E")})

    table, rows, total = build_table(results, collect_errors)
    cap = None if args.all_failures else args.max_failures
    header = ["hpy-rs conformance: upstream HPy 0.9.0 test suite",
              ("test dir: %s\n" % test_src if args.test_dir else "") +
              "python: %s   hpy: %s" % (python, ", ".join(info["hpy"])),
              "pytest exit status: %d, %.0fs, %d workers, timeout %ss" % (
                  rc, elapsed, args.n, args.timeout or "none"),
              "excluded (tests/conformance/environmental.txt): %s" % (
                  "; ".join("%s (%s)" % e for e in read_environmental()) or "nothing")]
    header += ["not run with this hpy: %s (%s)" % e for e in not_here]
    header += ["deviation on purpose (tests/conformance/deviations.txt): %s (%s)" % (t, r)
               for t, _, r in read_deviations()]
    if args.abi or args.files:
        header.append("selection: abi=%s files=%s" % (",".join(args.abi) or "all",
                                                      ",".join(args.files) or "all"))
    if collect_errors and not results:
        header.append("!! the suite could not be collected: no test ran")
    elif finish is None:
        header.append("!! pytest did not finish the session normally: results are partial")
    print()
    out = header + [""] + table + [""]
    print("\n".join(out))
    print("\n".join(failure_lines(results, collect_errors, cap)))
    print("\nfull pytest output: %s" % pytest_log)
    report_txt.write_text("\n".join(out + failure_lines(results, collect_errors, None)) + "\n")
    summary = {
        "python": python, "hpy": info, "pytest_exit_status": rc, "seconds": round(elapsed, 1),
        "complete": finish is not None and not (collect_errors and not results),
        "selection": {"abi": args.abi, "files": args.files},
        "excluded": [{"entry": e, "reason": r} for e, r in read_environmental()],
        "deviations": [{"test": t, "expected": e, "reason": r} for t, e, r in read_deviations()],
        "table": {name: {k: c[k] for k in ("passed", "failed", "skipped", "error",
                                            "deviation", "crashed", "timeout")}
                  for name, c in list(rows.items()) + [("total", total)]},
        "collection_errors": collect_errors,
        "failures": {n: r for n, r in results.items() if r["outcome"] in ("failed", "error")},
        "outcomes": {n: r["outcome"] for n, r in results.items()},
    }
    report_json.write_text(json.dumps(summary, indent=1) + "\n")
    log("report: %s, %s" % (report_txt, report_json))
    return verdict(results, collect_errors, finish, total)


def verdict(results, collect_errors, finish, total):
    """The exit status (see the module docstring), with the reason printed."""
    bad = sum(1 for r in results.values() if r["outcome"] in ("failed", "error"))
    reasons = []
    if bad:
        reasons.append("%d test(s) failed, errored, crashed or timed out" % bad)
    if collect_errors:
        reasons.append("%d collection error(s)" % len(collect_errors))
    if finish is None:
        reasons.append("the pytest session did not finish normally")
    if not results:
        reasons.append("no test ran")
    elif total["passed"] == 0:
        reasons.append("no test passed")
    if reasons:
        print("\nconformance: FAILED: " + "; ".join(reasons) +
              " (accept a test only by listing it, with its reason, in %s)"
              % ENVIRONMENTAL)
        return 1
    print("\nconformance: OK: %d passed, %d skipped, %d deviation(s) on purpose" % (
        total["passed"], total["skipped"], total["deviation"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
