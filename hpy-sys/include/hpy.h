/*
 * hpy.h -- the one header an HPy extension includes (hpy-rs edition).
 *
 * Layout of this file, top to bottom:
 *   1. pick the target ABI from HPY_ABI_UNIVERSAL / HPY_ABI_HYBRID /
 *      HPY_ABI_CPYTHON (exactly one must be given by the build);
 *   2. system headers (and <Python.h> for the hybrid ABI);
 *   3. portability/attribute macros and the API declaration prefixes;
 *   4. the handle types (HPy, HPyField, ...) and scalar typedefs;
 *   5. the sub-headers under hpy/ describing definitions, types, modules,
 *      trampolines and the out-of-line helpers;
 *   6. the context struct and the inline API wrappers built on it;
 *   7. header-only helpers written on top of the API.
 *
 * The binary layout of everything declared here is fixed by the HPy 0.9
 * universal ABI; see hpy-sys/tests/headers for the checks that enforce it.
 */
#ifndef HPY_RS_HPY_H
#define HPY_RS_HPY_H

/* ------------------------------------------------------------------ */
/* 1. ABI selection                                                     */
/* ------------------------------------------------------------------ */

#if (defined(HPY_ABI_UNIVERSAL) + defined(HPY_ABI_HYBRID) + defined(HPY_ABI_CPYTHON)) > 1
#  error "hpy.h: define only one of HPY_ABI_UNIVERSAL, HPY_ABI_HYBRID and HPY_ABI_CPYTHON"
#endif

#if defined(HPY_ABI_UNIVERSAL)
#  define HPY_ABI "universal"
#elif defined(HPY_ABI_HYBRID)
#  define HPY_ABI "hybrid"
#elif defined(HPY_ABI_CPYTHON)
#  define HPY_ABI "cpython"
   /* The CPython ABI makes an ordinary CPython extension: the API calls the
      runtime directly or maps onto Python.h, and trampolines call the
      implementations directly (hpy/cpython/). The runtime is a static
      library linked into the extension (hpy/devel/lib/cpython). */
#else
   /* Same policy as upstream HPy: the build system must say which ABI it
      targets (hpy.devel passes one of the three -D flags). */
#  error "hpy.h: no target ABI selected; pass -DHPY_ABI_UNIVERSAL, -DHPY_ABI_HYBRID or -DHPY_ABI_CPYTHON"
#endif

/* ABI version of the produced binary; the loader compares these with what it
   supports (see HPy_MODINIT). The tag is the one found in file names such as
   foo.hpy0.so. */
#define HPY_ABI_VERSION 0
#define HPY_ABI_VERSION_MINOR 0
#define HPY_ABI_TAG "hpy0"

/* Version of the HPy API these headers implement. */
#define HPY_VERSION "0.9.0"
#define HPY_GIT_REVISION "f611473"

/* ------------------------------------------------------------------ */
/* 2. system headers                                                    */
/* ------------------------------------------------------------------ */

#if defined(HPY_ABI_HYBRID) || defined(HPY_ABI_CPYTHON)
   /* Hybrid extensions may make legacy Py* calls and the CPython ABI is
      built on them, so the real CPython API must be visible. It has to come
      before any other system header. */
#  ifndef PY_SSIZE_T_CLEAN
#    define PY_SSIZE_T_CLEAN
#  endif
#  include <Python.h>
#endif

#include <stdint.h>
#include <stddef.h>   /* size_t, offsetof (HPyDef_MEMBER users need it) */
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>   /* abort, malloc */
#include <limits.h>
#include <wchar.h>    /* wchar_t for HPyUnicode_FromWideChar */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* 3. attribute helpers and declaration prefixes                        */
/* ------------------------------------------------------------------ */

#ifdef __has_attribute
#  define _HPY_compiler_has_attribute(x) __has_attribute(x)
#else
#  define _HPY_compiler_has_attribute(x) 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define _HPy_HIDDEN __attribute__((visibility("hidden")))
#  define _HPy_UNUSED __attribute__((unused))
#  define _HPy_NO_RETURN __attribute__((__noreturn__))
#elif defined(_MSC_VER)
#  define _HPy_HIDDEN
#  define _HPy_UNUSED
#  define _HPy_NO_RETURN __declspec(noreturn)
#else
#  define _HPy_HIDDEN
#  define _HPy_UNUSED
#  define _HPy_NO_RETURN
#endif

/* Marks a parameter as intentionally unused. The parameter is also renamed,
   so that accidentally using it anyway is a compile error. */
#define _HPy_UNUSED_ARG(x) _hpy_unused_param_##x _HPy_UNUSED

/* Functions that only make sense when the extension can see CPython objects
   (HPy_AsPyObject, HPy_FromPyObject). Calling them from a universal-ABI
   extension is diagnosed at compile time where the compiler allows it
   (upstream HPy's tests look for the first sentence of the message). */
#if defined(HPY_ABI_UNIVERSAL) && _HPY_compiler_has_attribute(error)
#  define _HPY_LEGACY \
     __attribute__((error("Cannot use legacy functions when targeting the HPy Universal ABI (they need HPY_ABI_HYBRID)")))
#else
#  define _HPY_LEGACY
#endif

/* Symbols the loader must find in the shared object. */
#ifndef HPy_EXPORTED_SYMBOL
#  if defined(_WIN32) || defined(__CYGWIN__)
#    define HPy_EXPORTED_SYMBOL __declspec(dllexport)
#  else
#    define HPy_EXPORTED_SYMBOL __attribute__((visibility("default")))
#  endif
#endif

/* Prefixes used when declaring the API:
     HPyAPI_FUNC           the thin static inline wrappers around the context
     HPyAPI_INLINE_HELPER  static inline helpers composed from other calls
     HPyAPI_IMPL           runtime-side implementations (ctx_*), never exported
     HPyAPI_HELPER         helpers compiled into every extension, hidden */
#define HPyAPI_FUNC _HPy_UNUSED static inline
#define HPyAPI_INLINE_HELPER HPyAPI_FUNC
#define HPyAPI_IMPL _HPy_HIDDEN
#define HPyAPI_HELPER _HPy_HIDDEN

/* ------------------------------------------------------------------ */
/* 4. handles and basic types                                           */
/* ------------------------------------------------------------------ */

/* A handle is a single intptr_t whose meaning belongs to the runtime; the
   only value with a fixed meaning is 0 (the null handle). All the wrapper
   structs below are distinct types so that they cannot be mixed up. */
typedef struct _HPy_s { intptr_t _i; } HPy;
typedef struct { intptr_t _i; } HPyField;
typedef struct { intptr_t _i; } HPyGlobal;
typedef struct { intptr_t _lst; } HPyListBuilder;
typedef struct { intptr_t _tup; } HPyTupleBuilder;
typedef struct { intptr_t _i; } HPyTracker;
typedef struct { intptr_t _i; } HPyThreadState;

/* Build a handle-like struct value from its integer payload. */
#if defined(__cplusplus)
#  define _hconv(h) (HPy{(intptr_t)(h)})
#  define _hfconv(h) (HPyField{(intptr_t)(h)})
#  define _htsconv(h) (HPyThreadState{(intptr_t)(h)})
#  define _hgconv(h) (HPyGlobal{(intptr_t)(h)})
#else
#  define _hconv(h) ((HPy){ (h) })
#  define _hfconv(h) ((HPyField){ (h) })
#  define _htsconv(h) ((HPyThreadState){ (h) })
#  define _hgconv(h) ((HPyGlobal){ (h) })
#endif

#define HPy_NULL _hconv(0)
#define HPy_IsNull(h) ((h)._i == 0)
#define HPyField_NULL _hfconv(0)
#define HPyField_IsNull(f) ((f)._i == 0)

typedef struct _HPyContext_s HPyContext;

typedef intptr_t HPy_ssize_t;
typedef intptr_t HPy_hash_t;
typedef uint32_t HPy_UCS4;

#define HPY_SSIZE_T_MAX INTPTR_MAX
#define HPY_SSIZE_T_MIN (-HPY_SSIZE_T_MAX-1)

/* What kind of source HPy_Compile_s parses. */
typedef enum {
    HPy_SourceKind_Expr = 0,    /* a single expression */
    HPy_SourceKind_File = 1,    /* a sequence of statements, like a module */
    HPy_SourceKind_Single = 2,  /* one interactive statement */
} HPy_SourceKind;

/* Selects the capsule attribute read/written by HPyCapsule_Get/_Set. */
typedef enum {
    HPyCapsule_key_Pointer = 0,
    HPyCapsule_key_Name = 1,
    HPyCapsule_key_Context = 2,
    HPyCapsule_key_Destructor = 3,
} _HPyCapsule_key;

/* Reinterpret a handle as a pointer-sized opaque value and back. Only the
   round trip is meaningful. */
static inline HPy HPy_FromVoidP(void *p) { return _hconv((intptr_t)p); }
static inline void *HPy_AsVoidP(HPy h) { return (void *)h._i; }

/* ------------------------------------------------------------------ */
/* 5. sub-headers                                                       */
/* ------------------------------------------------------------------ */

#include "hpy/cpy_types.h"
#include "hpy/macros.h"
#include "hpy/hpyfunc.h"
#include "hpy/hpyslot.h"
#include "hpy/hpydef.h"
#include "hpy/hpytype.h"
#include "hpy/hpymodule.h"

#if defined(HPY_ABI_CPYTHON)
#  include "hpy/cpython/trampolines.h"
#else
#  include "hpy/universal/trampolines.h"
#endif

#include "hpy/runtime/argparse.h"
#include "hpy/runtime/buildvalue.h"
#include "hpy/runtime/format.h"
#include "hpy/runtime/helpers.h"
#include "hpy/runtime/structseq.h"

/* ------------------------------------------------------------------ */
/* 6. the context and the API wrappers                                  */
/* ------------------------------------------------------------------ */

#include "hpy/context.h"
#if defined(HPY_ABI_CPYTHON)
#  include "hpy/cpython/api.h"
#  include "hpy/cpython/autogen_api.h"
#else
#  include "hpy/universal/legacy.h"
#  include "hpy/universal/autogen_api.h"
#endif

/* ------------------------------------------------------------------ */
/* 7. header-only helpers                                               */
/* ------------------------------------------------------------------ */

#include "hpy/inline_helpers.h"

#ifdef __cplusplus
}
#endif

#endif /* HPY_RS_HPY_H */
