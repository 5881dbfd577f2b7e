/*
 * Argument parsing helpers (compiled into each extension, hidden).
 *
 * All three return 1 on success and 0 with an exception set on failure.
 * `ht`, when not NULL, receives a tracker owning any handles the parser
 * had to create (e.g. for the "O" of a keyword-only argument); close it
 * with HPyTracker_Close once done with the parsed values.
 *
 *   HPyArg_Parse              positional arguments (HPyFunc_VARARGS)
 *   HPyArg_ParseKeywords      vectorcall-style args + kwnames tuple
 *                             (HPyFunc_KEYWORDS); `keywords` is a
 *                             NULL-terminated list of parameter names
 *   HPyArg_ParseKeywordsDict  args array + kwargs dict (tp_init / tp_new)
 */
#include "hpy.h"

#ifndef HPY_RS_RUNTIME_ARGPARSE_H
#define HPY_RS_RUNTIME_ARGPARSE_H

HPyAPI_HELPER int
HPyArg_Parse(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
             const char *fmt, ...);

HPyAPI_HELPER int
HPyArg_ParseKeywords(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                     size_t nargs, HPy kwnames, const char *fmt,
                     const char *keywords[], ...);

HPyAPI_HELPER int
HPyArg_ParseKeywordsDict(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                         HPy_ssize_t nargs, HPy kw, const char *fmt,
                         const char *keywords[], ...);

#endif /* HPY_RS_RUNTIME_ARGPARSE_H */
