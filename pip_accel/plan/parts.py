"""The parts of a planner: the local index, the binary cache, the downloader, the builder, the
system packages and the freshness record.

:mod:`pip_accel.parts` makes them once from a request and hands them to
:class:`~pip_accel.plan.planner.Planner` (a test gives stand-ins).
"""

from dataclasses import dataclass
from pathlib import Path

from pip_accel.builds.builder import Builder
from pip_accel.builds.system import SystemDependencies
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.plan.freshness import FreshnessRecord
from pip_accel.sources.building import BuildingDownloader
from pip_accel.sources.local_index import LocalIndex


@dataclass
class PlannerParts:
    """The collaborators of a :class:`Planner`, handed in so that a test can give stand-ins."""

    index: LocalIndex
    cache: BinaryCache
    downloader: BuildingDownloader
    builder: Builder
    system_packages: SystemDependencies
    scratch: Path
    """Where builds run, each in a private directory."""
    freshness: FreshnessRecord | None = None
    """When the package index was asked about each project (None: the local index is fresh)."""
