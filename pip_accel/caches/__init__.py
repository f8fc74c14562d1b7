"""The binary cache: wheels built from source distributions, found by key.

A :class:`CacheKey` names one build: the platform namespace, the project's
name and version, and the sha256 of the source archive the wheel was built
from, so a changed sdist is built again and hash-checking mode keeps its
meaning.

The cache is made of *backends*, found through the entry-point group
``pip_accel.cache_backends`` (see :func:`load_backends`): pip-accel ships
``local`` (the data directory) and ``s3`` (a bucket shared by many machines),
and any installed distribution can add another. :class:`BinaryCache` asks them
in order of priority, stores a new wheel in every writable one, and copies a
hit from a slower backend into the faster ones. A backend that fails is
disabled for the rest of the run with a warning, and the install goes on
with the others.
"""

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from pip_accel.config import Config
from pip_accel.exceptions import CacheError, CacheWriteRefusedError, CorruptObjectError

logger = logging.getLogger(__name__)

GROUP = "pip_accel.cache_backends"
"""The entry-point group through which cache backends register."""

BUNDLED = {
    "local": "pip_accel.caches.local:LocalCacheBackend",
    "s3": "pip_accel.caches.s3:S3CacheBackend",
}
"""The backends that ship with pip-accel, found even when its metadata is not installed."""

CACHE_FORMAT_VERSION = "v2"
"""The layout of shared cache entries; a new layout gets a new version, never a mix.

v2 (pip-accel 1.1) keeps source archives under their project's name and adds
shared plans and trees; v1 objects are not read (see docs/backends.rst)."""


@dataclass(frozen=True)
class CacheKey:
    """What identifies a built wheel."""

    namespace: str
    name: str
    version: str
    source_sha256: str

    @property
    def path(self) -> PurePosixPath:
        """The relative location of the entry (a directory holding one wheel)."""
        return PurePosixPath(self.namespace, self.name, self.version, self.source_sha256)

    def __str__(self) -> str:
        """A short description for log messages."""
        return f"{self.name} {self.version} (source sha256 {self.source_sha256[:12]})"


class CacheBackend(Protocol):
    """What a binary cache backend offers.

    The entry point of a backend names a callable (usually the class) that
    takes the :class:`~pip_accel.config.Config` and returns the backend. The
    backend may also have these attributes, read with a default when absent:

    ``enabled`` (default True)
        False when the backend is not configured; it is then not used at all.
    ``writable`` (default True)
        False when the backend only reads.
    ``remote`` (default True)
        Whether asking the backend costs a network round trip. Only backends
        that are not remote are asked on every run for every sdist of the
        local index; remote ones only for the sdists that need a wheel.

    It may raise :class:`~pip_accel.exceptions.CacheError` (the backend is then
    disabled for the run) or
    :class:`~pip_accel.exceptions.CacheWriteRefusedError` from ``put`` (it is
    then read-only for the run).
    """

    priority: int
    """Backends with a lower priority are asked first."""

    def get(self, key: CacheKey) -> Path | None:
        """The local path of the wheel stored under ``key``, or None."""

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Store ``wheel`` (a file whose name is a wheel file name) under ``key``."""


def load_backends(config: Config) -> dict[str, CacheBackend]:
    """Every enabled backend: the bundled ones and those of installed distributions.

    A backend that cannot be loaded or set up is left out with a warning.
    """
    found = {name: EntryPoint(name, value, GROUP) for name, value in BUNDLED.items()}
    found.update({point.name: point for point in entry_points(group=GROUP)})
    backends = {}
    for name, point in sorted(found.items()):
        try:
            backend = point.load()(config)
        except Exception as error:
            logger.warning(
                "Not using the cache backend %r (%s): it failed to load: %s", name, point.value,
                describe(error),
            )  # fmt: skip
            logger.debug("Traceback:", exc_info=True)
            continue
        if getattr(backend, "enabled", True):
            backends[name] = backend
    logger.debug("Cache backends: %s.", ", ".join(backends) or "none")
    return backends


def describe(error: BaseException) -> str:
    """An exception as a short phrase: its message, or its type when it has none."""
    return str(error) or type(error).__name__


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
        return not self.refused and bool(getattr(self.backend, "writable", True))


class BinaryCache:
    """The binary cache as one thing: its backends asked in priority order."""

    def __init__(self, backends: Mapping[str, CacheBackend]) -> None:
        """Use these backends, by name (sorted by priority here)."""
        slots = [
            Slot(name, backend, bool(getattr(backend, "remote", True)))
            for name, backend in backends.items()
        ]
        self.slots = sorted(slots, key=lambda slot: slot.backend.priority)
        self.lock = threading.Lock()

    def get(self, key: CacheKey, remote: bool = True) -> Path | None:
        """The wheel stored under ``key``, copied into faster backends when found in a slower one.

        :param remote: whether to ask remote backends too (False for lookups
            made on every run, which must not cost network round trips).
        """
        slots = list(self.slots)
        for position, slot in enumerate(slots):
            if slot.remote and not remote:
                continue
            found: Path | None = self._call(slot, "get", key)
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
            stored: Path | None = self._call(slot, "get", key)
            if stored is not None:
                return stored
        return None

    def put_sources(self, archives: Iterable[Path]) -> None:
        """Give downloaded archives to the writable backends that keep source archives too."""
        for path in sorted(archives):
            for slot in list(self.slots):
                if hasattr(slot.backend, "put_source") and slot.writable:
                    self._call(slot, "put_source", path)

    def get_sources(self, directory: Path, projects: Iterable[str]) -> list[Path]:
        """Fetch into ``directory`` the archives of ``projects`` that backends keep and it lacks."""
        fetched: list[Path] = []
        wanted = list(projects)
        for slot in list(self.slots):
            if hasattr(slot.backend, "get_sources"):
                fetched += self._call(slot, "get_sources", directory, wanted) or []
        return fetched

    @property
    def shared(self) -> bool:
        """Whether a backend shares named objects (plans, trees) between machines."""
        return any(hasattr(slot.backend, "fetch") for slot in self.slots)

    @property
    def shares_writes(self) -> bool:
        """Whether a backend that shares named objects takes new ones."""
        return any(hasattr(slot.backend, "store") and slot.writable for slot in self.slots)

    def connect(self) -> None:
        """Connect the sharing backends now, before threads use them."""
        for slot in list(self.slots):
            if hasattr(slot.backend, "connect"):
                self._call(slot, "connect")

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """Download the shared object ``name`` to ``target`` from the first backend that has it.

        None when no backend has it, or the backends failed (with a warning).
        """
        for slot in list(self.slots):
            if hasattr(slot.backend, "fetch"):
                found: Path | None = self._call(slot, "fetch", name, target, sha256)
                if found is not None:
                    return found
        return None

    def store(self, path: Path, name: str) -> bool:
        """Store ``path`` as the shared object ``name`` in the writable sharing backends.

        Return whether any backend took it (it may have had it already).
        """
        stored = False
        for slot in list(self.slots):
            if hasattr(slot.backend, "store") and slot.writable:
                stored = bool(self._call(slot, "store", path, name)) or stored
        return stored

    def _store(self, slot: Slot, key: CacheKey, wheel: Path) -> None:
        """Store a wheel in one backend, if it is writable."""
        if slot.writable:
            self._call(slot, "put", key, wheel)

    def _call(self, slot: Slot, method: str, *args: Any) -> Any:
        """Call a method of a backend; disable it (or stop writing to it) when it fails.

        A backend disabled earlier in the run is not asked: the answer is None.
        Threads may call backends at once; each failure is reported once.
        """
        if slot not in self.slots:
            return None
        try:
            return getattr(slot.backend, method)(*args)
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
