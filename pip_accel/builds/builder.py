"""Building source distributions into wheels, once, through PEP 517.

pip builds the wheel (``pip wheel --no-deps``) with the target interpreter,
offline, taking the build back-ends from the local index. The wheel goes into
the binary cache, as do the wheels that pip built while it downloaded
(:meth:`Builder.adopt`). A file lock per cache key makes concurrent pip-accel
processes build one sdist once between them.
"""

import logging
import shutil
import tempfile
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from filelock import FileLock
from humanfriendly import Timer, format_timespan
from humanfriendly.text import pluralize

from pip_accel.caches import CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.datadir.layout import BUILD_PREFIX, SET_BUILD_LOCK
from pip_accel.datadir.scratch import PrivateDirectory
from pip_accel.exceptions import BuildError, PipFailedError
from pip_accel.pip.commands import wheel_command
from pip_accel.pip.output import missing_build_requirements
from pip_accel.pip.runner import Pip
from pip_accel.workers import Cores, workers

logger = logging.getLogger(__name__)


class Builder:
    """Turns source distributions into cached wheels."""

    def __init__(
        self,
        pip: Pip,
        cache: BinaryCache,
        sources: Path,
        locks: Path,
        options: Sequence[str] = (),
        scratch: Path | None = None,
        project_options: Callable[[str], Sequence[str]] = lambda project: (),
        cores: Cores = workers,
    ) -> None:
        """Prepare to build.

        :param pip: runs pip for the target interpreter.
        :param cache: where built wheels go.
        :param sources: the local index, where the build back-ends are found.
        :param locks: a directory for the lock files of builds.
        :param options: the user's build options for ``pip wheel``.
        :param scratch: where builds run, each in a private directory that a
            later run removes if this one is killed (default: the system's
            temporary directory).
        :param project_options: the build options of one project (from its
            line in a requirements file), added to ``options`` for its builds.
        :param cores: how many builds may run at once (asked when they start).
        """
        self.pip = pip
        self.cache = cache
        self.sources = sources
        self.locks = locks
        self.scratch = Path(scratch or tempfile.gettempdir())
        self.options = list(options)
        self.project_options = project_options
        self.cores = cores
        self.built: set[Path] = set()
        """The wheels this builder built (rather than found in the cache)."""
        self.kept: Path | None = None
        """A directory for built wheels that no cache backend could store."""
        self.on_built: Callable[[Path], None] = lambda wheel: None
        """Called with each wheel this builder built."""
        self.spinner = True
        """Whether a lone build shows a spinner (not while a live progress line is shown)."""

    def wheels_for(self, sdists: Mapping[CacheKey, Path]) -> dict[CacheKey, Path]:
        """The cached wheel of each sdist, building the missing ones, several at a time."""
        wheels = {key: self.cache.get(key) for key in sdists}
        missing = [key for key, wheel in wheels.items() if wheel is None]
        jobs = self.cores()
        if len(missing) > 1:
            logger.info("Building %s, %d at a time.", pluralize(len(missing), "sdist"), jobs)
        with ThreadPoolExecutor(max_workers=jobs) as executor:
            built = executor.map(
                lambda key: self._locked_build(sdists[key], key, self._spinner(missing)), missing
            )
            wheels.update(zip(missing, built, strict=True))
        return {key: wheel for key, wheel in wheels.items() if wheel is not None}

    def whole_set_lock(self) -> FileLock:
        """The lock to hold while ``pip wheel`` builds a whole set: another process waits
        for it and then finds the wheels in the cache, so no sdist is built twice."""
        self.locks.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.locks / SET_BUILD_LOCK))

    def adopt(self, key: CacheKey, wheel: Path) -> Path:
        """Store a wheel that pip built from the sdist of ``key`` while it downloaded, as if
        built here (see :mod:`pip_accel.sources.building`)."""
        self.locks.mkdir(parents=True, exist_ok=True)
        with FileLock(self._lock_path(key)):
            cached = self.cache.get(key, remote=False)
            if cached is not None:  # another process built it meanwhile
                return cached
            stored = self.cache.put(key, wheel) or self._keep(wheel)
        self.built.add(stored)
        self.on_built(stored)
        return stored

    def _lock_path(self, key: CacheKey) -> str:
        """The lock file of the builds of one cache key."""
        return str(self.locks / f"{key.name}-{key.version}-{key.source_sha256}.lock")

    def _spinner(self, missing: list[CacheKey]) -> bool:
        """Whether builds show a spinner: when allowed, and one alone is built."""
        return self.spinner and len(missing) == 1

    def _locked_build(self, sdist: Path, key: CacheKey, spinner: bool) -> Path:
        """Build one sdist unless another process did so while this one waited for the lock."""
        self.locks.mkdir(parents=True, exist_ok=True)
        with FileLock(self._lock_path(key)):
            cached = self.cache.get(key)
            if cached is not None:
                return cached
            with PrivateDirectory(self.scratch, BUILD_PREFIX) as directory:
                wheel = self._build(sdist, key, directory, spinner)
                stored = self.cache.put(key, wheel) or self._keep(wheel)
        self.built.add(stored)
        self.on_built(stored)
        return stored

    def _keep(self, wheel: Path) -> Path:
        """Keep a wheel that no cache backend stored until the end of the run."""
        if self.kept is None:
            self.kept = Path(tempfile.mkdtemp(prefix="pip-accel-wheels-"))
            weakref.finalize(self, shutil.rmtree, self.kept, ignore_errors=True)
        return Path(shutil.copy(wheel, self.kept / wheel.name))

    def _build(self, sdist: Path, key: CacheKey, directory: Path, spinner: bool) -> Path:
        """Run ``pip wheel`` on one sdist and return the wheel it made."""
        options = [*self.options, *self.project_options(key.name)]
        args = wheel_command(sdist, directory, self.sources, options)
        timer = Timer()
        label = f"Building {key.name} {key.version} from {sdist.name}"
        try:
            logger.info("%s ..", label)
            self.pip.run(args, spinner=label if spinner else None)
        except PipFailedError as error:
            missing = missing_build_requirements(error.output)
            if missing:  # the planner downloads them and builds again
                logger.info(
                    "Building %s %s needs %s, which the local index lacks.",
                    key.name, key.version, ", ".join(missing),
                )  # fmt: skip
                logger.debug("The output of the build:\n%s", error.output.rstrip())
                raise BuildError(
                    f"Failed to build {key.name} {key.version}: its build back-end asked for"
                    f" {', '.join(missing)}, which the local index lacks",
                    error.output,
                    error.returncode,
                    project=key.name,
                ) from error
            if error.output:
                logger.error("%s failed; its output follows:\n%s", label, error.output.rstrip())
            raise BuildError(
                f"Failed to build {key.name} {key.version}: {error} (build output above)",
                error.output,
                error.returncode,
                project=key.name,
            ) from error
        wheels = list(directory.glob("*.whl"))
        if len(wheels) != 1:
            raise BuildError(f"Building {key.name} {key.version} made no wheel.")
        logger.info("Built %s in %s.", wheels[0].name, format_timespan(timer.elapsed_time))
        return wheels[0]
