/* HPyStructSequence_NewType, HPyStructSequence_New: C entry points; the
   logic is hpy-helpers/src/structseq.rs. */
#include "hpy_rs_helpers.h"

/* Upstream's value: "_" is not a valid namedtuple field name, so the field
   is renamed to "_<index>" and stays reachable by index only. Hidden, as
   its declaration in hpy/runtime/structseq.h says: every extension has its
   own copy and exports none. */
HPyAPI_HELPER const char *const HPyStructSequence_UnnamedField = "_";

HPyAPI_HELPER HPy
HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc)
{
    return hpy_rs_structseq_new_type(ctx, desc);
}

HPyAPI_HELPER HPy
HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args)
{
    return hpy_rs_structseq_new(ctx, type, nargs, args);
}
