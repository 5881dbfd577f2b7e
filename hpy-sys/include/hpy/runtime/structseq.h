/*
 * Struct sequences (named-tuple-like types such as os.stat_result),
 * compiled into each extension.
 */
#include "hpy.h"

#ifndef HPY_RS_RUNTIME_STRUCTSEQ_H
#define HPY_RS_RUNTIME_STRUCTSEQ_H

/* One field; the field list ends with an entry whose name is NULL. */
typedef struct {
    const char *name;   /* UTF-8, or HPyStructSequence_UnnamedField */
    const char *doc;    /* UTF-8, may be NULL */
} HPyStructSequence_Field;

typedef struct {
    const char *name;                  /* "module.TypeName" (no dot: module
                                          "builtins"), required */
    const char *doc;                   /* may be NULL */
    HPyStructSequence_Field *fields;   /* NULL-name terminated, required */
} HPyStructSequence_Desc;

/* Use as a field name to leave that field without an attribute name.
   Defined by the helpers compiled or linked into each extension, hidden
   like them: it is not exported from the extension. */
extern HPyAPI_HELPER const char *const HPyStructSequence_UnnamedField;

/* Create a new struct sequence type from `desc`. */
HPyAPI_HELPER HPy
HPyStructSequence_NewType(HPyContext *ctx, HPyStructSequence_Desc *desc);

/* Instantiate struct sequence type `type` from exactly as many items as it
   has fields. */
HPyAPI_HELPER HPy
HPyStructSequence_New(HPyContext *ctx, HPy type, HPy_ssize_t nargs, HPy *args);

#endif /* HPY_RS_RUNTIME_STRUCTSEQ_H */
