"""Unit tests of ``pip_accel.datadir.expiry``: kept starts and probes expire when one is written."""

import time
from pathlib import Path

from pip_accel.datadir.expiry import KEPT_FOR, count_files, remove_expired

from support.aged import written

DAY = 24 * 60 * 60


def test_files_written_longer_ago_than_kept_for_are_removed(tmp_path: Path) -> None:
    """Of a directory's kept files, the old ones go, the recent ones and other files stay."""
    now = time.time()
    old = written(tmp_path / "old.json", 31 * DAY, now)
    recent = written(tmp_path / "recent.json", 29 * DAY, now)
    other = written(tmp_path / "notes.txt", 90 * DAY, now)
    below = written(tmp_path / "venvs" / "old.json", 90 * DAY, now)
    assert remove_expired(tmp_path, KEPT_FOR, now) == 1
    assert not old.exists()
    assert recent.exists() and other.exists() and below.exists()


def test_a_directory_that_is_not_there_removes_nothing(tmp_path: Path) -> None:
    """Before the first write, nothing to expire and nothing fails."""
    assert remove_expired(tmp_path / "missing") == 0


def test_kept_for_is_thirty_days() -> None:
    """The default keeps a month of answers."""
    assert KEPT_FOR == 30 * DAY


def test_count_files_counts_the_kept_files_below(tmp_path: Path) -> None:
    """Every ``.json`` below the directory counts, subdirectories too; none when it is gone."""
    now = time.time()
    for path in ("a.json", "venvs/b.json", "c.tmp"):
        written(tmp_path / "probes" / path, 0 * DAY, now)
    assert count_files(tmp_path / "probes") == 2
    assert count_files(tmp_path / "missing") == 0
