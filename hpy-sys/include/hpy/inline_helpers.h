/*
 * Header-only helpers: convenience functions expressed entirely in terms of
 * other API calls, so they need no context member of their own.
 */
#include "hpy.h"

#ifndef HPY_RS_INLINE_HELPERS_H
#define HPY_RS_INLINE_HELPERS_H

/* --- errors ------------------------------------------------------------ */

/* Raise h_type (an OSError subclass) from the current errno. Always returns
   HPy_NULL. */
HPyAPI_INLINE_HELPER HPy
HPyErr_SetFromErrno(HPyContext *ctx, HPy h_type)
{
    return HPyErr_SetFromErrnoWithFilenameObjects(ctx, h_type, HPy_NULL, HPy_NULL);
}

/* Same, attaching one filename object. Always returns HPy_NULL. */
HPyAPI_INLINE_HELPER HPy
HPyErr_SetFromErrnoWithFilenameObject(HPyContext *ctx, HPy h_type, HPy filename)
{
    return HPyErr_SetFromErrnoWithFilenameObjects(ctx, h_type, filename, HPy_NULL);
}

/* --- tuples and attributes --------------------------------------------- */

/* Build a tuple from n HPy arguments (not stolen). */
HPyAPI_INLINE_HELPER HPy
HPyTuple_Pack(HPyContext *ctx, HPy_ssize_t n, ...)
{
    enum { ON_STACK = 16 };
    HPy stack_items[ON_STACK];
    HPy *items = stack_items;
    HPy result;
    HPy_ssize_t i;
    va_list ap;

    if (n < 0)
        n = 0;
    if (n > ON_STACK) {
        items = (HPy *)malloc((size_t)n * sizeof(HPy));
        if (items == NULL)
            return HPyErr_NoMemory(ctx);
    }
    va_start(ap, n);
    for (i = 0; i < n; i++)
        items[i] = va_arg(ap, HPy);
    va_end(ap);
    result = HPyTuple_FromArray(ctx, items, n);
    if (items != stack_items)
        free(items);
    return result;
}

/* Deleting an attribute is setting it to the null handle. */
HPyAPI_INLINE_HELPER int
HPy_DelAttr(HPyContext *ctx, HPy obj, HPy name)
{
    return HPy_SetAttr(ctx, obj, name, HPy_NULL);
}

HPyAPI_INLINE_HELPER int
HPy_DelAttr_s(HPyContext *ctx, HPy obj, const char *utf8_name)
{
    return HPy_SetAttr_s(ctx, obj, utf8_name, HPy_NULL);
}

/* --- C integer types of platform-dependent width ------------------------
   The context only deals in fixed-width integers; pick the matching one
   at compile time. */

#if LONG_MAX == INT32_MAX
#  define _HPY_LONG_IS_32 1
#elif LONG_MAX == INT64_MAX
#  define _HPY_LONG_IS_32 0
#else
#  error "hpy.h: unsupported width of long"
#endif

HPyAPI_INLINE_HELPER HPy
HPyLong_FromLong(HPyContext *ctx, long l)
{
#if _HPY_LONG_IS_32
    return HPyLong_FromInt32_t(ctx, (int32_t)l);
#else
    return HPyLong_FromInt64_t(ctx, (int64_t)l);
#endif
}

HPyAPI_INLINE_HELPER HPy
HPyLong_FromUnsignedLong(HPyContext *ctx, unsigned long l)
{
#if _HPY_LONG_IS_32
    return HPyLong_FromUInt32_t(ctx, (uint32_t)l);
#else
    return HPyLong_FromUInt64_t(ctx, (uint64_t)l);
#endif
}

HPyAPI_INLINE_HELPER HPy
HPyLong_FromLongLong(HPyContext *ctx, long long l)
{
    return HPyLong_FromInt64_t(ctx, (int64_t)l);
}

HPyAPI_INLINE_HELPER HPy
HPyLong_FromUnsignedLongLong(HPyContext *ctx, unsigned long long l)
{
    return HPyLong_FromUInt64_t(ctx, (uint64_t)l);
}

/* The As* functions return -1 (all bits set for the unsigned ones) with an
   exception set on failure, like their fixed-width counterparts. */
HPyAPI_INLINE_HELPER long
HPyLong_AsLong(HPyContext *ctx, HPy h)
{
#if _HPY_LONG_IS_32
    return (long)HPyLong_AsInt32_t(ctx, h);
#else
    return (long)HPyLong_AsInt64_t(ctx, h);
#endif
}

HPyAPI_INLINE_HELPER unsigned long
HPyLong_AsUnsignedLong(HPyContext *ctx, HPy h)
{
#if _HPY_LONG_IS_32
    return (unsigned long)HPyLong_AsUInt32_t(ctx, h);
#else
    return (unsigned long)HPyLong_AsUInt64_t(ctx, h);
#endif
}

/* The *Mask variants wrap modulo 2**N instead of raising OverflowError. */
HPyAPI_INLINE_HELPER unsigned long
HPyLong_AsUnsignedLongMask(HPyContext *ctx, HPy h)
{
#if _HPY_LONG_IS_32
    return (unsigned long)HPyLong_AsUInt32_tMask(ctx, h);
#else
    return (unsigned long)HPyLong_AsUInt64_tMask(ctx, h);
#endif
}

HPyAPI_INLINE_HELPER long long
HPyLong_AsLongLong(HPyContext *ctx, HPy h)
{
    return (long long)HPyLong_AsInt64_t(ctx, h);
}

HPyAPI_INLINE_HELPER unsigned long long
HPyLong_AsUnsignedLongLong(HPyContext *ctx, HPy h)
{
    return (unsigned long long)HPyLong_AsUInt64_t(ctx, h);
}

HPyAPI_INLINE_HELPER unsigned long long
HPyLong_AsUnsignedLongLongMask(HPyContext *ctx, HPy h)
{
    return (unsigned long long)HPyLong_AsUInt64_tMask(ctx, h);
}

/* --- booleans ------------------------------------------------------------ */

HPyAPI_INLINE_HELPER HPy
HPyBool_FromLong(HPyContext *ctx, long v)
{
    return HPyBool_FromBool(ctx, v != 0);
}

/* --- slices ------------------------------------------------------------- */

/* Clip the start/stop of a slice (as returned by HPySlice_Unpack) to a
   sequence of `length` items, following Python's slicing rules, and return
   the number of selected items. `step` must not be 0. Never fails. */
HPyAPI_INLINE_HELPER HPy_ssize_t
HPySlice_AdjustIndices(HPyContext *_HPy_UNUSED_ARG(ctx), HPy_ssize_t length,
                       HPy_ssize_t *start, HPy_ssize_t *stop, HPy_ssize_t step)
{
    /* Bounds an index may be clipped to: [0, length] going forwards,
       [-1, length - 1] going backwards. */
    const HPy_ssize_t lower = (step < 0) ? -1 : 0;
    const HPy_ssize_t upper = (step < 0) ? length - 1 : length;
    HPy_ssize_t *ends[2];
    int k;

    ends[0] = start;
    ends[1] = stop;
    for (k = 0; k < 2; k++) {
        HPy_ssize_t v = *ends[k];
        if (v < 0) {
            v += length;
            if (v < 0)
                v = lower;
        }
        else if (v >= length) {
            v = upper;
        }
        *ends[k] = v;
    }

    if (step > 0)
        return (*start < *stop) ? (*stop - *start - 1) / step + 1 : 0;
    return (*stop < *start) ? (*start - *stop - 1) / (-step) + 1 : 0;
}

/* --- calls ---------------------------------------------------------------- */

/* receiver.<name>(*args, **kw); args is a tuple, kw a dict or HPy_NULL. */
HPyAPI_INLINE_HELPER HPy
HPy_CallMethodTupleDict(HPyContext *ctx, HPy name, HPy receiver, HPy args, HPy kw)
{
    HPy result;
    HPy bound = HPy_GetAttr(ctx, receiver, name);
    if (HPy_IsNull(bound))
        return HPy_NULL;
    result = HPy_CallTupleDict(ctx, bound, args, kw);
    HPy_Close(ctx, bound);
    return result;
}

HPyAPI_INLINE_HELPER HPy
HPy_CallMethodTupleDict_s(HPyContext *ctx, const char *utf8_name, HPy receiver,
                          HPy args, HPy kw)
{
    HPy result;
    HPy bound = HPy_GetAttr_s(ctx, receiver, utf8_name);
    if (HPy_IsNull(bound))
        return HPy_NULL;
    result = HPy_CallTupleDict(ctx, bound, args, kw);
    HPy_Close(ctx, bound);
    return result;
}

#endif /* HPY_RS_INLINE_HELPERS_H */
