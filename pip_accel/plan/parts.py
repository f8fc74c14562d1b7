"""The parts of a planner, made once from a request: the local index, the binary cache, the
downloader, the builder, the system packages and the freshness record.

They are handed to :class:`~pip_accel.plan.planner.Planner` (a test gives stand-ins).
"""

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pip_accel.builds.builder import Builder
from pip_accel.builds.settings import BuildSettings
from pip_accel.builds.system import SystemDependencies
from pip_accel.caches import load_backends
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.datadir.layout import LOCKS_OF_BINARIES
from pip_accel.environment import TargetEnvironment
from pip_accel.pip.commands import build_options
from pip_accel.pip.requirements import index_options
from pip_accel.plan.freshness import FreshnessRecord
from pip_accel.report.progress import Progress
from pip_accel.request import InstallRequest
from pip_accel.sources.download import Downloader
from pip_accel.sources.local_index import LocalIndex
from pip_accel.sources.pip_finder import PipIndex


@dataclass
class PlannerParts:
    """The collaborators of a :class:`Planner`, handed in so that a test can give stand-ins."""

    index: LocalIndex
    cache: BinaryCache
    downloader: Downloader
    builder: Builder
    system_packages: SystemDependencies
    scratch: Path
    """Where builds run, each in a private directory."""
    freshness: FreshnessRecord | None = None
    """When the package index was asked about each project (None: the local index is fresh)."""


def make_parts(
    request: InstallRequest,
    cache: BinaryCache | None,
    settings: BuildSettings,
    on_archive: Callable[[Path], None] | None,
    progress: Progress | None,
) -> PlannerParts:
    """The index, cache, downloader, builder and system packages of a request's planner."""
    config, command_line = request.config, request.command_line
    index = LocalIndex(config.source_index)
    cache = cache or BinaryCache(load_backends(config))
    downloader = Downloader(
        request.pip, index, command_line, config.max_retries, config.download_concurrency,
        on_archive or (lambda path: None), partial(_pip_index, request.target),
    )  # fmt: skip
    options = [*build_options(command_line), *index_options(command_line, find_links_only=True)]
    scratch = config.scratch_directory
    builder = Builder(
        request.pip, cache, index.directory, config.binary_cache / LOCKS_OF_BINARIES, options,
        scratch, settings.options_for,
    )  # fmt: skip
    if progress is not None:
        builder.on_built = progress.built
        builder.spinner = not progress.live
    quiet = progress.pause if progress is not None else contextlib.nullcontext
    system_packages = SystemDependencies(config, quiet=quiet)
    freshness = FreshnessRecord.of(config)
    return PlannerParts(index, cache, downloader, builder, system_packages, scratch, freshness)


def _pip_index(target: TargetEnvironment, options: Sequence[str]) -> PipIndex:
    """pip's finder and session with ``options``, choosing archives for ``target``."""
    version = target.info["markers"]["python_full_version"]
    return PipIndex(options, target.tags, str(version))
