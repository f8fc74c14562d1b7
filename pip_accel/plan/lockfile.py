"""Reading a lock file (PEP 751, ``pylock.toml``) the way pip 26.1 and newer read it.

``pip install -r pylock.toml`` (also ``pylock.<name>.toml``, and ``[extras]``
after the name) installs exactly the packages of the lock whose markers hold
for the target, each from one archive of the lock: the wheel whose tags fit
the target best (in the target's order of preference), else the sdist; an
sdist first when ``--no-binary`` refuses the project's wheels. pip records
each as an ordinary requirement on ``name==version`` (no ``direct_url.json``,
``REQUESTED`` written), and checks each archive against the lock's hashes.

This module makes that choice for the target without pip, from the lock's
text, so that the planner can fetch, build and install the archives itself.
A lock that pip refuses (an unsupported ``lock-version``, a ``requires-python``
or ``environments`` the target does not meet, a package with no archive for
it) raises :class:`~pip_accel.exceptions.LockFileError` with pip's words.
What pip installs as a direct reference (``vcs``, ``directory`` and
``archive`` entries), an archive without a sha256, and whatever this reader
does not know raise :class:`LeftToPip`: pip then plans the lock as before,
and says what is wrong, if anything is.
"""

import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pip_accel.exceptions import HandOver, LockFileError

DIRECT_SOURCES = ("vcs", "directory", "archive")
"""The entries of a package that pip installs as a direct reference (``name @ url``)."""


class LeftToPip(HandOver):
    """The lock is one that pip plans itself (with its own answer); says why."""


@dataclass(frozen=True)
class LockedArchive:
    """The archive of one package of a lock file that pip would install for the target."""

    name: str
    """The canonical project name."""
    version: str
    url: str
    filename: str
    sha256: str
    size: int | None = None

    @property
    def is_wheel(self) -> bool:
        """Whether the archive is a wheel (else an sdist, built before it is installed)."""
        return self.filename.endswith(".whl")

    def __str__(self) -> str:
        """The name and version, for log messages."""
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Target:
    """What the choice depends on of the target interpreter and of pip's options."""

    markers: Mapping[str, Any]
    """The target's marker values (:attr:`TargetEnvironment.info` ``["markers"]``)."""
    tags: Sequence[str]
    """The target's wheel tags, best first."""
    wants_sdist: Callable[[str], bool] = lambda name: False
    """Whether ``--no-binary`` refuses a project's wheels (pip then takes its sdist first)."""


def read_lock(
    source: str, text: str, target: Target, extras: Collection[str] = ()
) -> list[LockedArchive]:
    """The archives pip installs from the lock file ``source`` (its contents: ``text``).

    :raises LockFileError: pip refuses the lock file, with pip's reason.
    :raises LeftToPip: pip plans this lock itself.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LockFileError(f"Invalid pylock file {source!r}: {error}") from error
    version = _lock_version(source, data)
    if version.major != 1:
        raise LockFileError(
            f"Invalid pylock file {source!r}: pylock version {version} is not supported"
        )
    python = str(target.markers["python_full_version"])
    _check_requires_python(source, data.get("requires-python"), python, None)
    _check_environments(source, data.get("environments"), target.markers)
    packages = data.get("packages")
    if not isinstance(packages, list) or not all(isinstance(item, dict) for item in packages):
        raise LeftToPip("its packages are not a list of tables")
    groups = data.get("default-groups") or []
    environment = {
        **target.markers,
        "extras": frozenset(canonicalize_name(extra) for extra in extras),
        "dependency_groups": frozenset(groups if isinstance(groups, list) else []),
    }
    selected = _select(source, packages, environment, python)
    return [_choose(source, position, package, target) for position, package in selected]


def _lock_version(source: str, data: Mapping[str, Any]) -> Version:
    """The lock's ``lock-version``, refused as pip refuses it when missing or invalid."""
    text = data.get("lock-version")
    if not isinstance(text, str):
        raise LockFileError(
            f"Invalid pylock file {source!r}: Missing required value in 'lock-version'"
        )
    try:
        return Version(text)
    except InvalidVersion as error:
        raise LockFileError(f"Invalid pylock file {source!r}: {error} in 'lock-version'") from error


def _refused(source: str, reason: str) -> LockFileError:
    """pip's refusal to select from a lock file."""
    return LockFileError(f"Cannot select requirements from pylock file {source!r}: {reason}")


def _check_requires_python(source: str, value: Any, python: str, package: str | None) -> None:
    """Refuse a ``requires-python`` the target's Python does not meet, in pip's words."""
    if value is None:
        return
    try:
        specifier = SpecifierSet(str(value))
    except InvalidSpecifier as error:
        raise LeftToPip(f"requires-python {value!r} is invalid") from error
    if not specifier.contains(python, prereleases=True):
        where = f" for package {package}" if package else ""
        raise _refused(
            source,
            f"python_full_version {python!r} in provided environment does not satisfy"
            f" the Python version requirement {str(specifier)!r}{where}",
        )


def _check_environments(source: str, value: Any, markers: Mapping[str, Any]) -> None:
    """Refuse a lock none of whose ``environments`` the target is, in pip's words."""
    if not value:
        return
    if not isinstance(value, list):
        raise LeftToPip("its environments are not a list")
    if not any(_marker(text).evaluate(dict(markers)) for text in value):
        raise _refused(
            source,
            "Provided environment does not satisfy any of the environments specified"
            " in the lock file",
        )


def _marker(text: Any) -> Marker:
    """A marker of the lock file; one this reader cannot read leaves the lock to pip."""
    try:
        return Marker(str(text))
    except InvalidMarker as error:
        raise LeftToPip(f"the marker {text!r} is invalid") from error


def _applies(marker: Marker, environment: Mapping[str, Any]) -> bool:
    """Whether a package's marker holds, with the extras and groups as sets (PEP 751)."""
    try:
        return marker.evaluate(environment, context="lock_file")  # type: ignore[call-arg,arg-type,unused-ignore]
    except TypeError as error:  # packaging before 25.0 knows no lock file markers
        raise LeftToPip("this packaging cannot evaluate lock file markers") from error


def _select(
    source: str, packages: list[dict[str, Any]], environment: Mapping[str, Any], python: str
) -> list[tuple[int, dict[str, Any]]]:
    """The packages whose markers hold, in the lock's order; two of one name are refused."""
    chosen: dict[str, tuple[int, dict[str, Any]]] = {}
    for position, package in enumerate(packages):
        name = package.get("name")
        if not isinstance(name, str) or canonicalize_name(name) != name:
            raise LeftToPip(f"packages[{position}] has no normalized name")
        marker = package.get("marker")
        if marker is not None and not _applies(_marker(marker), environment):
            continue
        requires = package.get("requires-python")
        _check_requires_python(source, requires, python, f"{name!r} at packages[{position}]")
        if name in chosen:
            raise _refused(
                source,
                f"Multiple packages with the name {name!r} are selected at"
                f" packages[{position}] and packages[{chosen[name][0]}]",
            )
        chosen[name] = (position, package)
    return list(chosen.values())


def _choose(source: str, position: int, package: dict[str, Any], target: Target) -> LockedArchive:
    """The archive pip takes of one package: the best wheel for the target, else the sdist."""
    name = package["name"]
    direct = [key for key in DIRECT_SOURCES if package.get(key) is not None]
    if direct:
        raise LeftToPip(f"pip installs {name} from its {direct[0]} entry")
    sdist, wheels = package.get("sdist"), package.get("wheels") or []
    if not isinstance(wheels, list) or not (sdist is None or isinstance(sdist, dict)):
        raise LeftToPip(f"the archives of {name} are not tables")
    if sdist is not None and target.wants_sdist(name):
        return _archive(package, sdist, sdist=True)
    best = _best_wheel(wheels, target.tags)
    if best is not None:
        return _archive(package, best, sdist=False)
    if sdist is not None:
        return _archive(package, sdist, sdist=True)
    if not wheels:
        raise LeftToPip(f"{name} has no archive")
    raise _refused(
        source,
        f"No wheel found matching the provided tags for package {name!r}"
        f" at packages[{position}], and no sdist available as a fallback",
    )


def _best_wheel(wheels: list[Any], tags: Sequence[str]) -> dict[str, Any] | None:
    """The wheel whose best tag comes first among the target's tags (the first of a tie)."""
    rank = {tag: position for position, tag in reversed(list(enumerate(tags)))}
    best: tuple[int, dict[str, Any]] | None = None
    for wheel in wheels:
        if not isinstance(wheel, dict):
            raise LeftToPip("a wheel entry is not a table")
        try:
            wheel_tags = parse_wheel_filename(_filename(wheel))[3]
        except InvalidWheelFilename as error:
            raise LeftToPip(str(error)) from error
        score = min((rank[str(tag)] for tag in wheel_tags if str(tag) in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, wheel)
    return best[1] if best else None


def _filename(entry: Mapping[str, Any]) -> str:
    """An archive's file name: its ``name``, else the last part of its ``url`` or ``path``."""
    for key in ("name", "url", "path"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    raise LeftToPip("an archive has neither name, url nor path")


def _archive(package: Mapping[str, Any], entry: Mapping[str, Any], sdist: bool) -> LockedArchive:
    """The locked archive of an entry; a path, or no sha256, leaves the lock to pip."""
    name, filename = package["name"], _filename(entry)
    url, hashes = entry.get("url"), entry.get("hashes")
    if entry.get("path") is not None or not isinstance(url, str):
        raise LeftToPip(f"the archive of {name} is a path, not a URL")
    if not isinstance(hashes, dict) or not isinstance(hashes.get("sha256"), str):
        raise LeftToPip(f"the lock gives no sha256 of {filename}")
    version = package.get("version") or _version_of(filename, sdist)
    size = entry.get("size")
    return LockedArchive(
        name, str(version), url, filename, hashes["sha256"].lower(),
        size if isinstance(size, int) else None,
    )  # fmt: skip


def _version_of(filename: str, sdist: bool) -> str:
    """The version an archive's file name says (a package may leave ``version`` out)."""
    try:
        if sdist:
            return str(parse_sdist_filename(filename)[1])
        return str(parse_wheel_filename(filename)[1])
    except (InvalidSdistFilename, InvalidWheelFilename) as error:
        raise LeftToPip(str(error)) from error
