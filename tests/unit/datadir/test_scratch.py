"""Private directories come with a lock, and what dead runs left is removed by later runs.

Fast unit tests of :mod:`pip_accel.datadir.scratch` on real files in a temporary directory. flock
locks belong to an open file, so a second :class:`FileLock` object in this process holds
a lock against the first just as another process would: that stands for a live run.
"""

import logging
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout
from humanfriendly import format_size

from pip_accel.datadir.scratch import (
    LOCK_SUFFIX,
    UNLOCKED_AGE,
    PrivateDirectory,
    remove_abandoned,
    remove_leftovers,
    remove_tree,
    take_abandoned,
    tree_size,
)

PREFIX = ".work-"


def lock_of(path: Path) -> Path:
    """The lock file next to a private directory."""
    return Path(f"{path}{LOCK_SUFFIX}")


def held(lock_file: Path) -> bool:
    """Whether some other lock object holds ``lock_file`` right now."""
    probe = FileLock(str(lock_file))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False


def leftover(parent: Path, name: str, size: int = 1000) -> Path:
    """A private directory of a dead run: its files, and its lock file, free."""
    path = parent / name
    (path / "sub").mkdir(parents=True)
    (path / "sub/data").write_bytes(b"x" * size)
    lock_of(path).touch()
    return path


def infos(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages of pip_accel.datadir.scratch at level INFO."""
    return [r.getMessage() for r in caplog.records if r.name == "pip_accel.datadir.scratch"]


def test_a_private_directory_is_made_with_its_lock_held(tmp_path: Path) -> None:
    """The directory and its lock file exist, the lock is held, and close removes both."""
    private = PrivateDirectory(tmp_path / "parent", PREFIX)
    assert private.path.parent == tmp_path / "parent"
    assert private.path.name.startswith(PREFIX)
    assert private.path.is_dir()
    assert held(lock_of(private.path))
    (private.path / "file").write_text("some data")

    private.close()

    assert os.listdir(tmp_path / "parent") == []


def test_two_private_directories_have_different_names(tmp_path: Path) -> None:
    """Each run (and each call) gets a directory of its own."""
    first, second = PrivateDirectory(tmp_path, PREFIX), PrivateDirectory(tmp_path, PREFIX)
    assert first.path != second.path
    first.close()
    second.close()
    assert os.listdir(tmp_path) == []


def test_a_private_directory_as_a_with_block(tmp_path: Path) -> None:
    """``with`` gives the path and removes directory and lock at the end, also after an error."""
    with pytest.raises(RuntimeError), PrivateDirectory(tmp_path, PREFIX) as path:
        assert path.is_dir()
        (path / "file").write_text("")
        raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_close_after_the_directory_was_renamed_away(tmp_path: Path) -> None:
    """A directory published by a rename is not there to remove: close removes the lock only."""
    private = PrivateDirectory(tmp_path, PREFIX)
    os.rename(private.path, tmp_path / "published")
    private.close()
    assert os.listdir(tmp_path) == ["published"]


def test_remove_leftovers_removes_a_directory_whose_lock_is_free(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A dead run's directory and lock file go; the bytes freed are returned and logged."""
    caplog.set_level(logging.INFO, logger="pip_accel.datadir.scratch")
    first = leftover(tmp_path, f"{PREFIX}dead1", 1000)
    second = leftover(tmp_path, ".other-dead2", 500)
    (tmp_path / "keep").mkdir()

    freed = remove_leftovers(tmp_path, (PREFIX, ".other-"))

    assert freed == 1500
    assert not first.exists() and not lock_of(first).exists()
    assert not second.exists() and not lock_of(second).exists()
    assert os.listdir(tmp_path) == ["keep"]
    assert infos(caplog) == [
        f"Removed 2 leftovers of interrupted runs from {tmp_path} ({format_size(1500)})."
    ]


def test_remove_leftovers_keeps_the_directory_of_a_live_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While another lock object holds the lock, the directory stays, and nothing is logged."""
    caplog.set_level(logging.INFO, logger="pip_accel.datadir.scratch")
    live = PrivateDirectory(tmp_path, PREFIX)
    (live.path / "data").write_bytes(b"x" * 10)

    assert remove_leftovers(tmp_path, (PREFIX,)) == 0

    assert (live.path / "data").is_file()
    assert held(lock_of(live.path))
    assert infos(caplog) == []
    live.close()


def test_remove_leftovers_keeps_a_young_directory_without_a_lock(tmp_path: Path) -> None:
    """Without a lock file a directory counts as left over only when older than UNLOCKED_AGE."""
    young = tmp_path / f"{PREFIX}young"
    (young / "sub").mkdir(parents=True)
    old = tmp_path / f"{PREFIX}old"
    (old / "sub").mkdir(parents=True)
    (old / "sub/data").write_bytes(b"x" * 7)
    then = time.time() - UNLOCKED_AGE - 60
    os.utime(old, (then, then))

    assert remove_leftovers(tmp_path, (PREFIX,)) == 7

    assert young.is_dir()
    assert not old.exists()
    assert sorted(os.listdir(tmp_path)) == [young.name]  # no lock file left behind either


def test_remove_leftovers_of_a_missing_parent_is_nothing(tmp_path: Path) -> None:
    """A parent that does not exist (yet) frees nothing and raises nothing."""
    assert remove_leftovers(tmp_path / "missing", (PREFIX,)) == 0


def test_take_abandoned_gives_the_lock_of_a_dead_run_only(tmp_path: Path) -> None:
    """The lock is taken (and held) when free; None while another holder has it."""
    dead = leftover(tmp_path, f"{PREFIX}dead")
    lock = take_abandoned(dead)
    assert lock is not None
    assert held(lock_of(dead))
    assert take_abandoned(dead) is None  # now this lock object holds it
    lock.release()


def test_remove_abandoned_does_nothing_while_the_run_lives(tmp_path: Path) -> None:
    """Between the check and the removal a run may have taken the lock: then nothing goes."""
    live = PrivateDirectory(tmp_path, PREFIX)
    assert remove_abandoned(live.path) == 0
    assert live.path.is_dir()
    live.close()


def test_tree_size_counts_the_bytes_of_every_file(tmp_path: Path) -> None:
    """Files at every depth count; a missing tree is 0."""
    (tmp_path / "a/b").mkdir(parents=True)
    (tmp_path / "a/one").write_bytes(b"1" * 3)
    (tmp_path / "a/b/two").write_bytes(b"2" * 4)
    assert tree_size(tmp_path / "a") == 7
    assert tree_size(tmp_path / "missing") == 0


def test_remove_tree_removes_a_tree_with_a_read_only_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only directories (as in unpacked trees) are made writable first, then removed.

    Root may remove entries of a read-only directory anyway, so the modes are also checked
    at the moment of removal (by a spy on ``shutil.rmtree``): that part fails as root too.
    """
    tree = tmp_path / "tree"
    (tree / "pkg/sub").mkdir(parents=True)
    (tree / "pkg/sub/mod.py").write_text("")
    (tree / "pkg/sub/mod.py").chmod(0o444)
    (tree / "pkg/sub").chmod(0o555)
    (tree / "pkg").chmod(0o555)
    tree.chmod(0o555)
    modes: dict[str, int] = {}
    real_rmtree = shutil.rmtree

    def spy(path: str, *args: object, **kwargs: object) -> None:
        for directory in (tree, tree / "pkg", tree / "pkg/sub"):
            modes[directory.name] = os.stat(directory).st_mode
        real_rmtree(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(shutil, "rmtree", spy)

    remove_tree(tree)

    assert not tree.exists()
    assert modes.keys() == {"tree", "pkg", "sub"}
    for name, mode in modes.items():
        assert mode & stat.S_IWUSR and mode & stat.S_IXUSR, name


def test_remove_tree_removes_a_link_not_what_it_points_to(tmp_path: Path) -> None:
    """A symbolic link to a directory is unlinked; the directory it names stays."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real/file").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    remove_tree(tmp_path / "link")
    assert not (tmp_path / "link").is_symlink()
    assert (tmp_path / "real/file").is_file()


def test_remove_tree_of_a_file_or_nothing(tmp_path: Path) -> None:
    """A file is removed; a path that does not exist is no error."""
    (tmp_path / "file").write_text("")
    remove_tree(tmp_path / "file")
    assert not (tmp_path / "file").exists()
    remove_tree(tmp_path / "missing")


def test_a_lock_file_without_its_directory_is_removed_once_free(tmp_path: Path) -> None:
    """A run killed between taking its lock and making its directory leaves a lock file only."""
    orphan = tmp_path / "build-dead.lock"
    orphan.write_text("")
    held = FileLock(str(tmp_path / "build-alive.lock"))
    held.acquire()
    try:
        remove_leftovers(tmp_path, ("build-",))
        assert not orphan.exists()
        assert (tmp_path / "build-alive.lock").exists(), "a live run's lock was removed"
    finally:
        held.release()
