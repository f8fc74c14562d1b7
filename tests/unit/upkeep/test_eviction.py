"""Which entries go: the order of the bound, what stays, plans with their wheels, age."""

from pathlib import Path

from pip_accel.upkeep.entries import Entry
from pip_accel.upkeep.eviction import (
    eviction_order,
    protected,
    unused_since,
    with_plans,
    within_bound,
)


def entry(kind: str, name: str, size: int, used: float, **extra: object) -> Entry:
    """An entry at ``/data/<kind>/<name>``."""
    path = Path("/data", kind, name)
    return Entry(kind, path, size, used, path, **extra)  # type: ignore[arg-type]


OLD_TREE = entry("tree", "old-tree", 100, 1.0)
NEW_TREE = entry("tree", "new-tree", 100, 9.0)
WHEEL = entry("wheel", "demo", 100, 0.5, sha256="s1", wheels=(Path("/data/wheel/demo/d.whl"),))
SDIST = entry("source", "demo-1.0.tar.gz", 100, 0.1, sha256="s1")
BACKEND = entry("source", "setuptools.whl", 100, 0.0, wheels=(Path("/data/source/setuptools.whl"),))
PLAN = entry("plan", "key.json", 10, 0.0, wheels=(Path("/data/wheel/demo/d.whl"),))
ALL = [PLAN, BACKEND, SDIST, WHEEL, NEW_TREE, OLD_TREE]


def names(entries: list[Entry]) -> list[str]:
    """The names of entries, in order."""
    return [item.name for item in entries]


def test_trees_go_before_wheels_before_sdists_before_index_wheels_before_plans() -> None:
    """Within a kind, unused for longest first, whatever the ages across kinds."""
    assert names(eviction_order(ALL)) == [
        "old-tree", "new-tree", "d.whl", "demo-1.0.tar.gz", "setuptools.whl", "key.json",
    ]  # fmt: skip


def test_the_bound_removes_just_enough() -> None:
    """510 bytes, a bound of 350: the two trees go (200), then 10 more are needed."""
    assert names(within_bound(ALL, 410, set())) == ["old-tree"]
    chosen = within_bound(ALL, 300, set())
    assert names(chosen) == ["old-tree", "new-tree", "d.whl", "key.json"], "the plan goes too"


def test_what_the_run_used_stays_even_above_the_bound() -> None:
    """The run's tree and wheel stay, and so does the sdist the wheel was built from."""
    keep = protected(ALL, {NEW_TREE.path, WHEEL.path})
    assert SDIST.path in keep and BACKEND.path not in keep
    chosen = within_bound(ALL, 0, keep)
    assert names(chosen) == ["old-tree", "setuptools.whl", "key.json"]


def test_old_entries_go_with_the_plans_that_name_them() -> None:
    """Unused since before the cutoff; a plan naming a removed wheel cannot be used."""
    assert names(unused_since(ALL, 0.6)) == [
        "key.json", "setuptools.whl", "demo-1.0.tar.gz", "d.whl",
    ]  # fmt: skip
    assert names(with_plans(ALL, [WHEEL])) == ["d.whl", "key.json"]
    assert unused_since(ALL, 0.0) == []
