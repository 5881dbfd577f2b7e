/* HPyUnicode_FromFormat(V), HPyErr_Format: C entry points; the formatting
   is hpy-helpers/src/format.rs. */
#include "hpy_rs_helpers.h"

HPyAPI_HELPER HPy
HPyUnicode_FromFormat(HPyContext *ctx, const char *fmt, ...)
{
    HPyRs_VaCursor va;
    HPy res;
    va_start(va.ap, fmt);
    res = hpy_rs_unicode_from_format(ctx, fmt, &va);
    va_end(va.ap);
    return res;
}

HPyAPI_HELPER HPy
HPyUnicode_FromFormatV(HPyContext *ctx, const char *format, va_list vargs)
{
    HPyRs_VaCursor va;
    HPy res;
    va_copy(va.ap, vargs);
    res = hpy_rs_unicode_from_format(ctx, format, &va);
    va_end(va.ap);
    return res;
}

HPyAPI_HELPER HPy
HPyErr_Format(HPyContext *ctx, HPy h_type, const char *fmt, ...)
{
    HPyRs_VaCursor va;
    HPy res;
    va_start(va.ap, fmt);
    res = hpy_rs_err_format(ctx, h_type, fmt, &va);
    va_end(va.ap);
    return res;
}
