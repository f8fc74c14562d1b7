"""Stand-in wheels for the local projects on the command line whose metadata is static.

pip plans an editable or a local directory (``-e ./proj``, ``./proj``) by
preparing its metadata: an isolated build environment with the project's
build back-end, and a hook or two run in it. pip-accel plans with pip (a
download, then a dry run against the local index) and hands the project to
pip at the end, so each of those runs would set up such an environment once
more than pip's own install does.

A project whose ``pyproject.toml`` states its metadata in ``[project]`` (PEP
621: name, version, requires-python, dependencies and optional dependencies,
none of them ``dynamic``) needs no back-end for that: its build must give
exactly those. The planner then sees a *stand-in* instead, a wheel of nothing
but that ``METADATA``, named as a direct reference (``name[extras] @
file:///…whl``): pip resolves the rest of the set with it as it would with the
project (its dependencies, their extras, the other requirements on its name,
``Requires-Python``, ``--no-deps``), and nothing is built. The stand-in is
never installed: the project is handed to pip once, after the rest, as the
user named it (see :meth:`StandIns.restore`).

A plan made so is stored as any other (its key names each such project by its
directory and the digest of its metadata, :func:`keyed`): a later run with the
same metadata installs the rest from it and hands the project to pip, with no
pip process before that.

Not with ``--dry-run`` or ``--report``, whose entries of such projects are
pip's own, nor in hash-checking mode, which pip refuses for editables and
which a stand-in would not pass. A project whose metadata is dynamic, or whose
``pyproject.toml`` cannot be read, is planned by pip as before.
"""

import hashlib
import os
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from pip_accel.datadir.scratch import PrivateDirectory, remove_leftovers
from pip_accel.pip.command_line import CommandLine, OptionGroup
from pip_accel.pip.requirements import uses_hashes
from pip_accel.plan.plan import Outcome, PlannedDistribution
from pip_accel.request import InstallRequest

DYNAMIC_FIELDS = frozenset({"version", "requires-python", "dependencies", "optional-dependencies"})
"""The fields of ``[project]`` that a plan needs; when one is dynamic, only the back-end knows."""

EXTRAS = re.compile(r"^(?P<path>.+?)(?P<extras>\[[^]]*\])?$")
"""A local path with the extras asked for (``./proj[test]``), as pip splits it."""

NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
"""A valid project name (PEP 508), before normalization."""

PREFIX = "pip-accel-stand-ins-"
"""The name of the temporary directory of the stand-in wheels starts so."""


@dataclass(frozen=True)
class StaticProject:
    """The metadata that a ``pyproject.toml`` states, and that a build must give."""

    name: str
    version: str
    requires_python: str | None
    dependencies: tuple[str, ...]
    optional: tuple[tuple[NormalizedName, tuple[str, ...]], ...]
    """Each extra's (normalized) name and its requirements."""

    @property
    def canonical_name(self) -> NormalizedName:
        """The project's normalized name."""
        return canonicalize_name(self.name)

    def metadata(self) -> str:
        """The core metadata (``METADATA``) of the project's wheel, as far as pip plans with it."""
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        if self.requires_python is not None:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Requires-Dist: {text}" for text in self.dependencies]
        for extra, requirements in self.optional:
            lines.append(f"Provides-Extra: {extra}")
            lines += [f"Requires-Dist: {_for_extra(text, extra)}" for text in requirements]
        return "\n".join(lines) + "\n"

    @property
    def wheel_name(self) -> str:
        """The file name of the stand-in wheel."""
        return f"{self.canonical_name.replace('-', '_')}-{self.version}-py3-none-any.whl"


def _for_extra(text: str, extra: str) -> str:
    """A requirement of an optional dependency with its extra in the marker, as back-ends write."""
    requirement = Requirement(text)
    marker, requirement.marker = requirement.marker, None
    condition = f'extra == "{extra}"'
    return f"{requirement}; ({marker}) and {condition}" if marker else f"{requirement}; {condition}"


def static_project(directory: Path) -> StaticProject | None:
    """The static metadata of the project in ``directory``, or None when a back-end must tell.

    None too when anything of it is not valid (a name, a version, a requirement):
    pip and the back-end then say what is wrong, as they would.
    """
    try:
        data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project")
    if not isinstance(project, dict) or not isinstance(data.get("build-system", {}), dict):
        return None
    try:
        return _read_project(project)
    except (KeyError, TypeError, ValueError, InvalidRequirement, InvalidSpecifier, InvalidVersion):
        return None


def _read_project(project: dict[str, Any]) -> StaticProject | None:
    """Read a ``[project]`` table; raises ``ValueError`` (and others) on what is not valid."""
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list) or DYNAMIC_FIELDS & set(dynamic):
        return None
    name, version = project["name"], str(Version(project["version"]))
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"not a project name: {name!r}")
    requires_python = project.get("requires-python")
    if requires_python is not None:
        SpecifierSet(requires_python)
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise ValueError("optional-dependencies is not a table")
    extras = tuple((canonicalize_name(extra), _requirements(texts))
                   for extra, texts in optional.items())  # fmt: skip
    dependencies = _requirements(project.get("dependencies", []))
    return StaticProject(name, version, requires_python, dependencies, extras)


def _requirements(texts: object) -> tuple[str, ...]:
    """A list of requirements, each checked; ``ValueError`` when it is no list of strings."""
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise ValueError("not a list of requirements")
    return tuple(str(Requirement(text)) for text in texts)


@dataclass(frozen=True)
class LocalProject:
    """A local project named on the command line, with static metadata."""

    group: OptionGroup
    """Its option (``-e ./proj``) or argument (``./proj``) on the command line."""
    path: Path
    """Its directory, absolute (as pip makes it)."""
    extras: str
    """The extras asked for, with their brackets (``[test]``), or nothing."""
    editable: bool
    project: StaticProject

    def stand_in(self, wheel: Path) -> str:
        """The requirement that names the stand-in ``wheel`` instead of the project."""
        return f"{self.project.name}{self.extras} @ {wheel.as_uri()}"

    def key(self) -> str:
        """The requirement that names the project in a stored plan's key: by its directory and
        the digest of its metadata, so that a change of its dependencies asks pip again."""
        digest = hashlib.sha256(self.project.metadata().encode()).hexdigest()
        return f"{self.project.name}{self.extras} @ {self.path.as_uri()}#metadata={digest}"

    def planned(self) -> PlannedDistribution:
        """The project as the plan hands it to pip: the user's directory, editable or not."""
        url = self.path.as_uri()
        info: dict[str, Any] = {"url": url, "dir_info": {"editable": True} if self.editable else {}}
        return PlannedDistribution(
            self.project.canonical_name, self.project.version, url, True, True, info
        )


def local_projects(command_line: CommandLine) -> list[LocalProject]:
    """The editables and local directories of the command line whose metadata is static.

    An editable is a directory (``-e proj`` too); an argument is one when it
    looks like a path (it has a slash or starts with a dot), as pip reads them.
    """
    found = []
    for group in command_line.groups:
        if group.dest not in ("editables", None):
            continue
        value = group.tokens[-1]
        match = EXTRAS.match(value)
        if match is None or (group.dest is None and not _looks_like_path(value)):
            continue
        directory = Path(match["path"])
        if not directory.is_dir():
            continue
        project = static_project(directory)
        if project is not None:
            path = Path(os.path.abspath(directory))
            editable = group.dest == "editables"
            found.append(LocalProject(group, path, match["extras"] or "", editable, project))
    return found


def _looks_like_path(value: str) -> bool:
    """Whether pip reads a positional argument as a path rather than a project's name."""
    separators = [os.path.sep, *([os.path.altsep] if os.path.altsep else [])]
    return value.startswith(".") or any(separator in value for separator in separators)


def may_stand_in(request: InstallRequest) -> bool:
    """Whether the planner may see stand-ins for this run (not for pip's own report entries,
    nor in hash-checking mode)."""
    options = request.command_line.options
    hashes = uses_hashes(request.command_line, request.requirements)
    return not (options.dry_run or options.json_report_file or hashes)


class StandIns:
    """The stand-in wheels of one run's local projects, and the command line that names them."""

    def __init__(self, request: InstallRequest, directory: Path | None) -> None:
        """Write the stand-ins of ``request``'s local projects into ``directory`` (None: the
        request has none, and it stays as it is)."""
        self.projects: list[LocalProject] = []
        replacements: dict[OptionGroup, str] = {}
        self.wheels: dict[Path, LocalProject] = {}
        if directory is not None and may_stand_in(request):
            self.projects = local_projects(request.command_line)
            for project in self.projects:
                wheel = write_wheel(project.project, directory)
                self.wheels[wheel] = project
                replacements[project.group] = project.stand_in(wheel)
        self.request = replace(request, command_line=request.command_line.replacing(replacements))
        """The request as the planner sees it: each local project named by its stand-in."""

    @property
    def names(self) -> frozenset[str]:
        """The file names of the stand-ins (``pip download`` copies them; the local index
        must never take them)."""
        return frozenset(path.name for path in self.wheels)

    def restore(self, outcome: Outcome) -> Outcome:
        """The planned outcome with the stand-ins taken out and their projects handed to pip.

        Each project is handed to pip whether or not the plan lists its stand-in
        (pip reinstalls a local directory always, a local wheel of the installed
        version not), but with ``--only-deps``, where pip installs its
        dependencies alone.
        """
        if not self.projects:
            return outcome
        wheels = [item for item in outcome.wheels if Path(item.wheel) not in self.wheels]
        only_deps = getattr(self.request.command_line.options, "only_dependencies", False)
        projects = [] if only_deps else [project.planned() for project in self.projects]
        return Outcome(wheels, [*outcome.handed_to_pip, *projects], outcome.reusable)


def keyed(request: InstallRequest) -> CommandLine:
    """The command line as a stored plan's key sees it: each local project with static
    metadata named by that metadata (:meth:`LocalProject.key`), as its stand-in names it
    for the planner."""
    projects = local_projects(request.command_line) if may_stand_in(request) else []
    return request.command_line.replacing({project.group: project.key() for project in projects})


def handed_to_pip(request: InstallRequest) -> list[PlannedDistribution]:
    """What a stored plan of ``request`` leaves to pip: its local projects with static
    metadata (other projects and URLs make plans that are never stored)."""
    if not may_stand_in(request) or getattr(request.command_line.options, "only_dependencies",
                                            False):  # fmt: skip
        return []
    return [project.planned() for project in local_projects(request.command_line)]


@contextmanager
def stand_ins(request: InstallRequest) -> Iterator[StandIns]:
    """The stand-ins of a request's local projects, in a directory removed afterwards.

    The directory is made only when there is a stand-in to write, so that a run
    without local projects leaves nothing behind even when it is killed. It is a
    private directory of the system's temporary directory (with its lock, see
    :mod:`pip_accel.datadir.scratch`): one that a killed run left there is removed
    by the next run that writes stand-ins.
    """
    if not (may_stand_in(request) and local_projects(request.command_line)):
        yield StandIns(request, None)
        return
    temporary = Path(tempfile.gettempdir())
    remove_leftovers(temporary, (PREFIX,))
    with PrivateDirectory(temporary, PREFIX) as directory:
        yield StandIns(request, directory)


def write_wheel(project: StaticProject, directory: Path) -> Path:
    """Write the stand-in wheel of ``project`` into ``directory``: its metadata and no files."""
    info = f"{project.canonical_name.replace('-', '_')}-{project.version}.dist-info"
    files = {
        f"{info}/METADATA": project.metadata(),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: pip-accel\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    path = directory / project.wheel_name
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path
