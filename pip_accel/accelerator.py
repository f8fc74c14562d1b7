"""The order of the steps of an accelerated install, and nothing else.

stored plan, or plan with pip (:mod:`pip_accel.plan.planner`: fetch the pins the
local index lacks, offline against the local index, download what is missing,
plan again, build each sdist without a cached wheel) -> unpack each wheel
without a tree (in the background, as wheels arrive) -> install each tree as
soon as it is there -> hand editables and source trees to pip. Each step lives
in its own module, and :mod:`pip_accel.parts` makes the parts they use: each step
takes what it needs and returns what it makes.
"""

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from humanfriendly import Timer
from humanfriendly.text import pluralize

from pip_accel.datadir.lock import DataLock
from pip_accel.exceptions import ChangedTreeFileError, DamagedTreeError
from pip_accel.install.installer import WheelInstaller, check_tree
from pip_accel.install.manifest import UnpackedTree
from pip_accel.install.transaction import environment_lock, recover
from pip_accel.install.tree_copies import looks_copied, mend_copy
from pip_accel.install.unpacker import BackgroundUnpacker
from pip_accel.parts import InstallParts
from pip_accel.pip.commands import install_command, only_from
from pip_accel.pip.lock_files import only_lock_files
from pip_accel.pip.requirements import names_source_trees
from pip_accel.plan.freshness import fresh_plan
from pip_accel.plan.plan import PlannedDistribution, PlannedWheel
from pip_accel.report.summary import Summary

logger = logging.getLogger(__name__)


class StoredPlanOnly(Exception):
    """A warm start found no stored plan to answer: the run starts again on the normal path."""


@dataclass(frozen=True)
class ChosenPlan:
    """What the plan step gives the install step: the plan, and how it was come by."""

    wheels: list[PlannedWheel]
    """The wheels to install, in pip's order."""
    handed_to_pip: list[PlannedDistribution]
    """What pip installs after them (editables, source trees)."""
    kept: bool = False
    """Whether a stored plan answered, or the plan made was stored."""
    unpacker: BackgroundUnpacker | None = None
    """The background unpacker started while the plan was made, when the run installs the
    wheels itself; it has the wheels downloaded so far."""


@dataclass(frozen=True)
class Installed:
    """What an install did, and whether its plan was kept (the next run may start warm)."""

    summary: Summary
    plan_kept: bool


class PipAccelerator:
    """Runs one ``pip-accel install`` with the parts made for its request."""

    def __init__(self, parts: InstallParts, stored_only: bool = False) -> None:
        """Prepare the install of ``parts``' request (:mod:`pip_accel.parts`).

        ``stored_only``: a warm start (:mod:`pip_accel.cli.fast_start`), which only
        a fresh stored plan may answer; otherwise :class:`StoredPlanOnly` is
        raised before anything is changed.
        """
        self.parts = parts
        self.request = parts.request
        self.config = parts.request.config
        self.command_line = parts.request.command_line
        self.reporter = parts.reporter
        self.stored_only = stored_only

    def install(self) -> Installed:
        """Plan (or reuse a plan), download, build and install; return what was done.

        Every install shares the data directory's lock, which a run must hold
        alone to remove entries (:mod:`pip_accel.datadir.lock`); at the end it
        records what it used and keeps the size bound (:mod:`pip_accel.upkeep.eviction`).
        """
        with DataLock(self.config.data_directory).shared():
            chosen = self._run()
        self._record_use(chosen.wheels)
        return Installed(self.parts.summary, chosen.kept)

    def _run(self) -> ChosenPlan:
        """Plan (or reuse a plan), download, build and install; return the plan.

        Runs into one environment take turns, and each first finishes what
        interrupted runs left half done there (:mod:`pip_accel.install.transaction`),
        so that it plans for the environment as it really is.
        """
        timer = Timer()
        try:
            if self.command_line.options.dry_run:  # the target stays as it is
                chosen = self._described_plan()
            elif self.command_line.options.target_dir:
                chosen = self._described_plan()
                if chosen.wheels:
                    self._hand_wheels_to_pip(chosen.wheels)
            else:
                installer = self.parts.installer
                libraries = installer.libraries()
                with environment_lock(self.config.lock_directory, libraries[0]):
                    recover(libraries)
                    chosen = self._described_plan()
                    self._install(installer, chosen)
        except BaseException:
            self.parts.abandon()
            raise
        fleet = self.parts.fleet
        if fleet is not None:
            self.reporter.objects_shared(fleet.finish())
        if self.command_line.options.dry_run:
            return chosen
        if not chosen.wheels and not chosen.handed_to_pip:
            logger.info("Nothing to do: every requirement is installed already.")
            return chosen
        self._hand_to_pip(chosen.handed_to_pip)
        logger.info(self.parts.summary.describe(timer.elapsed_time))
        return chosen

    def _record_use(self, wheels: list[PlannedWheel]) -> None:
        """Record the plan, ``wheels`` and trees this run used; keep the data directory bound."""
        from pip_accel.upkeep.entries import DataDirectory, run_entries
        from pip_accel.upkeep.eviction import after_install

        data = DataDirectory(self.config.data_directory)
        tree_of = self.parts.trees.location
        paths = [Path(item.wheel) for item in wheels]
        plans = self.parts.plans
        used = run_entries(data, paths, tree_of, plans.path() if plans else None)
        after_install(data, used, self.config.max_cache_size, time.time())

    def _described_plan(self) -> ChosenPlan:
        """The plan (see :meth:`_plan`), described first as ``--dry-run`` and ``--report`` ask."""
        chosen = self._plan()
        self.parts.expect(chosen.wheels)
        options = self.command_line.options
        if options.dry_run or options.json_report_file:
            from pip_accel.plan.dry_run import describe  # only then

            describe(self.request, chosen.wheels, chosen.handed_to_pip, self.reporter)
        return chosen

    def _plan(self) -> ChosenPlan:
        """The wheels to install and what to hand to pip: from a stored plan, or from pip."""
        plans = self.parts.plans
        stored = plans.load() if plans else None
        if stored is not None and self._fresh(stored) and self._trees_of_absent(stored):
            logger.info("Using the plan of an earlier run with the same requirements and target.")
            return ChosenPlan(stored, self._local_projects(), kept=True)
        if self.stored_only:
            raise StoredPlanOnly()
        fleet = self.parts.backends().fleet  # only when there is no stored plan
        if plans and fleet:
            shared = fleet.plan(plans.shared_key(), self._needs_wheels())
            if shared is not None and self._fresh(shared):
                plans.store(shared)
                return ChosenPlan(shared, self._local_projects(), kept=True)
        from pip_accel.plan.stand_ins import stand_ins  # only when there is no usable plan

        options = self.command_line.options
        # With --target pip installs the wheels, and --dry-run installs none.
        unpacker = None if options.target_dir or options.dry_run else self.parts.unpacker()
        with stand_ins(self.request) as local:  # local projects planned without a build
            planner = self.parts.planner(local.request, unpacker)
            planner.downloader.stand_ins = local.names
            outcome = local.restore(planner.plan())
        kept = bool(plans and outcome.reusable)
        if plans and kept:
            plans.store(outcome.wheels)
            if fleet:
                fleet.share(plans.shared_key(), outcome.wheels)
        return ChosenPlan(outcome.wheels, outcome.handed_to_pip, kept, unpacker)

    def _fresh(self, plan: list[PlannedWheel]) -> bool:
        """Whether a stored plan may answer: the package index was asked about each of its
        projects within ``index-ttl`` and listed nothing it would take instead, or the user
        pinned it (:mod:`pip_accel.plan.freshness`)."""
        if only_lock_files(self.command_line):  # a lock file never asks the package index
            return True
        planned = [(item.name, item.version) for item in plan if item.direct_url is None]
        return fresh_plan(
            self.parts.freshness, planned, self.command_line, self.request.requirements
        )

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
            self.parts.trees.location(Path(item.wheel), item.sha256).is_dir()
            for item in plan
            if item.absent and item.sha256 is not None
        )

    def _local_projects(self) -> list[PlannedDistribution]:
        """The local projects that a stored plan leaves to pip (none for most runs)."""
        if not names_source_trees(self.command_line):
            return []
        from pip_accel.plan.stand_ins import handed_to_pip

        return handed_to_pip(self.request)

    def _install(self, installer: WheelInstaller, chosen: ChosenPlan) -> None:
        """Install each wheel of the plan with pip-accel's own installer, in pip's order.

        A wheel is installed as soon as its tree is there: while the background
        unpacker compiles the others, when this run planned. A tree found
        damaged (a file gone or changed) is unpacked again from its wheel and
        the install goes on. ``--force-reinstall`` checks the hash of every
        file of each tree first.
        """
        wheels, unpacker = chosen.wheels, chosen.unpacker
        paths = [Path(item.wheel) for item in wheels]
        store = self.parts.trees
        if unpacker is not None:
            unpacker.prioritize(paths)  # install order: the first trees come first
            for path in paths:  # built wheels too, into the same stream
                unpacker.add(path)
            unpacker.close()
            trees = {}
        else:
            trees = store.trees_for(paths)  # the missing ones in one batch
        verify = bool(self.command_line.options.force_reinstall)
        for item, path in zip(wheels, paths, strict=True):
            tree = trees.get(path) or self._tree(path, unpacker)
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
            self.reporter.wheel_installed(path)
        if unpacker is not None:
            unpacker.finish()
        fleet = self.parts.fleet
        if fleet is not None and wheels:
            trees = store.trees_for(paths)
            unpacked = [wheel for wheel in store.unpacked if wheel in trees]
            fleet.share_trees({wheel: trees[wheel] for wheel in unpacked})

    def _repaired(self, tree: UnpackedTree, wheel: Path, error: DamagedTreeError) -> UnpackedTree:
        """A tree that failed its check, usable again: only copied (its files have new times,
        their contents are the wheel's), or else unpacked again from its wheel."""
        if isinstance(error, ChangedTreeFileError) and mend_copy(tree):
            return tree
        logger.warning("%s Unpacking %s again.", error, tree.wheel_name)
        return self.parts.trees.replace(wheel)

    def _tree(self, wheel: Path, unpacker: BackgroundUnpacker | None) -> UnpackedTree:
        """The tree of ``wheel`` once ``unpacker`` published it (or unpacked now)."""
        if unpacker is not None:
            unpacker.wait(wheel)
        return self.parts.trees.trees_for([wheel])[wheel]

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
        self.request.pip.run(install_command(self.command_line, args))
        self.reporter.handed_to_pip(count, built_by_pip=by_pip)
