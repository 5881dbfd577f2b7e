/*
 * The API helpers called as an extension calls them, compiled once per ABI
 * (build.rs: -DHPY_ABI_UNIVERSAL, then -DHPY_ABI_CPYTHON), each copy under
 * its own prefix: the argument parsers, handed PROPS_MAX_OUTS output
 * pointers (a format uses the first ones), and HPy_BuildValue, handed
 * variadic arguments of the kinds the test chose (through libffi).
 */
#include "hpy.h"
#include "props.h"
#include "variadic.h"

#ifdef HPY_ABI_CPYTHON
#  define PROPS(name) props_cpy_##name
#else
#  define PROPS(name) props_uni_##name
#endif

#define OUTS outs[0], outs[1], outs[2], outs[3], outs[4], outs[5], outs[6], \
    outs[7], outs[8], outs[9], outs[10], outs[11], outs[12], outs[13],      \
    outs[14], outs[15]

typedef char outs_match[PROPS_MAX_OUTS == 16 ? 1 : -1];

int PROPS(arg_parse)(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                     size_t nargs, const char *fmt, void *const *outs)
{
    return HPyArg_Parse(ctx, ht, args, nargs, fmt, OUTS);
}

int PROPS(arg_parse_keywords)(HPyContext *ctx, HPyTracker *ht,
                              const HPy *args, size_t nargs, HPy kwnames,
                              const char *fmt, const char *keywords[],
                              void *const *outs)
{
    return HPyArg_ParseKeywords(ctx, ht, args, nargs, kwnames, fmt, keywords,
                                OUTS);
}

int PROPS(arg_parse_keywords_dict)(HPyContext *ctx, HPyTracker *ht,
                                   const HPy *args, HPy_ssize_t nargs, HPy kw,
                                   const char *fmt, const char *keywords[],
                                   void *const *outs)
{
    return HPyArg_ParseKeywordsDict(ctx, ht, args, nargs, kw, fmt, keywords,
                                    OUTS);
}

/* HPy_BuildValue(ctx, fmt, vars...); *called is 0 if libffi refused. */
HPy PROPS(build_value)(HPyContext *ctx, const char *fmt, size_t nvars,
                       const unsigned char *kinds, const props_arg *vars,
                       int *called)
{
    ffi_type *fixed_types[] = {&ffi_type_pointer, &ffi_type_pointer};
    void *fixed[] = {&ctx, &fmt};
    HPy res = HPy_NULL;
    *called = props_call_variadic((void (*)(void))HPy_BuildValue,
                                  &props_ffi_handle, &res, 2, fixed_types,
                                  fixed, nvars, kinds, vars) == 0;
    return res;
}

/* HPyTracker_Close as the ABI's API function (the parsers' tracker). */
void PROPS(tracker_close)(HPyContext *ctx, HPyTracker ht)
{
    HPyTracker_Close(ctx, ht);
}
