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

import contextlib
import fnmatch
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from humanfriendly import format_size, format_timespan
from humanfriendly.text import pluralize
from packaging.utils import canonicalize_name

from pip_accel.cli.cache_request import Request
from pip_accel.config import Config
from pip_accel.datadir.expiry import count_files
from pip_accel.datadir.lock import DataLock
from pip_accel.datadir.scratch import remove_tree, tree_size
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

GLOB = frozenset("*?[")
"""Characters that make a pattern a glob rather than a project name."""


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
