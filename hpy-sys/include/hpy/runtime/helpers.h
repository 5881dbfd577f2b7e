/*
 * Miscellaneous helpers (compiled into each extension, hidden). Both
 * return 1 on success and 0 with an exception set on failure.
 *
 *   HPyHelpers_AddType               create a type from a spec and store it
 *                                    as attribute `name` of `obj`
 *   HPyHelpers_PackArgsAndKeywords   turn vectorcall arguments into an
 *                                    args tuple and a kwargs dict (each is
 *                                    HPy_NULL when there are none; nothing
 *                                    is written on failure)
 */
#include "hpy.h"

#ifndef HPY_RS_RUNTIME_HELPERS_H
#define HPY_RS_RUNTIME_HELPERS_H

HPyAPI_HELPER int
HPyHelpers_AddType(HPyContext *ctx, HPy obj, const char *name,
                   HPyType_Spec *hpyspec, HPyType_SpecParam *params);

HPyAPI_HELPER int
HPyHelpers_PackArgsAndKeywords(HPyContext *ctx, const HPy *args, size_t nargs,
                               HPy kwnames, HPy *out_args_tuple, HPy *out_kwd);

#endif /* HPY_RS_RUNTIME_HELPERS_H */
