import ctypes
import os
import time

import pytest


def test_pass(hpy_abi):
    pass


def test_fail_on_debug(hpy_abi):
    assert hpy_abi != "debug", "debug mode fails"


def test_segfault_on_universal(hpy_abi):
    if hpy_abi == "universal":
        ctypes.string_at(0)          # SIGSEGV: kills the xdist worker


def test_abort_on_cpython(hpy_abi):
    if hpy_abi == "cpython":
        os.abort()                    # SIGABRT: kills the xdist worker


@pytest.fixture
def broken_fixture():
    raise RuntimeError("fixture error")


def test_error_in_setup(hpy_abi, broken_fixture):
    pass


def test_skip(hpy_abi):
    pytest.skip("skipped on purpose")


def test_hang_on_debug(hpy_abi):
    if hpy_abi == "debug":
        time.sleep(3600)


@pytest.mark.parametrize("n", [1, 2])
def test_two_params(n, hpy_abi):
    pass


def test_no_abi():
    pass
