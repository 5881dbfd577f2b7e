#!/bin/bash
# Optional: compile the C sources of upstream HPy's test suite against our
# headers (see upstream_compile_plugin.py). Needs an extracted hpy-0.9.0
# sdist and a Python with pytest + filelock:
#     HPY_UPSTREAM_DIR=/tmp/upstream/hpy-0.9.0 PYTHON=/path/to/python ./run_upstream.sh [pytest args]
# (Tests that need the hpy.universal runtime module itself are deselected.)
# Exit status: 0 when every module that upstream builds compiled (or failed
# exactly where upstream expects a compile error).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
include=$(cd "$here/../../../include" && pwd)
up=${HPY_UPSTREAM_DIR:?set HPY_UPSTREAM_DIR to an extracted hpy-0.9.0 sdist}
py=${PYTHON:-python3}
export HPY_RS_INCLUDE=$include
export PYTHONPATH=$here/stubs:$here:$up
export PYTHONDONTWRITEBYTECODE=1
cd "$up"
log=$(mktemp)
set +e
"$py" -m pytest -p upstream_compile_plugin -p no:cacheprovider -q -rs -o addopts= --rootdir "$up" \
    test --ignore=test/debug --ignore=test/trace --ignore=test/hpy_devel \
    --ignore=test/test_importing.py --ignore=test/check_py27_compat.py \
    --deselect 'test/test_00_basic.py::TestBasic::test_get_version' \
    --deselect 'test/test_00_basic.py::TestBasic::test_abi_tag_check' \
    "$@" >"$log" 2>&1
rc=$?
set -e
compiled=$(awk '/HPYRS-COMPILED/ { gsub(/.*SKIPPED \[|\].*/, ""); n += $0 } END { print n + 0 }' "$log")
tail -n 5 "$log"
if [ $rc -eq 0 ]; then
    rm -f "$log"
    echo "run_upstream.sh: $compiled test modules compiled cleanly"
else
    echo "run_upstream.sh: FAILED; $compiled test modules compiled cleanly (full log: $log)"
fi
exit $rc
