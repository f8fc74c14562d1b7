"""Unit tests of ``pip_accel.cli.repeats``: what a warm start said is not said again."""

import io
import logging

from pip_accel.cli.repeats import Repeats


def logged(repeats: Repeats, *lines: tuple[str, int, str]) -> list[str]:
    """The messages two handlers with ``repeats`` print of ``lines`` (name, level, message)."""
    streams = [io.StringIO(), io.StringIO()]
    logger = logging.getLogger("test_repeats")
    logger.propagate, logger.handlers[:] = False, []
    for stream in streams:
        handler = logging.StreamHandler(stream)
        handler.addFilter(repeats)
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    for name, level, message in lines:
        logging.getLogger(f"test_repeats.{name}").log(level, message)
    assert streams[0].getvalue() == streams[1].getvalue(), "each handler prints the same"
    return streams[0].getvalue().splitlines()


INSTALLING = ("environment", logging.INFO, "Installing for /venv/bin/python (from --python).")
WARNING = ("config", logging.WARNING, "An option is named twice.")
PLANNING = ("planner", logging.INFO, "Planning with pip.")


def test_while_recording_every_line_is_printed() -> None:
    """The warm start says everything it says (twice, if it says it twice)."""
    assert logged(Repeats(), INSTALLING, WARNING, INSTALLING) == [
        INSTALLING[2], WARNING[2], INSTALLING[2]
    ]  # fmt: skip


def test_after_the_fallback_what_was_said_is_dropped_once() -> None:
    """The normal path's repetition of each line goes; its new lines, and a line said more
    often than the warm start said it, are printed."""
    repeats = Repeats()
    logged(repeats, INSTALLING, WARNING)
    repeats.fell_back()
    assert logged(repeats, INSTALLING, WARNING, PLANNING, INSTALLING) == [
        PLANNING[2], INSTALLING[2]
    ]  # fmt: skip


def test_the_same_message_at_another_level_or_logger_is_not_a_repeat() -> None:
    """A line is the same only with the same logger, level and message."""
    repeats = Repeats()
    logged(repeats, INSTALLING)
    repeats.fell_back()
    other_level = (INSTALLING[0], logging.WARNING, INSTALLING[2])
    other_logger = ("elsewhere", INSTALLING[1], INSTALLING[2])
    assert logged(repeats, other_level, other_logger) == [INSTALLING[2], INSTALLING[2]]
