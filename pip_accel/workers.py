"""How many workers the machine can give a pool: the cores this process may use and are free.

A pool sized by :func:`os.cpu_count` takes every core of the machine, even those this
process may not run on (a container's or a CI job's CPU set, ``taskset``) and those
another job keeps busy; then pip-accel's workers and that job take turns on the same
cores, and both are slower. The rule here: never more workers than the cores this
process may run on (:func:`os.sched_getaffinity`), and fewer when other processes keep
some of the machine's cores busy now, but always at least one.

"Now" is the number of tasks running or waiting for a core at this moment (Linux's
``/proc/loadavg``), less this process's own. Not the load average: it lags a minute
behind and counts this process's own past work, so a cold run that followed another
(a CI job's second install, a benchmark's next command) would take one core of two.

Every pool that does work on the processor (builds, unpacking, compiling) takes its size
from :func:`workers`, handed in where the pool is made so that a test can give another.
The module imports nothing but :mod:`os`: the warm path may import it.
"""

import os
from collections.abc import Callable

Cores = Callable[[], int]
"""Something that says how many workers the machine can give (:func:`workers`, or a stand-in)."""


def workers(
    usable: Callable[[], int] | None = None,
    machine: Callable[[], int | None] | None = None,
    load: Callable[[], float] | None = None,
) -> int:
    """How many workers a pool that works on the processor may have now (at least 1).

    The cores of the machine less its load, rounded, and at most the cores this process
    may use: on a quiet 2-core machine 2, beside a job that keeps one core busy 1.

    :param usable: the number of cores this process may run on (by default from
        :func:`os.sched_getaffinity`, or every core where it does not exist).
    :param machine: the number of cores of the machine, that the load is spread over
        (by default :func:`os.cpu_count`).
    :param load: how many tasks of other processes are running or waiting for a core
        (by default read from ``/proc/loadavg`` now, less this process's own; 0 where it
        cannot be read).
    """
    usable_cores = (usable or _usable_cores)()
    busy = (load or _load)()
    free = ((machine or os.cpu_count)() or usable_cores) - busy
    return max(1, min(usable_cores, int(free + 0.5)))


def _usable_cores() -> int:
    """The number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _load(proc: str = "/proc") -> float:
    """How many tasks of other processes are running or waiting for a core now.

    0 where the system does not say (no ``/proc``): every usable core is then free.
    """
    try:
        with open(f"{proc}/loadavg", encoding="ascii") as handle:
            running = int(handle.read().split()[3].partition("/")[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return float(max(0, running - _own_running(proc)))


def _own_running(proc: str) -> int:
    """How many threads of this process are running or waiting for a core (at least this one)."""
    count = 0
    try:
        tasks = os.listdir(f"{proc}/self/task")
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"{proc}/self/task/{task}/stat", encoding="ascii", errors="replace") as stat:
                state = stat.read().rpartition(")")[2].split()[:1]
        except OSError:
            continue
        count += state == ["R"]
    return max(1, count)
