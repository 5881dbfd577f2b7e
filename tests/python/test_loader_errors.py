"""Bad input to hpy.universal.load gets a clear Python exception, never a crash."""
import importlib.util
import os
import re
import subprocess

import pytest

import hpy.universal
from conftest import compile_hpy_module, load_hpy_module

GOOD = """
#include "hpy.h"
HPyDef_METH(f, "f", HPyFunc_NOARGS)
static HPy f_impl(HPyContext *ctx, HPy self)
{
    return HPyLong_FromLong(ctx, 42);
}
static HPyDef *defines[] = { &f, NULL };
static HPyModuleDef moduledef = { .defines = defines };
HPy_MODINIT(good, moduledef)
"""


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, str(path))
    return hpy.universal.load(name, str(path), spec)


def cc_shared(tmp_path, name, source, filename):
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    so = tmp_path / filename
    subprocess.run(["cc", "-shared", "-fPIC", str(src), "-o", str(so)], check=True)
    return so


def test_good_module_loads(tmp_path):
    so = compile_hpy_module(GOOD, "good", tmp_path)
    assert load("good", so).f() == 42


def test_nonexistent_path(tmp_path):
    missing = tmp_path / "nothere.hpy0.so"
    with pytest.raises(RuntimeError, match=r"Error during loading of the HPy extension module at path '.*nothere\.hpy0\.so'"):
        load("nothere", missing)


def test_not_a_shared_object(tmp_path):
    bogus = tmp_path / "junk.hpy0.so"
    bogus.write_bytes(b"this is not an ELF file")
    with pytest.raises(RuntimeError, match="Error message from dlopen"):
        load("junk", bogus)


def test_shared_object_that_is_not_hpy(tmp_path):
    so = cc_shared(tmp_path, "plain", "int plain_function(void) { return 1; }\n", "plain.hpy0.so")
    with pytest.raises(RuntimeError) as exc:
        load("plain", so)
    msg = str(exc.value)
    assert "Cannot locate the required minimal HPy versions" in msg
    assert "get_required_hpy_major_version_plain" in msg


def test_module_name_must_match_the_symbols(tmp_path):
    so = compile_hpy_module(GOOD, "good", tmp_path, filename="other.hpy0.so")
    with pytest.raises(RuntimeError, match="get_required_hpy_minor_version_other"):
        load("other", so)


def test_missing_hpyinit(tmp_path):
    source = """
    #include <stdint.h>
    typedef struct _HPyContext_s HPyContext;
    uint32_t get_required_hpy_major_version_noinit(void) { return 0; }
    uint32_t get_required_hpy_minor_version_noinit(void) { return 0; }
    void HPyInitGlobalContext_noinit(HPyContext *ctx) { (void)ctx; }
    """
    so = cc_shared(tmp_path, "noinit", source, "noinit.hpy0.so")
    with pytest.raises(RuntimeError) as exc:
        load("noinit", so)
    assert "while trying to find symbol 'HPyInit_noinit'" in str(exc.value)
    assert "HPy_MODINIT" in str(exc.value)


def test_missing_init_global_context(tmp_path):
    source = """
    #include <stdint.h>
    uint32_t get_required_hpy_major_version_noctx(void) { return 0; }
    uint32_t get_required_hpy_minor_version_noctx(void) { return 0; }
    """
    so = cc_shared(tmp_path, "noctx", source, "noctx.hpy0.so")
    with pytest.raises(RuntimeError, match="symbol 'HPyInitGlobalContext_noctx'"):
        load("noctx", so)


def test_hpyinit_returning_null(tmp_path):
    source = """
    #include <stdint.h>
    #include <stddef.h>
    uint32_t get_required_hpy_major_version_nulldef(void) { return 0; }
    uint32_t get_required_hpy_minor_version_nulldef(void) { return 0; }
    void HPyInitGlobalContext_nulldef(void *ctx) { (void)ctx; }
    void *HPyInit_nulldef(void) { return NULL; }
    """
    so = cc_shared(tmp_path, "nulldef", source, "nulldef.hpy0.so")
    with pytest.raises(RuntimeError, match="Function 'HPyInit_nulldef' returned NULL"):
        load("nulldef", so)


@pytest.mark.parametrize("major,minor", [(1, 0), (0, 1), (7, 3)])
def test_unsupported_version(tmp_path, major, minor):
    source = f"""
    #include <stdint.h>
    uint32_t get_required_hpy_major_version_ver(void) {{ return {major}; }}
    uint32_t get_required_hpy_minor_version_ver(void) {{ return {minor}; }}
    """
    so = cc_shared(tmp_path, "ver", source, f"ver.hpy{major}.so")
    with pytest.raises(RuntimeError) as exc:
        load("ver", so)
    assert str(exc.value) == (
        "HPy extension module 'ver' requires unsupported version of the HPy runtime. "
        f"Requested version: {major}.{minor}. Current HPy version: 0.0."
    )


@pytest.mark.parametrize("filename", ["tagless.so", "tagless.hpy.so", "tagless.hpyX.so"])
def test_missing_abi_tag(tmp_path, filename):
    so = compile_hpy_module(GOOD.replace("good", "tagless"), "tagless", tmp_path, filename=filename)
    with pytest.raises(RuntimeError) as exc:
        load("tagless", so)
    assert str(exc.value) == (
        f"HPy extension module 'tagless' at path '{so}': could not find HPy ABI tag "
        "encoded in the filename. The extension claims to be compiled with HPy ABI version: 0.0."
    )


def test_wrong_abi_tag(tmp_path):
    so = compile_hpy_module(GOOD.replace("good", "wrongtag"), "wrongtag", tmp_path,
                            filename="wrongtag.hpy1.so")
    with pytest.raises(RuntimeError) as exc:
        load("wrongtag", so)
    assert str(exc.value) == (
        f"HPy extension module 'wrongtag' at path '{so}': mismatch between the HPy ABI tag "
        "encoded in the filename and the major version requested by the HPy extension itself. "
        "Major version tag parsed from filename: 1. Requested version: 0.0."
    )


def test_hybrid_tag_is_accepted(tmp_path):
    so = compile_hpy_module(GOOD.replace("good", "hyb"), "hyb", tmp_path,
                            filename="hyb.hpy0-cp311-x86_64-linux-gnu.so")
    assert load("hyb", so).f() == 42


def test_dotted_and_dashed_names(tmp_path):
    so = compile_hpy_module(GOOD.replace("HPy_MODINIT(good", "HPy_MODINIT(my_mod"), "mymod",
                            tmp_path, filename="my-mod.hpy0.so")
    m = load("pkg.sub.my-mod", so)
    assert m.f() == 42


def test_non_ascii_name(tmp_path):
    so = compile_hpy_module(GOOD, "good", tmp_path)
    with pytest.raises(UnicodeEncodeError):
        load("gööd", so)


def test_module_state_is_rejected(make_module):
    with pytest.raises(SystemError, match="Module state is not supported yet"):
        make_module("""
        #include "hpy.h"
        static HPyModuleDef moduledef = { .size = 8 };
        HPy_MODINIT(state, moduledef)
        """, name="state")


def test_unsupported_method_signature(make_module):
    with pytest.raises(ValueError, match="Unsupported HPyMeth signature"):
        make_module("""
        #include "hpy.h"
        static HPy f_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, self); }
        static HPyDef f = { .kind = HPyDef_Kind_Meth, .meth = { .name = "f",
            .impl = (HPyCFunction)f_impl, .signature = HPyFunc_UNARYFUNC } };
        static HPyDef *defines[] = { &f, NULL };
        static HPyModuleDef moduledef = { .defines = defines };
        HPy_MODINIT(badsig, moduledef)
        """, name="badsig")


def test_unsupported_module_slot(make_module):
    with pytest.raises(SystemError, match=r"Unsupported slot in HPyModuleDef.defines \(value: 66\)"):
        make_module("""
        #include "hpy.h"
        HPyDef_SLOT(r, HPy_tp_repr)
        static HPy r_impl(HPyContext *ctx, HPy self) { return HPy_Dup(ctx, self); }
        static HPyDef *defines[] = { &r, NULL };
        static HPyModuleDef moduledef = { .defines = defines };
        HPy_MODINIT(badslot, moduledef)
        """, name="badslot")


def test_invalid_hpy_env(tmp_path):
    so = compile_hpy_module(GOOD, "good", tmp_path)
    spec = importlib.util.spec_from_file_location("good", str(so))
    with pytest.raises(ValueError, match="invalid HPy mode: nonsense"):
        hpy.universal._load_bootstrap("good", "good", "", str(so), None, spec, {"HPY": "nonsense"})
    with pytest.raises(ValueError, match="invalid HPy mode: other:debug"):
        hpy.universal._load_bootstrap("good", "good", "", str(so), None, spec, {"HPY": "other:debug"})


def test_load_bootstrap_sets_module_attributes(tmp_path, capfd):
    so = compile_hpy_module(GOOD, "good", tmp_path)
    spec = importlib.util.spec_from_file_location("pkg.good", str(so))
    m = hpy.universal._load_bootstrap("good", "pkg.good", "pkg", str(so), "LOADER", spec,
                                      {"HPY": "universal", "HPY_LOG": "1"})
    assert m.__file__ == str(so)
    assert m.__name__ == "pkg.good"
    assert m.__package__ == "pkg"
    assert m.__loader__ == "LOADER"
    assert m.__spec__ is spec and spec.origin == str(so)
    assert m.f() == 42
    assert "Loading 'good' in HPy universal mode\n" in capfd.readouterr().out


def test_load_argument_parsing(tmp_path):
    with pytest.raises(TypeError):
        hpy.universal.load("x")
    assert hpy.universal.MODE_UNIVERSAL == 0
    assert hpy.universal.MODE_DEBUG == 1
    assert hpy.universal.MODE_TRACE == 2
    version, rev = hpy.universal.get_version()
    assert version == "0.9.0" and isinstance(rev, str)


@pytest.mark.parametrize("meth,message", [
    ('{ .name = NULL, .impl = (HPyCFunction)1, .cpy_trampoline = (cpy_PyCFunction)1, '
     '.signature = HPyFunc_NOARGS }', "HPyDef_METH with a NULL name"),
    ('{ .name = "f", .impl = (HPyCFunction)1, .signature = HPyFunc_NOARGS }',
     "HPyDef_METH without a cpy_trampoline"),
])
def test_malformed_module_method(make_module, meth, message):
    # a NULL name would otherwise end CPython's method table early, and a
    # missing trampoline crash on the first call
    with pytest.raises(ValueError, match=message):
        make_module("""
        #include "hpy.h"
        static HPyDef f = { .kind = HPyDef_Kind_Meth, .meth = %s };
        static HPyDef *defines[] = { &f, NULL };
        static HPyModuleDef moduledef = { .defines = defines };
        HPy_MODINIT(badmeth, moduledef)
        """ % meth, name="badmeth")


def test_member_in_module_is_rejected(make_module):
    with pytest.raises(SystemError, match=r"Unsupported HPyDef kind in HPyModuleDef.defines \(value: 3\)"):
        make_module("""
        #include "hpy.h"
        HPyDef_MEMBER(mem, "m", HPyMember_LONG, 0)
        static HPyDef *defines[] = { &mem, NULL };
        static HPyModuleDef moduledef = { .defines = defines };
        HPy_MODINIT(modmember, moduledef)
        """, name="modmember")
