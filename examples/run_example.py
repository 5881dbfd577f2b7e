#!/usr/bin/env python3
"""Build examples/simple for HPy ABIs and exercise it.

For each requested ABI this script copies examples/simple to a temporary
directory, runs

    python setup.py --hpy-abi=<abi> build_ext --inplace

there (exactly what an HPy project's developer would do), then imports the
module in a fresh Python process and calls every function, printing what
happened. A universal or hybrid binary is imported through hpy-rs's import
hook (which loads it with hpy.universal; no .py stub is written); a cpython
one is an ordinary extension module, linked with hpy's static runtime.

Usage:
    python examples/run_example.py                  # all three ABIs
    python examples/run_example.py --abi universal --mode debug
    python examples/run_example.py --json           # machine-readable output

Requires the `hpy-rs` distribution (pip install .) in the running interpreter.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SIMPLE_DIR = os.path.join(HERE, 'simple')

# Runs in the child process, with the build directory as the working
# directory.  Prints one JSON document describing everything it did.
DRIVER = r'''
import json, os, sys
sys.path.insert(0, os.getcwd())
import simple

report = {
    "python": sys.version.split()[0],
    "module_file": simple.__file__,
    "module_name": simple.__name__,
    "doc": simple.__doc__,
    "greeting_attr": simple.greeting,
    "hpy_abi_attr": simple.hpy_abi,
    "hpy_mode_env": os.environ.get("HPY"),
    "calls": [],
    "errors": [],
}

def call(label, fn, *args, **kwargs):
    result = fn(*args, **kwargs)
    report["calls"].append([label, repr(result), type(result).__name__])

def fails(label, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as e:
        report["errors"].append([label, type(e).__name__, str(e)])
    else:
        report["errors"].append([label, None, "no exception raised"])

# HPyFunc_NOARGS
call("answer()", simple.answer)
call("context_name()", simple.context_name)
call("abi_version()", simple.abi_version)
call("bump()", simple.bump)
call("bump()", simple.bump)
# HPyFunc_O
call("double(21)", simple.double, 21)
call("double('ab')", simple.double, "ab")
call("square(7)", simple.square, 7)
call("square(1.5)", simple.square, 1.5)
call("truthy([])", simple.truthy, [])
call("truthy('x')", simple.truthy, "x")
call("first('xyz')", simple.first, "xyz")
call("first([10, 20])", simple.first, [10, 20])
call("type_name(3j)", simple.type_name, 3j)
# HPyFunc_VARARGS
call("add_ints(1, 2, 3)", simple.add_ints, 1, 2, 3)
call("add_ints()", simple.add_ints)
call("mean(1, 2, 4)", simple.mean, 1, 2, 4)
call("apply(max, 3, 9, 4)", simple.apply, max, 3, 9, 4)
call("apply(str.upper, 'hpy')", simple.apply, str.upper, "hpy")
call("get_attr(1+2j, 'imag')", simple.get_attr, 1 + 2j, "imag")
d = {}
call("set_item(d, 'k', 5)", simple.set_item, d, "k", 5)
report["dict_after_set_item"] = repr(d)
call("checked_div(-7, 2)", simple.checked_div, -7, 2)
# HPyFunc_KEYWORDS
call("greet('World')", simple.greet, "World")
call("greet('Bob', greeting='Hi', punctuation='?')", simple.greet, "Bob",
     greeting="Hi", punctuation="?")
call("greet(name='Ann')", simple.greet, name="Ann")
call("scale(5)", simple.scale, 5)
call("scale(5, factor=3, offset=1)", simple.scale, 5, factor=3, offset=1)
call("scale(x=2, offset=10)", simple.scale, x=2, offset=10)
call("scale(2.5, 4)", simple.scale, 2.5, 4)
# exceptions raised from C
fails("checked_div(1, 0)", simple.checked_div, 1, 0)
fails("mean()", simple.mean)
fails("add_ints('a')", simple.add_ints, "a")
fails("first(5)", simple.first, 5)
fails("apply(42)", simple.apply, 42)
fails("greet(1)", simple.greet, 1)
fails("scale(1, bogus=2)", simple.scale, 1, bogus=2)
fails("get_attr(1)", simple.get_attr, 1)

print(json.dumps(report))
'''


def build_example(abi, workdir, python=sys.executable, quiet=True):
    """Copy examples/simple into workdir/simple-<abi> and build it in place
    for `abi`.  Returns the build directory."""
    dest = os.path.join(workdir, 'simple-' + abi)
    shutil.copytree(SIMPLE_DIR, dest,
                    ignore=shutil.ignore_patterns('build', '*.so', '*.py[co]',
                                                  '__pycache__', 'simple.py'))
    cmd = [python, 'setup.py']
    if quiet:
        cmd.append('-q')
    cmd += ['--hpy-abi=' + abi, 'build_ext', '--inplace']
    proc = subprocess.run(cmd, cwd=dest, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        raise RuntimeError('building the example for the %s ABI failed:\n%s'
                           % (abi, proc.stdout))
    return dest


def run_example(build_dir, python=sys.executable, mode=None):
    """Import the built example in a fresh process and call everything.
    `mode` (universal/debug/trace) is passed to hpy.universal through the
    HPY environment variable.  Returns the driver's report (a dict)."""
    env = dict(os.environ)
    env.pop('HPY', None)
    if mode:
        env['HPY'] = mode
    proc = subprocess.run([python, '-c', DRIVER], cwd=build_dir, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise RuntimeError('running the example failed (exit %s):\n%s%s'
                           % (proc.returncode, proc.stdout, proc.stderr))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_report(abi, mode, build_dir, report):
    print('=' * 72)
    if abi == 'cpython':
        mode_text = 'none (an ordinary CPython extension)'
    else:
        mode_text = mode or 'universal (default)'
    print('ABI: %s   runtime mode: %s' % (abi, mode_text))
    print('built in:      %s' % build_dir)
    print('binary files:  %s' % ', '.join(sorted(
        f for f in os.listdir(build_dir) if f.startswith('simple.')
        and not f.endswith('.c'))))
    print('module file:   %s' % report['module_file'])
    print('module doc:    %s' % report['doc'])
    print('attributes set by the HPy_mod_exec slot: greeting=%r, hpy_abi=%r'
          % (report['greeting_attr'], report['hpy_abi_attr']))
    print('-' * 72)
    for label, value, typename in report['calls']:
        print('  %-48s -> %s  (%s)' % (label, value, typename))
    print('  d after set_item: %s' % report['dict_after_set_item'])
    print('-' * 72)
    for label, exc_type, message in report['errors']:
        print('  %-48s !! %s: %s' % (label, exc_type, message))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--abi', action='append',
                        choices=['universal', 'hybrid', 'cpython'],
                        help='ABI to build for (repeatable; default: '
                             'universal, hybrid and cpython)')
    parser.add_argument('--mode', choices=['universal', 'debug', 'trace'],
                        help='runtime mode for hpy.universal (HPY env var; '
                             'no effect on the cpython ABI)')
    parser.add_argument('--json', action='store_true',
                        help='print the raw reports as JSON')
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary build directories')
    args = parser.parse_args(argv)
    abis = args.abi or ['universal', 'hybrid', 'cpython']

    workdir = tempfile.mkdtemp(prefix='hpy-example-')
    reports = {}
    try:
        for abi in abis:
            build_dir = build_example(abi, workdir)
            report = run_example(build_dir, mode=args.mode)
            reports[abi] = report
            if not args.json:
                print_report(abi, args.mode, build_dir, report)
    finally:
        if args.keep:
            print('build directories kept in %s' % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(reports, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
