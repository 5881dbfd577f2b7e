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

/* One argument block and trampoline per signature of hpy-sys/hpyfunc.txt. */
#include "hpy/universal/autogen_trampolines.h"

/* Capsule destructors: the "argument block" is the capsule itself. */
#define HPyCapsule_DESTRUCTOR_TRAMPOLINE(SYM, IMPL) \
    static void SYM(cpy_PyObject *capsule) \
    { \
        _HPY_TRAMPOLINE_DISPATCH(CAPSULE_DESTRUCTOR, IMPL, (void *)capsule); \
    }

#endif /* HPY_RS_UNIVERSAL_TRAMPOLINES_H */
