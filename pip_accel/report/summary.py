"""What an install did, counted for the last line pip-accel prints."""

import contextlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from humanfriendly import format_timespan
from humanfriendly.text import pluralize

from pip_accel.report.reporter import Origin


@dataclass
class Summary:
    """What an install did, for the last line pip-accel prints.

    A :class:`~pip_accel.report.reporter.Reporter`: it counts the wheels of the
    plan by where they came from, those installed, and the objects shared; the
    work done on the way (every download, build, compile) is the live line's.
    """

    installed: int = 0
    built: int = 0
    downloaded: int = 0
    by_pip: int = 0
    uploaded: int = 0
    """Objects (wheels, trees, plans) stored in the shared cache during the run."""

    @property
    def live(self) -> bool:
        """The summary draws no live line."""
        return False

    def archive_downloaded(self, archive: Path) -> None:
        """Not counted: the summary counts the plan's wheels (:meth:`wheel_planned`)."""

    def wheel_built(self, wheel: Path) -> None:
        """Not counted: the summary counts the plan's wheels (:meth:`wheel_planned`)."""

    def tree_compiled(self, wheel: Path) -> None:
        """Not counted: the live line tells of compiles."""

    def wheel_planned(self, wheel: Path, origin: Origin) -> None:
        """Count a wheel of the plan as built or downloaded by this run."""
        if origin == "built":
            self.built += 1
        else:
            self.downloaded += 1

    def wheel_installed(self, wheel: Path) -> None:
        """Count a wheel installed by pip-accel."""
        self.installed += 1

    def handed_to_pip(self, count: int, built_by_pip: bool) -> None:
        """Count what pip installed, as pip's own when it built them."""
        self.installed += count
        self.by_pip += count if built_by_pip else 0

    def objects_shared(self, count: int) -> None:
        """Count objects stored in the shared cache."""
        self.uploaded += count

    def pause(self) -> AbstractContextManager[None]:
        """Nothing to take away: the summary is written at the end."""
        return contextlib.nullcontext()

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
        shared = f"; {pluralize(self.uploaded, 'object')} stored in the shared cache"
        details = ", ".join(parts) + (shared if self.uploaded else "")
        return f"Installed {count} ({details}) in {format_timespan(seconds)}."
