"""Copied trees: their files checked by contents and given back their times.

Unit tests of :mod:`pip_accel.install.tree_copies` on real trees unpacked and compiled by
:class:`pip_accel.install.trees.TreeStore` (with this interpreter) in a temporary directory, copied
the way ``cp -r`` copies (contents and modes, new times).
"""

import os
import shutil
from pathlib import Path

import pytest
from test_trees import store_in, wheel

from pip_accel.exceptions import ChangedTreeFileError
from pip_accel.install.installer import check_tree_file
from pip_accel.install.manifest import TreeFile, UnpackedTree
from pip_accel.install.tree_copies import looks_copied, restore_times


def copied_tree(tmp_path: Path) -> tuple[UnpackedTree, UnpackedTree]:
    """A tree, and a copy of it made a second later (every file at a new time)."""
    made = wheel(tmp_path / "wheels")
    tree = store_in(tmp_path / "trees").trees_for([made])[made]
    copy = tmp_path / "copy" / tree.directory.name
    shutil.copytree(tree.directory, copy, copy_function=shutil.copy)  # no times, as cp -r
    for path in copy.rglob("*"):
        status = path.stat()
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))
    loaded = UnpackedTree.load(copy)
    assert loaded is not None
    return tree, loaded


def every_file(tree: UnpackedTree) -> list[TreeFile]:
    """The files, scripts and bytecode of a tree."""
    return tree.files + tree.scripts + tree.bytecode


def writable(path: Path) -> None:
    """Give the owner the right to write a (read-only) file of a tree."""
    path.chmod(0o644)


def test_a_copied_tree_gets_its_times_back_and_passes_every_check(tmp_path: Path) -> None:
    """Each file of the copy fails the install's check, then none does; the bytecode is
    valid for its module again (same time, in seconds, as the header names)."""
    _, copy = copied_tree(tmp_path)
    with pytest.raises(ChangedTreeFileError, match="was changed after it was unpacked"):
        check_tree_file(copy, copy.files[0], str(copy.source(copy.files[0])))
    assert restore_times(copy)
    for item in every_file(copy):
        status = copy.source(item).stat()
        assert (status.st_size, status.st_mtime_ns) == item.stamp, item.path
        check_tree_file(copy, item, str(copy.source(item)))
    assert restore_times(copy), "a sound tree stays sound"


def test_a_sound_tree_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files at their recorded times are not hashed."""
    tree, _ = copied_tree(tmp_path)

    def refuse(path: Path) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr("pip_accel.install.tree_copies.record_hash", refuse)
    assert restore_times(tree)


def test_a_copied_tree_with_an_edited_file_fails(tmp_path: Path) -> None:
    """A file of other contents at the same size is not the wheel's: the tree fails."""
    _, copy = copied_tree(tmp_path)
    module = next(item for item in copy.files if item.path == "treepkg/__init__.py")
    path = copy.source(module)
    writable(path)
    path.write_text(path.read_text().replace("1", "2"))
    assert not restore_times(copy)


def test_a_copied_tree_with_a_missing_or_resized_file_fails(tmp_path: Path) -> None:
    """A file that is gone, or of another size, fails the tree."""
    _, copy = copied_tree(tmp_path)
    copy.source(copy.scripts[0]).unlink()
    assert not restore_times(copy)
    _, copy = copied_tree(tmp_path / "again")
    path = copy.source(copy.files[0])
    writable(path)
    path.write_bytes(path.read_bytes() + b"\n")
    assert not restore_times(copy)


def test_bytecode_of_another_module_fails(tmp_path: Path) -> None:
    """A bytecode file whose header names another module time or size fails the tree."""
    _, copy = copied_tree(tmp_path)
    path = copy.source(copy.bytecode[0])
    writable(path)
    data = bytearray(path.read_bytes())
    data[8] ^= 1  # the module time the bytecode was compiled against
    path.write_bytes(bytes(data))
    assert not restore_times(copy)


def test_hash_checked_bytecode_passes(tmp_path: Path) -> None:
    """Bytecode checked against its module's hash at every import (``SOURCE_DATE_EPOCH``
    builds) names no time: Python itself checks it."""
    _, copy = copied_tree(tmp_path)
    for item in copy.bytecode:
        path = copy.source(item)
        writable(path)
        data = bytearray(path.read_bytes())
        data[4:16] = (3).to_bytes(4, "little") + bytes(8)
        path.write_bytes(bytes(data))
    assert restore_times(copy)


def test_bytecode_without_its_module_fails(tmp_path: Path) -> None:
    """A bytecode file whose module the manifest does not list fails the tree."""
    _, copy = copied_tree(tmp_path)
    copy.files = [item for item in copy.files if not item.path.endswith("__init__.py")]
    assert not restore_times(copy)


def test_a_copied_tree_looks_copied_until_its_times_are_back(tmp_path: Path) -> None:
    """One stat of the first file tells a copied tree; a sound one, or one whose first file
    is gone (the install's check tells that), does not look copied."""
    tree, copy = copied_tree(tmp_path)
    assert not looks_copied(tree)
    assert looks_copied(copy)
    assert restore_times(copy)
    assert not looks_copied(copy)
    copy.source(copy.files[0]).unlink()
    assert not looks_copied(copy)
