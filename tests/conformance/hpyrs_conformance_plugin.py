"""pytest plugin used by scripts/conformance.py (loaded with
``-p hpyrs_conformance_plugin``; it does not change any test).

* ``--conformance-abi=universal,debug,none``: keep only the tests whose
  ``hpy_abi`` parameter is one of these modes (``none``: tests without an
  ``hpy_abi`` parameter); the others are deselected. This is selection by
  mode, done on the fixture parameter rather than with ``-k`` (which would
  match substrings: "debug" also matches "hybrid+debug" and test/debug/).
* ``--conformance-out=FILE``: the controller process (or the only process,
  without xdist) appends one JSON object per line to FILE: every test report
  (setup/call/teardown, plus xdist's synthetic report for a test whose worker
  crashed, ``when == "???"``), failed collection reports, the list of
  collected test ids and the session start/finish.
"""
import inspect
import json
import os
import sys

import pytest

ABI_PROP = "hpy_abi"


def pytest_addoption(parser):
    group = parser.getgroup("hpy-rs conformance")
    group.addoption("--conformance-out", default=None,
                    help="append JSON lines with the test results to this file")
    group.addoption("--conformance-abi", default=None,
                    help="comma separated hpy_abi modes to keep ('none': tests "
                         "without an hpy_abi parameter)")


def _item_abi(item, after_setup=False):
    """The test's ABI mode: the hpy_abi parameter, or (after setup) the value
    of a non-parametrized hpy_abi fixture (test/trace/ returns "trace")."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "hpy_abi" in callspec.params:
        return callspec.params["hpy_abi"]
    if after_setup:
        abi = getattr(item, "funcargs", {}).get("hpy_abi")
        if isinstance(abi, str):
            return abi
        return None
    # before setup (for --conformance-abi): a fixture without parameters and
    # without arguments that just returns the mode, like test/trace/'s
    try:
        defs = item._fixtureinfo.name2fixturedefs.get("hpy_abi") or ()
        fd = defs[-1] if defs else None
        if fd is not None and not fd.params:
            func = getattr(fd.func, "__wrapped__", fd.func)
            if (not inspect.signature(func).parameters
                    and not inspect.isgeneratorfunction(func)):
                abi = func()
                if isinstance(abi, str):
                    return abi
    except Exception:
        pass
    return None


def pytest_collection_modifyitems(session, config, items):
    wanted = config.getoption("--conformance-abi")
    if not wanted:
        return
    wanted = {w.strip() for w in wanted.split(",") if w.strip()}
    keep, drop = [], []
    for item in items:
        abi = _item_abi(item)
        (keep if (abi if abi is not None else "none") in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    abi = _item_abi(item, after_setup=True)
    if abi is not None:
        rep.user_properties.append((ABI_PROP, abi))


class _Writer:
    def __init__(self, path):
        self.path = path
        self.f = open(path, "a", encoding="utf-8")

    def write(self, **obj):
        self.f.write(json.dumps(obj) + "\n")
        self.f.flush()


def _short_message(rep):
    lr = rep.longrepr
    if lr is None:
        return ""
    if isinstance(lr, tuple) and len(lr) == 3:      # skip: (path, lineno, reason)
        return str(lr[2])
    crash = getattr(lr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        msg = crash.message
    else:
        msg = str(lr).strip()
        lines = [l for l in msg.splitlines() if l.startswith("E ")]
        msg = lines[0][1:].strip() if lines else (msg.splitlines() or [""])[-1]
    return msg.strip()[:500]


def _is_controller(config):
    return not hasattr(config, "workerinput")


def pytest_configure(config):
    out = config.getoption("--conformance-out")
    if out and _is_controller(config):
        config._hpyrs_writer = _Writer(out)
        config.pluginmanager.register(_ControllerHooks(config._hpyrs_writer),
                                      "hpyrs-conformance-controller")


class _ControllerHooks:
    def __init__(self, writer):
        self.w = writer

    def pytest_sessionstart(self, session):
        info = {"python": sys.executable, "version": sys.version, "cwd": os.getcwd()}
        try:
            import hpy
            info["hpy_path"] = list(getattr(hpy, "__path__", []))
            import hpy.universal
            info["hpy_universal"] = hpy.universal.__file__
        except Exception as e:          # reported, the suite decides what happens
            info["hpy_import_error"] = "%s: %s" % (type(e).__name__, e)
        self.w.write(kind="session_start", **info)

    # without xdist
    def pytest_collection_finish(self, session):
        if session.config.pluginmanager.hasplugin("dsession"):
            return
        self.w.write(kind="collected", ids=[i.nodeid for i in session.items])

    # with xdist: every worker collects the same ids; keep them all, the
    # runner de-duplicates
    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.w.write(kind="collected", node=node.gateway.id, ids=list(ids))

    def pytest_collectreport(self, report):
        if report.failed:
            self.w.write(kind="collect_error", nodeid=report.nodeid,
                         message=_short_message(report),
                         longrepr=str(report.longrepr)[-4000:])

    def pytest_runtest_logreport(self, report):
        abi = None
        for k, v in getattr(report, "user_properties", ()) or ():
            if k == ABI_PROP:
                abi = v
        self.w.write(kind="test", nodeid=report.nodeid, when=report.when,
                     outcome=report.outcome, abi=abi,
                     wasxfail=hasattr(report, "wasxfail"),
                     duration=getattr(report, "duration", 0.0),
                     worker=getattr(getattr(report, "node", None), "gateway", None)
                     and report.node.gateway.id,
                     message=_short_message(report) if report.outcome != "passed" else "")

    def pytest_sessionfinish(self, session, exitstatus):
        self.w.write(kind="session_finish", exitstatus=int(exitstatus))
