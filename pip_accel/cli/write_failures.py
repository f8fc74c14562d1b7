"""One line for a write the machine refused: a full disk, or a denied permission in the data
directory.

Such an error can stop a run anywhere (a download, a build, an install), so the command line
explains it, once, where it ends the run; every other error is a bug, better shown with its
traceback.
"""

import errno
import os
from pathlib import Path

from pip_accel.config import user_name

FULL_DISK = frozenset({errno.ENOSPC, errno.EDQUOT})
"""The numbers of errors that say a file system (or the user's quota on it) is full."""

DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
"""The numbers of errors that say a write was not permitted."""


def explain_write_failure(error: OSError, data: Path | None) -> str | None:
    """One line that explains a write the machine refused, or None for any other error.

    A full disk or an exhausted quota can stop a write anywhere; a denied
    permission (or a read-only file system) is explained only inside the
    data directory ``data`` (None: not settled yet), where changing the data
    directory helps.
    """
    if error.errno in FULL_DISK:
        written = _filenames(error)
        path = written[0] if written else data or "the data directory"
        return (
            f"{_reason(error)} while writing {path}: free some space or choose another"
            " data directory ($PIP_ACCEL_CACHE), then run pip-accel again."
        )
    inside = [name for name in _filenames(error) if data and _is_inside(name, data)]
    if error.errno in DENIED and inside:
        detail = "" if error.errno == errno.EACCES else f" ({_reason(error)})"
        return (
            f"Permission denied writing {inside[0]}{detail}: make it writable by the user"
            f" {user_name()} or choose another data directory ($PIP_ACCEL_CACHE),"
            " then run pip-accel again."
        )
    return None


def _filenames(error: OSError) -> list[str]:
    """The paths an error names, the written one (the second, as in a copy) first."""
    names = [error.filename2, error.filename]
    return [os.fsdecode(name) for name in names if isinstance(name, str | bytes) and name]


def _is_inside(name: str, directory: Path) -> bool:
    """Whether the path ``name`` is ``directory`` or lies below it."""
    return Path(os.path.abspath(name)).is_relative_to(os.path.abspath(directory))


def _reason(error: OSError) -> str:
    """The system's words for an error's number, such as "No space left on device"."""
    return error.strerror or os.strerror(error.errno or 0)
