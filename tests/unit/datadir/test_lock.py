"""The data directory's lock: installs share it, a pruner holds it alone."""

from pathlib import Path

from pip_accel.datadir.lock import DataLock


def test_installs_share_the_lock_and_keep_a_pruner_out(tmp_path: Path) -> None:
    """Two shared holders at once; no exclusive holder while either holds it."""
    lock = DataLock(tmp_path)
    with lock.shared(), lock.shared(), lock.exclusive(wait=False) as alone:
        assert not alone
    with lock.exclusive(wait=False) as alone:
        assert alone


def test_a_pruner_keeps_everyone_out(tmp_path: Path) -> None:
    """While it is held alone, another try to hold it alone fails at once."""
    lock = DataLock(tmp_path)
    with lock.exclusive(wait=True) as alone:
        assert alone
        with DataLock(tmp_path).exclusive(wait=False) as second:
            assert not second
    assert (tmp_path / "locks" / "cache.lock").is_file(), "the lock file is never removed"
