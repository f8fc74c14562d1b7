"""``pip-accel cache``: see, list and remove what pip-accel keeps in its data directory.

``pip cache`` knows only pip's own cache (downloads and wheels of pip), so
pip-accel answers ``cache`` itself; its output follows ``pip cache``'s.
Subcommands:

``dir``
    the data directory
``info [--s3]``
    size and number of entries of each part (and of the bucket), how many
    projects the freshness record knows, and how many warm starts and
    interpreter probes are kept
``list [PATTERN]``
    the entries, with their size and last use
``remove PATTERN``
    the entries of a project (or matching a glob), with the plans naming them
``prune``
    what killed runs left, plans that can no longer be used, and then: entries
    unused for ``--older-than``, and the size bound (``--max-size``, else the
    option ``max-cache-size``)
``prune --s3 --older-than SPAN [--yes]``
    the bucket's objects (those of pip-accel's layouts) stored longer ago than
    that; a span under a day only with ``--yes``
``purge``
    every entry, the freshness record (every loose requirement then asks
    the package index once), the warm starts and the interpreter probes
``keygen FILE``
    a key pair for signing the shared cache

A wrong command line is one line on standard error and exit code 2 (as pip's
usage errors); a command that cannot do its work, exit code 1. Nothing is
removed in either case. Whatever removes entries waits until no install uses
the data directory (:mod:`pip_accel.datadir.lock`).
"""

import argparse
import contextlib
import fnmatch
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO

from humanfriendly import InvalidTimespan, format_size, format_timespan
from humanfriendly import parse_timespan as parse_span
from humanfriendly.text import pluralize
from packaging.utils import canonicalize_name

from pip_accel.config import Config
from pip_accel.config_options import parse_size_strictly
from pip_accel.datadir.expiry import count_files
from pip_accel.datadir.lock import DataLock
from pip_accel.datadir.scratch import remove_tree, tree_size
from pip_accel.exceptions import CacheUsageError
from pip_accel.plan.freshness import FreshnessRecord
from pip_accel.upkeep.entries import KINDS, NOUNS, DataDirectory, Entry
from pip_accel.upkeep.eviction import (
    describe,
    remove,
    stale_plans,
    unused_since,
    with_plans,
    within_bound,
)

logger = logging.getLogger(__name__)

COMMANDS = ("dir", "info", "list", "remove", "prune", "purge", "keygen")
"""The subcommands of ``pip-accel cache``."""

GLOB = frozenset("*?[")
"""Characters that make a pattern a glob rather than a project name."""

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


def run(config: Config, request: Request, out: TextIO, now: float) -> int:
    """Carry out a parsed command; write its answer to ``out``; return the exit code."""
    handlers: dict[str, Callable[[Config, Request, TextIO, float], None]] = {
        "dir": show_dir,
        "info": show_info,
        "list": show_list,
        "remove": remove_matching,
        "prune": prune,
        "purge": purge,
        "keygen": keygen,
    }
    handlers[request.command](config, request, out, now)
    return 0


def show_dir(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Print the data directory."""
    out.write(f"{config.data_directory}\n")


def show_info(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Print the size and number of entries of each part, in the manner of ``pip cache info``."""
    data = DataDirectory(config.data_directory)
    entries = data.entries()
    out.write(f"Data directory: {data.root}\n")
    for kind in KINDS:
        items = [entry for entry in entries if entry.kind == kind]
        heading = f"{NOUNS[kind].capitalize()}s"
        out.write(f"{heading} location: {data.part(kind)}\n")
        out.write(f"{heading} size: {format_size(sum(entry.size for entry in items))}\n")
        out.write(f"Number of {NOUNS[kind]}s: {len(items)}\n")
    record = FreshnessRecord.of(config)
    out.write(f"Freshness record location: {record.directory}\n")
    out.write(f"Number of projects in the freshness record: {len(record.projects())}\n")
    for heading, directory in _kept_answers(config):
        out.write(f"{heading.capitalize()} location: {directory}\n")
        out.write(f"{heading.capitalize()} size: {format_size(tree_size(directory))}\n")
        out.write(f"Number of {heading}: {count_files(directory)}\n")
    out.write(f"Total size: {format_size(sum(entry.size for entry in entries))}\n")
    bound = config.max_cache_size
    out.write(f"Size bound (max-cache-size): {format_size(bound) if bound else 'none'}\n")
    if request.s3:
        show_bucket(config, out)


def show_bucket(config: Config, out: TextIO) -> None:
    """Print the size and number of the objects of each kind in the bucket."""
    from pip_accel.caches.s3_admin import connect_reader

    bucket = connect_reader(config)
    objects = list(bucket.objects())
    out.write(f"S3 cache: {bucket.url}\n")
    for kind in KINDS:
        items = [item for item in objects if item.kind == kind]
        size = format_size(sum(item.size for item in items))
        out.write(f"S3 {NOUNS[kind]}s: {len(items)} ({size})\n")
    out.write(f"S3 total size: {format_size(sum(item.size for item in objects))}\n")


def show_list(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Print the entries (those matching the pattern), part by part, with size and last use."""
    entries = DataDirectory(config.data_directory).entries()
    chosen = [entry for entry in entries if matches(entry, request.pattern)]
    if not chosen:
        what = f'match "{request.pattern}"' if request.pattern else "are in the data directory"
        out.write(f"No entries {what}.\n")
        return
    for kind in KINDS:
        items = sorted((entry for entry in chosen if entry.kind == kind), key=_list_order)
        if items:
            out.write(f"{NOUNS[kind].capitalize()}s:\n")
            out.writelines(f" - {_describe_entry(entry, now)}\n" for entry in items)


def remove_matching(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Remove the entries that match the pattern, and the plans that name their wheels."""
    data = DataDirectory(config.data_directory)
    with alone(data):
        entries = data.entries()
        matching = [entry for entry in entries if matches(entry, request.pattern)]
        chosen = with_plans(entries, matching)
        if not chosen:
            logger.warning('No entries match "%s"; nothing was removed.', request.pattern)
        _report(out, chosen, remove(data, chosen))


def prune(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Remove what can no longer be used, what was unused too long, and what exceeds the bound.

    With ``--s3``, remove the bucket's objects stored longer ago than ``--older-than``.
    """
    if request.s3:
        prune_bucket(config, request, out, now)
        return
    data = DataDirectory(config.data_directory)
    with alone(data):
        leftovers = data.remove_leftovers()
        entries = data.entries()
        chosen = stale_plans(entries)
        if request.older_than is not None:
            chosen += unused_since(entries, now - request.older_than)
        chosen = with_plans(entries, chosen)
        bound = request.max_size or config.max_cache_size
        if bound is not None:
            gone = {entry.path for entry in chosen}
            rest = [entry for entry in entries if entry.path not in gone]
            chosen += within_bound(rest, bound, set())
        _report(out, chosen, remove(data, chosen), leftovers)


def prune_bucket(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Remove the bucket's objects that were stored longer ago than ``--older-than``."""
    from pip_accel.caches.s3_admin import connect_writer

    assert request.older_than is not None
    bucket = connect_writer(config)
    old = [item for item in bucket.objects() if item.last_modified < now - request.older_than]
    if bucket.others:
        logger.info(
            "Leaving %s under %s alone: pip-accel does not write such names.",
            pluralize(bucket.others, "other object"), bucket.url,
        )  # fmt: skip
    bucket.delete(old)
    size = format_size(sum(item.size for item in old))
    span = format_timespan(request.older_than)
    out.write(
        f"Removed {pluralize(len(old), 'object')} ({size}) stored more than {span} ago"
        f" from {bucket.url}.\n"
    )


def purge(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Remove every entry, the freshness record, the warm starts and the probes, and what
    killed runs left behind."""
    data = DataDirectory(config.data_directory)
    with alone(data):
        leftovers = data.remove_leftovers()
        entries = data.entries()
        freed = remove(data, entries) + FreshnessRecord.of(config).clear()
        for _, directory in _kept_answers(config):
            freed += tree_size(directory)
            remove_tree(directory)
        _report(out, entries, freed, leftovers)


def _kept_answers(config: Config) -> list[tuple[str, Path]]:
    """The directories of the small answers kept for warm runs, each with what it holds
    (not entries: they expire on their own, :mod:`pip_accel.datadir.expiry`)."""
    return [("warm starts", config.start_cache), ("interpreter probes", config.probe_cache)]


def keygen(config: Config, request: Request, out: TextIO, now: float) -> None:
    """Write a new signing key to ``FILE`` and its public key to ``FILE.pub``."""
    from pip_accel.caches.signing import keygen as write_key_pair  # needs the s3 extra

    assert request.file is not None
    write_key_pair(request.file)
    out.write(
        f"Wrote the private key {request.file} (for s3-signing-key) and the public key"
        f" {request.file}.pub (for s3-trusted-keys).\n"
    )


def matches(entry: Entry, pattern: str | None) -> bool:
    """Whether an entry matches a pattern: a project's name, or a glob of entry names.

    No pattern matches every entry.
    """
    if pattern is None:
        return True
    if GLOB.intersection(pattern):
        return fnmatch.fnmatch(entry.name.lower(), pattern.lower())
    return entry.project is not None and entry.project == canonicalize_name(pattern)


@contextlib.contextmanager
def alone(data: DataDirectory) -> Iterator[None]:
    """Hold the data directory's lock alone, waiting (and saying so) while installs use it."""
    lock = DataLock(data.root)
    with lock.exclusive(wait=False) as held:
        if held:
            yield
            return
    logger.info("Waiting for the pip-accel installs that use %s to finish.", data.root)
    with lock.exclusive(wait=True):
        yield


def _report(out: TextIO, removed: Sequence[Entry], freed: int, leftovers: int = 0) -> None:
    """Say what was removed, in one sentence."""
    count = pluralize(len(removed), "entry", "entries")
    kinds = f": {describe(removed)}" if removed else ""
    out.write(f"Removed {count} ({format_size(freed)}){kinds}.\n")
    if leftovers:
        out.write(f"Removed what interrupted runs left behind ({format_size(leftovers)}).\n")


def _list_order(entry: Entry) -> tuple[str, str]:
    """Entries are listed by project, then name."""
    return (entry.project or "", entry.name)


def _describe_entry(entry: Entry, now: float) -> str:
    """One line of ``list``: the name, size and last use of an entry."""
    age = format_timespan(max(0.0, now - entry.last_used), max_units=1)
    return f"{entry.name} ({format_size(entry.size)}, last used {age} ago)"
