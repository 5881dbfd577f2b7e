#!/usr/bin/env python3
"""Read the valgrind XML files of a `scripts/memcheck.sh` run (one per process,
`vg.<pid>.xml`) and sort every error by whose code it is in.

    python3 scripts/memcheck_report.py DIR [--python PATH] [--json OUT] [--show N]

An error (or a definitely-lost leak) is *ours* when its stack has a frame in
hpy-rs: the installed `hpy` package's binaries (`hpy/universal*.so`), an
extension built by a test (any object outside the interpreter's prefix and the
system library directories, e.g. `/tmp/pytest-of-*/.../mod1.hpy0.so`, which
contains our static `libhpy-*` libraries), or a function named like our code
(`hpy_*` crates and C helpers, `ctx_*`, `_HPyRs_*`, `HPy*`). Every other error
is the interpreter's (all its frames in CPython, libc or valgrind itself).

Exit status: 0 if no error and no definitely-lost leak is ours, 1 otherwise,
2 if no valgrind'ed process was found (nothing was checked).
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# our function names: Rust paths of the workspace crates (hpy_cpython::…,
# hpy_debug::…, in generic arguments too), the context functions and the C
# helpers and API (ctx_*, hpy_rs_*, _HPyRs_*, HPy*, _HPy*)
OUR_FN = re.compile(r"(^|[^A-Za-z0-9_])hpy_\w+::|^(<)?(hpy_|ctx_|_?HPy)")
SYSTEM_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/libexec/valgrind/")
ERROR_BLOCK = re.compile(r"<error>.*?</error>", re.S)
LEAK_KINDS = {"Leak_DefinitelyLost"}


def interpreter_prefixes(python):
    code = "import sys, sysconfig; print(sys.prefix); print(sys.base_prefix); " \
           "print(sysconfig.get_paths()['purelib']); print(sysconfig.get_paths()['platlib'])"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    prefixes = {os.path.realpath(p) + "/" for p in lines[:2] if p}
    hpy_dirs = {os.path.realpath(p) + "/hpy/" for p in lines[2:4] if p}
    return prefixes, hpy_dirs


class Classifier:
    def __init__(self, prefixes, hpy_dirs):
        self.prefixes = tuple(prefixes)
        self.hpy_dirs = tuple(hpy_dirs)

    def frame_is_ours(self, fn, obj):
        if fn and OUR_FN.search(fn):
            return True
        if not obj:
            return False
        obj = os.path.realpath(obj)
        if obj.startswith(self.hpy_dirs) or "/hpy/universal" in obj:
            return True
        if obj.startswith(self.prefixes) or obj.startswith(SYSTEM_DIRS):
            return False
        return True  # an extension a test built (tmp dirs, build dirs)


def frames(stack):
    if stack is None:
        return []
    return [(f.findtext("fn") or "", f.findtext("obj") or "", f.findtext("file") or "",
             f.findtext("line") or "") for f in stack.findall("frame")]


def describe(kind, what, stack):
    lines = ["%s: %s" % (kind, what)]
    for fn, obj, file, line in stack[:14]:
        where = "%s:%s" % (file, line) if file else os.path.basename(obj)
        lines.append("    %s (%s)" % (fn or "???", where))
    return "\n".join(lines)


def read_process(path):
    """(argv, [(kind, what, stack, count, leaked bytes)], fatal signal, finished)
    of one XML file; tolerant of a file cut short (a process killed)."""
    text = path.read_text(errors="replace")
    argv = []
    m = re.search(r"<argv>(.*?)</argv>", text, re.S)
    if m:
        argv = [ET.fromstring("<x>%s</x>" % a).text or "" for a in
                re.findall(r"<(?:exe|arg)>(.*?)</(?:exe|arg)>", m.group(1), re.S)]
    errors = []
    counts = {}
    m = re.search(r"<errorcounts>(.*?)</errorcounts>", text, re.S)
    if m:
        for pair in re.findall(r"<pair>(.*?)</pair>", m.group(1), re.S):
            p = ET.fromstring("<p>%s</p>" % pair)
            counts[p.findtext("unique")] = int(p.findtext("count"))
    for block in ERROR_BLOCK.findall(text):
        e = ET.fromstring(block)
        kind = e.findtext("kind")
        what = e.findtext("what") or e.findtext("xwhat/text") or ""
        errors.append((kind, what, frames(e.find("stack")), counts.get(e.findtext("unique"), 1),
                       e.findtext("xwhat/leakedbytes")))
    fatal = re.search(r"<fatal_signal>.*?<signame>(\w+)</signame>", text, re.S)
    finished = "<state>FINISHED</state>" in text
    return argv, errors, fatal.group(1) if fatal else None, finished


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", help="directory holding the vg.*.xml files")
    p.add_argument("--python", default=sys.executable,
                   help="the interpreter that ran (for its prefix); default this one")
    p.add_argument("--json", help="also write the summary here")
    p.add_argument("--show", type=int, default=20, help="interpreter errors listed (default 20)")
    args = p.parse_args(argv)

    cls = Classifier(*interpreter_prefixes(args.python))
    processes, skipped, unfinished = 0, 0, 0
    ours, theirs = collections.OrderedDict(), collections.Counter()
    leaks_ours, leaked_bytes_ours = 0, 0
    fatal = collections.Counter()
    for path in sorted(Path(args.dir).glob("vg.*.xml")):
        pargv, errors, sig, finished = read_process(path)
        exe = os.path.basename(pargv[0]) if pargv else ""
        if not exe.startswith("python") or not (finished or errors or sig):
            # a traced process that is not python, or a fork of python that
            # then ran an untraced program (the compiler): valgrind opens a
            # file at the fork
            skipped += 1
            continue
        processes += 1
        if not finished and not sig:
            unfinished += 1
        if sig:
            fatal[sig] += 1
        for kind, what, stack, count, leaked in errors:
            mine = any(cls.frame_is_ours(fn, obj) for fn, obj, _, _ in stack)
            key = (kind, tuple(f[0] for f in stack[:8]))
            if mine:
                entry = ours.setdefault(key, {"kind": kind, "count": 0, "processes": [],
                                              "text": describe(kind, what, stack)})
                entry["count"] += count
                if len(entry["processes"]) < 3:
                    entry["processes"].append("%s (%s)" % (path.name, " ".join(pargv[1:5])))
                if kind in LEAK_KINDS:
                    leaks_ours += 1
                    leaked_bytes_ours += int(leaked or 0)
            else:
                theirs[(kind, stack[0][0] if stack else "?")] += count

    n_ours = sum(e["count"] for e in ours.values())
    n_theirs = sum(theirs.values())
    print("memcheck summary (%s)" % args.dir)
    print("  valgrind'ed python processes: %d (other files: %d, forks that ran an untraced"
          " program or non-python programs)" % (processes, skipped))
    if unfinished:
        print("    of which killed before valgrind's final report (no leak check): %d"
              % unfinished)
    print("  errors in our code:           %d (%d distinct stacks)" % (n_ours, len(ours)))
    print("    of which definitely-lost leaks: %d stacks, %d bytes" % (leaks_ours,
                                                                        leaked_bytes_ours))
    print("  errors of the interpreter:    %d (%d distinct top frames; no frame of ours)"
          % (n_theirs, len(theirs)))
    if fatal:
        print("  processes ended by a signal:  %s (a test crashing a child on purpose, "
              "or the run killed)"
              % ", ".join("%s x%d" % kv for kv in sorted(fatal.items())))
    for (kind, top), n in theirs.most_common(args.show):
        print("    %6d  %-18s at %s" % (n, kind, top))
    if ours:
        print("\nerrors with a frame in our code:")
        for e in ours.values():
            print("\n[x%d] %s\n    in: %s" % (e["count"], e["text"], "; ".join(e["processes"])))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "processes": processes, "unfinished": unfinished, "errors_ours": n_ours,
            "leaks_ours_stacks": leaks_ours, "leaked_bytes_ours": leaked_bytes_ours,
            "errors_interpreter": n_theirs,
            "interpreter_by_top_frame": {"%s at %s" % k: n for k, n in theirs.items()},
            "ours": list(ours.values()), "fatal_signals": dict(fatal)}, indent=1) + "\n")
    if processes == 0:
        print("\nmemcheck: no valgrind'ed python process found: nothing was checked")
        return 2
    print("\nmemcheck: %s" % ("OK: no error in our code" if not ours else
                             "FAILED: %d error(s) in our code" % n_ours))
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
