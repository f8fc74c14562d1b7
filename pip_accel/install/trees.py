"""Unpacked wheels: every cached wheel also kept as a tree of files, bytecode compiled.

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

import base64
import contextlib
import hashlib
import json
import logging
import os
import stat
import subprocess
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
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
from pip_accel.install.wheel_digests import WheelDigests
from pip_accel.interrupts import child

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
"""The file that describes a tree; its presence marks the tree complete."""

FORMAT = 2
"""The layout of trees and manifests; a tree of another layout is unpacked again."""

SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
"""The installation schemes of a wheel, one subdirectory of a tree each."""

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH

LIBRARY_SCHEMES = ("purelib", "platlib")
"""The schemes whose Python files are compiled to bytecode."""

UNPACK_THREADS = 2
"""How many wheels are unpacked at once. Inflating and writing files let go of the
interpreter's lock, installer's bookkeeping does not: on 2 cores two threads were as fast
as one when files were quick to write and faster when they were slow (measured on the web
set); more would mostly wait for the lock."""

COMPILE_SCRIPT = Path(__file__).with_name("_compile.py")
"""The script the target interpreter runs to compile (by its path: importing it here would
load multiprocessing into every warm run)."""

COMPILE_BACKLOG = 400
"""How many modules may wait for the compiler before the next wheel is unpacked (about half
a second of work on two cores): enough to keep it busy, little enough that the wheels an
install waits for are not queued behind the others."""


@dataclass(frozen=True)
class TreeFile:
    """One file of a tree, with the ``RECORD`` entry installer computed for it."""

    scheme: str
    path: str
    """The path within the scheme, as ``RECORD`` has it."""
    hash: str | None = None
    """The ``RECORD`` hash, such as ``sha256=...`` (None for bytecode)."""
    size: int | None = None
    executable: bool = False
    stamp: tuple[int, int] | None = None
    """The size and modification time (ns) of the tree's file, as it was made."""

    @property
    def record(self) -> RecordEntry:
        """The ``RECORD`` entry of the installed file."""
        size = "" if self.size is None else str(self.size)
        return RecordEntry.from_elements(self.path, self.hash or "", size)


@dataclass
class UnpackedTree:
    """A wheel unpacked by installer, with its bytecode, ready to be linked into place."""

    directory: Path
    wheel_name: str = ""
    """The file name of the wheel, for messages."""
    root_scheme: str = "purelib"
    record_path: str = ""
    """The path of the ``RECORD`` file within the root scheme."""
    files: list[TreeFile] = field(default_factory=list)
    """Every file to link, but for scripts and bytecode."""
    scripts: list[TreeFile] = field(default_factory=list)
    """Files of the ``scripts`` scheme, as in the wheel (``#!python`` not yet replaced)."""
    entry_points: list[tuple[str, str, str, str]] = field(default_factory=list)
    """The console and GUI scripts to generate: name, module, attribute, section."""
    bytecode: list[TreeFile] = field(default_factory=list)
    """The compiled modules, for the target's cache tag."""

    def source(self, item: TreeFile) -> Path:
        """Where a file of the tree is."""
        return self.directory / item.scheme / item.path

    @classmethod
    def load(cls, directory: Path) -> "UnpackedTree | None":
        """The tree in ``directory``, or None when there is no complete one."""
        try:
            data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return None
            return cls(
                directory=directory,
                wheel_name=data["wheel_name"],
                root_scheme=data["root_scheme"],
                record_path=data["record_path"],
                files=_tree_files(data["files"]),
                scripts=_tree_files(data["scripts"]),
                entry_points=[tuple(item) for item in data["entry_points"]],
                bytecode=_tree_files(data["bytecode"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self) -> None:
        """Write the manifest, which marks the tree complete."""
        data = {
            "format": FORMAT,
            "wheel_name": self.wheel_name,
            "root_scheme": self.root_scheme,
            "record_path": self.record_path,
            "files": [asdict(item) for item in self.files],
            "scripts": [asdict(item) for item in self.scripts],
            "entry_points": self.entry_points,
            "bytecode": [asdict(item) for item in self.bytecode],
        }
        (self.directory / MANIFEST).write_text(json.dumps(data), encoding="utf-8")

    def seal(self) -> None:
        """Make every file read-only and note its size and modification time."""
        for items in (self.files, self.scripts, self.bytecode):
            items[:] = [self._sealed(item) for item in items]

    def _sealed(self, item: TreeFile) -> TreeFile:
        """A file made read-only, with its stamp."""
        path = self.source(item)
        status = path.stat()
        os.chmod(path, stat.S_IMODE(status.st_mode) & ~WRITE_BITS)
        return replace(item, stamp=(status.st_size, status.st_mtime_ns))

    def changed_files(self) -> list[Path]:
        """The files whose contents differ from their ``RECORD`` hash (a slow, full check)."""
        changed = []
        for item in self.files + self.scripts:
            if item.hash and item.hash != record_hash(self.source(item)):
                changed.append(self.source(item))
        return changed

    @property
    def modules(self) -> list[Path]:
        """The Python modules of the library schemes, to compile."""
        return [
            self.source(item)
            for item in self.files
            if item.scheme in LIBRARY_SCHEMES and item.path.endswith(".py")
        ]


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
        self, directory: Path, target: TargetEnvironment, digests: WheelDigests | None = None
    ) -> None:
        """Keep the trees for ``target`` under ``directory``; ``digests`` names them (by
        default every wheel is hashed, nothing recorded)."""
        self.directory = directory / target.cache_tag
        self.target = target
        self.digests = digests or WheelDigests()
        self.unpacked: list[Path] = []
        """The wheels whose trees this store unpacked (rather than found)."""
        self.on_published: Callable[[Path], None] = lambda wheel: None
        """Called with each wheel whose tree this store published (from any thread)."""

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
        return self.unpack_stream(wheels)

    def unpack_stream(self, wheels: Iterable[Path]) -> dict[Path, UnpackedTree]:
        """Unpack wheels as ``wheels`` yields them, each compiled while the next is unpacked.

        ``wheels`` may wait for the next wheel (a download): the compiling
        process waits with it.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.directory, TREE_PREFIXES)
        batch = _Batch(self)
        try:
            with Compiler(self.target, batch.publish) as compiler:
                self._unpack_each(wheels, batch, compiler)
            return batch.finish()
        finally:
            batch.close()

    def _unpack_each(self, wheels: Iterable[Path], batch: "_Batch", compiler: "Compiler") -> None:
        """Unpack the wheels :data:`UNPACK_THREADS` at a time, each compiled once unpacked.

        The next wheel is taken only when a thread is free and the compiler
        is not far behind (:data:`COMPILE_BACKLOG`), so that ``wheels`` can
        still choose which one comes next (:class:`WheelQueue`). The first
        failure ends the work: wheels not yet taken are not unpacked.
        """
        free = threading.Semaphore(UNPACK_THREADS)

        def unpack(wheel: Path) -> None:
            try:
                tree = batch.start(wheel)
                self._unpack(wheel, tree)
                compiler.add(str(wheel), tree.modules)
            finally:
                free.release()

        wheels = iter(wheels)
        with ThreadPoolExecutor(UNPACK_THREADS, thread_name_prefix="unpack") as pool:
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
        reported = store.on_published

        def published(wheel: Path) -> None:
            reported(wheel)
            with self.condition:
                self.published.add(wheel)
                self.condition.notify_all()

        store.on_published = published

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
        self.store.on_published(wheel)

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


def _tree_files(items: list[dict[str, Any]]) -> list[TreeFile]:
    """The files of a manifest."""
    files = []
    for item in items:
        stamp = item.pop("stamp", None)
        files.append(TreeFile(**item, stamp=(int(stamp[0]), int(stamp[1])) if stamp else None))
    return files


def record_hash(path: Path) -> str | None:
    """The ``RECORD`` form of a file's sha256 (``sha256=...``), or None when it is unreadable."""
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None
    return "sha256=" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


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


class Compiler:
    """The target interpreter compiling modules to bytecode, on every core, while they come."""

    def __init__(self, target: TargetEnvironment, on_compiled: Callable[[str], None]) -> None:
        """Compile for ``target``, with its own interpreter; call ``on_compiled`` per batch."""
        self.command = [target.executable, "-I", str(COMPILE_SCRIPT)]
        self.on_compiled = on_compiled
        self.process: subprocess.Popen[str] | None = None
        self.reader: threading.Thread | None = None
        self.failures: list[BaseException] = []
        self.stack = contextlib.ExitStack()
        self.lock = threading.Lock()
        self.waiting = threading.Condition()
        self.backlog = 0
        """How many modules were handed in and are not compiled yet."""
        self.sizes: dict[str, int] = {}
        self.ended = False

    def __enter__(self) -> "Compiler":
        """Start the compiling process, and a thread that reads which batches are done."""
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stack.enter_context(child(self.process))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self) -> None:
        """Hand each batch that is compiled to ``on_compiled``."""
        assert self.process is not None and self.process.stdout is not None
        try:
            for line in self.process.stdout:
                name = line.rstrip("\n")
                with self.waiting:
                    self.backlog -= self.sizes.pop(name, 0)
                    self.waiting.notify_all()
                try:
                    self.on_compiled(name)
                except BaseException as error:  # handed to the main thread in __exit__
                    self.failures.append(error)
        finally:
            with self.waiting:
                self.ended = True
                self.waiting.notify_all()

    def wait_for_backlog(self, limit: int) -> None:
        """Wait while more than ``limit`` modules wait to be compiled (or until it ended)."""
        with self.waiting:
            while self.backlog > limit and not self.ended:
                self.waiting.wait()

    def add(self, name: str, paths: Iterable[Path]) -> None:
        """Have a batch of modules compiled; ``name`` is reported when all of them are."""
        assert self.process is not None and self.process.stdin is not None
        modules = [str(path) for path in paths]
        line = json.dumps([name, modules])
        with self.waiting:
            self.sizes[name] = self.sizes.get(name, 0) + len(modules)
            self.backlog += len(modules)
        with self.lock, contextlib.suppress(BrokenPipeError):  # ended early: __exit__ says why
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()

    def __exit__(self, *exc_info: object) -> None:
        """Wait until every module is compiled; warn when compiling failed."""
        assert self.process is not None and self.process.stdin is not None
        with self.stack:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
            assert self.process.stderr is not None and self.process.stdout is not None
            with self.process.stderr:
                errors = self.process.stderr.read()
            self.process.wait()
            if self.reader is not None:
                self.reader.join()
            self.process.stdout.close()
        if self.failures:
            raise self.failures[0]
        if self.process.returncode != 0 and exc_info[0] is None:
            reason = (errors.strip().splitlines() or ["no output"])[-1]
            logger.warning(
                "Compiling bytecode failed (%s); Python compiles it when imported.", reason
            )
