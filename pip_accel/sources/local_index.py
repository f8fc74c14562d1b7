"""The local index: every archive pip-accel has downloaded, in ``<data>/sources``.

pip reads the index as a ``--find-links`` directory. For each run pip-accel
shows pip a *view* of it: a temporary directory of links to the archives, plus
a link to the cached wheel of every source distribution that was built
before, so that pip resolves a warm requirement set without building anything.

The view is given to pip as an HTML page of links (``--find-links
<view>/index.html``), in which each sdist with a cached wheel carries that
wheel's metadata the way PEP 658 lets an index do. When ``--no-binary`` keeps
pip from taking the cached wheel, pip (26 and newer, when it only plans) reads
the dependencies from there instead of preparing the sdist's metadata, which
means building an isolated environment for it.

The sha256 of each archive is recorded when it enters the index (in
``.sha256/<archive>``, with its size and modification time), and before each
view the index checks its archives against those records: a corrupt or
changed archive is moved aside into ``.damaged``, so that pip downloads it
again rather than fail on it, or build and install what was not downloaded.
"""

import contextlib
import hashlib
import html
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from pip_accel.caches import CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.datadir.layout import DAMAGED_SOURCES
from pip_accel.datadir.records import Record, record_file, record_sha256, sha256_of
from pip_accel.files import hash_file
from pip_accel.pip.format_choice import FormatChoice

logger = logging.getLogger(__name__)


SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")
"""File name endings of source distributions."""


@dataclass(frozen=True)
class Archive:
    """One archive of the local index (or any other local archive)."""

    path: Path

    @property
    def is_wheel(self) -> bool:
        """Whether this is a wheel (else a source distribution)."""
        return self.path.name.endswith(".whl")

    def name_and_version(self) -> tuple[str, str] | None:
        """The project name and version its file name says, or None when unclear."""
        try:
            if self.is_wheel:
                name, version, _, _ = parse_wheel_filename(self.path.name)
            else:
                name, version = parse_sdist_filename(self.path.name)
        except (InvalidSdistFilename, InvalidWheelFilename):
            return None
        return canonicalize_name(name), str(version)

    def usable(self, choice: FormatChoice, tags: set[str]) -> bool:
        """Whether pip may take this archive: its kind is allowed for its project
        (``--only-binary``, ``--no-binary``), and a wheel fits the target (one of its tags
        is the target's)."""
        found = self.name_and_version()
        if found is None:
            return False
        if not self.is_wheel:
            return choice.allows_sdists(found[0])
        if not choice.allows_wheels(found[0]):
            return False
        try:
            wheel_tags = parse_wheel_filename(self.path.name)[3]
        except InvalidWheelFilename:
            return False
        return any(str(tag) in tags for tag in wheel_tags)


def wheel_metadata(wheel: Path) -> bytes | None:
    """The contents of a wheel's ``.dist-info/METADATA``, or None when it cannot be read."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                directory, _, filename = name.partition("/")
                if directory.endswith(".dist-info") and filename == "METADATA":
                    return archive.read(name)
    except (OSError, zipfile.BadZipFile):
        pass
    return None


def unreadable_zip(path: Path) -> str | None:
    """Why a zip file (a wheel) cannot be opened, or None when its central directory opens."""
    try:
        with zipfile.ZipFile(path):
            return None
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as error:
        return str(error) or type(error).__name__


def free_name(path: Path) -> Path:
    """``path``, or the first of ``path.1``, ``path.2``... that does not exist yet."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate


class LocalIndex:
    """The directory of downloaded archives."""

    def __init__(self, directory: Path) -> None:
        """Use (and create) ``directory``."""
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.moved_aside: list[Path] = []
        """The archives that :meth:`verify` moved aside during this run (where they were)."""

    def sha256(self, path: Path) -> str:
        """The sha256 of an archive, remembered when it is one of the index's own."""
        return sha256_of(path) if path.parent == self.directory else hash_file(path)

    def archives(self) -> list[Archive]:
        """Every archive of the index."""
        return [
            Archive(path)
            for path in sorted(self.directory.iterdir())
            if not path.name.startswith(".") and path.name.endswith((".whl", *SDIST_SUFFIXES))
        ]

    def record(self, path: Path) -> str:
        """Record the sha256 of an archive that entered the index by other means; return it."""
        return record_sha256(path)

    def add(self, path: Path) -> Path | None:
        """Move a downloaded file into the index, recorded, unless it has one of that name.

        Return where it is now, or None when the index had it already.
        """
        target = self.directory / path.name
        if target.exists():
            return None
        record_sha256(path, target)
        os.replace(path, target)
        return target

    def verify(self) -> list[Archive]:
        """Every archive that is the one downloaded; move the others aside (see :meth:`check`)."""
        return [archive for archive in self.archives() if self.check(archive)]

    def check(self, archive: Archive) -> bool:
        """Whether an archive is the one downloaded; if it is not, move it aside.

        Unchanged size and time mean yes (one stat, one small read). Otherwise
        the archive is hashed: the recorded sha256 means yes (and the new time
        is recorded), another one means no. An archive without a record is
        recorded, unless it is a zip file (a wheel) that does not even open.
        """
        try:
            remembered = Record.read(archive.path)
            if remembered is None:
                return self._first_sight(archive)
            return remembered.matches(archive.path) or self._same_contents(archive, remembered)
        except FileNotFoundError:
            return False  # moved aside or removed by another run meanwhile

    def _same_contents(self, archive: Archive, remembered: Record) -> bool:
        """Whether a touched archive still has the recorded sha256; if not, move it aside."""
        digest = hash_file(archive.path)
        if digest == remembered.sha256:
            Record.of(archive.path, digest).write(archive.path)
            return True
        what = f"the one that was downloaded (sha256 {digest}, recorded {remembered.sha256})"
        self._move_aside(archive.path, f"is not {what}")
        return False

    def _first_sight(self, archive: Archive) -> bool:
        """Record an archive that has no record; a zip file that does not open is moved aside."""
        if archive.path.name.endswith((".whl", ".zip")):
            problem = unreadable_zip(archive.path)
            if problem is not None:
                kind = "wheel" if archive.is_wheel else "zip file"
                self._move_aside(archive.path, f"is not a readable {kind} ({problem})")
                return False
        record_sha256(archive.path)
        return True

    def _move_aside(self, path: Path, problem: str) -> None:
        """Move an archive into ``.damaged`` (kept for inspection) and say so, once."""
        try:
            (self.directory / DAMAGED_SOURCES).mkdir(exist_ok=True)
            aside = free_name(self.directory / DAMAGED_SOURCES / path.name)
            os.rename(path, aside)
        except FileNotFoundError:
            return  # another run moved it aside first, and said so
        except OSError as error:
            logger.warning(
                "The archive %s in the local index %s, and it could not be moved aside (%s);"
                " delete it.", path, problem, error,
            )  # fmt: skip
            return
        record_file(path).unlink(missing_ok=True)
        self.moved_aside.append(path)
        logger.warning(
            "The archive %s in the local index %s; moved it to %s, it will be downloaded again.",
            path, problem, aside,
        )  # fmt: skip

    @contextlib.contextmanager
    def view(
        self, cache: BinaryCache, namespace: Callable[[str], str], with_binaries: bool
    ) -> Iterator["IndexView"]:
        """A temporary ``--find-links`` directory for pip, of the verified archives.

        ``namespace`` gives the cache namespace of a project's builds. See the
        module's text.
        """
        with tempfile.TemporaryDirectory(prefix="pip-accel-view-") as directory:
            view = IndexView(Path(directory))
            for archive in self.verify():
                view.add(archive.path, archive.path)
                if with_binaries and not archive.is_wheel:
                    view.add_binary(archive, cache, namespace)
            view.write_page()
            yield view


@dataclass(frozen=True)
class ViewEntry:
    """What a file of the view stands for."""

    archive: Path
    """The archive in the local index (for a cached wheel: the sdist it was built from)."""
    wheel: Path | None = None
    """The cached wheel, when the file is one."""


class IndexView:
    """A temporary directory of links that pip reads with ``--find-links``."""

    def __init__(self, directory: Path) -> None:
        """Fill ``directory`` through :meth:`add` and :meth:`add_binary`."""
        self.directory = directory
        self.entries: dict[str, ViewEntry] = {}
        self.metadata: dict[str, str] = {}
        """The sha256 of the metadata file of each sdist that has one, by file name."""

    @property
    def page(self) -> Path:
        """The HTML page of links that pip reads with ``--find-links``."""
        return self.directory / "index.html"

    def add(self, path: Path, archive: Path, wheel: Path | None = None) -> None:
        """Show ``path`` to pip; the first file of a given name wins."""
        if path.name not in self.entries:
            (self.directory / path.name).symlink_to(path)
            self.entries[path.name] = ViewEntry(archive, wheel)

    def add_binary(
        self, sdist: Archive, cache: BinaryCache, namespace: Callable[[str], str]
    ) -> None:
        """Show pip the cached wheel of a source distribution, if there is one."""
        name_and_version = sdist.name_and_version()
        if name_and_version is None:
            return
        name, version = name_and_version
        key = CacheKey(namespace(name), name, version, sha256_of(sdist.path))
        # Only the local backends: this runs for every sdist of the index on every run.
        wheel = cache.get(key, remote=False)
        if wheel is not None:
            self.add(wheel, sdist.path, wheel)
            self._add_metadata(sdist.path.name, wheel)

    def _add_metadata(self, sdist_name: str, wheel: Path) -> None:
        """Put the wheel's ``METADATA`` next to the sdist, as ``<sdist>.metadata`` (PEP 658)."""
        metadata = wheel_metadata(wheel)
        if metadata is not None and sdist_name in self.entries:
            (self.directory / f"{sdist_name}.metadata").write_bytes(metadata)
            self.metadata[sdist_name] = hashlib.sha256(metadata).hexdigest()

    def write_page(self) -> None:
        """Write the page of links to every file of the view, with their metadata hashes."""
        links = []
        for name in self.entries:
            attributes = ""
            if name in self.metadata:
                digest = f"sha256={self.metadata[name]}"
                attributes = f' data-dist-info-metadata="{digest}" data-core-metadata="{digest}"'
            links.append(f'<a href="{quote(name)}"{attributes}>{html.escape(name)}</a><br>')
        self.page.write_text(
            "<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        )

    def lookup(self, filename: str) -> ViewEntry | None:
        """What the file called ``filename`` in the view stands for."""
        return self.entries.get(filename)
