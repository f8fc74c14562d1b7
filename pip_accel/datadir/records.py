"""The sha256 record of a file of the data directory: its size, modification time and sha256.

The local index keeps one for each archive, and the local binary cache one for each wheel,
in ``.sha256/<name>`` beside it (:data:`pip_accel.datadir.layout.HASHES`). While size and
time are the recorded ones, the record answers without reading the file; its modification
time is also the file's last-use stamp (:mod:`pip_accel.upkeep.entries`).
"""

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

from pip_accel.datadir.layout import HASHES
from pip_accel.files import hash_file, write_atomically

DIGEST = re.compile(r"[0-9a-f]{64}")
"""A sha256 in hexadecimal, as records hold them."""


@dataclass(frozen=True)
class Record:
    """What the index remembers of an archive: its size, modification time and sha256.

    Size and time are the cheap part: while they are unchanged, the archive is
    taken to be the one whose sha256 was recorded, without reading it.
    """

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path, sha256: str) -> "Record":
        """The record of a file as it is now, whose contents have the sha256 ``sha256``."""
        status = path.stat()
        return cls(status.st_size, status.st_mtime_ns, sha256)

    @classmethod
    def read(cls, archive: Path) -> "Record | None":
        """The record of an archive, or None when it has none (or an unreadable one)."""
        try:
            size, mtime_ns, sha256 = record_file(archive).read_text().split(" ")
            if DIGEST.fullmatch(sha256):
                return cls(int(size), int(mtime_ns), sha256)
        except (OSError, ValueError):
            pass
        return None

    def write(self, archive: Path) -> None:
        """Remember this record for ``archive`` (atomically: readers see a whole record)."""
        memo = record_file(archive)
        with contextlib.suppress(OSError):
            memo.parent.mkdir(exist_ok=True)
            write_atomically(memo, f"{self.size} {self.mtime_ns} {self.sha256}".encode())

    @staticmethod
    def forget(archive: Path) -> None:
        """Remove the record of an archive (that is removed itself), if it has one."""
        record_file(archive).unlink(missing_ok=True)

    def matches(self, path: Path) -> bool:
        """Whether the file's size and modification time are the recorded ones."""
        status = path.stat()
        return (status.st_size, status.st_mtime_ns) == (self.size, self.mtime_ns)


def record_file(archive: Path) -> Path:
    """Where the record of an archive is kept."""
    return archive.parent / HASHES / archive.name


def record_sha256(path: Path, archive: Path | None = None) -> str:
    """Hash a file that enters the index as ``archive`` (default: itself); record and return it.

    A download is recorded before it is renamed into the index (its size and
    time stay the same), so that no other run sees it without its record.
    """
    digest = hash_file(path)
    Record.of(path, digest).write(archive or path)
    return digest


def sha256_of(path: Path) -> str:
    """The sha256 of an archive of the index, read from its record while size and time match.

    An archive without a record is recorded (trust on first use), and a record
    whose archive was only touched gets the new time; a record of other
    contents is left for :meth:`LocalIndex.verify` to act on.
    """
    remembered = Record.read(path)
    if remembered is not None and remembered.matches(path):
        return remembered.sha256
    digest = hash_file(path)
    if remembered is None or remembered.sha256 == digest:
        Record.of(path, digest).write(path)
    return digest
