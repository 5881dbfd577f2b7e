"""Build examples/simple with setup.py (universal and hybrid ABIs), import it
in a fresh process and check every function.  Needs `pip install .` first."""
import importlib.util
import os
from pathlib import Path

import pytest

from hpy.devel.abitag import get_hpy_ext_suffix

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    'run_example', str(REPO / 'examples' / 'run_example.py'))
run_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_example)


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """{abi: build_dir}, built once per test session."""
    workdir = tmp_path_factory.mktemp('example')
    return {abi: run_example.build_example(abi, str(workdir))
            for abi in ('universal', 'hybrid')}


EXPECTED_CALLS = [
    ('answer()', '42', 'int'),
    ('bump()', '1', 'int'),
    ('bump()', '2', 'int'),
    ('double(21)', '42', 'int'),
    ("double('ab')", "'abab'", 'str'),
    ('square(7)', '49', 'int'),
    ('square(1.5)', '2.25', 'float'),
    ('truthy([])', 'False', 'bool'),
    ("truthy('x')", 'True', 'bool'),
    ("first('xyz')", "'x'", 'str'),
    ('first([10, 20])', '10', 'int'),
    ('type_name(3j)', "'complex'", 'str'),
    ('add_ints(1, 2, 3)', '6', 'int'),
    ('add_ints()', '0', 'int'),
    ('mean(1, 2, 4)', repr((1 + 2 + 4) / 3), 'float'),
    ('apply(max, 3, 9, 4)', '9', 'int'),
    ("apply(str.upper, 'hpy')", "'HPY'", 'str'),
    ("get_attr(1+2j, 'imag')", '2.0', 'float'),
    ("set_item(d, 'k', 5)", '5', 'int'),
    ('checked_div(-7, 2)', '-4', 'int'),
    ("greet('World')", "'Hello, World!'", 'str'),
    ("greet('Bob', greeting='Hi', punctuation='?')", "'Hi, Bob?'", 'str'),
    ("greet(name='Ann')", "'Hello, Ann!'", 'str'),
    ('scale(5)', '10', 'int'),
    ('scale(5, factor=3, offset=1)', '16', 'int'),
    ('scale(x=2, offset=10)', '14', 'int'),
    ('scale(2.5, 4)', '10.0', 'float'),
]

EXPECTED_ERRORS = {
    'checked_div(1, 0)': ('ValueError', 'simple.checked_div: division by zero'),
    'mean()': ('ValueError', 'mean() needs at least one number'),
    "add_ints('a')": ('TypeError', None),
    'first(5)': ('TypeError', None),
    'apply(42)': ('TypeError', 'apply(): first argument must be callable'),
    'greet(1)': ('TypeError', 'greet() arguments must be str'),
    'scale(1, bogus=2)': ('TypeError', 'unexpected keyword argument'),
    'get_attr(1)': ('TypeError', 'wrong number of arguments'),
}


@pytest.mark.parametrize('abi', ['universal', 'hybrid'])
def test_example_files(built, abi):
    build_dir = Path(built[abi])
    assert (build_dir / ('simple' + get_hpy_ext_suffix(abi))).is_file()
    # no .py stub by default: the import hook loads the binary
    assert not (build_dir / 'simple.py').exists()


@pytest.mark.parametrize('abi, mode', [
    ('universal', None),
    ('hybrid', None),
    ('universal', 'debug'),
])
def test_example_runs(built, abi, mode):
    report = run_example.run_example(built[abi], mode=mode)
    so = os.path.join(built[abi], 'simple' + get_hpy_ext_suffix(abi))
    assert report['module_file'] == so
    assert report['module_name'] == 'simple'
    assert report['doc'] == \
        'simple: an example HPy extension (built for the %s ABI)' % abi
    # set by the HPy_mod_exec slot
    assert report['greeting_attr'] == 'Hello'
    assert report['hpy_abi_attr'] == abi

    calls = report['calls']
    by_label = {label: (value, typename) for label, value, typename in calls}
    expected_ctx = 'HPy Debug Mode ABI' if mode == 'debug' else \
        'HPy Universal ABI'
    assert by_label['context_name()'][0].strip("'").startswith(expected_ctx)
    assert by_label['abi_version()'] == ("(0, 0, '%s')" % abi, 'tuple')
    rest = [c for c in calls
            if c[0] not in ('context_name()', 'abi_version()')]
    assert [tuple(c) for c in rest] == EXPECTED_CALLS
    assert report['dict_after_set_item'] == "{'k': 5}"

    errors = {label: (exc, msg) for label, exc, msg in report['errors']}
    assert set(errors) == set(EXPECTED_ERRORS)
    for label, (exc, msg) in EXPECTED_ERRORS.items():
        assert errors[label][0] == exc, (label, errors[label])
        if msg is not None:
            assert errors[label][1] == msg, (label, errors[label])


def test_run_example_script(capsys):
    assert run_example.main(['--abi', 'universal']) == 0
    out = capsys.readouterr().out
    assert 'ABI: universal' in out
    assert "greet('World')" in out and "'Hello, World!'" in out
    assert 'ValueError: simple.checked_div: division by zero' in out


# setuptools as users have it: the newest release, and the last line before
# 70 (distutils and the build commands changed a lot from 70 on).
SETUPTOOLS_VERSIONS = {'newest': 'setuptools', 'below-70': 'setuptools==69.5.1'}


@pytest.fixture(scope='module', params=sorted(SETUPTOOLS_VERSIONS))
def setuptools_python(request, tmp_path_factory):
    """A venv that sees the installed hpy package (system site-packages) but
    has its own setuptools.  Needs the package registry."""
    import subprocess
    import sys
    requirement = SETUPTOOLS_VERSIONS[request.param]
    venv = tmp_path_factory.mktemp('setuptools-' + request.param) / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--system-site-packages', str(venv)],
                   check=True)
    python = str(venv / 'bin' / 'python')
    proc = subprocess.run([python, '-m', 'pip', 'install', '-q', '--upgrade', requirement],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    assert proc.returncode == 0, 'installing %s failed:\n%s' % (requirement, proc.stdout)
    version = subprocess.run([python, '-c', 'import setuptools; print(setuptools.__version__)'],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True)
    major = int(version.stdout.split('.')[0])
    if request.param == 'newest':
        assert major >= 70, version.stdout
    else:
        assert version.stdout.strip() == requirement.split('==')[1]
    return python


@pytest.mark.parametrize('abi', ['universal', 'hybrid', 'cpython'])
def test_example_with_setuptools_versions(setuptools_python, tmp_path, abi):
    build_dir = run_example.build_example(abi, str(tmp_path), python=setuptools_python)
    report = run_example.run_example(build_dir, python=setuptools_python)
    rest = [tuple(c) for c in report['calls']
            if c[0] not in ('context_name()', 'abi_version()')]
    assert rest == EXPECTED_CALLS
    by_label = {label: value for label, value, _ in report['calls']}
    assert by_label['abi_version()'] == "(0, 0, '%s')" % abi
