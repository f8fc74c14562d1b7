"""The S3 cache backend: a bucket that a fleet of machines shares as a second level.

Enabled by the option ``s3-bucket``; needs boto3 (``pip install
'pip-accel[s3]'``), which is imported only when the bucket is first used, so
that users without S3 do not pay for it. Object names are
``<prefix>/<cache format version>/<platform namespace>/<name>/<version>/<sdist
sha256>/<wheel>``, so machines that cannot share binaries never see each
other's, and ``<prefix>/<cache format version>/sources/<project>/<archive>``
for the downloaded archives, so that a machine can look up the archives of
one project without listing everyone's. Shared plans and trees (see
:mod:`pip_accel.fleet`) are objects of the same bucket, fetched and stored by
name with :meth:`S3CacheBackend.fetch` and :meth:`S3CacheBackend.store`. Each
object carries the sha256 of its contents, checked after every download.

Credentials come from boto3's standard chain (environment, ``~/.aws``, an
instance role); with none, the bucket is read anonymously and never written.
"""

import contextlib
import hashlib
import logging
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from humanfriendly.text import pluralize
from packaging.utils import canonicalize_name

from pip_accel.caches import CACHE_FORMAT_VERSION, CacheKey
from pip_accel.config import Config
from pip_accel.exceptions import CacheError, CorruptObjectError
from pip_accel.files import hash_file
from pip_accel.index import Archive

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
"""How many bytes are read at a time from S3."""


def source_object(filename: str) -> str | None:
    """The object name of a source archive: ``sources/<project>/<file>`` (None: no project)."""
    name_and_version = Archive(Path(filename)).name_and_version()
    return f"sources/{name_and_version[0]}/{filename}" if name_and_version else None


def _missing(error: Exception) -> bool:
    """Whether S3 answered that an object does not exist."""
    from pip_accel.caches.s3_client import error_code

    return error_code(error) in {"NoSuchKey", "404", "NotFound"}


class S3CacheBackend:
    """Keeps built wheels (and downloaded archives) in an S3 bucket."""

    priority = 50
    remote = True

    def __init__(self, config: Config) -> None:
        """Remember the configuration; nothing is imported or contacted yet."""
        self.config = config
        self.bucket = config.s3_bucket
        self.enabled = self.bucket is not None
        self.writable = self.enabled and not config.s3_readonly
        self.root = "/".join(part for part in (config.s3_prefix, CACHE_FORMAT_VERSION) if part)
        self.scratch = Path(tempfile.mkdtemp(prefix="pip-accel-s3-")) if self.enabled else None
        if self.scratch:
            weakref.finalize(self, shutil.rmtree, self.scratch, ignore_errors=True)

    @cached_property
    def client(self) -> Any:
        """The boto3 S3 client, made (and the bucket checked) on first use."""
        from pip_accel.caches.s3_client import check_bucket, connect  # boto3 is slow to import

        client, anonymous = connect(self.config)
        if anonymous:
            logger.info("Reading the S3 cache anonymously (no AWS credentials found); not writing.")
            self.writable = False
        check_bucket(client, self.config)
        return client

    def get(self, key: CacheKey) -> Path | None:
        """Download the wheel stored under ``key`` into a temporary directory, or None."""
        prefix = f"{self.root}/{key.path}/"
        with self._errors(f"look for {key} in"):
            listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=10)
        names = sorted(item["Key"] for item in listing.get("Contents", []))
        wheels = [name for name in names if name.endswith(".whl")]
        if not wheels:
            logger.debug("S3 has no wheel of %s.", key)
            return None
        assert self.scratch is not None
        directory = Path(tempfile.mkdtemp(dir=self.scratch))
        wheel = self._download(wheels[0], directory / wheels[0].rsplit("/", 1)[1])
        logger.info("Downloaded %s from the S3 cache.", wheel.name)
        return wheel

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Upload a wheel under ``key``."""
        if self._upload(wheel, f"{self.root}/{key.path}/{wheel.name}"):
            logger.info("Uploaded %s to the S3 cache.", wheel.name)

    def put_source(self, archive: Path) -> None:
        """Upload a downloaded archive, so that other machines need no package index for it."""
        name = source_object(archive.name)
        if name and self._upload(archive, f"{self.root}/{name}"):
            logger.debug("Uploaded %s to the S3 cache.", archive.name)

    def get_sources(self, directory: Path, projects: Iterable[str]) -> list[Path]:
        """Download the archives of these projects that ``directory`` lacks; return them.

        Only the projects' own prefixes are listed, never the whole bucket's.
        """
        fetched = []
        for project in sorted(set(map(canonicalize_name, projects))):
            prefix = f"{self.root}/sources/{project}/"
            with self._errors(f"list the source archives of {project} in"):
                pages = self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=prefix
                )
                names = [item["Key"] for page in pages for item in page.get("Contents", [])]
            for name in names:
                target = directory / name[len(prefix) :]
                if "/" not in name[len(prefix) :] and not target.exists():
                    fetched.append(self._download(name, target))
        if fetched:
            count = pluralize(len(fetched), "source archive")
            logger.info("Downloaded %s from the S3 cache into the local index.", count)
        return fetched

    def connect(self) -> None:
        """Make the client now (before threads share it)."""
        with self._errors("connect to"):
            self.client  # noqa: B018 (making it is the point)

    def fetch(self, name: str, target: Path, sha256: str | None = None) -> Path | None:
        """Download the object ``name`` (below the cache's root) to ``target``; None if absent.

        The contents must have ``sha256`` when it is given, else the sha256 the
        object was stored with.
        """
        try:
            return self._download(f"{self.root}/{name}", target, sha256)
        except CacheError as error:
            if isinstance(error.__cause__, Exception) and _missing(error.__cause__):
                return None
            raise

    def store(self, path: Path, name: str) -> bool:
        """Upload ``path`` as the object ``name`` unless the bucket has it; return whether so."""
        if not self.writable:
            return False
        full = f"{self.root}/{name}"
        try:
            with self._errors(f"look for {name} in"):
                self.client.head_object(Bucket=self.bucket, Key=full)
            return False
        except CacheError as error:
            if not (isinstance(error.__cause__, Exception) and _missing(error.__cause__)):
                raise
        return self._upload(path, full)

    def _upload(self, path: Path, name: str) -> bool:
        """Upload one file with the sha256 of its contents, unless the backend turned read-only.

        The backend learns that it is anonymous, and so read-only, when it
        first connects, which may be right here.
        """
        with self._errors("connect to"):
            client = self.client
        if not self.writable:
            return False
        digest = hash_file(path)
        with self._errors(f"store {path.name} in", writing=True), path.open("rb") as stream:
            client.put_object(
                Bucket=self.bucket, Key=name, Body=stream, Metadata={"sha256": digest}
            )
        return True

    def _download(self, name: str, target: Path, sha256: str | None = None) -> Path:
        """Download one object to ``target`` (atomically), checking its sha256."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{threading.get_ident()}.part")
        digest = hashlib.sha256()
        try:
            with self._errors(f"download {name} from"):
                response = self.client.get_object(Bucket=self.bucket, Key=name)
                with partial.open("wb") as stream:
                    for chunk in response["Body"].iter_chunks(CHUNK):
                        digest.update(chunk)
                        stream.write(chunk)
            expected = sha256 or response.get("Metadata", {}).get("sha256")
            if not expected:  # pip-accel stores every object with its sha256
                raise CorruptObjectError(
                    f"The object s3://{self.bucket}/{name} has no recorded sha256, so it cannot"
                    " be checked; delete it from the bucket."
                )
            if expected != digest.hexdigest():
                raise CorruptObjectError(
                    f"The object s3://{self.bucket}/{name} is corrupt (its sha256 is"
                    f" {digest.hexdigest()}, not {expected}); delete it from the bucket."
                )
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return target

    @contextlib.contextmanager
    def _errors(self, action: str, writing: bool = False) -> Iterator[None]:
        """Turn boto3's exceptions into pip-accel's, with a sentence about what to do."""
        try:
            yield
        except CacheError:
            raise
        except Exception as error:
            from pip_accel.caches.s3_client import translate

            doing = f"Could not {action} the S3 bucket {self.bucket}"
            raise translate(error, doing, writing) from error
