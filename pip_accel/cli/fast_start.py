"""A warm start: the command line as pip's parser read it last time, found without pip.

Importing pip's option parser takes longer (some 0.16 s) than the rest of a
warm run's planning. What the parser makes of a command line depends only on
the words, pip's configuration and the versions of pip and pip-accel, so a
run that installed from a stored plan (or stored one) keeps what the parser
made of its command line under ``<data>/starts``, keyed by:

- the words of the command line (but the value of ``--python``, which pip's
  parser only keeps: the same install into another venv is the same start),
  the working directory and ``sys.prefix`` (pip's site configuration file and
  default directories);
- every ``PIP_*`` variable and those that move pip's configuration and
  directories (``$HOME``, ``$XDG_*``, ``$PYTHONUSERBASE``);
- the versions of pip-accel and pip, and the stamp of pip's ``__init__.py``;

and checked, once found, against the contents of every configuration file pip
may read (one that appeared, changed or went away is a miss). A later run with
the same key rebuilds the command line from it and goes on as usual: the
target is selected and probed, the stored plan's key is computed from the
requirement files as they are now, and only when that plan is there and fresh
does the run go on without pip's parser (:class:`StoredPlanOnly`); otherwise it
starts again on the normal path.

Only plain values are kept: strings, numbers, lists, sets, tuples, dicts, and
pip's small value objects (such as ``FormatControl``) by their fields, rebuilt
as :class:`Restored` objects with the same attributes. A command line with any
other value is never kept.
"""

import hashlib
import json
import logging
import optparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pip_accel import __version__
from pip_accel.files import write_atomically
from pip_accel.pip.command_line import CommandLine, OptionGroup
from pip_accel.pip.runner import pip_version

logger = logging.getLogger(__name__)

FORMAT = 1
"""The layout of a kept start; part of every key."""

VARIABLES = (
    "HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_CACHE_HOME",
    "PYTHONUSERBASE",
)  # fmt: skip
"""Variables besides ``PIP_*`` that change where pip's configuration and defaults come from."""


PYTHON = "--python"
"""pip's option that names the target interpreter, whose value a key may leave out."""


class NotRecordable(ValueError):
    """An option value that a kept start cannot hold."""


class Restored(SimpleNamespace):
    """One of pip's value objects, rebuilt from its fields (attributes alone, no methods).

    Its attributes are the fields and nothing else (the class name is the
    class's, :func:`restored_class`), so that it reads like the original.
    """

    kind = ""
    """The module and name of pip's class."""


@cache
def restored_class(kind: str) -> type[Restored]:
    """The class of restored objects of pip's class ``kind``."""
    return type(kind.rpartition(".")[2], (Restored,), {"kind": kind})


@dataclass(frozen=True)
class Start:
    """What a kept start gives: the command line and pip's general option tokens."""

    command_line: CommandLine
    general: list[str]


class StartRecords:
    """Kept starts under ``directory``, one file per key."""

    def __init__(self, directory: Path) -> None:
        """Keep starts in ``directory``."""
        self.directory = directory

    def load(self, argv: Sequence[str], environ: Mapping[str, str], cwd: str) -> Start | None:
        """The start kept for this command line and environment, if it is there and holds.

        Kept under the words as they are, or with the value of ``--python``
        left out (:func:`python_position`), so that the same install into
        another venv finds it too: each word after a ``--python`` is tried.
        """
        positions = [None, *(p for p in range(1, len(argv)) if argv[p - 1] == PYTHON)]
        for position in positions:
            if position is not None and argv[position].startswith("-"):
                continue
            start = self._load(argv, environ, cwd, position)
            if start is not None:
                return start
        return None

    def _load(
        self, argv: Sequence[str], environ: Mapping[str, str], cwd: str, position: int | None
    ) -> Start | None:
        """The start kept under the key of ``argv`` with the word at ``position`` left out."""
        key = start_key(_masked(argv, position), environ, cwd)
        path = self.directory / f"{key}.json"
        try:
            document = json.loads(path.read_bytes())
            if document["format"] != FORMAT or document["key"] != key:
                return None
            if document["python_position"] != position:
                return None
            if document["files"] != _file_digests(document["files"]):
                return None
            groups = [OptionGroup(tuple(tokens), dest) for tokens, dest in document["groups"]]
            values = {dest: decode(value) for dest, value in document["options"].items()}
            if position is not None:  # the value left out of the key, put back
                values["python"] = argv[position]
                groups = [
                    OptionGroup((PYTHON, argv[position]), group.dest)
                    if group.dest == "python"
                    else group
                    for group in groups
                ]
            command_line = CommandLine("install", groups, optparse.Values(values))
            return Start(command_line, [str(token) for token in document["general"]])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as error:
            logger.debug("The kept start %s cannot be used (%s).", path, error)
            return None

    def store(
        self,
        argv: Sequence[str],
        environ: Mapping[str, str],
        cwd: str,
        start: Start,
        config_files: Iterable[str],
    ) -> None:
        """Keep what pip's parser made of ``argv`` (a start that cannot be kept costs nothing)."""
        position = python_position(argv, start.command_line)
        key = start_key(_masked(argv, position), environ, cwd)
        try:
            options = {
                dest: encode(value) for dest, value in vars(start.command_line.options).items()
            }
        except NotRecordable as error:
            logger.debug("The command line is not kept for a warm start: %s.", error)
            return
        try:
            files = _file_digests(dict.fromkeys(config_files))
        except OSError as error:  # a configuration file this user cannot read, say
            logger.debug("The command line is not kept for a warm start: %s.", error)
            return
        document = {
            "format": FORMAT,
            "key": key,
            "files": files,
            "groups": [[list(group.tokens), group.dest] for group in start.command_line.groups],
            "options": options,
            "general": list(start.general),
            "python_position": position,
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(self.directory / f"{key}.json", json.dumps(document).encode())
        except OSError as error:
            logger.debug("The command line could not be kept for a warm start: %s.", error)


def python_position(argv: Sequence[str], command_line: CommandLine) -> int | None:
    """Where in ``argv`` the value of ``--python`` is, when it can be left out of the key.

    pip's parser keeps that value as it is and reads nothing else from it, so
    a command line that differs only there is read the same way, but for the
    value itself. Only the plain form ``--python VALUE``, given once, with a
    value that is no option and found nowhere else in ``argv``, is left out.
    """
    groups = [group for group in command_line.groups if group.dest == "python"]
    if len(groups) != 1 or groups[0].tokens[0] != PYTHON or len(groups[0].tokens) != 2:
        return None
    value = groups[0].tokens[1]
    places = [p for p in range(1, len(argv)) if argv[p] == value and argv[p - 1] == PYTHON]
    if len(places) != 1 or argv.count(value) != 1 or value.startswith("-"):
        return None
    return places[0]


def _masked(argv: Sequence[str], position: int | None) -> list[str]:
    """``argv`` with the word at ``position`` (if any) replaced by a mark no word can be."""
    words = list(argv)
    if position is not None:
        words[position] = "\0python"
    return words


def start_key(argv: Sequence[str], environ: Mapping[str, str], cwd: str) -> str:
    """The key of a kept start: what pip's parser reads besides its configuration files."""
    variables = {
        name: value
        for name, value in environ.items()
        if name.startswith("PIP_") or name in VARIABLES
    }
    question = [FORMAT, __version__, pip_version(), _pip_stamp(), sys.prefix, cwd, list(argv)]
    text = json.dumps([*question, variables], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _pip_stamp() -> list[int] | None:
    """Inode, size and time of pip's ``__init__.py``: pip installed again is another file."""
    import importlib.util

    spec = importlib.util.find_spec("pip")
    try:
        status = os.stat(spec.origin) if spec and spec.origin else None
    except OSError:
        return None
    return [status.st_ino, status.st_size, status.st_mtime_ns] if status else None


def _file_digests(files: Mapping[str, Any]) -> dict[str, str | None]:
    """The sha256 of each file's contents, or None for a file that is not there."""
    digests: dict[str, str | None] = {}
    for name in files:
        try:
            digests[name] = hashlib.sha256(Path(name).read_bytes()).hexdigest()
        except FileNotFoundError:
            digests[name] = None
    return digests


def encode(value: Any) -> Any:
    """An option value as JSON that :func:`decode` turns back into an equal value.

    Raises :class:`NotRecordable` for anything but plain values and objects of
    plain fields.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, (tuple, set, frozenset)):
        items = [encode(item) for item in value]
        kind = type(value).__name__
        return {"kind": kind, "items": items if kind == "tuple" else sorted(items, key=repr)}
    if isinstance(value, dict):
        if not all(isinstance(name, str) for name in value):
            raise NotRecordable(f"a dict with keys that are not strings ({value!r})")
        return {"kind": "dict", "items": {name: encode(item) for name, item in value.items()}}
    return {"kind": "object", "class": _class_name(value), "fields": _fields(value)}


def decode(value: Any) -> Any:
    """An option value from its JSON form (see :func:`encode`)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value["kind"]
    if kind == "object":
        fields = {name: decode(item) for name, item in value["fields"].items()}
        return restored_class(str(value["class"]))(**fields)
    if kind == "dict":
        return {name: decode(item) for name, item in value["items"].items()}
    items = [decode(item) for item in value["items"]]
    kinds: dict[str, type] = {"tuple": tuple, "set": set, "frozenset": frozenset}
    return kinds[kind](items)


def _class_name(value: Any) -> str:
    """The class of an object a start may keep: pip's own value classes (or a restored one)."""
    if isinstance(value, Restored):
        return value.kind
    kind = type(value)
    if not kind.__module__.startswith("pip._internal.models."):
        raise NotRecordable(f"a {kind.__module__}.{kind.__qualname__}")
    return f"{kind.__module__}.{kind.__qualname__}"


def _fields(value: Any) -> dict[str, Any]:
    """The fields of one of pip's value objects (slots, or its ``__dict__``), encoded."""
    if hasattr(value, "__dict__"):
        names = list(vars(value))
    else:
        names = list(getattr(type(value), "__slots__", ()))
    if any(callable(getattr(value, name, None)) for name in names):
        raise NotRecordable(f"a {type(value).__name__} with a callable field")
    return {name: encode(getattr(value, name, None)) for name in names}
