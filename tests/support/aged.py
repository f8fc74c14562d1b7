"""Files written some time ago, for the tests of what expires (kept starts and probes)."""

import os
import time
from pathlib import Path


def written(path: Path, seconds_ago: float, now: float | None = None) -> Path:
    """A file at ``path`` (``{}``) whose time is ``seconds_ago`` before ``now``."""
    now = time.time() if now is None else now
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    os.utime(path, (now - seconds_ago, now - seconds_ago))
    return path


def old_and_recent(directory: Path) -> tuple[Path, Path]:
    """``old.json`` written an hour ago and ``recent.json`` a minute ago, in ``directory``."""
    return written(directory / "old.json", 3600.0), written(directory / "recent.json", 60.0)
