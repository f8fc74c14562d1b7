"""The sha256 of wheels, by which their trees are named (:mod:`pip_accel.install.trees`).

A wheel of the data directory carries a record of its sha256 with its size and
modification time (:class:`pip_accel.datadir.records.Record`, in ``.sha256/<wheel>``
beside it): the local index writes one when an archive arrives, the local
binary cache when it stores a wheel. While size and time are the recorded
ones, the record answers without reading the wheel: one small read and one
``stat``, as cheap as the path and time that named trees before.

A wheel without a record (a data directory of an older pip-accel), or whose
times changed (a data directory copied, moved or restored by a CI cache) is
hashed once and recorded again, so that the next run is cheap. Within a run,
a wheel asked about again costs one ``stat``. A matching record is read
wherever it is (the wheels of another data directory, which a plan copied
along with its data directory names), but records are written only in this
data directory: a wheel outside it without one (a path on the command line)
is hashed each time, and nothing is written beside the user's files.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from pip_accel.config import Config
from pip_accel.datadir.records import Record, sha256_of
from pip_accel.files import hash_file


class WheelDigests:
    """Finds the sha256 of wheels, recorded beside those of some directories."""

    def __init__(self, recorded: Iterable[Path] = ()) -> None:
        """Keep records for the wheels below ``recorded`` (the local index, the binary cache)."""
        self.recorded = tuple(recorded)
        self.prefixes = tuple(os.path.join(directory, "") for directory in self.recorded)
        self.known: dict[Path, tuple[tuple[int, int], str]] = {}
        """The digest of each wheel already asked about in this run, with its size and time."""

    @classmethod
    def of(cls, config: Config) -> "WheelDigests":
        """Records for the wheels of the configured data directory."""
        return cls([config.source_index, config.binary_cache])

    def sha256(self, wheel: Path) -> str:
        """The sha256 of a wheel's contents, from its record while size and time match it.

        Raises :class:`OSError` when the wheel cannot be read.
        """
        status = os.stat(wheel)
        stamp = (status.st_size, status.st_mtime_ns)
        known = self.known.get(wheel)
        if known is not None and known[0] == stamp:  # asked before in this run: one stat
            return known[1]
        remembered = Record.read(wheel)
        if remembered is not None and (remembered.size, remembered.mtime_ns) == stamp:
            digest = remembered.sha256
        elif os.fspath(wheel).startswith(self.prefixes):
            digest = sha256_of(wheel)  # hashed, and recorded for the next run
        else:
            digest = hash_file(wheel)
        self.known[wheel] = (stamp, digest)
        return digest
