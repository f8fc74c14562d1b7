"""Interruptions: SIGTERM handled like SIGINT, child processes stopped with the run.

CI systems end a job that ran out of time with SIGTERM, and people press
Ctrl-C. Either way pip-accel undoes what it had half done and exits, and the
pip, build and compile processes it started stop too, instead of running on
and leaving their temporary files. A few steps (putting an old version back)
must not be cut short: they run inside :func:`deferred`, and a signal that
comes meanwhile takes effect right after. Once interrupted, the run's last
line is the main thread's: :class:`AfterInterruption` keeps the log lines of
background work that winds down (unpacking, compiling) from following it.
"""

import contextlib
import logging
import signal
import subprocess
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that interrupt a run (SIGKILL cannot be handled: the next run repairs)."""


class Interrupted(KeyboardInterrupt):
    """The run was interrupted by a signal."""

    def __init__(self, signum: int) -> None:
        """Remember which signal it was."""
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_children: set["subprocess.Popen[Any]"] = set()
_lock = threading.RLock()  # the signal handler may run while the main thread holds it
_deferring = 0
_pending: list[int] = []


_stop_signal = signal.SIGINT
"""What :func:`stop_children` sends: SIGINT, or SIGTERM when the children ignore SIGINT."""

_interrupted = threading.Event()
"""Set once the run is interrupted."""


def note_interruption() -> None:
    """Remember that the run is interrupted: background work says nothing from now on."""
    _interrupted.set()


def interrupted() -> bool:
    """Whether the run was interrupted (by a signal, or a KeyboardInterrupt seen by the CLI)."""
    return _interrupted.is_set()


class AfterInterruption(logging.Filter):
    """Drops, once the run is interrupted, every log line but the main thread's.

    The threads that unpack and compile wind down after an interruption (a
    compiling process stopped, a batch finished), and what they would say
    then would follow the line that tells the user the run was interrupted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is shown: always before an interruption, then the main thread's."""
        return not _interrupted.is_set() or record.thread == threading.main_thread().ident


def install_handlers() -> None:
    """Handle SIGINT and SIGTERM as interruptions (call it from the main thread).

    A signal this process was started ignoring stays ignored, as Python (and so
    pip) leaves it: a shell ignores SIGINT in the jobs it starts in the
    background, so that Ctrl-C stops only the one in the foreground. The
    children then ignore SIGINT as well, so they are stopped with SIGTERM.
    """
    global _stop_signal
    for signum in SIGNALS:
        if signal.getsignal(signum) is signal.SIG_IGN:
            if signum == signal.SIGINT:
                _stop_signal = signal.SIGTERM
            continue
        signal.signal(signum, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Stop the child processes and raise :class:`Interrupted` (or note it, when deferred)."""
    note_interruption()
    stop_children()
    if _deferring:
        _pending.append(signum)
        return
    raise Interrupted(signum)


def stop_children() -> None:
    """Ask every running child process to stop, as Ctrl-C would (they clean up on SIGINT)."""
    with _lock:
        children = list(_children)
    for process in children:
        with contextlib.suppress(OSError):
            process.send_signal(_stop_signal)


@contextlib.contextmanager
def child(process: "subprocess.Popen[Any]") -> Iterator["subprocess.Popen[Any]"]:
    """Stop ``process`` when the run is interrupted while the ``with`` block runs."""
    with _lock:
        _children.add(process)
    try:
        yield process
    finally:
        with _lock:
            _children.discard(process)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Run a block that an interruption must not cut short; the interruption comes after."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending:
            signum = _pending[0]
            _pending.clear()
            raise Interrupted(signum)
