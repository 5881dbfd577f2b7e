/*
 * Stand-in for <Python.h> used by universal-ABI builds.
 *
 * hpy.devel-style builds put hpy/forbid_python_h at the front of the include
 * path when targeting the universal ABI. A universal binary must not depend
 * on the CPython C API (it has to load on any Python implementation), so any
 * attempt to include Python.h lands here and stops the build.
 */
#if !defined(HPY_ABI_UNIVERSAL)
#  error "hpy/forbid_python_h is on the include path, but HPY_ABI_UNIVERSAL is not defined: the build system mixed up the target ABI"
#endif
/* The first sentence of the message is matched by upstream HPy's tests. */
#error "It is forbidden to #include <Python.h> when targeting the HPy Universal ABI (build with HPY_ABI_HYBRID to mix HPy with the CPython C API)"
