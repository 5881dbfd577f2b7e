/* The HPy debug mode as a C library, for runtimes that implement the
 * universal ABI and want to offer debug mode over their own context.
 *
 * Link libhpy_debug (shared or static; hpy.devel ships both in
 * HPyDevel().get_debug_lib_dir()), which also holds the trace mode
 * (hpy_trace.h). The library runs on CPython: it reports through it and
 * needs its GIL.
 *
 * A universal context uctx has one debug context dctx wrapping it: it is
 * built by the first hpy_debug_get_ctx and lives as long as the process;
 * every later call returns the same one. This copy of the library wraps one
 * universal context only: asking for another one is an error.
 *
 * Every function must be called with the GIL held (else it is a fatal
 * error naming it). Given NULL or a context of the wrong kind, it raises
 * SystemError and returns its error value (NULL, HPy_NULL, -1). Context
 * arguments must point to a whole HPyContext.
 */
#ifndef HPY_DEBUG_H
#define HPY_DEBUG_H

#include "hpy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The debug context wrapping uctx, or NULL with an exception set (uctx is
   NULL, a debug or trace context, of another ABI version, has NULL function
   members, or is not the universal context already wrapped). uctx must live
   as long as the process. */
HPyContext *hpy_debug_get_ctx(HPyContext *uctx);

/* Fills *dctx (memory the size of an HPyContext, zero-filled) with a copy
   of the debug context wrapping uctx: it shares that context's handles and
   state. Returns 0, or -1 with an exception set. A dctx that already is a
   debug context is left as it is. */
int hpy_debug_ctx_init(HPyContext *dctx, HPyContext *uctx);

/* Copies the members of dctx, a debug context (e.g. one filled by
   hpy_debug_ctx_init whose function members the runtime replaced; its name
   is how it is recognised, keep it), into the context hpy_debug_get_ctx
   returns. The copies handed to each call into an extension keep the debug
   mode's own members. A dctx with a NULL function member is refused. */
void hpy_debug_set_ctx(HPyContext *dctx);

/* Between universal handles (uh) and debug handles (dh). */

/* A new debug handle that owns uh (HPy_NULL for HPy_NULL). */
HPy hpy_debug_open_handle(HPyContext *dctx, HPy uh);

/* The universal handle dh owns (it stays owned by dh). A closed or unknown
   dh is reported like any invalid handle in debug mode: the
   on_invalid_handle callback if one is set, else a fatal error. */
HPy hpy_debug_unwrap_handle(HPyContext *dctx, HPy dh);

/* Closes dh and the universal handle it owns. */
void hpy_debug_close_handle(HPyContext *dctx, HPy dh);

/* The Python face of the debug mode, the module hpy.debug uses
   (get_open_handles, new_generation, DebugHandle, ...): an HPy module like
   any extension's, under upstream's entry points. A runtime creates it as
   it creates a loaded extension's module: HPyInitGlobalContext__debug(uctx)
   first, then from the definition HPyInit__debug() returns. */
void HPyInitGlobalContext__debug(HPyContext *uctx);
HPyModuleDef *HPyInit__debug(void);

/* hpy-rs additions (not in upstream HPy): finding leaked handles from C,
   as hpy.debug.LeakDetector does from Python. */

/* Starts a new generation of debug handles; returns its number, or -1 with
   an exception set. */
int64_t hpy_rs_debug_new_generation(HPyContext *dctx);

/* The number of debug handles opened in the given generation or later and
   still open. The first `size` of them, oldest first, are stored in
   handles[] (they stay owned by whoever opened them). -1 with an exception
   set on bad arguments. */
HPy_ssize_t hpy_rs_debug_get_open_handles(HPyContext *dctx, int64_t generation,
                                          HPy *handles, HPy_ssize_t size);

#ifdef __cplusplus
}
#endif

#endif /* HPY_DEBUG_H */
