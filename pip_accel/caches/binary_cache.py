"""The binary cache: its backends asked as one, by priority.

:class:`BinaryCache` asks the backends (:mod:`pip_accel.caches`) in
order of priority, stores a new wheel in every writable one, and copies a hit
from a slower backend into the faster ones. A backend that fails is disabled
for the rest of the run with a warning, and the install goes on with the
others.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

from pip_accel.caches import CacheBackend, CacheKey, as_backend, describe
from pip_accel.exceptions import CacheError, CacheWriteRefusedError, CorruptObjectError

logger = logging.getLogger(__name__)

T = TypeVar("T")
"""What a call of a backend returns."""


def _upload(backend: CacheBackend, path: Path, name: str, replace: bool) -> bool:
    """Store a named object in a backend, over the one it has when ``replace``."""
    return backend.replace(path, name) if replace else backend.store(path, name)


@dataclass
class _Outcome(Generic[T]):
    """What the reader of a streamed object made of it, or the exception it raised."""

    value: T | None = None
    error: Exception | None = None


@dataclass(eq=False)
class Slot:
    """A backend as the binary cache sees it during one run."""

    name: str
    backend: CacheBackend
    remote: bool
    refused: bool = False
    """Whether the backend refused an upload during this run."""

    @property
    def writable(self) -> bool:
        """Whether to store in the backend (which may turn read-only once it is used)."""
        return not self.refused and self.backend.writable


class BinaryCache:
    """The binary cache as one thing: its backends asked in priority order."""

    def __init__(self, backends: Mapping[str, Any]) -> None:
        """Use these backends, by name (sorted by priority here).

        A backend that does not subclass :class:`CacheBackend` is adapted to it.
        """
        slots = []
        for name, given in backends.items():
            backend = as_backend(given)
            slots.append(Slot(name, backend, backend.remote))
        self.slots = sorted(slots, key=lambda slot: slot.backend.priority)
        self.lock = threading.Lock()
        self.refused: set[str] = set()
        """The shared objects a backend refused in this run (corrupt, or signed by no trusted
        key): each was one warning, so that the caller does not warn of it as missing."""

    def get(self, key: CacheKey, remote: bool = True) -> Path | None:
        """The wheel stored under ``key``, copied into faster backends when found in a slower one.

        :param remote: whether to ask remote backends too (False for lookups
            made on every run, which must not cost network round trips).
        """
        slots = list(self.slots)
        for position, slot in enumerate(slots):
            if slot.remote and not remote:
                continue
            found = self._call(slot, lambda backend: backend.get(key))
            if found is not None:
                logger.debug("Found %s in the %s cache backend.", key, slot.name)
                faster = [other for other in slots[:position] if other in self.slots]
                return self._copy_forward(key, found, faster) or found
        return None

    def _copy_forward(self, key: CacheKey, wheel: Path, faster: list[Slot]) -> Path | None:
        """Store a hit in the faster backends; return it from the first that has it then."""
        for slot in faster:
            self._store(slot, key, wheel)
        return self._first_holder(key, faster)

    def put(self, key: CacheKey, wheel: Path) -> Path | None:
        """Store a wheel in every writable backend; return its path in the first local one.

        None means that no local backend kept it (each one failed, with a
        warning), and the caller must keep the wheel itself.
        """
        for slot in list(self.slots):
            self._store(slot, key, wheel)
        return self._first_holder(key, [slot for slot in self.slots if not slot.remote])

    def _first_holder(self, key: CacheKey, slots: list[Slot]) -> Path | None:
        """The wheel stored under ``key`` in the first of ``slots`` that has it."""
        for slot in slots:
            stored = self._call(slot, lambda backend: backend.get(key))
            if stored is not None:
                return stored
        return None

    def put_sources(self, archives: Iterable[Path]) -> None:
        """Give downloaded archives to the writable backends, for those that keep archives."""
        for path in sorted(archives):
            self._put_source(path)

    def _put_source(self, archive: Path) -> None:
        """Give one downloaded archive to the writable backends."""
        for slot in list(self.slots):
            if slot.writable:
                self._call(slot, lambda backend: backend.put_source(archive))

    def get_sources(self, directory: Path, projects: Iterable[str]) -> list[Path]:
        """Fetch into ``directory`` the archives of ``projects`` that backends keep and it lacks."""
        fetched: list[Path] = []
        wanted = list(projects)
        for slot in list(self.slots):
            fetched += (
                self._call(slot, lambda backend: backend.get_sources(directory, wanted)) or []
            )
        return fetched

    @property
    def remote(self) -> bool:
        """Whether a backend is remote: it holds wheels that a view of the local
        index does not show, found by key once a plan names them."""
        return any(slot.remote for slot in self.slots)

    @property
    def shared(self) -> bool:
        """Whether a backend shares named objects (plans, trees) between machines."""
        return any(slot.backend.shares_objects for slot in self.slots)

    @property
    def shares_writes(self) -> bool:
        """Whether a backend that shares named objects takes new ones."""
        return any(slot.backend.shares_objects and slot.writable for slot in self.slots)

    def connect(self) -> None:
        """Connect the backends now, before threads use them."""
        for slot in list(self.slots):
            self._call(slot, lambda backend: backend.connect())

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """Download the shared object ``name`` to ``target`` from the first backend that has it.

        None when no backend has it, or the backends failed (with a warning).
        """
        for slot in list(self.slots):
            if slot.backend.shares_objects:
                found = self._call(slot, lambda backend: self._fetch(backend, name, target, sha256))
                if found is not None:
                    return found
        return None

    def _fetch(
        self, backend: CacheBackend, name: str, target: Path, sha256: str | None
    ) -> Path | None:
        """Fetch one shared object from a backend, noting it in :attr:`refused` if refused."""
        try:
            return backend.fetch(name, target, sha256)
        except CorruptObjectError:
            with self.lock:
                self.refused.add(name)
            raise

    def stream(
        self, name: str, consume: Callable[[BinaryIO], T], sha256: str | None = None
    ) -> T | None:
        """Give the shared object ``name`` to ``consume`` as it arrives, from the first backend
        that has it; what ``consume`` returned, once the object passed its checks.

        None when no backend has it, or it was refused (corrupt, untrusted: one
        warning) or the backend failed (one warning): whatever ``consume`` made
        of it must then be thrown away. An exception of ``consume`` itself (the
        contents are not what it reads) is raised here, after the object
        passed its checks, so that a corrupt object is reported as corrupt; one
        the backend raised through it (a lost connection) is the backend's.
        """

        def guarded(stream: BinaryIO) -> _Outcome[T]:
            try:
                return _Outcome(consume(stream))
            except CacheError:
                raise
            except Exception as error:
                return _Outcome(error=error)

        for slot in list(self.slots):
            if slot.backend.shares_objects:
                outcome = self._call(
                    slot, lambda backend: self._stream(backend, name, guarded, sha256)
                )
                if outcome is not None:
                    if outcome.error is not None:
                        raise outcome.error
                    return outcome.value
        return None

    def _stream(
        self,
        backend: CacheBackend,
        name: str,
        consume: Callable[[BinaryIO], T],
        sha256: str | None,
    ) -> T | None:
        """Stream one shared object from a backend, noting it in :attr:`refused` if refused."""
        try:
            return backend.stream(name, consume, sha256)
        except CorruptObjectError:
            with self.lock:
                self.refused.add(name)
            raise

    def store(self, path: Path, name: str, replace: bool = False) -> bool:
        """Store ``path`` as the shared object ``name`` in the writable sharing backends.

        Return whether any backend took it (it may have had it already). With
        ``replace``, the object the backends have is replaced: the caller found
        it damaged.
        """
        stored = False
        for slot in list(self.slots):
            if slot.backend.shares_objects and slot.writable:
                stored = (
                    bool(self._call(slot, lambda backend: _upload(backend, path, name, replace)))
                    or stored
                )
        return stored

    def _store(self, slot: Slot, key: CacheKey, wheel: Path) -> None:
        """Store a wheel in one backend, if it is writable."""
        if slot.writable:
            self._call(slot, lambda backend: backend.put(key, wheel))

    def _call(self, slot: Slot, call: Callable[[CacheBackend], T]) -> T | None:
        """Call a method of a backend; disable it (or stop writing to it) when it fails.

        A backend disabled earlier in the run is not asked: the answer is None.
        Threads may call backends at once; each failure is reported once.
        """
        if slot not in self.slots:
            return None
        try:
            return call(slot.backend)
        except CorruptObjectError as error:
            logger.warning("%s It is left alone; the install goes on without it.", error)
        except CacheWriteRefusedError as error:
            with self.lock:
                if slot.refused:
                    return None
                slot.refused = True
            logger.warning(
                "The %s cache backend is read-only for the rest of this run: %s", slot.name, error
            )
        except Exception as error:
            with self.lock:
                if slot not in self.slots:
                    return None
                self.slots.remove(slot)
            logger.warning(
                "Not using the %s cache backend for the rest of this run (the install goes on"
                " without it): %s", slot.name, describe(error),
            )  # fmt: skip
            if not isinstance(error, CacheError | OSError):
                logger.debug("Traceback:", exc_info=True)
        return None
