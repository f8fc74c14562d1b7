"""SIGTERM interrupts like Ctrl-C, deferred blocks are not cut short, children are stopped.

Fast unit tests of :mod:`pip_accel.interrupts`. The handler is mostly called directly (as
the signal machinery would); one test sends real signals to this process after installing
the handlers, and restores the previous ones. The only subprocess is a ``sleep`` that
stands for a child process pip-accel started.
"""

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from pip_accel import interrupts
from pip_accel.interrupts import Interrupted, child, deferred, install_handlers, stop_children


@pytest.fixture(autouse=True)
def clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts and ends with nothing deferred, pending or registered, and with
    children stopped by SIGINT: an earlier test that ran ``install_handlers`` (through the
    CLI) in a run that ignores SIGINT, as a background job or ``tox run-parallel``, left
    SIGTERM there."""
    monkeypatch.setattr(interrupts, "_stop_signal", signal.SIGINT)
    yield
    interrupts._pending.clear()
    interrupts._deferring = 0
    interrupts._children.clear()
    interrupts._interrupted.clear()


@pytest.fixture
def sleeper() -> Iterator["subprocess.Popen[bytes]"]:
    """A child process that would run for 30 seconds; killed at teardown if still running.

    It starts with SIGINT at its default, as pip-accel's children do once its handlers are
    installed (a handled signal is reset in a child): a test run started in the background
    of a shell ignores SIGINT, and a child would inherit that.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(["sleep", "30"])
    finally:
        signal.signal(signal.SIGINT, previous)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_an_interruption_outside_a_deferred_block_is_raised_at_once() -> None:
    """The handler raises :class:`Interrupted`, a KeyboardInterrupt naming the signal."""
    with pytest.raises(Interrupted) as raised:
        interrupts._interrupt(signal.SIGTERM, None)
    assert raised.value.signum == signal.SIGTERM
    assert isinstance(raised.value, KeyboardInterrupt)
    assert str(raised.value) == "SIGTERM"


def test_a_deferred_block_runs_to_its_end_and_the_interruption_comes_after() -> None:
    """An interruption inside ``deferred()`` is held back until the block ends, then raised."""
    steps: list[str] = []
    with pytest.raises(Interrupted) as raised, deferred():
        interrupts._interrupt(signal.SIGTERM, None)
        steps.append("after the signal")
    assert steps == ["after the signal"]
    assert raised.value.signum == signal.SIGTERM
    assert interrupts._pending == []
    with deferred():  # nothing is left over for the next block
        pass


def test_nested_deferred_blocks_raise_when_the_outermost_ends() -> None:
    """An inner block's end does not raise; the outer one finishes, then the interruption comes."""
    steps: list[str] = []
    with pytest.raises(Interrupted) as raised, deferred():
        with deferred():
            interrupts._interrupt(signal.SIGINT, None)
        steps.append("outer block goes on")
        interrupts._interrupt(signal.SIGTERM, None)
        steps.append("outer block ends")
    assert steps == ["outer block goes on", "outer block ends"]
    assert raised.value.signum == signal.SIGINT  # the first signal is the one reported
    assert interrupts._deferring == 0


def test_a_deferred_block_without_an_interruption_raises_nothing() -> None:
    """A quiet block ends normally and leaves the counter at zero."""
    with deferred():
        value = 1
    assert value == 1
    assert interrupts._deferring == 0


def test_an_interruption_in_a_failing_deferred_block_is_not_kept_for_later() -> None:
    """A block that fails after a signal came: no later block sees that old signal."""
    with pytest.raises((OSError, Interrupted)), deferred():
        interrupts._interrupt(signal.SIGTERM, None)
        raise OSError("the put back failed")
    stale: list[int] = []
    try:  # an Interrupted must not escape: it is a KeyboardInterrupt, which ends pytest
        with deferred():
            pass
    except Interrupted as error:
        stale.append(error.signum)
    assert stale == []


def test_child_registers_a_process_for_the_block_only(
    sleeper: "subprocess.Popen[bytes]",
) -> None:
    """Inside the block the process is one to stop; after it (even after an error) it is not."""
    with child(sleeper) as process:
        assert process is sleeper
        assert sleeper in interrupts._children
    assert sleeper not in interrupts._children
    with pytest.raises(RuntimeError), child(sleeper):
        raise RuntimeError("boom")
    assert sleeper not in interrupts._children


def test_stop_children_sends_sigint_to_a_running_child(
    sleeper: "subprocess.Popen[bytes]",
) -> None:
    """A registered child gets SIGINT (as Ctrl-C would send) and ends."""
    with child(sleeper):
        stop_children()
        assert sleeper.wait(timeout=10) == -signal.SIGINT


def test_stop_children_leaves_unregistered_processes_alone(
    sleeper: "subprocess.Popen[bytes]",
) -> None:
    """A process that is not (or no longer) registered keeps running."""
    with child(sleeper):
        pass
    stop_children()
    time.sleep(0.1)
    assert sleeper.poll() is None


def test_stop_children_tolerates_a_child_that_already_ended() -> None:
    """A child that has exited (and was reaped) is no error."""
    process = subprocess.Popen(["true"])
    process.wait()
    with child(process):
        stop_children()
    assert process.returncode == 0


def test_a_deferred_interruption_still_stops_the_children_at_once(
    sleeper: "subprocess.Popen[bytes]",
) -> None:
    """Only the exception waits for the block's end: the child processes are stopped right away."""
    with pytest.raises(Interrupted), child(sleeper), deferred():
        interrupts._interrupt(signal.SIGTERM, None)
        assert sleeper.wait(timeout=10) == -signal.SIGINT


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_install_handlers_turns_a_real_signal_into_interrupted(signum: int) -> None:
    """After ``install_handlers`` a signal sent to this process raises :class:`Interrupted`."""
    previous = {number: signal.getsignal(number) for number in interrupts.SIGNALS}
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # not ignored, as in a shell
        install_handlers()
        for number in interrupts.SIGNALS:  # checked first: the default SIGTERM would end pytest
            assert signal.getsignal(number) is interrupts._interrupt
        with pytest.raises(Interrupted) as raised:
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the handler runs (and raises) as soon as the signal arrives
        assert raised.value.signum == signum
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def test_a_sigint_ignored_from_the_start_stays_ignored_and_children_get_sigterm() -> None:
    """Started in the background of a shell, pip-accel ignores Ctrl-C as pip does; SIGTERM
    still interrupts it, and stops its children (which ignore SIGINT too) with SIGTERM."""
    previous = {number: signal.getsignal(number) for number in interrupts.SIGNALS}
    process = None
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        install_handlers()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is interrupts._interrupt
        process = subprocess.Popen(["sleep", "30"])  # inherits the ignored SIGINT
        with child(process):
            stop_children()
        assert process.wait(timeout=10) == -signal.SIGTERM
    finally:
        interrupts._stop_signal = signal.SIGINT
        for number, handler in previous.items():
            signal.signal(number, handler)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def test_after_an_interruption_only_the_main_thread_logs() -> None:
    """Background work winding down after an interruption says nothing after the last line."""
    shown: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: shown.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(interrupts.AfterInterruption())
    logger = logging.getLogger("pip_accel.test_after_interruption")
    logger.addHandler(handler)
    logger.propagate = False

    def in_background(message: str) -> None:
        thread = threading.Thread(target=logger.warning, args=(message,))
        thread.start()
        thread.join()

    try:
        in_background("before, from the background")
        with pytest.raises(Interrupted):
            interrupts._interrupt(signal.SIGINT, None)
        assert interrupts.interrupted()
        logger.error("Interrupted by SIGINT")
        in_background("Unpacked and compiled 10 wheels in the background.")
    finally:
        logger.removeHandler(handler)
    assert shown == ["before, from the background", "Interrupted by SIGINT"]
