/* The va_list accessors of HPyRs_VaCursor (see hpy_rs_helpers.h). Each
   reads the next variable argument as the type its name says. */
#include "hpy_rs_helpers.h"

#define HPY_RS_VA_ACCESSOR(NAME, TYPE) \
    HPyAPI_HELPER TYPE NAME(HPyRs_VaCursor *c) { return va_arg(c->ap, TYPE); }

HPY_RS_VA_ACCESSOR(hpy_rs_va_int, int)
HPY_RS_VA_ACCESSOR(hpy_rs_va_uint, unsigned int)
HPY_RS_VA_ACCESSOR(hpy_rs_va_long, long)
HPY_RS_VA_ACCESSOR(hpy_rs_va_ulong, unsigned long)
HPY_RS_VA_ACCESSOR(hpy_rs_va_longlong, long long)
HPY_RS_VA_ACCESSOR(hpy_rs_va_ulonglong, unsigned long long)
HPY_RS_VA_ACCESSOR(hpy_rs_va_ssize, HPy_ssize_t)
HPY_RS_VA_ACCESSOR(hpy_rs_va_size, size_t)
HPY_RS_VA_ACCESSOR(hpy_rs_va_intmax, intmax_t)
HPY_RS_VA_ACCESSOR(hpy_rs_va_uintmax, uintmax_t)
HPY_RS_VA_ACCESSOR(hpy_rs_va_ptrdiff, ptrdiff_t)
HPY_RS_VA_ACCESSOR(hpy_rs_va_double, double)
HPY_RS_VA_ACCESSOR(hpy_rs_va_ptr, void *)
HPY_RS_VA_ACCESSOR(hpy_rs_va_hpy, HPy)

/* The Rust side reads intmax_t/uintmax_t as 64-bit integers. */
typedef char hpy_rs_intmax_is_64_bits[sizeof(intmax_t) == 8 ? 1 : -1];
