"""The S3 cache backend: a bucket that a fleet of machines shares as a second level.

Enabled by the option ``s3-bucket``; needs boto3 (``pip install
'pip-accel[s3]'``), which is imported only when the bucket is first used, so
that users without S3 do not pay for it. Object names are
``<prefix>/<cache format version>/<platform namespace>/<name>/<version>/<sdist
sha256>/<wheel>``, so machines that cannot share binaries never see each
other's, and ``<prefix>/<cache format version>/sources/<project>/<archive>``
for the downloaded archives, so that a machine can look up the archives of
one project without listing everyone's. Shared plans and trees (see
:mod:`pip_accel.fleet.fleet`) are objects of the same bucket, fetched and stored by
name with :meth:`S3CacheBackend.fetch` and :meth:`S3CacheBackend.store`. Each
object carries the sha256 of its contents, checked after every download, and,
from a writer with ``s3-signing-key``, a signature of its name and sha256 (see
:mod:`pip_accel.caches.signing`), which a reader with ``s3-trusted-keys`` requires.

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
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from humanfriendly.text import pluralize
from packaging.utils import canonicalize_name

from pip_accel.caches import CACHE_FORMAT_VERSION, CacheBackend, CacheKey
from pip_accel.config import Config
from pip_accel.exceptions import CacheError, CorruptObjectError, UntrustedObjectError
from pip_accel.filenames import name_and_version
from pip_accel.files import hash_file

if TYPE_CHECKING:
    from pip_accel.caches.signing import Keys

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
"""How many bytes are read at a time from S3."""

T = TypeVar("T")
"""What the reader of a streamed object makes of it."""


def source_object(filename: str) -> str | None:
    """The object name of a source archive: ``sources/<project>/<file>`` (None: no project)."""
    found = name_and_version(filename)
    return f"sources/{found[0]}/{filename}" if found else None


def _missing(error: Exception) -> bool:
    """Whether S3 answered that an object does not exist."""
    from pip_accel.caches.s3_client import error_code

    return error_code(error) in {"NoSuchKey", "404", "NotFound"}


class S3CacheBackend(CacheBackend, shares_objects=True):
    """Keeps built wheels (and downloaded archives) in an S3 bucket."""

    priority = 50
    remote = True

    def __init__(self, config: Config) -> None:
        """Remember the configuration; nothing is imported or contacted yet."""
        self.config = config
        self.bucket = config.s3_bucket
        self.enabled = self.bucket is not None
        self.writable = self.enabled and not config.s3_readonly
        self.prefix = config.s3_prefix
        self.root = "/".join(part for part in (self.prefix, CACHE_FORMAT_VERSION) if part)
        self.keys = self._load_keys() if self.enabled else None
        self.refused: set[str] = set()
        """Objects found corrupt or untrusted in this run: absent from then on, with one warning."""
        self.corrupt: set[str] = set()
        """Objects whose contents did not have the sha256 they were stored with, in this run:
        a writer stores its own copy over them."""
        self.scratch = Path(tempfile.mkdtemp(prefix="pip-accel-s3-")) if self.enabled else None
        if self.scratch:
            weakref.finalize(self, shutil.rmtree, self.scratch, ignore_errors=True)

    def _load_keys(self) -> "Keys | None":
        """The keys that sign and verify objects, when configured (checked at start)."""
        if not (self.config.s3_signing_key or self.config.s3_trusted_keys):
            return None
        from pip_accel.caches.signing import load_keys  # cryptography only when keys are used

        return load_keys(self.config)

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
        if self._was_refused(wheels[0]):
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
                if "/" in name[len(prefix) :] or target.exists() or self._was_refused(name):
                    continue
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
        full = f"{self.root}/{name}"
        if self._was_refused(full):
            return None
        try:
            return self._download(full, target, sha256)
        except CacheError as error:
            if isinstance(error.__cause__, Exception) and _missing(error.__cause__):
                return None
            raise

    def stream(
        self, name: str, consume: Callable[[BinaryIO], T], sha256: str | None = None
    ) -> T | None:
        """Give the object ``name`` to ``consume`` as it is downloaded; None if absent.

        What ``consume`` does not read is read after it, so that the sha256
        (``sha256`` when given, else the one the object was stored with) and
        the signature are checked on the whole object before this returns:
        :class:`CorruptObjectError` (or :class:`UntrustedObjectError`) says that
        what ``consume`` made of it must not be used. A connection lost while
        ``consume`` reads is a :class:`CacheError` raised through it.
        """
        full = f"{self.root}/{name}"
        if self._was_refused(full):
            return None
        action = f"download {full} from"
        try:
            with self._errors(action):
                response = self.client.get_object(Bucket=self.bucket, Key=full)
        except CacheError as error:
            if isinstance(error.__cause__, Exception) and _missing(error.__cause__):
                return None
            raise
        body = _HashingBody(response["Body"], lambda: self._errors(action))
        try:
            result = consume(cast(BinaryIO, body))
            body.drain()
        finally:
            response["Body"].close()
        self._verify(full, body.digest.hexdigest(), sha256, response.get("Metadata", {}))
        return result

    def store(self, path: Path, name: str) -> bool:
        """Upload ``path`` as the object ``name`` unless the bucket has it; return whether so.

        An object found corrupt in this run is replaced, as is (by a signing
        writer) one that no trusted key signed.
        """
        if not self.writable:
            return False
        full = f"{self.root}/{name}"
        if full in self.corrupt:
            logger.info("Replacing %s in the S3 cache: it was found corrupt.", name)
            return self._upload(path, full)
        try:
            with self._errors(f"look for {name} in"):
                head = self.client.head_object(Bucket=self.bucket, Key=full)
        except CacheError as error:
            if not (isinstance(error.__cause__, Exception) and _missing(error.__cause__)):
                raise
            return self._upload(path, full)
        if self.keys and self.keys.replaces(self._logical(full), head.get("Metadata", {})):
            logger.info("Replacing %s in the S3 cache: no key this writer trusts signed it.", name)
            return self._upload(path, full)
        return False

    def replace(self, path: Path, name: str) -> bool:
        """Upload ``path`` as the object ``name``, over the one the bucket has; whether it did."""
        return self.writable and self._upload(path, f"{self.root}/{name}")

    def _upload(self, path: Path, name: str) -> bool:
        """Upload one file with the sha256 of its contents (and its signature), unless read-only.

        The backend learns that it is anonymous, and so read-only, when it
        first connects, which may be right here.
        """
        with self._errors("connect to"):
            client = self.client
        if not self.writable:
            return False
        digest = hash_file(path)
        metadata = {"sha256": digest}
        if self.keys and self.keys.signer:
            metadata |= self.keys.signer.sign(self._logical(name), digest)
        with self._errors(f"store {path.name} in", writing=True), path.open("rb") as stream:
            client.put_object(Bucket=self.bucket, Key=name, Body=stream, Metadata=metadata)
        self.refused.discard(name)  # replaced by this run's own
        self.corrupt.discard(name)
        return True

    def _download(self, name: str, target: Path, sha256: str | None = None) -> Path:
        """Download one object to ``target`` (atomically), checking its sha256 and signature."""
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
            self._verify(name, digest.hexdigest(), sha256, response.get("Metadata", {}))
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return target

    def _verify(self, name: str, digest: str, sha256: str | None, metadata: dict[str, str]) -> None:
        """:meth:`_check` a downloaded object, noting a refused one (absent from then on)."""
        try:
            self._check(name, digest, sha256, metadata)
        except CorruptObjectError:
            self.refused.add(name)
            if metadata.get("sha256") != digest:  # not only another wheel's
                self.corrupt.add(name)
            raise

    def _check(self, name: str, digest: str, sha256: str | None, metadata: dict[str, str]) -> None:
        """Refuse an object whose contents (of ``digest``) are corrupt, or not to be trusted.

        The contents must have ``sha256`` when it is given, else the sha256
        recorded in the object's ``metadata``.
        """
        expected = sha256 or metadata.get("sha256")
        if not expected:  # pip-accel stores every object with its sha256
            raise CorruptObjectError(
                f"The object s3://{self.bucket}/{name} has no recorded sha256, so it cannot"
                " be checked; delete it from the bucket."
            )
        if expected != digest:
            raise CorruptObjectError(
                f"The object s3://{self.bucket}/{name} is corrupt (its sha256 is"
                f" {digest}, not {expected}); delete it from the bucket."
            )
        refusal = self.keys.refusal(self._logical(name), digest, metadata) if self.keys else None
        if refusal:
            raise UntrustedObjectError(
                f"Refusing the object s3://{self.bucket}/{name}: {refusal}; a signing writer"
                " replaces it when it stores it again."
            )

    def _was_refused(self, name: str) -> bool:
        """Whether the object ``name`` was refused earlier in this run: it then is absent."""
        if name not in self.refused:
            return False
        logger.debug("Not downloading %s again: it was refused earlier in this run.", name)
        return True

    def _logical(self, name: str) -> str:
        """The name of an object without the configured prefix: the name that is signed."""
        return name[len(self.prefix) + 1 :] if self.prefix else name

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


class _HashingBody:
    """An object's body as it is downloaded: its sha256 taken, a lost connection a CacheError."""

    def __init__(self, body: Any, errors: Callable[[], contextlib.AbstractContextManager[None]]):
        """Read ``body`` (boto3's streaming body), translating its failures with ``errors``."""
        self.body = body
        self.errors = errors
        self.digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes of the object (the rest when negative); empty at its end."""
        with self.errors():
            data: bytes = self.body.read(None if size < 0 else size)
        self.digest.update(data)
        return data

    def drain(self) -> None:
        """Read what is left of the object (for its sha256)."""
        while self.read(CHUNK):
            pass
