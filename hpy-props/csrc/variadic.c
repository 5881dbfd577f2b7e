/* props_call_variadic: see variadic.h. */
#include "variadic.h"

#define PROPS_MAX_ARGS 96

static ffi_type *handle_elements[] = {&ffi_type_sint64, NULL};
ffi_type props_ffi_handle = {0, 0, FFI_TYPE_STRUCT, handle_elements};

/* The libffi type of each props_kind, in enum order; the props_arg member
   read for it starts at the union's first byte, like every member. */
static ffi_type *kind_type(unsigned char kind)
{
    switch (kind) {
    case PROPS_INT: return &ffi_type_sint;
    case PROPS_UINT: return &ffi_type_uint;
    case PROPS_LONG: return &ffi_type_slong;
    case PROPS_ULONG: return &ffi_type_ulong;
    case PROPS_LONGLONG: return &ffi_type_sint64;
    case PROPS_ULONGLONG: return &ffi_type_uint64;
    case PROPS_SSIZE: return sizeof(ptrdiff_t) == 8 ? &ffi_type_sint64 : &ffi_type_sint32;
    case PROPS_DOUBLE: return &ffi_type_double;
    case PROPS_POINTER: return &ffi_type_pointer;
    case PROPS_HANDLE: return &props_ffi_handle;
    default: return NULL;
    }
}

int props_call_variadic(void (*fn)(void), ffi_type *rtype, void *ret,
                        unsigned nfixed, ffi_type **fixed_types, void **fixed,
                        size_t nvars, const unsigned char *kinds,
                        const props_arg *vars)
{
    ffi_type *types[PROPS_MAX_ARGS];
    void *values[PROPS_MAX_ARGS];
    ffi_cif cif;
    size_t i, total = nfixed + nvars;

    if (sizeof(intptr_t) != 8 || total > PROPS_MAX_ARGS)
        return -1;
    for (i = 0; i < nfixed; i++) {
        types[i] = fixed_types[i];
        values[i] = fixed[i];
    }
    for (i = 0; i < nvars; i++) {
        types[nfixed + i] = kind_type(kinds[i]);
        if (types[nfixed + i] == NULL)
            return -1;
        values[nfixed + i] = (void *)&vars[i];
    }
    if (ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI, nfixed, (unsigned)total, rtype,
                         types) != FFI_OK)
        return -1;
    ffi_call(&cif, fn, ret, values);
    return 0;
}
