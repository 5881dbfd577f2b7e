"""hpy.trace: what the HPy trace context measures.

Extensions loaded in trace mode (``hpy.universal.load(..., mode=MODE_TRACE)``,
or ``HPY=trace`` / ``HPY=<module>:trace`` for the import hook) get a context
that counts and times every HPy API call. Names are those of the context
members, e.g. ``"ctx_Add"``; durations are in nanoseconds.
"""
from hpy.universal import _trace

get_call_counts = _trace.get_call_counts
get_durations = _trace.get_durations
set_trace_functions = _trace.set_trace_functions
get_frequency = _trace.get_frequency

__all__ = ["get_call_counts", "get_durations", "set_trace_functions", "get_frequency"]
