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

A new venv (a CI job's, a benchmark's) has a path of its own, so each venv's
answer is also kept with its prefix left out under ``<data>/probes/venvs``,
keyed by the base executable (path and stamp), the venv's ``pyvenv.cfg`` but
its ``command`` line, the executable's name, ``$HOME`` and the versions; a new
venv of the same base and settings takes that answer with its own prefix, as
long as no directory of the venv has a ``.pth`` file and those of the base
are unchanged.

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
        """The probe's answer for ``python``: the kept one while it holds, else ``probe()``'s.

        A new venv of a base interpreter whose other venv was probed takes that
        answer with the prefix changed (see :meth:`_relocated`).
        """
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
        # Through a linked directory the venv would name its prefix otherwise: probe it.
        signature = self._venv_signature(name) if os.path.abspath(python) == name else None
        relocated = self._relocated(name, signature) if signature else None
        if relocated is not None:  # kept once for every venv of its base: no file per venv
            return relocated
        info = probe()
        document = {
            "format": FORMAT,
            "python": name,
            "fingerprint": [*fingerprint, _pth_files(info)],
            "info": info,
        }
        self._write(path, document)
        if signature:
            self._keep_venv(name, signature, info)
        return info

    def _write(self, path: Path, document: dict[str, Any]) -> None:
        """Write a kept probe (one that cannot be written costs the next run a probe)."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(document).encode())
        except OSError as error:
            logger.debug("The probe could not be kept in %s: %s.", path, error)

    def _venv_signature(self, name: str) -> str | None:
        """What a venv's answer depends on but its prefix, for a venv at ``<prefix>/bin/...``.

        The base executable the venv's link leads to (path and stamp), the
        ``pyvenv.cfg`` but its ``command`` line (which names the venv), the
        executable's name, ``$HOME`` and the versions. None for no venv, or a
        venv whose executable is its own copy (nothing to share).
        """
        prefix = os.path.dirname(os.path.dirname(name))
        real = os.path.realpath(name)
        if real.startswith(prefix + os.sep):
            return None
        try:
            with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as stream:
                lines = [line.strip().replace(prefix, PREFIX) for line in stream]
        except (OSError, ValueError):
            return None
        settings = sorted(line for line in lines if line and not line.startswith("command"))
        question = [*self._fingerprint(name)[:5], os.path.basename(name), real, _stamp(real)]
        text = json.dumps([*question, settings])
        return hashlib.sha256(text.encode()).hexdigest()

    def _keep_venv(self, name: str, signature: str, info: dict[str, Any]) -> None:
        """Keep a venv's answer, its prefix a placeholder, for other venvs of the same base.

        Only an answer that names its prefix as pip-accel sees it, and whose
        directories in the venv have no ``.pth`` file (which a new venv lacks).
        """
        prefix = os.path.dirname(os.path.dirname(name))
        if info.get("prefix") != prefix or not info.get("in_venv") or _pth_inside(info, prefix):
            return
        document = {
            "format": FORMAT,
            "signature": signature,
            "outside": _pth_outside(info, prefix),
            "info": _replace_prefix(info, prefix, PREFIX),
        }
        self._write(self.directory / "venvs" / f"{signature}.json", document)

    def _relocated(self, name: str, signature: str) -> dict[str, Any] | None:
        """The answer of another venv of the same base, for the venv of ``name``, or None.

        Holds while the base's directories (outside either venv) have the same
        ``.pth`` files and the new venv's have none: a venv's answer is then its
        base's with its own prefix, as ``sysconfig`` and ``site`` make it.
        """
        kept = _read(self.directory / "venvs" / f"{signature}.json")
        if kept is None or kept.get("signature") != signature:
            return None
        prefix = os.path.dirname(os.path.dirname(name))
        info: dict[str, Any] = _replace_prefix(kept["info"], PREFIX, prefix)
        if _pth_inside(info, prefix) or _pth_outside(info, prefix) != kept.get("outside"):
            return None
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


PREFIX = "\0prefix"
"""What stands for a venv's prefix in an answer kept for other venvs (no path can hold it)."""


def _replace_prefix(value: Any, old: str, new: str) -> Any:
    """``value`` (a probe's answer) with each path in ``old`` (or ``old`` itself) in ``new``."""
    if isinstance(value, str):
        if value == old or value.startswith(old + os.sep):
            return new + value[len(old) :]
        return value
    if isinstance(value, list):
        return [_replace_prefix(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: _replace_prefix(item, old, new) for key, item in value.items()}
    return value


def _inside(directory: str, prefix: str) -> bool:
    """Whether ``directory`` is ``prefix`` or lies in it."""
    return directory == prefix or directory.startswith(prefix + os.sep)


def _pth_inside(info: dict[str, Any], prefix: str) -> bool:
    """Whether a directory of the interpreter's path in the venv has a ``.pth`` file."""
    for directory in info.get("sys_path", []):
        if _inside(str(directory), prefix):
            listing = _pth_files({"sys_path": [directory]})[1:]
            if listing and listing[0][1]:
                return True
    return False


def _pth_outside(info: dict[str, Any], prefix: str) -> list[Any]:
    """The ``.pth`` files of the directories of the interpreter's path outside the venv."""
    outside = [item for item in info.get("sys_path", []) if not _inside(str(item), prefix)]
    return _pth_files({"paths": info.get("paths", {}), "sys_path": outside})


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
