/* HPyHelpers_AddType, HPyHelpers_PackArgsAndKeywords: C entry points; the
   logic is hpy-helpers/src/helpers.rs. */
#include "hpy_rs_helpers.h"

HPyAPI_HELPER int
HPyHelpers_AddType(HPyContext *ctx, HPy obj, const char *name,
                   HPyType_Spec *hpyspec, HPyType_SpecParam *params)
{
    return hpy_rs_helpers_add_type(ctx, obj, name, hpyspec, params);
}

HPyAPI_HELPER int
HPyHelpers_PackArgsAndKeywords(HPyContext *ctx, const HPy *args, size_t nargs,
                               HPy kwnames, HPy *out_args_tuple, HPy *out_kwd)
{
    return hpy_rs_helpers_pack_args_and_keywords(ctx, args, nargs, kwnames,
                                                 out_args_tuple, out_kwd);
}
