"""The build back-ends an sdist (or a local source tree) names: its static build requirements.

They are downloaded with the sdist (see :mod:`pip_accel.sources.download`), so that
pip-accel can build it later with no network at all. An sdist whose ``pyproject.toml``
names none (or that has none) builds with what pip uses then.
"""

import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

DEFAULT_BUILD_REQUIREMENTS = ("setuptools>=40.8.0", "wheel")
"""What pip builds a project with when its pyproject.toml does not say."""


def build_requirements(sdist: Path) -> tuple[str, ...]:
    """The static build requirements in the pyproject.toml of an sdist or a source tree."""
    try:
        data = _read_pyproject(sdist)
    except (OSError, tarfile.TarError, zipfile.BadZipFile, tomllib.TOMLDecodeError, UnicodeError):
        data = None
    requires = (data or {}).get("build-system", {}).get("requires")
    if not isinstance(requires, list) or not requires:
        return DEFAULT_BUILD_REQUIREMENTS
    return tuple(str(requirement) for requirement in requires)


def _read_pyproject(sdist: Path) -> dict[str, Any] | None:
    """The parsed top-level pyproject.toml of an sdist or source tree, or None when it has none."""
    if sdist.is_dir():
        pyproject = sdist / "pyproject.toml"
        return tomllib.loads(pyproject.read_text(encoding="utf-8")) if pyproject.is_file() else None
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as archive:
            names = [name for name in archive.namelist() if name.count("/") == 1]
            found = [name for name in names if name.endswith("/pyproject.toml")]
            return tomllib.loads(archive.read(found[0]).decode()) if found else None
    with tarfile.open(sdist) as archive:
        for member in archive:
            if member.name.count("/") == 1 and member.name.endswith("/pyproject.toml"):
                stream = archive.extractfile(member)
                return tomllib.loads(stream.read().decode()) if stream else None
    return None
