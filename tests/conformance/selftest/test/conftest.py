# A fake suite shaped like upstream's (an hpy_abi fixture parametrizing the
# tests) for checking scripts/conformance.py itself:
#   python3 scripts/conformance.py --test-dir tests/conformance/selftest/test --timeout 10
# Expected table: see tests/conformance/selftest/README.md
import pytest


@pytest.fixture(params=["cpython", "universal", "debug"])
def hpy_abi(request):
    return request.param
