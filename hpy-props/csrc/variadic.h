/*
 * Calling a variadic C function with arguments whose number and types are
 * chosen at run time (libffi), as the build-value properties must.
 */
#ifndef HPY_PROPS_VARIADIC_H
#define HPY_PROPS_VARIADIC_H

#include "props.h"
#include <ffi.h>

/* Calls fn(fixed..., vars...) and stores its result in *ret (rtype).
   Returns 0, or -1 if libffi refuses the call description (an unknown kind,
   too many arguments), in which case fn is not called. */
int props_call_variadic(void (*fn)(void), ffi_type *rtype, void *ret,
                        unsigned nfixed, ffi_type **fixed_types, void **fixed,
                        size_t nvars, const unsigned char *kinds,
                        const props_arg *vars);

/* The libffi type of an HPy (a struct of one intptr_t). */
extern ffi_type props_ffi_handle;

#endif /* HPY_PROPS_VARIADIC_H */
