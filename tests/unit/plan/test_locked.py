"""Unit tests of :mod:`pip_accel.plan.locked` and of the lock rules of
:mod:`pip_accel.pip.requirements`: what an install of lock files does without pip, or why pip."""

import hashlib
from email.parser import HeaderParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from test_lockfile import HEADER, MARKERS, TAGS, package

from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import LockFileError, LockHashMismatchError
from pip_accel.pip.command_line import parse_install
from pip_accel.pip.lock_files import lock_handed_over, only_lock_files
from pip_accel.plan.locked import (
    check_dependencies,
    check_sha256,
    installed_versions,
    locked_archives,
    planned,
    same_version,
    split_by_index,
)
from pip_accel.plan.lockfile import LeftToPip, LockedArchive
from pip_accel.sources.local_index import LocalIndex

from support.fixtures import make_wheel, pkg_info
from support.requirements import with_files

SHA = "a" * 64


def target() -> TargetEnvironment:
    """A stand-in for the target interpreter: its markers and tags."""
    return cast(TargetEnvironment, SimpleNamespace(info={"markers": MARKERS}, tags=TAGS))


def archive(name: str = "a", filename: str = "a-1.0-py3-none-any.whl", sha256: str = SHA) -> Any:
    """A locked archive of version 1.0."""
    return LockedArchive(name, "1.0", f"https://x/{filename}", filename, sha256)


def write_lock(directory: Path, text: str, name: str = "pylock.toml") -> Path:
    """A lock file of ``text`` after the header."""
    path = directory / name
    path.write_text(HEADER + text)
    return path


def test_the_archives_of_the_lock_files_are_chosen_for_the_target(tmp_path: Path) -> None:
    """The wheel that fits; the sdist with ``--no-binary``; the same package in two locks once."""
    text = package("a", wheels=("a-1.0-py3-none-any.whl",), sdist=True) + package("b", sdist=True)
    first, second = write_lock(tmp_path, text), write_lock(tmp_path, text, "pylock.dev.toml")
    found = locked_archives(
        *with_files(parse_install(["-r", str(first), "-r", str(second)])), target()
    )
    assert [item.filename for item in found] == ["a-1.0-py3-none-any.whl", "b-1.0.tar.gz"]
    found = locked_archives(
        *with_files(parse_install(["-r", str(first), "--no-binary", "a"])), target()
    )
    assert [item.filename for item in found] == ["a-1.0.tar.gz", "b-1.0.tar.gz"]


def test_what_the_options_refuse_or_two_locks_disagree_on_is_left_to_pip(tmp_path: Path) -> None:
    """``--only-binary`` against a locked sdist, two different archives of one package."""
    path = write_lock(tmp_path, package("b", sdist=True))
    with pytest.raises(LeftToPip, match="refuse the archive"):
        locked_archives(
            *with_files(parse_install(["-r", str(path), "--only-binary", ":all:"])), target()
        )
    other = write_lock(tmp_path, package("b", wheels=("b-1.0-py3-none-any.whl",)), "pylock.x.toml")
    with pytest.raises(LeftToPip, match="two lock files"):
        locked_archives(*with_files(parse_install(["-r", str(path), "-r", str(other)])), target())


def test_a_missing_lock_file_is_refused_in_pips_words(tmp_path: Path) -> None:
    """pip: ``Error reading pylock file '...': ...``."""
    missing = tmp_path / "pylock.toml"
    with pytest.raises(LockFileError, match="Error reading pylock file"):
        locked_archives(*with_files(parse_install(["-r", str(missing)])), target())


def test_an_archive_of_another_sha256_is_refused_with_both_hashes(tmp_path: Path) -> None:
    """The message names the package, the URL, the expected and the actual sha256."""
    path = tmp_path / "a-1.0-py3-none-any.whl"
    path.write_bytes(b"wheel")
    got = hashlib.sha256(b"wheel").hexdigest()
    check_sha256(archive(sha256=got), path)
    with pytest.raises(LockHashMismatchError) as raised:
        check_sha256(archive(), path)
    message = str(raised.value)
    assert "a 1.0" in message and "https://x/a-1.0-py3-none-any.whl" in message
    assert f"expected {SHA}, got {got}" in message


def test_the_local_index_answers_by_file_name_and_sha256(tmp_path: Path) -> None:
    """Present with the lock's sha256: taken; absent: missing; another one: refused."""
    index = LocalIndex(tmp_path / "sources")
    (index.directory / "a-1.0-py3-none-any.whl").write_bytes(b"wheel")
    digest = hashlib.sha256(b"wheel").hexdigest()
    present, missing = split_by_index([archive(sha256=digest), archive("b", "b-1.0.tar.gz")], index)
    assert list(present.values()) == [index.directory / "a-1.0-py3-none-any.whl"]
    assert [item.name for item in missing] == ["b"]
    with pytest.raises(LockFileError, match=r"has another a-1\.0-py3-none-any\.whl"):
        split_by_index([archive()], index)


def test_installed_versions_and_pips_version_equality(tmp_path: Path) -> None:
    """The ``.dist-info`` directories of the target; ``1.0`` is ``1.0.0``."""
    (tmp_path / "Foo_Bar-1.0.dist-info").mkdir()
    (tmp_path / "other.txt").write_text("")
    found = installed_versions([str(tmp_path), str(tmp_path / "missing")])
    assert found == {"foo-bar": ("1.0", tmp_path / "Foo_Bar-1.0.dist-info")}
    assert same_version("1.0", "1.0.0") and not same_version("1.0", "1.1")


def test_dependencies_must_be_locked_packages(tmp_path: Path) -> None:
    """A dependency that the lock has (or the target has at the locked version) is fine; one
    it lacks leaves the lock to pip (pip's resolver would refuse or ask the index)."""
    a = make_wheel(tmp_path, "a", "1.0", {"a-1.0.dist-info/METADATA": pkg_info("a", "1.0", ["b"])})
    b = make_wheel(tmp_path, "b", "1.0", {"b-1.0.dist-info/METADATA": pkg_info("b", "1.0")})
    markers = dict(MARKERS, extra="")
    check_dependencies({archive(): a, archive("b", b.name): b}, {}, markers)
    metadata = HeaderParser().parsestr(pkg_info("b", "1.0"))
    check_dependencies({archive(): a}, {"b": ("1.0", metadata)}, markers)
    with pytest.raises(LeftToPip, match="a needs b"):
        check_dependencies({archive(): a}, {}, markers)


def test_a_planned_package_is_requested_and_not_a_direct_reference(tmp_path: Path) -> None:
    """pip records ``name==version`` for a lock's package: REQUESTED, no direct_url.json."""
    item = planned(archive(), tmp_path / "a-1.0-py3-none-any.whl")
    assert (item.name, item.version, item.requested, item.is_direct) == ("a", "1.0", True, False)
    assert not item.handed_to_pip


def test_only_lock_files_are_planned_without_pip() -> None:
    """Lock files alone (with their extras), not beside a requirement, file or group."""
    assert only_lock_files(parse_install(["-r", "pylock.toml", "-r", "x/pylock.dev.toml[a]"]))
    assert not only_lock_files(parse_install(["-r", "pylock.toml", "chain-a"]))
    assert not only_lock_files(parse_install(["-r", "pylock.toml", "-r", "requirements.txt"]))
    assert not only_lock_files(parse_install(["-r", "requirements.txt"]))
    assert not only_lock_files(parse_install(["chain-a"]))


def test_pip_answers_for_an_older_pip_mixed_inputs_and_options_it_decides() -> None:
    """Each reason names what pip decides; a plain lock is pip-accel's (None)."""
    lock = ["-r", "pylock.toml"]
    assert lock_handed_over(parse_install(lock), "26.3") is None
    assert lock_handed_over(parse_install(["chain-a"]), "23.0") is None
    assert "pip 23.0 reads no lock files" in str(lock_handed_over(parse_install(lock), "23.0"))
    mixed = parse_install([*lock, "chain-a"])
    assert "beside other requirements" in str(lock_handed_over(mixed, "26.3"))
    no_deps = parse_install([*lock, "--no-deps"])
    assert "--no-deps" in str(lock_handed_over(no_deps, "26.3"))
    remote = parse_install(["-r", "https://example.org/pylock.toml"])
    assert "URL" in str(lock_handed_over(remote, "26.3"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "either --no-deps must be set"),
        (["--only-binary=:all:"], "unless installing via '--target'"),
        (["--only-binary=:all:", "--dry-run"], "not supported when selecting requirements from"),
    ],
)
def test_platform_options_beside_a_lock_are_refused_in_pips_order(
    extra: list[str], message: str
) -> None:
    """pip 26's three checks of ``--platform`` & co, the first that fails."""
    command_line = parse_install(["-r", "pylock.toml", "--platform", "linux_x86_64", *extra])
    with pytest.raises(LockFileError, match=message):
        lock_handed_over(command_line, "26.3")
