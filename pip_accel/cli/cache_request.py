"""The command line of ``pip-accel cache``, read into a :class:`Request` or refused in one line.

Spans and sizes take their units (``30d``, ``2GB``); a wrong command line is a
:class:`~pip_accel.exceptions.CacheUsageError` (exit code 2, as pip's usage errors).
"""

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from humanfriendly import InvalidTimespan, format_timespan
from humanfriendly import parse_timespan as parse_span

from pip_accel.config_options import parse_size_strictly
from pip_accel.exceptions import CacheUsageError

COMMANDS = ("dir", "info", "list", "remove", "prune", "purge", "keygen")
"""The subcommands of ``pip-accel cache``."""

SHORTEST_S3_SPAN = 24 * 60 * 60
"""The shortest ``--older-than`` of ``prune --s3`` without ``--yes``, in seconds: one day.
A shorter one removes what the fleet's running jobs have just stored and are about to use
(a span of nothing removes every object), which is rarely what was meant."""


@dataclass(frozen=True)
class Request:
    """A parsed ``pip-accel cache`` command line."""

    command: str
    pattern: str | None = None
    older_than: float | None = None
    """Seconds: entries unused (objects stored) longer ago than this go."""
    max_size: int | None = None
    s3: bool = False
    yes: bool = False
    """Whether ``prune --s3`` may remove objects stored less than a day ago."""
    file: Path | None = None
    verbosity: int = 0


class _Parser(argparse.ArgumentParser):
    """argparse, with each mistake as one line and a :class:`CacheUsageError`."""

    def error(self, message: str) -> NoReturn:
        """Raise the mistake, with where to read more."""
        raise CacheUsageError(f"{self.prog}: {message}; see `{self.prog} --help`.")


def parse_timespan(text: str) -> float:
    """A time span with its unit, such as ``30d`` or ``12h`` (a bare number is refused)."""
    try:
        if text.strip().replace(".", "", 1).isdigit():
            raise InvalidTimespan("no unit")
        return float(parse_span(text))
    except InvalidTimespan as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time span; give a number and a unit, such as 30d, 12h or 90m"
        ) from error


def parse_bytes(text: str) -> int:
    """A size such as ``5GB`` or ``500MiB``, in bytes (more than zero)."""
    try:
        return parse_size_strictly(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size of more than nothing; give one such as 20GB or 500MiB"
        ) from error


def parser() -> _Parser:
    """The parser of ``pip-accel cache`` command lines."""
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0)
    common.add_argument("-q", "--quiet", action="count", default=0)
    top = _Parser(prog="pip-accel cache", parents=[common])
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser("dir", parents=[common], help="print the data directory")
    info = commands.add_parser("info", parents=[common], help="show the size of each part")
    info.add_argument("--s3", action="store_true", help="also of the S3 bucket")
    listing = commands.add_parser("list", parents=[common], help="list the entries")
    listing.add_argument("pattern", metavar="PATTERN", nargs="?")
    removal = commands.add_parser("remove", parents=[common], help="remove matching entries")
    removal.add_argument("pattern", metavar="PATTERN")
    prune = commands.add_parser("prune", parents=[common], help="remove what is not needed")
    prune.add_argument("--older-than", type=parse_timespan, metavar="SPAN")
    prune.add_argument("--max-size", type=parse_bytes, metavar="SIZE")
    prune.add_argument("--s3", action="store_true", help="prune the S3 bucket instead")
    prune.add_argument(
        "--yes", action="store_true", help="with --s3, take an --older-than of less than a day"
    )
    commands.add_parser("purge", parents=[common], help="remove every entry")
    keygen = commands.add_parser("keygen", parents=[common], help="write a signing key pair")
    keygen.add_argument("file", metavar="FILE", type=Path)
    return top


def parse(args: Sequence[str]) -> Request:
    """Read a ``pip-accel cache`` command line (the words after ``cache``)."""
    words = [word for word in args if not word.startswith("-")]
    if words and words[0] not in COMMANDS:
        raise CacheUsageError(
            f"pip-accel cache: unknown command {words[0]!r}; use one of {', '.join(COMMANDS)}."
        )
    namespace = parser().parse_args(list(args))
    if namespace.command is None:
        raise CacheUsageError(
            f"pip-accel cache: give a command, one of {', '.join(COMMANDS)};"
            " see `pip-accel cache --help`."
        )
    s3_prune = namespace.command == "prune" and namespace.s3
    if s3_prune and (namespace.older_than is None or namespace.max_size is not None):
        raise CacheUsageError(
            "pip-accel cache prune: --s3 needs --older-than (such as --older-than 90d)"
            " and takes no --max-size; see `pip-accel cache prune --help`."
        )
    if namespace.command == "prune" and namespace.yes and not namespace.s3:
        raise CacheUsageError(
            "pip-accel cache prune: --yes goes with --s3 (the data directory's prune asks"
            " nothing); see `pip-accel cache prune --help`."
        )
    if s3_prune and namespace.older_than < SHORTEST_S3_SPAN and not namespace.yes:
        raise CacheUsageError(
            f"pip-accel cache prune: --s3 --older-than {format_timespan(namespace.older_than)}"
            " would remove what running jobs have just stored; give one day or more (such as"
            " --older-than 90d), or add --yes to remove it anyway. Nothing was removed."
        )
    return Request(
        command=namespace.command,
        pattern=getattr(namespace, "pattern", None),
        older_than=getattr(namespace, "older_than", None),
        max_size=getattr(namespace, "max_size", None),
        s3=getattr(namespace, "s3", False),
        yes=getattr(namespace, "yes", False),
        file=getattr(namespace, "file", None),
        verbosity=namespace.verbose - namespace.quiet,
    )
