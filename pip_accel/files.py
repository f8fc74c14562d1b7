"""Files that concurrent pip-accel processes share: checksums and atomic writes.

A reader of a shared directory sees either no file or a whole one, because
every file is written under a temporary name and renamed into place.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def hash_file(path: Path) -> str:
    """The sha256 of a file's contents, in hexadecimal."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old or the new contents."""
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def copy_atomically(source: Path, destination: Path) -> None:
    """Copy a file so that readers see either no file (or the old one) or the whole copy."""
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=destination.parent)
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
