"""Unit tests of ``pip_accel.caches.local``: wheels on disk, checked against their sha256.

Every test uses a real data directory in ``tmp_path`` and a small file as the wheel.
"""

import hashlib
import logging
from pathlib import Path

import pytest

from pip_accel.caches import CacheKey
from pip_accel.caches.local import LocalCacheBackend, checksum_file
from pip_accel.config import Config
from pip_accel.datadir.records import Record

KEY = CacheKey("cp311-cp311-x86_64-glibc2.36-debian12", "demo", "1.0", "ab" * 32)


def backend(tmp_path: Path) -> LocalCacheBackend:
    """A local backend on the data directory ``tmp_path/data``."""
    return LocalCacheBackend(Config({"data-directory": str(tmp_path / "data")}, environ={}))


def wheel(tmp_path: Path, data: bytes = b"wheel bytes") -> Path:
    """A file with a wheel's name, outside the cache."""
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(data)
    return path


def test_put_then_get_returns_the_stored_copy(tmp_path: Path) -> None:
    """The stored wheel sits under the key's path, with its sha256 recorded beside it."""
    local = backend(tmp_path)
    local.put(KEY, wheel(tmp_path))
    stored = local.get(KEY)
    assert stored == local.directory / KEY.path / "demo-1.0-py3-none-any.whl"
    assert stored.read_bytes() == b"wheel bytes"
    expected = hashlib.sha256(b"wheel bytes").hexdigest()
    assert checksum_file(stored).read_text() == expected
    assert checksum_file(stored).name == ".demo-1.0-py3-none-any.whl.sha256"


def test_missing_entry_is_none(tmp_path: Path) -> None:
    """A key that was never stored, or whose directory is empty, has no wheel."""
    local = backend(tmp_path)
    assert local.get(KEY) is None
    (local.directory / KEY.path).mkdir(parents=True)
    assert local.get(KEY) is None


def test_a_checked_entry_is_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a run, the second ``get`` of a checked entry does not read the wheel again."""
    local = backend(tmp_path)
    local.put(KEY, wheel(tmp_path))
    first = local.get(KEY)
    monkeypatch.setattr(LocalCacheBackend, "_problem", lambda self, wheel: "must not be asked")
    assert local.get(KEY) == first


def test_corrupt_wheel_is_discarded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A wheel whose bytes changed is removed with its checksum, and a warning says why."""
    local = backend(tmp_path)
    local.put(KEY, wheel(tmp_path))
    stored = local.directory / KEY.path / "demo-1.0-py3-none-any.whl"
    stored.write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING):
        assert local.get(KEY) is None
    assert not stored.exists() and not checksum_file(stored).exists()
    assert "it is corrupt or truncated" in caplog.text
    assert Record.read(stored) is None, "the record that names its tree stayed"


def test_put_records_the_sha256_with_the_stored_wheels_size_and_time(tmp_path: Path) -> None:
    """The record that names the wheel's tree (:mod:`pip_accel.install.wheel_digests`) matches the
    stored copy, so that no later run hashes it to find its tree."""
    local = backend(tmp_path)
    local.put(KEY, wheel(tmp_path))
    stored = local.directory / KEY.path / "demo-1.0-py3-none-any.whl"
    remembered = Record.read(stored)
    assert remembered is not None and remembered.matches(stored)
    assert remembered.sha256 == hashlib.sha256(b"wheel bytes").hexdigest()
    assert local.get(KEY) == stored, "the record is not taken for a second wheel"


def test_wheel_without_checksum_is_discarded(tmp_path: Path) -> None:
    """A wheel whose sha256 was never recorded is not trusted."""
    local = backend(tmp_path)
    local.put(KEY, wheel(tmp_path))
    stored = local.directory / KEY.path / "demo-1.0-py3-none-any.whl"
    checksum_file(stored).unlink()
    assert local.get(KEY) is None
    assert not stored.exists()


def test_entry_repaired_meanwhile_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the check under the lock finds the entry sound (another process stored it), it stays."""
    local = backend(tmp_path)
    local.put(KEY, wheel(tmp_path))
    answers = iter(["damaged on the first look", None])
    monkeypatch.setattr(LocalCacheBackend, "_problem", lambda self, wheel: next(answers))
    stored = local.get(KEY)
    assert stored is not None and stored.is_file()


def test_put_replaces_and_forgets_the_check(tmp_path: Path) -> None:
    """Storing again under the same key replaces the bytes that ``get`` returns."""
    local = backend(tmp_path)
    local.put(KEY, wheel(tmp_path, b"first"))
    assert local.get(KEY) is not None
    local.put(KEY, wheel(tmp_path, b"second"))
    stored = local.get(KEY)
    assert stored is not None and stored.read_bytes() == b"second"


def test_contract_attributes() -> None:
    """The local backend is asked first, costs no round trip, and takes writes."""
    assert LocalCacheBackend.priority < 50
    assert LocalCacheBackend.remote is False
    assert LocalCacheBackend.writable is True


def test_local_backend_checks_the_sha256_of_what_it_reads(tmp_path: Path) -> None:
    """Unit level: a damaged wheel or a missing checksum is discarded, a good one is found."""
    backend = LocalCacheBackend(Config({"data-directory": str(tmp_path)}, environ={}))
    key = CacheKey("ns", "demo", "1.0", "0" * 64)
    built = tmp_path / "demo-1.0-py3-none-any.whl"
    built.write_bytes(b"wheel contents")
    backend.put(key, built)
    stored = backend.get(key)
    assert stored is not None and stored.read_bytes() == b"wheel contents"
    stored.write_bytes(b"wheel CONTENTS")  # same size, other bytes
    assert LocalCacheBackend(backend_config(tmp_path)).get(key) is None
    assert not stored.exists()
    backend.put(key, built)
    checksum_file(stored).unlink()
    assert LocalCacheBackend(backend_config(tmp_path)).get(key) is None


def backend_config(data: Path) -> Config:
    """A configuration with ``data`` as its data directory and nothing else."""
    return Config({"data-directory": str(data)}, environ={})
