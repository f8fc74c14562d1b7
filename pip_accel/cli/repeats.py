"""The lines a warm start logged before it fell back are not logged again by the normal path.

A warm start (:mod:`pip_accel.cli.fast_start`) goes as far as the stored plan
before it knows whether that plan answers: it has chosen the target (and said
so, ``Installing for ...``) and may have warned about the configuration. When
no fresh stored plan answers, the run starts again on the normal path, which
does the same steps and says the same lines once more. :class:`Repeats`
remembers what the warm start said and drops each of those lines the next
time it is said, so that every line is printed once, when it first happened.
"""

import logging
from collections import Counter

Said = tuple[str, int, str]
"""A line as it is compared: the logger's name, the level and the message."""


class Repeats(logging.Filter):
    """A filter of log handlers: records what a warm start says, then drops its repetition."""

    def __init__(self) -> None:
        """Record what is said, until :meth:`fell_back`."""
        super().__init__()
        self.said: Counter[Said] = Counter()
        self.recording = True
        self.last: tuple[logging.LogRecord, bool] | None = None
        """The last record filtered and the answer (a record goes through every handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is logged: always while recording; then, unless it repeats."""
        if self.last is not None and self.last[0] is record:
            return self.last[1]
        line = (record.name, record.levelno, record.getMessage())
        keep = True
        if self.recording:
            self.said[line] += 1
        elif self.said[line] > 0:
            self.said[line] -= 1
            keep = False
        self.last = (record, keep)
        return keep

    def fell_back(self) -> None:
        """The warm start fell back: from now on, drop what it said when it is said again."""
        self.recording = False
        self.last = None
