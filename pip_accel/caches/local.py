"""The local binary cache backend: wheels under ``<data>/binaries``.

Any number of pip-accel processes may share the directory: an entry is
written to a temporary file and renamed into place, so a reader sees either
no entry or a whole one.
"""

import logging
import os
import shutil
import tempfile
from pathlib import Path

from pip_accel.caches import CacheKey
from pip_accel.config import Config

logger = logging.getLogger(__name__)


class LocalCacheBackend:
    """Keeps built wheels on the local file system."""

    priority = 10

    def __init__(self, config: Config) -> None:
        """Use the binary cache directory of the configuration."""
        self.directory = config.binary_cache

    def get(self, key: CacheKey) -> Path | None:
        """The wheel stored under ``key``, or None."""
        entry = self.directory / key.path
        if not entry.is_dir():
            return None
        wheels = sorted(entry.glob("*.whl"))
        return wheels[0] if wheels else None

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Copy ``wheel`` into the entry of ``key``, atomically."""
        entry = self.directory / key.path
        entry.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=entry)
        os.close(handle)
        try:
            shutil.copyfile(wheel, temporary)
            os.replace(temporary, entry / wheel.name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        logger.debug("Stored %s in %s.", wheel.name, entry)
