/*
 * printf-style string formatting helpers (compiled into each extension,
 * hidden). The format language is that of PyUnicode_FromFormat.
 * HPyErr_Format sets an exception of type h_type and always returns
 * HPy_NULL, so it can be used as `return HPyErr_Format(...)`.
 */
#include "hpy.h"

#ifndef HPY_RS_RUNTIME_FORMAT_H
#define HPY_RS_RUNTIME_FORMAT_H

HPyAPI_HELPER HPy
HPyUnicode_FromFormat(HPyContext *ctx, const char *fmt, ...);

HPyAPI_HELPER HPy
HPyUnicode_FromFormatV(HPyContext *ctx, const char *format, va_list vargs);

HPyAPI_HELPER HPy
HPyErr_Format(HPyContext *ctx, HPy h_type, const char *fmt, ...);

#endif /* HPY_RS_RUNTIME_FORMAT_H */
