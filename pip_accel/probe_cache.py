"""The target interpreter's probe, kept per interpreter so that a warm run starts no process.

Running ``_probe.py`` with the target interpreter costs a new process (some
70 ms, a third of a warm run's own work). Its answer changes only when the
interpreter does, so it is kept under ``<data>/probes``, one file per
interpreter path, with a *fingerprint* of everything the answer depends on:

- the path the interpreter is called by (a venv's ``bin/python``, its parent
  directories resolved) and the real path of the executable it leads to;
- the executable's device, inode, size and modification time, and those of the
  ``pyvenv.cfg`` beside it: a venv made again at the same path, with the same
  or another Python, writes a new ``pyvenv.cfg`` (and usually links another
  executable), and an interpreter installed again is a new file;
- the ``.pth`` files (names, sizes, times) of the directories on its path,
  which add entries to ``sys.path``, and the stdlib directory's own stamp;
- ``$HOME`` (the user scheme's paths), and the versions of pip-accel and of
  ``packaging`` (which computes the tags) together with the probe's own source.

A file that cannot be read, or whose fingerprint differs, is a miss: the probe
runs and its answer replaces the file. A file that cannot be written costs
nothing but the next run's probe.
"""

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import packaging

from pip_accel import __version__, _probe
from pip_accel.files import write_atomically

logger = logging.getLogger(__name__)

FORMAT = 1
"""The layout of a kept probe."""

Probe = Callable[[], dict[str, Any]]
"""Runs the probe with the target interpreter and returns its answer."""


class ProbeCache:
    """The probes of target interpreters under ``directory``, one file per interpreter path."""

    def __init__(self, directory: Path, environ: Mapping[str, str] | None = None) -> None:
        """Keep probes in ``directory``; ``environ`` gives ``$HOME`` (default: ``os.environ``)."""
        self.directory = directory
        self.environ = os.environ if environ is None else environ

    def info(self, python: Path, probe: Probe) -> dict[str, Any]:
        """The probe's answer for ``python``: the kept one while it holds, else ``probe()``'s."""
        name = _called_path(python)
        path = self.directory / f"{hashlib.sha256(name.encode()).hexdigest()}.json"
        fingerprint = self._fingerprint(name)
        kept = _read(path)
        if (
            kept is not None
            and kept.get("python") == name
            and kept.get("fingerprint") == [*fingerprint, _pth_files(kept.get("info"))]
        ):
            info: dict[str, Any] = kept["info"]
            return info
        info = probe()
        document = {
            "format": FORMAT,
            "python": name,
            "fingerprint": [*fingerprint, _pth_files(info)],
            "info": info,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(document).encode())
        except OSError as error:
            logger.debug("The probe of %s could not be kept in %s: %s.", python, path, error)
        return info

    def _fingerprint(self, name: str) -> list[Any]:
        """What the probe's answer depends on, but for the ``.pth`` files (see the module)."""
        bin_directory = os.path.dirname(name)
        return [
            FORMAT,
            __version__,
            packaging.__version__,
            _source_digest(),
            self.environ.get("HOME"),
            os.path.realpath(name),
            _stamp(name),
            _stamp(os.path.join(bin_directory, "pyvenv.cfg")),
            _stamp(os.path.join(os.path.dirname(bin_directory), "pyvenv.cfg")),
        ]


def _called_path(python: Path) -> str:
    """The interpreter's path, its directories resolved but not the file (a venv's link)."""
    absolute = os.path.abspath(python)
    return os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))


def _stamp(path: str) -> list[int] | None:
    """Device, inode, size and modification time of a file (following links), or None."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns]


def _pth_files(info: Any) -> list[Any]:
    """The ``.pth`` files on the interpreter's path and the stdlib's stamp, from its answer."""
    if not isinstance(info, dict):
        return [None]
    found: list[Any] = [_stamp(str(info.get("paths", {}).get("stdlib", "")))]
    for directory in info.get("sys_path", []):
        try:
            names = sorted(name for name in os.listdir(directory) if name.endswith(".pth"))
        except OSError:
            continue
        found.append([directory, [[name, _stamp(os.path.join(directory, name))] for name in names]])
    return found


@cache
def _source_digest() -> str:
    """The sha256 of the probe's source: a changed probe answers other questions."""
    return hashlib.sha256(Path(_probe.__file__).read_bytes()).hexdigest()


def _read(path: Path) -> dict[str, Any] | None:
    """A kept probe as parsed JSON, or None when there is none or it cannot be read."""
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as error:
        logger.debug("The kept probe %s cannot be read (%s); probing anew.", path, error)
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    if not isinstance(document.get("info"), dict):
        return None
    return document
