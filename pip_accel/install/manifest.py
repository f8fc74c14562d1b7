"""The manifest of an unpacked tree: what installer computed for each file, and the tree it
describes.

A manifest records the path, hash and size of every file (``RECORD``, as installer
made it), the size and modification time of each (checked before a file is placed),
the scripts (made for the target interpreter only at install time) and the bytecode
files that compiled. Its presence marks a tree complete (see :mod:`pip_accel.install.trees`).
"""

import base64
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from installer.records import RecordEntry

MANIFEST = "manifest.json"
"""The file that describes a tree; its presence marks the tree complete."""


FORMAT = 2
"""The layout of trees and manifests; a tree of another layout is unpacked again."""


SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
"""The installation schemes of a wheel, one subdirectory of a tree each."""


WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


LIBRARY_SCHEMES = ("purelib", "platlib")
"""The schemes whose Python files are compiled to bytecode."""


@dataclass(slots=True)
class TreeFile:
    """One file of a tree, with the ``RECORD`` entry installer computed for it.

    Not changed once made (:func:`dataclasses.replace` makes another), but not frozen: a
    warm install reads some 15,000 of them, and a frozen dataclass takes four times as long
    to make.
    """

    scheme: str
    path: str
    """The path within the scheme, as ``RECORD`` has it."""
    hash: str | None = None
    """The ``RECORD`` hash, such as ``sha256=...`` (None for bytecode)."""
    size: int | None = None
    executable: bool = False
    stamp: tuple[int, int] | None = None
    """The size and modification time (ns) of the tree's file, as it was made."""

    @property
    def record(self) -> RecordEntry:
        """The ``RECORD`` entry of the installed file."""
        size = "" if self.size is None else str(self.size)
        return RecordEntry.from_elements(self.path, self.hash or "", size)


@dataclass
class UnpackedTree:
    """A wheel unpacked by installer, with its bytecode, ready to be linked into place."""

    directory: Path
    wheel_name: str = ""
    """The file name of the wheel, for messages."""
    root_scheme: str = "purelib"
    record_path: str = ""
    """The path of the ``RECORD`` file within the root scheme."""
    files: list[TreeFile] = field(default_factory=list)
    """Every file to link, but for scripts and bytecode."""
    scripts: list[TreeFile] = field(default_factory=list)
    """Files of the ``scripts`` scheme, as in the wheel (``#!python`` not yet replaced)."""
    entry_points: list[tuple[str, str, str, str]] = field(default_factory=list)
    """The console and GUI scripts to generate: name, module, attribute, section."""
    bytecode: list[TreeFile] = field(default_factory=list)
    """The compiled modules, for the target's cache tag."""

    def source(self, item: TreeFile) -> Path:
        """Where a file of the tree is."""
        return self.directory / item.scheme / item.path

    @classmethod
    def load(cls, directory: Path) -> "UnpackedTree | None":
        """The tree in ``directory``, or None when there is no complete one."""
        try:
            data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return None
            return cls(
                directory=directory,
                wheel_name=data["wheel_name"],
                root_scheme=data["root_scheme"],
                record_path=data["record_path"],
                files=_tree_files(data["files"]),
                scripts=_tree_files(data["scripts"]),
                entry_points=[tuple(item) for item in data["entry_points"]],
                bytecode=_tree_files(data["bytecode"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self) -> None:
        """Write the manifest, which marks the tree complete."""
        data = {
            "format": FORMAT,
            "wheel_name": self.wheel_name,
            "root_scheme": self.root_scheme,
            "record_path": self.record_path,
            "files": [asdict(item) for item in self.files],
            "scripts": [asdict(item) for item in self.scripts],
            "entry_points": self.entry_points,
            "bytecode": [asdict(item) for item in self.bytecode],
        }
        (self.directory / MANIFEST).write_text(json.dumps(data), encoding="utf-8")

    def seal(self) -> None:
        """Make every file read-only and note its size and modification time."""
        for items in (self.files, self.scripts, self.bytecode):
            items[:] = [self._sealed(item) for item in items]

    def _sealed(self, item: TreeFile) -> TreeFile:
        """A file made read-only, with its stamp."""
        path = self.source(item)
        status = path.stat()
        os.chmod(path, stat.S_IMODE(status.st_mode) & ~WRITE_BITS)
        return replace(item, stamp=(status.st_size, status.st_mtime_ns))

    def changed_files(self) -> list[Path]:
        """The files whose contents differ from their ``RECORD`` hash (a slow, full check)."""
        changed = []
        for item in self.files + self.scripts:
            if item.hash and item.hash != record_hash(self.source(item)):
                changed.append(self.source(item))
        return changed

    @property
    def modules(self) -> list[Path]:
        """The Python modules of the library schemes, to compile."""
        return [
            self.source(item)
            for item in self.files
            if item.scheme in LIBRARY_SCHEMES and item.path.endswith(".py")
        ]


def _tree_files(items: list[dict[str, Any]]) -> list[TreeFile]:
    """The files of a manifest."""
    return [_tree_file(item) for item in items]


def _tree_file(item: dict[str, Any]) -> TreeFile:
    """One file of a manifest (its fields by position: faster than by name)."""
    stamp = item.get("stamp")
    size, executable = item.get("size"), item.get("executable", False)
    sealed = (int(stamp[0]), int(stamp[1])) if stamp else None
    return TreeFile(item["scheme"], item["path"], item.get("hash"), size, executable, sealed)


def record_hash(path: Path) -> str | None:
    """The ``RECORD`` form of a file's sha256 (``sha256=...``), or None when it is unreadable."""
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None
    return "sha256=" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
