"""What a build depends on besides its source: the user's build options and the C toolchain.

A wheel built with other settings is another wheel: one built with
``CFLAGS=-O0`` or ``--config-settings`` must not be served to a run that
asked for other settings (pip's own cache mixes them up, pip issue #11164).
So the settings of a build are part of its binary cache key: they extend the
platform namespace with a digest of

- the build options of the command line (``--config-settings``,
  ``--build-option``, ``--global-option``, ``--no-build-isolation``,
  ``--use-pep517``, ``--check-build-dependencies``),
- the build options of a requirement's own line in a requirements file
  (``name --config-settings=...``), which pip-accel hands to that build,
- the values of the environment variables named by the option
  ``build-environment`` (``CC``, ``CFLAGS``, ``LDFLAGS`` and others), and
- the contents (not the paths) of the constraints files that reach the
  builds' isolated environments. pip-accel's ``pip wheel`` gets the
  ``--build-constraint`` files (pip 25.3 and newer) as pip's builds do, and
  never the ``-c`` files, which pip's builds never see either. Before pip
  26.2, when no build constraints are given (nor
  ``--use-feature=build-constraint``), the constraints pip reads from
  ``PIP_CONSTRAINT`` or a configuration file reach the builds instead, for
  pip and for pip-accel alike, and count in their place.

With none of these set the namespace is the platform's alone, as before.
"""

import hashlib
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import RequirementFiles, split_options
from pip_accel.pip.runner import pip_version

BUILD_DESTS = frozenset({
    "config_settings", "build_options", "global_options", "use_pep517", "build_isolation",
    "check_build_deps",
})  # fmt: skip
"""The destinations of pip's options that change what a build makes."""

PER_REQUIREMENT = re.compile(r"^(--config-settings|-C|--build-option|--global-option)(=(.*))?$")
"""A build option on a requirement's line of a requirements file, its value joined by ``=``."""

BUILDS_IGNORE_INHERITED_CONSTRAINTS = Version("26.2")
"""The pip from which constraints of ``PIP_CONSTRAINT`` and configuration files no longer
reach isolated builds."""

DIGEST_LENGTH = 16
"""How many hexadecimal digits of the settings' sha256 go into the namespace."""


@dataclass(frozen=True)
class BuildSettings:
    """The settings that every build of one run, and each project's build, is made with."""

    options: tuple[str, ...] = ()
    """The build options of the command line, as its tokens."""
    per_project: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The build options of requirement lines, by canonical project name."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """The configured environment variables that are set, with their values."""
    constraints: tuple[str, ...] = ()
    """The sha256 of each constraints file that reaches the builds' environments."""

    @classmethod
    def of(
        cls,
        command_line: CommandLine,
        environ: Mapping[str, str],
        names: Iterable[str],
        files: RequirementFiles | None = None,
    ) -> "BuildSettings":
        """The settings of ``command_line`` in ``environ``, counting the variables ``names``
        (``files``: its requirement files, when read already)."""
        per_project: dict[str, tuple[str, ...]] = {}
        files = files if files is not None else RequirementFiles.of(command_line)
        for _, line in files.lines():
            project, tokens = requirement_options(line)
            if project and tokens:
                per_project[project] = per_project.get(project, ()) + tokens
        return cls(
            tuple(command_line.tokens(BUILD_DESTS)),
            per_project,
            {name: environ[name] for name in sorted(set(names)) if environ.get(name)},
            tuple(map(_contents, build_constraints(command_line, Version(pip_version())))),
        )

    def options_for(self, project: str) -> list[str]:
        """The build options of one project's own requirement line, for its ``pip wheel``."""
        return list(self.per_project.get(canonicalize_name(project), ()))

    def namespace(self, platform: str, project: str) -> str:
        """The cache namespace of a project's builds: the platform's, plus the settings' digest."""
        settings: list[object] = [
            self.options,
            self.options_for(project),
            sorted(self.environment.items()),
        ]
        if self.constraints:  # added only when given: the namespaces without stay as they were
            settings.append(self.constraints)
        if not any(settings):
            return platform
        text = json.dumps(settings, separators=(",", ":"))
        return f"{platform}+{hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]}"


def requirement_options(line: str) -> tuple[str | None, tuple[str, ...]]:
    """The project a requirements file line names and the build options on that line.

    Lines of options alone, and requirements that are not a name (paths and
    URLs, which pip builds itself), give ``(None, ())``.
    """
    requirement, options = split_options(line)
    if not requirement:
        return None, ()
    try:
        project = canonicalize_name(Requirement(requirement).name)
        tokens = shlex.split(options)
    except (InvalidRequirement, ValueError):
        return None, ()
    return project, tuple(_build_options(tokens))


def _build_options(tokens: list[str]) -> list[str]:
    """The build options among the option tokens of a requirement line, as ``--name=value``."""
    found = []
    rest = iter(tokens)
    for token in rest:
        match = PER_REQUIREMENT.match(token)
        if match is None:
            continue
        name = "--config-settings" if match.group(1) == "-C" else match.group(1)
        value = match.group(3) if match.group(2) else next(rest, "")
        found.append(f"{name}={value}")
    return found


def build_constraints(command_line: CommandLine, pip: Version) -> list[str]:
    """The constraints files that apply inside the builds' isolated environments.

    Those of ``--build-constraint``; or, with a pip before 26.2 and neither
    build constraints nor ``--use-feature=build-constraint``, the constraints
    pip reads from ``PIP_CONSTRAINT`` or a configuration file (the values of
    the option that the command line did not give).
    """
    options = command_line.options
    files = list(getattr(options, "build_constraints", None) or [])
    features = getattr(options, "features_enabled", None) or []
    if files or "build-constraint" in features or pip >= BUILDS_IGNORE_INHERITED_CONSTRAINTS:
        return files
    inherited = list(options.constraints or [])
    for group in command_line.groups:
        if group.dest == "constraints" and group.tokens[-1] in inherited:
            inherited.remove(group.tokens[-1])
    return inherited


def _contents(name: str) -> str:
    """A constraints file as the sha256 of its contents; a URL or a missing file as named."""
    path = Path(name)
    if "://" in name or not path.is_file():
        return name
    return hashlib.sha256(path.read_bytes()).hexdigest()
