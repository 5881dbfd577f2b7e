/* HPy_BuildValue: C entry point; the building is hpy-helpers/src/buildvalue.rs. */
#include "hpy_rs_helpers.h"

HPyAPI_HELPER HPy
HPy_BuildValue(HPyContext *ctx, const char *fmt, ...)
{
    HPyRs_VaCursor va;
    HPy res;
    va_start(va.ap, fmt);
    res = hpy_rs_build_value(ctx, fmt, &va);
    va_end(va.ap);
    return res;
}
