/*
 * The bridge between handles and CPython objects (HPy_AsPyObject and
 * HPy_FromPyObject) only works when the extension is built against
 * Python.h. In the universal ABI the wrappers still exist (the context
 * members are part of the ABI), but they are pre-declared here with
 * _HPY_LEGACY so that a call is reported as an error by compilers that
 * support the `error` attribute. The definitions that follow in
 * autogen_api.h inherit the attribute.
 */
#include "hpy.h"

#ifndef HPY_RS_UNIVERSAL_LEGACY_H
#define HPY_RS_UNIVERSAL_LEGACY_H

#if defined(HPY_ABI_UNIVERSAL)
HPyAPI_FUNC _HPY_LEGACY cpy_PyObject *HPy_AsPyObject(HPyContext *ctx, HPy h);
HPyAPI_FUNC _HPY_LEGACY HPy HPy_FromPyObject(HPyContext *ctx, cpy_PyObject *obj);
#endif

#endif /* HPY_RS_UNIVERSAL_LEGACY_H */
