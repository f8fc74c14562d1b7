"""pip's finders and sessions of one downloader, one per thread, asked in this process.

pip's session is not shared between threads, so each thread that fetches takes a finder
of its own; the first is made before any thread starts, so that where pip's finder cannot
be used here (its internals differ) that fails at once, in the caller. Besides fetching
archives, the finders answer what the package index lists for a project
(:mod:`pip_accel.sources.listing`).
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from humanfriendly.text import pluralize
from packaging.utils import canonicalize_name

from pip_accel.sources.listing import Listing
from pip_accel.sources.pip_finder import PipIndex, PipIndexUnavailable

logger = logging.getLogger(__name__)


class Finders:
    """The finders of one downloader: made on demand, one per thread, closed together."""

    def __init__(self, make: Callable[[], PipIndex]) -> None:
        """Make finders with ``make`` (which raises :class:`PipIndexUnavailable` where pip's
        finder cannot be used)."""
        self.make = make
        self.lock = threading.Lock()
        self.local = threading.local()
        self.opened: list[PipIndex] = []
        self.spare: list[PipIndex] = []
        """Finders made, not yet taken by a thread (the first, made to try pip's internals)."""

    def start(self) -> None:
        """Make the first finder now, so that one that cannot be made fails in the caller."""
        first = self.make()
        with self.lock:
            self.spare.append(first)
            self.opened.append(first)

    def for_thread(self) -> PipIndex:
        """This thread's finder and session (pip's session is not shared between threads)."""
        found: PipIndex | None = getattr(self.local, "pip_index", None)
        if found is None:
            with self.lock:
                spare = self.spare.pop() if self.spare else None
            found = self.local.pip_index = spare or self.make()
            if spare is None:
                with self.lock:
                    self.opened.append(found)
        return found

    def close(self) -> None:
        """Close the finders' sessions, and forget them and each thread's."""
        for pip_index in self.opened:
            pip_index.close()
        self.opened.clear()
        self.spare.clear()
        self.local = threading.local()

    def listings(self, names: Iterable[str], concurrency: int) -> dict[str, Listing]:
        """What the package index lists for each project (by canonical name), ``concurrency``
        projects at a time.

        Only a saving (a freshness entry without a listing just asks again), so
        what fails leaves its project out, and where pip's finder cannot be used
        the answer is empty.
        """
        wanted = sorted({canonicalize_name(name) for name in names})
        if not wanted:
            return {}
        started = time.monotonic()
        try:
            self.start()
        except PipIndexUnavailable as error:
            logger.debug("Not keeping what the package index lists: %s.", error)
            return {}
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(wanted)))) as pool:
                found = dict(zip(wanted, pool.map(self._listing, wanted), strict=True))
        finally:
            self.close()
        logger.debug(
            "Asked the package index what it lists for %s in %.2f seconds.",
            pluralize(len(wanted), "project"), time.monotonic() - started,
        )  # fmt: skip
        return {name: listing for name, listing in found.items() if listing is not None}

    def _listing(self, name: str) -> Listing | None:
        """What the package index lists for one project, or None when that fails."""
        try:
            return self.for_thread().listing(name)
        except Exception as error:  # only a saving: the next run asks the index again
            logger.debug("Could not tell what the package index lists for %s: %s", name, error)
            return None
