"""The sha256 of wheels, by which their trees are named (:mod:`pip_accel.trees`).

A wheel of the data directory carries a record of its sha256 with its size and
modification time (:class:`pip_accel.index.Record`, in ``.sha256/<wheel>``
beside it): the local index writes one when an archive arrives, the local
binary cache when it stores a wheel. While size and time are the recorded
ones, the record answers without reading the wheel: one small read and one
``stat``, as cheap as the path and time that named trees before.

A wheel without a record (a data directory of an older pip-accel), or whose
times changed (a data directory copied, moved or restored by a CI cache) is
hashed once and recorded again, so that the next run is cheap. A wheel outside
the data directory (a path on the command line) is hashed every time: nothing
is written beside the user's files.
"""

from collections.abc import Iterable
from pathlib import Path

from pip_accel.config import Config
from pip_accel.files import hash_file
from pip_accel.index import sha256_of


class WheelDigests:
    """Finds the sha256 of wheels, recorded beside those of some directories."""

    def __init__(self, recorded: Iterable[Path] = ()) -> None:
        """Keep records for the wheels below ``recorded`` (the local index, the binary cache)."""
        self.recorded = tuple(recorded)

    @classmethod
    def of(cls, config: Config) -> "WheelDigests":
        """Records for the wheels of the configured data directory."""
        return cls([config.source_index, config.binary_cache])

    def sha256(self, wheel: Path) -> str:
        """The sha256 of a wheel's contents, from its record while size and time match it.

        Raises :class:`OSError` when the wheel cannot be read.
        """
        if any(wheel.is_relative_to(directory) for directory in self.recorded):
            return sha256_of(wheel)
        return hash_file(wheel)
