"""Installing a wheel into the target environment, the way pip does, without pip.

Each wheel is installed from its unpacked tree (:mod:`pip_accel.trees`): the
files are linked or copied into the target's installation scheme, scripts are
made for the target interpreter by pypa/installer, and ``RECORD``,
``INSTALLER``, ``REQUESTED`` and ``direct_url.json`` are written as pip writes
them, with the bytecode files listed in ``RECORD`` so that ``pip uninstall``
removes them. A distribution installed at another version is moved aside first
and put back if the new one fails.
"""

import contextlib
import csv
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.utils import Scheme

from pip_accel.environment import InstalledDistribution, InstallScheme, TargetEnvironment
from pip_accel.exceptions import DamagedTreeError, InstallError
from pip_accel.links import Linker
from pip_accel.trees import TreeFile, UnpackedTree

logger = logging.getLogger(__name__)

Records = list[tuple[Scheme, RecordEntry]]
"""The ``RECORD`` entries of an install, each with its scheme."""


@dataclass
class Destination(SchemeDictionaryDestination):
    """installer's destination, linking the files of a tree and remembering what it wrote."""

    linker: Linker = field(default_factory=lambda: Linker("copy"))
    written: list[str] = field(default_factory=list)

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        """Write one file (a script or metadata), never through a link that is in the way."""
        target = self._path_with_destdir(scheme, path)
        self.written.append(str(target))
        if target.is_symlink() or target.is_file():
            target.unlink()
        return super().write_to_fs(scheme, path, stream, is_executable)

    def link(self, tree: UnpackedTree, items: list[TreeFile]) -> Records:
        """Place the files of a tree; their paths were checked when the tree was unpacked."""
        bases = {s: str(self._path_with_destdir(Scheme(s), "")) for s in self.scheme_dict}
        records: Records = []
        for item in items:
            target = f"{bases[item.scheme]}/{item.path}"
            source = f"{tree.directory}/{item.scheme}/{item.path}"
            self.written.append(target)
            try:
                self.linker.place(source, target)
            except FileNotFoundError as error:
                if os.path.exists(source):
                    raise
                raise DamagedTreeError(
                    f"The unpacked tree {tree.directory} lacks {source}."
                ) from error
            records.append((Scheme(item.scheme), item.record))
        return records

    def undo(self) -> None:
        """Remove every file this destination wrote (or began to write).

        A path is remembered before its file is written, so it may name what
        stood in the way of the write, such as a directory: only files go.
        """
        for path in map(Path, reversed(self.written)):
            if path.is_file() or path.is_symlink():
                path.unlink()
                _prune_empty_directories(path.parent)


def install_tree(
    tree: UnpackedTree, destination: Destination, metadata: dict[str, bytes], compiled: bool
) -> None:
    """Install the files of a tree, make its scripts, write its metadata and ``RECORD``."""
    root = Scheme(tree.root_scheme)
    records = destination.link(tree, tree.files)
    if compiled:
        records += destination.link(tree, tree.bytecode)
    for name, module, attr, section in tree.entry_points:
        records.append(
            (Scheme("scripts"), destination.write_script(name, module, attr, section))  # type: ignore[arg-type]
        )
    for item in tree.scripts:
        with tree.source(item).open("rb") as stream:
            record = destination.write_file(Scheme("scripts"), item.path, stream, item.executable)
        records.append((Scheme("scripts"), record))
    dist_info = os.path.dirname(tree.record_path)
    for filename, contents in metadata.items():
        path = f"{dist_info}/{filename}"
        records.append((root, destination.write_file(root, path, io.BytesIO(contents), False)))
    records.append((root, RecordEntry(tree.record_path, None, None)))
    destination.finalize_installation(root, tree.record_path, records)


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
    link_mode: str = "hardlink"


class WheelInstaller:
    """Installs the unpacked trees of wheels into one target environment."""

    def __init__(self, target: TargetEnvironment, options: InstallOptions) -> None:
        """Install for ``target`` with the user's ``options``."""
        self.target = target
        self.options = options
        self.linker = Linker(options.link_mode)

    def install(
        self, tree: UnpackedTree, name: str, requested: bool, direct_url: dict[str, Any] | None
    ) -> None:
        """Install the wheel unpacked in ``tree``, replacing another installed version of it."""
        options = self.options
        scheme = self.target.scheme(name, options.user, options.prefix, options.root)
        replaced = (
            None
            if options.ignore_installed or options.root
            else self.target.installed(name, scheme)
        )
        stash = Stash(replaced) if replaced else None
        destination = self._destination(scheme)
        metadata = self._metadata(requested, direct_url)
        try:
            install_tree(tree, destination, metadata, options.compile)
        except Exception as error:
            destination.undo()
            if stash:
                stash.restore()
            if isinstance(error, DamagedTreeError):
                raise
            kept = f"; {replaced.name} {replaced.version} was kept" if replaced else ""
            raise InstallError(f"Failed to install {tree.wheel_name}: {error}{kept}.") from error
        if stash:
            stash.discard()
            logger.info("Replaced %s %s with %s.", replaced.name, replaced.version, tree.wheel_name)  # type: ignore[union-attr]

    def _destination(self, scheme: InstallScheme) -> Destination:
        """installer's destination for one distribution."""
        return Destination(
            scheme_dict=scheme.paths,
            interpreter=self.target.executable,
            script_kind="posix",
            destdir=scheme.root,
            overwrite_existing=True,
            linker=self.linker,
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
