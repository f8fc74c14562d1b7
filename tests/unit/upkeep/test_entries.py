"""The entries of the data directory: kinds, sizes, last use, and what a run used."""

import json
import os
from pathlib import Path

from pip_accel.upkeep.entries import DataDirectory, mark_used, remove_entry, run_entries

SHA = "a" * 64
DAY = 86400.0


def write(path: Path, size: int, mtime: float | None = None) -> Path:
    """A file of ``size`` bytes, modified at ``mtime``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def populate(root: Path) -> dict[str, Path]:
    """A data directory with one entry of each kind, all last used at day 10."""
    sdist = write(root / "sources" / "demo-1.0.tar.gz", 100)
    record = root / "sources" / ".sha256" / sdist.name
    status = sdist.stat()
    write(record, 0)
    record.write_text(f"{status.st_size} {status.st_mtime_ns} {SHA}")
    os.utime(record, (10 * DAY, 10 * DAY))
    entry = root / "binaries" / "ns" / "demo" / "1.0" / SHA
    wheel = write(entry / "demo-1.0-py3-none-any.whl", 200)
    write(entry / ".demo-1.0-py3-none-any.whl.sha256", 64)
    os.utime(entry, (10 * DAY, 10 * DAY))
    tree = root / "trees" / "cpython-311" / "demo-1.0-py3-none-any-0123456789ab"
    write(tree / "purelib" / "demo.py", 300)
    os.utime(tree, (10 * DAY, 10 * DAY))
    plan = root / "plans" / "key.json"
    write(plan, 0)
    plan.write_text(json.dumps({"wheels": [{"wheel": str(wheel)}]}))
    os.utime(plan, (10 * DAY, 10 * DAY))
    return {"sdist": sdist, "entry": entry, "wheel": wheel, "tree": tree, "plan": plan}


def test_each_part_is_read_as_entries(tmp_path: Path) -> None:
    """Kind, size (records and checksums included), project and last use of each entry."""
    paths = populate(tmp_path)
    entries = {entry.kind: entry for entry in DataDirectory(tmp_path).entries()}
    assert set(entries) == {"source", "wheel", "tree", "plan"}
    assert entries["source"].path == paths["sdist"]
    assert entries["source"].sha256 == SHA and entries["source"].project == "demo"
    assert entries["source"].size > 100, "the record counts too"
    assert entries["wheel"].path == paths["entry"] and entries["wheel"].size == 264
    assert entries["wheel"].sha256 == SHA
    assert entries["tree"].size == 300 and entries["tree"].project == "demo"
    assert entries["plan"].wheels == (paths["wheel"],)
    assert {entry.last_used for entry in entries.values()} == {10 * DAY}


def test_a_source_counts_as_used_when_its_wheel_is(tmp_path: Path) -> None:
    """The sdist's own stamp is old, the wheel built from it was used later."""
    paths = populate(tmp_path)
    os.utime(paths["entry"], (20 * DAY, 20 * DAY))
    entries = {entry.kind: entry for entry in DataDirectory(tmp_path).entries()}
    assert entries["source"].last_used == 20 * DAY


def test_a_run_marks_what_it_used_without_touching_wheels_or_archives(tmp_path: Path) -> None:
    """Stamps are directories, records and plans: the wheel's and archive's times stay."""
    paths = populate(tmp_path)
    data = DataDirectory(tmp_path)
    wheel_time = paths["wheel"].stat().st_mtime_ns
    sdist_time = paths["sdist"].stat().st_mtime_ns
    used = run_entries(
        data, [paths["wheel"], paths["sdist"]], lambda _: paths["tree"], paths["plan"]
    )
    assert used == {paths["entry"], paths["sdist"], paths["tree"], paths["plan"]}
    mark_used((data.stamp_of(path) for path in used), 30 * DAY)
    assert {entry.last_used for entry in data.entries()} == {30 * DAY}
    assert paths["wheel"].stat().st_mtime_ns == wheel_time
    assert paths["sdist"].stat().st_mtime_ns == sdist_time


def test_removing_entries_leaves_no_trace(tmp_path: Path) -> None:
    """An archive goes with its record, a wheel with the directories it empties."""
    populate(tmp_path)
    data = DataDirectory(tmp_path)
    for entry in data.entries():
        remove_entry(data, entry)
    assert data.entries() == []
    assert not (tmp_path / "sources" / ".sha256" / "demo-1.0.tar.gz").exists()
    assert list((tmp_path / "binaries").iterdir()) == []


def test_leftovers_of_killed_runs_go(tmp_path: Path) -> None:
    """A private directory without a live owner, set-aside archives, records without archives."""
    populate(tmp_path)
    write(tmp_path / "tmp" / "build-123456" / "file", 10)
    write(tmp_path / "tmp" / "build-123456.lock", 0)
    write(tmp_path / "sources" / ".damaged" / "old.tar.gz", 10)
    write(tmp_path / "sources" / ".sha256" / "gone.tar.gz", 10)
    freed = DataDirectory(tmp_path).remove_leftovers()
    assert freed == 30
    assert not (tmp_path / "tmp" / "build-123456").exists()
    assert not (tmp_path / "sources" / ".damaged").exists()
    assert (tmp_path / "sources" / ".sha256" / "demo-1.0.tar.gz").exists()
