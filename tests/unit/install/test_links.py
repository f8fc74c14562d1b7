"""Files are placed as hard links or copies, never written through what is in the way.

Fast unit tests of :mod:`pip_accel.install.links` on real files in a temporary directory (one file
system, so links work; a link across file systems is simulated by making ``os.link`` fail
with EXDEV).
"""

import errno
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest

from pip_accel.install.links import Linker, copy_file

MTIME_NS = 1_600_000_000_123_456_789
"""The modification time of the source files, unlike the time of any new file."""


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A read-only file of a tree, with an old modification time."""
    path = tmp_path / "tree/purelib/pkg/mod.py"
    path.parent.mkdir(parents=True)
    path.write_text("VALUE = 1\n")
    os.utime(path, ns=(MTIME_NS, MTIME_NS))
    path.chmod(0o444)
    return path


def cross_device(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every hard link fail as across file systems; return the targets tried."""
    tried: list[str] = []

    def link(source: str, target: str) -> None:
        tried.append(target)
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), source, None, target)

    monkeypatch.setattr(os, "link", link)
    return tried


def test_hardlink_makes_another_name_of_the_same_file(source: Path, tmp_path: Path) -> None:
    """The target is the source's inode (nothing copied), its directories made on the way."""
    target = tmp_path / "site/pkg/mod.py"
    Linker("hardlink").place(str(source), str(target))
    assert os.path.samefile(source, target)
    assert source.stat().st_nlink == 2


def test_copy_mode_writes_a_new_file_with_the_sources_time(source: Path, tmp_path: Path) -> None:
    """A copy: another inode, the same contents and modification time, writable by its owner."""
    target = tmp_path / "site/pkg/mod.py"
    Linker("copy").place(str(source), str(target))
    assert not os.path.samefile(source, target)
    assert target.read_text() == "VALUE = 1\n"
    assert target.stat().st_mtime_ns == MTIME_NS
    assert target.stat().st_mode & stat.S_IWUSR


def test_links_across_file_systems_fall_back_to_copies_and_say_so_once(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After EXDEV the linker copies from then on (no more link attempts), with one info line."""
    caplog.set_level(logging.INFO, logger="pip_accel.install.links")
    tried = cross_device(monkeypatch)
    linker = Linker("hardlink")
    first, second = tmp_path / "site/pkg/one.py", tmp_path / "site/pkg/two.py"

    linker.place(str(source), str(first))
    linker.place(str(source), str(second))

    assert linker.mode == "copy"
    assert tried == [str(first)]
    for target in (first, second):
        assert target.read_text() == "VALUE = 1\n"
        assert target.stat().st_ino != source.stat().st_ino
        assert target.stat().st_mtime_ns == MTIME_NS
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert messages == [
        "Copying files instead of linking them: the cache and"
        f" {tmp_path / 'site/pkg'} are on different file systems."
    ]


@pytest.mark.parametrize("code", [errno.EMLINK, errno.EPERM])
def test_a_file_that_cannot_be_linked_is_copied_and_links_go_on(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """A link count at its limit (or a refused link) copies that file only: the mode stays."""
    real_link = os.link
    calls: list[str] = []

    def link(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 1:
            raise OSError(code, os.strerror(code))
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    linker = Linker("hardlink")
    first, second = tmp_path / "site/one.py", tmp_path / "site/two.py"
    linker.place(str(source), str(first))
    linker.place(str(source), str(second))
    assert linker.mode == "hardlink"
    assert not os.path.samefile(source, first)
    assert first.read_text() == "VALUE = 1\n"
    assert os.path.samefile(source, second)


def test_other_link_errors_are_raised(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that copying would not avoid (an I/O error) is not hidden by a copy."""

    def link(src: str, dst: str) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(OSError) as raised:
        Linker("hardlink").place(str(source), str(tmp_path / "site/mod.py"))
    assert raised.value.errno == errno.EIO
    assert not (tmp_path / "site/mod.py").exists()


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_a_file_in_the_way_is_replaced_not_written_through(
    source: Path, tmp_path: Path, mode: str
) -> None:
    """The old file (here a link into another tree) keeps its contents; the target is new."""
    other_tree = tmp_path / "other-tree/mod.py"
    other_tree.parent.mkdir()
    other_tree.write_text("OTHER = 2\n")
    target = tmp_path / "site/pkg/mod.py"
    target.parent.mkdir(parents=True)
    os.link(other_tree, target)

    Linker(mode).place(str(source), str(target))

    assert target.read_text() == "VALUE = 1\n"
    assert other_tree.read_text() == "OTHER = 2\n"
    assert other_tree.stat().st_nlink == 1
    assert os.path.samefile(source, target) == (mode == "hardlink")


def test_a_symlink_in_the_way_is_replaced_not_followed(source: Path, tmp_path: Path) -> None:
    """A symbolic link at the target is removed; the file it names is untouched."""
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("ELSEWHERE = 3\n")
    target = tmp_path / "site/mod.py"
    target.parent.mkdir()
    target.symlink_to(elsewhere)
    Linker("copy").place(str(source), str(target))
    assert not target.is_symlink()
    assert target.read_text() == "VALUE = 1\n"
    assert elsewhere.read_text() == "ELSEWHERE = 3\n"


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_a_directory_removed_after_it_was_made_is_made_again(
    source: Path, tmp_path: Path, mode: str
) -> None:
    """The linker remembers directories it made; when an undo removed one, it makes it again."""
    linker = Linker(mode)
    linker.place(str(source), str(tmp_path / "site/pkg/sub/one.py"))
    shutil.rmtree(tmp_path / "site/pkg")  # a roll back pruned it

    linker.place(str(source), str(tmp_path / "site/pkg/sub/two.py"))

    assert (tmp_path / "site/pkg/sub/two.py").read_text() == "VALUE = 1\n"


def test_a_missing_source_is_an_error(tmp_path: Path) -> None:
    """A tree file that is gone raises FileNotFoundError; no directory is re-made for it."""
    with pytest.raises(FileNotFoundError):
        Linker("hardlink").place(str(tmp_path / "gone.py"), str(tmp_path / "site/gone.py"))
    assert not (tmp_path / "site/gone.py").exists()


def test_copy_file_of_a_read_only_file_is_writable_by_its_owner(
    source: Path, tmp_path: Path
) -> None:
    """The copy has the contents, the mode bits plus owner-write, and the modification time."""
    target = tmp_path / "copy.py"
    copy_file(str(source), str(target))
    assert target.read_text() == "VALUE = 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.stat().st_mtime_ns == MTIME_NS
    assert stat.S_IMODE(source.stat().st_mode) == 0o444


def test_copy_file_keeps_an_executable_bit(tmp_path: Path) -> None:
    """A script's mode is copied (and made owner-writable)."""
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o555)
    copy_file(str(script), str(tmp_path / "copy"))
    assert stat.S_IMODE((tmp_path / "copy").stat().st_mode) == 0o755


def test_copy_file_refuses_to_overwrite(source: Path, tmp_path: Path) -> None:
    """An existing target is FileExistsError (the linker then removes it), and stays as it was."""
    target = tmp_path / "existing.py"
    target.write_text("EXISTING\n")
    with pytest.raises(FileExistsError):
        copy_file(str(source), str(target))
    assert target.read_text() == "EXISTING\n"


def test_make_directories_makes_each_once_with_missing_parents(tmp_path: Path) -> None:
    """Parents come first; one without files of its own is made on the way; made ones are kept."""
    linker = Linker("hardlink")
    site = tmp_path / "site"
    site.mkdir()
    wanted = [f"{site}/pkg/sub", f"{site}/pkg", f"{site}/ns/deep/er", f"{site}/pkg"]
    linker.make_directories(wanted)
    assert (site / "pkg/sub").is_dir()
    assert (site / "ns/deep/er").is_dir()
    (site / "pkg/sub").rmdir()
    linker.make_directories([f"{site}/pkg/sub"])  # made once per run: not again
    assert not (site / "pkg/sub").exists()


def test_make_directories_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    """A file where a directory goes is an error, as with ``os.makedirs``."""
    (tmp_path / "pkg").write_text("")
    with pytest.raises(FileExistsError):
        Linker("hardlink").make_directories([str(tmp_path / "pkg")])


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_place_all_replaces_what_is_in_the_way(source: Path, tmp_path: Path, mode: str) -> None:
    """Each target is placed; one in the way is replaced, not written through."""
    linker = Linker(mode)
    site = tmp_path / "site"
    linker.make_directories([str(site / "pkg")])
    other = tmp_path / "other.py"
    other.write_text("OTHER\n")
    os.link(other, site / "pkg/old.py")
    targets = [str(site / "pkg/mod.py"), str(site / "pkg/old.py")]
    linker.place_all([str(source), str(source)], targets)
    assert [Path(target).read_text() for target in targets] == ["VALUE = 1\n"] * 2
    assert other.read_text() == "OTHER\n"
    assert os.path.samefile(source, targets[1]) == (mode == "hardlink")


def test_place_all_copies_across_file_systems(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a link fails as across file systems, the rest are copied without trying links."""
    tried = cross_device(monkeypatch)
    linker = Linker("hardlink")
    linker.make_directories([str(tmp_path / "site")])
    targets = [str(tmp_path / f"site/mod{number}.py") for number in range(3)]
    linker.place_all([str(source)] * 3, targets)
    assert linker.mode == "copy"
    assert len(tried) == 2  # the fast loop's try and place()'s, for the first file only
    assert all(Path(target).read_text() == "VALUE = 1\n" for target in targets)
