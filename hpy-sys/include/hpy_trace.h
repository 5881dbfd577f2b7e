/* The HPy trace mode as a C library, for runtimes that implement the
 * universal ABI and want to offer trace mode over their own context.
 *
 * It is in the same library as the debug mode, libhpy_debug (see
 * hpy_debug.h, which also says how errors are reported: the same way here).
 * A universal context has one trace context wrapping it, built by the first
 * hpy_trace_get_ctx; it counts and times every call of a context function.
 */
#ifndef HPY_TRACE_H
#define HPY_TRACE_H

#include "hpy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The trace context wrapping uctx, or NULL with an exception set (see
   hpy_debug_get_ctx for what is refused). */
HPyContext *hpy_trace_get_ctx(HPyContext *uctx);

/* Fills *tctx (memory the size of an HPyContext) with a copy of the trace
   context wrapping uctx: its calls are counted with the others. Returns 0,
   or -1 with an exception set. */
int hpy_trace_ctx_init(HPyContext *tctx, HPyContext *uctx);

/* Releases the trace functions (on_enter, on_exit) the trace context holds.
   The counters stay. Returns 0, or -1 with an exception set if tctx is not
   a trace context. */
int hpy_trace_ctx_free(HPyContext *tctx);

/* How many context functions are traced. Needs no GIL. */
int hpy_trace_get_nfunc(void);

/* The name of context member idx ("ctx_Dup"), numbered from the first
   handle member (h_None is 0) as upstream HPy does: "" for a handle member,
   NULL past the last member. Needs no GIL. */
const char *hpy_trace_get_func_name(int idx);

/* The Python face of the trace mode (get_call_counts, set_trace_functions,
   ...), an HPy module under upstream's entry points: see hpy_debug.h's
   HPyInit__debug for how a runtime creates it. */
void HPyInitGlobalContext__trace(HPyContext *uctx);
HPyModuleDef *HPyInit__trace(void);

#ifdef __cplusplus
}
#endif

#endif /* HPY_TRACE_H */
