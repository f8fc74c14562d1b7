"""Platform definitions: how to find, list and install the system packages of one family.

Each definition is an INI file. Its ``[platform]`` section holds the commands of
the family's package manager: one that exits with status 0 where the
definition applies, one that lists the installed packages, one that installs
packages, and optionally one that searches for the package that provides a
file. The other sections map names to system packages: ``[projects]`` maps
Python projects to the packages their builds are known to need, and
``[headers]``, ``[pkg-config]``, ``[libraries]`` and ``[commands]`` map the
files a build can find missing (see :mod:`pip_accel.builds.system.analysis`).

pip-accel ships ``debian.ini``, ``fedora.ini`` and ``alpine.ini``. A directory
of the user's own files (the ``system-dependencies`` option) may extend those
(a file of the same name adds and overrides entries) or define new families (a
file of a new name, with its own ``[platform]`` section).
"""

import configparser
import fnmatch
import logging
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from pip_accel.builds.system.analysis import KINDS, MissingFile
from pip_accel.exceptions import DefinitionError, SystemPackageInstallError

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
"""The definitions that pip-accel ships."""

PLATFORM = "platform"
PROJECTS = "projects"
SECTIONS = frozenset({PLATFORM, PROJECTS, *KINDS})
"""The sections a definition file may have."""

REQUIRED_KEYS = frozenset({"name", "applies", "installed", "install"})
OPTIONAL_KEYS = frozenset({"installed-output", "install-environment", "search", "search-output"})
ONE_NAME_A_LINE = r"^(?P<name>\S+)$"
DEVELOPMENT_SUFFIXES = ("-dev", "-devel")
"""Package names that hold headers and link libraries, preferred when a search finds several."""
"""How a package name is read from a command's output when the definition does not say."""


@dataclass
class Platform:
    """The package manager of one family of operating systems, and its tables."""

    key: str
    """The file name of the definition without ``.ini``, such as ``debian``."""
    settings: dict[str, str]
    """The ``[platform]`` section."""
    tables: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """Section -> name (or glob) -> system packages."""
    files: list[Path] = field(default_factory=list)
    """The files this definition was read from, the shipped one first."""

    @property
    def name(self) -> str:
        """The family's name for people, such as "Debian or Ubuntu"."""
        return self.settings["name"]

    def command(self, key: str) -> list[str]:
        """One command of the ``[platform]`` section, split like a shell would."""
        return shlex.split(self.settings[key])

    @property
    def install_command(self) -> list[str]:
        """The command that installs packages, without the packages."""
        return self.command("install")

    @property
    def install_environment(self) -> dict[str, str]:
        """Environment variables for the install command, such as DEBIAN_FRONTEND."""
        words = shlex.split(self.settings.get("install-environment", ""))
        return dict(word.partition("=")[::2] for word in words)

    def applies(self) -> bool:
        """Whether this machine has this family's package manager."""
        try:
            result = subprocess.run(self.command("applies"), capture_output=True, check=False)
        except OSError:
            return False
        return result.returncode == 0

    def installed(self) -> set[str]:
        """The names of the installed system packages."""
        command = self.command("installed")
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as error:
            raise SystemPackageInstallError(
                f"Cannot list the installed system packages: {shlex.join(command)}"
                f" failed: {error.strerror}."
            ) from error
        if result.returncode != 0:
            raise SystemPackageInstallError(
                f"Cannot list the installed system packages: {shlex.join(command)}"
                f" exited with code {result.returncode}: {result.stderr.strip()}"
            )
        return set(self._names(self.settings.get("installed-output"), result.stdout))

    def for_project(self, project: str) -> tuple[str, ...]:
        """The system packages the build of a Python project is known to need."""
        return self.tables.get(PROJECTS, {}).get(canonicalize_name(project), ())

    def for_file(self, missing: MissingFile) -> tuple[str, ...]:
        """The system packages that provide a missing file, from the tables, else a search."""
        table = self.tables.get(missing.kind, {})
        if missing.name in table:
            return table[missing.name]
        for pattern, packages in table.items():
            if fnmatch.fnmatchcase(missing.name, pattern):
                return packages
        return self.search(missing)

    def search(self, missing: MissingFile) -> tuple[str, ...]:
        """The packages that the family's own file search says provide a file (if it has one)."""
        if "search" not in self.settings:
            return ()
        command = [
            word.replace("{glob}", missing.glob).replace("{regexp}", missing.regexp)
            for word in self.command("search")
        ]
        if shutil.which(command[0]) is None:
            logger.debug("Not searching for %s: %s is not installed.", missing, command[0])
            return ()
        logger.info("Searching for the package that provides %s: %s", missing, shlex.join(command))
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        names = self._names(self.settings.get("search-output"), result.stdout)
        return _pick(list(dict.fromkeys(names)))

    @staticmethod
    def _names(pattern: str | None, output: str) -> list[str]:
        """The package names in a command's output, one per matching line."""
        expression = re.compile(pattern or ONE_NAME_A_LINE)
        matches = (expression.search(line) for line in output.splitlines())
        return [match.group("name") for match in matches if match]


def _pick(packages: Sequence[str]) -> tuple[str, ...]:
    """Of several packages that provide a file, the one development package, if that is clear."""
    if len(packages) <= 1:
        return tuple(packages)
    development = [name for name in packages if name.endswith(DEVELOPMENT_SUFFIXES)]
    if len(development) == 1:
        return (development[0],)
    logger.warning(
        "Several system packages provide the file (%s); pip-accel does not guess which one.",
        ", ".join(packages),
    )
    return ()


def read_platform(path: Path, base: Platform | None = None) -> Platform:
    """Read a definition file; with ``base``, extend that definition instead of a new one."""
    parser = _parse(path)
    _check_sections(path, parser, base is None)
    settings = dict(base.settings) if base else {}
    settings.update(parser.items(PLATFORM) if parser.has_section(PLATFORM) else [])
    _check_settings(path, settings)
    platform = Platform(path.stem, settings, {}, [*(base.files if base else []), path])
    for section in SECTIONS - {PLATFORM}:
        table = dict(base.tables.get(section, {})) if base else {}
        if parser.has_section(section):
            table.update(_table(path, section, parser.items(section)))
        platform.tables[section] = table
    return platform


def _parse(path: Path) -> configparser.ConfigParser:
    """Parse an INI file strictly: a repeated section or key is an error."""
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep Python.h as it is
    try:
        with path.open(encoding="utf-8") as stream:
            parser.read_file(stream)
    except (OSError, UnicodeDecodeError, configparser.Error) as error:
        reason = str(error).splitlines()[0]
        raise DefinitionError(f"Cannot read system dependencies file {path}: {reason}") from error
    return parser


def _check_sections(path: Path, parser: configparser.ConfigParser, new: bool) -> None:
    """Refuse unknown sections, and a new platform without a [platform] section."""
    unknown = set(parser.sections()) - SECTIONS
    if unknown:
        raise DefinitionError(
            f"System dependencies file {path} has unknown section(s) {', '.join(sorted(unknown))};"
            f" known sections: {', '.join(sorted(SECTIONS))}."
        )
    if new and not parser.has_section(PLATFORM):
        raise DefinitionError(
            f"System dependencies file {path} has no [platform] section: it must name the"
            f" commands of its package manager, or have the name of a shipped file"
            f" ({', '.join(sorted(p.stem for p in DATA.glob('*.ini')))}.ini) to extend it."
        )


def _check_settings(path: Path, settings: Mapping[str, str]) -> None:
    """Refuse unknown or missing keys of the [platform] section, and bad patterns."""
    unknown = set(settings) - REQUIRED_KEYS - OPTIONAL_KEYS
    missing = REQUIRED_KEYS - set(settings)
    if unknown or missing:
        problem = f"unknown key(s) {', '.join(sorted(unknown))}" if unknown else ""
        problem = problem or f"no key(s) {', '.join(sorted(missing))}"
        raise DefinitionError(f"The [platform] section of {path} has {problem}.")
    for key in ("installed-output", "search-output"):
        try:
            if "name" not in re.compile(settings.get(key, ONE_NAME_A_LINE)).groupindex:
                raise re.error("it has no group named 'name'")
        except re.error as error:
            raise DefinitionError(f"The {key} pattern of {path} is not usable: {error}.") from error


def _table(
    path: Path, section: str, items: Iterable[tuple[str, str]]
) -> dict[str, tuple[str, ...]]:
    """One table of a definition; project names are normalized, and each needs packages."""
    table: dict[str, tuple[str, ...]] = {}
    for key, value in items:
        name = canonicalize_name(key) if section == PROJECTS else key
        if name in table:
            raise DefinitionError(
                f"System dependencies file {path} names {key!r} twice in [{section}]."
            )
        packages = tuple(value.split())
        if not packages:
            raise DefinitionError(
                f"System dependencies file {path} names no package for {key!r} in [{section}]."
            )
        table[name] = packages
    return table


def load_platforms(directory: Path | None = None) -> list[Platform]:
    """The shipped definitions, extended or joined by those in ``directory``."""
    platforms = {path.stem: read_platform(path) for path in sorted(DATA.glob("*.ini"))}
    order = ["debian", "fedora", "alpine"]
    for path in sorted(directory.glob("*.ini")) if directory else []:
        platforms[path.stem] = read_platform(path, platforms.get(path.stem))
    return sorted(platforms.values(), key=lambda p: order.index(p.key) if p.key in order else 9)


def detect(platforms: Sequence[Platform]) -> Platform | None:
    """The first definition that applies to this machine, or None."""
    for platform in platforms:
        if platform.applies():
            logger.debug("The system packages are those of %s.", platform.name)
            return platform
    return None


def install_command(platform: Platform, packages: Sequence[str]) -> tuple[list[str], str]:
    """The command that installs ``packages`` here, and what keeps pip-accel from running it.

    Root runs the platform's command; anyone else runs it through sudo. The
    second value is empty when pip-accel can run the command, else the reason.
    """
    command = [*platform.install_command, *packages]
    if os.geteuid() == 0:
        return command, ""
    if shutil.which("sudo"):
        return ["sudo", *command], ""
    return command, "pip-accel does not run as root and sudo is not installed"
