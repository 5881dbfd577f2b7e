/*
 * Internal to the helper library: the boundary between the C entry points
 * (argparse.c, buildvalue.c, format.c, helpers.c, structseq.c) and their
 * logic, which is written in Rust (crate hpy-helpers, linked as
 * libhpy-extra-<abi>.a).
 *
 * Stable Rust cannot read C variable arguments, so the C side packs its
 * va_list into an HPyRs_VaCursor and hands the cursor to Rust, which takes
 * one argument at a time through the hpy_rs_va_* accessors (va_cursor.c),
 * choosing each type from the format string it is interpreting.
 */
#ifndef HPY_RS_RUNTIME_INTERNAL_H
#define HPY_RS_RUNTIME_INTERNAL_H

#include "hpy.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    va_list ap;
} HPyRs_VaCursor;

/* va_cursor.c: one accessor per C type after default argument promotion */
HPyAPI_HELPER int hpy_rs_va_int(HPyRs_VaCursor *c);
HPyAPI_HELPER unsigned int hpy_rs_va_uint(HPyRs_VaCursor *c);
HPyAPI_HELPER long hpy_rs_va_long(HPyRs_VaCursor *c);
HPyAPI_HELPER unsigned long hpy_rs_va_ulong(HPyRs_VaCursor *c);
HPyAPI_HELPER long long hpy_rs_va_longlong(HPyRs_VaCursor *c);
HPyAPI_HELPER unsigned long long hpy_rs_va_ulonglong(HPyRs_VaCursor *c);
HPyAPI_HELPER HPy_ssize_t hpy_rs_va_ssize(HPyRs_VaCursor *c);
HPyAPI_HELPER size_t hpy_rs_va_size(HPyRs_VaCursor *c);
HPyAPI_HELPER intmax_t hpy_rs_va_intmax(HPyRs_VaCursor *c);
HPyAPI_HELPER uintmax_t hpy_rs_va_uintmax(HPyRs_VaCursor *c);
HPyAPI_HELPER ptrdiff_t hpy_rs_va_ptrdiff(HPyRs_VaCursor *c);
HPyAPI_HELPER double hpy_rs_va_double(HPyRs_VaCursor *c);
HPyAPI_HELPER void *hpy_rs_va_ptr(HPyRs_VaCursor *c);
HPyAPI_HELPER HPy hpy_rs_va_hpy(HPyRs_VaCursor *c);

/* Rust (hpy-helpers/src/lib.rs) */
HPyAPI_HELPER int hpy_rs_arg_parse(HPyContext *ctx, HPyTracker *ht,
                                   const HPy *args, size_t nargs,
                                   const char *fmt, HPyRs_VaCursor *va);
HPyAPI_HELPER int hpy_rs_arg_parse_keywords(HPyContext *ctx, HPyTracker *ht,
                                            const HPy *args, size_t nargs,
                                            HPy kwnames, const char *fmt,
                                            const char *keywords[],
                                            HPyRs_VaCursor *va);
HPyAPI_HELPER int hpy_rs_arg_parse_keywords_dict(HPyContext *ctx,
                                                 HPyTracker *ht,
                                                 const HPy *args,
                                                 HPy_ssize_t nargs, HPy kw,
                                                 const char *fmt,
                                                 const char *keywords[],
                                                 HPyRs_VaCursor *va);
HPyAPI_HELPER HPy hpy_rs_build_value(HPyContext *ctx, const char *fmt,
                                     HPyRs_VaCursor *va);
HPyAPI_HELPER HPy hpy_rs_unicode_from_format(HPyContext *ctx,
                                             const char *fmt,
                                             HPyRs_VaCursor *va);
HPyAPI_HELPER HPy hpy_rs_err_format(HPyContext *ctx, HPy h_type,
                                    const char *fmt, HPyRs_VaCursor *va);
HPyAPI_HELPER int hpy_rs_helpers_add_type(HPyContext *ctx, HPy obj,
                                          const char *name,
                                          HPyType_Spec *hpyspec,
                                          HPyType_SpecParam *params);
HPyAPI_HELPER int hpy_rs_helpers_pack_args_and_keywords(
    HPyContext *ctx, const HPy *args, size_t nargs, HPy kwnames,
    HPy *out_args_tuple, HPy *out_kwd);
HPyAPI_HELPER HPy hpy_rs_structseq_new_type(HPyContext *ctx,
                                            HPyStructSequence_Desc *desc);
HPyAPI_HELPER HPy hpy_rs_structseq_new(HPyContext *ctx, HPy type,
                                       HPy_ssize_t nargs, HPy *args);

#endif /* HPY_RS_RUNTIME_INTERNAL_H */
