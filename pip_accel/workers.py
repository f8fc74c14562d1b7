"""How many workers the machine can give a pool: the cores this process may use and are free.

A pool sized by :func:`os.cpu_count` takes every core of the machine, even those this
process may not run on (a container's or a CI job's CPU set, ``taskset``) and those
another job keeps busy; then pip-accel's workers and that job take turns on the same
cores, and both are slower. The rule here: never more workers than the cores this
process may run on (:func:`os.sched_getaffinity`), and fewer when the machine's load
(:func:`os.getloadavg`, the last minute) already keeps some of the machine's cores busy,
but always at least one.

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
    :param load: how many processes were running or waiting for a core (by default
        the one-minute load average; 0 where it cannot be read).
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


def _load() -> float:
    """The machine's load average over the last minute (0 where the system does not say)."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0
