/*
 * Link stubs for the out-of-line helpers, so that usage.c can be linked into
 * a shared object (hidden symbols must be defined within the object). The
 * definitions also prove the declarations in the hpy/runtime headers are
 * self-consistent. They are never run.
 */
#include <hpy.h>

int HPyArg_Parse(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                 size_t nargs, const char *fmt, ...)
{ (void)ctx; (void)ht; (void)args; (void)nargs; (void)fmt; return 0; }

int HPyArg_ParseKeywords(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                         size_t nargs, HPy kwnames, const char *fmt,
                         const char *keywords[], ...)
{ (void)ctx; (void)ht; (void)args; (void)nargs; (void)kwnames; (void)fmt; (void)keywords; return 0; }

int HPyArg_ParseKeywordsDict(HPyContext *ctx, HPyTracker *ht, const HPy *args,
                             HPy_ssize_t nargs, HPy kw, const char *fmt,
                             const char *keywords[], ...)
{ (void)ctx; (void)ht; (void)args; (void)nargs; (void)kw; (void)fmt; (void)keywords; return 0; }

HPy HPy_BuildValue(HPyContext *ctx, const char *fmt, ...)
{ (void)ctx; (void)fmt; return HPy_NULL; }

HPy HPyUnicode_FromFormatV(HPyContext *ctx, const char *format, va_list vargs)
{ (void)ctx; (void)format; (void)vargs; return HPy_NULL; }

HPy HPyUnicode_FromFormat(HPyContext *ctx, const char *fmt, ...)
{ (void)ctx; (void)fmt; return HPy_NULL; }

HPy HPyErr_Format(HPyContext *ctx, HPy h_type, const char *fmt, ...)
{ (void)ctx; (void)h_type; (void)fmt; return HPy_NULL; }

int HPyHelpers_AddType(HPyContext *ctx, HPy obj, const char *name,
                       HPyType_Spec *hpyspec, HPyType_SpecParam *params)
{ (void)ctx; (void)obj; (void)name; (void)hpyspec; (void)params; return 0; }

int HPyHelpers_PackArgsAndKeywords(HPyContext *ctx, const HPy *args, size_t nargs,
                                   HPy kwnames, HPy *out_args_tuple, HPy *out_kwd)
{ (void)ctx; (void)args; (void)nargs; (void)kwnames; (void)out_args_tuple; (void)out_kwd; return 0; }

/* hidden by its declaration in hpy/runtime/structseq.h (this file is also
   compiled as C++, where repeating the attribute here is ignored, with a
   warning, because a const definition alone would have internal linkage) */
const char *const HPyStructSequence_UnnamedField = "_";

HPy HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc)
{ (void)ctx; (void)desc; return HPy_NULL; }

HPy HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args)
{ (void)ctx; (void)type; (void)nargs; (void)args; return HPy_NULL; }
