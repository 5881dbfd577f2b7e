"""Build HPy extensions written in Rust (crates using ``hpy-core``).

A Rust HPy extension is a ``cdylib`` crate.  ``cargo build`` produces
``lib<name>.so``; this module turns that into an importable extension:

* **universal ABI** (the default): ``<module>.hpy0.so`` plus the ``<module>.py``
  loader stub that ``hpy.devel`` writes next to universal binaries (``import``
  finds the stub, which loads the binary through ``hpy.universal``).  One
  binary serves every Python the HPy runtime supports: wheels are tagged
  ``py3-none-<platform>`` and depend on ``hpy-rs``.
* **cpython ABI**: the crate is built with the cargo feature
  ``hpy-core/cpython-abi`` (and the crate's own ``cpython-abi`` feature, if it
  declares one) and ``PYO3_PYTHON`` set to the running interpreter; the file
  is ``<module><EXTENSION_SUFFIXES[0]>``, an ordinary CPython extension,
  and wheels are tagged for that interpreter (``cp311-cp311-linux_x86_64``).

Two front ends use it:

* the PEP 517 backend ``hpy.devel.rust_backend`` (``pip install CRATE_DIR``,
  ``pip wheel CRATE_DIR``; ABI from ``--config-settings hpy-abi=...`` or the
  ``HPY_ABI`` environment variable);
* the in-place development command::

      python -m hpy.devel.rust build [--abi universal|cpython]
                                     [--release|--debug] [--out DIR] [CRATE_DIR]

Everything here uses the standard library only (the wheel is written by
hand); cargo is taken from ``$CARGO``, else ``cargo`` on ``PATH``, and
``CARGO_TARGET_DIR`` and the rest of cargo's configuration are honoured.
"""

import argparse
import base64
import hashlib
import importlib.machinery
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from . import _HPY_UNIVERSAL_MODULE_STUB_TEMPLATE
from .abitag import get_hpy_ext_suffix
from .wheel import RUNTIME_DISTRIBUTION, runtime_requirement

__all__ = [
    'RUST_ABIS', 'DEFAULT_RUST_ABI', 'RustBuildError', 'CrateInfo',
    'read_crate', 'build_extension', 'extension_filename', 'stub_source',
    'install_inplace', 'wheel_tag', 'metadata_text', 'write_wheel',
    'write_sdist', 'main',
]

RUST_ABIS = ('universal', 'cpython')
DEFAULT_RUST_ABI = 'universal'
# The cargo feature of hpy-core that selects the CPython ABI, and the name
# a crate may give to a feature of its own that the build then enables too.
CPYTHON_ABI_FEATURE = 'cpython-abi'
HPY_CORE_CRATE = 'hpy-core'
# The distribution that provides hpy.universal (what universal wheels need).

_STUB_FIRST_LINE = _HPY_UNIVERSAL_MODULE_STUB_TEMPLATE.splitlines()[0]


class RustBuildError(Exception):
    """A build that cannot proceed; the message says what to do."""


# ---------------------------------------------------------------------------
# configuration files
# ---------------------------------------------------------------------------

def _toml_loads(text):
    try:
        import tomllib  # Python >= 3.11
    except ImportError:
        tomllib = None
        # Python < 3.11: tomli, or the copy setuptools or pip vendor
        for name in ('tomli', 'setuptools.extern.tomli',
                     'setuptools._vendor.tomli', 'pip._vendor.tomli'):
            try:
                tomllib = __import__(name, fromlist=['loads'])
                break
            except ImportError:
                continue
        if tomllib is None:
            raise RustBuildError(
                'reading pyproject.toml needs a TOML parser: Python >= 3.11, '
                'or "pip install tomli"')
    return tomllib.loads(text)


def read_pyproject(crate_dir):
    """The parsed ``pyproject.toml`` of ``crate_dir`` ({} if there is none)."""
    path = Path(crate_dir) / 'pyproject.toml'
    if not path.is_file():
        return {}
    try:
        return _toml_loads(path.read_text(encoding='utf-8'))
    except RustBuildError:
        raise
    except Exception as e:
        raise RustBuildError('%s: invalid TOML: %s' % (path, e))


def _cargo():
    cargo = os.environ.get('CARGO') or 'cargo'
    found = shutil.which(cargo)
    if found is None:
        raise RustBuildError(
            'cargo not found (looked for %r%s). Building a Rust HPy extension '
            'needs the Rust toolchain: install it from https://rustup.rs, or '
            'point the CARGO environment variable at cargo.'
            % (cargo, ' from $CARGO' if os.environ.get('CARGO') else ' on PATH'))
    return found


class CrateInfo:
    """What the build needs to know about the crate in ``crate_dir``
    (from ``cargo metadata``)."""

    def __init__(self, crate_dir, package, target_directory):
        self.crate_dir = Path(crate_dir)
        self.package = package
        self.name = package['name']
        self.version = package['version']
        self.id = package['id']
        self.target_directory = target_directory
        self.features = package.get('features') or {}
        libs = [t for t in package['targets']
                if 'cdylib' in t['kind'] or 'lib' in t['kind']
                or 'rlib' in t['kind'] or 'staticlib' in t['kind']
                or 'dylib' in t['kind']]
        self.lib_target = libs[0] if libs else None
        self.lib_name = (self.lib_target['name'].replace('-', '_')
                         if self.lib_target else None)
        self.crate_types = (list(self.lib_target.get('crate_types')
                                 or self.lib_target['kind'])
                            if self.lib_target else [])
        # dependency name -> the name features refer to it by
        self.dependencies = {}
        for dep in package.get('dependencies') or ():
            if dep.get('kind') in (None, 'normal'):
                self.dependencies[dep['name']] = dep.get('rename') or dep['name']

    def check_cdylib(self):
        if self.lib_target is None:
            raise RustBuildError(
                'crate %r (%s) has no library target. An HPy extension is a '
                'library: add src/lib.rs and, to Cargo.toml:\n\n'
                '    [lib]\n    crate-type = ["cdylib"]\n'
                % (self.name, self.crate_dir / 'Cargo.toml'))
        if 'cdylib' not in self.crate_types:
            raise RustBuildError(
                'the library of crate %r is not a cdylib (crate-type = %s), '
                'so cargo makes no shared object Python could load. Add to '
                '%s:\n\n    [lib]\n    crate-type = ["cdylib"]\n\n'
                '(keep "rlib" in the list too if other crates or tests use '
                'the library: crate-type = ["cdylib", "rlib"])'
                % (self.name, json.dumps(self.crate_types),
                   self.crate_dir / 'Cargo.toml'))

    def cpython_abi_features(self):
        """The ``--features`` that select the CPython ABI."""
        features = []
        if HPY_CORE_CRATE in self.dependencies:
            features.append('%s/%s' % (self.dependencies[HPY_CORE_CRATE],
                                       CPYTHON_ABI_FEATURE))
        if CPYTHON_ABI_FEATURE in self.features:
            features.append(CPYTHON_ABI_FEATURE)
        if not features:
            raise RustBuildError(
                'cannot build crate %r for the cpython ABI: it neither depends '
                'on %s (whose feature %r selects that ABI) nor declares a '
                'feature %r of its own. Build it for the universal ABI, or add '
                '%s to its [dependencies].'
                % (self.name, HPY_CORE_CRATE, CPYTHON_ABI_FEATURE,
                   CPYTHON_ABI_FEATURE, HPY_CORE_CRATE))
        return features


def read_crate(crate_dir):
    """Run ``cargo metadata`` on ``crate_dir`` and return a :class:`CrateInfo`."""
    crate_dir = Path(crate_dir).resolve()
    manifest = crate_dir / 'Cargo.toml'
    if not manifest.is_file():
        raise RustBuildError(
            'no Cargo.toml in %s: a Rust HPy extension is a cargo crate '
            '(cargo new --lib NAME, then crate-type = ["cdylib"] under [lib] '
            'and hpy-core in [dependencies])' % crate_dir)
    cmd = [_cargo(), 'metadata', '--no-deps', '--format-version', '1',
           '--manifest-path', str(manifest)]
    proc = subprocess.run(cmd, cwd=str(crate_dir), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    if proc.returncode != 0:
        raise RustBuildError('%s failed:\n%s' % (' '.join(cmd), proc.stderr))
    meta = json.loads(proc.stdout)
    for package in meta['packages']:
        if Path(package['manifest_path']).resolve() == manifest:
            return CrateInfo(crate_dir, package, meta.get('target_directory'))
    raise RustBuildError(
        '%s declares no package (a virtual workspace manifest?): run the '
        'build in the directory of the extension crate itself' % manifest)


def module_name_for(crate, pyproject=None, module=None):
    """The extension's full module name: ``module`` if given, else
    ``[tool.hpy] module`` of pyproject.toml, else the crate's [lib] name."""
    if not module:
        tool = ((pyproject or {}).get('tool') or {}).get('hpy') or {}
        module = tool.get('module')
    if not module:
        module = crate.lib_name
    if not isinstance(module, str) or not all(
            part.isidentifier() for part in module.split('.')):
        raise RustBuildError(
            'invalid extension module name %r (set [tool.hpy] module in '
            'pyproject.toml to a dotted Python name)' % (module,))
    return module


def resolve_abi(abi=None, config_settings=None):
    """The ABI to build: ``abi``, else ``config_settings['hpy-abi']``, else
    ``$HPY_ABI``, else universal."""
    if not abi and config_settings:
        for key in ('hpy-abi', '--hpy-abi', 'hpy_abi'):
            value = config_settings.get(key)
            if value:
                abi = value[-1] if isinstance(value, (list, tuple)) else value
                break
    if not abi:
        abi = os.environ.get('HPY_ABI') or DEFAULT_RUST_ABI
    abi = abi.strip().lower()
    if abi not in RUST_ABIS:
        hint = ''
        if abi == 'hybrid':
            hint = (' (the hybrid ABI is for C extensions that mix HPy with '
                    'the C API; a Rust crate is built universal or cpython)')
        raise RustBuildError('unknown HPy ABI %r for a Rust extension: choose '
                             'one of %s%s' % (abi, ', '.join(RUST_ABIS), hint))
    if abi == 'cpython' and sys.implementation.name != 'cpython':
        raise RustBuildError('the cpython ABI needs CPython (this is %s): '
                             'build for the universal ABI'
                             % sys.implementation.name)
    return abi


# ---------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------

class BuildResult:
    def __init__(self, crate, module, abi, artifact, stub=False):
        self.crate = crate
        self.module = module            # full dotted module name
        self.abi = abi
        self.artifact = Path(artifact)  # the shared object cargo wrote
        # write the .py loader stub next to a universal binary: only needed
        # by upstream's runtime (ours imports .hpy0.so files by itself)
        self.stub = stub

    @property
    def filename(self):
        return extension_filename(self.module, self.abi)

    def files(self):
        """``[(relative path, source path or text)]`` of what to install:
        the binary and, for universal with ``stub``, the loader stub."""
        parts = self.module.split('.')
        rel_dir = '/'.join(parts[:-1])
        prefix = rel_dir + '/' if rel_dir else ''
        out = [(prefix + self.filename, self.artifact)]
        if self.abi == 'universal' and self.stub:
            out.append((prefix + parts[-1] + '.py',
                        stub_source(self.filename)))
        return out


def extension_filename(module, abi):
    """``demo.hpy0.so`` (universal) or ``demo.cpython-311-x86_64-linux-gnu.so``
    (cpython) for module ``demo`` (or ``pkg.demo``)."""
    short = module.rsplit('.', 1)[-1]
    if abi == 'cpython':
        return short + importlib.machinery.EXTENSION_SUFFIXES[0]
    return short + get_hpy_ext_suffix('universal')


def stub_source(binary_filename):
    """The ``.py`` loader stub for a universal binary, exactly as
    ``hpy.devel`` writes it."""
    return _HPY_UNIVERSAL_MODULE_STUB_TEMPLATE.format(
        ext_file=binary_filename,
        module_name=binary_filename.split('.', 1)[0])


def _is_shared_object(path):
    name = os.path.basename(path)
    return name.endswith(('.so', '.dylib', '.pyd')) or (
        name.endswith('.dll') and not name.endswith('.dll.lib'))


def build_extension(crate_dir, abi=DEFAULT_RUST_ABI, release=True,
                    module=None, pyproject=None, log=None, stub=False):
    """Run cargo on ``crate_dir`` and return a :class:`BuildResult` (the
    shared object stays where cargo put it).  ``stub``: also install a ``.py``
    loader stub next to a universal binary (for upstream HPy's runtime, which
    has no import hook)."""
    log = log or _log
    crate_dir = Path(crate_dir).resolve()
    crate = read_crate(crate_dir)
    crate.check_cdylib()
    if pyproject is None:
        pyproject = read_pyproject(crate_dir)
    module = module_name_for(crate, pyproject, module)
    env = dict(os.environ)
    features = []
    if abi == 'cpython':
        features = crate.cpython_abi_features()
        # pyo3-ffi (inside hpy-core) reads the target interpreter from here
        env['PYO3_PYTHON'] = sys.executable
    cargo = _cargo()
    cmd = [cargo]
    if abi == 'cpython' and sys.platform == 'darwin':
        # CPython extensions on macOS leave the interpreter's symbols
        # undefined (resolved at load time), like setuptools does.
        cmd += ['rustc']
    else:
        cmd += ['build']
    cmd += ['--lib', '--manifest-path', str(crate_dir / 'Cargo.toml'),
            '--message-format=json-render-diagnostics']
    if release:
        cmd.append('--release')
    if features:
        cmd += ['--features', ','.join(features)]
    if cmd[1] == 'rustc':
        cmd += ['--', '-C', 'link-arg=-undefined',
                '-C', 'link-arg=dynamic_lookup']
    log('building %s (crate %s, %s ABI, %s): %s'
        % (module, crate.name, abi, 'release' if release else 'debug',
           ' '.join(cmd)))
    # stdout: JSON messages (read below); stderr: cargo's progress and the
    # rendered compiler diagnostics, straight to the user.
    proc = subprocess.Popen(cmd, cwd=str(crate_dir), env=env,
                            stdout=subprocess.PIPE, universal_newlines=True)
    artifact = None
    for line in proc.stdout:
        if not line.startswith('{'):
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get('reason') != 'compiler-artifact':
            continue
        if msg.get('package_id') != crate.id:
            continue
        if 'cdylib' not in (msg.get('target') or {}).get('kind', ()):
            continue
        for filename in msg.get('filenames') or ():
            if _is_shared_object(filename):
                artifact = filename
    rc = proc.wait()
    if rc != 0:
        raise RustBuildError('cargo failed (exit status %d) building %s; the '
                             'errors are above' % (rc, crate_dir))
    if artifact is None:
        raise RustBuildError('cargo reported no shared object for the cdylib '
                             'of crate %r' % crate.name)
    return BuildResult(crate, module, abi, artifact, stub=stub)


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(dest, data, executable=False):
    """Write bytes ``data`` to ``dest`` through a rename, so that processes
    which have the old file mapped keep a valid copy."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=str(dest.parent), prefix='.' + dest.name)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.chmod(tmp, (0o777 if executable else 0o666) & ~_umask())
        os.replace(tmp, str(dest))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _is_our_stub(path):
    try:
        with open(str(path), encoding='utf-8') as f:
            return f.readline().rstrip('\n') == _STUB_FIRST_LINE
    except (OSError, UnicodeDecodeError):
        return False


def install_inplace(result, out_dir, log=None):
    """Copy the extension (and its stub) of ``result`` into ``out_dir``
    (dotted module names go into subdirectories) and remove files left there
    by a build for the other ABI, which ``import`` would otherwise pick
    (an extension module wins over the ``.py`` stub), and a stub of ours
    left by an earlier build that wrote one.  Returns the paths written."""
    log = log or _log
    out_dir = Path(out_dir)
    written = []
    for rel, source in result.files():
        dest = out_dir / rel
        if isinstance(source, Path):
            _atomic_write(dest, source.read_bytes(), executable=True)
        else:
            _atomic_write(dest, source.encode('utf-8'))
        written.append(dest)
    parts = result.module.split('.')
    target_dir = out_dir.joinpath(*parts[:-1])
    short = parts[-1]
    stale = []
    if result.abi == 'universal':
        stale += [target_dir / (short + s)
                  for s in importlib.machinery.EXTENSION_SUFFIXES]
    else:
        stale.append(target_dir / (short + get_hpy_ext_suffix('universal')))
    stub = target_dir / (short + '.py')
    if _is_our_stub(stub):
        stale.append(stub)
    for path in stale:
        if path.exists() and path not in written:
            log('removing %s (built for the other ABI)' % path)
            path.unlink()
    return written


# ---------------------------------------------------------------------------
# wheels
# ---------------------------------------------------------------------------

def _platform_tag():
    return re.sub(r'[^A-Za-z0-9_]', '_', sysconfig.get_platform())


def wheel_tag(abi):
    """``py3-none-linux_x86_64`` (universal) or ``cp311-cp311-linux_x86_64``
    (cpython, for the running interpreter)."""
    plat = _platform_tag()
    if abi == 'universal':
        return 'py3-none-' + plat
    interp = 'cp%d%d' % sys.version_info[:2]
    return '%s-%s%s-%s' % (interp, interp, getattr(sys, 'abiflags', ''), plat)


def _escape(name):
    """Distribution name as used in wheel/dist-info file names."""
    return re.sub(r'[-_.]+', '_', name).lower()


def _escape_version(version):
    return version.replace('-', '_')


class ProjectMetadata:
    """``[project]`` of pyproject.toml, with the crate's version when the
    version is dynamic."""

    def __init__(self, crate_dir, pyproject=None, abi=DEFAULT_RUST_ABI):
        self.crate_dir = Path(crate_dir).resolve()
        if pyproject is None:
            pyproject = read_pyproject(self.crate_dir)
        project = pyproject.get('project')
        if not project:
            raise RustBuildError(
                '%s has no [project] table: it needs at least\n\n'
                '    [project]\n    name = "..."\n    version = "..."\n'
                % (self.crate_dir / 'pyproject.toml'))
        self.project = project
        self.abi = abi
        if not project.get('name'):
            raise RustBuildError('[project] in %s has no name'
                                 % (self.crate_dir / 'pyproject.toml'))
        self.name = project['name']
        version = project.get('version')
        if not version:
            if 'version' not in (project.get('dynamic') or ()):
                raise RustBuildError(
                    '[project] in %s has no version (give one, or list '
                    '"version" in dynamic to take the crate\'s)'
                    % (self.crate_dir / 'pyproject.toml'))
            version = read_crate(self.crate_dir).version
        self.version = version

    @property
    def dist_info(self):
        return '%s-%s.dist-info' % (_escape(self.name),
                                    _escape_version(self.version))

    def wheel_name(self, tag):
        return '%s-%s-%s.whl' % (_escape(self.name),
                                 _escape_version(self.version), tag)


def _readme(project, crate_dir):
    readme = project.get('readme')
    if not readme:
        return None, None
    types = {'.md': 'text/markdown', '.rst': 'text/x-rst'}
    if isinstance(readme, str):
        path = Path(crate_dir) / readme
        return (path.read_text(encoding='utf-8'),
                types.get(path.suffix.lower(), 'text/plain'))
    if 'text' in readme:
        text = readme['text']
    else:
        path = Path(crate_dir) / readme['file']
        text = path.read_text(encoding='utf-8')
    ctype = readme.get('content-type') or types.get(
        Path(readme.get('file', '')).suffix.lower(), 'text/plain')
    return text, ctype


def metadata_text(meta):
    """The core metadata (METADATA / PKG-INFO) of the distribution."""
    project = meta.project
    lines = ['Metadata-Version: 2.1',
             'Name: ' + meta.name,
             'Version: ' + meta.version]
    if project.get('description'):
        lines.append('Summary: ' + ' '.join(project['description'].split()))
    for person_key, header in (('authors', 'Author'),
                               ('maintainers', 'Maintainer')):
        names, emails = [], []
        for person in project.get(person_key) or ():
            if person.get('email'):
                emails.append('%s <%s>' % (person['name'], person['email'])
                              if person.get('name') else person['email'])
            elif person.get('name'):
                names.append(person['name'])
        if names:
            lines.append('%s: %s' % (header, ', '.join(names)))
        if emails:
            lines.append('%s-email: %s' % (header, ', '.join(emails)))
    lic = project.get('license')
    if isinstance(lic, str):  # an SPDX expression (PEP 639)
        lines.append('License: ' + lic)
    elif isinstance(lic, dict) and lic.get('text'):
        lines.append('License: ' + ' '.join(lic['text'].split()))
    if project.get('keywords'):
        lines.append('Keywords: ' + ','.join(project['keywords']))
    for classifier in project.get('classifiers') or ():
        lines.append('Classifier: ' + classifier)
    for label, url in (project.get('urls') or {}).items():
        lines.append('Project-URL: %s, %s' % (label, url))
    if project.get('requires-python'):
        lines.append('Requires-Python: ' + project['requires-python'])
    deps = list(project.get('dependencies') or ())
    if meta.abi == 'universal':
        names = {_escape(re.split(r'[\s<>=!~;\[(@]', d, 1)[0]) for d in deps}
        if _escape(RUNTIME_DISTRIBUTION) not in names:
            # the binary is loaded by hpy.universal (of this version or newer)
            deps.append(runtime_requirement())
    for dep in deps:
        lines.append('Requires-Dist: ' + dep)
    for extra, extra_deps in (project.get('optional-dependencies') or {}).items():
        lines.append('Provides-Extra: ' + extra)
        for dep in extra_deps:
            if ';' in dep:
                req, marker = dep.split(';', 1)
                lines.append('Requires-Dist: %s; (%s) and extra == "%s"'
                             % (req.strip(), marker.strip(), extra))
            else:
                lines.append('Requires-Dist: %s; extra == "%s"' % (dep, extra))
    text, ctype = _readme(project, meta.crate_dir)
    if text is not None:
        lines.append('Description-Content-Type: ' + ctype)
        return '\n'.join(lines) + '\n\n' + text
    return '\n'.join(lines) + '\n'


def _entry_points_text(project):
    sections = []
    groups = [('console_scripts', project.get('scripts') or {}),
              ('gui_scripts', project.get('gui-scripts') or {})]
    groups += sorted((project.get('entry-points') or {}).items())
    for group, entries in groups:
        if entries:
            sections.append('[%s]\n%s\n' % (group, ''.join(
                '%s = %s\n' % item for item in entries.items())))
    return '\n'.join(sections)


def _wheel_text(tag):
    return ('Wheel-Version: 1.0\n'
            'Generator: hpy.devel.rust_backend\n'
            'Root-Is-Purelib: false\n'
            'Tag: %s\n' % tag)


def _dist_info_files(meta, tag):
    files = [('METADATA', metadata_text(meta)), ('WHEEL', _wheel_text(tag))]
    entry_points = _entry_points_text(meta.project)
    if entry_points:
        files.append(('entry_points.txt', entry_points))
    return files


def write_metadata_dir(metadata_directory, meta, tag):
    """``prepare_metadata_for_build_wheel``: write the .dist-info directory
    and return its name."""
    dist_info = Path(metadata_directory) / meta.dist_info
    dist_info.mkdir(parents=True, exist_ok=True)
    for name, text in _dist_info_files(meta, tag):
        (dist_info / name).write_text(text, encoding='utf-8')
    return meta.dist_info


def _zip_date():
    epoch = int(os.environ.get('SOURCE_DATE_EPOCH', 315532800))  # 1980-01-01
    return time.gmtime(max(epoch, 315532800))[:6]


def write_wheel(wheel_directory, meta, tag, files):
    """Write a wheel holding ``files`` (``[(archive path, Path or str)]``)
    and the .dist-info; returns the wheel's file name."""
    wheel_name = meta.wheel_name(tag)
    path = Path(wheel_directory) / wheel_name
    Path(wheel_directory).mkdir(parents=True, exist_ok=True)
    record = []
    date = _zip_date()

    def add(zf, arcname, data, mode=0o644):
        info = zipfile.ZipInfo(arcname, date_time=date)
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)
        digest = base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b'=').decode('ascii')
        record.append('%s,sha256=%s,%d' % (arcname, digest, len(data)))

    tmp = path.with_name('.' + wheel_name + '.tmp')
    with zipfile.ZipFile(str(tmp), 'w') as zf:
        for arcname, source in files:
            if isinstance(source, Path):
                add(zf, arcname, source.read_bytes(), 0o755)
            else:
                add(zf, arcname, source.encode('utf-8'))
        for name, text in _dist_info_files(meta, tag):
            add(zf, meta.dist_info + '/' + name, text.encode('utf-8'))
        record.append(meta.dist_info + '/RECORD,,')
        info = zipfile.ZipInfo(meta.dist_info + '/RECORD', date_time=date)
        info.external_attr = (0o100000 | 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, ''.join(line + '\n' for line in record))
    os.replace(str(tmp), str(path))
    return wheel_name


# Directories never put into an sdist of a crate.
_SDIST_SKIP_DIRS = {'target', '__pycache__', 'build', 'dist'}


def write_sdist(sdist_directory, crate_dir, meta):
    """A plain sdist: the crate directory (without ``target/``, ``dist/``,
    ``build/``, dot-directories, compiled binaries) plus PKG-INFO.  Path
    dependencies outside the crate directory are not included."""
    crate_dir = Path(crate_dir).resolve()
    base = '%s-%s' % (_escape(meta.name), _escape_version(meta.version))
    name = base + '.tar.gz'
    Path(sdist_directory).mkdir(parents=True, exist_ok=True)
    out = Path(sdist_directory) / name
    target = os.environ.get('CARGO_TARGET_DIR')
    target = Path(target).resolve() if target else None
    mtime = int(os.environ.get('SOURCE_DATE_EPOCH', time.time()))

    def norm(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ''
        info.mtime = mtime
        return info

    tmp = out.with_name('.' + name + '.tmp')
    with tarfile.open(str(tmp), 'w:gz', format=tarfile.PAX_FORMAT) as tf:
        for root, dirs, files in os.walk(str(crate_dir)):
            dirs[:] = sorted(
                d for d in dirs
                if not d.startswith('.') and d not in _SDIST_SKIP_DIRS
                and not d.endswith('.egg-info')
                and (target is None or Path(root, d).resolve() != target))
            for f in sorted(files):
                if f == 'PKG-INFO' and Path(root) == crate_dir:
                    continue
                if f.endswith(('.so', '.pyd', '.dylib', '.dll', '.pyc')):
                    continue
                full = Path(root, f)
                rel = full.relative_to(crate_dir).as_posix()
                tf.add(str(full), arcname=base + '/' + rel, filter=norm)
        data = metadata_text(meta).encode('utf-8')
        info = norm(tarfile.TarInfo(base + '/PKG-INFO'))
        info.size = len(data)
        info.mode = 0o644
        tf.addfile(info, io.BytesIO(data))
    os.replace(str(tmp), str(out))
    return name


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def _cmd_build(args):
    crate_dir = Path(args.crate_dir).resolve()
    abi = resolve_abi(args.abi)
    result = build_extension(crate_dir, abi=abi, release=args.release,
                             module=args.module, stub=args.stub)
    out_dir = Path(args.out).resolve() if args.out else crate_dir
    written = install_inplace(result, out_dir)
    print('built %s for the %s ABI:' % (result.module, abi))
    for path in written:
        print('  ' + str(path))
    top = out_dir
    hint_dir = os.path.relpath(str(top)) if top != Path.cwd() else '.'
    print('import it with: cd %s && %s -c "import %s"'
          % (hint_dir, os.path.basename(sys.executable) or 'python',
             result.module))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m hpy.devel.rust',
        description='Build a Rust HPy extension crate (hpy-core) in place.')
    sub = parser.add_subparsers(dest='command')
    b = sub.add_parser(
        'build', help='build the extension and put it into DIR',
        description='Build the cdylib of CRATE_DIR with cargo and put the '
                    'extension into --out, so "import MODULE" works from there '
                    '(universal binaries are found by the import hook of '
                    'hpy-rs; --stub also writes the .py loader stub that '
                    'upstream HPy\'s runtime needs).')
    b.add_argument('crate_dir', nargs='?', default='.', metavar='CRATE_DIR',
                   help='the crate (directory of Cargo.toml; default: .)')
    b.add_argument('--abi', choices=RUST_ABIS, default=None,
                   help='target ABI (default: $HPY_ABI, else universal)')
    mode = b.add_mutually_exclusive_group()
    mode.add_argument('--release', dest='release', action='store_true',
                      default=True, help='optimized build (default)')
    mode.add_argument('--debug', dest='release', action='store_false',
                      help='cargo\'s dev profile (unoptimized)')
    b.add_argument('--out', metavar='DIR', default=None,
                   help='where to put the extension (default: CRATE_DIR)')
    b.add_argument('--stub', action='store_true', default=False,
                   help='also write the .py loader stub next to a universal '
                        'binary (for upstream HPy\'s runtime)')
    b.add_argument('--module', default=None,
                   help='module name (default: [tool.hpy] module of '
                        'pyproject.toml, else the crate\'s [lib] name)')
    args = parser.parse_args(argv)
    if args.command != 'build':
        parser.print_help()
        return 2
    try:
        return _cmd_build(args)
    except RustBuildError as e:
        print('error: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
