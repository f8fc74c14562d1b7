"""Small fixture projects for the tests, written as sdists and wheels without a build tool.

The tests need real source distributions (pure Python, a C extension, a flit project, a
console script, a dependency chain, extras and markers) and a few hand-made wheels, such as
one that tries to escape its installation directory. They are written here directly with
:mod:`tarfile` and :mod:`zipfile`, byte for byte the same on every run, so that the test set-up
needs no network and no build tool, and so that a changed archive always means changed code.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The modification time of every archive member (1980-01-01, the earliest a zip file knows).
EPOCH = 315532800

#: What a file of a fixture project contains: text (written as UTF-8) or bytes.
Content = str | bytes

SETUPTOOLS_REQUIRES = ["setuptools>=61"]
SETUPTOOLS_BACKEND = "setuptools.build_meta"
# flit_core 4 is the current release, and it is what `make` downloads for the tests' index;
# an upper bound of <4 would make the flit project unbuildable there.
FLIT_REQUIRES = ["flit_core>=3.2"]
FLIT_BACKEND = "flit_core.buildapi"

#: The requirement of extrapkg whose marker is never true on the interpreters pip-accel supports.
PY2_PUREPKG = 'purepkg; python_version < "3"'


def canonical_name(name: str) -> str:
    """Return the normalized form of a project name (PEP 503): ``Chain_A`` -> ``chain-a``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def file_stem(name: str, version: str) -> str:
    """Return the ``name-version`` stem of archive file names, with an underscored name."""
    return f"{canonical_name(name).replace('-', '_')}-{version}"


def pkg_info(
    name: str,
    version: str,
    dependencies: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Return core metadata (Metadata-Version 2.1) for PKG-INFO or a wheel's METADATA."""
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines.append(f"Summary: The {name} fixture project of the pip-accel tests")
    lines += [f"Requires-Dist: {requirement}" for requirement in dependencies]
    for extra, requirements in (extras or {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {req}; extra == "{extra}"' for req in requirements]
    return "\n".join(lines) + "\n"


def _toml_table(header: str, values: Mapping[str, object]) -> list[str]:
    """Return the lines of one TOML table; JSON strings and lists are valid TOML values."""
    return [f"[{header}]", *(f"{key} = {json.dumps(value)}" for key, value in values.items())]


def pyproject(
    name: str,
    version: str,
    *,
    build: tuple[Sequence[str], str] = (SETUPTOOLS_REQUIRES, SETUPTOOLS_BACKEND),
    dependencies: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] | None = None,
    scripts: Mapping[str, str] | None = None,
    packages: Sequence[str] | None = None,
) -> str:
    """Return a pyproject.toml with static [project] metadata and the given build back-end.

    ``packages`` adds ``[tool.setuptools] packages``, so that setuptools does not guess.
    """
    requires, backend = build
    lines = _toml_table("build-system", {"requires": list(requires), "build-backend": backend})
    project: dict[str, object] = {"name": name, "version": version}
    project |= {"description": f"Fixture {name}", "dependencies": list(dependencies)}
    lines += ["", *_toml_table("project", project)]
    if extras:
        lines += ["", *_toml_table("project.optional-dependencies", extras)]
    if scripts:
        lines += ["", *_toml_table("project.scripts", scripts)]
    if packages is not None:
        lines += ["", *_toml_table("tool.setuptools", {"packages": list(packages)})]
    return "\n".join(lines) + "\n"


def _tar_member(path: str, size: int | None) -> tarfile.TarInfo:
    """Return a tar header with fixed owner, mode and time; ``size=None`` means a directory."""
    info = tarfile.TarInfo(path)
    info.mtime = EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if size is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.size, info.mode = size, 0o644
    return info


def _parents(paths: Sequence[str]) -> list[str]:
    """Return every directory that contains one of the relative ``paths``, parents first."""
    directories = {str(parent) for path in paths for parent in Path(path).parents}
    return sorted(directories - {"."})


def _encode(content: Content) -> bytes:
    """Return file content as bytes: text is encoded as UTF-8."""
    return content.encode("utf-8") if isinstance(content, str) else content


def write_files(directory: Path, files: Mapping[str, Content]) -> Path:
    """Write ``files`` (relative paths) into ``directory``, making folders; return it."""
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_encode(content))
    return directory


def write_tar_gz(target: Path, top: str, files: Mapping[str, Content]) -> Path:
    """Write ``files`` under the directory ``top`` into a reproducible .tar.gz at ``target``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(_tar_member(top, None))
        for directory in _parents(list(files)):
            archive.addfile(_tar_member(f"{top}/{directory}", None))
        for path in sorted(files):
            data = _encode(files[path])
            archive.addfile(_tar_member(f"{top}/{path}", len(data)), io.BytesIO(data))
    with target.open("wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as compressed:
        compressed.write(buffer.getvalue())
    return target


def make_sdist(dest_dir: Path, name: str, version: str, files: Mapping[str, Content]) -> Path:
    """Write the sdist ``<name_>-<version>.tar.gz`` of a project into ``dest_dir``.

    ``files`` maps paths relative to the project root to their content; a PKG-INFO with
    only the name and version is added when ``files`` has none. Returns the archive's path.
    """
    stem = file_stem(name, version)
    contents = {"PKG-INFO": pkg_info(name, version), **files}
    dest_dir.mkdir(parents=True, exist_ok=True)
    return write_tar_gz(dest_dir / f"{stem}.tar.gz", stem, contents)


def _record_line(path: str, data: bytes) -> str:
    """Return the RECORD line of one wheel member: path, urlsafe sha256 and size."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"{path},sha256={digest.decode('ascii')},{len(data)}"


def _wheel_metadata(stem: str, name: str, version: str, tag: str) -> dict[str, bytes]:
    """Return the METADATA and WHEEL files of a wheel's .dist-info directory."""
    wheel = f"Wheel-Version: 1.0\nGenerator: pip-accel-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    return {
        f"{stem}.dist-info/METADATA": pkg_info(name, version).encode("utf-8"),
        f"{stem}.dist-info/WHEEL": wheel.encode("utf-8"),
    }


def make_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    files: Mapping[str, Content],
    *,
    tag: str = "py3-none-any",
) -> Path:
    """Write a wheel with ``files`` (paths as given, even hostile ones) into ``dest_dir``.

    METADATA and WHEEL are added unless ``files`` has its own (``pkg_info`` writes METADATA
    with dependencies), and a RECORD with correct sha256 hashes of every member, so that
    the wheel is valid in every respect except what the caller put into ``files``.
    """
    stem = file_stem(name, version)
    members = {path: _encode(data) for path, data in files.items()}
    for path, data in _wheel_metadata(stem, name, version, tag).items():
        members.setdefault(path, data)
    record = f"{stem}.dist-info/RECORD"
    lines = [_record_line(path, data) for path, data in members.items()] + [f"{record},,"]
    members[record] = ("\n".join(lines) + "\n").encode("utf-8")
    dest_dir.mkdir(parents=True, exist_ok=True)
    return write_zip(dest_dir / f"{stem}-{tag}.whl", members)


def write_zip(target: Path, members: Mapping[str, bytes]) -> Path:
    """Write ``members`` in their order into a reproducible zip file; names are kept verbatim."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return target


def pure_project(
    name: str,
    version: str,
    *,
    dependencies: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] | None = None,
    scripts: Mapping[str, str] | None = None,
    code: str = "",
    flit: bool = False,
) -> dict[str, Content]:
    """Return the files of a pure Python project with one package, built by setuptools.

    The package (the name with underscores) defines ``VERSION`` and then ``code``. With
    ``flit=True`` flit_core builds it instead, about twice as fast as setuptools.
    """
    package = canonical_name(name).replace("-", "_")
    build = (FLIT_REQUIRES, FLIT_BACKEND) if flit else (SETUPTOOLS_REQUIRES, SETUPTOOLS_BACKEND)
    toml = pyproject(
        name,
        version,
        build=build,
        dependencies=dependencies,
        extras=extras,
        scripts=scripts,
        packages=None if flit else [package],
    )
    module = f'"""The {name} fixture package."""\n\nVERSION = "{version}"\n{code}'
    meta = pkg_info(name, version, dependencies, extras)
    return {"PKG-INFO": meta, "pyproject.toml": toml, f"{package}/__init__.py": module}


CEXT_SETUP_PY = '''\
"""Build script of cext: one C extension; each build adds a line to PIP_ACCEL_TEST_BUILD_LOG."""

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class LoggingBuildExt(build_ext):
    """Compile the extension, and record that it happened, so that tests can count builds."""

    def run(self):
        """Append one line to the build log (when one is set), then compile."""
        log = os.environ.get("PIP_ACCEL_TEST_BUILD_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as stream:
                stream.write("cext 1.0 pid=%d\\n" % os.getpid())
        super().run()


setup(
    ext_modules=[Extension("cext._speedups", ["cext/_speedups.c"])],
    cmdclass={"build_ext": LoggingBuildExt},
)
'''

CEXT_SOURCE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) {
        return NULL;
    }
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "Return the sum of two integers."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups", "A tiny C extension.", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    return PyModule_Create(&module);
}
"""


def cext_project() -> dict[str, Content]:
    """Return the files of ``cext`` 1.0: package ``cext`` with the C extension ``_speedups``."""
    files = pure_project("cext", "1.0", code="\nfrom cext._speedups import add  # noqa: F401\n")
    files["setup.py"] = CEXT_SETUP_PY
    files["cext/_speedups.c"] = CEXT_SOURCE
    return files


def script_project() -> dict[str, Content]:
    """Return the files of ``scriptpkg`` 1.0, whose console script prints a greeting."""
    code = '\n\ndef main() -> None:\n    """Greet."""\n    print("hello from scriptpkg")\n'
    scripts = {"scriptpkg-hello": "scriptpkg:main"}
    return pure_project("scriptpkg", "1.0", scripts=scripts, code=code)


def all_projects() -> dict[tuple[str, str], dict[str, Content]]:
    """Return every fixture sdist project, keyed by (canonical name, version).

    The chain and extrapkg are built by flit_core, because many tests install them and
    flit_core builds in half the time of setuptools; setuptools builds the others.
    """
    extras = {"fancy": ["chain-c"]}
    return {
        ("purepkg", "1.0"): pure_project("purepkg", "1.0"),
        ("purepkg", "2.0"): pure_project("purepkg", "2.0"),
        ("cext", "1.0"): cext_project(),
        ("flitpkg", "1.0"): pure_project("flitpkg", "1.0", flit=True),
        ("scriptpkg", "1.0"): script_project(),
        ("chain-a", "1.0"): pure_project("chain-a", "1.0", dependencies=["chain-b"], flit=True),
        ("chain-b", "1.0"): pure_project("chain-b", "1.0", dependencies=["chain-c"], flit=True),
        ("chain-c", "1.0"): pure_project("chain-c", "1.0", flit=True),
        ("extrapkg", "1.0"): pure_project(
            "extrapkg", "1.0", dependencies=[PY2_PUREPKG], extras=extras, flit=True
        ),
    }


def make_evil_wheel(dest_dir: Path) -> Path:
    """Write ``evilpkg`` 1.0, a wheel with a member ``../evil.txt`` that escapes its target."""
    files = {
        "evilpkg/__init__.py": '"""Harmless on its own."""\n',
        "../evil.txt": "pip-accel must never write this file\n",
    }
    return make_wheel(dest_dir, "evilpkg", "1.0", files)


def build_all(dest_dir: Path) -> dict[str, Path]:
    """Write every fixture archive into ``dest_dir``.

    Returns their paths keyed by ``<canonical name>-<version>``, for example ``chain-a-1.0``
    for ``chain_a-1.0.tar.gz`` and ``evilpkg-1.0`` for the malicious wheel.
    """
    archives = {
        f"{name}-{version}": make_sdist(dest_dir, name, version, files)
        for (name, version), files in all_projects().items()
    }
    archives["evilpkg-1.0"] = make_evil_wheel(dest_dir)
    return archives


#: A requirement set with a dependency chain, a C extension, flit and a console script.
BASIC = ["chain-a", "cext", "flitpkg", "scriptpkg"]
