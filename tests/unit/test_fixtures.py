"""Unit tests of the fixture archives (``tests/support/fixtures.py``): reproducible, well formed."""

from __future__ import annotations

import base64
import hashlib
import tarfile
import zipfile
from pathlib import Path

from support.fixtures import build_all


def test_fixture_archives_are_reproducible(tmp_path: Path) -> None:
    """Writing the fixtures twice gives the same bytes, so a cache key never changes by itself."""
    first, second = build_all(tmp_path / "first"), build_all(tmp_path / "second")
    assert first.keys() == second.keys()
    for key, path in first.items():
        assert path.read_bytes() == second[key].read_bytes(), key


def test_sdists_have_one_top_level_directory(fixture_sdists: dict[str, Path]) -> None:
    """Each sdist holds ``<name_>-<version>/PKG-INFO`` and nothing outside that directory."""
    sdists = [path for path in fixture_sdists.values() if path.name.endswith(".tar.gz")]
    assert fixture_sdists["chain-a-1.0"].name == "chain_a-1.0.tar.gz"
    for path in sdists:
        top = path.name.removesuffix(".tar.gz")
        with tarfile.open(path) as archive:
            names = archive.getnames()
        assert f"{top}/PKG-INFO" in names
        assert all(name == top or name.startswith(f"{top}/") for name in names)


def test_evil_wheel_has_a_path_traversal(fixture_sdists: dict[str, Path]) -> None:
    """The malicious wheel holds ``../evil.txt``, and RECORD vouches for it with a right hash."""
    with zipfile.ZipFile(fixture_sdists["evilpkg-1.0"]) as wheel:
        assert "../evil.txt" in wheel.namelist()
        record = wheel.read("evilpkg-1.0.dist-info/RECORD").decode("utf-8").splitlines()
        for line in record:
            path, digest, size = line.rsplit(",", 2)
            if digest:
                data = wheel.read(path)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert (digest, int(size)) == (f"sha256={expected.decode()}", len(data)), path
