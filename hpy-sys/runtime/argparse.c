/* HPyArg_Parse, HPyArg_ParseKeywords, HPyArg_ParseKeywordsDict: C entry
   points; the parsing is hpy-helpers/src/argparse/. */
#include "hpy_rs_helpers.h"

HPyAPI_HELPER int
HPyArg_Parse(HPyContext *ctx, HPyTracker *ht, const HPy *args, size_t nargs,
             const char *fmt, ...)
{
    HPyRs_VaCursor va;
    int res;
    va_start(va.ap, fmt);
    res = hpy_rs_arg_parse(ctx, ht, args, nargs, fmt, &va);
    va_end(va.ap);
    return res;
}

HPyAPI_HELPER int
HPyArg_ParseKeywords(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                     size_t nargs, HPy kwnames, const char *fmt,
                     const char *keywords[], ...)
{
    HPyRs_VaCursor va;
    int res;
    va_start(va.ap, keywords);
    res = hpy_rs_arg_parse_keywords(ctx, ht, args, nargs, kwnames, fmt,
                                    keywords, &va);
    va_end(va.ap);
    return res;
}

HPyAPI_HELPER int
HPyArg_ParseKeywordsDict(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                         HPy_ssize_t nargs, HPy kw, const char *fmt,
                         const char *keywords[], ...)
{
    HPyRs_VaCursor va;
    int res;
    va_start(va.ap, keywords);
    res = hpy_rs_arg_parse_keywords_dict(ctx, ht, args, nargs, kw, fmt,
                                         keywords, &va);
    va_end(va.ap);
    return res;
}
