/*
 * Universal-ABI trampolines (used by both the universal and hybrid ABIs).
 *
 * A trampoline is the function CPython actually calls for an HPy method,
 * slot or descriptor. It has exactly CPython's C signature for that kind of
 * function. It does not call the HPy implementation itself: it packs its
 * arguments into an _HPyFunc_args_<SIG> block on its own stack and passes
 * that block, the signature and the implementation to the runtime through
 * ctx_CallRealFunctionFromTrampoline, using the context the loader handed
 * to HPyInitGlobalContext_<ext> (_ctx_for_trampolines). The runtime turns
 * the CPython arguments into handles, calls the implementation, converts
 * the outcome back and stores it in the block's `result` field, which the
 * trampoline then returns.
 *
 * One shortcut: hpy-rs's universal context (on CPython, where a handle is
 * the object itself, borrowed) marks itself by a `_private` that points at
 * itself (_HPY_RS_DIRECT_CONTEXT). Under it, a trampoline converts and calls
 * the implementation directly, as a CPython-ABI trampoline does; under any
 * other context (the debug and trace ones, another runtime's) it hands the
 * block to the runtime as above, so the binary stays universal. The mark
 * also promises CPython's default object layout (a tuple's size two words
 * in, its items from the third: HPy_tp_new and HPy_tp_init read them).
 * HPy_mod_create (its result is checked) and the hand-written signatures
 * always go to the runtime.
 *
 * The layout of every _HPyFunc_args_<SIG> block is part of the ABI
 * (hpy-sys/abi/structs.tsv). The blocks and trampolines are generated from
 * hpy-sys/hpyfunc.txt; only the capsule destructor's is written here (the
 * capsule itself is its "block"). HPy_mod_create's trampoline fills an
 * _HPyFunc_args_MOD_CREATE where upstream's fills the UNARYFUNC block: the
 * layouts are the same (both asserted against structs.tsv).
 */
#include "hpy.h"

#ifndef HPY_RS_UNIVERSAL_TRAMPOLINES_H
#define HPY_RS_UNIVERSAL_TRAMPOLINES_H

/* Hand an argument block to the runtime. */
#define _HPY_TRAMPOLINE_DISPATCH(SIGNAME, IMPL, ARGS)                        \
    _HPy_CallRealFunctionFromTrampoline(_ctx_for_trampolines,               \
                                        HPyFunc_##SIGNAME,                  \
                                        _HPy_FUNC_CAST(HPyCFunction, IMPL), \
                                        (ARGS))

/* The direct path (see above). No runtime stores the address of this very
   field in it by chance; hpy-rs's debug code reads a context's `_private`
   as a pointer, which this one is. */
#define _HPY_RS_DIRECT_CONTEXT(CTX) \
    ((CTX)->_private == (void *)&(CTX)->_private)

/* Hides a function pointer's value from the optimiser: the direct path calls
   the implementation out of line, the one copy the block path also uses. */
#if defined(__GNUC__) || defined(__clang__)
#  define _HPY_RS_OPAQUE(F) __asm__("" : "+r"(F))
#else
#  define _HPY_RS_OPAQUE(F) ((void)0)
#endif

static inline HPy _HPyRs_u_h(cpy_PyObject *o)
{
    HPy h;
    h._i = (intptr_t)o;
    return h;
}

static inline cpy_PyObject *_HPyRs_u_o(HPy h)
{
    return (cpy_PyObject *)h._i;
}

/* PyVectorcall_NARGS: the count without PY_VECTORCALL_ARGUMENTS_OFFSET,
   the top bit of a size_t. */
static inline size_t _HPyRs_u_nargs(size_t nargsf)
{
    return nargsf & ~((size_t)1 << (8 * sizeof(size_t) - 1));
}

/* PyTuple_GET_SIZE and the items of the arguments tuple of tp_new/tp_init */
static inline HPy_ssize_t _HPyRs_u_tuple_len(cpy_PyObject *t)
{
    return ((const HPy_ssize_t *)t)[2];
}

static inline const HPy *_HPyRs_u_tuple_items(cpy_PyObject *t)
{
    return (const HPy *)((cpy_PyObject *const *)t + 3);
}

/* One argument block and trampoline per signature of hpy-sys/hpyfunc.txt. */
#include "hpy/universal/autogen_trampolines.h"

/* Capsule destructors: the "argument block" is the capsule itself. */
#define HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM, IMPL) \
    static void SYM(cpy_PyObject *capsule) \
    { \
        _HPY_TRAMPOLINE_DISPATCH(CAPSULE_DESTRUCTOR, IMPL, (void *)capsule); \
    }

#endif /* HPY_RS_UNIVERSAL_TRAMPOLINES_H */
