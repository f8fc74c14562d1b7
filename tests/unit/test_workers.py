"""Unit tests of ``pip_accel.workers``: how many workers the machine can give a pool.

The cores and the load are stand-ins, so each case is the machine it names.
"""

import os
from pathlib import Path

import pytest

from pip_accel.workers import _load, workers


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
    """Where the system does not say what runs now (no /proc), every usable core is free."""
    real_open = open

    def no_proc(path: str, *args: object, **kwargs: object) -> object:
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", no_proc)
    assert workers(usable=lambda: 3, machine=lambda: 3) == 3


def fake_proc(root: Path, loadavg: str, states: list[str]) -> str:
    """A stand-in for ``/proc``: its ``loadavg`` and this process's threads in ``states``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "loadavg").write_text(loadavg)
    for number, state in enumerate(states, start=100):
        task = root / "self" / "task" / str(number)
        task.mkdir(parents=True)
        (task / "stat").write_text(f"{number} (py thon) {state} 1 2 3\n")
    return str(root)


def test_other_processes_running_now_count_and_this_ones_threads_do_not(tmp_path: Path) -> None:
    """3 tasks running now, 2 of them this process's threads: 1 of another process. The load
    averages (this process's own past minute, say) count for nothing."""
    proc = fake_proc(tmp_path, "7.50 6.00 5.00 3/180 4242\n", ["R", "R", "S"])
    assert _load(proc) == 1.0
    assert given(2, 2, _load(proc)) == 1
    alone = fake_proc(tmp_path / "alone", "9.00 9.00 9.00 1/180 4242\n", ["R", "S"])
    assert _load(alone) == 0.0
    assert given(2, 2, _load(alone)) == 2


def test_without_sched_getaffinity_every_core_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system cannot say which cores the process may use (macOS), all may be."""
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert workers(load=lambda: 0.0) == 6
