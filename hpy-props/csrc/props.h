/*
 * What the C shims of hpy-props share with the Rust tests (src/shims.rs
 * mirror these declarations): how many output pointers an argument parse
 * is handed, and how a variadic argument chosen at run time is described
 * (its kind) and carried (a props_arg).
 */
#ifndef HPY_PROPS_H
#define HPY_PROPS_H

#include <stddef.h>
#include <stdint.h>

/* Every parse call passes this many output pointers; a format uses the
   first ones (each unit the parsers support writes through exactly one). */
#define PROPS_MAX_OUTS 16

/* The C type of one variadic argument, after default promotions. */
enum props_kind {
    PROPS_INT = 0,       /* int */
    PROPS_UINT = 1,      /* unsigned int */
    PROPS_LONG = 2,      /* long */
    PROPS_ULONG = 3,     /* unsigned long */
    PROPS_LONGLONG = 4,  /* long long */
    PROPS_ULONGLONG = 5, /* unsigned long long */
    PROPS_SSIZE = 6,     /* Py_ssize_t / HPy_ssize_t */
    PROPS_DOUBLE = 7,    /* double */
    PROPS_POINTER = 8,   /* a data pointer: const char *, PyObject * */
    PROPS_HANDLE = 9,    /* HPy, a struct holding one intptr_t */
    PROPS_NKINDS = 10
};

/* One variadic argument: the member of its kind is the one read. */
typedef union {
    int i;
    unsigned int u;
    long l;
    unsigned long ul;
    long long ll;
    unsigned long long ull;
    ptrdiff_t n;
    double d;
    const void *p;
    intptr_t h;
} props_arg;

#endif /* HPY_PROPS_H */
