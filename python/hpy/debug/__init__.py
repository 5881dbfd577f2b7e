"""hpy.debug: tools for the HPy debug context (leak detection, handle checks)."""
from .leakdetector import HPyDebugError, HPyLeakError, LeakDetector


def set_handle_stack_trace_limit(limit):
    """Record at most `limit` frames when a debug handle is opened (None: default)."""
    from hpy.universal import _debug
    _debug.set_handle_stack_trace_limit(limit)


def disable_handle_stack_traces():
    """Stop recording a stack trace for every debug handle."""
    set_handle_stack_trace_limit(None)
