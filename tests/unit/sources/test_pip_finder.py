"""Unit tests of :mod:`pip_accel.sources.pip_finder`: pip's finder and session in this process.

No server: pip's finder reads a ``--find-links`` directory of small archives, and pip's
session fetches ``file:`` URLs, exactly as it fetches from an index over HTTP.
"""

import hashlib
from pathlib import Path

import pytest

from pip_accel.exceptions import DownloadError
from pip_accel.sources.listing import Listing
from pip_accel.sources.pip_finder import PipIndex, PipIndexUnavailable, RemoteArchive

from support.fixtures import make_sdist, make_wheel

TARGET_TAGS = ["cp311-cp311-linux_x86_64", "py3-none-any"]
"""The tags of a made-up target interpreter: a pure wheel and one platform."""


@pytest.fixture
def links(tmp_path: Path) -> Path:
    """A find-links directory: demo 1.0 as sdist and pure wheel, 2.0 as a wheel for a
    platform the target lacks, and an sdist of 2.0."""
    directory = tmp_path / "links"
    make_sdist(directory, "demo", "1.0", {"demo.py": "VALUE = 1\n"})
    make_wheel(directory, "demo", "1.0", {"demo.py": "VALUE = 1\n"})
    make_wheel(directory, "demo", "2.0", {"demo.py": "VALUE = 2\n"}, tag="cp39-cp39-win_amd64")
    make_sdist(directory, "demo", "2.0", {"demo.py": "VALUE = 2\n"})
    return directory


def pip_index(links: Path, *options: str) -> PipIndex:
    """A finder over ``links`` alone, with more pip options."""
    return PipIndex(["--no-index", "--find-links", str(links), *options], TARGET_TAGS, "3.11.7")


def test_the_wheel_for_the_target_is_preferred_as_pip_prefers_it(links: Path) -> None:
    """1.0: the pure wheel over the sdist; 2.0: the sdist, its wheel being for another platform."""
    finder = pip_index(links)
    assert finder.find("demo", "1.0") == RemoteArchive(
        (links / "demo-1.0-py3-none-any.whl").as_uri(), "demo-1.0-py3-none-any.whl"
    )
    found = finder.find("Demo", "2.0")
    assert found is not None and found.filename == "demo-2.0.tar.gz"
    assert finder.find("demo", "3.0") is None


def test_binary_options_choose_as_in_pip(links: Path) -> None:
    """``--no-binary`` takes the sdist; ``--only-binary`` finds no 2.0 at all."""
    found = pip_index(links, "--no-binary", "demo").find("demo", "1.0")
    assert found is not None and found.filename == "demo-1.0.tar.gz"
    assert pip_index(links, "--only-binary", ":all:").find("demo", "2.0") is None


def test_the_listing_holds_the_versions_pip_may_take_for_the_target(
    links: Path, tmp_path: Path
) -> None:
    """demo 1.0 and 2.0 (its sdist); with --only-binary 2.0's wheel is for another
    platform, so the listing has 1.0 only; a project the index lacks lists nothing."""
    assert pip_index(links).listing("demo") == Listing(("1.0", "2.0"))
    assert pip_index(links, "--only-binary", ":all:").listing("Demo") == Listing(("1.0",))
    assert pip_index(links).listing("absent") == Listing(())


def test_fetch_copies_the_archive_and_checks_its_hash(links: Path, tmp_path: Path) -> None:
    """The right hash: the file arrives whole; a wrong one: an error naming it, no file."""
    source = links / "demo-1.0.tar.gz"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    finder = pip_index(links)
    archive = RemoteArchive(source.as_uri(), source.name, {"sha256": digest})
    (tmp_path / "good").mkdir()
    fetched = finder.fetch(archive, tmp_path / "good")
    assert fetched.read_bytes() == source.read_bytes()
    (tmp_path / "bad").mkdir()
    wrong = RemoteArchive(source.as_uri(), source.name, {"sha256": "0" * 64})
    with pytest.raises(DownloadError, match="its sha256 is not the one the index gives"):
        finder.fetch(wrong, tmp_path / "bad")
    assert list((tmp_path / "bad").iterdir()) == []


def test_a_missing_file_is_a_download_error_naming_the_url(links: Path, tmp_path: Path) -> None:
    """The URL (its password hidden) and the reason."""
    gone = RemoteArchive("http://user:secret@127.0.0.1:9/demo-9.tar.gz", "demo-9.tar.gz")
    finder = pip_index(links, "--retries", "0", "--timeout", "1")
    with pytest.raises(DownloadError) as caught:
        finder.fetch(gone, tmp_path)
    assert "http://user:****@127.0.0.1:9/demo-9.tar.gz" in str(caught.value)
    assert "secret" not in str(caught.value)


def test_other_pip_internals_are_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pip whose internals differ gives PipIndexUnavailable (the caller runs pip download)."""
    import pip._internal.commands

    def differs(name: str) -> None:
        raise AttributeError("no such command class here")

    monkeypatch.setattr(pip._internal.commands, "create_command", differs)
    with pytest.raises(PipIndexUnavailable, match="no such command class here"):
        PipIndex([], TARGET_TAGS, "3.11")


def test_the_user_agent_is_made_once_for_every_session(
    links: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip's user agent (a ``rustc --version`` each) is made once, however many finders."""
    from pip._internal.network import session as pip_session

    made: list[str] = []

    def user_agent() -> str:
        made.append("pip")
        return "pip/test"

    monkeypatch.setattr(pip_session, "user_agent", user_agent)
    finders = [pip_index(links) for _ in range(3)]
    assert made == ["pip"]
    assert {finder.session.headers["User-Agent"] for finder in finders} == {"pip/test"}


def test_a_local_index_or_none_is_no_trouble(tmp_path: Path) -> None:
    """A ``file:`` index is a directory, not a network (an index over HTTP that answers,
    even with 404, is the end-to-end tests' pypiserver); no index is no trouble either."""
    simple = tmp_path / "simple"
    (simple / "demo").mkdir(parents=True)
    for options in (["--index-url", simple.as_uri() + "/"], ["--no-index"]):
        index = PipIndex(options, TARGET_TAGS, "3.11.7")
        try:
            assert index.trouble("demo") is None
            assert index.trouble("missing") is None
        finally:
            index.close()


def test_an_index_that_cannot_be_reached_is_trouble_naming_its_url() -> None:
    """Nothing listens on the index's port: the trouble names the project's page."""
    url = "http://127.0.0.1:9/simple/"  # the discard port: refused on a test machine
    index = PipIndex(["--index-url", url, "--retries", "0", "--timeout", "2"], TARGET_TAGS, "3.11")
    try:
        trouble = index.trouble("Demo")
    finally:
        index.close()
    assert trouble is not None and trouble.startswith("http://127.0.0.1:9/simple/demo/: ")
