"""The order of the steps of an accelerated install, and nothing else.

plan (offline, against the local index) -> download what is missing -> plan
again -> build each sdist without a cached wheel -> install each wheel -> hand
editables and source trees to pip. Each step lives in its own module.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

from humanfriendly import Timer, format_timespan, pluralize

from pip_accel.build import Builder
from pip_accel.caches import BinaryCache, CacheKey
from pip_accel.caches.local import LocalCacheBackend
from pip_accel.config import Config
from pip_accel.download import Downloader
from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import PipFailedError
from pip_accel.index import IndexView, LocalIndex
from pip_accel.install import InstallOptions, WheelInstaller
from pip_accel.pip import INDEX_DESTS, REQUIREMENT_DESTS, CommandLine, Pip
from pip_accel.plan import Plan, PlannedDistribution
from pip_accel.requirements import uses_hashes

logger = logging.getLogger(__name__)

NOT_FOR_PLANNING = INDEX_DESTS | {"python", "dry_run", "json_report_file", "progress_bar", "log"}
"""Options that pip-accel sets itself when it asks pip for a plan."""

NOT_FOR_BUILDING = INDEX_DESTS | REQUIREMENT_DESTS | {
    "python", "wheel_dir", "format_control", "pre", "require_hashes", "no_require_hashes",
    "ignore_dependencies", "only_dependencies", "prefer_binary", "log",
}  # fmt: skip
"""Options of the user that do not apply to building one sdist."""

NOT_FOR_HANDING_OVER = REQUIREMENT_DESTS | {
    "python",
    "dry_run",
    "json_report_file",
    "ignore_dependencies",
}
"""Options of the user that pip-accel does not repeat when it hands work to pip."""


@dataclass
class Summary:
    """What an install did, for the last line pip-accel prints."""

    installed: int = 0
    built: int = 0
    downloaded: int = 0
    by_pip: int = 0
    new_archives: set[Path] = field(default_factory=set)
    """The archives downloaded during this run."""

    def describe(self, seconds: float) -> str:
        """A sentence such as "Installed 3 packages (1 built, 2 from cache) in 1.2 seconds"."""
        from_cache = self.installed - self.built - self.downloaded - self.by_pip
        parts = [f"{self.built} built"]
        if self.downloaded:
            parts.append(f"{self.downloaded} downloaded")
        parts.append(f"{from_cache} from cache")
        if self.by_pip:
            parts.append(f"{self.by_pip} by pip")
        count = pluralize(self.installed, "package")
        return f"Installed {count} ({', '.join(parts)}) in {format_timespan(seconds)}."


class PipAccelerator:
    """Runs one ``pip-accel install``."""

    def __init__(
        self, config: Config, command_line: CommandLine, target: TargetEnvironment, pip: Pip
    ) -> None:
        """Prepare an install of ``command_line`` into ``target``."""
        self.config = config
        self.command_line = command_line
        self.target = target
        self.pip = pip
        self.index = LocalIndex(config.source_index)
        self.cache = BinaryCache([LocalCacheBackend(config)])
        self.hashes = uses_hashes(command_line)
        self.downloader = Downloader(pip, self.index, command_line, config.max_retries)
        build_options = command_line.tokens_for("wheel", NOT_FOR_BUILDING)
        locks = config.binary_cache / ".locks"
        self.builder = Builder(pip, self.cache, self.index.directory, locks, build_options)
        self.summary = Summary()

    def install(self) -> Summary:
        """Plan, download, build and install; return what was done."""
        timer = Timer()
        plan, view = self._plan()
        if not plan:
            logger.info("Nothing to do: every requirement is installed already.")
            return self.summary
        wheels = {item: self._wheel(item, view) for item in plan.archives}
        if self.command_line.options.target_dir:
            self._hand_to_pip(plan.handed_to_pip, list(wheels.values()))
        else:
            self._install(wheels)
            self._hand_to_pip(plan.handed_to_pip, [])
        logger.info(self.summary.describe(timer.elapsed_time))
        return self.summary

    def _plan(self) -> tuple[Plan, IndexView]:
        """Resolve offline; download and resolve again when the local index falls short."""
        if self.command_line.options.upgrade:
            logger.info("Upgrading: asking the package index for newer versions first.")
        else:
            try:
                return self._resolve()
            except PipFailedError as error:
                logger.info("The local index cannot satisfy the requirements yet: %s", error)
        self.summary.new_archives = self.downloader.download()
        return self._resolve()

    def _resolve(self) -> tuple[Plan, IndexView]:
        """Ask pip for a plan against the local index only, with no network."""
        with self.index.view(self.cache, self.target.namespace, not self.hashes) as view:
            env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(view.directory)}
            args = self.command_line.tokens_for("install", NOT_FOR_PLANNING)
            report = self.pip.report([*args, *self.command_line.arguments], env)
        plan = Plan.from_report(report)
        logger.debug("The plan: %s.", ", ".join(map(str, plan.distributions)) or "nothing")
        return plan, view

    def _wheel(self, item: PlannedDistribution, view: IndexView) -> Path:
        """The wheel to install for a planned archive, built when needed."""
        path = item.local_path
        assert path is not None  # planned archives are local files
        entry = view.lookup(path.name) if path.parent == view.directory else None
        archive = entry.archive if entry else path
        if entry and entry.wheel:
            return entry.wheel
        if archive in self.summary.new_archives:
            self.summary.downloaded += 1
        if archive.name.endswith(".whl"):
            return archive
        key = CacheKey(self.target.namespace, item.name, item.version, self.index.sha256(archive))
        wheel, built = self.builder.wheel_for(archive, key)
        if built:
            self.summary.built += 1
            self.summary.downloaded -= archive in self.summary.new_archives
        return wheel

    def _install(self, wheels: dict[PlannedDistribution, Path]) -> None:
        """Install each wheel with pip-accel's own installer, in pip's order."""
        options = self.command_line.options
        installer = WheelInstaller(
            self.target,
            InstallOptions(
                user=bool(options.use_user_site),
                prefix=options.prefix_path,
                root=options.root_path,
                compile=options.compile,
                ignore_installed=options.ignore_installed,
            ),
        )
        for item, wheel in wheels.items():
            logger.info("Installing %s from %s.", item, wheel.name)
            direct_url = item.download_info if item.is_direct else None
            installer.install(wheel, item.name, item.requested, direct_url)
            self.summary.installed += 1

    def _hand_to_pip(self, items: list[PlannedDistribution], wheels: list[Path]) -> None:
        """Let pip install wheels (for ``--target``) and source trees, without dependencies."""
        if not items and not wheels:
            return
        requirements = [str(wheel) for wheel in wheels]
        for item in items:
            requirements += item.pip_requirement
        options = self.command_line.tokens_for("install", NOT_FOR_HANDING_OVER)
        index = ["--find-links", str(self.index.directory)]
        logger.info("Handing %s to pip.", pluralize(len(items) + len(wheels), "distribution"))
        self.pip.run(["install", "--no-deps", *options, *index, *requirements])
        self.summary.installed += len(items) + len(wheels)
        self.summary.by_pip += len(items) + len(wheels)
