"""Unit tests of ``pip_accel.sources.download``: what pip is asked to download; when to try again.

pip is :class:`~support.downloads.ScriptedPip`, a :class:`Pip` that runs nothing: it records
each command and answers with files written into ``--dest``, or with a failure; the local
index is a real directory in ``tmp_path``, and the archives are written by the tests'
``fixtures``.
"""

import io
import logging
import tarfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import pytest

from pip_accel.datadir.layout import PENDING_BACK_ENDS as PENDING
from pip_accel.exceptions import DownloadError
from pip_accel.pip.command_line import parse_install
from pip_accel.pip.runner import Pip
from pip_accel.sources.back_ends import DEFAULT_BUILD_REQUIREMENTS, build_requirements
from pip_accel.sources.download import (
    Downloader,
    source_trees,
)
from pip_accel.sources.listing import Listing
from pip_accel.sources.local_index import LocalIndex
from pip_accel.sources.pip_finder import PipIndex, PipIndexUnavailable, RemoteArchive

from support.downloads import ScriptedPip, StandInIndex, fails, sdist, writes
from support.fixtures import make_wheel, pure_project
from support.requirements import with_files


def downloader(tmp_path: Path, pip: Pip, argv: Sequence[str], retries: int = 0) -> Downloader:
    """A downloader into the local index ``tmp_path/sources``."""
    index = LocalIndex(tmp_path / "sources")
    return Downloader(pip, index, *with_files(parse_install(argv)), retries)


def test_download_asks_pip_for_the_requirements_and_their_back_ends(tmp_path: Path) -> None:
    """pip downloads the requirements, then the build requirements of each new sdist."""
    archive = sdist(tmp_path, "demo")
    pip = ScriptedPip([writes(archive)])
    new = downloader(tmp_path, pip, ["-i", "https://mirror/simple", "demo"]).download()
    assert [path.name for path in new] == [archive.name]
    first, second = pip.commands
    assert first[:1] == ["download"] and first[-1] == "demo"
    assert first[first.index("-i") : first.index("-i") + 2] == ["-i", "https://mirror/simple"]
    assert "--find-links" in first and "--progress-bar" in first
    assert second[-2:] == ["--", "flit_core>=3.4"]
    assert second[second.index("-i") : second.index("-i") + 2] == ["-i", "https://mirror/simple"]


def test_network_trouble_is_tried_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A connection failure is retried up to ``retries`` more times, with a warning."""
    archive = make_wheel(tmp_path / "made", "demo", "1.0", pure_project("demo", "1.0"))
    pip = ScriptedPip([fails("Connection reset"), writes(archive)])
    with caplog.at_level(logging.WARNING):
        new = downloader(tmp_path, pip, ["demo"], retries=1).download()
    assert [path.name for path in new] == [archive.name]
    assert "attempt 1 of 2" in caplog.text
    assert len(pip.commands) == 2  # a wheel has no build requirements to download


def test_a_real_answer_is_not_tried_again(tmp_path: Path) -> None:
    """pip's "no matching distribution" is final: one attempt, a DownloadError."""
    pip = ScriptedPip([fails("ERROR: No matching distribution found for demo")])
    with pytest.raises(DownloadError, match="Could not download the requirements: pip failed"):
        downloader(tmp_path, pip, ["demo"], retries=3).download()
    assert len(pip.commands) == 1


def test_retries_run_out(tmp_path: Path) -> None:
    """Network trouble on every attempt ends in a DownloadError after ``retries + 1``."""
    pip = ScriptedPip([fails("read timed out")] * 3)
    with pytest.raises(DownloadError):
        downloader(tmp_path, pip, ["demo"], retries=2).download()
    assert len(pip.commands) == 3


def test_failed_build_requirements_are_only_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the back-ends the requirements are still downloaded; building needs the network."""
    archive = sdist(tmp_path, "demo")
    pip = ScriptedPip([writes(archive), fails("ERROR: No matching distribution")])
    new = downloader(tmp_path, pip, ["demo"]).download()
    assert len(new) == 1
    assert "building them will need the network" in caplog.text


def test_download_again_pins_the_damaged_archives(tmp_path: Path) -> None:
    """Archives moved aside are asked for again by name and version, without dependencies."""
    pip = ScriptedPip([])
    damaged = [tmp_path / "demo-1.0.tar.gz", tmp_path / "Other_Pkg-2.0-py3-none-any.whl"]
    downloader(tmp_path, pip, ["-f", "/links", "demo"]).download_again(damaged)
    (command,) = pip.commands
    assert command[-4:] == ["--no-deps", "--", "demo==1.0", "other-pkg==2.0"]
    assert command[command.index("-f") : command.index("-f") + 2] == ["-f", "/links"]


def test_download_again_of_nothing_asks_nothing(tmp_path: Path) -> None:
    """No archive with a readable name, no pip command."""
    pip = ScriptedPip([])
    downloader(tmp_path, pip, ["demo"]).download_again([tmp_path / "README"])
    assert pip.commands == []


def test_download_again_failure_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed second download is logged; the plan then finds what it finds."""
    pip = ScriptedPip([fails("ERROR: gone")])
    downloader(tmp_path, pip, ["demo"]).download_again([tmp_path / "demo-1.0.tar.gz"])
    assert "Could not download demo==1.0 again" in caplog.text


def test_build_requirements_of_archives_and_trees(tmp_path: Path) -> None:
    """pyproject.toml's ``requires`` is read from a tar.gz, a zip and a directory."""
    assert build_requirements(sdist(tmp_path, "a", ["hatchling"])) == ("hatchling",)
    zipped = tmp_path / "b-1.0.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("b-1.0/pyproject.toml", '[build-system]\nrequires = ["pdm-backend"]\n')
    assert build_requirements(zipped) == ("pdm-backend",)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").write_text('[build-system]\nrequires = ["maturin>=1"]\n')
    assert build_requirements(tree) == ("maturin>=1",)


def test_build_requirements_default_to_setuptools(tmp_path: Path) -> None:
    """No pyproject.toml, an empty ``requires`` or a broken file: setuptools and wheel."""
    plain = tmp_path / "plain-1.0.tar.gz"
    with tarfile.open(plain, "w:gz") as archive:
        data = b"from setuptools import setup\nsetup()\n"
        info = tarfile.TarInfo("plain-1.0/setup.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    assert build_requirements(plain) == DEFAULT_BUILD_REQUIREMENTS
    broken = tmp_path / "broken-1.0.tar.gz"
    broken.write_bytes(b"not a tar file")
    assert build_requirements(broken) == DEFAULT_BUILD_REQUIREMENTS
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "pyproject.toml").write_text("[build-system]\nrequires = []\n")
    assert build_requirements(empty) == DEFAULT_BUILD_REQUIREMENTS


def test_source_trees_are_local_directories(tmp_path: Path) -> None:
    """Editables and directory arguments (extras stripped) are source trees; names are not."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "edit").mkdir()
    argv = ["-e", str(tmp_path / "edit"), f"{tmp_path / 'proj'}[extra]", "demo"]
    assert source_trees(parse_install(argv)) == [tmp_path / "edit", tmp_path / "proj"]


def test_pins_are_fetched_in_process_and_announced_but_not_their_back_ends(
    tmp_path: Path,
) -> None:
    """Each pin's archive enters the index and is handed on; the build back-ends of a new
    sdist are downloaded by pip, not handed on; every finder is closed."""
    wheel = make_wheel(tmp_path / "made", "alpha", "1.0", pure_project("alpha", "1.0"))
    source = sdist(tmp_path, "beta")
    backend = make_wheel(tmp_path / "made", "flit_core", "3.9", pure_project("flit_core", "3.9"))
    made: list[StandInIndex] = []

    def pip_index(options: Sequence[str]) -> StandInIndex:
        made.append(StandInIndex({("alpha", "1.0"): wheel, ("beta", "1.0"): source}, options))
        return made[-1]

    pip = ScriptedPip([writes(backend)])
    announced: list[str] = []
    requirements = tmp_path / "r.txt"
    requirements.write_text("--no-binary beta\n")
    fetcher = Downloader(
        pip, LocalIndex(tmp_path / "sources"),
        *with_files(parse_install(["-i", "http://127.0.0.1:9/s", "-r", str(requirements)])),
        0, 2, lambda path: announced.append(path.name),
        cast(Callable[[Sequence[str]], PipIndex], pip_index),
    )  # fmt: skip
    new = fetcher.download_pins([("alpha", "1.0"), ("beta", "1.0")])
    assert sorted(path.name for path in new) == sorted([wheel.name, source.name])
    assert (tmp_path / "sources" / backend.name).is_file()
    assert sorted(announced) == sorted([wheel.name, source.name])
    assert [command[-2:] for command in pip.commands] == [["--", "flit_core>=3.4"]]
    assert made and all(index.closed for index in made)
    assert made[0].options[:2] == ["-i", "http://127.0.0.1:9/s"]
    assert made[0].options[-2:] == ["--no-binary", "beta"]


def test_listings_are_asked_in_process_and_a_failure_leaves_a_project_out(
    tmp_path: Path,
) -> None:
    """What the index lists, by canonical name, several projects at a time; a project whose
    page fails is left out (it asks again next run); every finder is closed."""
    made: list[StandInIndex] = []
    archives = {("alpha", "1.0"): tmp_path, ("alpha", "2.0"): tmp_path, ("beta", "1.0"): tmp_path}

    def pip_index(options: Sequence[str]) -> StandInIndex:
        made.append(StandInIndex(archives, options))
        return made[-1]

    fetcher = Downloader(
        ScriptedPip([]), LocalIndex(tmp_path / "sources"), *with_files(parse_install([])), 0, 2,
        pip_index=cast(Callable[[Sequence[str]], PipIndex], pip_index),
    )  # fmt: skip
    found = fetcher.listings(["Alpha", "beta", "broken-one"])
    assert found == {"alpha": Listing(("1.0", "2.0")), "beta": Listing(("1.0",))}
    assert made and all(index.closed for index in made)
    assert fetcher.listings([]) == {}


def test_without_pips_finder_nothing_is_listed(tmp_path: Path) -> None:
    """Where pip's internals differ, no listing: the record then asks again next time."""

    def unavailable(options: Sequence[str]) -> PipIndex:
        raise PipIndexUnavailable("another pip")

    fetcher = Downloader(
        ScriptedPip([]), LocalIndex(tmp_path / "sources"), *with_files(parse_install([])), 0, 2,
        pip_index=unavailable,
    )  # fmt: skip
    assert fetcher.listings(["alpha"]) == {}


def test_the_first_pin_that_fails_ends_the_fetching(tmp_path: Path) -> None:
    """A pin the index lacks: no other pin is fetched after it, and nothing is raised."""
    wheel = make_wheel(tmp_path / "made", "alpha", "1.0", pure_project("alpha", "1.0"))
    finder = StandInIndex({("alpha", "1.0"): wheel}, [])
    fetcher = Downloader(
        ScriptedPip([]), LocalIndex(tmp_path / "sources"), *with_files(parse_install([])), 0, 1,
        pip_index=cast(Callable[[Sequence[str]], PipIndex], lambda options: finder),
    )  # fmt: skip
    new = fetcher.download_pins([("aaa-missing", "1.0"), ("alpha", "1.0")])
    assert new == set()
    assert fetcher.given_up.is_set()


def test_without_pips_finder_pins_go_to_pip_download(tmp_path: Path) -> None:
    """Where pip's internals differ, ``pip download --no-deps`` fetches the pins."""
    wheel = make_wheel(tmp_path / "made", "alpha", "1.0", pure_project("alpha", "1.0"))

    def unavailable(options: Sequence[str]) -> PipIndex:
        raise PipIndexUnavailable("another pip")

    pip = ScriptedPip([writes(wheel)])
    fetcher = Downloader(
        pip,
        LocalIndex(tmp_path / "sources"),
        *with_files(parse_install([])),
        0,
        2,
        pip_index=unavailable,
    )
    assert [path.name for path in fetcher.download_pins([("alpha", "1.0")])] == [wheel.name]
    assert pip.commands[0][-3:] == ["--no-deps", "--", "alpha==1.0"]


def test_back_ends_a_killed_run_left_out_are_downloaded_by_the_next(tmp_path: Path) -> None:
    """An sdist is marked before it enters the index; the mark goes once its back-ends are
    there. A mark left behind makes the next run download them; a mark without its sdist
    goes."""
    source = sdist(tmp_path, "beta")
    backend = make_wheel(tmp_path / "made", "flit_core", "3.9", pure_project("flit_core", "3.9"))
    first = downloader(tmp_path, ScriptedPip([writes(source)]), ["beta"])
    first._download_in_processes(["beta==1.0"])  # killed here: the back-ends never came
    marks = tmp_path / "sources" / PENDING
    assert sorted(path.name for path in marks.iterdir()) == [source.name]
    (marks / "gone-1.0.tar.gz").touch()
    pip = ScriptedPip([writes(backend)])
    downloader(tmp_path, pip, ["beta"]).finish_pending()
    assert [command[-2:] for command in pip.commands] == [["--", "flit_core>=3.4"]]
    assert (tmp_path / "sources" / backend.name).is_file()
    assert list(marks.iterdir()) == []


def test_an_archive_the_index_had_already_is_not_marked_waiting(tmp_path: Path) -> None:
    """pip copies the archives the index has (``--find-links``) with the new ones: only the
    new sdist waits for its back-ends, so the next run has nothing left over to download."""
    known, new = sdist(tmp_path, "alpha"), sdist(tmp_path, "beta")
    backend = make_wheel(tmp_path / "made", "flit_core", "3.9", pure_project("flit_core", "3.9"))
    index = LocalIndex(tmp_path / "sources")
    (index.directory / known.name).write_bytes(known.read_bytes())
    pip = ScriptedPip([writes(known, new), writes(backend)])
    assert downloader(tmp_path, pip, ["alpha", "beta"]).download() == {index.directory / new.name}
    assert list((index.directory / PENDING).iterdir()) == []
    later = ScriptedPip([])
    downloader(tmp_path, later, ["alpha"]).finish_pending()
    assert later.commands == []


def test_any_failure_of_pips_finder_ends_the_fetching_quietly(tmp_path: Path) -> None:
    """pip's internals may raise what pip-accel does not know: the fetching ends, nothing is
    raised (pip download resolves the rest), and the finder made first is the one used."""
    made: list[int] = []

    class Broken:
        def __init__(self) -> None:
            made.append(1)

        def find(self, name: str, version: str) -> RemoteArchive | None:
            raise ValueError("a page pip's parser did not expect")

        def close(self) -> None:
            """Nothing to close."""

    fetcher = Downloader(
        ScriptedPip([]), LocalIndex(tmp_path / "sources"), *with_files(parse_install([])), 0, 1,
        pip_index=cast(Callable[[Sequence[str]], PipIndex], lambda options: Broken()),
    )  # fmt: skip
    assert fetcher.download_pins([("alpha", "1.0"), ("beta", "1.0")]) == set()
    assert fetcher.given_up.is_set()
    assert made == [1], "one worker: the first finder serves it"


def test_build_requirements_a_build_asked_for_are_downloaded(tmp_path: Path) -> None:
    """With the user's indexes, as requirements (never options), not announced."""
    wheel = make_wheel(tmp_path / "made", "cython", "3.1.1", pure_project("cython", "3.1.1"))
    pip = ScriptedPip([writes(wheel)])
    loader = downloader(tmp_path, pip, ["-i", "https://mirror/simple", "demo"])
    assert loader.download_build_requirements(["Cython>=3.1.1"])
    (command,) = pip.commands
    assert command[-2:] == ["--", "Cython>=3.1.1"]
    assert command[command.index("-i") : command.index("-i") + 2] == ["-i", "https://mirror/simple"]
    assert (tmp_path / "sources" / wheel.name).is_file()


def test_build_requirements_that_cannot_be_downloaded_are_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """False, and a warning that names them; the build's own error is what the user gets."""
    pip = ScriptedPip([fails("ERROR: No matching distribution found for Cython>=3.1.1")])
    assert not downloader(tmp_path, pip, ["demo"]).download_build_requirements(["Cython>=3.1.1"])
    assert "Could not download Cython>=3.1.1, which a build asked for" in caplog.text
