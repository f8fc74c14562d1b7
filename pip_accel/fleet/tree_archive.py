"""Tree archives: an unpacked tree (its files, bytecode and manifest) as one compressed archive.

A writer packs a tree into a tar archive compressed with zstandard (level
:data:`ZSTD_LEVEL`), or with gzip where the ``zstandard`` package is not
installed (it comes with the ``s3`` extra); a reader tells them apart by their
first bytes, so the trees that older writers stored in gzip stay readable under
the same object name. zstandard was chosen for its decompression speed,
measured on the web set's largest trees (Django, botocore, pandas; 153 MB of
tar): gzip level 4 (the former format) 51 MB, compressed in 2.0 CPU s and
decompressed in 0.69; zstandard level 3, 45 MB, 0.56 and 0.15.

A tree fetched from the bucket is unpacked as it arrives (:func:`unpack_stream`),
only when every member is a plain file or directory inside the tree, and its
manifest is checked against the files before the tree is published.
"""

import gzip
import os
import shutil
import tarfile
import zlib
from pathlib import Path
from typing import IO, Protocol, cast

from pip_accel.install.manifest import MANIFEST, SCHEMES, UnpackedTree

ZSTD_LEVEL = 3
"""zstandard's level for tree archives: its default. Level 6 made them a tenth smaller
for 2.5 to 3 times the compressing time, level 1 a fifth larger for half of it;
decompressing took as long at every level (the measurements are in the module's text)."""

ZSTD_WINDOW_LOG = 20
"""The zstandard window of tree archives: 1 MiB (level 3 would take 2 MiB for large trees).
A reader holds the window of every tree it streams at once (eight by default); the archives
of the web set's largest trees were 1 % larger for it (a 512 KiB window: 3 to 4 %)."""

GZIP_LEVEL = 4
"""gzip's level for tree archives, where zstandard is not installed."""

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
"""The first bytes of a zstandard frame."""

GZIP_MAGIC = b"\x1f\x8b"
"""The first bytes of a gzip stream."""

CHUNK = 1024 * 1024
"""How many bytes are read from the archive, and written to a file, at a time."""


class Readable(Protocol):
    """What a tree archive is read from: anything with ``read`` (a file, a download)."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; empty at the end."""
        ...


class TreeArchiveError(ValueError):
    """A tree archive that cannot be used: unreadable, or unsafe."""


class UnsafeTreeArchiveError(TreeArchiveError):
    """A tree archive with a member that would land outside its tree, or is not a plain file."""


class MissingDecompressorError(TreeArchiveError):
    """A tree archive compressed with zstandard, on a machine without the ``zstandard`` package.

    Nothing is wrong with the archive: it is not replaced in the bucket.
    """


def zstandard_available() -> bool:
    """Whether the ``zstandard`` package can be imported (writers then use it)."""
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


def pack_tree(directory: Path, archive: Path, zstd: bool | None = None) -> None:
    """Write the files of a tree into a compressed archive, names relative to the tree.

    ``zstd``: whether to compress with zstandard (by default, where it is
    installed; gzip otherwise). A tree without its manifest (gone, or being
    replaced) is not packed: the bucket keeps what it is given, and a partial
    tree would stay there.
    """
    if not (directory / MANIFEST).is_file():
        raise FileNotFoundError(f"The tree {directory} has no manifest; it is not stored.")
    if zstd is None:
        zstd = zstandard_available()
    with open(archive, "wb") as output:
        if zstd:
            import zstandard

            parameters = zstandard.ZstdCompressionParameters.from_level(
                ZSTD_LEVEL, window_log=ZSTD_WINDOW_LOG
            )
            compressor = zstandard.ZstdCompressor(compression_params=parameters)
            with compressor.stream_writer(output, closefd=False) as compressed:
                _write_tar(directory, compressed)
        else:
            with gzip.GzipFile(
                fileobj=output, mode="wb", compresslevel=GZIP_LEVEL, mtime=0
            ) as compressed:
                _write_tar(directory, compressed)


def _write_tar(directory: Path, output: IO[bytes] | gzip.GzipFile) -> None:
    """Write the files of a tree as a tar stream to ``output``, in a stable order."""
    with tarfile.open(fileobj=output, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for root, directories, files in os.walk(directory):
            directories.sort()
            for name in sorted(files):
                path = Path(root, name)
                tar.add(path, arcname=str(path.relative_to(directory)), recursive=False)


def unpack_tree(archive: Path, directory: Path) -> None:
    """Unpack a tree archive file into ``directory`` (private, new): see :func:`unpack_stream`."""
    with open(archive, "rb") as stream:
        unpack_stream(stream, directory)


def unpack_stream(stream: Readable, directory: Path) -> None:
    """Unpack a tree archive as it is read into ``directory`` (private, new).

    The archive is zstandard or gzip, told by its first bytes. Every member
    must be a plain file or directory whose name stays inside the tree: no
    absolute path, no ``..``, no links or devices; each is checked before it
    is written, in one pass over the stream. An archive that cannot be read
    raises :class:`TreeArchiveError`, a refused one
    :class:`UnsafeTreeArchiveError`; either leaves only what the caller's
    private directory holds, which it removes. The caller checks the archive's
    sha256 (what was read) before it publishes the tree.
    """
    directory.mkdir()
    start = b""
    while len(start) < len(ZSTD_MAGIC) and (more := stream.read(len(ZSTD_MAGIC) - len(start))):
        start += more
    source = _Rejoined(start, stream)
    try:
        if start.startswith(ZSTD_MAGIC):
            _extract(_zstd_reader(source), directory)
        elif start.startswith(GZIP_MAGIC):
            with gzip.GzipFile(fileobj=cast(IO[bytes], source), mode="rb") as decompressed:
                _extract(decompressed, directory)
        else:
            raise TreeArchiveError("it is neither zstandard nor gzip")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise TreeArchiveError(f"it cannot be read ({error})") from error
    except Exception as error:
        if type(error).__name__ == "ZstdError":  # zstandard's, imported only for such archives
            raise TreeArchiveError(f"it cannot be read ({error})") from error
        raise


def _zstd_reader(source: Readable) -> Readable:
    """A reader of the decompressed contents of a zstandard stream."""
    try:
        import zstandard
    except ImportError as error:
        raise MissingDecompressorError(
            "it is compressed with zstandard, which is not installed; install it with:"
            " pip install 'pip-accel[s3]'"
        ) from error
    # zstandard's own read size (128 KiB): several trees stream at once, each with its buffers.
    reader: Readable = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], source))
    return reader


class _Rejoined:
    """A stream whose first bytes were read already (to tell the compression), put back."""

    def __init__(self, start: bytes, rest: Readable) -> None:
        """Read ``start`` first, then ``rest``."""
        self.start = start
        self.rest = rest

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (all that is left when negative)."""
        if not self.start:
            return self.rest.read(size)
        if size < 0:
            data, self.start = self.start + self.rest.read(), b""
            return data
        data, self.start = self.start[:size], self.start[size:]
        return data


def _extract(source: Readable, directory: Path) -> None:
    """Write the members of a tar stream into ``directory``, each checked before it is written."""
    made = {directory}
    with tarfile.open(fileobj=source, mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            check_member(member)
            target = directory / member.name
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                made.add(target)
                continue
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            contents = tar.extractfile(member)
            assert contents is not None  # a regular file
            with contents, open(target, "xb") as output:
                shutil.copyfileobj(contents, output, CHUNK)
            os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
            os.utime(target, (member.mtime, member.mtime))


def check_manifest(tree: UnpackedTree) -> None:
    """Refuse a fetched tree whose manifest names a path outside the tree or its schemes.

    The manifest says where each file is installed: a path with ``..`` or an
    absolute one would be placed outside the environment.
    """
    items = tree.files + tree.scripts + tree.bytecode
    names = [item.path for item in items] + [tree.record_path]
    names += [name for name, _, _, _ in tree.entry_points]
    schemes = {item.scheme for item in items} | {tree.root_scheme}
    if not schemes <= set(SCHEMES):
        raise UnsafeTreeArchiveError(f"its manifest names other schemes: {sorted(schemes)}")
    for name in names:
        parts = str(name).split("/")
        if not name or name.startswith("/") or ".." in parts or "\\" in name:
            raise UnsafeTreeArchiveError(f"its manifest names {name!r}, outside the tree")
    if any("/" in name for name, _, _, _ in tree.entry_points):
        raise UnsafeTreeArchiveError("its manifest names a script in a subdirectory")


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse a member of a tree archive that is not a plain file or directory inside the tree."""
    name = member.name
    parts = name.split("/")
    if not (member.isfile() or member.isdir()):
        raise UnsafeTreeArchiveError(f"its member {name!r} is a link or a special file")
    if name.startswith("/") or ".." in parts or "\\" in name or not name:
        raise UnsafeTreeArchiveError(f"its member {name!r} would land outside the tree")
