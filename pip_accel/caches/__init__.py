"""The binary cache: wheels built from source distributions, found by key.

A :class:`CacheKey` names one build: the platform namespace, the project's
name and version, and the sha256 of the source archive the wheel was built
from, so a changed sdist is built again and hash-checking mode keeps its
meaning. :class:`BinaryCache` asks its backends in order of priority.
"""

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

logger = logging.getLogger(__name__)


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
    """What a binary cache backend offers."""

    priority: int
    """Backends with a lower priority are asked first."""

    def get(self, key: CacheKey) -> Path | None:
        """The local path of the wheel stored under ``key``, or None."""

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Store ``wheel`` (a file whose name is a wheel file name) under ``key``."""


class BinaryCache:
    """The binary cache as one thing: its backends asked in priority order."""

    def __init__(self, backends: list[CacheBackend]) -> None:
        """Use these backends (sorted by priority here)."""
        self.backends = sorted(backends, key=lambda backend: backend.priority)

    def get(self, key: CacheKey) -> Path | None:
        """The wheel stored under ``key`` in the first backend that has it."""
        for backend in self.backends:
            found = backend.get(key)
            if found is not None:
                return found
        return None

    def put(self, key: CacheKey, wheel: Path) -> Path:
        """Store a wheel in every backend; return its path in the first one."""
        for backend in self.backends:
            backend.put(key, wheel)
        stored = self.get(key)
        if stored is None:
            raise RuntimeError(f"The binary cache lost {key} right after storing it")
        return stored
