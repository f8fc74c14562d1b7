"""Installing one distribution so that a kill at any moment leaves the old or the new one whole.

pip sees a distribution as installed when its ``.dist-info`` directory (with
``METADATA`` and ``RECORD``) is in a library directory. So the new version's
``.dist-info`` is made aside and renamed into place last, in one step, and
everything before that step can be undone. Each install has a *transaction
directory* ``<library>/.pip-accel-txn-<random>`` with a journal in it:

1. The journal lists what is in the way (the old version's ``.dist-info`` and
   files, and any other file where the new version writes), where each of
   those goes inside the transaction directory, and every path the new
   version writes. State ``stashing``: what is in the way is moved aside,
   the old ``.dist-info`` first, so the old version stops being installed at once.
2. State ``placing``: the new files are placed, the new ``.dist-info`` inside
   the transaction directory.
3. Commit: the new ``.dist-info`` is renamed into place. The transaction
   directory, holding the old files, is removed.

A run that fails or is interrupted rolls back at once; a run that is killed
leaves the transaction directory, and the next run into the environment
finishes it (:func:`recover`): before the commit it removes what was placed
and puts back what was moved aside, after it only removes the old files. A
transaction directory is a private directory (:mod:`pip_accel.datadir.scratch`) whose
lock its run holds, so only those of dead runs are finished; and runs that
share a data directory take turns on an environment
(:func:`environment_lock`).
"""

import contextlib
import csv
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from pip_accel.datadir.scratch import (
    LOCK_SUFFIX,
    PrivateDirectory,
    release_removing,
    remove_tree,
    take_abandoned,
)
from pip_accel.files import write_atomically
from pip_accel.interrupts import deferred

logger = logging.getLogger(__name__)

PREFIX = ".pip-accel-txn-"
"""The start of the name of a transaction directory."""

OLD_STASH_PREFIX = ".pip-accel-stash-"
"""What pip-accel 1.0 called the directory of an old version being replaced (no journal)."""

JOURNAL = "journal.json"
STAGING = "dist-info"
OLD_FILES = "old"


@dataclass
class Journal:
    """What a transaction changes, written before it changes anything."""

    new: str
    """The new distribution, such as ``numpy 2.1.3``, for messages."""
    old: str
    """The distribution it replaces, or an empty string."""
    dist_info: str
    """Where the new ``.dist-info`` goes."""
    roots: list[str]
    """The scheme directories: emptied directories are removed up to these, never beyond."""
    moved: list[tuple[str, str]] = field(default_factory=list)
    """Each path in the way, and its name inside the transaction directory."""
    placed: list[str] = field(default_factory=list)
    """Every path the new version writes outside its ``.dist-info``."""
    state: str = "stashing"

    @classmethod
    def load(cls, path: Path) -> "Journal | None":
        """Read a journal; None when it is missing or unreadable."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["moved"] = [tuple(pair) for pair in data["moved"]]
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None


class Transaction:
    """The install of one distribution into one library directory."""

    def __init__(self, directory: Path, journal: Journal, lock: FileLock) -> None:
        """A transaction kept in ``directory``, whose ``lock`` this run holds."""
        self.directory = directory
        self.journal = journal
        self.lock = lock

    @property
    def staging(self) -> Path:
        """Where the new ``.dist-info`` is made before it is renamed into place."""
        return self.directory / STAGING

    @classmethod
    def create(cls, library: Path, journal: Journal) -> "Transaction":
        """Make the transaction directory of an install into ``library``."""
        private = PrivateDirectory(library, PREFIX)
        return cls(private.path, journal, private.lock)

    def stash(self, in_the_way: Iterable[Path]) -> None:
        """Write the journal, move what is in the way aside, and get ready to place files.

        With nothing in the way (into a new environment), the journal is written once, in
        state ``placing``: there is nothing to put back, and nothing at a path the new
        version writes but what it placed.
        """
        journal = self.journal
        journal.moved = [
            (str(path), f"{OLD_FILES}/{number}") for number, path in enumerate(in_the_way)
        ]
        if journal.moved:
            self._save()
            (self.directory / OLD_FILES).mkdir()
        for original, hidden in journal.moved:
            os.rename(original, self.directory / hidden)
            prune_empty_directories(Path(original).parent, journal.roots)
        self.staging.mkdir()
        journal.state = "placing"
        self._save()

    def _save(self) -> None:
        """Write the journal (atomically: a reader sees the old or the new state)."""
        data = json.dumps(vars(self.journal)).encode()  # asdict would deep-copy every path
        write_atomically(self.directory / JOURNAL, data)

    def commit(self) -> None:
        """Rename the new ``.dist-info`` into place, then forget the old files."""
        os.rename(self.staging, self.journal.dist_info)
        self._close()

    def _close(self) -> None:
        """Remove the transaction directory and its lock."""
        try:
            remove_tree(self.directory)
        finally:
            release_removing(self.lock)

    def roll_back(self) -> None:
        """Remove what was placed and put back what was moved aside."""
        with deferred():
            if self.journal.state == "placing":
                self._remove_placed()
            for original, hidden in reversed(self.journal.moved):
                self._put_back(Path(original), self.directory / hidden)
            self._close()

    def _remove_placed(self) -> None:
        """Remove every file the new version placed (what was in the way is moved aside)."""
        roots = self.journal.roots
        for path in map(Path, reversed(self.journal.placed)):
            if path.is_symlink() or path.is_file():
                path.unlink()
                prune_empty_directories(path.parent, roots)

    @staticmethod
    def _put_back(original: Path, hidden: Path) -> None:
        """Move one file (or the old ``.dist-info``) back where it was."""
        if not (hidden.exists() or hidden.is_symlink()):
            return  # it was never moved
        original.parent.mkdir(parents=True, exist_ok=True)
        if original.is_symlink() or original.is_file():
            original.unlink()
        os.rename(hidden, original)

    @property
    def committed(self) -> bool:
        """Whether the new ``.dist-info`` was renamed into place."""
        state = self.journal.state
        return state == "placing" and not self.staging.exists()

    def finish(self) -> str:
        """Finish the transaction of a dead run; say what was done."""
        if self.committed:
            self._close()
            return f"finished installing {self.journal.new}"
        self.roll_back()
        back = f"; {self.journal.old} is back" if self.journal.old else ""
        return f"removed what an interrupted install of {self.journal.new} had placed{back}"


def recover(libraries: Iterable[Path]) -> None:
    """Finish the transactions that dead runs left in these library directories."""
    for library in dict.fromkeys(libraries):
        try:
            names = sorted(os.listdir(library))
        except OSError:
            continue
        for name in names:
            if name.startswith(PREFIX) and not name.endswith(LOCK_SUFFIX):
                _recover(library / name)
            elif name.startswith(OLD_STASH_PREFIX):
                remove_tree(library / name)
                logger.warning(
                    "Removed %s, the files of a distribution that pip-accel 1.0 was replacing when"
                    " it was interrupted; they cannot be put back.", library / name,
                )  # fmt: skip


def _recover(directory: Path) -> None:
    """Finish one transaction, if its run is gone."""
    lock = take_abandoned(directory)
    if lock is None:
        return
    journal = Journal.load(directory / JOURNAL)
    if journal is None:  # killed before the journal was written: nothing was moved
        remove_tree(directory)
        release_removing(lock)
        return
    what = Transaction(directory, journal, lock).finish()
    logger.warning("Repaired the environment (%s): %s.", directory.parent, what)


@contextlib.contextmanager
def environment_lock(locks: Path, library: Path) -> Iterator[None]:
    """Take turns with other runs (of this data directory) that install into ``library``."""
    locks.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(os.path.realpath(library).encode()).hexdigest()[:24]
    lock = FileLock(str(locks / f"environment-{name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.info("Waiting for another pip-accel run that installs into %s.", library)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def in_the_way(dist_info: Path | None, new_dist_info: Path, planned: Iterable[str]) -> list[Path]:
    """What must be moved aside before a new version is placed, the ``.dist-info`` first.

    The ``.dist-info`` directories (of the installed version and any at the
    new one's name), the files ``RECORD`` lists for the installed version
    (and their bytecode), and any other file at a path the new version writes.
    """
    found: dict[Path, None] = {}
    for directory in (dist_info, new_dist_info):
        if directory is not None and directory.is_dir():
            found[directory] = None
    if dist_info is not None:
        found.update(dict.fromkeys(_recorded_files(dist_info)))
    found.update(dict.fromkeys(_existing(planned)))
    return [path for path in found if not _inside(path, found)]


def _inside(path: Path, found: dict[Path, None]) -> bool:
    """Whether ``path`` lies in a ``.dist-info`` directory that is moved as a whole.

    At any depth: ``.dist-info/licenses/LICENSE`` goes with its ``.dist-info``.
    """
    return any(parent.suffix == ".dist-info" and parent in found for parent in path.parents)


def _recorded_files(dist_info: Path) -> Iterator[Path]:
    """The files of an installed distribution that exist: those in RECORD, and their bytecode."""
    site = dist_info.parent
    record = dist_info / "RECORD"
    text = record.read_text(encoding="utf-8") if record.is_file() else ""
    for row in csv.reader(text.splitlines()):
        if not row:
            continue
        path = Path(os.path.normpath(site / row[0]))
        candidates = [path]
        if path.suffix == ".py":
            candidates += path.parent.joinpath("__pycache__").glob(f"{path.stem}.*.pyc")
        for candidate in candidates:
            if candidate.is_file() or candidate.is_symlink():
                yield candidate


def _existing(paths: Iterable[str]) -> Iterator[Path]:
    """Those of ``paths`` that exist, listing each directory once rather than each file.

    A directory inside one that is not there is not listed: into a new environment, one
    ``listdir`` per package rather than one per directory.
    """
    by_directory: dict[str, list[str]] = {}
    for path in paths:
        directory, _, name = path.rpartition("/")
        by_directory.setdefault(directory, []).append(name)
    listed = _listings(sorted(by_directory))
    for directory, names in by_directory.items():
        present = listed.get(directory, set())
        for name in names:
            if name in present:
                found = Path(directory, name)
                if found.is_file() or found.is_symlink():
                    yield found


def _listings(directories: list[str]) -> dict[str, set[str]]:
    """The names in each of ``directories`` (sorted) that can be listed; one inside a
    directory found missing is not tried."""
    listed: dict[str, set[str]] = {}
    missing: set[str] = set()
    for directory in directories:
        if _inside_missing(directory, missing):
            continue
        try:
            listed[directory] = set(os.listdir(directory))
        except FileNotFoundError:
            missing.add(directory)
        except OSError:
            pass
    return listed


def _inside_missing(directory: str, missing: set[str]) -> bool:
    """Whether ``directory`` lies inside one of the ``missing`` directories."""
    while directory:
        directory = directory.rpartition("/")[0]
        if directory in missing:
            return True
    return False


def prune_empty_directories(directory: Path, roots: Iterable[str]) -> None:
    """Remove ``directory`` and its parents while they are empty, stopping at the ``roots``.

    Only directories below a root go: an emptied ``site-packages`` or ``bin``
    stays, and so does everything above it.
    """
    tops = [os.path.abspath(root) for root in roots]
    current = os.path.abspath(directory)
    while current not in tops and any(current.startswith(top + os.sep) for top in tops):
        try:
            os.rmdir(current)
        except OSError:
            return
        current = os.path.dirname(current)
