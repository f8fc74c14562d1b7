"""Which entries of the data directory go: for the size bound, by age, or because they are stale.

The bound (option ``max-cache-size``) removes the entries unused for longest
first, cheapest to make again first: unpacked trees (unzip and compile), then
built wheels (a build), then source archives (a download), sdists before
wheels of the local index (those may be build back-ends that the remaining
sdists need), and stored plans last. A plan goes with any wheel it names,
since it can no longer be used. Entries that the current run used are never
chosen, and the caller holds the data directory's lock alone, so that no
other run uses any (:mod:`pip_accel.datadir.lock`).

The functions that choose take the entries and return a selection; nothing
here reads the clock or the file system but :func:`after_install`, which
records the run's use, chooses and removes.
"""

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from humanfriendly import format_size
from humanfriendly.text import pluralize

from pip_accel.datadir.lock import DataLock
from pip_accel.plan.stored import parse_plan
from pip_accel.upkeep.entries import NOUNS, DataDirectory, Entry, mark_used, remove_entry

logger = logging.getLogger(__name__)

TIERS = {"tree": 0, "wheel": 1, "source": 2, "plan": 4}
"""The order in which kinds of entries go (a source archive that is a wheel counts 3)."""


def tier(entry: Entry) -> int:
    """When an entry's kind goes, relative to the others (lower: sooner)."""
    if entry.kind == "source" and entry.wheels:
        return 3
    return TIERS[entry.kind]


def eviction_order(entries: Iterable[Entry]) -> list[Entry]:
    """Entries in the order the bound removes them: by tier, then unused for longest first."""
    return sorted(entries, key=lambda entry: (tier(entry), entry.last_used, str(entry.path)))


def protected(entries: Iterable[Entry], used: set[Path]) -> set[Path]:
    """The entries a run used, and the source archives of the wheels among them."""
    entries = list(entries)
    built_from = {entry.sha256 for entry in entries if entry.kind == "wheel" and entry.path in used}
    sources = {entry.path for entry in entries if entry.kind == "source" and entry.sha256}
    return used | {
        entry.path for entry in entries if entry.path in sources and entry.sha256 in built_from
    }


def within_bound(entries: Sequence[Entry], bound: int, keep: set[Path]) -> list[Entry]:
    """The entries to remove so that the rest hold ``bound`` bytes at most (when they can).

    Entries in ``keep`` stay, even when the rest alone exceed the bound.
    """
    total = sum(entry.size for entry in entries)
    naming = plans_naming(entries)
    chosen: dict[Path, Entry] = {}
    for entry in eviction_order(entries):
        if total <= bound:
            break
        if entry.path in keep or entry.path in chosen:
            continue
        for item in (entry, *naming_any(naming, entry.wheels)):
            if item.path not in chosen and item.path not in keep:
                chosen[item.path] = item
                total -= item.size
    return list(chosen.values())


def unused_since(entries: Sequence[Entry], cutoff: float) -> list[Entry]:
    """The entries last used before ``cutoff``, and the plans that name their wheels."""
    old = [entry for entry in entries if entry.last_used < cutoff]
    return with_plans(entries, old)


def with_plans(entries: Sequence[Entry], chosen: Iterable[Entry]) -> list[Entry]:
    """``chosen``, and every plan that names one of its wheels (such a plan cannot be used)."""
    naming = plans_naming(entries)
    selection = {entry.path: entry for entry in chosen}
    for entry in list(selection.values()):
        selection.update((plan.path, plan) for plan in naming_any(naming, entry.wheels))
    return list(selection.values())


def stale_plans(entries: Iterable[Entry]) -> list[Entry]:
    """The plans that can never be used: damaged, or naming a wheel that is gone or changed."""
    return [entry for entry in entries if entry.kind == "plan" and not _usable(entry.path)]


def plans_naming(entries: Iterable[Entry]) -> dict[Path, list[Entry]]:
    """The plans that name each wheel file."""
    naming: dict[Path, list[Entry]] = {}
    for entry in entries:
        if entry.kind == "plan":
            for wheel in entry.wheels:
                naming.setdefault(wheel, []).append(entry)
    return naming


def naming_any(naming: dict[Path, list[Entry]], wheels: Iterable[Path]) -> list[Entry]:
    """The plans that name any of ``wheels``."""
    return [plan for wheel in wheels for plan in naming.get(wheel, [])]


def _usable(plan: Path) -> bool:
    """Whether a stored plan is sound and every wheel it names is as it was."""
    try:
        wheels = parse_plan(json.loads(plan.read_bytes()), plan.stem)
    except (OSError, ValueError, RecursionError):
        return False
    return all(item.unchanged for item in wheels)


def remove(data: DataDirectory, entries: Iterable[Entry]) -> int:
    """Remove entries (the caller holds the data directory's lock alone); return bytes freed."""
    freed = 0
    for entry in entries:
        remove_entry(data, entry)
        freed += entry.size
    return freed


def describe(entries: Sequence[Entry]) -> str:
    """How many entries of each kind, as words: "2 unpacked trees, 1 built wheel"."""
    counts = [(kind, sum(entry.kind == kind for entry in entries)) for kind in TIERS]
    return ", ".join(pluralize(count, NOUNS[kind]) for kind, count in counts if count)


def after_install(data: DataDirectory, used: set[Path], bound: int | None, now: float) -> None:
    """Record the entries an install used, then keep the data directory within ``bound``.

    The bound is kept only when no other run uses the data directory; the
    last run to finish keeps it then.
    """
    mark_used((data.stamp_of(path) for path in used), now)
    if bound is None:
        return
    with DataLock(data.root).exclusive(wait=False) as alone:
        if not alone:
            logger.debug("Not checking max-cache-size: other runs use the data directory.")
            return
        entries = data.entries()
        chosen = within_bound(entries, bound, protected(entries, used))
        if chosen:
            freed = remove(data, chosen)
            left = sum(entry.size for entry in entries) - freed
            logger.info(
                "Removed %s unused for longest (%s: %s) to keep the data directory within"
                " max-cache-size (%s); it holds %s now.",
                pluralize(len(chosen), "entry", "entries"), describe(chosen), format_size(freed),
                format_size(bound), format_size(left),
            )  # fmt: skip
