"""Unpacking wheels in the background while the plan is made, in the order the install needs them.

Each wheel that arrives (downloaded, built, or taken from the binary cache) is handed
to a thread that unpacks and compiles it into the tree store
(:mod:`pip_accel.install.trees`), so that most trees are ready when the plan is; the
install asks for the wheels of the plan first.
"""

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from humanfriendly.text import pluralize

from pip_accel.install.trees import TreeStore

logger = logging.getLogger(__name__)


class WheelQueue:
    """Wheels waiting to be unpacked: the ones an install waits for first, then in turn.

    Iterating takes the next wheel, waiting for one until :meth:`close`.
    """

    def __init__(self) -> None:
        """An empty queue, in the order wheels are put in."""
        self.condition = threading.Condition()
        self.pending: list[Path] = []
        self.rank: dict[Path, int] = {}
        self.closed = False

    def put(self, wheel: Path) -> None:
        """Queue a wheel (from any thread)."""
        with self.condition:
            self.pending.append(wheel)
            self.condition.notify_all()

    def prioritize(self, order: list[Path]) -> None:
        """Take these wheels first, in this order (the order they are installed in)."""
        with self.condition:
            self.rank = {wheel: position for position, wheel in enumerate(order)}

    def close(self) -> None:
        """No more wheels come: iterating ends when the queue is empty."""
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def __iter__(self) -> Iterator[Path]:
        """The wheels, each when it is taken."""
        while True:
            with self.condition:
                while not self.pending and not self.closed:
                    self.condition.wait()
                if not self.pending:
                    return
                last = len(self.rank)
                wheel = min(self.pending, key=lambda item: self.rank.get(item, last))
                self.pending.remove(wheel)
            yield wheel


class BackgroundUnpacker:
    """Unpacks and compiles wheels while the rest of the plan is made (downloads, builds).

    Wheels are handed in as they arrive (:meth:`add`, from any thread); a few
    threads unpack them into one compiling process, in the order they came
    until the install's order is known (:meth:`prioritize`). The trees land in
    the store, where :meth:`TreeStore.trees_for` finds them, so a wheel that
    the plan does not use only leaves a tree in the cache, and a failure here
    only means that the wheel is unpacked again later. :meth:`wait` lets the
    install of one wheel start as soon as its own tree is published.
    """

    def __init__(self, store: TreeStore) -> None:
        """Unpack into ``store``."""
        self.store = store
        self.queue = WheelQueue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.stopped = False
        self.queued: set[Path] = set()
        self.published: set[Path] = set()
        self.ended = False
        self.condition = threading.Condition()
        store.listeners.append(self._published)

    def _published(self, wheel: Path) -> None:
        """Note a tree the store published (from any thread), for those who wait for it."""
        with self.condition:
            self.published.add(wheel)
            self.condition.notify_all()

    def add(self, archive: Path) -> None:
        """Unpack ``archive`` soon, when it is a wheel whose tree the store lacks."""
        if not archive.name.endswith(".whl") or self.store.find(archive):
            return
        with self.lock:
            if archive in self.queued:
                return
            self.queued.add(archive)
            if self.thread is None:
                self.thread = threading.Thread(target=self._work, name="unpack", daemon=True)
                self.thread.start()
        self.queue.put(archive)

    def prioritize(self, wheels: list[Path]) -> None:
        """Unpack these wheels first, in this order, when they are handed in."""
        self.queue.prioritize(wheels)

    def wait(self, wheel: Path) -> None:
        """Wait until the tree of ``wheel`` is published, if it was handed in (or work ends)."""
        with self.condition:
            while wheel in self.queued and wheel not in self.published and not self.ended:
                self.condition.wait(0.5)

    def _work(self) -> None:
        """Unpack the wheels of the queue until :meth:`finish`."""
        try:
            trees = self.store.unpack_stream(self._wheels())
        except Exception as error:  # the install unpacks what is missing, and says why then
            logger.debug("Unpacking in the background stopped: %s", error, exc_info=True)
            return
        finally:
            with self.condition:
                self.ended = True
                self.condition.notify_all()
        self.store.unpacked += list(trees)
        if trees and not self.stopped:  # stopped: the run failed or was interrupted, and said so
            logger.info(
                "Unpacked and compiled %s in the background.", pluralize(len(trees), "wheel")
            )

    def _wheels(self) -> Iterator[Path]:
        """The wheels handed in, until the queue's end (or a stop)."""
        for wheel in self.queue:
            if self.stopped:
                return
            yield wheel

    def close(self) -> None:
        """No more wheels will be handed in: the work ends with the last of them."""
        self.queue.close()

    def finish(self) -> None:
        """Wait until every wheel handed in is unpacked and compiled."""
        self.queue.close()
        if self.thread is not None:
            self.thread.join()

    def stop(self) -> None:
        """Unpack no more wheels (the run failed or was interrupted)."""
        self.stopped = True
        self.queue.close()
