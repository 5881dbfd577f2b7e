"""pytest plugin: compile upstream HPy's test extensions against our headers.

Run upstream's own test suite (test/ of the hpy sdist) with this plugin and
the stub `hpy` package on PYTHONPATH (see run_upstream.sh). Every time a
test asks upstream's ExtensionCompiler to build a module, the plugin expands
the test's C template exactly as upstream does, compiles the result with
gcc -c -Wall -Werror against hpy-rs's include/ and then stops the test:

  - compiled cleanly         -> test reported as skipped "HPYRS-COMPILED"
  - compile error            -> distutils CompileError, as upstream raises;
                                tests expecting a compile error (e.g.
                                test_legacy_forbidden) then pass or fail on
                                the diagnostic text, all others fail.

Nothing is linked or run (scripts/conformance.py does that, against the
installed package). The debug/trace variants are skipped because their C
source is identical to the universal/hybrid one.
"""
import os
import subprocess
import sysconfig

import pytest

INCLUDE = os.environ['HPY_RS_INCLUDE']
CC = os.environ.get('CC', 'gcc')
CFLAGS = ['-c', '-O0', '-Wall', '-Werror', '-Wfatal-errors']


def _abi_flags(abi):
    if abi == 'universal':
        return ['-DHPY_ABI_UNIVERSAL',
                '-I' + os.path.join(INCLUDE, 'hpy', 'forbid_python_h')]
    if abi == 'hybrid':
        return ['-DHPY_ABI_HYBRID', '-I' + sysconfig.get_paths()['include']]
    if abi == 'cpython':
        return ['-DHPY_ABI_CPYTHON', '-I' + sysconfig.get_paths()['include']]
    return None


def _compile_module(self, main_src, ExtensionTemplate=None, name='mytest',
                    extra_sources=()):
    import distutils.errors
    abi = self.hpy_abi
    if abi not in ('universal', 'hybrid', 'cpython'):
        pytest.skip('HPYRS-SKIP: same source as universal/hybrid')
    ExtensionTemplate = self._fixup_template(ExtensionTemplate)
    sources = [self._expand(ExtensionTemplate, name, main_src)]
    for i, src in enumerate(extra_sources):
        sources.append(self._expand(ExtensionTemplate, 'extmod_%d' % i, src))
    for src in sources:
        path = str(self.tmpdir.join(src))
        cmd = [CC] + CFLAGS + _abi_flags(abi) + ['-I' + INCLUDE, path,
                                                   '-o', os.devnull]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            # upstream tests read the diagnostics from the captured output
            print(proc.stdout)
            print(proc.stderr)
            raise distutils.errors.CompileError(proc.stderr)
    pytest.skip('HPYRS-COMPILED (%s)' % abi)


def pytest_configure(config):
    import test.support as support
    support.ExtensionCompiler.compile_module = _compile_module
