"""The binary cache's backends: what each must do, the key of a built wheel, how they are found.

This is the contract that a backend of another distribution subclasses
(see docs/backends.rst); the binary cache that asks the backends as one is
:class:`~pip_accel.caches.binary_cache.BinaryCache`, and
:mod:`~pip_accel.caches.signing` signs what the S3 backend stores.

A :class:`CacheKey` names one build: the platform namespace, the project's
name and version, and the sha256 of the source archive the wheel was built
from, so a changed sdist is built again and hash-checking mode keeps its
meaning.

Backends are found through the entry-point group ``pip_accel.cache_backends``
(see :func:`load_backends`): pip-accel ships ``local`` (the data directory) and
``s3`` (a bucket shared by many machines), and any installed distribution can
add another.
"""

import logging
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TypeVar

from pip_accel.config import Config

T = TypeVar("T")
"""What the reader of a streamed object makes of it."""

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


class CacheBackend(ABC):
    """The contract of a binary cache backend: subclass it and override what it does.

    The entry point of a backend names a callable (usually the subclass) that
    takes the :class:`~pip_accel.config.Config` and returns the backend. Only
    :meth:`get` and :meth:`put` must be written; every other method has a
    default that does nothing, so a backend that keeps only wheels is two
    methods long, the way installer's ``WheelDestination`` is a contract.

    Any method may raise :class:`~pip_accel.exceptions.CacheError` (the backend
    is then disabled for the run), :class:`~pip_accel.exceptions.CorruptObjectError`
    (the object is treated as absent) or, from :meth:`put` and :meth:`store`,
    :class:`~pip_accel.exceptions.CacheWriteRefusedError` (it is then read-only
    for the run).
    """

    priority: int = 100
    """Backends with a lower priority are asked first (local: 10, S3: 50)."""
    enabled: bool = True
    """False when the backend is not configured; it is then not used at all."""
    writable: bool = True
    """False when the backend only reads (it may turn False during a run)."""
    remote: bool = True
    """Whether asking costs a network round trip. Only backends that are not remote are
    asked on every run for every sdist of the local index; remote ones only for the sdists
    that need a wheel."""
    shares_objects: bool = False
    """Whether :meth:`fetch` and :meth:`store` keep named objects (shared plans, trees):
    only such backends make the fleet's sharing happen. A subclass that shares says so
    in its body or in its class line (``class B(CacheBackend, shares_objects=True)``)."""

    def __init_subclass__(cls, shares_objects: bool | None = None, **kwargs: Any) -> None:
        """Take ``shares_objects`` from the class line, where it is given there."""
        super().__init_subclass__(**kwargs)
        if shares_objects is not None:
            cls.shares_objects = shares_objects

    @abstractmethod
    def get(self, key: CacheKey) -> Path | None:
        """The local path of the wheel stored under ``key``, or None."""

    @abstractmethod
    def put(self, key: CacheKey, wheel: Path) -> None:
        """Store ``wheel`` (a file whose name is a wheel file name) under ``key``."""

    def put_source(self, archive: Path) -> None:  # noqa: B027 (an optional method)
        """Keep a downloaded archive (a wheel or an sdist); by default, nothing is kept."""

    def get_sources(self, directory: Path, projects: Iterable[str]) -> list[Path]:
        """Fetch into ``directory`` the archives of ``projects`` it lacks; by default, none."""
        return []

    def connect(self) -> None:  # noqa: B027 (an optional method)
        """Connect now, before threads use the backend; by default, there is nothing to do."""

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """Download the named object to ``target`` and return it, or None; by default None."""
        return None

    def stream(
        self, name: str, consume: Callable[[BinaryIO], T], sha256: str | None = None
    ) -> T | None:
        """Give the named object to ``consume`` as it arrives; what it returned, or None if absent.

        The object's checks (``sha256``, else the one it was stored with, and its
        signature) are made once ``consume`` has read it, and the rest of it
        that ``consume`` left: what ``consume`` made of an object that fails
        them is not to be used (:class:`~pip_accel.exceptions.CorruptObjectError`).
        By default the object is fetched whole with :meth:`fetch` into a
        temporary file, then read.
        """
        with tempfile.TemporaryDirectory(prefix="pip-accel-stream-") as directory:
            path = self.fetch(name, Path(directory, "object"), sha256)
            if path is None:
                return None
            with path.open("rb") as stream:
                return consume(stream)

    def store(self, path: Path, name: str) -> bool:
        """Upload ``path`` as the named object; whether it did. By default nothing is stored."""
        return False

    def replace(self, path: Path, name: str) -> bool:
        """Upload ``path`` as the named object over the one the backend has (found damaged).

        By default :meth:`store` (which may keep the one it has).
        """
        return self.store(path, name)


class DuckTypedBackend(CacheBackend):
    """A backend written before :class:`CacheBackend` existed, which does not subclass it.

    pip-accel 1.1 documented the contract as attributes and methods looked up by
    name; this adapter keeps such third-party backends working. Their optional
    methods are looked up once, here, and their attributes read when they are used.
    """

    def __init__(self, backend: Any) -> None:
        """Wrap ``backend``, which has at least ``priority``, ``get`` and ``put``."""
        self.backend = backend
        self.priority = int(backend.priority)
        self.shares_objects = callable(getattr(backend, "fetch", None))

    @property
    def enabled(self) -> bool:
        """The backend's own ``enabled``, true when it has none."""
        return bool(getattr(self.backend, "enabled", True))

    @enabled.setter
    def enabled(self, value: bool) -> None:
        """Set the backend's own ``enabled``."""
        self.backend.enabled = value

    @property
    def writable(self) -> bool:
        """The backend's own ``writable``, true when it has none."""
        return bool(getattr(self.backend, "writable", True))

    @writable.setter
    def writable(self, value: bool) -> None:
        """Set the backend's own ``writable``."""
        self.backend.writable = value

    @property
    def remote(self) -> bool:
        """The backend's own ``remote``, true when it has none."""
        return bool(getattr(self.backend, "remote", True))

    @remote.setter
    def remote(self, value: bool) -> None:
        """Set the backend's own ``remote``."""
        self.backend.remote = value

    def get(self, key: CacheKey) -> Path | None:
        """The backend's ``get``."""
        found: Path | None = self.backend.get(key)
        return found

    def put(self, key: CacheKey, wheel: Path) -> None:
        """The backend's ``put``."""
        self.backend.put(key, wheel)

    def put_source(self, archive: Path) -> None:
        """The backend's ``put_source``, if it has one."""
        if hasattr(self.backend, "put_source"):
            self.backend.put_source(archive)

    def get_sources(self, directory: Path, projects: Iterable[str]) -> list[Path]:
        """The backend's ``get_sources``, if it has one."""
        if not hasattr(self.backend, "get_sources"):
            return []
        return list(self.backend.get_sources(directory, projects) or [])

    def connect(self) -> None:
        """The backend's ``connect``, if it has one."""
        if hasattr(self.backend, "connect"):
            self.backend.connect()

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """The backend's ``fetch``, if it has one."""
        if not self.shares_objects:
            return None
        found: Path | None = self.backend.fetch(name, target, sha256)
        return found

    def store(self, path: Path, name: str) -> bool:
        """The backend's ``store``, if it has one."""
        return hasattr(self.backend, "store") and bool(self.backend.store(path, name))

    def replace(self, path: Path, name: str) -> bool:
        """The backend's ``replace``, if it has one, else its ``store``."""
        if hasattr(self.backend, "replace"):
            return bool(self.backend.replace(path, name))
        return self.store(path, name)


def as_backend(backend: Any) -> CacheBackend:
    """``backend`` itself when it subclasses :class:`CacheBackend`, else adapted to it."""
    return backend if isinstance(backend, CacheBackend) else DuckTypedBackend(backend)


def load_backends(config: Config) -> dict[str, CacheBackend]:
    """Every enabled backend: the bundled ones and those of installed distributions.

    A backend that cannot be loaded or set up is left out with a warning.
    """
    found = {name: EntryPoint(name, value, GROUP) for name, value in BUNDLED.items()}
    found.update({point.name: point for point in entry_points(group=GROUP)})
    backends = {}
    for name, point in sorted(found.items()):
        try:
            backend = as_backend(point.load()(config))
        except Exception as error:
            logger.warning(
                "Not using the cache backend %r (%s): it failed to load: %s", name, point.value,
                describe(error),
            )  # fmt: skip
            logger.debug("Traceback:", exc_info=True)
            continue
        if backend.enabled:
            backends[name] = backend
    logger.debug("Cache backends: %s.", ", ".join(backends) or "none")
    return backends


def describe(error: BaseException) -> str:
    """An exception as a short phrase: its message, or its type when it has none."""
    return str(error) or type(error).__name__
