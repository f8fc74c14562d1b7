"""One protocol for what an install tells: the events of its steps, and one object for several.

The steps of an install (the downloader, the builder, the tree store, the
planner, the accelerator) say what happened through one :class:`Reporter`,
handed in by :mod:`pip_accel.parts`, and know nothing of who listens. Two
listen: the :class:`~pip_accel.report.summary.Summary` (the last line, which
counts the distributions of the plan) and the live
:class:`~pip_accel.report.progress.Progress` line (which counts the work as it
is done); :class:`Reporters` hands each event to both.
"""

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Literal, Protocol

Origin = Literal["built", "downloaded"]
"""Where a wheel of the plan came from when this run made it (the others were in the cache)."""


class Reporter(Protocol):
    """The events of an install; each listener keeps those it tells of and lets the rest go."""

    @property
    def live(self) -> bool:
        """Whether a live line is drawn on the terminal (a lone build then shows no spinner)."""

    def archive_downloaded(self, archive: Path) -> None:
        """An archive entered the local index (called from any thread)."""

    def wheel_built(self, wheel: Path) -> None:
        """A wheel was built from an sdist (called from any thread)."""

    def tree_compiled(self, wheel: Path) -> None:
        """A wheel was unpacked into its tree and compiled (called from any thread)."""

    def wheel_planned(self, wheel: Path, origin: Origin) -> None:
        """A wheel of the plan that this run built, or whose archive it downloaded."""

    def wheel_installed(self, wheel: Path) -> None:
        """pip-accel installed a wheel's tree into the target."""

    def handed_to_pip(self, count: int, built_by_pip: bool) -> None:
        """pip installed ``count`` distributions: source trees it builds (``built_by_pip``) or
        wheels that pip-accel prepared."""

    def objects_shared(self, count: int) -> None:
        """``count`` objects (wheels, trees, plans) were stored in the shared cache."""

    def pause(self) -> AbstractContextManager[None]:
        """Keep the terminal free while something is written or asked below the live line."""


class Reporters:
    """Several reporters as one: each event goes to every one of them, in order."""

    def __init__(self, *reporters: Reporter) -> None:
        """Hand every event to ``reporters``."""
        self.reporters = reporters

    @property
    def live(self) -> bool:
        """Whether one of them draws a live line."""
        return any(reporter.live for reporter in self.reporters)

    def archive_downloaded(self, archive: Path) -> None:
        """Tell each that an archive entered the local index."""
        for reporter in self.reporters:
            reporter.archive_downloaded(archive)

    def wheel_built(self, wheel: Path) -> None:
        """Tell each that a wheel was built."""
        for reporter in self.reporters:
            reporter.wheel_built(wheel)

    def tree_compiled(self, wheel: Path) -> None:
        """Tell each that a tree was unpacked and compiled."""
        for reporter in self.reporters:
            reporter.tree_compiled(wheel)

    def wheel_planned(self, wheel: Path, origin: Origin) -> None:
        """Tell each of a wheel of the plan that this run made."""
        for reporter in self.reporters:
            reporter.wheel_planned(wheel, origin)

    def wheel_installed(self, wheel: Path) -> None:
        """Tell each that a wheel was installed."""
        for reporter in self.reporters:
            reporter.wheel_installed(wheel)

    def handed_to_pip(self, count: int, built_by_pip: bool) -> None:
        """Tell each what pip installed."""
        for reporter in self.reporters:
            reporter.handed_to_pip(count, built_by_pip)

    def objects_shared(self, count: int) -> None:
        """Tell each what was stored in the shared cache."""
        for reporter in self.reporters:
            reporter.objects_shared(count)

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """Pause each of them."""
        with contextlib.ExitStack() as stack:
            for reporter in self.reporters:
                stack.enter_context(reporter.pause())
            yield
