#!/usr/bin/env bash
# Memory check: our Python tests (tests/python) and upstream HPy 0.9.0's suite
# (scripts/conformance.py) with CPython under valgrind memcheck, every python
# process the tests start included (xdist workers, subprocesses); then every
# error is sorted by whether its stack has a frame in our code
# (scripts/memcheck_report.py), and the run fails if one has.
#
#   bash scripts/memcheck.sh                # --quick: a fixed subset (below), ~20 min
#   bash scripts/memcheck.sh --full         # both suites entire: hours on 2 cores
#   bash scripts/memcheck.sh -k argparse --only ours     # a selection
#
# Options:
#   --quick | --full      the subset (default) or everything
#   --only ours|conformance   one suite
#   -k EXPR               pytest's -k, for both suites
#   --jobs N              pytest-xdist workers (default 2; 0: none); each worker
#                         is a valgrind'ed python (--trace-children=yes)
#   --python PATH         the interpreter (default python3; the hpy package
#                         under test is the one installed in it)
#   --out DIR             where the XML files and logs go (default
#                         .cache/memcheck/<date-time>)
#   --track-origins       valgrind's --track-origins=yes (about 2x slower), to
#                         find where an uninitialised value came from
#   --wrapper-only        only write OUT/bin/python (the interpreter under
#                         valgrind, as the suites get it), print its path and
#                         exit; then `memcheck_report.py OUT/xml` reads what it
#                         ran (tests/python/test_memcheck_tool.py does that)
#
# Valgrind runs with PYTHONMALLOC=malloc, the suppressions for CPython's own
# reports in scripts/valgrind-python.supp, --leak-check=full with definitely
# lost blocks as errors, and --error-exitcode=99 (a process with an error not
# suppressed exits 99, so a test checking a child's exit status fails there
# too; the tests' own results are printed, from the logs, but only the XML
# decides).
# Exit status: 0 no error in our code (the tests' own failures are printed but
# do not decide it), 1 an error in our code, 2 nothing could be checked.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

# The fixed subset of --quick: the context functions, the helpers (argument
# parsing, build-value, formats), types, the debug and trace contexts, the
# loader, the cpython ABI and the example; from upstream's suite its basic,
# field (GC), build-value and debug-mode (invalid and leaked handles, char *
# data) tests in the universal, debug and cpython modes.
QUICK_OURS=(test_ctx_longs.py test_ctx_unicode.py test_ctx_containers.py test_ctx_err.py
            test_ctx_builders.py test_ctx_capsule.py test_helpers_argparse.py
            test_helpers_buildvalue.py test_helpers_format.py test_types.py test_debug.py
            test_trace.py test_loader_errors.py test_cpython_abi.py
            "test_example.py::test_example_runs")
QUICK_CONF=(--files test_00_basic.py --files test_hpyfield.py --files test_hpybuildvalue.py
            --files debug/test_handles_invalid.py --files debug/test_handles_leak.py
            --files debug/test_charptr.py --abi universal --abi debug --abi cpython)

mode=quick only="" kexpr="" jobs=2 python=python3 out="" origins=no wrapper_only=no
while [ $# -gt 0 ]; do
    case $1 in
        --quick) mode=quick ;;
        --full) mode=full ;;
        --only) only=$2; shift ;;
        -k) kexpr=$2; shift ;;
        --jobs|-n) jobs=$2; shift ;;
        --python) python=$2; shift ;;
        --out) out=$2; shift ;;
        --track-origins) origins=yes ;;
        --wrapper-only) wrapper_only=yes ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "memcheck.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $only in
    ""|ours|conformance) ;;
    *) echo "memcheck.sh: --only ours|conformance" >&2; exit 2 ;;
esac
if ! command -v valgrind >/dev/null; then
    echo "memcheck.sh: valgrind is not installed (apt-get install valgrind)" >&2
    exit 2
fi
# the real executable (a pyenv shim is a shell script valgrind would trace instead)
py=$("$python" -c 'import sys; print(sys.executable)')
"$py" -c 'import hpy.universal' || { echo "memcheck.sh: no hpy installed in $py" >&2; exit 2; }
out=${out:-$REPO/.cache/memcheck/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out/xml" "$out/bin"
out=$(cd "$out" && pwd)
rm -f "$out"/xml/vg.*.xml

# `valgrind CMD...` runs CMD under valgrind and `python` is the interpreter
# under it. Children are traced (xdist workers, the tests' subprocesses: all
# start sys.executable), except the compilers, linkers and binutils the tests
# run (not ours to check).
skip='*/cc,*/gcc,*/gcc-[0-9]*,*/x86_64-linux-gnu-*,*/cc1,*/cc1plus,*/as,*/ld,*/ld.*,'
skip+='*/collect2,*/c++,*/g++*,*/cargo,*/rustc,*/strip,*/ar,*/ranlib,*/nm,*/objdump,*/readelf,'
skip+='*/ldd,*/uname,*/git'
cat > "$out/bin/valgrind" <<EOF
#!/bin/sh
export PYTHONMALLOC=malloc
exec valgrind -q --tool=memcheck --trace-children=yes --trace-children-skip='$skip' \\
  --suppressions='$REPO/scripts/valgrind-python.supp' --num-callers=40 \\
  --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
  --track-origins=$origins --error-exitcode=99 \\
  --xml=yes --xml-file='$out/xml/vg.%p.xml' "\$@"
EOF
printf '#!/bin/sh\nexec %s %s "$@"\n' "'$out/bin/valgrind'" "'$py'" > "$out/bin/python"
chmod +x "$out/bin/valgrind" "$out/bin/python"
[ $wrapper_only = yes ] && { echo "$out/bin/python"; exit 0; }
export PYTHONDONTWRITEBYTECODE=1
# memcheck_plugin.py: xdist waits for its valgrind'ed workers' leak checks
export PYTHONPATH=$REPO/scripts${PYTHONPATH:+:$PYTHONPATH}
echo "memcheck: $mode run of ${only:-both suites} under valgrind, python $py, results in $out"

xdist=(-p no:xdist)
[ "$jobs" -gt 0 ] && xdist=(-n "$jobs")
ours_rc=- conf_rc=-
if [ "$only" != conformance ]; then
    # (not the tests that measure memory or time themselves: under valgrind
    # they measure valgrind, for hours)
    files=(. --ignore test_flat_memory.py --ignore test_bench.py)
    [ $mode = quick ] && files=("${QUICK_OURS[@]}")
    echo "== tests/python (${files[*]}), log: $out/ours.log"
    set +e
    (cd tests/python && "$out/bin/python" -m pytest -q -p no:cacheprovider -p memcheck_plugin \
        "${xdist[@]}" \
        --timeout 3600 ${kexpr:+-k "$kexpr"} "${files[@]}" \
        --deselect tests/python/test_types.py::test_freed_types_leave_memory_flat \
        --deselect tests/python/test_types.py::test_type_churn_sees_a_small_leak) \
        > "$out/ours.log" 2>&1
    ours_rc=$?
    set -e
    tail -n 3 "$out/ours.log"
fi
if [ "$only" != ours ]; then
    sel=()
    [ $mode = quick ] && sel=("${QUICK_CONF[@]}")
    echo "== conformance (${sel[*]:-everything}), report: $out/conformance-report.txt"
    set +e
    # (not test_distutils, which pip-installs this checkout into a venv per test)
    "$py" scripts/conformance.py --python "$py" --wrapper "$out/bin/valgrind" -n "$jobs" \
        --timeout 3600 --quiet --report "$out/conformance-report.txt" "${sel[@]}" \
        -- -p memcheck_plugin --ignore test/hpy_devel/test_distutils.py ${kexpr:+-k "$kexpr"} \
        > "$out/conformance.log" 2>&1
    conf_rc=$?
    set -e
    grep -E '^(total|conformance:)' "$out/conformance.log" || tail -n 5 "$out/conformance.log"
fi
echo "== tests' exit status: tests/python $ours_rc, conformance $conf_rc" \
     "(1: a test failed, see the logs; 99: valgrind reported an error in pytest itself)"
"$py" scripts/memcheck_report.py "$out/xml" --python "$py" --json "$out/summary.json"
