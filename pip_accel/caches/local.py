"""The local binary cache backend: wheels under ``<data>/binaries``.

Any number of pip-accel processes may share the directory: an entry is
written to a temporary file and renamed into place, under a file lock, so a
reader sees either no entry or a whole one. The sha256 of each wheel is
recorded when it is stored (in ``.<wheel>.sha256`` next to it, written before
the wheel) and checked when it is read: a corrupt or truncated wheel is
discarded, so that it is built or fetched again rather than installed. The
stored wheel also gets the index's record of its sha256 with its size and time
(``.sha256/<wheel>``), from which its tree is named without reading it
(:mod:`pip_accel.install.wheel_digests`).
"""

import logging
from pathlib import Path

from filelock import FileLock

from pip_accel.caches import CacheBackend, CacheKey
from pip_accel.config import Config
from pip_accel.datadir.layout import LOCKS_OF_BINARIES
from pip_accel.datadir.records import Record
from pip_accel.files import copy_atomically, hash_file, write_atomically

logger = logging.getLogger(__name__)


class LocalCacheBackend(CacheBackend):
    """Keeps built wheels on the local file system."""

    priority = 10
    remote = False
    writable = True

    def __init__(self, config: Config) -> None:
        """Use the binary cache directory of the configuration."""
        self.directory = config.binary_cache
        self.verified: dict[CacheKey, Path] = {}
        """The entries whose checksum was checked during this run."""

    def get(self, key: CacheKey) -> Path | None:
        """The wheel stored under ``key`` when its checksum is right, else None."""
        if key in self.verified and self.verified[key].is_file():
            return self.verified[key]
        entry = self.directory / key.path
        wheels = sorted(entry.glob("*.whl")) if entry.is_dir() else []
        if not wheels:
            return None
        wheel = wheels[0]
        problem = self._problem(wheel)
        if problem and self._discard(key, wheel, problem):
            return None
        self.verified[key] = wheel
        return wheel

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Copy ``wheel`` into the entry of ``key``, atomically, its checksum first."""
        entry = self.directory / key.path
        entry.mkdir(parents=True, exist_ok=True)
        stored = entry / wheel.name
        with self._lock(key):
            digest = hash_file(wheel)
            write_atomically(checksum_file(stored), digest.encode())
            copy_atomically(wheel, stored)
            Record.of(stored, digest).write(stored)  # with its time: names its tree cheaply
        self.verified.pop(key, None)
        logger.debug("Stored %s in %s.", wheel.name, entry)

    def _problem(self, wheel: Path) -> str | None:
        """What is wrong with a stored wheel, or None when its checksum matches."""
        try:
            expected = checksum_file(wheel).read_text().strip()
        except FileNotFoundError:
            return "its recorded sha256 is missing"
        actual = hash_file(wheel)
        return None if actual == expected else f"its sha256 is {actual}, not {expected}"

    def _discard(self, key: CacheKey, wheel: Path, problem: str) -> bool:
        """Remove a damaged entry, so that it is built or fetched again; return whether it was.

        The check is made once more under the lock: another process may have
        been storing the entry while this one read it.
        """
        with self._lock(key):
            if wheel.is_file() and self._problem(wheel) is None:
                return False
            logger.warning(
                "Discarding the cached wheel %s of %s: %s (it is corrupt or truncated);"
                " it will be built or fetched again.", wheel, key, problem,
            )  # fmt: skip
            wheel.unlink(missing_ok=True)
            checksum_file(wheel).unlink(missing_ok=True)
            Record.forget(wheel)
        return True

    def _lock(self, key: CacheKey) -> FileLock:
        """The lock that guards writes to the entry of ``key``."""
        locks = self.directory / LOCKS_OF_BINARIES
        locks.mkdir(parents=True, exist_ok=True)
        return FileLock(str(locks / f"entry-{key.name}-{key.version}-{key.source_sha256}.lock"))


def checksum_file(wheel: Path) -> Path:
    """Where the sha256 of a stored wheel is recorded."""
    return wheel.with_name(f".{wheel.name}.sha256")
