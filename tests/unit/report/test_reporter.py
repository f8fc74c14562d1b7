"""Unit tests of :mod:`pip_accel.report.reporter`: one event, told to the summary and the line."""

import io
from pathlib import Path

from pip_accel.report.progress import Progress
from pip_accel.report.reporter import Reporters
from pip_accel.report.summary import Summary


def test_each_event_reaches_the_summary_and_the_live_line(tmp_path: Path) -> None:
    """The summary counts the plan's wheels, the installs and what was shared; the live line
    counts every download, build and compile."""
    summary, progress = Summary(), Progress(io.StringIO(), live=False)
    reporter = Reporters(summary, progress)
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"x" * 10)
    reporter.archive_downloaded(wheel)
    reporter.archive_downloaded(wheel)
    reporter.wheel_built(wheel)
    reporter.tree_compiled(wheel)
    reporter.wheel_planned(wheel, "built")
    reporter.wheel_planned(wheel, "downloaded")
    reporter.wheel_installed(wheel)
    reporter.wheel_installed(wheel)
    reporter.handed_to_pip(2, built_by_pip=True)
    reporter.handed_to_pip(1, built_by_pip=False)
    reporter.objects_shared(3)
    assert summary == Summary(installed=5, built=1, downloaded=1, by_pip=2, uploaded=3)
    assert (progress.downloads, progress.bytes, progress.builds, progress.compiles) == (
        2, 20, 1, 1,
    )  # fmt: skip


def test_the_reporters_are_live_and_pause_as_one() -> None:
    """Live when the live line is; a pause takes the live line away."""
    output = io.StringIO()
    progress = Progress(output, live=True)
    reporter = Reporters(Summary(), progress)
    assert reporter.live and not Reporters(Summary()).live
    with reporter.pause():
        assert progress.paused
    assert not progress.paused
