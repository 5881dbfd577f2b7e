#!/usr/bin/env bash
# Coverage-guided fuzzing of hpy-rs's parsers on the stable toolchain
# (libFuzzer via libfuzzer-sys; see fuzz/README.md).
#
#   scripts/fuzz.sh TARGET [SECONDS] [-- LIBFUZZER_ARGS...]
#       fuzz TARGET (default 60 s) on a work copy of its seed corpus
#   scripts/fuzz.sh --smoke [SECONDS]
#       build every target, run each over its seeds, then SECONDS (default
#       10) of fuzzing each; fails on any crash
#   scripts/fuzz.sh --merge TARGET
#       fold new, coverage-adding inputs of the work corpus into the
#       committed seed corpus (fuzz/corpus/TARGET), minimised
#   scripts/fuzz.sh --repro TARGET FILE
#       run TARGET once on FILE (a crash-* artifact, say)
#   scripts/fuzz.sh --build
#       only build the targets
#   scripts/fuzz.sh --list
#
# Targets: argparse buildvalue fromformat hpy_env loader.
# Environment: PYTHON (default python3) is the interpreter the targets embed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ=$ROOT/fuzz
TARGETS=(argparse buildvalue fromformat hpy_env loader)
PYTHON=${PYTHON:-python3}
HOST=$(rustc -vV | sed -n 's/^host: //p')
BIN=$FUZZ/target/$HOST/release
WORK=$FUZZ/work

# Instrumentation that stable rustc accepts: LLVM's SanitizerCoverage pass
# with libFuzzer's counters, PC table and comparison tracing; `--cfg
# fuzzing` as cargo-fuzz sets it. `--target` keeps these flags off build
# scripts and proc macros. No -Z flags: hence no ASan for Rust code.
build() {
    local flags=(
        -Cpasses=sancov-module
        -Cllvm-args=-sanitizer-coverage-level=4
        -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
        -Cllvm-args=-sanitizer-coverage-pc-table
        -Cllvm-args=-sanitizer-coverage-trace-compares
        --cfg fuzzing
        -Cdebug-assertions
        -Coverflow-checks
        -Cforce-frame-pointers=yes
    )
    RUSTFLAGS="${flags[*]}" PYO3_PYTHON=$PYTHON \
        cargo build --release --manifest-path "$FUZZ/Cargo.toml" \
        --target "$HOST" --target-dir "$FUZZ/target" --bins >&2
}

# libpython for the embedded interpreter, and its home.
setup_python() {
    LD_LIBRARY_PATH=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    PYTHONHOME=$("$PYTHON" -c 'import sys; print(sys.base_prefix)')
    export LD_LIBRARY_PATH PYTHONHOME
}

check_target() {
    local t
    for t in "${TARGETS[@]}"; do [[ $t == "$1" ]] && return 0; done
    echo "unknown target '$1' (known: ${TARGETS[*]})" >&2
    exit 2
}

dict_args() {
    [[ -f $FUZZ/dict/$1.dict ]] && echo "-dict=$FUZZ/dict/$1.dict"
    return 0
}

# Fuzz $1 for $2 seconds. New inputs go to the work corpus (a copy of the
# seeds, kept between runs), crashes to fuzz/work/$1/artifacts/.
fuzz() {
    local t=$1 secs=$2
    shift 2
    mkdir -p "$WORK/$t/corpus" "$WORK/$t/artifacts"
    cp -n "$FUZZ/corpus/$t"/* "$WORK/$t/corpus/" 2>/dev/null || true
    "$BIN/$t" $(dict_args "$t") -max_total_time="$secs" \
        -print_final_stats=1 -artifact_prefix="$WORK/$t/artifacts/" "$@" \
        "$WORK/$t/corpus"
}

case ${1:-} in
    --list) printf '%s\n' "${TARGETS[@]}" ;;
    --build) build ;;
    --smoke)
        secs=${2:-10}
        build
        setup_python
        for t in "${TARGETS[@]}"; do
            echo "== $t: seeds, then ${secs}s" >&2
            # the seeds alone (each must pass), then fuzzing from a
            # throw-away copy of them
            tmp=$(mktemp -d)
            if ! "$BIN/$t" -runs=0 -artifact_prefix="$tmp/" "$FUZZ/corpus/$t" >"$tmp/seeds.log" 2>&1; then
                tail -n 30 "$tmp/seeds.log" >&2
                echo "FAILED: $t crashes on a seed: $(ls "$tmp"/crash-* 2>/dev/null)" >&2
                exit 1
            fi
            tail -n 1 "$tmp/seeds.log" >&2
            rm "$tmp/seeds.log"
            cp "$FUZZ/corpus/$t"/* "$tmp/"
            "$BIN/$t" $(dict_args "$t") -max_total_time="$secs" \
                -artifact_prefix="$tmp/" "$tmp" 2>&1 | grep -E '^(Done|#[0-9]+ +DONE|==[0-9]+== ERROR|.*panicked)' >&2 || true
            if compgen -G "$tmp/crash-*" >/dev/null || compgen -G "$tmp/leak-*" >/dev/null \
                || compgen -G "$tmp/timeout-*" >/dev/null; then
                echo "FAILED: $t found a crash: $(ls "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* 2>/dev/null)" >&2
                exit 1
            fi
            rm -rf "$tmp"
        done
        echo "fuzz smoke: all targets OK" >&2
        ;;
    --merge)
        check_target "${2:?--merge TARGET}"
        t=$2
        build
        setup_python
        "$BIN/$t" -merge=1 "$FUZZ/corpus/$t" "$WORK/$t/corpus"
        ;;
    --repro)
        check_target "${2:?--repro TARGET FILE}"
        build
        setup_python
        "$BIN/$2" "${3:?--repro TARGET FILE}"
        ;;
    ""|-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *)
        check_target "$1"
        t=$1
        secs=${2:-60}
        shift $(( $# >= 2 ? 2 : 1 ))
        [[ ${1:-} == -- ]] && shift
        build
        setup_python
        fuzz "$t" "$secs" "$@"
        ;;
esac
