"""Looking after the bucket of the S3 cache: what it holds, and removing what is old.

Used by ``pip-accel cache info --s3`` and ``pip-accel cache prune --s3
--older-than SPAN``, never by an install. Only the objects of pip-accel's
layouts (``<prefix>/v1/...``, ``<prefix>/v2/...``) count, so that a bucket
shared with other data loses nothing else. S3 keeps no time of last use, so
age is the time an object was stored (``LastModified``), as a bucket's
lifecycle rule counts it.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pip_accel.config import Config
from pip_accel.exceptions import CacheCommandError

LAYOUT = re.compile(r"v[0-9]+")
"""The first part of every object name that pip-accel writes below the prefix."""

SHARED_KINDS = {"sources": "source", "plans": "plan", "trees": "tree"}
"""The kind of the objects below each shared part of a layout (anything else is a wheel)."""

BATCH = 1000
"""How many objects one DeleteObjects request removes at most (S3's limit)."""


@dataclass(frozen=True)
class StoredObject:
    """One object of the bucket."""

    key: str
    size: int
    last_modified: float
    """When it was stored, in seconds since the epoch."""
    kind: str
    """``source``, ``wheel``, ``tree`` or ``plan``."""


def kind_of(name: str) -> str:
    """The kind of an object from its name below the prefix, such as ``v2/plans/<key>.json``."""
    parts = name.split("/")
    return SHARED_KINDS.get(parts[1], "wheel") if len(parts) > 2 else "wheel"


class Bucket:
    """The objects that pip-accel keeps in the configured bucket, under the configured prefix."""

    def __init__(self, config: Config, client: Any) -> None:
        """Use ``client`` (a boto3 S3 client, or a stand-in) for the bucket of ``config``."""
        self.client = client
        self.name = str(config.s3_bucket)
        self.prefix = f"{config.s3_prefix}/" if config.s3_prefix else ""

    @property
    def url(self) -> str:
        """The bucket and prefix, as an ``s3://`` URL."""
        return f"s3://{self.name}/{self.prefix}"

    def objects(self) -> Iterator[StoredObject]:
        """Every object of pip-accel's layouts under the prefix."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if LAYOUT.fullmatch(name.split("/", 1)[0]):
                    stored = item["LastModified"].timestamp()
                    yield StoredObject(item["Key"], int(item["Size"]), stored, kind_of(name))

    def delete(self, objects: Iterable[StoredObject]) -> None:
        """Delete objects, a thousand per request; any that S3 refuses stops it with a reason."""
        keys = [item.key for item in objects]
        for start in range(0, len(keys), BATCH):
            batch = [{"Key": key} for key in keys[start : start + BATCH]]
            answer = self.client.delete_objects(
                Bucket=self.name, Delete={"Objects": batch, "Quiet": True}
            )
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise CacheCommandError(
                    f"S3 did not delete {len(errors)} of the objects, such as"
                    f" s3://{self.name}/{first.get('Key')} ({first.get('Code')}:"
                    f" {first.get('Message')}); check that these credentials may delete objects."
                )


def connect_writer(config: Config) -> Bucket:
    """The bucket, for removing objects: refused when this configuration does not write to it."""
    if not config.s3_bucket:
        raise CacheCommandError(
            "No S3 bucket is configured (option s3-bucket); nothing was removed."
        )
    if config.s3_readonly:
        raise CacheCommandError(
            "The S3 cache is read-only here (s3-readonly = true); prune the bucket where it is"
            " written, or with a lifecycle rule (see README.rst). Nothing was removed."
        )
    bucket, anonymous = _connect(config)
    if anonymous:
        raise CacheCommandError(
            "No AWS credentials were found, and removing objects needs a writer's;"
            " nothing was removed."
        )
    return bucket


def connect_reader(config: Config) -> Bucket:
    """The bucket, for reading what it holds."""
    if not config.s3_bucket:
        raise CacheCommandError("No S3 bucket is configured (option s3-bucket).")
    return _connect(config)[0]


def _connect(config: Config) -> tuple[Bucket, bool]:
    """A client of the configured bucket (checked to exist), and whether it is anonymous."""
    from pip_accel.caches.s3_client import check_bucket, connect

    client, anonymous = connect(config)
    check_bucket(client, config)
    return Bucket(config, client), anonymous
