"""A live line on a terminal that says what a run is doing: downloads, builds, compiles.

A cold run downloads, builds and compiles at once, and its log says little
while that happens. On a terminal (and not with ``-q``) one line at the
bottom of the screen counts what is done, redrawn a few times a second::

    Downloaded 23 archives (41.2 MB), built 1 sdist, compiled 12 wheels (4.2 seconds)

Log lines still come through: the stream that logging writes to
(:attr:`Progress.stream`) takes the line away before a log line and draws it
again after, so the two never mix. When output is not a terminal nothing of
this is shown; the summary line at the end stays either way.
"""

import contextlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TextIO

from humanfriendly import Timer, format_size, format_timespan
from humanfriendly.text import pluralize

from pip_accel.report.reporter import Origin

CLEAR = "\r\x1b[K"
"""Back to the start of the line, and erase it."""


class Progress:
    """Counts of a run's work, drawn as one live line when ``live``.

    A :class:`~pip_accel.report.reporter.Reporter`: it counts downloads,
    builds and compiles as they happen; what the plan holds is the summary's.
    """

    def __init__(self, stream: TextIO, live: bool, interval: float = 0.2) -> None:
        """Draw on ``stream`` every ``interval`` seconds while entered, if ``live``."""
        self.output = stream
        self.live = live
        self.interval = interval
        self.lock = threading.RLock()
        self.downloads = 0
        self.bytes = 0
        self.builds = 0
        self.compiles = 0
        self.shown = False
        self.paused = False
        self.timer = Timer()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.stream = _Stream(self)
        """A stream for log lines, which keeps them apart from the live line."""

    def archive_downloaded(self, archive: Path) -> None:
        """Count an archive that entered the local index."""
        size = archive.stat().st_size if archive.exists() else 0
        with self.lock:
            self.downloads += 1
            self.bytes += size

    def wheel_built(self, wheel: Path) -> None:
        """Count a wheel built from an sdist."""
        with self.lock:
            self.builds += 1

    def tree_compiled(self, wheel: Path) -> None:
        """Count a wheel unpacked and compiled."""
        with self.lock:
            self.compiles += 1

    def wheel_planned(self, wheel: Path, origin: Origin) -> None:
        """Not drawn: the summary counts the plan."""

    def wheel_installed(self, wheel: Path) -> None:
        """Not drawn: the summary counts installs."""

    def handed_to_pip(self, count: int, built_by_pip: bool) -> None:
        """Not drawn: the summary counts installs."""

    def objects_shared(self, count: int) -> None:
        """Not drawn: the summary counts shared objects."""

    def line(self) -> str:
        """What the live line says now (empty while nothing is done)."""
        parts = []
        if self.downloads:
            size = format_size(self.bytes)
            parts.append(f"downloaded {pluralize(self.downloads, 'archive')} ({size})")
        if self.builds:
            parts.append(f"built {pluralize(self.builds, 'sdist')}")
        if self.compiles:
            parts.append(f"compiled {pluralize(self.compiles, 'wheel')}")
        if not parts:
            return ""
        text = ", ".join(parts)
        return f"{text[0].upper()}{text[1:]} ({format_timespan(self.timer.elapsed_time)})"

    def __enter__(self) -> "Progress":
        """Start drawing (when live)."""
        if self.live:
            self.timer = Timer()
            self.thread = threading.Thread(target=self._draw_often, name="progress", daemon=True)
            self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop drawing and take the line away."""
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()
        with self.lock:
            self.hide()

    def _draw_often(self) -> None:
        """Redraw the line until stopped (not while paused)."""
        while not self.stopped.wait(self.interval):
            with self.lock:
                if not self.paused:
                    self.draw()

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """Take the line away and draw it no more meanwhile: a question is asked below it."""
        with self.lock:
            self.paused = True
            self.hide()
        try:
            yield
        finally:
            with self.lock:
                self.paused = False

    def draw(self) -> None:
        """Write the line anew (the lock held)."""
        text = self.line()
        if text:
            self.output.write(CLEAR + text)
            self.output.flush()
            self.shown = True

    def hide(self) -> None:
        """Erase the line, if shown (the lock held)."""
        if self.shown:
            self.output.write(CLEAR)
            self.output.flush()
            self.shown = False


class _Stream(io.TextIOBase):
    """The stream of log lines: the live line goes away for each and comes back after."""

    def __init__(self, progress: Progress) -> None:
        """Write through ``progress``'s output."""
        self.progress = progress

    def write(self, text: str) -> int:
        """Write a log line below the live line's place, and draw the line again."""
        with self.progress.lock:
            shown = self.progress.shown
            self.progress.hide()
            self.progress.output.write(text)
            if shown and text.endswith("\n"):
                self.progress.draw()
            return len(text)

    def writable(self) -> bool:
        """Log lines are written here."""
        return True

    def flush(self) -> None:
        """Flush the terminal."""
        self.progress.output.flush()

    def isatty(self) -> bool:
        """Whether the output is a terminal (coloredlogs colours only then)."""
        return self.progress.output.isatty()
