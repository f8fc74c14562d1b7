"""The local index checks its archives against the sha256 recorded when they came in.

Fast unit tests of :class:`pip_accel.sources.local_index.LocalIndex` on real files in a temporary
directory: no index server, no venv, no subprocess. An archive enters the index through
``LocalIndex.add`` (as downloads do), and ``verify`` is what every plan runs first.
"""

import hashlib
import logging
import os
from pathlib import Path

import pytest

from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.datadir.layout import DAMAGED_SOURCES as DAMAGED
from pip_accel.datadir.layout import HASHES
from pip_accel.datadir.records import Record, sha256_of
from pip_accel.files import hash_file
from pip_accel.sources.local_index import LocalIndex

from support.fixtures import make_sdist, make_wheel, pure_project

WHEEL = "wheelpkg-1.0-py3-none-any.whl"
SDIST = "purepkg-1.0.tar.gz"


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    """An empty local index in ``tmp_path/sources``."""
    return LocalIndex(tmp_path / "sources")


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files that the index hashes from now on, in order."""
    seen: list[Path] = []

    def counting(path: Path) -> str:
        seen.append(path)
        return hash_file(path)

    monkeypatch.setattr("pip_accel.datadir.records.hash_file", counting)
    monkeypatch.setattr("pip_accel.sources.local_index.hash_file", counting)
    return seen


def download(index: LocalIndex, archive: Path) -> Path:
    """Put a copy of ``archive`` into the index the way the downloader does; return it."""
    incoming = index.directory / ".incoming-test"
    incoming.mkdir(exist_ok=True)
    copy = incoming / archive.name
    copy.write_bytes(archive.read_bytes())
    added = index.add(copy)
    assert added == index.directory / archive.name
    return added


def wheel(tmp_path: Path, text: str = "X = 1\n") -> Path:
    """A small valid wheel of ``wheelpkg`` 1.0 outside the index."""
    return make_wheel(tmp_path / "made", "wheelpkg", "1.0", {"wheelpkg/__init__.py": text * 50})


def sdist(tmp_path: Path, code: str = "") -> Path:
    """The sdist of ``purepkg`` 1.0 outside the index (``code`` changes its module)."""
    return make_sdist(
        tmp_path / "made", "purepkg", "1.0", pure_project("purepkg", "1.0", code=code)
    )


def names(index: LocalIndex) -> list[str]:
    """The file names of the archives that pass the index's check."""
    return [archive.path.name for archive in index.verify()]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings logged so far."""
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


def test_a_download_enters_the_index_with_its_sha256_recorded(
    index: LocalIndex, tmp_path: Path
) -> None:
    """The record holds the size, time and sha256 of the archive as it is in the index."""
    path = download(index, wheel(tmp_path))
    stat = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert Record.read(path) == Record(stat.st_size, stat.st_mtime_ns, digest)
    assert (index.directory / HASHES / path.name).is_file()
    assert not list((index.directory / ".incoming-test").iterdir())


def test_an_archive_the_index_has_is_not_replaced(index: LocalIndex, tmp_path: Path) -> None:
    """A second download of the same name leaves the first one (and its record) in place."""
    first = download(index, sdist(tmp_path))
    before = (first.stat().st_ino, Record.read(first))
    again = index.directory / ".incoming-test" / SDIST
    again.write_bytes(b"another download")
    assert index.add(again) is None
    assert (first.stat().st_ino, Record.read(first)) == before


def test_an_unchanged_archive_is_trusted_without_reading_it(
    index: LocalIndex, tmp_path: Path, hashed: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Same size and time: trusted, even with other bytes inside (the documented cheap rule)."""
    path = download(index, sdist(tmp_path))
    stat = path.stat()
    hashed.clear()
    path.write_bytes(bytes(len(path.read_bytes())))  # same size, other contents
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert names(index) == [SDIST]
    assert hashed == [] and warnings(caplog) == []


def test_a_touched_archive_with_the_same_contents_is_kept(
    index: LocalIndex, tmp_path: Path, hashed: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A new time: the archive is hashed once, and its record takes the new time."""
    path = download(index, sdist(tmp_path))
    recorded = Record.read(path)
    assert recorded is not None
    os.utime(path, ns=(recorded.mtime_ns + 10**9, recorded.mtime_ns + 10**9))
    hashed.clear()
    assert names(index) == [SDIST]
    assert names(index) == [SDIST]
    assert hashed == [path], "hashed again although the record has the new time"
    assert Record.read(path) == Record(recorded.size, recorded.mtime_ns + 10**9, recorded.sha256)
    assert warnings(caplog) == []


@pytest.mark.parametrize("damage", ["truncated", "changed"])
def test_a_damaged_archive_is_moved_aside(
    index: LocalIndex, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    """Half a wheel, or another sdist of the same name: moved into .damaged, with one warning."""
    if damage == "truncated":
        path = download(index, wheel(tmp_path))
        damaged = path.read_bytes()[: path.stat().st_size // 2]
    else:
        path = download(index, sdist(tmp_path))
        damaged = sdist(tmp_path / "other", code="CHANGED = True\n").read_bytes()
    expected = Record.read(path)
    assert expected is not None
    path.write_bytes(damaged)
    assert names(index) == []
    aside = index.directory / DAMAGED / path.name
    assert aside.read_bytes() == damaged and not path.exists()
    assert Record.read(path) is None, "the record of the archive that was downloaded stays"
    actual = hashlib.sha256(damaged).hexdigest()
    assert warnings(caplog) == [
        f"The archive {path} in the local index is not the one that was downloaded"
        f" (sha256 {actual}, recorded {expected.sha256}); moved it to {aside},"
        " it will be downloaded again."
    ]
    assert index.moved_aside == [path]


def test_a_second_damaged_archive_of_the_same_name_is_kept_too(
    index: LocalIndex, tmp_path: Path
) -> None:
    """An archive moved aside before is not overwritten: the next one gets a suffix."""
    for content in (b"first damage", b"second damage"):
        path = download(index, sdist(tmp_path))
        path.write_bytes(content)
        assert names(index) == []
    damaged = index.directory / DAMAGED
    assert (damaged / SDIST).read_bytes() == b"first damage"
    assert (damaged / f"{SDIST}.1").read_bytes() == b"second damage"


def test_a_damaged_archive_that_cannot_be_moved_is_left_out(
    index: LocalIndex,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read-only index: pip is not shown the archive, and the warning says to delete it."""
    path = download(index, sdist(tmp_path))
    path.write_bytes(b"other contents")

    def refuse(source: Path, target: Path) -> None:
        raise PermissionError(13, "Permission denied", str(source))

    monkeypatch.setattr("pip_accel.sources.local_index.os.rename", refuse)
    assert names(index) == []
    assert path.exists() and Record.read(path) is not None
    [message] = warnings(caplog)
    assert message.startswith(f"The archive {path} in the local index is not the one")
    assert message.endswith(
        f"could not be moved aside ([Errno 13] Permission denied: '{path}'); delete it."
    )


def test_a_wheel_without_record_that_is_not_a_zip_is_moved_aside(
    index: LocalIndex, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A truncated wheel put there by hand (or by an older pip-accel) is not a readable wheel."""
    path = index.directory / WHEEL
    path.write_bytes(wheel(tmp_path).read_bytes()[:500])
    assert names(index) == []
    assert (index.directory / DAMAGED / WHEEL).is_file()
    [message] = warnings(caplog)
    assert message.startswith(f"The archive {path} in the local index is not a readable wheel (")
    assert message.endswith("it will be downloaded again.")
    assert Record.read(path) is None


def test_a_good_wheel_without_record_is_recorded(
    index: LocalIndex, tmp_path: Path, hashed: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Trust on first use: a wheel that opens is recorded, and then trusted cheaply."""
    path = index.directory / WHEEL
    path.write_bytes(wheel(tmp_path).read_bytes())
    assert names(index) == [WHEEL]
    assert names(index) == [WHEEL]
    recorded = Record.read(path)
    assert recorded is not None
    assert recorded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert hashed == [path] and warnings(caplog) == []


def test_an_sdist_without_record_is_recorded(index: LocalIndex, tmp_path: Path) -> None:
    """An sdist that an older pip-accel left without a record is taken as it is."""
    path = index.directory / SDIST
    path.write_bytes(sdist(tmp_path).read_bytes())
    assert names(index) == [SDIST]
    assert Record.read(path) is not None


def test_an_unreadable_record_counts_as_none(index: LocalIndex, tmp_path: Path) -> None:
    """A record cut short is not believed: the archive is recorded again, not moved aside."""
    path = download(index, sdist(tmp_path))
    record = index.directory / HASHES / SDIST
    record.write_text(record.read_text()[:-10])
    assert Record.read(path) is None
    assert names(index) == [SDIST]
    assert Record.read(path) is not None


def test_hidden_names_are_not_archives(index: LocalIndex, tmp_path: Path) -> None:
    """Records, downloads in progress and damaged archives stay out of the index."""
    download(index, sdist(tmp_path))
    (index.directory / f".{WHEEL}").write_bytes(b"a download of another run")
    (index.directory / DAMAGED).mkdir()
    (index.directory / DAMAGED / WHEEL).write_bytes(b"damaged")
    assert names(index) == [SDIST]


def test_sha256_of_never_records_other_contents(index: LocalIndex, tmp_path: Path) -> None:
    """Asked for the sha256 of a changed archive, the index answers it but keeps the record."""
    path = download(index, sdist(tmp_path))
    recorded = Record.read(path)
    path.write_bytes(b"other contents")
    assert sha256_of(path) == hashlib.sha256(b"other contents").hexdigest()
    assert Record.read(path) == recorded


def test_the_view_shows_pip_only_the_verified_archives(index: LocalIndex, tmp_path: Path) -> None:
    """pip never sees a damaged archive: it is gone from the view, so pip downloads it again."""
    good = download(index, sdist(tmp_path))
    broken = download(index, wheel(tmp_path))
    broken.write_bytes(b"half a wheel")
    with index.view(BinaryCache({}), lambda project: "namespace", with_binaries=False) as view:
        assert sorted(view.entries) == [good.name]
        assert good.name in view.page.read_text() and broken.name not in view.page.read_text()
