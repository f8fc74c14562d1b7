"""Placing the files of an unpacked tree into an environment: hard links or copies.

``hardlink`` (the default) makes each installed file another name of the
tree's file: nothing is copied, and an install takes little more than one
system call per file. ``copy`` writes each file anew. Either way the
modification time is the tree's, which keeps the compiled bytecode valid.

Where a link cannot be made (another file system, a link count at its limit,
a file system without links) the file is copied instead. A file that is in
the way is removed first, never written through: it may itself be a link to
another tree.

The files of a big tree are placed by several threads (a link is a system
call that releases the GIL), after their directories are made in one pass;
:meth:`Linker.place_all` returns only once every thread has stopped, so that
what follows (the ``RECORD``, or undoing a failed install) never races a link.
"""

import errno
import logging
import os
import shutil
import stat
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from pip_accel.interrupts import deferred

logger = logging.getLogger(__name__)

CANNOT_LINK = {errno.EXDEV, errno.EMLINK, errno.EPERM, errno.EACCES, errno.ENOTSUP}
"""Errors after which a file is copied instead of linked."""


LINK_THREADS = 2
"""How many threads place the files of one big tree (the calling thread is one of them)."""

SMALL_TREE = 256
"""Trees with fewer files are placed by the calling thread alone (threads cost more)."""

Pair = tuple[str, str]
"""A file to place: its source and its target."""


class Linker:
    """Places files, creating their directories once, in one link mode."""

    def __init__(self, mode: str, threads: int = LINK_THREADS) -> None:
        """Place files by ``mode``: ``hardlink`` or ``copy``, by up to ``threads`` threads."""
        self.mode = mode
        self.threads = max(1, threads)
        self.directories: set[str] = set()
        self.switching = threading.Lock()

    def place_all(self, pairs: Sequence[Pair], check: Callable[[int], None]) -> None:
        """Place each ``(source, target)``, ``check(index)`` first; the first error stops all.

        The directories are made first, by this thread; the files are then
        split into one run of consecutive pairs per thread (consecutive files
        share directories, and threads then rarely wait for each other's).
        """
        for parent in dict.fromkeys(os.path.dirname(target) for _, target in pairs):
            if parent not in self.directories:
                os.makedirs(parent, exist_ok=True)
                self.directories.add(parent)
        threads = min(self.threads, max(1, len(pairs) // SMALL_TREE))
        if threads == 1:
            self._place_run(pairs, range(len(pairs)), check, threading.Event())
            return
        size = -(-len(pairs) // threads)
        runs = [range(start, min(start + size, len(pairs))) for start in range(0, len(pairs), size)]
        stop = threading.Event()
        pool = ThreadPoolExecutor(len(runs) - 1, thread_name_prefix="link")
        try:
            others = [pool.submit(self._place_run, pairs, run, check, stop) for run in runs[1:]]
            self._place_run(pairs, runs[0], check, stop)
            for future in others:
                future.result()
        finally:  # after an error or an interruption the others stop at their next file
            stop.set()
            with deferred():  # and none is left placing files while the install is undone
                pool.shutdown(wait=True)

    def _place_run(
        self, pairs: Sequence[Pair], run: range, check: Callable[[int], None], stop: threading.Event
    ) -> None:
        """Check and place the pairs of ``run``, until one fails or ``stop`` is set."""
        try:
            for index in run:
                if stop.is_set():
                    return
                check(index)
                self.place(*pairs[index])
        except BaseException:
            stop.set()
            raise

    def place(self, source: str, target: str) -> None:
        """Make ``target`` a link to or a copy of ``source``, replacing what is there."""
        parent = os.path.dirname(target)
        if parent not in self.directories:
            os.makedirs(parent, exist_ok=True)
            self.directories.add(parent)
        try:
            self._place(source, target)
        except FileExistsError:
            os.unlink(target)
            self._place(source, target)
        except FileNotFoundError:
            if not os.path.exists(source):
                raise
            # A directory made earlier in the run is gone (an undo removed it): make it again.
            os.makedirs(parent, exist_ok=True)
            self._place(source, target)

    def _place(self, source: str, target: str) -> None:
        """Link or copy; raise :class:`FileExistsError` when ``target`` exists."""
        if self.mode == "hardlink":
            try:
                os.link(source, target)
                return
            except OSError as error:
                if error.errno not in CANNOT_LINK:
                    raise
                self._fall_back(error, target)
        copy_file(source, target)

    def _fall_back(self, error: OSError, target: str) -> None:
        """Copy from now on when links cannot cross file systems; say so once."""
        if error.errno == errno.EXDEV:
            with self.switching:  # threads that meet the same error say it once
                if self.mode == "copy":
                    return
                self.mode = "copy"
            logger.info(
                "Copying files instead of linking them: the cache and %s are on different"
                " file systems.", os.path.dirname(target),
            )  # fmt: skip
        else:
            logger.debug("Copying %s instead of linking it: %s.", target, error.strerror)


def copy_file(source: str, target: str) -> None:
    """Copy contents, permissions and times; raise :class:`FileExistsError` if ``target`` exists.

    The files of trees are read-only; a copy is the environment's own, and
    its owner may write it, as after a pip install.
    """
    with open(source, "rb") as reader, open(target, "xb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)
    shutil.copystat(source, target)
    mode = os.stat(target).st_mode
    if not mode & stat.S_IWUSR:
        os.chmod(target, stat.S_IMODE(mode) | stat.S_IWUSR)
