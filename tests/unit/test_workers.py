"""Unit tests of ``pip_accel.workers``: how many workers the machine can give a pool.

The cores and the load are stand-ins, so each case is the machine it names.
"""

import os

import pytest

from pip_accel.workers import workers


def given(usable: int, machine: int | None, load: float) -> int:
    """What :func:`workers` says for a process that may use ``usable`` of the machine's
    ``machine`` cores, with this load average."""
    return workers(usable=lambda: usable, machine=lambda: machine, load=lambda: load)


@pytest.mark.parametrize(
    ("usable", "machine", "load", "expected"),
    [
        (2, 2, 0.0, 2),  # a quiet 2-core machine: both cores
        (2, 2, 1.0, 1),  # another job keeps one core busy: the other one
        (2, 2, 0.4, 2),  # a little load rounds away
        (2, 2, 0.6, 1),  # most of a core busy counts as busy
        (2, 2, 8.0, 1),  # the load fills the cores: still one worker
        (4, 4, 1.0, 3),
        (16, 16, 0.0, 16),
    ],
)
def test_the_free_cores_less_the_load_at_least_one(
    usable: int, machine: int, load: float, expected: int
) -> None:
    """The machine's cores less its load, rounded, never below one."""
    assert given(usable, machine, load) == expected


def test_never_more_than_the_cores_the_process_may_use() -> None:
    """A CPU set of 2 of 64 idle cores gives 2, however quiet the rest is."""
    assert given(2, 64, 0.0) == 2
    assert given(2, 64, 61.0) == 2
    assert given(2, 64, 63.0) == 1


def test_an_unknown_machine_counts_the_usable_cores() -> None:
    """Where the machine's number of cores is unknown, the usable ones are the machine."""
    assert given(4, None, 1.0) == 3


def test_the_defaults_read_this_machine() -> None:
    """Without stand-ins: at least 1, at most the cores this process may run on."""
    assert 1 <= workers() <= len(os.sched_getaffinity(0))


def test_a_load_that_cannot_be_read_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system gives no load average, every usable core is free."""

    def no_load() -> tuple[float, float, float]:
        raise OSError("no load average here")

    monkeypatch.setattr(os, "getloadavg", no_load)
    assert workers(usable=lambda: 3, machine=lambda: 3) == 3


def test_without_sched_getaffinity_every_core_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system cannot say which cores the process may use (macOS), all may be."""
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert workers(load=lambda: 0.0) == 6
