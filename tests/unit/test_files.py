"""Unit tests of ``pip_accel.files``: checksums and writes that readers see whole or not at all."""

import hashlib
import os
from pathlib import Path

import pytest

from pip_accel.files import copy_atomically, hash_file, write_atomically


def test_hash_file_is_the_sha256_of_the_contents(tmp_path: Path) -> None:
    """A file larger than one read block hashes like ``hashlib`` on its whole contents."""
    data = bytes(range(256)) * 5000  # 1.28 MB: two blocks
    path = tmp_path / "data"
    path.write_bytes(data)
    assert hash_file(path) == hashlib.sha256(data).hexdigest()


def test_write_atomically_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    """The new contents replace the old, and nothing else remains in the directory."""
    path = tmp_path / "file"
    path.write_bytes(b"old")
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert [entry.name for entry in tmp_path.iterdir()] == ["file"]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the rename fails, the old contents stay and the temporary file is removed."""
    path = tmp_path / "file"
    path.write_bytes(b"old")

    def refuse(source: str, destination: Path) -> None:
        raise OSError("no rename today")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="no rename today"):
        write_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert [entry.name for entry in tmp_path.iterdir()] == ["file"]


def test_copy_atomically_copies_whole(tmp_path: Path) -> None:
    """The copy has the source's bytes, and no ``.part`` file remains."""
    source = tmp_path / "source"
    source.write_bytes(b"x" * 1000)
    (tmp_path / "out").mkdir()
    destination = tmp_path / "out" / "copy"
    copy_atomically(source, destination)
    assert destination.read_bytes() == b"x" * 1000
    assert [entry.name for entry in destination.parent.iterdir()] == ["copy"]


def test_failed_copy_leaves_no_part_file(tmp_path: Path) -> None:
    """A source that vanished fails the copy and leaves the destination's directory empty."""
    (tmp_path / "out").mkdir()
    with pytest.raises(FileNotFoundError):
        copy_atomically(tmp_path / "missing", tmp_path / "out" / "copy")
    assert list((tmp_path / "out").iterdir()) == []
