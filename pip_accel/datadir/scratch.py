"""Private working directories of one run, and the leftovers of runs that died.

A run unpacks, downloads and builds in directories of its own, which it
removes or renames into place when it is done. A run that is killed cannot
clean up, so every private directory comes with a lock file that its run holds
while it lives: a later run that can take the lock knows the owner is gone and
removes what it left (:func:`remove_leftovers`). The lock is taken before the
directory exists, so a directory is never seen without its owner's lock.
"""

import contextlib
import logging
import os
import secrets
import shutil
import stat
import time
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout
from humanfriendly import format_size
from humanfriendly.text import pluralize

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
"""The ending of the lock file next to a private directory."""

UNLOCKED_AGE = 3600
"""Seconds after which a private directory without a lock file counts as left over.

pip-accel 1.0 made private directories without locks.
"""


class PrivateDirectory:
    """A directory that belongs to this run, and its lock, held until :meth:`close`."""

    def __init__(self, parent: Path, prefix: str) -> None:
        """Make ``<parent>/<prefix><random>``, holding its lock first."""
        parent.mkdir(parents=True, exist_ok=True)
        name = f"{prefix}{secrets.token_hex(6)}"
        self.path = parent / name
        # Not thread-local: another thread may close it (trees are published by a reader).
        self.lock = FileLock(str(parent / f"{name}{LOCK_SUFFIX}"), thread_local=False)
        self.lock.acquire()
        try:
            self.path.mkdir()
        except BaseException:
            self._release()
            raise

    def close(self) -> None:
        """Remove the directory (if it was not renamed away) and give up the lock."""
        try:
            remove_tree(self.path)
        finally:
            self._release()

    def _release(self) -> None:
        """Remove and release the lock file."""
        release_removing(self.lock)

    def __enter__(self) -> Path:
        """The directory, for a ``with`` block."""
        return self.path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Remove the directory at the end of a ``with`` block."""
        self.close()


def remove_leftovers(parent: Path, prefixes: tuple[str, ...]) -> int:
    """Remove the private directories under ``parent`` whose runs are gone; return bytes freed."""
    try:
        names = os.listdir(parent)
    except OSError:
        return 0
    freed = 0
    removed = 0
    for name in names:
        path = parent / name
        if not name.startswith(prefixes):
            continue
        if not name.endswith(LOCK_SUFFIX) and _abandoned(path):
            freed += remove_abandoned(path)
            removed += 1
        elif name.endswith(LOCK_SUFFIX) and name[: -len(LOCK_SUFFIX)] not in names:
            _remove_orphan_lock(path)
    if removed:
        logger.info(
            "Removed %s of interrupted runs from %s (%s).",
            pluralize(removed, "leftover"), parent, format_size(freed),
        )  # fmt: skip
    return freed


def _remove_orphan_lock(lock_file: Path) -> None:
    """Remove the lock file of a run that died before it made its directory."""
    lock = FileLock(str(lock_file))
    try:
        lock.acquire(timeout=0)
    except (Timeout, OSError):
        return
    release_removing(lock)


def _abandoned(path: Path) -> bool:
    """Whether no live run holds the lock of a private directory."""
    lock = take_abandoned(path)
    if lock is None:
        return False
    lock.release()
    return True


def take_abandoned(path: Path) -> FileLock | None:
    """The lock of a private directory whose run is gone, taken; None while its run lives."""
    lock_file = Path(f"{path}{LOCK_SUFFIX}")
    if not lock_file.exists():
        try:
            if time.time() - path.lstat().st_mtime <= UNLOCKED_AGE:
                return None
        except OSError:
            return None
    lock = FileLock(str(lock_file))
    try:
        lock.acquire(timeout=0)
    except (Timeout, OSError):
        return None
    return lock


def remove_abandoned(path: Path) -> int:
    """Remove an abandoned private directory and its lock file; return the bytes freed.

    The lock is taken again for the removal, so that two runs cleaning at once
    do not trip over each other.
    """
    lock = take_abandoned(path)
    if lock is None:
        return 0
    try:
        size = tree_size(path)
        remove_tree(path)
        release_removing(lock)
        return size
    finally:
        lock.release()


def release_removing(lock: FileLock) -> None:
    """Remove a lock file that this run holds, then release it."""
    with contextlib.suppress(OSError):
        os.unlink(lock.lock_file)
    lock.release()


def tree_size(path: Path) -> int:
    """The bytes of the files below ``path`` (0 when it is gone)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def remove_tree(path: Path) -> None:
    """Remove a directory tree, making its directories writable first where they are not.

    Trees of unpacked wheels are read-only on purpose; nothing else is left
    behind because of a permission bit that pip-accel itself set.
    """
    if not path.is_dir() or path.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    for root, directories, _ in os.walk(path):
        for name in directories:
            _make_writable(os.path.join(root, name))
    _make_writable(str(path))
    shutil.rmtree(path, ignore_errors=True)


def _make_writable(directory: str) -> None:
    """Let the owner change the entries of a directory."""
    with contextlib.suppress(OSError):
        mode = os.lstat(directory).st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IWUSR:
            os.chmod(directory, stat.S_IMODE(mode) | stat.S_IWUSR | stat.S_IXUSR)
