"""The lock of the data directory: installs share it, whatever removes entries holds it alone.

An install uses entries of the data directory from its first step to its
last: pip reads the local index while it plans, builds read archives and
back-ends, installs link the files of trees, uploads read wheels and trees.
Much of that happens inside pip, where pip-accel cannot say which entry is in
use at which moment. So every install holds a *shared* lock on
``<data>/locks/cache.lock`` while it runs, and everything that removes
entries (the size bound at the end of an install, ``pip-accel cache prune``,
``remove`` and ``purge``) holds it *exclusively*: no entry goes while any run
could still use it. An install that ends while others run skips the bound;
the last run to finish (or the next one) keeps it.

The lock is an ``flock`` on a file that is never removed, so it is released
by the kernel when its process dies, however it dies.
"""

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from pip_accel.datadir.layout import DATA_LOCK, LOCKS

LOCK_FILE = Path(LOCKS) / DATA_LOCK
"""The lock file, relative to the data directory."""


class DataLock:
    """The shared-or-exclusive lock of one data directory."""

    def __init__(self, data_directory: Path) -> None:
        """Lock ``data_directory`` (the lock file is made on first use)."""
        self.path = data_directory / LOCK_FILE

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the lock together with other installs (waiting while an entry is removed)."""
        with self._locked(fcntl.LOCK_SH) as held:
            assert held
            yield

    @contextlib.contextmanager
    def exclusive(self, wait: bool) -> Iterator[bool]:
        """Hold the lock alone; yield whether it is held (only False when not ``wait``)."""
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        with self._locked(flags) as held:
            yield held

    @contextlib.contextmanager
    def _locked(self, flags: int) -> Iterator[bool]:
        """Open the lock file and ``flock`` it; yield whether the lock was taken."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(descriptor, flags)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(descriptor)  # closing releases the lock
