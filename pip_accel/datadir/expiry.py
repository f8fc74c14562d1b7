"""Small kept answers that expire: the warm starts and the interpreters' probes.

``<data>/starts`` (:mod:`pip_accel.cli.fast_start`) and ``<data>/probes``
(:mod:`pip_accel.probe_cache`) hold one small file per command line or
interpreter. Nothing else ever removes one: a CI host whose jobs run in a new
directory each (a new working directory is a new start) would gain a file per
job for ever. So each write first removes the files of its directory written
more than :data:`KEPT_FOR` ago.

A file's age is the time it was written, not its last use: reading it must
stay free (the warm path writes nothing). A start or probe in daily use is
therefore written again once every :data:`KEPT_FOR`, at the price of one run
that parses the command line with pip's parser (some 0.16 s) or probes the
interpreter (some 70 ms). They are not counted in the size bound
(``max-cache-size``) because they are not entries: the bound removes by last
use, which these files do not record, and their size (a few KB each, for what
a month of runs wrote) is no concern of it.

The module imports nothing but :mod:`os` and :mod:`time`: the warm path may import it.
"""

import os
import time
from pathlib import Path

KEPT_FOR = 30 * 24 * 60 * 60
"""How long a kept start or probe may stay after it was written, in seconds: 30 days."""


def remove_expired(directory: Path, kept_for: float = KEPT_FOR, now: float | None = None) -> int:
    """Remove the ``.json`` files of ``directory`` written more than ``kept_for`` seconds
    before ``now`` (default: the current time); return how many went.

    Only the directory's own files, not those of its subdirectories. A file that cannot be
    read or removed (another run removed it first, say) is left to the next write.
    """
    oldest = (time.time() if now is None else now) - kept_for
    removed = 0
    try:
        scan = os.scandir(directory)
    except OSError:
        return 0
    with scan:
        for item in scan:
            if not item.name.endswith(".json"):
                continue
            try:
                if item.is_file(follow_symlinks=False) and item.stat().st_mtime < oldest:
                    os.unlink(item.path)
                    removed += 1
            except OSError:
                continue
    return removed


def count_files(directory: Path) -> int:
    """How many kept files (``.json``) are below ``directory`` (0 when it is not there)."""
    return sum(name.endswith(".json") for _, _, names in os.walk(directory) for name in names)
