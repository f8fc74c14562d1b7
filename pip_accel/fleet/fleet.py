"""The fleet's memory: plans and compiled trees shared through the cache backends (S3).

Most CI workers start every job with an empty disk, so a warm data directory
is the exception, and the bucket is what the fleet remembers. A worker that
plans stores the plan in the bucket too, under the *shared key* of its
question (:meth:`pip_accel.plan.stored.PlanCache.shared_key`: no path of any
machine, no local index), naming the wheel of each distribution by its
object and sha256; and it stores the tree of each wheel, its bytecode
compiled for one interpreter, as one compressed archive. A worker whose own
data directory has no plan asks the bucket for the plan of the same question,
then fetches what it names, several objects at a time, checking each sha256:
no pip process, no package index, no listing of the bucket. The tree of a wheel
is enough to install it, so a wheel is fetched only where its tree is missing
or refused (or the run needs the wheel files): the plan it keeps names the
other wheels by their sha256 alone, and a wheel needed later is fetched then
(:meth:`Fleet.bring`).

Object names, below the cache's root (``<s3-prefix>/v2``)::

   plans/<shared key>.json                 a shared plan
   trees/<cache tag>/<wheel sha256>-<tree format>.tar.gz
                                           a compiled tree (zstandard or gzip:
                                           see :mod:`~pip_accel.fleet.tree_archive`)
   sources/<project>/<archive>             a downloaded wheel (or sdist)
   <namespace>/<name>/<version>/<sdist sha256>/<wheel>
                                           a wheel built from an sdist

Anything missing, corrupt or unsafe is a warning and a fallback: a plan that
cannot be used means planning as usual, a tree that cannot be used means
fetching the wheel and unpacking and compiling it here. A writer then stores its own plan or
tree in place of the one it could not use, so that the next worker finds a
sound one; a bucket that could not be reached or was lost in the middle is
one warning (of the binary cache), and the run goes on without it.
"""

import json
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import BinaryIO

from humanfriendly.text import pluralize

from pip_accel import __version__
from pip_accel.caches import CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.caches.local import checksum_file
from pip_accel.config import Config
from pip_accel.datadir.layout import FLEET_PLAN_PREFIX, FLEET_TREE_PREFIX, UNPACKING_PREFIX
from pip_accel.datadir.records import Record, record_sha256, sha256_of
from pip_accel.datadir.scratch import PrivateDirectory
from pip_accel.environment import TargetEnvironment
from pip_accel.files import hash_file, write_atomically
from pip_accel.fleet.shared_plan import BINARY, FORMAT, SOURCE, SharedWheel, parse_shared_plan
from pip_accel.fleet.tree_archive import (
    MissingDecompressorError,
    TreeArchiveError,
    UnsafeTreeArchiveError,
    check_manifest,
    pack_tree,
    unpack_stream,
)
from pip_accel.install.manifest import FORMAT as TREE_FORMAT
from pip_accel.install.manifest import UnpackedTree
from pip_accel.install.trees import TreeStore
from pip_accel.install.wheel_digests import WheelDigests
from pip_accel.plan.document import plan_document
from pip_accel.plan.plan import PlannedWheel

logger = logging.getLogger(__name__)


class Fleet:
    """Shared plans and trees of one run, and the uploads that run beside the install."""

    def __init__(
        self,
        cache: BinaryCache,
        config: Config,
        target: TargetEnvironment,
        trees: TreeStore | None = None,
    ) -> None:
        """Share through the backends of ``cache``; place what is fetched in ``config``'s data.

        ``trees``: the run's tree store, where fetched trees are placed (made from the
        configuration when not given).
        """
        self.cache = cache
        self.config = config
        self.target = target
        self.trees = trees or TreeStore(config.tree_cache, target, WheelDigests.of(config))
        self.pool = ThreadPoolExecutor(max_workers=config.s3_concurrency)
        self.uploads: list[Future[bool]] = []
        self.lock = threading.Lock()
        self.damaged: set[str] = set()
        """Objects (a plan, trees) this run could not use: a writer replaces them."""
        self.treeless: list[str] = []
        """The wheels of the shared plan whose trees the bucket lacks (one warning for all)."""

    # Reading -------------------------------------------------------------------------------

    def plan(self, shared_key: str, wheels: bool = False) -> list[PlannedWheel] | None:
        """The wheels of the shared plan of ``shared_key``, fetched with their trees; or None.

        A wheel whose tree is here or in the bucket is not fetched (the plan
        names it by its sha256), unless ``wheels`` (the run hands wheels to
        pip or reads their metadata).
        """
        self.cache.connect()
        entries = self._load(shared_key)
        if entries is None:
            return None
        jobs = [self.pool.submit(self._fetch, entry, shared_key, wheels) for entry in entries]
        planned = [job.result() for job in jobs]
        if any(wheel is None for wheel in planned):
            if not self.cache.shared:
                logger.info(
                    "Not using the fleet's plan: the shared cache was lost; planning as usual."
                )
            return None
        chosen = [wheel for wheel in planned if wheel is not None]
        if self.treeless:
            logger.warning(
                "The shared cache has no tree of %s (%s); unpacking %s here.",
                pluralize(len(self.treeless), "wheel"), ", ".join(sorted(self.treeless)),
                "it" if len(self.treeless) == 1 else "them",
            )  # fmt: skip
        absent = sum(wheel.absent for wheel in chosen)
        logger.info(
            "Using the fleet's plan of the same requirements and target (%s%s).",
            pluralize(len(chosen), "wheel"),
            f", {absent} of them by their trees alone" if absent else "",
        )
        return chosen

    def bring(self, wheel: PlannedWheel) -> bool:
        """Fetch a wheel that a plan names by its sha256 alone, now that it is needed."""
        entry = self._entry(wheel, wheel.sha256)
        if entry is None:
            return False
        self.cache.connect()
        if self._wheel(entry) is not None:
            return True
        if self.cache.shared:
            logger.warning("The wheel %s is missing from the shared cache or corrupt.", entry.file)
        return False

    def _load(self, shared_key: str) -> list[SharedWheel] | None:
        """The entries of the shared plan, or None when there is none or it is damaged."""
        with PrivateDirectory(self.config.scratch_directory, FLEET_PLAN_PREFIX) as directory:
            path = self.cache.fetch(f"plans/{shared_key}.json", directory / "plan.json")
            if path is None:
                logger.debug("The fleet has no plan of these requirements and target.")
                return None
            try:
                return parse_shared_plan(json.loads(path.read_bytes()), shared_key)
            except (ValueError, UnicodeError, RecursionError) as error:
                logger.warning("Not using the fleet's plan %s: %s.", shared_key[:12], error)
                self.damaged.add(f"plans/{shared_key}.json")
                return None

    def _fetch(self, entry: SharedWheel, shared_key: str, wheels: bool) -> PlannedWheel | None:
        """The wheel of one entry in the data directory, or its tree alone (see :meth:`plan`).

        The tree comes first: a wheel is fetched only where the tree is not
        here nor in the bucket, or was refused (damaged, unsafe), or when
        ``wheels``. Once the shared cache is lost (unreachable, or its
        connection lost: one warning of the binary cache), no wheel is asked
        for or warned about.
        """
        if not self.cache.shared:
            return None
        target = self._location(entry)
        here = target.is_file() and hash_file(target) == entry.sha256
        tried = not here and not wheels and not os.path.lexists(target)  # a damaged one is fetched
        if tried and self._tree(target, entry.sha256):
            return PlannedWheel(
                entry.name, entry.version, entry.requested, str(target), 0, 0,
                entry.direct_url, entry.sha256,
            )  # fmt: skip
        wheel = target if here else self._wheel(entry)
        if wheel is None:
            if self.cache.shared:
                logger.warning(
                    "Not using the fleet's plan: its wheel %s is missing from the shared cache or"
                    " corrupt; planning as usual.", entry.file,
                )  # fmt: skip
                self.damaged.add(f"plans/{shared_key}.json")
            return None
        if not tried:
            self._tree(wheel, entry.sha256)
        status = wheel.stat()
        return PlannedWheel(
            entry.name, entry.version, entry.requested, str(wheel),
            status.st_size, status.st_mtime_ns, entry.direct_url, entry.sha256,
        )  # fmt: skip

    def _location(self, entry: SharedWheel) -> Path:
        """Where the wheel of an entry is kept in the data directory."""
        if entry.kind == BINARY and entry.key:
            return self.config.binary_cache / CacheKey(*entry.key).path / entry.file
        return self.config.source_index / entry.file

    def _wheel(self, entry: SharedWheel) -> Path | None:
        """The local wheel of an entry: found with its sha256, or fetched and recorded."""
        target = self._location(entry)
        if target.is_file() and hash_file(target) == entry.sha256:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with PrivateDirectory(target.parent, ".fetching-") as directory:
            fetched = self.cache.fetch(entry.object, directory / entry.file, entry.sha256)
            if fetched is None:
                return None
            if entry.kind == BINARY:  # the local cache reads no wheel without its checksum
                write_atomically(checksum_file(target), entry.sha256.encode())
                Record.of(fetched, entry.sha256).write(target)  # names its tree
            else:
                record_sha256(fetched, target)
            os.replace(fetched, target)
        return target

    def _tree(self, wheel: Path, sha256: str) -> bool:
        """Whether the tree of a wheel is here: found, or fetched from the bucket and unpacked.

        ``wheel`` may be absent: the tree is named by ``sha256``. The archive is
        unpacked as it arrives, into a private directory that becomes the tree
        only once the whole archive passed its checks (sha256, signature) and
        the tree's manifest was checked; anything else leaves nothing.
        """
        if self.trees.find(wheel, sha256) is not None:
            return True
        parent = self.trees.directory
        parent.mkdir(parents=True, exist_ok=True)
        name = self._tree_object(sha256)
        with PrivateDirectory(parent, UNPACKING_PREFIX) as directory:
            try:
                unpacked = self.cache.stream(name, partial(self._unpack, directory / "tree"))
                if unpacked is None:  # missing (a refused one was a warning of the cache already)
                    if name not in self.cache.refused:
                        with self.lock:
                            self.treeless.append(wheel.name)
                    return False
                tree = UnpackedTree.load(unpacked)
                if tree is None:
                    raise UnsafeTreeArchiveError("it has no readable manifest")
                check_manifest(tree)
                tree.seal()  # the times of the files are this machine's now
                tree.save()
            except (TreeArchiveError, OSError) as error:
                logger.warning("Not using the fleet's tree of %s: %s.", wheel.name, error)
                if not isinstance(error, MissingDecompressorError):
                    self.damaged.add(name)
                return False
            self.trees.place(wheel, tree, sha256)
        return True

    @staticmethod
    def _unpack(directory: Path, stream: BinaryIO) -> Path:
        """Unpack a tree archive as it arrives into ``directory``; the directory."""
        unpack_stream(stream, directory)
        return directory

    def _tree_object(self, sha256: str) -> str:
        """The object name of the tree of the wheel with ``sha256``, for this interpreter."""
        return f"trees/{self.target.cache_tag}/{sha256}-{TREE_FORMAT}.tar.gz"

    # Writing -------------------------------------------------------------------------------

    def share(self, shared_key: str, wheels: list[PlannedWheel]) -> None:
        """Store the plan and the wheels it names, beside the install (unless read-only)."""
        if not self.cache.shares_writes:
            return
        entries = [self._entry(wheel) for wheel in wheels]
        if any(entry is None for entry in entries):
            return  # a wheel that no backend keeps: other machines could not use the plan
        chosen = [entry for entry in entries if entry is not None]
        stored = [
            self.pool.submit(self.cache.store, Path(wheel.wheel), entry.object)
            for entry, wheel in zip(chosen, wheels, strict=True)
        ]
        self.uploads += stored
        self.uploads.append(self.pool.submit(self._store_plan, shared_key, chosen, stored))

    def share_trees(self, trees: dict[Path, UnpackedTree]) -> None:
        """Store the trees of the wheels as archives, beside the install (unless read-only)."""
        if not self.cache.shares_writes:
            return
        for wheel, tree in trees.items():
            self.uploads.append(self.pool.submit(self._store_tree, wheel, tree))

    def _entry(self, wheel: PlannedWheel, sha256: str | None = None) -> SharedWheel | None:
        """How a shared plan names one planned wheel (of ``sha256``, when known: it may be
        absent), or None when it is not in the cache."""
        path = Path(wheel.wheel)
        if path.parent == self.config.source_index:
            kind, key = SOURCE, None
            sha256 = sha256 or sha256_of(path)
        elif path.is_relative_to(self.config.binary_cache):
            parts = path.relative_to(self.config.binary_cache).parts
            if len(parts) != 5:
                return None
            kind, key = BINARY, list(parts[:4])
            sha256 = sha256 or self.trees.digests.sha256(path)
        else:
            return None
        return SharedWheel(
            wheel.name, wheel.version, wheel.requested, wheel.direct_url,
            path.name, kind, key, sha256,
        )  # fmt: skip

    def _store_plan(
        self, shared_key: str, entries: list[SharedWheel], wheels_stored: list[Future[bool]]
    ) -> bool:
        """Store the shared plan once its wheels are stored, so that it never names a missing one.

        (The wheels' uploads were queued first, so they do not wait for this.)
        """
        for upload in wheels_stored:
            upload.result()
        if not self.cache.shares_writes:
            return False  # the backend refused an upload meanwhile
        wheels = [asdict(entry) for entry in entries]
        document = plan_document(FORMAT, shared_key, wheels, pip_accel=__version__)
        with PrivateDirectory(self.config.scratch_directory, FLEET_PLAN_PREFIX) as directory:
            path = directory / "plan.json"
            path.write_text(json.dumps(document, indent=1), encoding="utf-8")
            return self._store(path, f"plans/{shared_key}.json")

    def _store_tree(self, wheel: Path, tree: UnpackedTree) -> bool:
        """Pack a tree into an archive and store it under its wheel's sha256."""
        name = self._tree_object(self.trees.digests.sha256(wheel))
        with PrivateDirectory(self.config.scratch_directory, FLEET_TREE_PREFIX) as directory:
            archive = directory / "tree.tar"
            pack_tree(tree.directory, archive)
            return self._store(archive, name)

    def _store(self, path: Path, name: str) -> bool:
        """Store a plan or tree: over the bucket's own when this run could not use that one.

        Otherwise an object the bucket has is kept (the plan of the same question
        from another writer is as good), and a damaged one would stay for good.
        """
        replace = name in self.damaged
        if replace:
            logger.info("Replacing %s in the shared cache: this run could not use it.", name)
        return self.cache.store(path, name, replace=replace)

    def abandon(self) -> None:
        """Stop the uploads that have not started (the run failed or was interrupted)."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def finish(self) -> int:
        """Wait for every upload; return how many objects were stored.

        A failed upload was already a warning of the backend; one that failed
        here (packing a tree) is one too. Nothing is left running.
        """
        stored = 0
        try:
            for upload in self.uploads:
                try:
                    stored += bool(upload.result())
                except Exception as error:
                    logger.warning("Could not store an object in the shared cache: %s", error)
        finally:
            self.pool.shutdown(cancel_futures=True)
        return stored
