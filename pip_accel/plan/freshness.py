"""The freshness record: when the package index was last asked about each project.

pip asks the package index on every install, so a loose requirement (``rich``,
``rich>=13``, or the range a dependency puts on its own dependencies) gets the
newest release that fits. pip-accel plans against its local index first, which
holds whatever an earlier run downloaded, and would keep answering with an old
release for ever. So a plan made from the local index alone (or stored by an
earlier run) answers only when each of its projects is

- pinned by the user to one version (``name==version`` on the command line or
  in a requirements file): every index gives the same answer, so sets of pins
  never ask; or
- one the package index was asked about less than ``index-ttl`` ago (10
  minutes by default: PyPI's simple pages say ``Cache-Control: max-age=600``,
  and pip 26.2 and newer answer from its HTTP cache that long too), and whose
  planned release is the one pip takes from what the index listed then for
  the requirement (:mod:`pip_accel.sources.listing`): after ``rich<14`` asked,
  ``rich`` asks again, since the listing has 15.0.0.

Otherwise the planner asks the package index (``pip download`` with the
user's indexes, then plans again) and records the projects of the new plan.
``--refresh-package NAME`` makes NAME stale, as it makes pip ask again.

The record keeps one small JSON file per project (by canonical name) under
``<data>/freshness``: when the index was asked, the release planned then, and
the listing (every version pip may take for the target, and the yanked ones).
An entry without a listing (written by an older pip-accel, or when pip's
finder could not be used in process) is not fresh. Each file is written
under a temporary name and renamed into place
(:func:`pip_accel.files.write_atomically`): concurrent runs see either the
old or the new file, and the last writer wins, which is right either way
since both asked the index. A file that cannot be read counts as never asked.
"""

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humanfriendly import format_timespan
from packaging.utils import canonicalize_name

from pip_accel.config import Config
from pip_accel.datadir.scratch import remove_tree, tree_size
from pip_accel.files import write_atomically
from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import RequirementFiles, pins

if TYPE_CHECKING:  # imported where a listing is read: a warm run of pins reads none
    from pip_accel.sources.listing import Listing

logger = logging.getLogger(__name__)

SAFE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
"""A canonical project name that can be a file name as it is (no ``/``, no ``..``)."""


@dataclass(frozen=True)
class Staleness:
    """What of a plan the package index must be asked about, and why; false when nothing."""

    expired: list[str] = field(default_factory=list)
    """Projects the package index was not asked about within ``index-ttl``."""
    refreshed: list[str] = field(default_factory=list)
    """Projects that ``--refresh-package`` names."""
    ttl: float = 0.0
    outdated: dict[str, str] = field(default_factory=dict)
    """Projects asked within ``index-ttl`` whose planned release is not (or not surely) the
    one the index's listing gives, each with a clause that says why."""

    def __bool__(self) -> bool:
        """Whether the package index must be asked."""
        return bool(self.expired or self.refreshed or self.outdated)

    @property
    def projects(self) -> list[str]:
        """Every project that may have newer releases on the package index, sorted."""
        return sorted({*self.expired, *self.refreshed, *self.outdated})

    def reason(self) -> str:
        """Why the package index must be asked, as a clause for a log line."""
        reasons = []
        if self.expired and self.ttl <= 0:
            reasons.append(f"index-ttl is 0, so every run asks about {', '.join(self.expired)}")
        elif self.expired:
            reasons.append(
                f"the package index was not asked about {', '.join(self.expired)}"
                f" in the last {format_timespan(self.ttl)} (index-ttl)"
            )
        reasons += [self.outdated[name] for name in sorted(self.outdated)]
        if self.refreshed:
            reasons.append(f"--refresh-package names {', '.join(self.refreshed)}")
        return "; ".join(reasons)

    def warn_unanswered(self, error: Exception) -> None:
        """Say, in one warning, that the local index answered since the package index did not."""
        logger.warning(
            "The package index could not be reached, so the local index answered for %s,"
            " which may have newer releases there (%s).", ", ".join(self.projects), error,
        )  # fmt: skip


class FreshnessRecord:
    """When the package index was last asked about each project, under ``directory``."""

    def __init__(self, directory: Path, ttl: float, clock: Callable[[], float] = time.time) -> None:
        """Keep the record in ``directory``; an answer is fresh for ``ttl`` seconds of ``clock``."""
        self.directory = directory
        self.ttl = ttl
        self.clock = clock

    @classmethod
    def of(cls, config: Config) -> "FreshnessRecord":
        """The record of a configuration's data directory, with its ``index-ttl``."""
        return cls(config.freshness_record, config.index_ttl)

    def path(self, project: str) -> Path | None:
        """The file of a project's entry; None for a name that cannot be a file name."""
        name = canonicalize_name(project)
        return self.directory / f"{name}.json" if SAFE_NAME.match(name) else None

    def asked(self, project: str) -> float | None:
        """When the package index was last asked about ``project`` (None: never, as far as
        the record knows, or its entry is damaged)."""
        return _time_of(self._entry(project))

    def listing(self, project: str) -> "Listing | None":
        """What the package index listed for ``project`` when last asked (None: not known)."""
        from pip_accel.sources.listing import Listing

        entry = self._entry(project)
        return Listing.from_json(entry.get("listed")) if isinstance(entry, dict) else None

    def _entry(self, project: str) -> Any:
        """The parsed entry of ``project``; None when there is none or it cannot be read."""
        path = self.path(project)
        if path is None:
            return None
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as error:
            logger.debug("The freshness entry %s is unreadable (%s).", path, error)
            return None

    def is_fresh(self, project: str) -> bool:
        """Whether the package index was asked about ``project`` less than ``ttl`` ago.

        An entry from the future (a clock set back since) does not count.
        """
        asked = self.asked(project)
        return asked is not None and 0 <= self.clock() - asked < self.ttl

    def record(
        self, planned: Iterable[tuple[str, str]], listings: "Mapping[str, Listing] | None" = None
    ) -> None:
        """Record that the package index was just asked about these ``(project, version)``,
        with what it listed for each (by canonical name; an entry without is not fresh).

        The record only saves asking again, so a failure to write it is a
        warning (once), not a failed install.
        """
        now = self.clock()
        for project, version in planned:
            path = self.path(project)
            if path is None:
                continue
            name = canonicalize_name(project)
            entry: dict[str, Any] = {"project": name, "asked": now, "version": version}
            listing = (listings or {}).get(name)
            if listing is not None:
                entry["listed"] = listing.to_json()
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                write_atomically(path, json.dumps(entry).encode())
            except OSError as error:
                logger.warning("The freshness record %s could not be written (%s).", path, error)
                return

    def record_answer(
        self,
        planned: Iterable[tuple[str, str]],
        command_line: CommandLine,
        files: RequirementFiles,
        listings: "Mapping[str, Listing] | None" = None,
    ) -> None:
        """Record the projects of a plan made after asking the package index, with what it
        listed for each, but those the user pinned: a pin is fetched by its version, which
        says nothing of newer releases, so a later loose requirement must still ask."""
        pinned = {canonicalize_name(name) for name, _ in pins(command_line, files)}
        items = [item for item in planned if canonicalize_name(item[0]) not in pinned]
        self.record(items, listings)

    def stale(
        self, planned: Iterable[tuple[str, str]], command_line: CommandLine, files: RequirementFiles
    ) -> Staleness:
        """What of a plan of these ``(project, version)`` the package index must be asked about.

        Projects the user pinned to one version never need asking; the others
        must have been asked within the TTL, and their planned version must be
        the one pip takes from what the index listed then (see
        :mod:`pip_accel.sources.listing`). ``--refresh-package`` names count whatever
        the record says (``:all:``: every project).
        """
        options = command_line.options
        refresh = set(getattr(options, "refresh_package", None) or ())  # pip 26.2 and newer
        versions: dict[str, str] = {
            canonicalize_name(project): version for project, version in planned
        }
        names: list[str] = sorted(versions)
        if ":all:" in refresh:
            return Staleness([], names, self.ttl)
        known = refresh | {name for name, _ in pins(command_line, files)} if names else refresh
        loose = [name for name in names if name not in known]
        expired = [name for name in loose if not self.is_fresh(name)]
        asked = {name: versions[name] for name in loose if name not in expired}
        outdated = self._outdated(asked, command_line, files) if asked else {}
        return Staleness(expired, sorted(refresh), self.ttl, outdated)

    def projects(self) -> list[str]:
        """The projects the record has an entry of (for ``pip-accel cache info``)."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        return sorted(name.removesuffix(".json") for name in names if name.endswith(".json"))

    def clear(self) -> int:
        """Remove the whole record (every run then asks the index once); return bytes freed."""
        freed = tree_size(self.directory)
        remove_tree(self.directory)
        return freed

    def _outdated(
        self, asked: dict[str, str], command_line: CommandLine, files: RequirementFiles
    ) -> dict[str, str]:
        """Of the projects asked within the TTL, by planned version, those whose version is
        not the one the index's listing gives, each with why."""
        from pip_accel.sources.listing import ReleaseRule, undecidable

        option = undecidable(command_line.options)
        if option is not None:
            clause = f"the listing cannot tell pip's answer under {option}"
            return {name: f"{clause} for {name}" for name in asked}
        rule = ReleaseRule.of(command_line, files)
        outdated = {}
        for name, version in asked.items():
            listing = self.listing(name)
            if listing is None:
                outdated[name] = f"the record does not say what the package index listed for {name}"
            elif not rule.answers(listing, name, version):
                best = listing.best(rule.specifier(name), rule.prereleases(name))
                listed = f"{name} {best}" if best else f"no release of {name} that fits"
                outdated[name] = (
                    f"the package index listed {listed} where the local index has {version}"
                )
        return outdated


def fresh_plan(
    record: FreshnessRecord,
    planned: Iterable[tuple[str, str]],
    command_line: CommandLine,
    files: RequirementFiles,
) -> bool:
    """Whether a stored plan of these ``(project, version)`` may answer; says why not when it
    may not."""
    stale = record.stale(planned, command_line, files)
    if stale:
        logger.info("Not using the plan of an earlier run: %s.", stale.reason())
    return not stale


def _time_of(entry: Any) -> float | None:
    """The time of asking in a parsed entry of the record, or None when it has none."""
    asked = entry.get("asked") if isinstance(entry, dict) else None
    if isinstance(asked, (int, float)) and not isinstance(asked, bool):
        return float(asked)
    return None
