"""Installing a wheel into the target environment, the way pip does, without pip.

Each wheel is installed from its unpacked tree (:mod:`pip_accel.install.trees`): the
files are linked or copied into the target's installation scheme, scripts are
made for the target interpreter by pypa/installer, and ``RECORD``,
``INSTALLER``, ``REQUESTED`` and ``direct_url.json`` are written as pip writes
them, with the bytecode files listed in ``RECORD`` so that ``pip uninstall``
removes them. Each install is a transaction (:mod:`pip_accel.install.transaction`): a
distribution installed at another version is moved aside first, the new
``.dist-info`` appears last, in one step, and a failure or an interruption puts
the old version back.
"""

import csv
import io
import json
import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, BinaryIO

from installer.destinations import SchemeDictionaryDestination
from installer.records import RecordEntry
from installer.utils import Scheme

from pip_accel.environment import InstalledDistribution, InstallScheme, TargetEnvironment
from pip_accel.exceptions import ChangedTreeFileError, DamagedTreeError, InstallError
from pip_accel.install.links import Linker
from pip_accel.install.manifest import TreeFile, UnpackedTree
from pip_accel.install.transaction import Journal, Transaction, in_the_way

logger = logging.getLogger(__name__)

Row = tuple[str, str, str, str]
"""One ``RECORD`` row of an install: the scheme, the path within it, the hash and the size."""

Rows = list[Row]
"""The ``RECORD`` rows of an install."""


@dataclass
class Destination(SchemeDictionaryDestination):
    """installer's destination, linking the files of a tree, the ``.dist-info`` made aside.

    Every file of the distribution's ``.dist-info`` is written into ``staging``
    (the transaction's), which is renamed into place when all else is done.
    """

    linker: Linker = field(default_factory=lambda: Linker("copy"))
    root_scheme: str = "purelib"
    dist_info: str = ""
    """The name of the ``.dist-info`` directory in the root scheme."""
    staging: Path | None = None

    @cached_property
    def bases(self) -> dict[str, str]:
        """The directory of each scheme, with ``--root`` in front when given."""
        place = SchemeDictionaryDestination._path_with_destdir
        return {s: str(place(self, Scheme(s), "")) for s in self.scheme_dict}

    def _path_with_destdir(self, scheme: Scheme, path: str) -> Path:
        """Where a file goes; the files of the ``.dist-info`` go into ``staging``."""
        if self.staging is not None and self._in_dist_info(scheme, path):
            return self.staging / path[len(self.dist_info) + 1 :]
        return super()._path_with_destdir(scheme, path)

    def _in_dist_info(self, scheme: str, path: str) -> bool:
        """Whether a path of a scheme lies in the distribution's ``.dist-info``."""
        return scheme == self.root_scheme and path.startswith(f"{self.dist_info}/")

    def target(self, item: TreeFile) -> str:
        """Where a file of a tree goes (its path was checked when the tree was unpacked)."""
        if self.staging is not None and self._in_dist_info(item.scheme, item.path):
            return str(self._path_with_destdir(Scheme(item.scheme), item.path))
        return f"{self.bases[item.scheme]}/{item.path}"

    def planned(self, tree: UnpackedTree, compiled: bool) -> list[str]:
        """Every path the tree's install writes outside its ``.dist-info``."""
        items = tree.files + tree.bytecode if compiled else tree.files
        paths = [
            f"{self.bases[item.scheme]}/{item.path}"
            for item in items
            if not self._in_dist_info(item.scheme, item.path)
        ]
        scripts = self.bases["scripts"]
        paths += [f"{scripts}/{name}" for name, _, _, _ in tree.entry_points]
        paths += [f"{scripts}/{item.path}" for item in tree.scripts]
        return paths

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        """Write one file (a script or metadata), never through a link that is in the way."""
        target = self._path_with_destdir(scheme, path)
        if target.is_symlink() or target.is_file():
            target.unlink()
        return super().write_to_fs(scheme, path, stream, is_executable)

    def link(self, tree: UnpackedTree, items: list[TreeFile]) -> Rows:
        """Place the files of a tree, all checked against the tree's manifest first."""
        sources = check_tree_files(tree, items)
        bases = self.bases
        staging = None if self.staging is None else f"{self.staging}/"
        root, dist_info = self.root_scheme, f"{self.dist_info}/"
        targets = [
            staging + item.path[len(dist_info) :]
            if staging is not None and item.scheme == root and item.path.startswith(dist_info)
            else f"{bases[item.scheme]}/{item.path}"
            for item in items
        ]
        roots = [*bases.values(), *([staging[:-1]] if staging is not None else [])]
        self.linker.make_directories((target.rpartition("/")[0] for target in targets), roots)
        self.linker.place_all(sources, targets)
        return [(item.scheme, item.path, item.hash or "", _size(item.size)) for item in items]

    def write_record(self, scheme: Scheme, record_path: str, rows: Rows) -> None:
        """Write ``RECORD`` as installer writes it (see its ``finalize_installation``), from
        the rows of the manifest rather than one parsed ``RecordEntry`` per file.

        The paths of other schemes are made relative to ``scheme``'s directory, and the rows
        are sorted by their paths within their schemes, as installer sorts them.
        """
        prefixes = {
            other: "" if other == scheme else f"{os.path.relpath(path, self.scheme_dict[scheme])}/"
            for other, path in self.scheme_dict.items()
        }
        stream = io.StringIO(newline="")
        writer = csv.writer(stream, delimiter=",", quotechar='"', lineterminator="\n")
        for row_scheme, path, digest, size in sorted(rows, key=lambda row: row[1]):
            writer.writerow((prefixes[row_scheme] + path, digest, size))
        data = io.BytesIO(stream.getvalue().encode("utf-8"))
        self.write_to_fs(scheme, record_path, data, is_executable=False)


def _size(size: int | None) -> str:
    """The size column of a ``RECORD`` row."""
    return "" if size is None else str(size)


def _row(scheme: str, record: RecordEntry) -> Row:
    """The ``RECORD`` row of a file installer wrote (a script, the metadata)."""
    return (scheme, record.path, str(record.hash_ or ""), _size(record.size))


def check_tree_files(tree: UnpackedTree, items: list[TreeFile]) -> list[str]:
    """The paths of files of a tree, each checked with :func:`check_tree_file`, all before
    any is placed (a changed tree is then not linked in part)."""
    base = f"{tree.directory}/"
    sources = [f"{base}{item.scheme}/{item.path}" for item in items]
    for item, source in zip(items, sources, strict=True):
        check_tree_file(tree, item, source)
    return sources


def check_tree_file(tree: UnpackedTree, item: TreeFile, source: str) -> None:
    """Refuse a file of a tree that is gone or was changed since the tree was made.

    Its size and modification time must be those of the manifest: an edit in
    place (through a hard link of some environment) changes them, and such a
    file must not reach another environment.
    """
    try:
        status = os.stat(source)
    except FileNotFoundError as error:
        raise DamagedTreeError(f"The unpacked tree {tree.directory} lacks {source}.") from error
    stamp = item.stamp
    if stamp is not None and (status.st_size != stamp[0] or status.st_mtime_ns != stamp[1]):
        raise ChangedTreeFileError(
            f"The file {source} of the unpacked tree {tree.directory} was changed"
            " after it was unpacked (an installed file edited in place?)."
        )


def check_tree(tree: UnpackedTree) -> None:
    """Check the hash of every file of a tree against its ``RECORD`` entry (slow, thorough)."""
    changed = tree.changed_files()
    if changed:
        raise DamagedTreeError(
            f"The file {changed[0]} of the unpacked tree {tree.directory} does not match"
            " the hash its wheel gives."
        )


def install_tree(
    tree: UnpackedTree, destination: Destination, metadata: dict[str, bytes], compiled: bool
) -> None:
    """Install the files of a tree, make its scripts, write its metadata and ``RECORD``."""
    root = Scheme(tree.root_scheme)
    scripts = Scheme("scripts")
    rows = destination.link(tree, tree.files)
    if compiled:
        rows += destination.link(tree, tree.bytecode)
    for name, module, attr, section in tree.entry_points:
        rows.append(_row(scripts, destination.write_script(name, module, attr, section)))  # type: ignore[arg-type]
    for item in tree.scripts:
        check_tree_file(tree, item, str(tree.source(item)))
        with tree.source(item).open("rb") as stream:
            rows.append(
                _row(scripts, destination.write_file(scripts, item.path, stream, item.executable))
            )
    dist_info = os.path.dirname(tree.record_path)
    for filename, contents in metadata.items():
        path = f"{dist_info}/{filename}"
        rows.append(_row(root, destination.write_file(root, path, io.BytesIO(contents), False)))
    rows.append((root, tree.record_path, "", ""))
    destination.write_record(root, tree.record_path, rows)


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

    def libraries(self) -> list[Path]:
        """The library directories this install writes to (where transactions are kept)."""
        options = self.options
        scheme = self.target.scheme("", options.user, options.prefix, options.root)
        bases = self._destination(scheme).bases
        return [Path(bases["purelib"]), Path(bases["platlib"])]

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
        destination = self._destination(scheme, tree)
        transaction = self._begin(tree, destination, replaced)
        try:
            transaction.stash(
                in_the_way(
                    replaced.dist_info if replaced else None,
                    Path(transaction.journal.dist_info),
                    transaction.journal.placed,
                )
            )
            destination.staging = transaction.staging
            install_tree(tree, destination, self._metadata(requested, direct_url), options.compile)
            transaction.commit()
        except BaseException as error:
            transaction.roll_back()
            if not isinstance(error, Exception) or isinstance(error, DamagedTreeError):
                raise
            kept = f"; {replaced.name} {replaced.version} was kept" if replaced else ""
            raise InstallError(f"Failed to install {tree.wheel_name}: {error}{kept}.") from error
        if replaced:
            logger.info("Replaced %s %s with %s.", replaced.name, replaced.version, tree.wheel_name)

    def _begin(
        self, tree: UnpackedTree, destination: Destination, replaced: InstalledDistribution | None
    ) -> Transaction:
        """The transaction of one install, with what it will write in its journal."""
        library = Path(destination.bases[tree.root_scheme])
        journal = Journal(
            new=tree.wheel_name,
            old=f"{replaced.name} {replaced.version}" if replaced else "",
            dist_info=str(library / destination.dist_info),
            roots=list(destination.bases.values()),
            placed=destination.planned(tree, self.options.compile),
        )
        try:
            return Transaction.create(library, journal)
        except OSError as error:
            raise InstallError(f"Failed to install {tree.wheel_name}: {error}.") from error

    def _destination(self, scheme: InstallScheme, tree: UnpackedTree | None = None) -> Destination:
        """installer's destination for one distribution (for ``tree``, when given)."""
        return Destination(
            scheme_dict=scheme.paths,
            interpreter=self.target.executable,
            script_kind="posix",
            destdir=scheme.root,
            overwrite_existing=True,
            linker=self.linker,
            root_scheme=tree.root_scheme if tree else "purelib",
            dist_info=os.path.dirname(tree.record_path) if tree else "",
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
