"""The plan of a lock file (PEP 751, ``pylock.toml``) without pip: no resolution at all.

A lock file names every package with one archive (its URL and sha256) per
target, so an install of lock files alone (``-r pylock.toml``, pip 26.1 and
newer) needs no resolver. pip-accel reads the lock as pip reads it
(:mod:`pip_accel.plan.lockfile`), skips what the target has installed at the
locked version (pip: "Requirement already satisfied"), takes each archive the
local index has by its sha256, fetches the others by their URLs with pip's
session (several at once), checks each against the lock's sha256 before it
enters the local index, gives the new ones to the cache backends, and builds
each sdist into a wheel once (the binary cache). The plan installs each
package as pip does: as the requirement ``name==version`` the user asked for
(``REQUESTED``, no ``direct_url.json``).

pip's resolver also checks that every dependency of the locked packages is
one of them at a version it allows (a dependency missing from the lock fails
in pip's hash-checking mode); the same check runs on the wheels' metadata,
and a lock that fails it is left to pip, which says what is wrong.
"""

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Protocol

from humanfriendly.text import pluralize
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pip_accel.builds.builder import Builder
from pip_accel.caches import CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import LockFileError, LockHashMismatchError
from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.format_choice import FormatChoice
from pip_accel.pip.lock_files import lock_files
from pip_accel.pip.requirements import RequirementFiles
from pip_accel.plan.lockfile import LeftToPip, LockedArchive, Target, read_lock
from pip_accel.plan.pinned import NoPinnedPlan, Pin, close_over_dependencies
from pip_accel.plan.plan import Outcome, PlannedDistribution, PlannedWheel
from pip_accel.report.reporter import Reporter
from pip_accel.sources.download import Downloader
from pip_accel.sources.local_index import LocalIndex
from pip_accel.sources.pip_finder import RemoteArchive

logger = logging.getLogger(__name__)


class PlannerState(Protocol):
    """What a lock plan takes of the planner that runs it: its request, its parts, and the
    archives it downloaded (:class:`~pip_accel.plan.planner.Planner` is one)."""

    target: TargetEnvironment
    command_line: CommandLine
    files: RequirementFiles
    index: LocalIndex
    cache: BinaryCache
    builder: Builder
    reporter: Reporter
    new_archives: set[Path]

    @property
    def downloader(self) -> Downloader:
        """What fetches the lock file's archives into the local index."""

    def share_sources(self) -> None:
        """Give the archives downloaded so far to the cache backends that keep sources."""

    def cache_key(self, name: str, version: str, sdist: Path) -> CacheKey:
        """The binary cache key of the wheel built from an sdist of the local index."""


def locked_archives(
    command_line: CommandLine, files: RequirementFiles, target: TargetEnvironment
) -> list[LockedArchive]:
    """The archives pip installs from the lock files of a command line, in their order.

    :raises LockFileError: pip refuses a lock file, with pip's reason.
    :raises LeftToPip: pip plans these lock files itself (says why).
    """
    choice = FormatChoice.of(command_line, files)
    wants_sdist = lambda name: choice.allows_sdists(name) and not choice.allows_wheels(name)  # noqa: E731
    chosen = Target(target.info["markers"], target.tags, wants_sdist)
    found: dict[str, LockedArchive] = {}
    for name, extras in lock_files(command_line):
        for archive in read_lock(name, _read(name), chosen, extras):
            _check_kind(archive, choice)
            if found.setdefault(archive.name, archive) != archive:
                raise LeftToPip(f"two lock files name different archives of {archive.name}")
    return list(found.values())


def _read(name: str) -> str:
    """The text of a lock file, refused in pip's words when it cannot be read."""
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LockFileError(f"Error reading pylock file {name!r}: {error}") from error


def _check_kind(archive: LockedArchive, choice: FormatChoice) -> None:
    """Leave to pip an archive that ``--only-binary`` or ``--no-binary`` refuses (pip says
    that it cannot install the locked package)."""
    allowed = choice.allows_wheels if archive.is_wheel else choice.allows_sdists
    if not allowed(archive.name):
        raise LeftToPip(f"the options refuse the archive the lock file gives of {archive}")


def installed_versions(directories: Iterable[str]) -> dict[str, tuple[str, Path]]:
    """The installed distributions where the target looks: version and ``.dist-info``."""
    found: dict[str, tuple[str, Path]] = {}
    for directory in directories:
        try:
            entries = sorted(Path(directory).iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.suffix == ".dist-info" and "-" in entry.stem:
                name, version = entry.stem.split("-", 1)
                found.setdefault(canonicalize_name(name), (version, entry))
    return found


def same_version(one: str, other: str) -> bool:
    """Whether two versions are one (``1.0`` is ``1.0.0``), as pip compares them."""
    try:
        return Version(one) == Version(other)
    except InvalidVersion:
        return one == other


def check_sha256(archive: LockedArchive, path: Path) -> None:
    """Refuse a fetched archive whose sha256 is not the lock file's (nothing is kept).

    :raises LockHashMismatchError: naming the package, URL, expected and got.
    """
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    got = digest.hexdigest()
    if got != archive.sha256:
        raise LockHashMismatchError(
            f"The archive of {archive} from {archive.url} does not match the lock file:"
            f" sha256 expected {archive.sha256}, got {got}."
        )


def split_by_index(
    archives: Iterable[LockedArchive], index: LocalIndex
) -> tuple[dict[LockedArchive, Path], list[LockedArchive]]:
    """The archives the local index has (by file name and sha256), and the missing ones.

    :raises LockFileError: the index has another archive of the same name.
    """
    present: dict[LockedArchive, Path] = {}
    missing: list[LockedArchive] = []
    for archive in archives:
        path = index.directory / archive.filename
        if not path.exists():
            missing.append(archive)
            continue
        recorded = index.sha256(path)
        if recorded != archive.sha256:
            raise LockFileError(
                f"The local index has another {archive.filename} (sha256 {recorded}) than the"
                f" lock file names (sha256 {archive.sha256}); remove {path} to use the lock's."
            )
        present[archive] = path
    return present, missing


def check_dependencies(
    wheels: Mapping[LockedArchive, Path],
    installed: Mapping[str, tuple[str, Message]],
    markers: Mapping[str, str],
) -> None:
    """Leave to pip a lock whose packages need something it does not lock, or not at that
    version (pip's resolver would refuse it, or go to the index).

    ``installed``: the locked packages the target has at the locked version, and their
    metadata.
    """
    pins: dict[str, Pin] = {}
    for archive, wheel in wheels.items():
        pins[archive.name] = Pin(canonicalize_name(archive.name), Version(archive.version),
                                 wheel=wheel)  # fmt: skip
    for name, (version, metadata) in installed.items():
        pins[name] = Pin(canonicalize_name(name), Version(version), metadata=metadata,
                         wheel=Path(name))  # fmt: skip
    try:
        close_over_dependencies(pins, markers, str(markers["python_full_version"]))
    except (NoPinnedPlan, OSError, ValueError) as error:
        raise LeftToPip(f"the lock file's packages do not satisfy each other ({error})") from error


def installed_metadata(dist_info: Path) -> Message:
    """The ``METADATA`` headers of an installed distribution."""
    return BytesHeaderParser().parsebytes((dist_info / "METADATA").read_bytes())


def planned(archive: LockedArchive, path: Path) -> PlannedDistribution:
    """The planned distribution of a locked archive of the local index: asked for by the
    user as ``name==version``, not a direct reference."""
    url = path.absolute().as_uri()
    info = {"url": url, "archive_info": {"hashes": {"sha256": archive.sha256}}}
    return PlannedDistribution(
        canonicalize_name(archive.name), archive.version, url, True, False, info
    )


class LockPlanner:
    """Plans an install of lock files alone with a planner's parts (no pip, no resolver)."""

    def __init__(self, planner: PlannerState) -> None:
        """Fetch into ``planner``'s local index, build with its builder, tell its reporter."""
        self.planner = planner
        self.target = planner.target

    def plan(self) -> Outcome:
        """The wheels of the lock files' packages the target lacks, fetched and built."""
        planner = self.planner
        archives = locked_archives(planner.command_line, planner.files, self.target)
        installed = self._satisfied(archives)
        wanted = [archive for archive in archives if archive.name not in installed]
        if wanted:
            logger.info(
                "Planned %s from the lock file: it needs no resolution.",
                pluralize(len(wanted), "package"),
            )
        paths = self._fetch(wanted)
        wheels = self._wheels(wanted, paths)
        markers = self.target.info["markers"]
        check_dependencies(wheels, installed, markers)
        items = [PlannedWheel.of(planned(item, paths[item]), wheels[item]) for item in wanted]
        return Outcome(items, [], reusable=True)

    def _satisfied(self, archives: Sequence[LockedArchive]) -> dict[str, tuple[str, Message]]:
        """The locked packages installed at the locked version (pip leaves them as they are).

        Not with ``--target`` (pip installs into a new directory then) or ``--root``.
        """
        options = self.planner.command_line.options
        if options.target_dir or options.root_path:
            return {}
        installed = installed_versions(self.target.info["sys_path"])
        satisfied = {}
        for archive in archives:
            found = installed.get(archive.name)
            if found and same_version(found[0], archive.version):
                logger.info("Requirement already satisfied: %s.", archive)
                satisfied[archive.name] = (archive.version, installed_metadata(found[1]))
        return satisfied

    def _fetch(self, archives: Sequence[LockedArchive]) -> dict[LockedArchive, Path]:
        """The path of each archive in the local index, fetching (and sharing) the missing."""
        planner = self.planner
        present, missing = split_by_index(archives, planner.index)
        if missing:
            self._from_shared_sources(missing, present)
            missing = [archive for archive in missing if archive not in present]
        if missing:
            by_url = {archive.url: archive for archive in missing}
            remote = [RemoteArchive(item.url, item.filename) for item in missing]
            new = planner.downloader.download_urls(
                remote, lambda fetched, path: check_sha256(by_url[fetched.url], path)
            )
            planner.new_archives |= new
            present.update(split_by_index(missing, planner.index)[0])
            planner.share_sources()
        return present

    def _from_shared_sources(
        self, missing: Sequence[LockedArchive], present: dict[LockedArchive, Path]
    ) -> None:
        """Take missing archives from the cache backends' source archives, when one shares
        them (a fleet's bucket): each must match the lock's sha256 too."""
        planner = self.planner
        names = sorted({item.name for item in missing})
        fetched = planner.cache.get_sources(planner.index.directory, names)
        for path in fetched:
            planner.index.record(path)
        try:
            present.update(split_by_index(missing, planner.index)[0])
        except LockFileError as error:
            logger.info("%s", error)

    def _wheels(
        self, archives: Sequence[LockedArchive], paths: Mapping[LockedArchive, Path]
    ) -> dict[LockedArchive, Path]:
        """The wheel of each archive: itself, or the sdist's wheel (built once, cached)."""
        planner = self.planner
        wheels = {item: paths[item] for item in archives if item.is_wheel}
        keys = {item: planner.cache_key(item.name, item.version, paths[item])
                for item in archives if not item.is_wheel}  # fmt: skip
        built = planner.builder.wheels_for({key: paths[item] for item, key in keys.items()})
        wheels.update({item: built[key] for item, key in keys.items()})
        for item, wheel in wheels.items():
            if wheel in planner.builder.built:
                planner.reporter.wheel_planned(wheel, "built")
            elif paths[item] in planner.new_archives:
                planner.reporter.wheel_planned(wheel, "downloaded")
        return {item: wheels[item] for item in archives}
