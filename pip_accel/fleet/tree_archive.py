"""Tree archives: an unpacked tree (its files, bytecode and manifest) as one compressed archive.

A tree fetched from the bucket is unpacked only when every member is a plain file or
directory inside the tree, and its manifest is checked against the files before the tree
is published.
"""

import os
import shutil
import tarfile
from pathlib import Path

from pip_accel.install.manifest import MANIFEST, SCHEMES, UnpackedTree


class UnsafeTreeArchiveError(ValueError):
    """A tree archive with a member that would land outside its tree, or is not a plain file."""


def pack_tree(directory: Path, archive: Path) -> None:
    """Write the files of a tree into a compressed archive, names relative to the tree.

    A tree without its manifest (gone, or being replaced) is not packed: the
    bucket keeps what it is given, and a partial tree would stay there.
    """
    if not (directory / MANIFEST).is_file():
        raise FileNotFoundError(f"The tree {directory} has no manifest; it is not stored.")
    with tarfile.open(archive, "w:gz", compresslevel=4, format=tarfile.PAX_FORMAT) as tar:
        for root, directories, files in os.walk(directory):
            directories.sort()
            for name in sorted(files):
                path = Path(root, name)
                tar.add(path, arcname=str(path.relative_to(directory)), recursive=False)


def unpack_tree(archive: Path, directory: Path) -> None:
    """Unpack a tree archive into ``directory`` (private, new), refusing it if a member is unsafe.

    Every member must be a plain file or directory whose name stays inside the
    tree: no absolute path, no ``..``, no links or devices. Each is checked
    before it is written, in one pass over the compressed stream (reading the
    members first and then extracting them would decompress the archive from
    its start again for every member). A refused archive leaves only what the
    caller's private directory holds, which it removes.
    """
    directory.mkdir()
    with tarfile.open(archive, "r|gz") as tar:
        for member in tar:
            check_member(member)
            target = directory / member.name
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None  # a regular file
            with source, open(target, "xb") as stream:
                shutil.copyfileobj(source, stream, 1024 * 1024)
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
