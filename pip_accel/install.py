"""Installing a wheel into the target environment, the way pip does, without pip.

The files are written by pypa/installer into the target's installation scheme,
with ``RECORD``, ``INSTALLER``, ``REQUESTED`` and ``direct_url.json``, scripts
made for the target interpreter, and bytecode compiled (and listed in
``RECORD``, so that ``pip uninstall`` removes it). A distribution installed at
another version is moved aside first and put back if the new one fails, and
a wheel with a file that would land outside the target is refused before
anything is written.
"""

import contextlib
import csv
import json
import logging
import os
import posixpath
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme

from pip_accel.environment import InstalledDistribution, InstallScheme, TargetEnvironment
from pip_accel.exceptions import InstallError, UnsafeWheelError

logger = logging.getLogger(__name__)

LIBRARY_SCHEMES = ("purelib", "platlib")
"""The schemes whose Python files are compiled to bytecode."""

COMPILE = (
    "import compileall, functools, sys\n"
    "from concurrent.futures import ProcessPoolExecutor\n"
    "files = sys.stdin.read().splitlines()\n"
    "compile_one = functools.partial(compileall.compile_file, force=True, quiet=2)\n"
    "if len(files) < 200:\n"
    "    list(map(compile_one, files))\n"
    "else:\n"
    "    with ProcessPoolExecutor() as pool:\n"
    "        list(pool.map(compile_one, files, chunksize=50))\n"
)
"""Compiles the files named on standard input, on every core; run by the target interpreter."""


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


@dataclass
class Destination(SchemeDictionaryDestination):
    """installer's destination, remembering what it wrote and the modules to compile."""

    written: list[Path] = field(default_factory=list)
    modules: list[Path] = field(default_factory=list)
    """The modules whose bytecode ``RECORD`` lists, to be compiled."""
    compile_for: TargetEnvironment | None = None
    """Compile bytecode for this target (None: do not compile)."""

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: Any, is_executable: bool
    ) -> RecordEntry:
        """Write one file, remembering it so that a failed install can be undone."""
        self.written.append(self._path_with_destdir(scheme, path))
        return super().write_to_fs(scheme, path, stream, is_executable)

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        """List the bytecode files in ``RECORD`` too, and leave the modules to compile.

        The modules of all wheels are compiled in one go at the end, on every
        core (see :meth:`WheelInstaller.compile_bytecode`), which is where a
        warm install spends most of its time.
        """
        records = list(records)
        if self.compile_for is not None:
            records += self._bytecode_records(records, self.compile_for)
        super().finalize_installation(scheme, record_file_path, records)

    def _bytecode_records(
        self, records: list[tuple[Scheme, RecordEntry]], target: TargetEnvironment
    ) -> list[tuple[Scheme, RecordEntry]]:
        """Records of the bytecode files of the installed modules; remember the modules."""
        compiled = []
        for scheme, record in records:
            if scheme in LIBRARY_SCHEMES and record.path.endswith(".py"):
                path = self._path_with_destdir(scheme, record.path)
                cached = path.parent / "__pycache__" / f"{path.stem}.{target.cache_tag}.pyc"
                self.modules.append(path)
                self.written.append(cached)
                relative = posixpath.join(
                    posixpath.dirname(record.path), "__pycache__", cached.name
                )
                compiled.append((scheme, RecordEntry(relative, None, None)))
        return compiled

    def undo(self) -> None:
        """Remove every file this destination wrote (or began to write).

        A path is remembered before its file is written, so it may name what
        stood in the way of the write, such as a directory: only files go.
        """
        for path in reversed(self.written):
            if path.is_file() or path.is_symlink():
                path.unlink()
                _prune_empty_directories(path.parent)


def compile_modules(paths: list[Path], target: TargetEnvironment) -> None:
    """Compile Python modules to bytecode with the target interpreter, on every core."""
    if not paths:
        return
    listing = "".join(f"{path}\n" for path in paths)
    command = [target.executable, "-I", "-c", COMPILE]
    result = subprocess.run(command, input=listing, text=True, check=False, capture_output=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        logger.warning("Compiling bytecode failed (%s); Python compiles it when imported.", reason)


def _prune_empty_directories(directory: Path) -> None:
    """Remove ``directory`` and its parents as long as they are empty."""
    with contextlib.suppress(OSError):
        while not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent


class Stash:
    """The files of an installed distribution, moved aside while another replaces it."""

    def __init__(self, installed: InstalledDistribution) -> None:
        """Move the files of ``installed`` (as its ``RECORD`` lists them) aside."""
        self.installed = installed
        site = installed.dist_info.parent
        self.directory = Path(tempfile.mkdtemp(prefix=".pip-accel-stash-", dir=site))
        self.moved: list[tuple[Path, Path]] = []
        for number, path in enumerate(self._files(site)):
            hidden = self.directory / str(number)
            shutil.move(path, hidden)
            self.moved.append((path, hidden))
            _prune_empty_directories(path.parent)
        shutil.rmtree(installed.dist_info, ignore_errors=True)

    def _files(self, site: Path) -> Iterator[Path]:
        """The files of the distribution that exist: those in RECORD, and their bytecode."""
        record = self.installed.dist_info / "RECORD"
        text = record.read_text(encoding="utf-8") if record.is_file() else ""
        rows = csv.reader(text.splitlines())
        seen: set[Path] = set()
        for row in rows:
            if not row:
                continue
            path = Path(os.path.normpath(site / row[0]))
            candidates = [path]
            if path.suffix == ".py":
                candidates += path.parent.joinpath("__pycache__").glob(f"{path.stem}.*.pyc")
            for candidate in candidates:
                if candidate not in seen and (candidate.is_file() or candidate.is_symlink()):
                    seen.add(candidate)
                    yield candidate

    def restore(self) -> None:
        """Put every file back where it was."""
        for original, hidden in self.moved:
            original.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(hidden, original)
        shutil.rmtree(self.directory, ignore_errors=True)

    def discard(self) -> None:
        """Forget the old files for good."""
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class InstallOptions:
    """The user's choices that shape an install."""

    user: bool = False
    prefix: str | None = None
    root: str | None = None
    compile: bool = True
    ignore_installed: bool = False


class WheelInstaller:
    """Installs wheels into one target environment."""

    def __init__(self, target: TargetEnvironment, options: InstallOptions) -> None:
        """Install for ``target`` with the user's ``options``."""
        self.target = target
        self.options = options
        self.modules: list[Path] = []
        """The installed modules whose bytecode is still to be compiled."""

    def install(
        self, wheel: Path, name: str, requested: bool, direct_url: dict[str, Any] | None
    ) -> None:
        """Install ``wheel``, replacing another installed version of it."""
        check_wheel_paths(wheel)
        options = self.options
        scheme = self.target.scheme(name, options.user, options.prefix, options.root)
        replaced = (
            None
            if options.ignore_installed or options.root
            else self.target.installed(name, scheme)
        )
        stash = Stash(replaced) if replaced else None
        destination = self._destination(scheme)
        try:
            with WheelFile.open(wheel) as source:
                install(source, destination, self._metadata(requested, direct_url))
        except Exception as error:
            destination.undo()
            if stash:
                stash.restore()
            kept = f"; {replaced.name} {replaced.version} was kept" if replaced else ""
            raise InstallError(f"Failed to install {wheel.name}: {error}{kept}.") from error
        self.modules += destination.modules
        if stash:
            stash.discard()
            logger.info("Replaced %s %s with %s.", replaced.name, replaced.version, wheel.name)  # type: ignore[union-attr]

    def compile_bytecode(self) -> None:
        """Compile the modules of every wheel installed so far, all at once."""
        compile_modules(self.modules, self.target)
        self.modules = []

    def _destination(self, scheme: InstallScheme) -> Destination:
        """installer's destination for one distribution."""
        return Destination(
            scheme_dict=scheme.paths,
            interpreter=self.target.executable,
            script_kind="posix",
            destdir=scheme.root,
            overwrite_existing=True,
            compile_for=self.target if self.options.compile else None,
        )

    @staticmethod
    def _metadata(requested: bool, direct_url: dict[str, Any] | None) -> dict[str, bytes]:
        """The files pip-accel adds to ``.dist-info``, as pip would."""
        metadata = {"INSTALLER": b"pip-accel\n"}
        if requested:
            metadata["REQUESTED"] = b""
        if direct_url is not None:
            metadata["direct_url.json"] = json.dumps(direct_url, sort_keys=True).encode()
        return metadata
