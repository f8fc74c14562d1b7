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
"""

import contextlib
import hashlib
import html
import logging
import tempfile
import zipfile
from collections.abc import Iterator
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

from pip_accel.caches import BinaryCache, CacheKey
from pip_accel.files import hash_file, write_atomically

logger = logging.getLogger(__name__)

SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")
"""File name endings of source distributions."""

HASHES = ".sha256"
"""The subdirectory that remembers the sha256 of each archive."""


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


def sha256_of(path: Path) -> str:
    """The sha256 of a file, remembered next to the local index's archives."""
    stat = path.stat()
    stamp = f"{stat.st_size} {stat.st_mtime_ns}"
    memo = path.parent / HASHES / path.name
    with contextlib.suppress(OSError):
        remembered_stamp, digest = memo.read_text().rsplit(" ", 1)
        if remembered_stamp == stamp:
            return digest
    digest = hash_file(path)
    with contextlib.suppress(OSError):
        memo.parent.mkdir(exist_ok=True)
        write_atomically(memo, f"{stamp} {digest}".encode())
    return digest


class LocalIndex:
    """The directory of downloaded archives."""

    def __init__(self, directory: Path) -> None:
        """Use (and create) ``directory``."""
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

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

    @contextlib.contextmanager
    def view(
        self, cache: BinaryCache, namespace: str, with_binaries: bool
    ) -> Iterator["IndexView"]:
        """A temporary ``--find-links`` directory for pip (see the module's text)."""
        with tempfile.TemporaryDirectory(prefix="pip-accel-view-") as directory:
            view = IndexView(Path(directory))
            for archive in self.archives():
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

    def add_binary(self, sdist: Archive, cache: BinaryCache, namespace: str) -> None:
        """Show pip the cached wheel of a source distribution, if there is one."""
        name_and_version = sdist.name_and_version()
        if name_and_version is None:
            return
        key = CacheKey(namespace, *name_and_version, sha256_of(sdist.path))
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
