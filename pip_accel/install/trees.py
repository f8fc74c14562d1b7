"""The tree store: every cached wheel also kept as a tree of files, bytecode compiled.

The tree's manifest (:mod:`~pip_accel.install.manifest`), the compiler
(:mod:`~pip_accel.install.compiler`) and the unpacking of wheels while the plan is
made (:mod:`~pip_accel.install.unpacker`) are modules of their own.

Unzipping, hashing and compiling a wheel at every install is where a warm
install spends its time, so each wheel is unpacked once per interpreter
version (the bytecode differs), into ``<data>/trees/<cache tag>/``, by
pypa/installer itself, with the scheme directories (``purelib``, ``platlib``,
``scripts``, ``headers``, ``data``) as subdirectories. A manifest records what
installer computed for ``RECORD`` (the path, hash and size of every file), the
scripts (made for the target interpreter only at install time) and the
bytecode files that compiled. An install then links (or copies) the files into
place: see :mod:`pip_accel.install.installer`.

A tree is named by its wheel's contents: the directory of the cache tag holds
``<wheel name>-<wheel sha256>``, the sha256 read from the record kept beside
the wheel (:mod:`pip_accel.install.wheel_digests`), so a data directory that is copied,
moved or restored elsewhere finds every tree. A tree of the older naming (by
the wheel's path, size and time) is renamed to its new name the first time its
wheel is looked for.

A tree is built in a private directory and renamed into place with its
manifest inside as soon as its bytecode is compiled, so concurrent processes
see a whole tree or none, the loser of a race simply uses the winner's tree,
and a run that is killed keeps the trees it finished.

The files of a tree are made read-only, and the manifest records the size and
modification time of each: an install checks them before it places a file
(:func:`pip_accel.install.installer.check_tree_file`), so a file edited in place through
the hard link of some environment never reaches another one; the tree is then
unpacked again from its wheel. ``--force-reinstall`` checks every file's hash.
"""

import contextlib
import hashlib
import logging
import os
import threading
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from humanfriendly.text import pluralize
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme

from pip_accel.datadir.layout import DAMAGED_TREE_PREFIX, TREE_PREFIXES, UNPACKING_PREFIX
from pip_accel.datadir.scratch import PrivateDirectory, remove_leftovers, remove_tree
from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import InstallError, UnsafeWheelError
from pip_accel.install.compiler import Compiler
from pip_accel.install.manifest import SCHEMES, TreeFile, UnpackedTree
from pip_accel.install.wheel_digests import WheelDigests
from pip_accel.workers import Cores, workers

logger = logging.getLogger(__name__)


UNPACK_THREADS = 2
"""How many wheels are unpacked at once at most (fewer when fewer cores are free). Inflating
and writing files let go of the interpreter's lock, installer's bookkeeping does not: on 2
cores two threads were as fast as one when files were quick to write and faster when they
were slow (measured on the web set); more would mostly wait for the lock."""


COMPILE_BACKLOG = 400
"""How many modules may wait for the compiler before the next wheel is unpacked (about half
a second of work on two cores): enough to keep it busy, little enough that the wheels an
install waits for are not queued behind the others."""


@dataclass
class TreeDestination(SchemeDictionaryDestination):
    """installer's destination for unpacking into a tree: records instead of finishing.

    Scripts are not made here, because their ``#!`` line names the target
    interpreter: the files of the ``scripts`` scheme are kept as they are and
    the entry points are only noted.
    """

    tree: UnpackedTree = field(default_factory=lambda: UnpackedTree(Path()))

    def write_file(
        self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        """Write a file as it is in the wheel (scripts keep their ``#!python`` line)."""
        record = self.write_to_fs(scheme, os.fspath(path), stream, is_executable)
        entry = TreeFile(scheme, record.path, str(record.hash_), record.size, is_executable)
        (self.tree.scripts if scheme == "scripts" else self.tree.files).append(entry)
        return record

    def write_script(self, name: str, module: str, attr: str, section: Any) -> RecordEntry:
        """Note an entry point script, to be made at install time."""
        self.tree.entry_points.append((name, module, attr, str(section)))
        return RecordEntry(name, None, None)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        """Note where ``RECORD`` goes; it is written at install time."""
        self.tree.root_scheme = scheme
        self.tree.record_path = record_file_path


class TreeStore:
    """The unpacked trees of the wheels installed for one interpreter version."""

    def __init__(
        self,
        directory: Path,
        target: TargetEnvironment,
        digests: WheelDigests | None = None,
        cores: Cores = workers,
    ) -> None:
        """Keep the trees for ``target`` under ``directory``; ``digests`` names them (by
        default every wheel is hashed, nothing recorded); ``cores`` says how many
        processes may compile and (up to :data:`UNPACK_THREADS`) threads unpack."""
        self.directory = directory / target.cache_tag
        self.target = target
        self.digests = digests or WheelDigests()
        self.cores = cores
        self.unpacked: list[Path] = []
        """The wheels whose trees this store unpacked (rather than found)."""
        self.listeners: list[Callable[[Path], None]] = []
        """Called with each wheel whose tree this store published (from any thread): the live
        progress, the background unpacker."""
        self.fetch_wheel: Callable[[Path], None] | None = None
        """Brings a wheel that is not here before it is unpacked: one a fleet's plan names by its
        sha256 alone, whose tree came from the bucket (see :mod:`pip_accel.fleet.fleet`)."""

    def trees_for(self, wheels: Iterable[Path]) -> dict[Path, UnpackedTree]:
        """The tree of every wheel, unpacking and compiling those without one."""
        trees: dict[Path, UnpackedTree] = {}
        missing = []
        for wheel in wheels:
            tree = self.find(wheel)
            if tree is None:
                missing.append(wheel)
            else:
                trees[wheel] = tree
        if missing:
            trees.update(self._unpack_all(missing))
            self.unpacked += missing
        return trees

    def replace(self, wheel: Path) -> UnpackedTree:
        """Unpack a wheel again, its tree being damaged; the damaged tree goes.

        It is renamed out of the way first (which works even where its files
        are read-only), so that the new tree can take its place at once.
        """
        damaged = self.location(wheel)
        if damaged.exists():
            with PrivateDirectory(self.directory, DAMAGED_TREE_PREFIX) as aside:
                os.rename(damaged, aside / "tree")
        return self._unpack_all([wheel])[wheel]

    def find(self, wheel: Path, sha256: str | None = None) -> UnpackedTree | None:
        """The complete tree of a wheel (of ``sha256``, when known), or None; a tree of the
        older naming gets the new one."""
        location = self.location(wheel, sha256)
        tree = UnpackedTree.load(location)
        if tree is None and not location.exists():
            tree = self._migrated(wheel, location)
        return tree

    def location(self, wheel: Path, sha256: str | None = None) -> Path:
        """The tree directory of a wheel file, named by its contents (``sha256`` when known).

        The directory of the cache tag holds it, since the bytecode is the
        interpreter's; the wheel's name is kept in front for people and for
        :mod:`pip_accel.upkeep.entries`, which reads the project from it.
        """
        return self.directory / f"{wheel.name[:-4]}-{sha256 or self.digests.sha256(wheel)}"

    def _migrated(self, wheel: Path, location: Path) -> UnpackedTree | None:
        """The tree of a wheel under the older name (its path, size and time), renamed to
        ``location``; None when there is none (or another run renamed it first)."""
        try:
            status = wheel.stat()
        except OSError:
            return None
        identity = f"{wheel.absolute()}\0{status.st_size}\0{status.st_mtime_ns}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        legacy = self.directory / f"{wheel.name[:-4]}-{digest}"
        if UnpackedTree.load(legacy) is None:
            return None
        with contextlib.suppress(OSError):  # another run renamed it first
            os.rename(legacy, location)
        return UnpackedTree.load(location)

    def _unpack_all(self, wheels: list[Path]) -> dict[Path, UnpackedTree]:
        """Unpack wheels into private directories; publish each tree once it is compiled."""
        logger.info("Unpacking and compiling %s.", pluralize(len(wheels), "new wheel"))
        if self.fetch_wheel is not None:
            for wheel in wheels:
                if not wheel.exists():
                    self.fetch_wheel(wheel)
        return self.unpack_stream(wheels)

    def unpack_stream(self, wheels: Iterable[Path]) -> dict[Path, UnpackedTree]:
        """Unpack wheels as ``wheels`` yields them, each compiled while the next is unpacked.

        ``wheels`` may wait for the next wheel (a download): the compiling
        process waits with it.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.directory, TREE_PREFIXES)
        batch = _Batch(self)
        cores = self.cores()
        try:
            with Compiler(self.target, batch.publish, cores) as compiler:
                self._unpack_each(wheels, batch, compiler, min(UNPACK_THREADS, cores))
            return batch.finish()
        finally:
            batch.close()

    def _unpack_each(
        self, wheels: Iterable[Path], batch: "_Batch", compiler: "Compiler", threads: int
    ) -> None:
        """Unpack the wheels ``threads`` at a time, each compiled once unpacked.

        The next wheel is taken only when a thread is free and the compiler
        is not far behind (:data:`COMPILE_BACKLOG`), so that ``wheels`` can
        still choose which one comes next (:class:`WheelQueue`). The first
        failure ends the work: wheels not yet taken are not unpacked.
        """
        free = threading.Semaphore(threads)

        def unpack(wheel: Path) -> None:
            try:
                tree = batch.start(wheel)
                self._unpack(wheel, tree)
                compiler.add(str(wheel), tree.modules)
            finally:
                free.release()

        wheels = iter(wheels)
        with ThreadPoolExecutor(threads, thread_name_prefix="unpack") as pool:
            started: list[Future[None]] = []
            try:
                while True:
                    free.acquire()
                    compiler.wait_for_backlog(COMPILE_BACKLOG)
                    _raise_first_failure(started)
                    wheel = next(wheels, None)
                    if wheel is None:
                        break
                    started.append(pool.submit(unpack, wheel))
                _raise_first_failure(started, wait=True)
            finally:
                for future in started:
                    future.cancel()

    @staticmethod
    def _unpack(wheel: Path, tree: UnpackedTree) -> None:
        """Unpack one wheel with installer into the (private) directory of ``tree``."""
        check_wheel_paths(wheel)
        destination = TreeDestination(
            scheme_dict={scheme: str(tree.directory / scheme) for scheme in SCHEMES},
            interpreter="python",
            script_kind="posix",
            tree=tree,
        )
        try:
            with WheelFile.open(wheel) as source:
                install(source, destination, {})
        except Exception as error:
            raise InstallError(f"Failed to unpack {wheel.name}: {error}.") from error

    def publish(self, wheel: Path, tree: UnpackedTree) -> UnpackedTree:
        """Note the bytecode that compiled, seal the files, rename the tree into place."""
        tag = self.target.cache_tag
        for module in tree.modules:
            cached = module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"
            if cached.is_file():
                scheme, _, path = str(cached.relative_to(tree.directory)).partition("/")
                tree.bytecode.append(TreeFile(scheme, path))
        tree.seal()
        tree.save()
        return self.place(wheel, tree)

    def place(self, wheel: Path, tree: UnpackedTree, sha256: str | None = None) -> UnpackedTree:
        """Rename a complete tree (manifest saved) into the place of ``wheel``'s tree
        (``sha256``: the wheel's, when known)."""
        final = self.location(wheel, sha256)
        try:
            os.rename(tree.directory, final)
        except OSError:
            existing = UnpackedTree.load(final)  # another process was faster
            if existing is not None:
                return existing
            remove_tree(final)  # an incomplete tree, or one of another layout: replace it
            os.rename(tree.directory, final)
        tree.directory = final
        return tree


class _Batch:
    """The trees of one :meth:`TreeStore._unpack_all`: private until each is published."""

    def __init__(self, store: TreeStore) -> None:
        """Unpack into ``store``."""
        self.store = store
        self.private: dict[Path, PrivateDirectory] = {}
        self.trees: dict[Path, UnpackedTree] = {}
        self.lock = threading.Lock()

    def start(self, wheel: Path) -> UnpackedTree:
        """A new private tree for ``wheel``."""
        private = PrivateDirectory(self.store.directory, UNPACKING_PREFIX)
        with self.lock:
            self.private[wheel] = private
            self.trees[wheel] = UnpackedTree(private.path, wheel.name)
            return self.trees[wheel]

    def publish(self, name: str) -> None:
        """Publish the tree of the wheel ``name`` (a path), whose modules are compiled."""
        wheel = Path(name)
        with self.lock:
            private = self.private.pop(wheel, None)
            if private is None:
                return
            try:
                self.trees[wheel] = self.store.publish(wheel, self.trees[wheel])
            finally:  # renamed into place, or given up: either way the private one goes
                private.close()
        for listener in self.store.listeners:
            listener(wheel)

    def finish(self) -> dict[Path, UnpackedTree]:
        """Publish the trees whose compiling did not report back; return every tree."""
        for wheel in list(self.private):
            self.publish(str(wheel))
        return self.trees

    def close(self) -> None:
        """Remove the private trees that were not published (after a failure)."""
        for private in self.private.values():
            private.close()


def _raise_first_failure(futures: list["Future[None]"], wait: bool = False) -> None:
    """Raise the exception of the first of ``futures`` that failed (of those done, unless
    ``wait``)."""
    for future in futures:
        if wait or future.done():
            future.result()


def check_wheel_paths(wheel: Path) -> None:
    """Refuse a wheel with a member that would be written outside the target."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise UnsafeWheelError(
                    f"Refusing to install {wheel.name}: its file {name!r} would land outside"
                    " the target environment; nothing was written."
                )
