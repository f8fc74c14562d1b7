"""The parts of one install, each made once from its request: the one place that wires them.

:func:`make_request` makes the request (the target interpreter chosen and
probed, the pip that runs for it); :class:`InstallParts` makes from it every
part the steps of :class:`~pip_accel.accelerator.PipAccelerator` use, each
once: the reporter (summary and live line), the build settings, the tree
store, the plan cache, the freshness record, the installer, the background
unpacker, the binary cache with its backends and the fleet, and the planner
with its parts. The steps take the parts they need from it and return what
they make; a unit test hands in stand-ins.

The parts that cost imports a warm run must not pay (downloads, builds,
cache backends, S3, the fleet, the planner) are made when first asked for, and
their modules imported only then: a run that installs a stored plan never asks.
"""

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pip_accel.builds.settings import BuildSettings
from pip_accel.config import Config
from pip_accel.environment import TargetEnvironment, select_interpreter
from pip_accel.exceptions import InstallError
from pip_accel.install.installer import InstallOptions, WheelInstaller
from pip_accel.install.trees import TreeStore
from pip_accel.install.unpacker import BackgroundUnpacker
from pip_accel.install.wheel_digests import WheelDigests
from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import names_remote_files, names_source_trees
from pip_accel.pip.runner import Pip
from pip_accel.plan.freshness import FreshnessRecord
from pip_accel.plan.plan import PlannedWheel
from pip_accel.plan.stored import PlanCache
from pip_accel.probe_cache import ProbeCache
from pip_accel.report.progress import Progress
from pip_accel.report.reporter import Reporter, Reporters
from pip_accel.report.summary import Summary
from pip_accel.request import InstallRequest

if TYPE_CHECKING:  # imported when a run has no stored plan
    from pip_accel.caches.binary_cache import BinaryCache
    from pip_accel.fleet.fleet import Fleet
    from pip_accel.plan.parts import PlannerParts
    from pip_accel.plan.planner import Planner
    from pip_accel.sources.pip_finder import PipIndex


def make_request(
    config: Config, command_line: CommandLine, verbosity: int, general: list[str]
) -> InstallRequest:
    """The request of an install: the target that ``--python`` (or the environment) selects,
    probed, and the pip that runs for it with pip's ``general`` option tokens (streaming
    its output with ``-v``)."""
    python = select_interpreter(command_line.options.python, os.environ)
    target = TargetEnvironment(python, ProbeCache(config.probe_cache))
    foreign = None if target.info["prefix"] == sys.prefix else python
    pip = Pip(foreign, general, stream=verbosity > 0)
    return InstallRequest(config, command_line, target, pip)


@dataclass(frozen=True)
class Backends:
    """The binary cache with its backends, and the fleet when one of them shares plans and
    trees."""

    cache: "BinaryCache"
    fleet: "Fleet | None" = None


class InstallParts:
    """Every part of one install, made once from its request (the costly ones when asked)."""

    def __init__(
        self,
        request: InstallRequest,
        progress: Progress | None = None,
        backends: Backends | None = None,
    ) -> None:
        """The parts of ``request``, telling ``progress`` (the live line) and the summary
        what is done; ``backends`` stand in for those of the configuration (a test's)."""
        self.request = request
        config = request.config
        self.summary = Summary()
        """What the install did, for its last line."""
        self.reporter: Reporter = (
            Reporters(self.summary, progress) if progress is not None else self.summary
        )
        """Every event of the install goes here: the summary and the live line."""
        self.settings = BuildSettings.of(
            request.command_line, os.environ, config.build_environment, request.requirements
        )
        """What the builds of this run are made with, part of their cache key."""
        self.trees = TreeStore(config.tree_cache, request.target, WheelDigests.of(config))
        """The one tree store of the run: the installer's, the unpacker's and the fleet's."""
        self.trees.listeners.append(self.reporter.tree_compiled)
        self.trees.fetch_wheel = self._bring
        self.absent: dict[Path, PlannedWheel] = {}
        """The wheels the plan names by their sha256 alone (their trees came from the fleet)."""
        self._backends = backends
        self._unpacker: BackgroundUnpacker | None = None

    @cached_property
    def freshness(self) -> FreshnessRecord:
        """When the package index was last asked about each project."""
        return FreshnessRecord.of(self.request.config)

    @cached_property
    def plans(self) -> PlanCache | None:
        """The plan cache for this command line and target, if its plan can be reused.

        Not with ``-U`` (which asks the index), nor when the plan depends on
        files pip-accel does not read: requirement files named by URL, and the
        source trees and URLs whose dependencies alone ``--only-deps`` installs.
        A local project with static metadata counts by that metadata.
        """
        request = self.request
        command_line = request.command_line
        options = command_line.options
        if options.upgrade or names_remote_files(command_line, request.requirements):
            return None
        local = names_source_trees(command_line)
        if local and getattr(options, "only_dependencies", False):
            return None
        if local:
            from pip_accel.plan.stand_ins import keyed  # only for local projects

            command_line = keyed(request)
        config = request.config
        return PlanCache(
            config.plan_cache, config.source_index, command_line, request.target,
            self.settings.environment, request.requirements,
        )  # fmt: skip

    @cached_property
    def installer(self) -> WheelInstaller:
        """pip-accel's own installer, with the user's install options."""
        options = self.request.command_line.options
        return WheelInstaller(
            self.request.target,
            InstallOptions(
                user=bool(options.use_user_site),
                prefix=options.prefix_path,
                root=options.root_path,
                compile=options.compile,
                ignore_installed=options.ignore_installed,
                link_mode=self.request.config.link_mode,
            ),
        )

    def backends(self) -> Backends:
        """The binary cache's backends and the fleet, loaded when first asked for (only when
        there is no stored plan: boto3 is slow to import)."""
        if self._backends is None:
            from pip_accel.caches import load_backends
            from pip_accel.caches.binary_cache import BinaryCache
            from pip_accel.fleet.fleet import Fleet

            config, target = self.request.config, self.request.target
            cache = BinaryCache(load_backends(config))
            fleet = Fleet(cache, config, target, self.trees) if cache.shared else None
            self._backends = Backends(cache, fleet)
        return self._backends

    @property
    def fleet(self) -> "Fleet | None":
        """The fleet, when the backends are loaded and one of them shares plans and trees."""
        return self._backends.fleet if self._backends is not None else None

    def unpacker(self) -> BackgroundUnpacker:
        """The background unpacker into the tree store, started when first asked for."""
        if self._unpacker is None:
            self._unpacker = BackgroundUnpacker(self.trees)
        return self._unpacker

    def expect(self, wheels: Sequence[PlannedWheel]) -> None:
        """Take the sha256 of each wheel of the plan for its tree's name, and note the wheels
        it names by their sha256 alone, which the fleet brings if their trees need them."""
        self.absent = {Path(item.wheel): item for item in wheels if item.absent}
        for item in wheels:
            if item.sha256 is not None:
                self.trees.digests.expect(Path(item.wheel), item.sha256)

    def abandon(self) -> None:
        """Stop what runs beside the install (the unpacker, the fleet's uploads): it failed."""
        if self._unpacker is not None:
            self._unpacker.stop()
        if self.fleet is not None:
            self.fleet.abandon()

    def planner(
        self, request: InstallRequest, unpacker: BackgroundUnpacker | None = None
    ) -> "Planner":
        """A planner of ``request`` (the request itself, or the one local projects' stand-ins
        make of it) with its parts; each archive downloaded goes to the reporter and, when
        the run installs its wheels itself, to ``unpacker``."""
        from pip_accel.plan.planner import Planner  # only when there is no usable plan

        return Planner(request, self._planner_parts(request, unpacker), self.reporter,
                       self.settings)  # fmt: skip

    def _planner_parts(
        self, request: InstallRequest, unpacker: BackgroundUnpacker | None
    ) -> "PlannerParts":
        """The local index, cache, downloader, builder and system packages of a planner."""
        from functools import partial

        from pip_accel.builds.builder import Builder
        from pip_accel.builds.system import SystemDependencies
        from pip_accel.datadir.layout import LOCKS_OF_BINARIES
        from pip_accel.pip.commands import build_options
        from pip_accel.pip.requirements import index_options
        from pip_accel.plan.parts import PlannerParts
        from pip_accel.sources.building import BuildingDownloader
        from pip_accel.sources.local_index import LocalIndex

        config, command_line, reporter = request.config, request.command_line, self.reporter
        index = LocalIndex(config.source_index)
        cache = self.backends().cache

        def on_archive(archive: Path) -> None:
            reporter.archive_downloaded(archive)
            if unpacker is not None:
                unpacker.add(archive)

        downloader = BuildingDownloader(
            request.pip, index, command_line, request.requirements, config.max_retries,
            config.download_concurrency, on_archive, partial(_pip_index, request.target),
        )  # fmt: skip
        found_in_files = index_options(request.requirements, True)
        options = [*build_options(command_line), *found_in_files]
        scratch = config.scratch_directory
        builder = Builder(
            request.pip, cache, index.directory, config.binary_cache / LOCKS_OF_BINARIES, options,
            scratch, self.settings.options_for,
        )  # fmt: skip
        builder.on_built = reporter.wheel_built
        builder.spinner = not reporter.live
        system_packages = SystemDependencies(config, quiet=reporter.pause)
        return PlannerParts(
            index, cache, downloader, builder, system_packages, scratch, self.freshness
        )

    def _bring(self, wheel: Path) -> None:
        """Fetch a wheel the plan names by its sha256 alone, now that it is needed to unpack
        its tree again (found damaged); the fleet is loaded for it if need be."""
        item = self.absent.get(wheel)
        if item is None or wheel.exists():
            return
        fleet = self.backends().fleet
        if fleet is None or not fleet.bring(item):
            raise InstallError(
                f"The wheel {wheel.name} is not in the data directory and the shared cache could"
                " not give it; run again, which plans anew."
            )


def _pip_index(target: TargetEnvironment, options: Sequence[str]) -> "PipIndex":
    """pip's finder and session with ``options``, choosing archives for ``target``."""
    from pip_accel.sources.pip_finder import PipIndex

    version = target.info["markers"]["python_full_version"]
    return PipIndex(options, target.tags, str(version))
