"""What an install did, counted for the last line pip-accel prints."""

from dataclasses import dataclass

from humanfriendly import format_timespan
from humanfriendly.text import pluralize


@dataclass
class Summary:
    """What an install did, for the last line pip-accel prints."""

    installed: int = 0
    built: int = 0
    downloaded: int = 0
    by_pip: int = 0
    uploaded: int = 0
    """Objects (wheels, trees, plans) stored in the shared cache during the run."""

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
