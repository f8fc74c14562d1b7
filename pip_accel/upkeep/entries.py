"""The entries of the data directory: what pip-accel keeps, how big it is, when it was last used.

The data directory has four parts, and each holds one kind of entry:

======  ================================  ======================================
kind    entry                             its last-use stamp
======  ================================  ======================================
source  ``sources/<archive>``             ``sources/.sha256/<archive>`` (record)
wheel   ``binaries/.../<sdist sha256>/``  the directory itself
tree    ``trees/<cache tag>/<tree>/``     the directory itself
plan    ``plans/<key>.json``              the file itself
======  ================================  ======================================

Last use is the modification time of the stamp, which a run sets with one
``utime`` per entry it used (:func:`mark_used`); access times are not read,
since many file systems are mounted ``noatime``. The stamps are chosen so
that setting their time changes nothing else: a wheel's own time is part of
the plans that name it and of its sha256 record (which names its tree), so
no wheel or archive is touched. A source archive also
counts as used whenever a wheel built from it is (same sha256).

Removing an entry removes only the cache's names: an environment installed
with hard links keeps its files.
"""

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pip_accel.datadir.layout import (
    BINARIES,
    DAMAGED_SOURCES,
    HASHES,
    LEFTOVERS,
    PLANS,
    SOURCES,
    TREE_PREFIXES,
    TREES,
)
from pip_accel.datadir.records import Record
from pip_accel.datadir.scratch import remove_leftovers, remove_tree, tree_size
from pip_accel.filenames import name_and_version

KINDS = ("source", "wheel", "tree", "plan")
"""The kinds of entries, in the order of the parts of the data directory."""

PARTS = {"source": SOURCES, "wheel": BINARIES, "tree": TREES, "plan": PLANS}
"""The directory of each kind of entry, in the data directory."""

NOUNS = {
    "source": "source archive",
    "wheel": "built wheel",
    "tree": "unpacked tree",
    "plan": "stored plan",
}
"""What an entry of each kind is called, in messages."""

DIGEST = re.compile(r"[0-9a-f]{64}")
"""A sha256 in hexadecimal, as binary cache keys and records hold them."""


@dataclass(frozen=True)
class Entry:
    """One entry of the data directory."""

    kind: str
    path: Path
    """What is removed: a file (archive, plan) or a directory (wheel, tree)."""
    size: int
    """The bytes of its files (an archive's record included)."""
    last_used: float
    """When a run last used it (seconds since the epoch)."""
    stamp: Path
    """The file or directory whose modification time records its last use."""
    project: str | None = None
    """The canonical name of its project, when its name says."""
    sha256: str | None = None
    """An archive's sha256; for a wheel, the sha256 of the sdist it was built from."""
    wheels: tuple[Path, ...] = ()
    """The wheel files it holds (a wheel entry, an archive that is a wheel) or names (a plan)."""
    extras: tuple[Path, ...] = field(default=(), compare=False)
    """Files that go with it: the sha256 record of an archive."""

    @property
    def name(self) -> str:
        """Its name: that of its file or directory, or of the wheel a wheel entry holds."""
        return self.wheels[0].name if self.kind == "wheel" and self.wheels else self.path.name


class DataDirectory:
    """The parts of one data directory, read as entries."""

    def __init__(self, root: Path) -> None:
        """Read the data directory ``root`` (which may lack any of its parts)."""
        self.root = root

    def part(self, kind: str) -> Path:
        """The directory of the entries of ``kind``."""
        return self.root / PARTS[kind]

    def entries(self) -> list[Entry]:
        """Every entry, sources last used when a wheel built from them was."""
        sources = list(self._sources())
        wheels = list(self._wheels())
        used: dict[str, float] = {}
        for wheel in wheels:
            if wheel.sha256:
                used[wheel.sha256] = max(used.get(wheel.sha256, 0.0), wheel.last_used)
        sources = [_used_with_wheels(entry, used) for entry in sources]
        return [*sources, *wheels, *self._trees(), *self._plans()]

    def stamp_of(self, path: Path) -> Path:
        """The last-use stamp of the entry at ``path`` (see the module's text)."""
        if path.parent == self.part("source"):
            record = path.parent / HASHES / path.name
            return record if record.exists() else path
        return path

    def entry_of_wheel(self, wheel: Path) -> Path | None:
        """The entry that holds a wheel file: its directory in ``binaries``, or the archive."""
        if wheel.parent == self.part("source"):
            return wheel
        if wheel.is_relative_to(self.part("wheel")):
            return wheel.parent
        return None

    def remove_leftovers(self) -> int:
        """Remove what killed runs left behind, and archives set aside as damaged; return bytes.

        Private directories whose run still lives keep their lock and stay.
        """
        freed = sum(remove_leftovers(self.root / name, p) for name, p in LEFTOVERS.items())
        for tag in _directories(self.part("tree")):
            freed += remove_leftovers(tag, TREE_PREFIXES)
        damaged = self.part("source") / DAMAGED_SOURCES
        freed += tree_size(damaged)
        remove_tree(damaged)
        records = self.part("source") / HASHES
        for record in _files(records):
            if not (self.part("source") / record.name).exists():
                freed += _size(record)
                record.unlink(missing_ok=True)
        return freed

    def _sources(self) -> Iterable[Entry]:
        """The archives of the local index, each with its record."""
        for path in _files(self.part("source")):
            if not path.is_file():
                continue
            record = path.parent / HASHES / path.name
            stamp = record if record.exists() else path
            remembered = Record.read(path)
            found = name_and_version(path.name)
            yield Entry(
                "source", path, _size(path) + _size(record), _mtime(stamp), stamp,
                project=found[0] if found else None,
                sha256=remembered.sha256 if remembered else None,
                wheels=(path,) if path.name.endswith(".whl") else (),
                extras=(record,),
            )  # fmt: skip

    def _wheels(self) -> Iterable[Entry]:
        """The directories of ``binaries`` that hold a wheel (one cache key each)."""
        root = self.part("wheel")
        for directory, subdirectories, names in os.walk(root):
            subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
            wheels = sorted(name for name in names if name.endswith(".whl"))
            if not wheels:
                continue
            path = Path(directory)
            yield Entry(
                "wheel", path, tree_size(path), _mtime(path), path,
                project=_project(wheels[0]),
                sha256=path.name if DIGEST.fullmatch(path.name) else None,
                wheels=tuple(path / name for name in wheels),
            )  # fmt: skip

    def _trees(self) -> Iterable[Entry]:
        """The unpacked trees of every cache tag (not those being made or removed)."""
        for tag in _directories(self.part("tree")):
            for path in _directories(tag):
                wheel_stem = path.name.rpartition("-")[0]
                yield Entry(
                    "tree", path, tree_size(path), _mtime(path), path,
                    project=_project(f"{wheel_stem}.whl"),
                )  # fmt: skip

    def _plans(self) -> Iterable[Entry]:
        """The stored plans, with the wheels they name."""
        for path in _files(self.part("plan")):
            if path.name.endswith(".json") and path.is_file():
                yield Entry(
                    "plan", path, _size(path), _mtime(path), path, wheels=named_wheels(path)
                )


def named_wheels(plan: Path) -> tuple[Path, ...]:
    """The wheels a stored plan names (none when it cannot be read)."""
    try:
        data = json.loads(plan.read_bytes())
        return tuple(Path(item["wheel"]) for item in data["wheels"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return ()


def mark_used(stamps: Iterable[Path], now: float) -> None:
    """Record that entries were used at ``now``: one ``utime`` per stamp.

    A stamp that is gone (removed meanwhile) or not ours to change is
    skipped: last use only orders what goes first.
    """
    for stamp in stamps:
        with contextlib.suppress(OSError):
            os.utime(stamp, (now, now))


def run_entries(
    data: DataDirectory,
    wheels: Iterable[Path],
    tree_of: Callable[[Path], Path],
    plan: Path | None,
) -> set[Path]:
    """The entries a run used: its plan, its wheels' entries and their trees."""
    used = {plan} if plan is not None else set()
    for wheel in wheels:
        entry = data.entry_of_wheel(wheel)
        if entry is not None:
            used.add(entry)
        with contextlib.suppress(OSError):
            used.add(tree_of(wheel))
    return used


def remove_entry(data: DataDirectory, entry: Entry) -> None:
    """Remove an entry with what goes with it, and the directories of ``binaries`` it empties."""
    remove_tree(entry.path)
    for extra in entry.extras:
        extra.unlink(missing_ok=True)
    if entry.kind == "wheel":
        _remove_empty_parents(entry.path.parent, data.part("wheel"))


def _remove_empty_parents(directory: Path, root: Path) -> None:
    """Remove ``directory`` and its parents below ``root`` while they are empty."""
    while directory != root and directory.is_relative_to(root):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _used_with_wheels(entry: Entry, used: dict[str, float]) -> Entry:
    """A source archive, last used when a wheel built from it was, if that is later."""
    last = used.get(entry.sha256 or "", 0.0)
    return replace(entry, last_used=last) if last > entry.last_used else entry


def _files(directory: Path) -> list[Path]:
    """The files of a directory that are not hidden (private, records), by name."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [directory / name for name in names if not name.startswith(".")]


def _directories(directory: Path) -> list[Path]:
    """The subdirectories of a directory that are not hidden (private to a run), by name."""
    return [path for path in _files(directory) if path.is_dir() and not path.is_symlink()]


def _project(wheel_name: str) -> str | None:
    """The canonical project name of a wheel file name, or None when it is no wheel name."""
    found = name_and_version(wheel_name)
    return found[0] if found else None


def _size(path: Path) -> int:
    """The size of a file (0 when it is gone)."""
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    """The modification time of a file or directory (0 when it is gone)."""
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0
