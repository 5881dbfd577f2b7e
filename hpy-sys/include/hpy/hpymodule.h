/*
 * Module definition and the module entry points (HPy_MODINIT).
 */
#include "hpy.h"

#ifndef HPY_RS_HPYMODULE_H
#define HPY_RS_HPYMODULE_H

/* HPy modules always use multi-phase initialisation: HPyInit_<ext> only
   returns this description; the module name comes from the import spec,
   and any initialisation code belongs in an HPy_mod_exec slot. */
typedef struct {
    const char *doc;
    HPy_ssize_t size;                 /* per-module state size; must be >= 0 */
    cpy_PyMethodDef *legacy_methods;  /* PyMethodDef[] (hybrid only) or NULL */
    HPyDef **defines;                 /* NULL-terminated, or NULL */
    HPyGlobal **globals;              /* NULL-terminated, or NULL */
} HPyModuleDef;

#ifdef __cplusplus
#  define HPy_EXPORTED_FUNC extern "C" HPy_EXPORTED_SYMBOL
#else
#  define HPy_EXPORTED_FUNC HPy_EXPORTED_SYMBOL
#endif

#if defined(HPY_ABI_CPYTHON)

/* A CPython-ABI extension is an ordinary CPython extension: HPy_MODINIT
   defines PyInit_<ext> only. It returns a PyModuleDef for CPython's
   multi-phase initialisation, made from the HPyModuleDef by the static
   runtime (libhpy-ctx-cpython.a), which also fills the extension's context
   on the first call. The context is a single hidden global, so there is
   nothing per translation unit for HPY_EMBEDDED_MODULES to keep apart. */
HPyAPI_IMPL PyObject *_HPyRs_cpy_ModuleDef_Init(HPyModuleDef *def, const char *ext_name);

#define HPY_MOD_EMBEDDABLE(modname)

#define HPy_MODINIT(ext_name, mod_def)                                      \
    PyMODINIT_FUNC PyInit_##ext_name(void)                                  \
    {                                                                       \
        return _HPyRs_cpy_ModuleDef_Init(&(mod_def), #ext_name);            \
    }

#else /* universal and hybrid ABIs */

/* The context every trampoline of the extension uses. It is set once by
   the loader through HPyInitGlobalContext_<ext> and is never exported.
   When several HPy modules are linked into one binary
   (HPY_EMBEDDED_MODULES), each translation unit keeps a private copy and
   must contain the whole module plus HPY_MOD_EMBEDDABLE(name) before its
   definitions. */
#ifdef HPY_EMBEDDED_MODULES
#  define _HPy_CTX_MODIFIER static
#  define HPY_MOD_EMBEDDABLE(modname) \
       _HPy_CTX_MODIFIER HPyContext *_ctx_for_trampolines;
#else
#  define _HPy_CTX_MODIFIER _HPy_HIDDEN
#  define HPY_MOD_EMBEDDABLE(modname)
extern _HPy_HIDDEN HPyContext *_ctx_for_trampolines;
#endif

/* HPy_MODINIT(ext, moduledef) defines the four functions a universal or
   hybrid loader looks up in the shared object:
     uint32_t get_required_hpy_major_version_<ext>(void)
     uint32_t get_required_hpy_minor_version_<ext>(void)
     void HPyInitGlobalContext_<ext>(HPyContext *ctx)
     HPyModuleDef *HPyInit_<ext>(void)
   and the extension's _ctx_for_trampolines. */
#define HPy_MODINIT(ext_name, mod_def)                                      \
    _HPy_CTX_MODIFIER HPyContext *_ctx_for_trampolines;                     \
    HPy_EXPORTED_FUNC uint32_t get_required_hpy_major_version_##ext_name(void) \
    {                                                                       \
        return HPY_ABI_VERSION;                                             \
    }                                                                       \
    HPy_EXPORTED_FUNC uint32_t get_required_hpy_minor_version_##ext_name(void) \
    {                                                                       \
        return HPY_ABI_VERSION_MINOR;                                       \
    }                                                                       \
    HPy_EXPORTED_FUNC void HPyInitGlobalContext_##ext_name(HPyContext *ctx) \
    {                                                                       \
        _ctx_for_trampolines = ctx;                                         \
    }                                                                       \
    HPy_EXPORTED_FUNC HPyModuleDef *HPyInit_##ext_name(void)                \
    {                                                                       \
        return &(mod_def);                                                  \
    }

#endif /* HPY_ABI_CPYTHON */

#endif /* HPY_RS_HPYMODULE_H */
