"""Making a plan with pip: fetch pins, resolve offline, download what is missing, build.

This is the part of an install that a stored plan skips (see
:mod:`pip_accel.plan.stored`), so :mod:`pip_accel.accelerator` imports it only when
it needs it: a warm run loads none of the download, build, cache backend and
system package code.
"""

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from humanfriendly.text import pluralize
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pip_accel.builds.settings import BuildSettings
from pip_accel.caches import CacheKey
from pip_accel.datadir.layout import BUILD_PREFIX, INCOMING_PREFIX
from pip_accel.datadir.scratch import PrivateDirectory, remove_leftovers
from pip_accel.exceptions import DownloadError, PipFailedError
from pip_accel.pip.commands import plan_arguments
from pip_accel.pip.format_choice import FormatChoice
from pip_accel.pip.lock_files import only_lock_files
from pip_accel.pip.output import (
    INCOMPLETE,
    MISSING_PROJECT,
    is_network_trouble,
    shortfall,
)
from pip_accel.pip.requirements import (
    exact_requirements,
    names_projects_only,
    names_remote_files,
    pins,
    uses_hashes,
)
from pip_accel.plan.freshness import Staleness
from pip_accel.plan.parts import PlannerParts
from pip_accel.plan.pinned import pinned_plan
from pip_accel.plan.plan import Outcome, Plan, PlannedDistribution, PlannedWheel
from pip_accel.plan.retries import with_build_requirements
from pip_accel.report.reporter import Reporter
from pip_accel.request import InstallRequest
from pip_accel.sources.local_index import Archive, IndexView

logger = logging.getLogger(__name__)
T = TypeVar("T")


MAX_SHARED_ROUNDS = 50
"""How often the source archives of the cache backends are asked, one dependency level each."""


class Planner:
    """Makes the plan of one install, downloading and building what it needs."""

    def __init__(
        self,
        request: InstallRequest,
        parts: PlannerParts,
        reporter: Reporter,
        settings: BuildSettings | None = None,
    ) -> None:
        """Plan ``request`` with ``parts`` (made by :mod:`pip_accel.parts`); tell ``reporter``
        which wheels of the plan this run built or downloaded.

        ``settings``: what builds are made with (none when not given).
        """
        self.command_line = request.command_line
        self.target = request.target
        self.pip = request.pip
        self.reporter = reporter
        self.index = parts.index
        self.cache = parts.cache
        self.downloader = parts.downloader
        self.builder = parts.builder
        self.system_packages = parts.system_packages
        self.scratch = parts.scratch
        self.freshness = parts.freshness
        self.files = request.requirements
        """What the requirement files say, read once."""
        self.hashes = uses_hashes(request.command_line, self.files)
        self.settings = settings or BuildSettings()
        self.new_archives: set[Path] = set()
        """The archives downloaded during this run."""
        self.shared: set[Path] = set()
        """The downloaded archives given to the cache backends."""
        self.guessed = False
        """Whether the plan holds pre-releases because the index could not be asked."""

    def plan(self) -> Outcome:
        """Plan (downloading and building as needed), with a retry for system packages.

        What killed runs left in the local index and the scratch directory goes
        first, and archives of the local index that are not what was
        downloaded are moved aside and downloaded again.
        """
        remove_leftovers(self.index.directory, (INCOMING_PREFIX,))
        remove_leftovers(self.scratch, (BUILD_PREFIX,))
        self.index.verify()
        self.downloader.finish_pending()
        if self.index.moved_aside:
            self.downloader.download_again(self.index.moved_aside)
        if only_lock_files(self.command_line):
            from pip_accel.plan.locked import LockPlanner  # only for lock files

            return self._with_build_requirements(LockPlanner(self).plan)
        plan, view = self._with_build_requirements(self._plan)
        wheels = self._with_build_requirements(lambda: self._wheels(plan, view))
        # Once more: a pip that a killed run left behind may have written since the first time.
        remove_leftovers(self.scratch, (BUILD_PREFIX,))
        return Outcome(wheels, plan.handed_to_pip, self._reusable(plan))

    def _reusable(self, plan: Plan) -> bool:
        """Whether the plan may be stored: nothing of it was left to pip or a guess."""
        stand_ins = self.downloader.stand_ins  # local projects, handed to pip at the end
        direct = any(item.is_direct and not (item.local_path and item.local_path.name in stand_ins)
                     for item in plan.distributions)  # fmt: skip
        return not (direct or plan.handed_to_pip or self.guessed)

    def _with_build_requirements(self, step: Callable[[], T]) -> T:
        """Run a step again while its builds lack requirements or system packages
        (:func:`~pip_accel.plan.retries.with_build_requirements`)."""
        return with_build_requirements(step, self.downloader, self.system_packages)

    def _plan(self) -> tuple[Plan, IndexView]:
        """Resolve offline; when the local index falls short, fill it and resolve again.

        It is filled from the package index; when that cannot be reached,
        from the source archives that the cache backends keep (a shared cache
        of the fleet), by the names of the projects pip misses.
        """
        upgrade = self.command_line.options.upgrade
        if not upgrade and not self.hashes:
            self._download_pins()
        offline = None if upgrade or not self._may_resolve_offline() else self._resolve_offline()
        stale = self._stale(offline[0]) if offline else None
        if offline and not stale and (self.command_line.options.pre or not offline[0].prereleases):
            self.share_sources()
            return offline
        trouble = self.downloader.index_trouble(stale.projects[0]) if stale else None
        try:
            if trouble:
                raise DownloadError(f"Could not ask the package index: {trouble}")
            self.new_archives |= self._download()
        except DownloadError as error:
            if stale and not (trouble or is_network_trouble(error.output)):
                raise
            if offline is None and not upgrade:
                offline = self._from_shared_sources(error)
                if offline is not None:
                    logger.warning(
                        "Planned with the source archives of the shared cache: the package"
                        " index could not be asked (%s).", error,
                    )  # fmt: skip
            elif stale:
                stale.warn_unanswered(error)
            elif offline is not None:
                logger.warning("Using the pre-releases of the local index: %s", error)
            if offline is None:
                raise
            self.guessed = True
            return offline
        self.share_sources()
        self._prepare(self.new_archives)
        return self._asked(self._resolve())

    def _download(self) -> set[Path]:
        """Download what the requirements need; return the new archives.

        Where every requirement names a project and no cache is remote (pip
        wheel sees no bucket's wheels), ``pip wheel`` downloads and builds the
        new sdists, each in the one build environment that prepared its
        metadata, into the binary cache; otherwise (or when that fails)
        ``pip download`` fetches, and the builder builds afterwards.
        """
        unseen = self.hashes or self.cache.remote  # what pip wheel's view cannot honour
        if unseen or not names_projects_only(self.command_line, self.files):
            return self.downloader.download()
        with (
            self.builder.whole_set_lock(),
            self.index.view(self.cache, self._namespace, True) as view,
            PrivateDirectory(self.scratch, BUILD_PREFIX) as wheels,
        ):
            done = self.downloader.download_building(view, wheels)
            if done is None:
                return self.downloader.download()
            new, built = done
            for sdist, wheel in built.items():
                if (pin := Archive(sdist).name_and_version()) is not None:
                    self.builder.adopt(self.cache_key(*pin, sdist), wheel)
        return new

    def _stale(self, plan: Plan) -> Staleness | None:
        """What of a plan from the local index alone the package index must be asked about."""
        if self.freshness is None:
            return None
        planned = [(item.name, item.version) for item in plan.distributions if not item.is_direct]
        stale = self.freshness.stale(planned, self.command_line, self.files)
        if stale:
            logger.info("Asking the package index: %s.", stale.reason())
        return stale

    def _asked(self, planned: tuple[Plan, IndexView]) -> tuple[Plan, IndexView]:
        """Record the projects of a plan made after asking the package index as fresh, with
        what the index lists for those the user did not pin."""
        if self.freshness is not None:
            items = [(item.name, item.version) for item in planned[0].distributions
                     if not item.is_direct]  # fmt: skip
            pinned = {name for name, _ in pins(self.command_line, self.files)}
            loose = [name for name, _ in items if canonicalize_name(name) not in pinned]
            listings = self.downloader.listings(loose) if loose else {}
            self.freshness.record_answer(items, self.command_line, self.files, listings)
        return planned

    def share_sources(self) -> None:
        """Give the archives downloaded so far to the cache backends, each once."""
        self.cache.put_sources(self.downloader.added - self.shared)
        self.shared |= self.downloader.added

    def _download_pins(self) -> None:
        """Download the pinned requirements the local index lacks, in parallel, and build them.

        A set of pins (a lock file) then plans offline at once, without a
        resolution against the package index; what the pins leave out, that
        resolution fetches. Not in hash-checking mode, where pip's own
        download checks each archive's hash.
        """
        missing = self._missing_pins()
        if missing:
            new = self.downloader.download_pins(missing)
            self.new_archives |= new
            self._prepare(new)

    def _missing_pins(self) -> list[tuple[str, str]]:
        """The requirements on one version of which the local index has no archive pip
        may take (a wheel for another Python, or one that ``--no-binary`` refuses, does
        not count)."""
        choice = FormatChoice.of(self.command_line, self.files)
        tags = set(self.target.tags)
        archives = [archive for archive in self.index.archives() if archive.usable(choice, tags)]
        have = {
            _version_key(*found) for archive in archives if (found := archive.name_and_version())
        }
        wanted = pins(self.command_line, self.files)
        return [pin for pin in wanted if _version_key(*pin) not in have]

    def _may_resolve_offline(self) -> bool:
        """Whether the local index may satisfy the requirements: it is not empty, lacks no pin."""
        if not self.index.archives():
            logger.info("The local index is empty: asking the package index.")
            return False
        missing = self._missing_pins()
        if missing:
            names = ", ".join(f"{name}=={version}" for name, version in missing)
            logger.info("The local index lacks %s: asking the package index.", names)
        return not missing

    def _resolve_offline(self) -> tuple[Plan, IndexView] | None:
        """The plan the local index alone gives, or None when it lacks distributions.

        pip takes a pre-release when no final release matches, so a plan with
        pre-releases (and no ``--pre``) may only mean that the local index has
        not seen the final release: the package index is asked then too.
        """
        try:
            plan, view = self._resolve()
        except PipFailedError as error:
            if not any(phrase in error.output for phrase in INCOMPLETE):
                raise
            logger.debug("pip's answer from the local index alone:\n%s", error.output.rstrip())
            logger.info("%s: asking the package index.", shortfall(error.output))
            return None
        if plan.prereleases and not self.command_line.options.pre:
            names = ", ".join(map(str, plan.prereleases))
            logger.info("The local index offers pre-releases (%s); asking the index too.", names)
        return plan, view

    def _from_shared_sources(self, error: DownloadError) -> tuple[Plan, IndexView] | None:
        """Plan with the source archives of the cache backends, the package index being down.

        pip names the project it misses; its archives are fetched by name, and
        pip asked again, until it misses nothing or a project no backend has.
        """
        missing = error
        for _ in range(MAX_SHARED_ROUNDS):
            projects = MISSING_PROJECT.findall(missing.output)
            fetched = self.cache.get_sources(self.index.directory, projects) if projects else []
            if not fetched:
                return None
            for path in fetched:
                self.index.record(path)
            try:
                return self._resolve()
            except PipFailedError as again:
                if not any(phrase in again.output for phrase in INCOMPLETE):
                    raise
                missing = DownloadError(str(again), again.output)
        return None

    def _prepare(self, archives: Iterable[Path]) -> None:
        """Get wheels for new sdists before resolving again.

        pip then sees their wheels and does not prepare their metadata once more.
        """
        if not self.hashes:
            self.builder.wheels_for(self._keys(Archive(path) for path in archives))

    def _keys(self, archives: Iterable[Archive]) -> dict[CacheKey, Path]:
        """The cache keys of those sdists whose file names tell name and version."""
        keys = {}
        for archive in archives:
            name_and_version = None if archive.is_wheel else archive.name_and_version()
            if name_and_version:
                keys[self.cache_key(*name_and_version, archive.path)] = archive.path
        return keys

    def _namespace(self, project: str) -> str:
        """The cache namespace of a project's builds: the platform's and the build settings'."""
        return self.settings.namespace(self.target.namespace, project)

    def cache_key(self, name: str, version: str, sdist: Path) -> CacheKey:
        """The binary cache key of the wheel built from an sdist of the local index."""
        return CacheKey(self._namespace(name), name, version, self.index.sha256(sdist))

    def _resolve(self) -> tuple[Plan, IndexView]:
        """Ask pip for a plan against the local index only, with no network."""
        with self.index.view(self.cache, self._namespace, not self.hashes) as view:
            plan = None if self.hashes else self._pinned_plan(view)
            if plan is None:
                # In the environment to override pip's configuration files; on the
                # command line for pip's --isolated mode, which ignores the environment.
                env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(view.page)}
                report = self.pip.report(plan_arguments(self.command_line, view.page), env)
                plan = Plan.from_report(report)
        logger.debug("The plan: %s.", ", ".join(map(str, plan.distributions)) or "nothing")
        return plan, view

    def _pinned_plan(self, view: IndexView) -> Plan | None:
        """The plan of a set of pins from its wheels' metadata, when pip has no choice to
        make (see :mod:`pip_accel.plan.pinned`); None when pip must make it."""
        requirements = exact_requirements(self.command_line, self.files)
        if requirements is None or names_remote_files(self.command_line, self.files):
            return None
        choice, tags = FormatChoice.of(self.command_line, self.files), self.target.tags
        fitting = set(tags)
        wheels = [view.directory / name for name in view.entries if name.endswith(".whl")
                  and Archive(view.directory / name).usable(choice, fitting)]  # fmt: skip
        plan = pinned_plan(requirements, self.command_line.options, wheels, self.target.info, tags)
        if plan is not None:
            logger.info(
                "Planned %s from their metadata: every requirement is pinned.",
                pluralize(len(plan), "wheel"),
            )
        return plan

    def _wheels(self, plan: Plan, view: IndexView) -> list[PlannedWheel]:
        """The wheel of every planned archive, building the sdists that have none yet."""
        wheels: dict[PlannedDistribution, Path] = {}
        pending: dict[PlannedDistribution, tuple[CacheKey, Path]] = {}
        for item in plan.archives:
            archive, wheel = self._source(item, view)
            if wheel is not None:
                wheels[item] = wheel
            else:
                pending[item] = (self.cache_key(item.name, item.version, archive), archive)
        built = self.builder.wheels_for(dict(pending.values()))
        wheels.update({item: built[key] for item, (key, _) in pending.items()})
        self._count(wheels, view)
        return [PlannedWheel.of(item, wheels[item]) for item in plan.archives]

    def _source(self, item: PlannedDistribution, view: IndexView) -> tuple[Path, Path | None]:
        """The archive of a planned item, and its wheel when there is one without building."""
        path = item.local_path
        assert path is not None  # planned archives are local files
        entry = view.lookup(path.name) if path.parent == view.directory else None
        archive = entry.archive if entry else path
        if entry and entry.wheel:
            return archive, entry.wheel
        return archive, archive if archive.name.endswith(".whl") else None

    def _count(self, wheels: dict[PlannedDistribution, Path], view: IndexView) -> None:
        """Tell built and downloaded distributions apart, for the summary."""
        for item, wheel in wheels.items():
            path = item.local_path
            entry = view.lookup(path.name) if path else None
            if wheel in self.builder.built:
                self.reporter.wheel_planned(wheel, "built")
            elif (entry.archive if entry else path) in self.new_archives:
                self.reporter.wheel_planned(wheel, "downloaded")


def _version_key(name: str, version: str) -> tuple[str, Version | str]:
    """A project's name and version in a form that compares equal when pip's do (1.0 = 1.0.0)."""
    try:
        return canonicalize_name(name), Version(version)
    except InvalidVersion:
        return canonicalize_name(name), version
