"""The sha256 of wheels that names their trees: recorded beside the data directory's wheels.

Unit tests of :mod:`pip_accel.install.wheel_digests` on files in a temporary directory.
"""

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from pip_accel.config import Config
from pip_accel.datadir.records import Record
from pip_accel.install.wheel_digests import WheelDigests

DATA = b"not really a zip, but bytes to hash"


def a_wheel(directory: Path, data: bytes = DATA) -> Path:
    """A file with a wheel's name in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "demo-1.0-py3-none-any.whl"
    path.write_bytes(data)
    return path


def count_hashing(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files hashed from now on (by the index and by the digests)."""
    hashed: list[Path] = []

    def counting(path: Path) -> str:
        hashed.append(path)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    monkeypatch.setattr("pip_accel.datadir.records.hash_file", counting)
    monkeypatch.setattr("pip_accel.install.wheel_digests.hash_file", counting)
    return hashed


def test_a_recorded_wheel_is_hashed_once_and_read_from_its_record_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first look hashes a wheel without a record (an older data directory) and records
    it with its size and time; the next looks read the record only."""
    binaries = tmp_path / "binaries"
    made = a_wheel(binaries / "ns" / "demo" / "1.0" / ("ab" * 32))
    hashed = count_hashing(monkeypatch)
    digests = WheelDigests([tmp_path / "sources", binaries])
    expected = hashlib.sha256(DATA).hexdigest()
    assert digests.sha256(made) == expected
    assert digests.sha256(made) == expected
    assert hashed == [made]
    assert Record.read(made) == Record.of(made, expected)


def test_a_copied_wheel_is_hashed_once_more_and_recorded_with_its_new_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data directory copied elsewhere (new times): the record of the copy no longer
    matches, so the wheel is hashed once, and its record gets the new time."""
    sources = tmp_path / "data" / "sources"
    made = a_wheel(sources)
    WheelDigests([sources]).sha256(made)
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "data", copy)  # the record keeps the old time
    copied = copy / "sources" / made.name
    os.utime(copied, ns=(0, made.stat().st_mtime_ns + 10**9))
    hashed = count_hashing(monkeypatch)
    digests = WheelDigests([copy / "sources"])
    assert digests.sha256(copied) == digests.sha256(copied) == hashlib.sha256(DATA).hexdigest()
    assert hashed == [copied]
    remembered = Record.read(copied)
    assert remembered is not None and remembered.matches(copied)


def test_a_wheel_outside_the_data_directory_gets_no_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel named by its path on the command line is hashed once per run (each run);
    nothing is written beside it."""
    made = a_wheel(tmp_path / "dist")
    hashed = count_hashing(monkeypatch)
    digests = WheelDigests([tmp_path / "data" / "sources"])
    assert digests.sha256(made) == digests.sha256(made) == hashlib.sha256(DATA).hexdigest()
    assert WheelDigests([tmp_path / "data" / "sources"]).sha256(made) == digests.sha256(made)
    assert hashed == [made, made]
    assert os.listdir(tmp_path / "dist") == [made.name]


def test_the_record_of_a_wheel_of_another_data_directory_is_read_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan copied with its data directory names the original's wheels: their matching
    records answer (nothing hashed), and a record that no longer matches is not rewritten."""
    original = tmp_path / "original" / "sources"
    made = a_wheel(original)
    WheelDigests([original]).sha256(made)
    hashed = count_hashing(monkeypatch)
    copy = WheelDigests([tmp_path / "copy" / "sources"])
    assert copy.sha256(made) == hashlib.sha256(DATA).hexdigest()
    assert hashed == []
    before = Record.read(made)
    assert before is not None
    os.utime(made, ns=(0, made.stat().st_mtime_ns + 10**9))
    assert WheelDigests([tmp_path / "copy" / "sources"]).sha256(made) == before.sha256
    assert hashed == [made]
    assert Record.read(made) == before


def test_the_configured_digests_record_the_local_index_and_the_binary_cache(
    tmp_path: Path,
) -> None:
    """Records are kept for the wheels of the local index and of the binary cache."""
    config = Config({"data-directory": str(tmp_path / "data")}, environ={})
    assert WheelDigests.of(config).recorded == (config.source_index, config.binary_cache)


def test_a_missing_wheel_raises_oserror(tmp_path: Path) -> None:
    """A wheel that is gone cannot be named (callers that may meet one catch OSError)."""
    with pytest.raises(OSError):
        WheelDigests([tmp_path]).sha256(tmp_path / "gone-1.0-py3-none-any.whl")
