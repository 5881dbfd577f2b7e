/* Calls a C variadic function with an argument list chosen at run time,
 * each argument with the exact C type the callee will read (libffi's
 * ffi_prep_cif_var). The fuzz targets derive that list from the format
 * string they generated, so a mismatch between what a format asks for and
 * what the helper reads is the helper's bug, not undefined behaviour of
 * the harness. */
#include <ffi.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Keep in step with `Kind` in fuzz/src/varcall.rs. */
enum fz_kind {
    FZ_INT, FZ_UINT, FZ_LONG, FZ_ULONG, FZ_LONGLONG, FZ_ULONGLONG,
    FZ_SSIZE, FZ_SIZE, FZ_DOUBLE, FZ_PTR, FZ_HPY
};

typedef union {
    int i;
    unsigned int u;
    long l;
    unsigned long ul;
    long long ll;
    unsigned long long ull;
    ssize_t ss;
    size_t sz;
    double d;
    void *p;
    intptr_t h; /* HPy is struct { intptr_t _i; } */
} fz_value;

typedef struct {
    int kind;
    fz_value v;
} fz_arg;

/* a format of libFuzzer's largest input (4096 bytes) may ask for one
   argument per byte */
#define FZ_MAX_ARGS 4400

static ffi_type *hpy_elements[] = {&ffi_type_sint64, NULL};
static ffi_type hpy_type = {0, 0, FFI_TYPE_STRUCT, hpy_elements};

static ffi_type *type_of(int kind)
{
    switch (kind) {
    case FZ_INT: return &ffi_type_sint;
    case FZ_UINT: return &ffi_type_uint;
    case FZ_LONG: return &ffi_type_slong;
    case FZ_ULONG: return &ffi_type_ulong;
    case FZ_LONGLONG: return &ffi_type_sint64;
    case FZ_ULONGLONG: return &ffi_type_uint64;
    case FZ_SSIZE: return sizeof(ssize_t) == 8 ? &ffi_type_sint64 : &ffi_type_sint32;
    case FZ_SIZE: return sizeof(size_t) == 8 ? &ffi_type_uint64 : &ffi_type_uint32;
    case FZ_DOUBLE: return &ffi_type_double;
    case FZ_PTR: return &ffi_type_pointer;
    case FZ_HPY: return &hpy_type;
    default: return NULL;
    }
}

/* Calls fn(args[0], ..., args[nargs-1]), the first nfixed of them named
 * parameters, the rest variable arguments. ret_kind is FZ_INT or FZ_HPY;
 * the result is stored in *ret. Returns 0, or -1 if the call could not be
 * prepared (bad kind, too many arguments). */
int fz_call(void *fn, int ret_kind, fz_value *ret, unsigned nfixed,
            unsigned nargs, fz_arg *args)
{
    ffi_type *types[FZ_MAX_ARGS];
    void *values[FZ_MAX_ARGS];
    ffi_cif cif;
    ffi_type *rtype = type_of(ret_kind);
    union { ffi_arg word; fz_value v; } out;
    unsigned i;

    if (nargs > FZ_MAX_ARGS || nfixed > nargs || rtype == NULL)
        return -1;
    for (i = 0; i < nargs; i++) {
        types[i] = type_of(args[i].kind);
        if (types[i] == NULL)
            return -1;
        values[i] = &args[i].v;
    }
    if (ffi_prep_cif_var(&cif, FFI_DEFAULT_ABI, nfixed, nargs, rtype, types)
        != FFI_OK)
        return -1;
    ffi_call(&cif, FFI_FN(fn), &out, values);
    if (ret_kind == FZ_INT)
        ret->i = (int)out.word; /* libffi widens small integer results */
    else
        ret->h = out.v.h;
    return 0;
}
