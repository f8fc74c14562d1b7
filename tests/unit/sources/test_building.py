"""Unit tests of ``pip_accel.sources.building``: a set downloaded by ``pip wheel``, sorted.

pip is :class:`~support.downloads.ScriptedPip` (it runs nothing: its ``wheel`` answer writes
wheels into ``--wheel-dir``), pip's finder is :class:`~support.downloads.StandInIndex` over
real archives in ``tmp_path``, and the local index and its view are real directories.
"""

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import pytest

from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.exceptions import DownloadError
from pip_accel.pip.command_line import parse_install
from pip_accel.sources.building import BuildingDownloader
from pip_accel.sources.local_index import LocalIndex
from pip_accel.sources.pip_finder import PipIndex

from support.downloads import ScriptedPip, StandInIndex, fails, sdist, writes
from support.fixtures import make_wheel, pure_project
from support.requirements import with_files


def building(
    tmp_path: Path, pip: ScriptedPip, argv: Sequence[str], found: dict[tuple[str, str], Path]
) -> BuildingDownloader:
    """A building downloader into ``tmp_path/sources`` whose pip finder finds ``found``."""

    def pip_index(options: Sequence[str]) -> StandInIndex:
        return StandInIndex(found, options)

    return BuildingDownloader(
        pip, LocalIndex(tmp_path / "sources"), *with_files(parse_install(argv)), 0, 1,
        pip_index=cast(Callable[[Sequence[str]], PipIndex], pip_index),
    )  # fmt: skip


def sort_out(
    fetcher: BuildingDownloader, tmp_path: Path
) -> tuple[set[Path], dict[Path, Path]] | None:
    """Download with ``pip wheel`` through a view of the (empty) index."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with fetcher.index.view(BinaryCache({}), lambda name: "ns", True) as view:
        return fetcher.download_building(view, wheels)


def test_downloaded_wheels_enter_the_index_and_built_ones_bring_their_sdists(
    tmp_path: Path,
) -> None:
    """A wheel that pip's finder takes as it is enters the index; a wheel whose finder's
    archive is an sdist was built: the sdist enters the index, and the wheel is handed back
    by the sdist's path; the new sdist's back-ends are downloaded."""
    made = tmp_path / "made"
    alpha = make_wheel(made, "alpha", "1.0", pure_project("alpha", "1.0"))
    beta_sdist = sdist(tmp_path, "beta")
    beta_wheel = make_wheel(tmp_path / "built", "beta", "1.0", pure_project("beta", "1.0"))
    backend = make_wheel(made, "flit_core", "3.9", pure_project("flit_core", "3.9"))
    pip = ScriptedPip([writes(alpha, beta_wheel), writes(backend)])
    found = {("alpha", "1.0"): alpha, ("beta", "1.0"): beta_sdist}
    fetcher = building(tmp_path, pip, ["-i", "http://127.0.0.1:9/s", "alpha", "beta"], found)
    done = sort_out(fetcher, tmp_path)
    assert done is not None
    new, built = done
    index = tmp_path / "sources"
    assert new == {index / alpha.name, index / beta_sdist.name}
    assert (index / backend.name).is_file()
    assert list(built) == [index / beta_sdist.name]
    assert built[index / beta_sdist.name].name == beta_wheel.name
    first, second = pip.commands
    assert first[:3] == ["wheel", "--wheel-dir", str(tmp_path / "wheels")]
    assert first[-2:] == ["alpha", "beta"] and "--find-links" in first
    assert first[first.index("-i") : first.index("-i") + 2] == ["-i", "http://127.0.0.1:9/s"]
    assert second[0] == "download" and second[-2:] == ["--", "flit_core>=3.4"]


def test_an_option_only_pip_download_takes_means_downloading_as_before(tmp_path: Path) -> None:
    """A plan for another platform must not be built here: no ``pip wheel`` runs."""
    pip = ScriptedPip([])
    argv = ["--platform", "manylinux2014_x86_64", "--only-binary", ":all:", "alpha"]
    assert sort_out(building(tmp_path, pip, argv, {}), tmp_path) is None
    assert pip.commands == []


def test_a_failed_build_means_downloading_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A build that fails is left to the builder, which explains it: None, and an info."""
    pip = ScriptedPip([fails("ERROR: Failed building wheel for beta")])
    with caplog.at_level(logging.INFO):
        assert sort_out(building(tmp_path, pip, ["beta"], {}), tmp_path) is None
    assert "could not build every wheel while downloading" in caplog.text


def test_network_trouble_is_raised(tmp_path: Path) -> None:
    """A network that fails is the download's error, as with ``pip download``."""
    output = "WARNING: Retrying ... NewConnectionError ... Connection refused"
    pip = ScriptedPip([fails(output)])
    with pytest.raises(DownloadError):
        sort_out(building(tmp_path, pip, ["beta"], {}), tmp_path)


def test_a_wheel_pips_finder_would_not_take_means_downloading_as_before(tmp_path: Path) -> None:
    """When pip's finder takes another wheel than the one pip wrote, what pip built cannot be
    told apart: None, and that wheel stays out of the index."""
    made = tmp_path / "made"
    alpha = make_wheel(made, "alpha", "1.0", pure_project("alpha", "1.0"))
    other = make_wheel(
        tmp_path / "other", "alpha", "1.0", pure_project("alpha", "1.0"), tag="py2-none-any"
    )
    pip = ScriptedPip([writes(alpha)])
    fetcher = building(tmp_path, pip, ["alpha"], {("alpha", "1.0"): other})
    assert sort_out(fetcher, tmp_path) is None
    assert not (tmp_path / "sources" / alpha.name).exists()
