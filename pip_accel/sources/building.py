"""Downloading a requirement set with ``pip wheel``, which builds its new sdists on the way.

``pip download`` prepares each new sdist's metadata in an isolated build
environment, and a ``pip wheel --no-deps`` of that sdist afterwards makes a
second one; ``pip wheel`` of the whole set builds each sdist in the
environment it prepared it in, as ``pip install`` does. What pip downloaded is
then sorted: the wheels it fetched enter the local index as they are, and for
each wheel it built, its sdist is fetched (from pip's HTTP cache, where the
index allows) into the index, the wheel handed back for the binary cache.
"""

import logging
from pathlib import Path

from humanfriendly.text import pluralize

from pip_accel.datadir.layout import INCOMING_PREFIX
from pip_accel.datadir.scratch import PrivateDirectory
from pip_accel.exceptions import DownloadError
from pip_accel.pip.commands import building_download_arguments, building_download_command
from pip_accel.pip.output import is_network_trouble
from pip_accel.sources.download import Downloader
from pip_accel.sources.local_index import Archive, IndexView
from pip_accel.sources.pip_finder import PipIndexUnavailable

logger = logging.getLogger(__name__)


class BuildingDownloader(Downloader):
    """Fills the local index, and can build a set's new sdists while it downloads them."""

    def download_building(
        self, view: IndexView, wheels: Path
    ) -> tuple[set[Path], dict[Path, Path]] | None:
        """Download every archive the requirements need with ``pip wheel``, which builds
        the new sdists on its way into ``wheels``; return the new archives, and the wheel
        pip built from each new sdist (by the sdist's path in the index).

        pip takes what ``view`` shows (the local index, and the cached wheels
        of its sdists, so that it builds none of those again). It saves the
        wheels it downloaded, not the sdists it built: each of those is fetched
        by pip's finder here (its file comes from pip's HTTP cache, if the
        index allows that). None when that cannot be told apart or fetched
        (the caller downloads as before); a failed build also gives None, so
        that each sdist is built alone and a build's failure explained.
        """
        args = building_download_arguments(self.command_line)
        if args is None:
            return None
        before = {archive.path for archive in self.index.verify()}
        try:
            self._retry(building_download_command(wheels, view.page, args), "the requirements")
        except DownloadError as error:
            if is_network_trouble(error.output):
                raise
            logger.info("pip could not build every wheel while downloading; downloading first.")
            logger.debug("The output of pip wheel:\n%s", error.output.rstrip())
            return None
        try:
            built = self._sort_wheels(view, sorted(wheels.glob("*.whl")))
        except (PipIndexUnavailable, DownloadError) as error:
            logger.info("Could not tell what pip built from what it downloaded (%s).", error)
            return None
        new = {archive.path for archive in self.index.archives()} - before
        logger.info(
            "Downloaded %s into the local index; pip built %s on the way.",
            pluralize(len(new), "new archive"), pluralize(len(built), "wheel"),
        )  # fmt: skip
        self._download_build_requirements(sorted(new))
        return new, built

    def _sort_wheels(self, view: IndexView, wheels: list[Path]) -> dict[Path, Path]:
        """Put the wheels pip downloaded into the index, and the sdist of each one it built;
        return the wheels it built, by their sdists' paths in the index.

        pip's finder says which archive pip takes for the wheel's name and
        version: that wheel itself (downloaded), or an sdist (built from it).
        """
        built: dict[Path, Path] = {}
        fresh = [wheel for wheel in wheels if view.lookup(wheel.name) is None]
        if not fresh:
            return built
        self.finders.start()
        try:
            for wheel in fresh:
                sdist = self._sort_wheel(wheel)
                if sdist is not None:
                    built[sdist] = wheel
        finally:
            self.finders.close()
        return built

    def _sort_wheel(self, wheel: Path) -> Path | None:
        """Take one new wheel of ``pip wheel`` into the index, or its sdist: return that
        sdist's path in the index when pip built the wheel."""
        name_and_version = Archive(wheel).name_and_version()
        finder = self.finders.for_thread()
        remote = finder.find(*name_and_version) if name_and_version else None
        if remote is None:
            raise DownloadError(f"pip's finder finds no archive of {wheel.name}")
        if remote.filename == wheel.name:
            self._take(wheel)
            return None
        if remote.filename.endswith(".whl"):
            raise DownloadError(f"pip's finder takes {remote.filename}, not {wheel.name}")
        with PrivateDirectory(self.index.directory, INCOMING_PREFIX) as incoming:
            self._take(finder.fetch(remote, incoming))
        return self.index.directory / remote.filename
