"""hpy.debug: tools for the HPy debug context (leak detection, handle checks)."""
from .leakdetector import HPyDebugError, HPyLeakError, LeakDetector


def set_handle_stack_trace_limit(limit):
    """Record the C stack (at most `limit` frames) of every debug handle
    opened from now on; it is shown in leak reports (HPyLeakError), in the
    handle's repr and in invalid-handle reports. None or 0: stop recording."""
    from hpy.universal import _debug
    _debug.set_handle_stack_trace_limit(limit)


def disable_handle_stack_traces():
    """Stop recording a stack trace for every debug handle."""
    set_handle_stack_trace_limit(None)
