"""Placing the files of an unpacked tree into an environment: hard links or copies.

``hardlink`` (the default) makes each installed file another name of the
tree's file: nothing is copied, and an install takes little more than one
system call per file. ``copy`` writes each file anew. Either way the
modification time is the tree's, which keeps the compiled bytecode valid.

Where a link cannot be made (another file system, a link count at its limit,
a file system without links) the file is copied instead. A file that is in
the way is removed first, never written through: it may itself be a link to
another tree.
"""

import errno
import logging
import os
import shutil
import stat
from collections.abc import Iterable

logger = logging.getLogger(__name__)

CANNOT_LINK = {errno.EXDEV, errno.EMLINK, errno.EPERM, errno.EACCES, errno.ENOTSUP}
"""Errors after which a file is copied instead of linked."""


class Linker:
    """Places files, creating their directories once, in one link mode."""

    def __init__(self, mode: str) -> None:
        """Place files by ``mode``: ``hardlink`` or ``copy``."""
        self.mode = mode
        self.directories: set[str] = set()

    def make_directories(self, directories: Iterable[str], roots: Iterable[str] = ()) -> None:
        """Create the directories that files will be placed in, each once per run.

        Their parents are made too, up to ``roots`` (the scheme directories, made
        only if missing). Sorted, a directory comes before those inside it, so one
        ``mkdir`` each is enough.
        """
        known, stops = self.directories, set(roots)
        wanted: set[str] = set()
        for directory in directories:
            while directory and directory not in wanted and directory not in known:
                if directory in stops:
                    break
                wanted.add(directory)
                directory = directory.rpartition("/")[0]
        for directory in sorted(wanted):
            try:
                os.mkdir(directory)
            except FileExistsError:
                if not os.path.isdir(directory):
                    raise
            except FileNotFoundError:  # a root that is not there yet
                os.makedirs(directory, exist_ok=True)
            known.add(directory)

    def place_all(self, sources: list[str], targets: list[str]) -> None:
        """Place each of ``sources`` as the target beside it, their directories made already
        (:meth:`make_directories`): one ``link`` each, :meth:`place` where that fails."""
        link = os.link
        for source, target in zip(sources, targets, strict=True):
            if self.mode == "hardlink":
                try:
                    link(source, target)
                    continue
                except OSError:
                    pass  # in the way, another file system, a directory gone: see place()
            self.place(source, target)

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
            logger.info(
                "Copying files instead of linking them: the cache and %s are on different"
                " file systems.", os.path.dirname(target),
            )  # fmt: skip
            self.mode = "copy"
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
