"""The order of the steps of an accelerated install, and nothing else.

stored plan, or plan with pip (:mod:`pip_accel.plan.planner`: fetch the pins the
local index lacks, offline against the local index, download what is missing,
plan again, build each sdist without a cached wheel) -> unpack each wheel
without a tree (in the background, as wheels arrive) -> install each tree as
soon as it is there -> hand editables and source trees to pip. Each step lives
in its own module.
"""

import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from humanfriendly import Timer
from humanfriendly.text import pluralize

from pip_accel.builds.settings import BuildSettings
from pip_accel.datadir.lock import DataLock
from pip_accel.exceptions import ChangedTreeFileError, DamagedTreeError, InstallError
from pip_accel.install.installer import InstallOptions, WheelInstaller, check_tree
from pip_accel.install.manifest import UnpackedTree
from pip_accel.install.transaction import environment_lock, recover
from pip_accel.install.tree_copies import looks_copied, mend_copy
from pip_accel.install.trees import TreeStore
from pip_accel.install.unpacker import BackgroundUnpacker
from pip_accel.install.wheel_digests import WheelDigests
from pip_accel.pip.commands import install_command, only_from
from pip_accel.pip.lock_files import only_lock_files
from pip_accel.pip.requirements import names_remote_files, names_source_trees
from pip_accel.plan.freshness import FreshnessRecord, fresh_plan
from pip_accel.plan.plan import PlannedDistribution, PlannedWheel
from pip_accel.plan.stored import PlanCache
from pip_accel.report.progress import Progress
from pip_accel.report.summary import Summary
from pip_accel.request import InstallRequest

if TYPE_CHECKING:  # imported when a run has no stored plan
    from pip_accel.caches.binary_cache import BinaryCache
    from pip_accel.fleet.fleet import Fleet

logger = logging.getLogger(__name__)


class StoredPlanOnly(Exception):
    """A warm start found no stored plan to answer: the run starts again on the normal path."""


class PipAccelerator:
    """Runs one ``pip-accel install``."""

    def __init__(
        self, request: InstallRequest, progress: Progress | None = None, stored_only: bool = False
    ) -> None:
        """Prepare the install ``request`` asks for, counting its work in ``progress``.

        ``stored_only``: a warm start (:mod:`pip_accel.cli.fast_start`), which only
        a fresh stored plan may answer; otherwise :class:`StoredPlanOnly` is
        raised before anything is changed.
        """
        self.request = request
        self.stored_only = stored_only
        self.plan_kept = False
        """Whether the run installed from a stored plan or stored the plan it made."""
        config, command_line, target = request.config, request.command_line, request.target
        self.config = config
        self.command_line = command_line
        self.target = target
        self.pip = request.pip
        self.summary = Summary()
        self.fleet: Fleet | None = None
        """The fleet's shared plans and trees, when a cache backend shares them."""
        self.cache: BinaryCache | None = None
        self.plans: PlanCache | None = None
        self.used: list[PlannedWheel] = []
        """The wheels the run installed (or handed to pip), for their last use."""
        self.settings = BuildSettings.of(command_line, os.environ, config.build_environment)
        """What the builds of this run are made with, part of their cache key."""
        self.progress = progress
        self.trees = TreeStore(config.tree_cache, target, WheelDigests.of(config))
        if progress is not None:
            self.trees.listeners.append(progress.compiled)
        self.unpacker: BackgroundUnpacker | None = None
        """Unpacks wheels while the plan is made, when the run installs them itself."""
        self.absent: dict[Path, PlannedWheel] = {}
        """The wheels the plan names by their sha256 alone (their trees came from the fleet)."""
        self.trees.fetch_wheel = self._bring

    def install(self) -> Summary:
        """Plan (or reuse a plan), download, build and install; return what was done.

        Every install shares the data directory's lock, which a run must hold
        alone to remove entries (:mod:`pip_accel.datadir.lock`); at the end it
        records what it used and keeps the size bound (:mod:`pip_accel.upkeep.eviction`).
        """
        with DataLock(self.config.data_directory).shared():
            summary = self._run()
        self._record_use()
        return summary

    def _run(self) -> Summary:
        """Plan (or reuse a plan), download, build and install; return what was done.

        Runs into one environment take turns, and each first finishes what
        interrupted runs left half done there (:mod:`pip_accel.install.transaction`),
        so that it plans for the environment as it really is.
        """
        timer = Timer()
        try:
            if self.command_line.options.dry_run:  # the target stays as it is
                wheels, handed_to_pip = self._described_plan()
            elif self.command_line.options.target_dir:
                wheels, handed_to_pip = self._described_plan()
                if wheels:
                    self._hand_wheels_to_pip(wheels)
            else:
                installer = self._installer()
                libraries = installer.libraries()
                with environment_lock(self.config.lock_directory, libraries[0]):
                    recover(libraries)
                    wheels, handed_to_pip = self._described_plan()
                    self._install(installer, wheels)
        except BaseException:
            if self.unpacker is not None:
                self.unpacker.stop()
            if self.fleet is not None:
                self.fleet.abandon()
            raise
        if self.fleet is not None:
            self.summary.uploaded = self.fleet.finish()
        self.used = wheels
        if self.command_line.options.dry_run:
            return self.summary
        if not wheels and not handed_to_pip:
            logger.info("Nothing to do: every requirement is installed already.")
            return self.summary
        self._hand_to_pip(handed_to_pip)
        logger.info(self.summary.describe(timer.elapsed_time))
        return self.summary

    def _record_use(self) -> None:
        """Record the plan, wheels and trees this run used; keep the data directory bound."""
        from pip_accel.upkeep.entries import DataDirectory, run_entries
        from pip_accel.upkeep.eviction import after_install

        data = DataDirectory(self.config.data_directory)
        tree_of = self.trees.location
        wheels = [Path(item.wheel) for item in self.used]
        used = run_entries(data, wheels, tree_of, self.plans.path() if self.plans else None)
        after_install(data, used, self.config.max_cache_size, time.time())

    def _described_plan(self) -> tuple[list[PlannedWheel], list[PlannedDistribution]]:
        """The plan (see :meth:`_plan`), described first as ``--dry-run`` and ``--report`` ask."""
        wheels, handed_to_pip = self._plan()
        self.absent = {Path(item.wheel): item for item in wheels if item.absent}
        for item in wheels:
            if item.sha256 is not None:
                self.trees.digests.expect(Path(item.wheel), item.sha256)
        options = self.command_line.options
        if options.dry_run or options.json_report_file:
            from pip_accel.plan.dry_run import describe  # only then

            describe(self.request, wheels, handed_to_pip, self.progress)
        return wheels, handed_to_pip

    def _plan(self) -> tuple[list[PlannedWheel], list[PlannedDistribution]]:
        """The wheels to install and what to hand to pip: from a stored plan, or from pip."""
        plans = self.plans = self._plan_cache()
        stored = plans.load() if plans else None
        if stored is not None and self._fresh(stored) and self._trees_of_absent(stored):
            logger.info("Using the plan of an earlier run with the same requirements and target.")
            self.plan_kept = True
            return stored, self._local_projects()
        if self.stored_only:
            raise StoredPlanOnly()
        self._load_backends()  # only when there is no stored plan: boto3 is slow to import
        if plans and self.fleet:
            shared = self.fleet.plan(plans.shared_key(), self._needs_wheels())
            if shared is not None and self._fresh(shared):
                plans.store(shared)
                self.plan_kept = True
                return shared, self._local_projects()
        from pip_accel.plan.planner import Planner  # only when there is no usable plan
        from pip_accel.plan.stand_ins import stand_ins

        options = self.command_line.options
        if not (options.target_dir or options.dry_run):  # with --target, pip installs them
            self.unpacker = BackgroundUnpacker(self.trees)
        with stand_ins(self.request) as local:  # local projects planned without a build
            planner = Planner.for_request(
                local.request, self.summary, self.cache, self.settings, self._on_archive,
                self.progress,
            )  # fmt: skip
            planner.downloader.stand_ins = local.names
            outcome = local.restore(planner.plan())
        if plans and outcome.reusable:
            plans.store(outcome.wheels)
            self.plan_kept = True
            if self.fleet:
                self.fleet.share(plans.shared_key(), outcome.wheels)
        return outcome.wheels, outcome.handed_to_pip

    def _fresh(self, plan: list[PlannedWheel]) -> bool:
        """Whether a stored plan may answer: the package index was asked about each of its
        projects within ``index-ttl`` and listed nothing it would take instead, or the user
        pinned it (:mod:`pip_accel.plan.freshness`)."""
        if only_lock_files(self.command_line):  # a lock file never asks the package index
            return True
        planned = [(item.name, item.version) for item in plan if item.direct_url is None]
        return fresh_plan(FreshnessRecord.of(self.config), planned, self.command_line)

    def _needs_wheels(self) -> bool:
        """Whether the run needs the wheel files, not only their trees: it hands them to pip
        (``--target``) or reads their metadata (``--dry-run``, ``--report``)."""
        options = self.command_line.options
        return bool(options.dry_run or options.json_report_file or options.target_dir)

    def _trees_of_absent(self, plan: list[PlannedWheel]) -> bool:
        """Whether every wheel the plan names by its sha256 alone still has its tree here (one
        ``stat`` each: a tree removed since, by ``max-cache-size``, would need its wheel), and
        the run needs no wheel file; otherwise the fleet's plan brings the wheels."""
        if self._needs_wheels() and any(item.absent for item in plan):
            return False
        return all(
            self.trees.location(Path(item.wheel), item.sha256).is_dir()
            for item in plan
            if item.absent and item.sha256 is not None
        )

    def _bring(self, wheel: Path) -> None:
        """Fetch a wheel the plan names by its sha256 alone, now that it is needed to unpack
        its tree again (found damaged); the fleet is loaded for it if need be."""
        item = self.absent.get(wheel)
        if item is None or wheel.exists():
            return
        if self.cache is None:
            self._load_backends()
        if self.fleet is None or not self.fleet.bring(item):
            raise InstallError(
                f"The wheel {wheel.name} is not in the data directory and the shared cache could"
                " not give it; run again, which plans anew."
            )

    def _on_archive(self, archive: Path) -> None:
        """Count a downloaded archive, and unpack it now when it is a wheel."""
        if self.progress is not None:
            self.progress.downloaded(archive)
        if self.unpacker is not None:
            self.unpacker.add(archive)

    def _load_backends(self) -> None:
        """The binary cache's backends, and the fleet when one of them shares plans and trees."""
        from pip_accel.caches import load_backends
        from pip_accel.caches.binary_cache import BinaryCache
        from pip_accel.fleet.fleet import Fleet

        self.cache = BinaryCache(load_backends(self.config))
        if self.cache.shared:
            self.fleet = Fleet(self.cache, self.config, self.target, self.trees)

    def _plan_cache(self) -> PlanCache | None:
        """The plan cache for this command line and target, if its plan can be reused.

        Not with ``-U`` (which asks the index), nor when the plan depends on
        files pip-accel does not read: requirement files named by URL, and the
        source trees and URLs whose dependencies alone ``--only-deps`` installs.
        A local project with static metadata counts by that metadata.
        """
        options = self.command_line.options
        if options.upgrade or names_remote_files(self.command_line):
            return None
        if getattr(options, "only_dependencies", False) and names_source_trees(self.command_line):
            return None
        command_line = self.command_line
        if names_source_trees(command_line):
            from pip_accel.plan.stand_ins import keyed  # only for local projects

            command_line = keyed(self.request)
        sources = self.config.source_index
        return PlanCache(
            self.config.plan_cache, sources, command_line, self.target,
            self.settings.environment,
        )  # fmt: skip

    def _local_projects(self) -> list[PlannedDistribution]:
        """The local projects that a stored plan leaves to pip (none for most runs)."""
        if not names_source_trees(self.command_line):
            return []
        from pip_accel.plan.stand_ins import handed_to_pip

        return handed_to_pip(self.request)

    def _installer(self) -> WheelInstaller:
        """pip-accel's own installer, with the user's install options."""
        options = self.command_line.options
        return WheelInstaller(
            self.target,
            InstallOptions(
                user=bool(options.use_user_site),
                prefix=options.prefix_path,
                root=options.root_path,
                compile=options.compile,
                ignore_installed=options.ignore_installed,
                link_mode=self.config.link_mode,
            ),
        )

    def _install(self, installer: WheelInstaller, wheels: list[PlannedWheel]) -> None:
        """Install each wheel with pip-accel's own installer, in pip's order.

        A wheel is installed as soon as its tree is there: while the background
        unpacker compiles the others, when this run planned. A tree found
        damaged (a file gone or changed) is unpacked again from its wheel and
        the install goes on. ``--force-reinstall`` checks the hash of every
        file of each tree first.
        """
        paths = [Path(item.wheel) for item in wheels]
        store = self.trees
        if self.unpacker is not None:
            self.unpacker.prioritize(paths)  # install order: the first trees come first
            for path in paths:  # built wheels too, into the same stream
                self.unpacker.add(path)
            self.unpacker.close()
            trees = {}
        else:
            trees = store.trees_for(paths)  # the missing ones in one batch
        verify = bool(self.command_line.options.force_reinstall)
        for item, path in zip(wheels, paths, strict=True):
            tree = trees.get(path) or self._tree(path)
            if looks_copied(tree):  # one stat: mend it now rather than undo a failed install
                mend_copy(tree)
            logger.info("Installing %s from %s.", item, tree.wheel_name)
            try:
                if verify:
                    check_tree(tree)
                installer.install(tree, item.name, item.requested, item.direct_url)
            except DamagedTreeError as error:
                tree = self._repaired(tree, path, error)
                installer.install(tree, item.name, item.requested, item.direct_url)
            self.summary.installed += 1
        if self.unpacker is not None:
            self.unpacker.finish()
        if self.fleet is not None and wheels:
            trees = store.trees_for(paths)
            unpacked = [wheel for wheel in store.unpacked if wheel in trees]
            self.fleet.share_trees({wheel: trees[wheel] for wheel in unpacked})

    def _repaired(self, tree: UnpackedTree, wheel: Path, error: DamagedTreeError) -> UnpackedTree:
        """A tree that failed its check, usable again: only copied (its files have new times,
        their contents are the wheel's), or else unpacked again from its wheel."""
        if isinstance(error, ChangedTreeFileError) and mend_copy(tree):
            return tree
        logger.warning("%s Unpacking %s again.", error, tree.wheel_name)
        return self.trees.replace(wheel)

    def _tree(self, wheel: Path) -> UnpackedTree:
        """The tree of ``wheel`` once the background unpacker published it (or unpacked now)."""
        if self.unpacker is not None:
            self.unpacker.wait(wheel)
        return self.trees.trees_for([wheel])[wheel]

    def _hand_wheels_to_pip(self, wheels: list[PlannedWheel]) -> None:
        """Let pip install the wheels, for ``--target``, as pinned requirements.

        Pins on a private ``--find-links`` directory, rather than paths, keep
        pip from recording a direct reference to pip-accel's binary cache.
        """
        with tempfile.TemporaryDirectory(prefix="pip-accel-wheels-") as directory:
            for item in wheels:
                wheel = Path(item.wheel)
                (Path(directory) / wheel.name).symlink_to(wheel)
            pins = [f"{item.name}=={item.version}" for item in wheels]
            args = [*only_from(directory), *pins]
            self._pip_install(args, len(pins), by_pip=False)  # pip copies what pip-accel made

    def _hand_to_pip(self, items: list[PlannedDistribution]) -> None:
        """Let pip install editables and other source trees, after the rest."""
        if items:
            requirements = [argument for item in items for argument in item.pip_requirement]
            self._pip_install(
                ["--find-links", str(self.config.source_index), *requirements], len(items)
            )

    def _pip_install(self, args: list[str], count: int, by_pip: bool = True) -> None:
        """Run ``pip install --no-deps`` with the user's install options and ``args``.

        ``by_pip``: whether the summary counts the distributions as pip's own
        (source trees it builds) rather than wheels pip-accel prepared.
        """
        logger.info("Handing %s to pip.", pluralize(count, "distribution"))
        self.pip.run(install_command(self.command_line, args))
        self.summary.installed += count
        self.summary.by_pip += count if by_pip else 0
