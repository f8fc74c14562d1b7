"""Trees whose files were copied: checked by their contents and given back their times.

An install checks each file of a tree against the size and modification time
that its manifest recorded (:func:`pip_accel.install.installer.check_tree_file`). A data
directory copied with ``cp -r``, or restored by a CI system's cache, has every
file at a new time, so every check fails although nothing was edited. Before a
tree that failed its check is unpacked again, each file whose time differs is
checked by what it holds:

- a file of the wheel by its ``RECORD`` hash (read once, as ``--force-reinstall``
  does);
- a bytecode file (which has no hash) by its size and its header, which must
  name its module's recorded size and time, the way Python itself checks it
  (or a source hash, which Python checks at every import).

When every file passes, each gets the time its manifest recorded back (its
module's time is what its bytecode was compiled against), so the tree is
sound again for this run and the next, and the manifest stays as it is. A file
that is gone, of another size, or of other contents fails the tree: it is
unpacked again from its wheel, as before. An install asks :func:`looks_copied`
first (one ``stat`` per tree), so that a copied tree is mended before its
files are placed, rather than after an install that failed its check was
undone (which costs more than the check).
"""

import logging
import os
from collections.abc import Callable
from pathlib import Path

from pip_accel.install.manifest import TreeFile, UnpackedTree, record_hash

HEADER = 16
"""The size of a bytecode file's header (PEP 552): magic, flags, then mtime and size or a hash."""

CHECKED_HASH = 0b11
"""The flags of a bytecode file checked against its module's hash at every import."""

logger = logging.getLogger(__name__)


def looks_copied(tree: UnpackedTree) -> bool:
    """Whether the first file of a tree has another time or size than recorded (one ``stat``):
    a copied tree is mended before its install, rather than undone after the check fails."""
    first = next((item for item in tree.files if item.stamp is not None), None)
    if first is None:
        return False
    try:
        status = os.stat(tree.source(first))
    except OSError:
        return False  # gone: the install's check says so, and the tree is unpacked again
    return (status.st_size, status.st_mtime_ns) != first.stamp


def mend_copy(tree: UnpackedTree) -> bool:
    """Whether a tree whose files have new times holds its wheel's contents, each file given
    back its time (:func:`restore_times`), said in one line when it does."""
    if not restore_times(tree):
        return False
    logger.info(
        "The files of the tree of %s have new times (a copied or restored data directory?)"
        " but the contents of its wheel; using it as it is.", tree.wheel_name,
    )  # fmt: skip
    return True


def restore_times(tree: UnpackedTree) -> bool:
    """Whether every file of ``tree`` holds what it held when made, each given back its time.

    Only files whose size and time differ from the manifest's are read.
    """
    modules = {(item.scheme, item.path): item for item in tree.files}
    try:
        for item in tree.files + tree.scripts:
            if not _restored(tree, item, _has_hash(item.hash)):
                return False
        for item in tree.bytecode:
            module = modules.get(_module_of(item))
            if module is None or not _restored(tree, item, _compiled_from(module)):
                return False
    except OSError:
        return False
    return True


def _restored(tree: UnpackedTree, item: TreeFile, sound: Callable[[Path], bool]) -> bool:
    """Whether a file is as recorded, or was only copied (then it gets its time back)."""
    path = tree.source(item)
    status = os.stat(path)
    if item.stamp is None or (status.st_size, status.st_mtime_ns) == item.stamp:
        return True
    if status.st_size != item.stamp[0] or not sound(path):
        return False
    os.utime(path, ns=(status.st_atime_ns, item.stamp[1]))
    return True


def _has_hash(expected: str | None) -> Callable[[Path], bool]:
    """The check of a file of the wheel: its ``RECORD`` hash is ``expected``."""
    return lambda path: expected is not None and record_hash(path) == expected


def _compiled_from(module: TreeFile) -> Callable[[Path], bool]:
    """The check of a bytecode file: compiled from ``module`` as recorded."""
    return lambda path: _fits(path, module)


def _fits(bytecode: Path, module: TreeFile) -> bool:
    """Whether a bytecode file's header names its module as recorded (size and time)."""
    if module.stamp is None:
        return False
    with bytecode.open("rb") as stream:
        header = stream.read(HEADER)
    if len(header) < HEADER:
        return False
    flags = int.from_bytes(header[4:8], "little")
    if flags == CHECKED_HASH:
        return True
    size, mtime_ns = module.stamp
    seconds = (mtime_ns // 1_000_000_000) & 0xFFFFFFFF
    named = (int.from_bytes(header[8:12], "little"), int.from_bytes(header[12:16], "little"))
    return flags == 0 and named == (seconds, size & 0xFFFFFFFF)


def _module_of(bytecode: TreeFile) -> tuple[str, str]:
    """The scheme and path of the module a bytecode file was compiled from."""
    directory, _, name = bytecode.path.rpartition("/")
    parent, _, _ = directory.rpartition("/")  # the module's directory, above __pycache__
    module = name.split(".", 1)[0] + ".py"
    return bytecode.scheme, f"{parent}/{module}" if parent else module
