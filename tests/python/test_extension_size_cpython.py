"""What the static runtime of the CPython ABI (libhpy-ctx-cpython.a, crate
hpy-cpython-abi, which contains hpy-cpython and hpy-helpers) adds to an
extension (issue 13, "small extensions"): the two sources of
test_extension_size.py, built with `--hpy-abi=cpython` by the installed
hpy.devel.

The runtime is no_std (CPython's API declared by hpy-cpython itself, its own
allocator and panic handler): no Rust standard library, so no unwinder, no
backtrace printer and no `libgcc_s`. As shipped (feature `direct-calls`)
nothing calls through the extension's context table, which holds only the
data members, so with --gc-sections an extension carries only the context
functions it calls.

The runtime's error messages are formatted by CPython (`PyErr_Format`), not
by `core::fmt`, which would weigh more than all of them.

Bounds: `size`'s text column measured on x86-64 Linux with CPython 3.11,
plus about 10 % (simple) and 5 % (every_helper) of headroom. Measured (ours
/ upstream 0.9.0's hpy.devel, same source, cpython ABI):
  simple.c        35,051 / 93,861  (0.37x; with std: 381,062; no_std with
                                    the full table: 108,538)
  every_helper.c  87,851 / 60,195  (1.46x; with std: 413,025; full table:
                                    143,530; with format!: 115,390; at
                                    opt-level 3 rather than 2: 91,443)
A bound failing means the runtime grew: measure before raising it.
"""
import importlib.util
import sys

import pytest

# the builders and binutils readers of the universal test; its pytestmark
# (Linux and binutils only) applies here too
from test_extension_size import (EVERY_HELPER, SOURCE, build_hpy, build_plain,  # noqa: F401
                                 check_every_helper, needed, pytestmark, symbols, text_size)

TEXT_BOUNDS = {  # measured + ~10 %
    "simple": 38_600,
    "every_helper": 92_300,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("size-cpython")
    out = {"plain": build_plain(tmp)}
    for name, source in (("simple", SOURCE), ("every_helper", EVERY_HELPER)):
        out[name] = build_hpy(tmp, name, source, "cpython")
    return out


@pytest.mark.parametrize("name", ["simple", "every_helper"])
def test_no_rust_std(built, name):
    syms = symbols(built[name])
    # the runtime is in it (the context, module creation)
    assert any(s.endswith(" _HPyRs_cpy_ctx") for s in syms)
    assert any(s.endswith(" _HPyRs_cpy_ModuleDef_Init") for s in syms)
    leaked = [s for s in syms if "std::" in s]
    assert not leaked, "the CPython-ABI runtime brought back Rust's std:\n" + "\n".join(leaked[:20])


# What alloc's out-of-memory handler (`handle_alloc_error`, reached from
# every Vec or Box the runtime grows) formats its "memory allocation of N
# bytes failed" with: the one use of core::fmt that stable Rust gives no way
# to replace (a custom handler, `#[alloc_error_handler]`, is unstable).
OOM_HANDLER_FMT = ("<usize as core::fmt::Display>::fmt",
                   "<core::fmt::Formatter>::pad_integral::write_prefix")


@pytest.mark.parametrize("name", ["simple", "every_helper"])
def test_no_core_fmt(built, name):
    # the runtime's messages go through CPython's formatter; a format!,
    # `{:?}`, expect or slice-index panic brings core::fmt back
    syms = symbols(built[name])
    fmt = [s for s in syms if "core::fmt" in s and not s.endswith(OOM_HANDLER_FMT)]
    assert not fmt, "core::fmt in the CPython-ABI runtime:\n" + "\n".join(fmt[:20])


@pytest.mark.parametrize("name", ["simple", "every_helper"])
def test_no_unwinder(built, name):
    # panic=abort without std: nothing refers to the unwinder (which would
    # need libgcc_s, or fail to load for want of rust_eh_personality)
    undefined = [s for s in symbols(built[name]) if s.split()[0] in ("U", "w")]
    unwind = [s for s in undefined if "_Unwind_" in s or "rust_eh_personality" in s]
    assert not unwind, "\n".join(unwind)


@pytest.mark.parametrize("name", ["simple", "every_helper"])
def test_needs_no_new_shared_library(built, name):
    # what a plain C extension needs (libc; upstream's builds need the same)
    assert needed(built[name]) <= needed(built["plain"])


def test_uncalled_context_functions_are_not_linked(built):
    # simple.c creates no type, capsule or wide string: the table names no
    # function, so the linker left those out (under any name: the export
    # `_HPyRs_cpy_ctx_X` or hpy-cpython's `ctx_X`)
    syms = symbols(built["simple"])
    assert any("ctx_Unicode_FromString" in s for s in syms)  # called
    for name in ("ctx_Type_FromSpec", "ctx_Capsule_New", "ctx_Unicode_FromWideChar"):
        linked = [s for s in syms if name in s]
        assert not linked, linked


@pytest.mark.parametrize("name", sorted(TEXT_BOUNDS))
def test_text_size(built, name):
    size, bound = text_size(built[name]), TEXT_BOUNDS[name]
    assert size <= bound, f"{built[name].name} (cpython ABI): {size} bytes of text (bound {bound})"


def _load(name, so):
    spec = importlib.util.spec_from_file_location(name, str(so))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_binaries_load(built, monkeypatch):
    # what was measured is working modules (loaded like any CPython extension)
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    mod = _load("simple", built["simple"])
    assert mod.add_ints(2, 3) == 5
    check_every_helper(_load("every_helper", built["every_helper"]))
