"""Downloading archives into the local index, with the user's index options.

Exact pins are fetched first, several at once, by pip's own finder and
session in this process (:mod:`pip_accel.sources.pip_finder`), each archive handed on
as it arrives; what they leave out, pip downloads (``pip download --dest
<data>/sources``), tried again up to ``max-retries`` times when the network
fails. The static build requirements of every new source distribution are
downloaded too (a mark in the index until they are there, for a run that is
killed meanwhile), so that pip-accel can build it later with no network at
all, and those of the local source trees on the command line (editables and
directories), so that pip can plan them offline.
"""

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from humanfriendly.text import pluralize

from pip_accel.datadir.layout import INCOMING_PREFIX, PENDING_BACK_ENDS
from pip_accel.datadir.scratch import PrivateDirectory
from pip_accel.exceptions import DownloadError, PipFailedError
from pip_accel.pip.command_line import INDEX_DESTS, CommandLine
from pip_accel.pip.commands import (
    download_arguments,
    download_command,
    pin_options,
    without_dependencies,
)
from pip_accel.pip.format_choice import choice_options
from pip_accel.pip.output import is_network_trouble
from pip_accel.pip.requirements import RequirementFiles, index_options
from pip_accel.pip.runner import Pip
from pip_accel.sources.back_ends import build_requirements
from pip_accel.sources.finders import Finders
from pip_accel.sources.listing import Listing
from pip_accel.sources.local_index import Archive, LocalIndex
from pip_accel.sources.pip_finder import PipIndex, PipIndexUnavailable, RemoteArchive

logger = logging.getLogger(__name__)


class Downloader:
    """Fills the local index."""

    def __init__(
        self,
        pip: Pip,
        index: LocalIndex,
        command_line: CommandLine,
        files: RequirementFiles,
        retries: int,
        concurrency: int = 1,
        on_archive: Callable[[Path], None] = lambda path: None,
        pip_index: Callable[[Sequence[str]], PipIndex] | None = None,
    ) -> None:
        """Download what ``command_line`` needs into ``index``, trying ``retries`` more times.

        :param concurrency: how many ``pip download`` processes may run at once.
        :param on_archive: called with each archive as soon as it is in the
            index, from the thread that downloaded it, so that the next steps
            (unpacking, compiling) need not wait for the other downloads.
        :param pip_index: makes pip's finder and session for this process from
            pip options (:mod:`pip_accel.sources.pip_finder`); pins are then fetched
            without ``pip download`` (which would prepare each sdist's metadata).
        """
        self.pip = pip
        self.index = index
        self.command_line = command_line
        self.files = files
        """What the command line's requirement files say (read once, on the request)."""
        self.retries = retries
        self.concurrency = concurrency
        self.on_archive = on_archive
        self.added: set[Path] = set()
        """Every archive this downloader put into the index, build back-ends included."""
        self.lock = threading.Lock()
        self.pip_index = pip_index
        self.finders = Finders(self._make_pip_index)
        """pip's finders in this process, one per thread that fetches."""
        self.given_up = threading.Event()
        self.stand_ins: frozenset[str] = frozenset()
        """File names that ``pip download`` copies but the index never takes: the stand-ins
        of local projects (:mod:`pip_accel.plan.stand_ins`)."""

    def download(self) -> set[Path]:
        """Download every archive the requirements need; return the new ones."""
        # Damaged archives go aside first, so that pip downloads them rather than take them.
        before = {archive.path for archive in self.index.verify()}
        self._download(download_arguments(self.command_line), "the requirements")
        new = {archive.path for archive in self.index.archives()} - before
        logger.info("Downloaded %s into the local index.", pluralize(len(new), "new archive"))
        self._download_build_requirements([*sorted(new), *source_trees(self.command_line)])
        return new

    def download_pins(self, pins: Iterable[tuple[str, str]]) -> set[Path]:
        """Download exact pins without their dependencies, ``concurrency`` at a time.

        pip's own finder and session fetch them in this process (see
        :mod:`pip_accel.sources.pip_finder`); where they cannot be used, ``pip
        download --no-deps`` processes, the pins dealt out among them. Either
        way the user's index and network options apply, so pip finds the same
        archive as in a whole resolution. A pin that cannot be downloaded is
        left for that resolution, which says why. Return the new archives.
        """
        wanted = sorted(set(pins))
        if not wanted:
            return set()
        before = {archive.path for archive in self.index.archives()}
        try:
            self._fetch_in_process(wanted)
        except PipIndexUnavailable as error:
            logger.debug("Downloading with pip download: %s.", error)
            self._download_in_processes([f"{name}=={version}" for name, version in wanted])
        new = {archive.path for archive in self.index.archives()} - before
        logger.info("Downloaded %s into the local index.", pluralize(len(new), "new archive"))
        self._download_build_requirements(sorted(new))
        return new

    def download_urls(
        self, archives: Sequence[RemoteArchive], check: Callable[[RemoteArchive, Path], None]
    ) -> set[Path]:
        """Download archives by their URLs (a lock file's), ``concurrency`` at a time.

        Each is fetched with pip's session (the user's network options) into a
        private directory, and ``check`` (which raises to refuse it) sees it
        there before it enters the index: a refused or failed archive leaves
        nothing behind. The first failure is raised once every fetch ended.
        Return the new archives.
        """
        if not archives:
            return set()
        self.finders.start()
        jobs = max(1, min(self.concurrency, len(archives)))
        logger.info(
            "Downloading %s of the lock file, %s at a time.",
            pluralize(len(archives), "archive"), jobs,
        )  # fmt: skip
        try:
            with ThreadPoolExecutor(max_workers=jobs) as executor:
                futures = [executor.submit(self._fetch_url, item, check) for item in archives]
            new = {future.result() for future in futures}
        finally:
            self.finders.close()
        logger.info("Downloaded %s into the local index.", pluralize(len(new), "new archive"))
        self._download_build_requirements(sorted(new))
        return new

    def _fetch_url(
        self, archive: RemoteArchive, check: Callable[[RemoteArchive, Path], None]
    ) -> Path:
        """Fetch one archive by its URL, check it, and move it into the index."""
        with PrivateDirectory(self.index.directory, INCOMING_PREFIX) as incoming:
            path = self.finders.for_thread().fetch(archive, incoming)
            check(archive, path)
            self._take(path)
        return self.index.directory / path.name

    def index_trouble(self, name: str) -> str | None:
        """Why the package index cannot be asked about project ``name`` now, with the user's
        options; None when it answered, or when pip's finder cannot be used here (``pip
        download`` then says what is wrong, if anything)."""
        try:
            pip_index = self._make_pip_index()
        except PipIndexUnavailable as error:
            logger.debug("Not asking the package index in process: %s.", error)
            return None
        try:
            return pip_index.trouble(name)
        finally:
            pip_index.close()

    def listings(self, names: Iterable[str]) -> dict[str, Listing]:
        """What the package index lists for each project (by canonical name), asked with
        pip's finder in this process (:meth:`Finders.listings`)."""
        return self.finders.listings(names, self.concurrency)

    def _fetch_in_process(self, pins: list[tuple[str, str]]) -> None:
        """Fetch pins with pip's finder and session, several at once, until one fails.

        A pin that the index lacks, or whose download fails, ends the fetching
        at once: the whole resolution that follows downloads the rest and says
        what is wrong, so a package index that is down costs one wait only.
        """
        self.finders.start()  # fails at once where pip's internals differ
        jobs = max(1, min(self.concurrency, len(pins)))
        logger.info(
            "Downloading %s, %s at a time.", pluralize(len(pins), "pinned requirement"), jobs
        )
        try:
            with ThreadPoolExecutor(max_workers=jobs) as executor:
                list(executor.map(lambda pin: self._fetch_pin(*pin), pins))
        finally:
            self.finders.close()

    def _fetch_pin(self, name: str, version: str) -> None:
        """Fetch one pin into the index, unless another pin failed already."""
        if self.given_up.is_set():
            return
        try:
            archive = self.finders.for_thread().find(name, version)
            if archive is None:
                raise DownloadError(f"The package index has no archive of {name}=={version} here")
            with PrivateDirectory(self.index.directory, INCOMING_PREFIX) as incoming:
                self._take(self.finders.for_thread().fetch(archive, incoming))
        except Exception as error:  # only a faster way: pip download does the rest, and says why
            if not self.given_up.is_set():
                logger.info("%s; pip resolves the whole set next.", error)
                logger.debug("Traceback:", exc_info=True)
            self.given_up.set()

    def _make_pip_index(self) -> PipIndex:
        """pip's finder and session with the user's general, index and binary options."""
        if self.pip_index is None:
            raise PipIndexUnavailable("no finder was handed in")
        return self.pip_index([*self.pip.general, *self._pin_options()])

    def _pin_options(self) -> list[str]:
        """The user's options that apply to downloading pins, requirement files' included."""
        return [
            *pin_options(self.command_line),
            *index_options(self.files),
            *choice_options(self.files),
        ]

    def _take(self, path: Path, announce: bool = True) -> None:
        """Move a downloaded file into the index and, with ``announce``, hand it on.

        A requested sdist that is new to the index is marked as waiting for its
        build back-ends first (pip copies the archives the index has already,
        through ``--find-links``: their back-ends were taken care of before).
        """
        known = (self.index.directory / path.name).exists()
        if announce and not known and not path.name.endswith(".whl"):
            self._pending(path.name).parent.mkdir(exist_ok=True)
            self._pending(path.name).touch()
        with self.lock:
            added = self.index.add(path)
            if added is not None:
                self.added.add(added)
        if added is not None and announce:
            self.on_archive(added)

    def _download_in_processes(self, wanted: list[str]) -> None:
        """Download pins with several ``pip download --no-deps`` at once."""
        jobs = max(1, min(self.concurrency, len(wanted)))
        chunks = [wanted[start::jobs] for start in range(jobs)]
        logger.info(
            "Downloading %s, %s at a time.", pluralize(len(wanted), "pinned requirement"), jobs
        )
        options = self._pin_options()
        with ThreadPoolExecutor(max_workers=jobs) as executor:
            futures = [
                executor.submit(
                    self._download, [*options, *without_dependencies(chunk)], ", ".join(chunk)
                )
                for chunk in chunks
            ]
            for future in futures:
                self._report(future)

    @staticmethod
    def _report(future: "Future[None]") -> None:
        """Log a download of pins that failed; the whole resolution tries again and says why."""
        error = future.exception()
        if isinstance(error, DownloadError):
            logger.info("%s; pip resolves the whole set next.", error)
        elif error is not None:
            raise error

    def _download(self, args: list[str], what: str, announce: bool = True) -> None:
        """Run ``pip download``, trying again when the network fails.

        pip writes into a private directory whose files are then renamed into
        the index, so that a concurrent pip-accel never sees half an archive,
        each with its sha256 recorded (see :meth:`LocalIndex.add`). Archives
        the index has already are taken from it (``--find-links``).
        """
        with PrivateDirectory(self.index.directory, INCOMING_PREFIX) as incoming:
            self._retry(download_command(incoming, self.index.directory, args), what)
            for path in sorted(incoming.iterdir()):
                if path.name not in self.stand_ins:
                    self._take(path, announce)

    def download_build_requirements(self, requirements: list[str]) -> bool:
        """Download requirements that a build's back-end asked for into the local index.

        Whether it worked; a failure is a warning (the build's error follows).
        """
        index = [*self.command_line.tokens(INDEX_DESTS), *index_options(self.files)]
        what = ", ".join(requirements)
        try:
            self._download([*index, "--", *requirements], what, False)
        except DownloadError as error:
            logger.warning("Could not download %s, which a build asked for: %s", what, error)
            return False
        logger.info("Downloaded %s, which a build asked for, into the local index.", what)
        return True

    def download_again(self, archives: Iterable[Path]) -> None:
        """Download once more the archives that were found damaged and moved aside.

        Each is asked for by its name and version, from the user's indexes, so
        that the plan (and builds that need it as a back-end) find it again.
        """
        pins = sorted({pin for pin in map(_pin, archives) if pin})
        if not pins:
            return
        index = [*self.command_line.tokens(INDEX_DESTS), *index_options(self.files)]
        try:
            self._download([*index, *without_dependencies(pins)], ", ".join(pins))
        except DownloadError as error:
            logger.warning("Could not download %s again: %s", ", ".join(pins), error)

    def _retry(self, command: list[str], what: str) -> None:
        """Run pip until it succeeds, up to ``retries`` more times when the network fails."""
        for attempt in range(1, self.retries + 2):
            try:
                self.pip.run(command)
                return
            except PipFailedError as error:
                if attempt > self.retries or not is_network_trouble(error.output):
                    raise DownloadError(
                        f"Could not download {what}: {error}", error.output
                    ) from error
                logger.warning(
                    "Downloading %s failed (attempt %d of %d): %s; trying again.",
                    what, attempt, self.retries + 1, error,
                )  # fmt: skip

    def _pending(self, name: str) -> Path:
        """The mark of an sdist whose build back-ends are yet to be downloaded."""
        return self.index.directory / PENDING_BACK_ENDS / name

    def finish_pending(self) -> None:
        """Download the build back-ends that a killed run left undownloaded."""
        try:
            names = os.listdir(self.index.directory / PENDING_BACK_ENDS)
        except OSError:
            return
        sdists = [self.index.directory / name for name in sorted(names)]
        present = [path for path in sdists if path.exists()]
        if present:
            logger.info("Downloading the build requirements an interrupted run left out.")
            self._download_build_requirements(present)
        for path in sdists:
            if not path.exists():
                self._pending(path.name).unlink(missing_ok=True)

    def _download_build_requirements(self, sources: list[Path]) -> None:
        """Keep the build back-ends of new sdists and of source trees in the local index.

        Each set of build requirements is one ``pip download``, up to
        ``concurrency`` of them at once.
        """
        wanted: dict[tuple[str, ...], list[Path]] = {}
        for source in sources:
            if not source.name.endswith(".whl"):
                wanted.setdefault(build_requirements(source), []).append(source)
        jobs = max(1, min(self.concurrency, len(wanted)))
        with ThreadPoolExecutor(max_workers=jobs) as executor:
            list(executor.map(lambda item: self._download_back_ends(*item), wanted.items()))

    def _download_back_ends(self, requirements: tuple[str, ...], sdists: list[Path]) -> None:
        """Download one set of build requirements, for these sdists; a failure is a warning."""
        index = [*self.command_line.tokens(INDEX_DESTS), *index_options(self.files)]
        try:
            # Build back-ends are not installed: no need to unpack them now.
            self._download([*index, "--", *requirements], "the build requirements", False)
        except DownloadError as error:
            names = ", ".join(path.name for path in sdists)
            logger.warning(
                "Could not keep the build requirements of %s in the local index (%s);"
                " building them will need the network.", names, error,
            )  # fmt: skip
            return
        for path in sdists:
            self._pending(path.name).unlink(missing_ok=True)


def _pin(path: Path) -> str | None:
    """The requirement ``name==version`` of an archive, or None when its name does not say."""
    name_and_version = Archive(path).name_and_version()
    return "==".join(name_and_version) if name_and_version else None


def source_trees(command_line: CommandLine) -> list[Path]:
    """The local project directories on the command line: editables and arguments."""
    values = [*(command_line.options.editables or []), *command_line.arguments]
    paths = [Path(re.sub(r"\[[^]]*\]$", "", value)) for value in values]
    return [path for path in paths if path.is_dir()]
