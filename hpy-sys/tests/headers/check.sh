#!/bin/bash
# Checks of the public C headers in hpy-sys/include (see README-style notes
# at the end of this file for what each step proves). Runs from any cwd;
# exits non-zero on the first failure.
#
# Environment:
#   HPY_ABI_DIR       directory with structs.tsv/enums.tsv/api.tsv
#                     (default: <repo>/hpy-sys/abi)
#   CC, CXX, PYTHON   tools (default gcc, g++, python3)
#   HPY_CPYTHON_LIB   static runtime of the CPython ABI to link against
#                     (default: built here with `cargo build -p hpy-ctx-cpython`)
#   HPY_UPSTREAM_DIR  if set (extracted hpy-0.9.0 sdist) and $PYTHON has
#                     pytest + filelock, also compile upstream's test suite
#                     against the headers (upstream/run_upstream.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
include=$(cd ../../include && pwd)
CC=${CC:-gcc}
CXX=${CXX:-g++}
PYTHON=${PYTHON:-python3}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ -f "$include/hpy.h" ] || fail "no hpy.h in $include"
[ -f "$include/hpy/context.h" ] || fail "hpy/context.h is missing"
[ -f "$include/hpy/universal/autogen_api.h" ] ||
    fail "hpy/universal/autogen_api.h is missing (generate it with: cargo xtask gen)"

WARN=(-Wall -Wextra -Werror)
UNIV=(-DHPY_ABI_UNIVERSAL -I"$include/hpy/forbid_python_h" -I"$include")
pyinc=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$pyinc/Python.h" ] || fail "Python.h not found in $pyinc (needed for the hybrid ABI checks)"
HYB=(-DHPY_ABI_HYBRID -I"$include" -I"$pyinc")
CPY=(-DHPY_ABI_CPYTHON -I"$include" -I"$pyinc")

# --------------------------------------------------------------------------
step "1. usage.c compiles warning-free in every supported mode"
for std in gnu11 c99 c11; do
    $CC -std=$std "${WARN[@]}" "${UNIV[@]}" -c usage.c -o "$tmp/u.o" || fail "C $std universal"
done
for std in gnu++17 c++11 c++20; do
    $CXX -x c++ -std=$std "${WARN[@]}" "${UNIV[@]}" -c usage.c -o "$tmp/u.o" || fail "C++ $std universal"
done
$CC -std=gnu11 "${WARN[@]}" "${HYB[@]}" -c usage.c -o "$tmp/u.o" || fail "C hybrid"
$CXX -x c++ "${WARN[@]}" "${HYB[@]}" -c usage.c -o "$tmp/u.o" || fail "C++ hybrid"
$CC -std=gnu11 "${WARN[@]}" "${UNIV[@]}" -DHPY_EMBEDDED_MODULES -c usage.c -o "$tmp/u.o" ||
    fail "C universal with HPY_EMBEDDED_MODULES"
$CC -std=gnu11 -O2 "${WARN[@]}" "${UNIV[@]}" -c usage.c -o "$tmp/u.o" || fail "C universal -O2"
for std in gnu11 c99 c11; do
    $CC -std=$std "${WARN[@]}" "${CPY[@]}" -c usage.c -o "$tmp/u.o" || fail "C $std cpython"
done
for std in gnu++17 c++11 c++20; do
    $CXX -x c++ -std=$std "${WARN[@]}" "${CPY[@]}" -c usage.c -o "$tmp/u.o" || fail "C++ $std cpython"
done
$CC -std=gnu11 -O2 "${WARN[@]}" "${CPY[@]}" -c usage.c -o "$tmp/u.o" || fail "C cpython -O2"
$CC -std=gnu11 "${WARN[@]}" "${CPY[@]}" -DHPY_EMBEDDED_MODULES -c usage.c -o "$tmp/u.o" ||
    fail "C cpython with HPY_EMBEDDED_MODULES"

step "1b. every hpy/ header (except the context and the generated APIs) can be included first"
for h in $(cd "$include" && find hpy -name '*.h' ! -path 'hpy/forbid_python_h/*' \
               ! -path hpy/context.h ! -name autogen_api.h | sort); do
    printf '#include "%s"\n#include <hpy.h>\nint hpy_rs_dummy;\n' "$h" >"$tmp/first.c"
    # each ABI's own directory only with that ABI (the other ABI's
    # trampolines and API would be a second definition of the same names)
    case $h in hpy/cpython/*) abis=(CPY) ;; hpy/universal/*) abis=(UNIV) ;; *) abis=(UNIV CPY) ;; esac
    for abi in "${abis[@]}"; do
        flags="$abi[@]"
        $CC -std=gnu11 "${WARN[@]}" "${!flags}" -c "$tmp/first.c" -o "$tmp/first.o" || fail "$h included first ($abi)"
        $CXX -x c++ "${WARN[@]}" "${!flags}" -c "$tmp/first.c" -o "$tmp/first.o" || fail "$h included first (C++, $abi)"
    done
done

# --------------------------------------------------------------------------
step "2. exported symbols of a universal extension"
check_exports() {  # $1 = shared object, $2 = label
    local so=$1 what=$2 funcs expected
    funcs=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sort)
    expected=$(printf '%s\n' HPyInitGlobalContext_usage HPyInit_usage \
        get_required_hpy_major_version_usage get_required_hpy_minor_version_usage | sort)
    [ "$funcs" = "$expected" ] ||
        fail "$what: exported functions are:"$'\n'"$funcs"$'\n'"expected exactly:"$'\n'"$expected"
    # data: only HPyDef globals (all HPyDef_* symbols of usage.c), the
    # helper data object and the test's own array
    local data bad
    local dyn all
    dyn=$(nm -D --defined-only "$so")
    all=$(nm "$so")
    data=$(printf '%s\n' "$dyn" | awk '$2 ~ /^[DBR]$/ { print $3 }')
    bad=$(printf '%s\n' "$data" | grep -Ev '^(m_|p_|mod_)[a-z_]+$|^HPyStructSequence_UnnamedField$|^standalone_trampolines$' || true)
    [ -z "$bad" ] || fail "$what: unexpected exported data symbols: $bad"
    grep -qx p_new <<<"$data" || fail "$what: HPyDef p_new not exported"
    # (grep on variables, not pipes: grep -q + pipefail would race nm)
    if grep -q '_ctx_for_trampolines' <<<"$(nm -D "$so")"; then
        fail "$what: _ctx_for_trampolines is exported"
    fi
    grep -Eq '[bBdD] _ctx_for_trampolines$' <<<"$all" || fail "$what: _ctx_for_trampolines missing"
    if grep -Eq 'HPyArg_|HPy_BuildValue|HPyHelpers_|HPyErr_Format' <<<"$dyn"; then
        fail "$what: out-of-line helpers must be hidden"
    fi
}
$CC -std=gnu11 -O2 -fPIC -shared "${WARN[@]}" "${UNIV[@]}" usage.c stubs.c -o "$tmp/usage.hpy0.so" ||
    fail "linking the C extension"
check_exports "$tmp/usage.hpy0.so" "C extension"
$CXX -x c++ -O2 -fPIC -shared "${WARN[@]}" "${UNIV[@]}" usage.c stubs.c -o "$tmp/usage_cxx.hpy0.so" ||
    fail "linking the C++ extension"
check_exports "$tmp/usage_cxx.hpy0.so" "C++ extension"
$CC -std=gnu11 -O2 -fPIC -shared "${WARN[@]}" "${HYB[@]}" usage.c stubs.c -o "$tmp/usage.hpy0-hyb.so" ||
    fail "linking the hybrid extension"
check_exports "$tmp/usage.hpy0-hyb.so" "hybrid extension"
$CC -std=gnu11 -O2 -fPIC -shared "${WARN[@]}" "${UNIV[@]}" -DHPY_EMBEDDED_MODULES usage.c stubs.c \
    -o "$tmp/usage_emb.so" || fail "linking the embedded-modules extension"
grep -Eq '[bd] _ctx_for_trampolines$' <<<"$(nm "$tmp/usage_emb.so")" ||
    fail "HPY_EMBEDDED_MODULES: _ctx_for_trampolines should be a static (local) symbol"

step "2b. exported symbols of a CPython-ABI extension (linked with the static runtime)"
cpylib=${HPY_CPYTHON_LIB:-}
if [ -z "$cpylib" ]; then
    (cd ../../.. && cargo build -q -p hpy-ctx-cpython) || fail "building the static runtime (hpy-ctx-cpython)"
    cpylib=$(cd ../../.. && cargo metadata --format-version 1 --no-deps |
        "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/libhpy_ctx_cpython.a
fi
[ -f "$cpylib" ] || fail "static runtime not found: $cpylib"
check_cpython_exports() {  # $1 = shared object, $2 = label
    local so=$1 what=$2 dyn funcs data bad
    dyn=$(nm -D --defined-only "$so")
    funcs=$(awk '$2 == "T" { print $3 }' <<<"$dyn")
    [ "$funcs" = "PyInit_usage" ] ||
        fail "$what: exported functions are:"$'\n'"$funcs"$'\n'"expected exactly: PyInit_usage"
    data=$(awk '$2 ~ /^[DBR]$/ { print $3 }' <<<"$dyn")
    bad=$(grep -Ev '^(m_|p_|mod_)[a-z_]+$|^standalone_trampolines$' <<<"$data" || true)
    [ -z "$bad" ] || fail "$what: unexpected exported data symbols: $bad"
    grep -Eq '[bBdD] _HPyRs_cpy_ctx$' <<<"$(nm "$so")" || fail "$what: the context _HPyRs_cpy_ctx is missing"
}
for lang in c c++; do
    cc=$CC; [ $lang = c ] || cc=$CXX
    # What the extension refers to is hidden by the headers' declarations
    # alone. (The rest of the archive members it pulls in, Rust's std
    # included, is hidden by --exclude-libs, which hpy.devel passes.)
    $cc -x $lang -O2 -fPIC -shared "${WARN[@]}" "${CPY[@]}" usage.c -x none "$cpylib" \
        -o "$tmp/usage_cpy.so" -lpthread -lm -ldl || fail "linking the $lang CPython-ABI extension"
    $cc -x $lang -O2 -fPIC "${WARN[@]}" "${CPY[@]}" -c usage.c -o "$tmp/usage_cpy.o"
    used=$(nm -u "$tmp/usage_cpy.o" | awk '$2 ~ /^_HPyRs_/ { print $2 }')
    [ -n "$used" ] || fail "$lang CPython-ABI extension: no use of the static runtime seen"
    leaked=$(nm -D --defined-only "$tmp/usage_cpy.so" | awk '{ print $3 }' | grep -Fx -f <(printf '%s\n' "$used") || true)
    [ -z "$leaked" ] || fail "$lang CPython-ABI extension: runtime entry points exported: $leaked"
    $cc -x $lang -O2 -fPIC -shared "${WARN[@]}" "${CPY[@]}" usage.c -x none "$cpylib" \
        -Wl,--exclude-libs,ALL -o "$tmp/usage_cpy.so" -lpthread -lm -ldl ||
        fail "linking the $lang CPython-ABI extension (--exclude-libs)"
    check_cpython_exports "$tmp/usage_cpy.so" "$lang CPython-ABI extension"
done

# --------------------------------------------------------------------------
step "3+4. ABI tables: layouts, enum values and API signatures"
"$PYTHON" gen_abi_checks.py "$tmp/gen"
$CC -std=gnu11 "${WARN[@]}" "${UNIV[@]}" -c "$tmp/gen/abi_layout.c" -o "$tmp/l.o" || fail "abi_layout.c (universal)"
$CC -std=gnu11 "${WARN[@]}" "${HYB[@]}" -c "$tmp/gen/abi_layout.c" -o "$tmp/l.o" || fail "abi_layout.c (hybrid)"
$CC -std=gnu11 "${WARN[@]}" "${UNIV[@]}" "$tmp/gen/api_names.c" -o "$tmp/api_names" || fail "api_names.c (universal)"
"$tmp/api_names" || fail "api_names run-time checks"
$CC -std=gnu11 "${WARN[@]}" "${HYB[@]}" -c "$tmp/gen/api_names.c" -o "$tmp/a.o" || fail "api_names.c (hybrid)"
$CC -std=gnu11 "${WARN[@]}" "${CPY[@]}" -c "$tmp/gen/abi_layout.c" -o "$tmp/l.o" || fail "abi_layout.c (cpython)"
$CC -std=gnu11 "${WARN[@]}" "${CPY[@]}" -c "$tmp/gen/api_names.c" -o "$tmp/a.o" || fail "api_names.c (cpython)"

# --------------------------------------------------------------------------
step "5. things that must NOT compile"
must_fail() {  # $1 = label, $2 = expected text in the diagnostics, rest = compiler command
    local label=$1 text=$2
    shift 2
    if "$@" >"$tmp/neg.log" 2>&1; then
        fail "$label: compiled but should not"
    fi
    grep -qF -- "$text" "$tmp/neg.log" || { cat "$tmp/neg.log"; fail "$label: diagnostic lacks '$text'"; }
}
printf '#include <hpy.h>\n' >"$tmp/plain.c"
must_fail "no ABI selected" "no target ABI selected" $CC -I"$include" -c "$tmp/plain.c" -o "$tmp/n.o"
must_fail "cpython ABI with hpy/forbid_python_h" "HPY_ABI_UNIVERSAL is not defined" \
    $CC -DHPY_ABI_CPYTHON -I"$include/hpy/forbid_python_h" -I"$include" -c "$tmp/plain.c" -o "$tmp/n.o"
must_fail "two ABIs" "define only one of" \
    $CC -DHPY_ABI_UNIVERSAL -DHPY_ABI_HYBRID -I"$include" -I"$pyinc" -c "$tmp/plain.c" -o "$tmp/n.o"
printf '#include <hpy.h>\n#include <Python.h>\n' >"$tmp/pyh.c"
must_fail "Python.h in universal" "It is forbidden to #include <Python.h>" \
    $CC "${UNIV[@]}" -c "$tmp/pyh.c" -o "$tmp/n.o"
cat >"$tmp/legacy.c" <<'SRC'
#include <hpy.h>
cpy_PyObject *f(HPyContext *ctx, HPy h) { return HPy_AsPyObject(ctx, h); }
HPy g(HPyContext *ctx, cpy_PyObject *o) { return HPy_FromPyObject(ctx, o); }
SRC
must_fail "HPy_AsPyObject in universal" "Cannot use legacy functions" \
    $CC -O0 "${UNIV[@]}" -c "$tmp/legacy.c" -o "$tmp/n.o"
$CC -O0 "${WARN[@]}" "${HYB[@]}" -c "$tmp/legacy.c" -o "$tmp/n.o" || fail "HPy_AsPyObject must work in hybrid"
$CC -O0 "${WARN[@]}" "${CPY[@]}" -c "$tmp/legacy.c" -o "$tmp/n.o" || fail "HPy_AsPyObject must work in cpython"
printf '#include <hpy.h>\nHPyDef_SLOT(s, HPy_tp_nosuchslot)\n' >"$tmp/badslot.c"
must_fail "unknown slot" "HPy_tp_nosuchslot" $CC "${UNIV[@]}" -c "$tmp/badslot.c" -o "$tmp/n.o"

# --------------------------------------------------------------------------
if [ -n "${HPY_UPSTREAM_DIR:-}" ]; then
    if "$PYTHON" -c 'import pytest, filelock' 2>/dev/null; then
        step "6. upstream HPy test-suite sources compile against the headers"
        PYTHON="$PYTHON" upstream/run_upstream.sh || fail "upstream test sources"
    else
        step "6. skipped: $PYTHON lacks pytest/filelock (needed for HPY_UPSTREAM_DIR)"
    fi
fi

echo "check.sh: all header checks passed"

# What the steps prove:
#  1   the headers are usable from C (gnu11/c99/c11), C++ (11/17/20), in the
#      universal, hybrid and cpython ABIs, with and without
#      HPY_EMBEDDED_MODULES, and every HPyDef_* macro / trampoline signature
#      expands warning-free;
#  1b  each sub-header pulls in whatever it needs (in each ABI it serves);
#  2   HPy_MODINIT exports exactly the four loader entry points (with C
#      linkage from C++ too), _ctx_for_trampolines stays hidden (static with
#      HPY_EMBEDDED_MODULES) and the runtime helpers are not exported;
#  2b  a CPython-ABI extension links against the static runtime, exports
#      PyInit_<ext> alone and keeps the runtime's entry points and its
#      context hidden;
#  3+4 every layout/value of structs.tsv and enums.tsv and every
#      name/signature/value of api.tsv holds (see gen_abi_checks.py), in
#      the cpython ABI too (where HPy_ssize_t & co. must stay the same types);
#  5   misconfigurations and universal-ABI misuse are rejected with the
#      documented diagnostics;
#  6   (optional) the C code of upstream's own tests compiles unchanged.
