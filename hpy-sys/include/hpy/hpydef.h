/*
 * HPyDef: the static description of one method, slot, member or get/set
 * descriptor, plus the HPyDef_* macros that generate them.
 *
 * A definition made with the macros consists of three pieces:
 *   - a static prototype for the user's implementation (SYM_impl, SYM_get,
 *     ... depending on the macro), which the user then defines;
 *   - a static trampoline with the exact C signature CPython calls for that
 *     kind of function (see hpy/universal/trampolines.h and
 *     hpy/cpython/trampolines.h);
 *   - a global HPyDef variable named SYM pointing at both. It has external
 *     linkage, so that an HPyDef defined in one C file of an extension can be
 *     listed (`extern HPyDef SYM;`) in the module or type definition of
 *     another, but hidden visibility (_HPyDef_VISIBILITY): it is never
 *     exported from the shared object, whose dynamic symbols are only the
 *     loader's entry points (or PyInit_<ext> in the CPython ABI).
 * The optional trailing arguments of the macros are extra designated
 * initializers for the embedded struct, e.g. `.doc = "..."`.
 */
#include "hpy.h"

#ifndef HPY_RS_HPYDEF_H
#define HPY_RS_HPYDEF_H

/* Type-erased pointer to an implementation function. The runtime casts it
   back according to the accompanying HPyFunc_Signature / slot. */
typedef void *(*HPyCFunction)(void);

/* Capsule destructors get the capsule's contents, not the capsule, and no
   context (they may run during interpreter shutdown). */
typedef void (*HPyFunc_Capsule_Destructor)(const char *name, void *pointer, void *context);

/* Convert any function pointer to another function pointer type. Going
   through void (*)(void) tells GCC/Clang that the change of signature is
   intentional (-Wcast-function-type stays quiet). */
#define _HPy_FUNC_CAST(T, f) ((T)(void (*)(void))(f))

/* The definition macros rely on designated initializers, leaving the
   fields the caller did not mention zeroed. That is the intended C idiom,
   but g++ -Wextra reports the omitted fields; silence that around the
   generated initializers only. */
#if defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
#  define _HPyDef_INIT_BEGIN                                                \
       _Pragma("GCC diagnostic push")                                       \
       _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")
#  define _HPyDef_INIT_END _Pragma("GCC diagnostic pop")
#else
#  define _HPyDef_INIT_BEGIN
#  define _HPyDef_INIT_END
#endif

/* Visibility of the HPyDef globals defined by the HPyDef_* macros: hidden
   under GCC/Clang (visibility is per shared object, so every file of the
   extension still sees them; nothing outside it does), nothing elsewhere
   (PE/COFF exports only what is dllexport'ed or listed). As upstream's,
   the macros take no storage class in front: all but HPyDef_MEMBER start
   with the implementation's static prototype. `static HPyDef_MEMBER(...)`
   happens to compile in C (it starts with the variable there) and still
   does, the variable then being static; GCC warns that the visibility
   attribute is ignored on it. */
#define _HPyDef_VISIBILITY _HPy_HIDDEN

typedef struct {
    HPySlot_Slot slot;                /* which slot */
    HPyCFunction impl;                /* the HPy implementation */
    cpy_PyCFunction cpy_trampoline;   /* CPython entry point calling impl */
} HPySlot;

typedef struct {
    const char *name;                 /* attribute name, UTF-8 */
    HPyCFunction impl;
    cpy_PyCFunction cpy_trampoline;
    HPyFunc_Signature signature;      /* VARARGS, KEYWORDS, NOARGS or O */
    const char *doc;                  /* UTF-8, may be NULL */
} HPyMeth;

/* C type of the field an HPyMember exposes. Numbers follow CPython's T_*
   constants (structmember.h); 15 is intentionally unused. */
typedef enum {
    HPyMember_SHORT = 0,
    HPyMember_INT = 1,
    HPyMember_LONG = 2,
    HPyMember_FLOAT = 3,
    HPyMember_DOUBLE = 4,
    HPyMember_STRING = 5,             /* const char * */
    HPyMember_OBJECT = 6,             /* HPyField; NULL reads as None */
    HPyMember_CHAR = 7,               /* char, exposed as a 1-char str */
    HPyMember_BYTE = 8,               /* signed char */
    HPyMember_UBYTE = 9,
    HPyMember_USHORT = 10,
    HPyMember_UINT = 11,
    HPyMember_ULONG = 12,
    HPyMember_STRING_INPLACE = 13,    /* char array inside the struct */
    HPyMember_BOOL = 14,              /* char holding 0/1 */
    HPyMember_OBJECT_EX = 16,         /* HPyField; NULL raises AttributeError */
    HPyMember_LONGLONG = 17,
    HPyMember_ULONGLONG = 18,
    HPyMember_HPYSSIZET = 19,         /* HPy_ssize_t */
    HPyMember_NONE = 20,              /* always reads as None */
} HPyMember_FieldType;

typedef struct {
    const char *name;
    HPyMember_FieldType type;
    HPy_ssize_t offset;               /* offsetof() into the user's struct */
    int readonly;
    const char *doc;
} HPyMember;

typedef struct {
    const char *name;
    HPyCFunction getter_impl;         /* NULL for a write-only descriptor */
    HPyCFunction setter_impl;         /* NULL for a read-only descriptor */
    cpy_getter getter_cpy_trampoline;
    cpy_setter setter_cpy_trampoline;
    const char *doc;
    void *closure;                    /* passed through to getter/setter */
} HPyGetSet;

typedef enum {
    HPyDef_Kind_Slot = 1,
    HPyDef_Kind_Meth = 2,
    HPyDef_Kind_Member = 3,
    HPyDef_Kind_GetSet = 4,
} HPyDef_Kind;

/* `kind` says which member of the anonymous union is valid. */
typedef struct {
    HPyDef_Kind kind;
    union {
        HPySlot slot;
        HPyMeth meth;
        HPyMember member;
        HPyGetSet getset;
    };
} HPyDef;

/* Argument of HPyCapsule_New / HPyCapsule_SetDestructor; build it with
   HPyCapsule_DESTRUCTOR. */
typedef struct {
    cpy_PyCapsule_Destructor cpy_trampoline;
    HPyFunc_Capsule_Destructor impl;
} HPyCapsule_Destructor;

/* Per-object call implementation (HPy_SetCallFunction); build it with
   HPyDef_CALL_FUNCTION. */
typedef struct {
    cpy_vectorcallfunc cpy_trampoline;
    HPyFunc_keywords impl;
} HPyCallFunction;

/* The pieces every definition macro is made of:
   _HPyDef_FUNC(IMPL, SIG, TRAMPOLINE): IMPL's static prototype and the
   trampoline calling it (both of signature SIG);
   _HPyDef_DEFINE(DECL, ...): the initialised variable DECL (`static T SYM`,
   or an HPyDef with its visibility), its initializers being the rest. */
#define _HPyDef_FUNC(IMPL, SIG, TRAMPOLINE)                                 \
    HPyFunc_DECLARE(IMPL, SIG);                                             \
    HPyFunc_TRAMPOLINE(TRAMPOLINE, IMPL, SIG)

#define _HPyDef_DEFINE(DECL, ...)                                           \
    _HPyDef_INIT_BEGIN                                                      \
    DECL = { __VA_ARGS__ };                                                 \
    _HPyDef_INIT_END

#define _HPyDef_OF_KIND(SYM, KIND, ...)                                     \
    _HPyDef_DEFINE(_HPyDef_VISIBILITY HPyDef SYM,                           \
                   .kind = HPyDef_Kind_##KIND, __VA_ARGS__)

/* ---------------------------------------------------------------------
   Slots.  HPyDef_SLOT(SYM, SLOT) expects `SYM_impl` with the signature
   dictated by SLOT; HPyDef_SLOT_IMPL lets the caller name the function.
   The signature lookup happens in the argument list of _HPyDef_SLOT so that
   it is fully expanded before being pasted into the per-signature macros.
   --------------------------------------------------------------------- */

#define HPyDef_SLOT(SYM, SLOT)                                              \
    HPyDef_SLOT_IMPL(SYM, SYM##_impl, SLOT)

#define HPyDef_SLOT_IMPL(SYM, IMPL, SLOT)                                   \
    _HPyDef_SLOT(SYM, IMPL, SLOT, HPySlot_SIG(SLOT))

#define _HPyDef_SLOT(SYM, IMPL, SLOT, SIG)                                  \
    _HPyDef_FUNC(IMPL, SIG, SYM##_trampoline)                               \
    _HPyDef_OF_KIND(SYM, Slot, .slot = {                                    \
        .slot = SLOT,                                                       \
        .impl = _HPy_FUNC_CAST(HPyCFunction, IMPL),                         \
        .cpy_trampoline = _HPy_FUNC_CAST(cpy_PyCFunction, SYM##_trampoline) \
    })

/* ---------------------------------------------------------------------
   Methods.  HPyDef_METH(SYM, "name", SIG[, .doc = "..."]) expects SYM_impl.
   --------------------------------------------------------------------- */

#define HPyDef_METH(SYM, NAME, SIG, ...)                                    \
    HPyDef_METH_IMPL(SYM, NAME, SYM##_impl, SIG, __VA_ARGS__)

#define HPyDef_METH_IMPL(SYM, NAME, IMPL, SIG, ...)                         \
    _HPyDef_FUNC(IMPL, SIG, SYM##_trampoline)                               \
    _HPyDef_OF_KIND(SYM, Meth, .meth = {                                    \
        .name = NAME,                                                       \
        .impl = _HPy_FUNC_CAST(HPyCFunction, IMPL),                         \
        .cpy_trampoline = _HPy_FUNC_CAST(cpy_PyCFunction, SYM##_trampoline), \
        .signature = SIG,                                                   \
        __VA_ARGS__                                                         \
    })

/* ---------------------------------------------------------------------
   Members.  HPyDef_MEMBER(SYM, "name", HPyMember_INT, offsetof(T, f)
                           [, .readonly = 1][, .doc = "..."])
   --------------------------------------------------------------------- */

#define HPyDef_MEMBER(SYM, NAME, TYPE, OFFSET, ...)                         \
    _HPyDef_OF_KIND(SYM, Member, .member = {                                \
        .name = NAME,                                                       \
        .type = TYPE,                                                       \
        .offset = OFFSET,                                                   \
        __VA_ARGS__                                                         \
    })

/* ---------------------------------------------------------------------
   Get/set descriptors.  HPyDef_GET expects SYM_get, HPyDef_SET expects
   SYM_set, HPyDef_GETSET expects both. Extra initializers: .doc, .closure.
   --------------------------------------------------------------------- */

/* HPyDef_GET_IMPL and HPyDef_SET_IMPL: ROLE is getter or setter, S get or set. */
#define _HPyDef_GETSET_ONE(SYM, NAME, ROLE, S, SIG, IMPL, ...)              \
    _HPyDef_FUNC(IMPL, SIG, SYM##_##S##_trampoline)                         \
    _HPyDef_OF_KIND(SYM, GetSet, .getset = {                                \
        .name = NAME,                                                       \
        .ROLE##_impl = _HPy_FUNC_CAST(HPyCFunction, IMPL),                  \
        .ROLE##_cpy_trampoline = SYM##_##S##_trampoline,                    \
        __VA_ARGS__                                                         \
    })

#define HPyDef_GET(SYM, NAME, ...)                                          \
    HPyDef_GET_IMPL(SYM, NAME, SYM##_get, __VA_ARGS__)

#define HPyDef_GET_IMPL(SYM, NAME, GETIMPL, ...)                            \
    _HPyDef_GETSET_ONE(SYM, NAME, getter, get, HPyFunc_GETTER, GETIMPL, __VA_ARGS__)

#define HPyDef_SET(SYM, NAME, ...)                                          \
    HPyDef_SET_IMPL(SYM, NAME, SYM##_set, __VA_ARGS__)

#define HPyDef_SET_IMPL(SYM, NAME, SETIMPL, ...)                            \
    _HPyDef_GETSET_ONE(SYM, NAME, setter, set, HPyFunc_SETTER, SETIMPL, __VA_ARGS__)

#define HPyDef_GETSET(SYM, NAME, ...)                                       \
    HPyDef_GETSET_IMPL(SYM, NAME, SYM##_get, SYM##_set, __VA_ARGS__)

/* (C++ wants the designators in declaration order: both impls first.) */
#define HPyDef_GETSET_IMPL(SYM, NAME, GETIMPL, SETIMPL, ...)                \
    _HPyDef_FUNC(GETIMPL, HPyFunc_GETTER, SYM##_get_trampoline)             \
    _HPyDef_FUNC(SETIMPL, HPyFunc_SETTER, SYM##_set_trampoline)             \
    _HPyDef_OF_KIND(SYM, GetSet, .getset = {                                \
        .name = NAME,                                                       \
        .getter_impl = _HPy_FUNC_CAST(HPyCFunction, GETIMPL),               \
        .setter_impl = _HPy_FUNC_CAST(HPyCFunction, SETIMPL),               \
        .getter_cpy_trampoline = SYM##_get_trampoline,                      \
        .setter_cpy_trampoline = SYM##_set_trampoline,                      \
        __VA_ARGS__                                                         \
    })

/* ---------------------------------------------------------------------
   Capsule destructor: HPyCapsule_DESTRUCTOR(SYM) expects
       static void SYM_impl(const char *name, void *pointer, void *context)
   and defines `static HPyCapsule_Destructor SYM`.
   --------------------------------------------------------------------- */

#define HPyCapsule_DESTRUCTOR(SYM)                                          \
    static void SYM##_impl(const char *name, void *pointer, void *context); \
    HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM##_trampoline, SYM##_impl)          \
    _HPyDef_DEFINE(static HPyCapsule_Destructor SYM,                        \
                   .cpy_trampoline = SYM##_trampoline, .impl = SYM##_impl)

/* ---------------------------------------------------------------------
   Call function: HPyDef_CALL_FUNCTION(SYM) expects SYM_impl with the
   HPyFunc_KEYWORDS signature and defines `static HPyCallFunction SYM`.
   --------------------------------------------------------------------- */

#define HPyDef_CALL_FUNCTION(SYM)                                           \
    _HPyDef_FUNC(SYM##_impl, HPyFunc_KEYWORDS, SYM##_trampoline)            \
    _HPyDef_DEFINE(static HPyCallFunction SYM,                              \
                   .cpy_trampoline = SYM##_trampoline, .impl = SYM##_impl)

#endif /* HPY_RS_HPYDEF_H */
