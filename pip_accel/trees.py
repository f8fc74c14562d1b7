"""Unpacked wheels: every cached wheel also kept as a tree of files, bytecode compiled.

Unzipping, hashing and compiling a wheel at every install is where a warm
install spends its time, so each wheel is unpacked once per interpreter
version (the bytecode differs), into ``<data>/trees/<cache tag>/``, by
pypa/installer itself, with the scheme directories (``purelib``, ``platlib``,
``scripts``, ``headers``, ``data``) as subdirectories. A manifest records what
installer computed for ``RECORD`` (the path, hash and size of every file), the
scripts (made for the target interpreter only at install time) and the
bytecode files that compiled. An install then links (or copies) the files into
place: see :mod:`pip_accel.install`.

A tree is built in a private directory and renamed into place with its
manifest inside, so concurrent processes see a whole tree or none, and the
loser of a race simply uses the winner's tree.
"""

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from humanfriendly import pluralize
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme

from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import InstallError, UnsafeWheelError

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
"""The file that describes a tree; its presence marks the tree complete."""

FORMAT = 1
"""The layout of trees and manifests; another layout gets another directory."""

SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
"""The installation schemes of a wheel, one subdirectory of a tree each."""

LIBRARY_SCHEMES = ("purelib", "platlib")
"""The schemes whose Python files are compiled to bytecode."""

COMPILE = (
    "import compileall, sys\n"
    "from concurrent.futures import ProcessPoolExecutor\n"
    "with ProcessPoolExecutor() as pool:\n"
    "    for line in sys.stdin:\n"
    "        pool.submit(compileall.compile_file, line.rstrip('\\n'), force=True, quiet=2)\n"
)
"""Compiles each file named on standard input as it comes, on every core.

Run by the target interpreter (whose version the bytecode is for) while
pip-accel goes on unpacking wheels, so unpacking and compiling overlap.
"""


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
                files=[TreeFile(**item) for item in data["files"]],
                scripts=[TreeFile(**item) for item in data["scripts"]],
                entry_points=[tuple(item) for item in data["entry_points"]],
                bytecode=[TreeFile(**item) for item in data["bytecode"]],
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

    def __init__(self, directory: Path, target: TargetEnvironment) -> None:
        """Keep the trees for ``target`` under ``directory``."""
        self.directory = directory / target.cache_tag
        self.target = target

    def trees_for(self, wheels: Iterable[Path]) -> dict[Path, UnpackedTree]:
        """The tree of every wheel, unpacking and compiling those without one."""
        trees: dict[Path, UnpackedTree] = {}
        missing = []
        for wheel in wheels:
            tree = UnpackedTree.load(self.location(wheel))
            if tree is None:
                missing.append(wheel)
            else:
                trees[wheel] = tree
        if missing:
            trees.update(self._unpack_all(missing))
        return trees

    def replace(self, wheel: Path) -> UnpackedTree:
        """Unpack a wheel again, its tree being damaged."""
        shutil.rmtree(self.location(wheel), ignore_errors=True)
        return self._unpack_all([wheel])[wheel]

    def location(self, wheel: Path) -> Path:
        """The tree directory of a wheel file.

        Its name carries the wheel's path, size and modification time, so a
        wheel that was replaced or changed gets a new tree.
        """
        status = wheel.stat()
        identity = f"{wheel.absolute()}\0{status.st_size}\0{status.st_mtime_ns}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        return self.directory / f"{wheel.name[:-4]}-{digest}"

    def _unpack_all(self, wheels: list[Path]) -> dict[Path, UnpackedTree]:
        """Unpack wheels into private directories, compiling as they come; move them in place."""
        self.directory.mkdir(parents=True, exist_ok=True)
        logger.info("Unpacking and compiling %s.", pluralize(len(wheels), "new wheel"))
        unpacked: dict[Path, UnpackedTree] = {}
        try:
            with Compiler(self.target) as compiler:
                for wheel in wheels:
                    private = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=self.directory))
                    unpacked[wheel] = UnpackedTree(private, wheel.name)
                    self._unpack(wheel, unpacked[wheel])
                    compiler.add(unpacked[wheel].modules)
            return {wheel: self._publish(wheel, tree) for wheel, tree in unpacked.items()}
        finally:  # the private directories that were not renamed into place
            for tree in unpacked.values():
                if tree.directory.name.startswith(".unpacking-"):
                    shutil.rmtree(tree.directory, ignore_errors=True)

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

    def _publish(self, wheel: Path, tree: UnpackedTree) -> UnpackedTree:
        """Note the bytecode that compiled, write the manifest, rename the tree into place."""
        tag = self.target.cache_tag
        for module in tree.modules:
            cached = module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"
            if cached.is_file():
                scheme, _, path = str(cached.relative_to(tree.directory)).partition("/")
                tree.bytecode.append(TreeFile(scheme, path))
        tree.save()
        final = self.location(wheel)
        try:
            os.rename(tree.directory, final)
        except OSError:
            existing = UnpackedTree.load(final)  # another process was faster
            if existing is not None:
                return existing
            shutil.rmtree(final)  # an incomplete tree, left by hand: replace it
            os.rename(tree.directory, final)
        tree.directory = final
        return tree


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

    def __init__(self, target: TargetEnvironment) -> None:
        """Compile for ``target``, with its own interpreter."""
        self.command = [target.executable, "-I", "-c", COMPILE]
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> "Compiler":
        """Start the compiling process."""
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        return self

    def add(self, paths: Iterable[Path]) -> None:
        """Have more modules compiled."""
        assert self.process is not None and self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it ended early: __exit__ says why
            self.process.stdin.write("".join(f"{path}\n" for path in paths))

    def __exit__(self, *exc_info: object) -> None:
        """Wait until every module is compiled; warn when compiling failed."""
        assert self.process is not None
        _, errors = self.process.communicate()
        if self.process.returncode != 0:
            reason = (errors.strip().splitlines() or ["no output"])[-1]
            logger.warning(
                "Compiling bytecode failed (%s); Python compiles it when imported.", reason
            )
