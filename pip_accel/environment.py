"""The target environment: which interpreter pip-accel installs for, and where.

One pip-accel (installed with pipx, say) serves every virtual environment: the
target is pip's general option ``--python`` when given, else the active virtual
environment (``$VIRTUAL_ENV``) when it is not pip-accel's own, else the
interpreter that runs pip-accel. The target is inspected by running
``_probe.py`` with it, because it may be another Python version than ours.
"""

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import packaging
from packaging.utils import NormalizedName, canonicalize_name

from pip_accel import _probe
from pip_accel.exceptions import EnvironmentProbeError

if TYPE_CHECKING:
    from pip_accel.probe_cache import ProbeCache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstallScheme:
    """Where the files of one distribution go, and how its scripts start."""

    paths: dict[str, str]
    """The installation scheme: purelib, platlib, headers, scripts and data."""
    root: str | None = None
    """A directory to prefix every path with (pip's ``--root``)."""


@dataclass(frozen=True)
class InstalledDistribution:
    """A distribution found installed in the target's site-packages."""

    name: NormalizedName
    version: str
    dist_info: Path


def select_interpreter(python_option: str | None, environ: Mapping[str, str]) -> Path:
    """Choose the interpreter to install for, and log which and why."""
    if python_option:
        found = shutil.which(python_option) if not os.path.exists(python_option) else None
        path = Path(found or python_option).expanduser().absolute()
        if path.is_dir():
            path = path / "bin" / "python"
        reason = "pip's --python option"
    elif environ.get("VIRTUAL_ENV") and not _is_own_environment(Path(environ["VIRTUAL_ENV"])):
        path = Path(environ["VIRTUAL_ENV"]) / "bin" / "python"
        reason = "the active virtual environment ($VIRTUAL_ENV)"
    else:
        path = Path(sys.executable)
        reason = "the interpreter that runs pip-accel"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise EnvironmentProbeError(
            f"The target interpreter {path} (from {reason}) does not exist or cannot run;"
            " point --python or $VIRTUAL_ENV at a working environment."
        )
    logger.info("Installing for %s (from %s).", path, reason)
    return path


def active_environment(python_option: str | None, environ: Mapping[str, str]) -> Path | None:
    """The active virtual environment that pip should act on, when it is not pip-accel's own.

    Used for commands handed to pip unchanged: pip's own ``--python`` is
    already on their command line, so only ``$VIRTUAL_ENV`` needs adding.
    """
    venv = environ.get("VIRTUAL_ENV")
    if python_option or not venv or _is_own_environment(Path(venv)):
        return None
    return Path(venv) / "bin" / "python"


def _is_own_environment(venv: Path) -> bool:
    """Whether a virtual environment is the one pip-accel itself runs in."""
    try:
        return venv.resolve() == Path(sys.prefix).resolve()
    except OSError:
        return False


class TargetEnvironment:
    """The interpreter pip-accel installs for: its tags, paths and distributions."""

    def __init__(self, python: Path, probes: "ProbeCache | None" = None) -> None:
        """Inspect the interpreter at ``python``, with the answer ``probes`` kept, if given."""
        self.python = python
        self.info = probes.info(python, self._probe) if probes else self._probe()

    def _probe(self) -> dict[str, Any]:
        """Run the probe with the target interpreter and read its answer."""
        library = str(Path(packaging.__file__).parent.parent)
        command = [str(self.python), "-I", _probe.__file__, library]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise EnvironmentProbeError(f"Cannot inspect the interpreter {self.python}: {reason}")
        info: dict[str, Any] = json.loads(result.stdout)
        return info

    @property
    def executable(self) -> str:
        """The path that scripts of this environment name in their ``#!`` line."""
        return str(self.info["executable"])

    @property
    def version(self) -> str:
        """The Python version as ``major.minor``."""
        return str(self.info["version"])

    @property
    def tags(self) -> list[str]:
        """The wheel tags this interpreter accepts, best first."""
        return list(self.info["tags"])

    @property
    def cache_tag(self) -> str:
        """The tag in the names of bytecode files, such as ``cpython-311``."""
        return str(self.info["cache_tag"])

    @cached_property
    def namespace(self) -> str:
        """The name that separates binaries that must never mix.

        Implementation and version, ABI, architecture, C library and operating
        system distribution, e.g. ``cp311-cp311-x86_64-glibc2.36-debian12``.
        """
        interpreter, abi, _ = self.tags[0].split("-", 2)
        machine = self.info["platform"].split("-")[-1]
        parts = [interpreter, abi, machine, self.info["libc"] or "nolibc", _os_release()]
        return "-".join(part.replace("-", "_") for part in parts if part)

    def scheme(
        self,
        name: str,
        user: bool = False,
        prefix: str | None = None,
        root: str | None = None,
    ) -> InstallScheme:
        """The installation scheme of distribution ``name``, the way pip computes it."""
        if user:
            paths = dict(self.info["user_paths"])
        elif prefix:
            base = os.path.abspath(prefix)
            paths = {
                key: value.replace(_probe.BASE, base)
                for key, value in self.info["prefix_paths"].items()
            }
        else:
            paths = dict(self.info["paths"])
        scheme = {key: paths[key] for key in ("purelib", "platlib", "scripts", "data")}
        scheme["headers"] = self._headers(paths, name, prefix)
        return InstallScheme(scheme, root)

    def _headers(self, paths: Mapping[str, str], name: str, prefix: str | None) -> str:
        """Where C headers of a distribution go (pip's rule, special in virtualenvs)."""
        if self.info["in_venv"]:
            base = os.path.abspath(prefix) if prefix else self.info["prefix"]
            return os.path.join(base, "include", "site", f"python{self.version}", name)
        return os.path.join(paths["include"], name)

    def installed(self, name: str, scheme: InstallScheme) -> InstalledDistribution | None:
        """The distribution called ``name`` installed in the scheme's library directories."""
        wanted = canonicalize_name(name)
        for directory in dict.fromkeys((scheme.paths["purelib"], scheme.paths["platlib"])):
            found = _find_dist_info(Path(directory), wanted)
            if found:
                return found
        return None


def _find_dist_info(directory: Path, wanted: NormalizedName) -> InstalledDistribution | None:
    """Find the ``.dist-info`` directory of a distribution in one directory."""
    if not directory.is_dir():
        return None
    for entry in directory.iterdir():
        if entry.suffix != ".dist-info" or "-" not in entry.stem:
            continue
        name, version = entry.stem.split("-", 1)
        if canonicalize_name(name) == wanted:
            return InstalledDistribution(wanted, version, entry)
    return None


def _os_release() -> str:
    """The operating system distribution and version, e.g. ``debian12``."""
    fields: dict[str, str] = {}
    for path in (Path("/etc/os-release"), Path("/usr/lib/os-release")):
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                key, _, value = line.partition("=")
                fields[key.strip()] = value.strip().strip("\"'")
            break
    return fields.get("ID", "") + fields.get("VERSION_ID", "").split(".")[0]
