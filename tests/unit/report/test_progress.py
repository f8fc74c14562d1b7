"""Unit tests of :mod:`pip_accel.report.progress`: the live line's words, and log lines under it."""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pip_accel.report.progress import CLEAR, Progress


def wait_until_shown(progress: Progress) -> None:
    """Return once the live line is on the terminal."""
    while not progress.shown:
        progress.stopped.wait(0.01)


@contextmanager
def live_progress(output: io.StringIO) -> Iterator[Progress]:
    """A live line on ``output`` that counts one compile, once it is shown."""
    with Progress(output, live=True, interval=0.01) as progress:
        progress.compiles = 1
        wait_until_shown(progress)
        yield progress


def test_the_line_counts_downloads_with_bytes_builds_and_compiles(tmp_path: Path) -> None:
    """Nothing done: no line; then each count, in words, with the size of the archives."""
    progress = Progress(io.StringIO(), live=False)
    assert progress.line() == ""
    archive = tmp_path / "demo-1.0-py3-none-any.whl"
    archive.write_bytes(b"x" * 1500)
    progress.archive_downloaded(archive)
    progress.archive_downloaded(archive)
    progress.wheel_built(tmp_path / "cext.whl")
    progress.tree_compiled(archive)
    line = progress.line()
    assert line.startswith("Downloaded 2 archives (3 KB), built 1 sdist, compiled 1 wheel (")
    assert line.endswith("seconds)")


def test_a_log_line_takes_the_live_line_away_and_draws_it_again() -> None:
    """The log line stands alone on its line; the live line follows it."""
    output = io.StringIO()
    progress = Progress(output, live=True)
    progress.compiles = 1
    with progress.lock:
        progress.draw()
    progress.stream.write("a log line\n")
    text = output.getvalue()
    first, _, rest = text.partition(CLEAR + "a log line\n")
    assert first == CLEAR + progress.line()
    assert rest.startswith(CLEAR + "Compiled 1 wheel")


def test_not_live_writes_log_lines_only() -> None:
    """Without a terminal (or with -q) nothing but the log lines reaches the output."""
    output = io.StringIO()
    with Progress(output, live=False, interval=0.01) as progress:
        progress.compiles = 3
        progress.stream.write("one\n")
    assert output.getvalue() == "one\n"


def test_leaving_erases_the_line() -> None:
    """After the run the terminal shows no half line."""
    output = io.StringIO()
    with live_progress(output) as progress:
        pass
    assert output.getvalue().endswith(CLEAR)
    assert not progress.shown


def test_a_pause_takes_the_line_away_and_keeps_it_away() -> None:
    """While a question is asked the line is neither shown nor drawn again."""
    output = io.StringIO()
    with live_progress(output) as progress:
        with progress.pause():
            assert not progress.shown
            before = output.getvalue()
            progress.stopped.wait(0.05)
            assert output.getvalue() == before, "drawn during the pause"
        wait_until_shown(progress)
