/*
 * Creating types: HPyType_Spec and friends, type flags, and the
 * HPyType_HELPERS macro generating typed accessors for an object's C struct.
 */
#include "hpy.h"

#ifndef HPY_RS_HPYTYPE_H
#define HPY_RS_HPYTYPE_H

#if defined(__GNUC__) || defined(__clang__)
#  define HPyAPI_UNUSED __attribute__((unused)) static inline
#else
#  define HPyAPI_UNUSED static inline
#endif

/* Which built-in object layout instances of the type start with. It tells
   the runtime (and the *_AsStruct accessors) where the user's C struct is:
     Legacy   the C struct itself begins with PyObject_HEAD;
     Object   plain object (the default, value 0);
     Type..   the type inherits from that built-in (the spec must also name
              the corresponding base class). */
typedef enum {
    HPyType_BuiltinShape_Legacy = -1,
    HPyType_BuiltinShape_Object = 0,
    HPyType_BuiltinShape_Type = 1,
    HPyType_BuiltinShape_Long = 2,
    HPyType_BuiltinShape_Float = 3,
    HPyType_BuiltinShape_Unicode = 4,
    HPyType_BuiltinShape_Tuple = 5,
    HPyType_BuiltinShape_List = 6,
    HPyType_BuiltinShape_Dict = 7,    /* since HPy master */
} HPyType_BuiltinShape;

typedef struct {
    cpy_vectorcallfunc cpy_trampoline;
    HPyCallFunction impl;
} HPyType_Vectorcall;

typedef struct {
    const char *name;                 /* "module.Name", UTF-8 */
    int basicsize;                    /* sizeof the user's C struct, or 0 */
    int itemsize;
    unsigned long flags;              /* HPy_TPFLAGS_* */
    HPyType_BuiltinShape builtin_shape;
    void *legacy_slots;               /* PyType_Slot[] (hybrid only) or NULL */
    HPyDef **defines;                 /* NULL-terminated, or NULL */
    const char *doc;
} HPyType_Spec;

typedef enum {
    HPyType_SpecParam_Base = 1,       /* one base class (repeatable) */
    HPyType_SpecParam_BasesTuple = 2, /* a tuple of bases; excludes Base */
    HPyType_SpecParam_Metaclass = 3,
} HPyType_SpecParam_Kind;

/* Extra arguments for HPyType_FromSpec; arrays end with kind == 0. */
typedef struct {
    HPyType_SpecParam_Kind kind;
    HPy object;
} HPyType_SpecParam;

/* Type flags; the numbers are CPython's Py_TPFLAGS_* bits. */
#define _Py_TPFLAGS_HEAPTYPE (1UL << 9)
#define _Py_TPFLAGS_HAVE_VERSION_TAG (1UL << 18)
#define HPy_TPFLAGS_DEFAULT (_Py_TPFLAGS_HEAPTYPE | _Py_TPFLAGS_HAVE_VERSION_TAG)
#define HPy_TPFLAGS_HAVE_VECTORCALL (1UL << 11)
#define HPy_TPFLAGS_BASETYPE (1UL << 10)
#define HPy_TPFLAGS_HAVE_GC (1UL << 14)

/* ---------------------------------------------------------------------
   HPyType_HELPERS(T)          pure HPy type, shape Object
   HPyType_HELPERS(T, SHAPE)   pure HPy type inheriting from a built-in
   HPyType_LEGACY_HELPERS(T)   struct starting with PyObject_HEAD
   each define
     - enum constant T_SHAPE, used as `.builtin_shape = SHAPE(T)`;
     - static inline T *T_AsStruct(HPyContext *ctx, HPy h), which returns
       the C struct of an instance (undefined for non-instances).
   The variadic argument list is (T) or (T, SHAPE); the small selector
   macros below pick the pieces, with HPyType_BuiltinShape_Object appended
   as the default second element. _HPyType_HELPER_X forces one more
   expansion pass, which MSVC's preprocessor needs for __VA_ARGS__.
   --------------------------------------------------------------------- */

#define _HPyType_HELPER_X(X) X
#define _HPyType_HELPER_TYPE(TYPE, ...) TYPE *
#define _HPyType_HELPER_FNAME(TYPE, ...) TYPE##_AsStruct
#define _HPyType_HELPER_DEFINE_SHAPE(TYPE, SHAPE, ...) \
    enum { TYPE##_SHAPE = (int)SHAPE }
#define _HPyType_HELPER_AS_STRUCT(TYPE, SHAPE, ...) SHAPE##_AsStruct

#define HPyType_HELPERS(...)                                                \
    _HPyType_HELPER_X(_HPyType_HELPER_DEFINE_SHAPE(__VA_ARGS__,             \
                                      HPyType_BuiltinShape_Object));        \
    HPyAPI_UNUSED _HPyType_HELPER_X(_HPyType_HELPER_TYPE(__VA_ARGS__))      \
    _HPyType_HELPER_X(_HPyType_HELPER_FNAME(__VA_ARGS__))(HPyContext *ctx, HPy h) \
    {                                                                       \
        void *_hpy_data = _HPyType_HELPER_X(_HPyType_HELPER_AS_STRUCT(      \
            __VA_ARGS__, HPyType_BuiltinShape_Object))(ctx, h);             \
        return (_HPyType_HELPER_X(_HPyType_HELPER_TYPE(__VA_ARGS__)))_hpy_data; \
    }

#define HPyType_LEGACY_HELPERS(TYPE)                                        \
    HPyType_HELPERS(TYPE, HPyType_BuiltinShape_Legacy)

#define SHAPE(TYPE) ((HPyType_BuiltinShape)TYPE##_SHAPE)

/* shape -> accessor used by the generated T_AsStruct */
#define HPyType_BuiltinShape_Legacy_AsStruct _HPy_AsStruct_Legacy
#define HPyType_BuiltinShape_Object_AsStruct _HPy_AsStruct_Object
#define HPyType_BuiltinShape_Type_AsStruct _HPy_AsStruct_Type
#define HPyType_BuiltinShape_Long_AsStruct _HPy_AsStruct_Long
#define HPyType_BuiltinShape_Float_AsStruct _HPy_AsStruct_Float
#define HPyType_BuiltinShape_Unicode_AsStruct _HPy_AsStruct_Unicode
#define HPyType_BuiltinShape_Tuple_AsStruct _HPy_AsStruct_Tuple
#define HPyType_BuiltinShape_List_AsStruct _HPy_AsStruct_List
#define HPyType_BuiltinShape_Dict_AsStruct _HPy_AsStruct_Dict

#endif /* HPY_RS_HPYTYPE_H */
