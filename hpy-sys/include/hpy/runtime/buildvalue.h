/*
 * HPy_BuildValue: build a Python value from a Py_BuildValue-style format
 * string (compiled into each extension, hidden). Returns a new handle, or
 * HPy_NULL with an exception set.
 */
#include "hpy.h"

#ifndef HPY_RS_RUNTIME_BUILDVALUE_H
#define HPY_RS_RUNTIME_BUILDVALUE_H

HPyAPI_HELPER HPy
HPy_BuildValue(HPyContext *ctx, const char *fmt, ...);

#endif /* HPY_RS_RUNTIME_BUILDVALUE_H */
