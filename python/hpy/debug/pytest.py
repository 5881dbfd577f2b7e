"""pytest plugin: the `hpy_debug` fixture runs a test under a LeakDetector."""
import pytest

from .leakdetector import LeakDetector


@pytest.fixture
def hpy_debug(request):
    with LeakDetector() as detector:
        yield detector
