"""What an HPy extension built with hpy.devel exports (Linux: `nm -D`).

A CPython-ABI extension must export exactly `PyInit_<name>`, a universal or
hybrid one exactly the four symbols of the loader protocol. Everything else
the headers, the helpers and the static runtime define -- the HPyDef globals
of the HPyDef_* macros, HPyStructSequence_UnnamedField, the helpers, the
runtime -- stays inside the shared object. Hidden visibility is per shared
object, so an HPyDef defined in one C file and listed in another file's
module definition still links: the module used here is made of two such
files and is imported and called. Runs against the installed package
(`pip install .`).
"""
import importlib.util
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from hpy.devel.abitag import get_hpy_ext_suffix

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='reads ELF dynamic symbol tables with nm')

REPO = Path(__file__).resolve().parents[2]
ABIS = ('universal', 'hybrid', 'cpython')

# Defined by some (older) linkers in every shared object; nothing of ours.
LINKER_MARKERS = {'_init', '_fini', '_edata', '_end', '__bss_start'}

DEFS_C = r'''
#include <hpy.h>

/* Listed in the module definition of main.c, which declares it extern. */
HPyDef_METH(shared_meth, "shared_meth", HPyFunc_NOARGS, .doc = "defined in defs.c")
static HPy shared_meth_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyLong_FromLong(ctx, 42);
}

/* A slot, a member and a get/set descriptor of Point (main.c), too. */
HPyDef_SLOT(point_repr, HPy_tp_repr)
static HPy point_repr_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, "<Point>");
}

typedef struct { long x; } PointObject;
HPyDef_MEMBER(point_x, "x", HPyMember_LONG, offsetof(PointObject, x))

HPyDef_GET(point_double_x, "double_x")
static HPy point_double_x_get(HPyContext *ctx, HPy self, void *closure)
{
    (void)closure;
    HPy x = HPy_GetAttr_s(ctx, self, "x");
    if (HPy_IsNull(x))
        return HPy_NULL;
    HPy res = HPy_Add(ctx, x, x);
    HPy_Close(ctx, x);
    return res;
}
'''

MAIN_C = r'''
#include <hpy.h>

extern HPyDef shared_meth, point_repr, point_x, point_double_x;

typedef struct { long x; } PointObject;

HPyDef_METH(unnamed_field, "unnamed_field", HPyFunc_NOARGS)
static HPy unnamed_field_impl(HPyContext *ctx, HPy self)
{
    (void)self;
    return HPyUnicode_FromString(ctx, HPyStructSequence_UnnamedField);
}

static HPyDef *point_defines[] = { &point_repr, &point_x, &point_double_x, NULL };
static HPyType_Spec point_spec = {
    .name = "symmod.Point",
    .basicsize = sizeof(PointObject),
    .flags = HPy_TPFLAGS_DEFAULT,
    .defines = point_defines,
};

HPyDef_SLOT(symmod_exec, HPy_mod_exec)
static int symmod_exec_impl(HPyContext *ctx, HPy m)
{
    return HPyHelpers_AddType(ctx, m, "Point", &point_spec, NULL) ? 0 : -1;
}

static HPyDef *module_defines[] = {
    &shared_meth, &unnamed_field, &symmod_exec, NULL
};
static HPyModuleDef moduledef = {
    .doc = "two files",
    .defines = module_defines,
};
HPy_MODINIT(symmod, moduledef)
'''

SETUP_PY = '''
from setuptools import setup, Extension
setup(name="symmod", version="0.1",
      hpy_ext_modules=[Extension("symmod", ["main.c", "defs.c"],
                                 extra_compile_args=["-Wall", "-Werror"])])
'''

# every HPyDef of the module, and the helper's data object
HIDDEN_DATA = ('shared_meth', 'point_repr', 'point_x', 'point_double_x',
               'unnamed_field', 'symmod_exec', 'HPyStructSequence_UnnamedField')


def expected_exports(abi, name):
    if abi == 'cpython':
        return {'PyInit_' + name}
    return {'HPyInit_' + name, 'HPyInitGlobalContext_' + name,
            'get_required_hpy_major_version_' + name,
            'get_required_hpy_minor_version_' + name}


def nm(*args):
    proc = subprocess.run(['nm'] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    assert proc.returncode == 0, proc.stderr
    return [line.split() for line in proc.stdout.splitlines() if line.strip()]


def exported(so):
    """Names of the dynamic symbols `so` defines (any type: code or data)."""
    return {fields[-1] for fields in nm('-D', '--defined-only', str(so))
            if len(fields) >= 3} - LINKER_MARKERS


def local_symbols(so):
    """{name: type letter} of the local symbols in `so`'s symbol table."""
    return {fields[2]: fields[1] for fields in nm(str(so))
            if len(fields) == 3 and fields[1].islower()}


def binary_name(name, abi):
    if abi == 'cpython':
        return name + sysconfig.get_config_var('EXT_SUFFIX')
    return name + get_hpy_ext_suffix(abi)


def run_py(code, cwd):
    env = dict(os.environ)
    env.pop('HPY', None)
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=str(cwd),
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def build_project(tmp_path, abi, static_libs):
    proj = tmp_path / 'proj'
    proj.mkdir()
    (proj / 'defs.c').write_text(DEFS_C)
    (proj / 'main.c').write_text(MAIN_C)
    (proj / 'setup.py').write_text(SETUP_PY)
    cmd = [sys.executable, 'setup.py', '--hpy-abi=' + abi]
    if static_libs:
        cmd.append('--hpy-use-static-libs')
    cmd += ['build_ext', '--inplace']
    proc = subprocess.run(cmd, cwd=str(proj), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout
    so = proj / binary_name('symmod', abi)
    assert so.is_file()
    return proj, so


@pytest.mark.parametrize('static_libs', [False, True], ids=['sources', 'static-libs'])
@pytest.mark.parametrize('abi', ABIS)
def test_two_file_extension_exports(tmp_path, abi, static_libs):
    proj, so = build_project(tmp_path, abi, static_libs)
    assert exported(so) == expected_exports(abi, 'symmod')
    # the HPyDefs and UnnamedField are there, as local (hidden) data ...
    local = local_symbols(so)
    for sym in HIDDEN_DATA:
        assert local.get(sym) in ('d', 'r', 'b'), (sym, local.get(sym))
    # ... and none is left to the dynamic linker to find elsewhere
    undefined = {fields[-1] for fields in nm('-D', '--undefined-only', str(so))}
    assert not undefined & set(HIDDEN_DATA)

    # the HPyDef of defs.c really is the one main.c's module lists
    proc = run_py('''
        import symmod
        p = symmod.Point()
        p.x = 21
        print(symmod.shared_meth(), symmod.shared_meth.__doc__,
              symmod.unnamed_field(), repr(p), p.double_x, symmod.__doc__, sep='|')
    ''', cwd=proj)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().split('|') == \
        ['42', 'defined in defs.c', '_', '<Point>', '42', 'two files']


@pytest.fixture(scope='module')
def example_builds(tmp_path_factory):
    spec = importlib.util.spec_from_file_location(
        'run_example', str(REPO / 'examples' / 'run_example.py'))
    run_example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_example)
    workdir = tmp_path_factory.mktemp('example-symbols')
    return {abi: Path(run_example.build_example(abi, str(workdir))) for abi in ABIS}


@pytest.mark.parametrize('abi', ABIS)
def test_example_exports(example_builds, abi):
    so = example_builds[abi] / binary_name('simple', abi)
    assert so.is_file()
    assert exported(so) == expected_exports(abi, 'simple')
    # its HPyDef_METH globals (e.g. `answer`) are still in there, hidden
    assert local_symbols(so).get('answer') in ('d', 'r', 'b')
