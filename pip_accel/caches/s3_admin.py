"""Looking after the bucket of the S3 cache: what it holds, and removing what is old.

Used by ``pip-accel cache info --s3`` and ``pip-accel cache prune --s3
--older-than SPAN``, never by an install. Only the objects whose names are
those that pip-accel writes count (:func:`kind_of`), so that a bucket shared
with other data, even below pip-accel's own prefix, loses nothing else. S3
keeps no time of last use, so age is the time an object was stored
(``LastModified``), as a bucket's lifecycle rule counts it.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pip_accel.caches.s3 import source_object
from pip_accel.config import Config
from pip_accel.exceptions import CacheCommandError

SHA256 = "[0-9a-f]{64}"
"""A sha256 in an object's name (of an sdist, a wheel or a plan's question)."""

PLAN = re.compile(rf"{SHA256}\.json")
"""The name of a shared plan below ``plans/``: its shared key."""

TREE = re.compile(rf"{SHA256}-[0-9]+\.tar\.gz")
"""The name of a tree archive below ``trees/<cache tag>/``: its wheel's sha256 and format."""

SHARED = frozenset({"sources", "plans", "trees"})
"""The parts of a layout that hold no built wheels."""

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


def kind_of(name: str) -> str | None:
    """The kind of an object from its name below the prefix; None when pip-accel writes no such.

    pip-accel writes, below ``v2/`` (:mod:`pip_accel.fleet.fleet`, :mod:`pip_accel.caches.s3`):
    ``sources/<project>/<archive>``, ``plans/<shared key>.json``,
    ``trees/<cache tag>/<wheel sha256>-<format>.tar.gz`` and
    ``<namespace>/<name>/<version>/<sdist sha256>/<wheel>``; below ``v1/`` (pip-accel
    1.0): ``sources/<archive>`` and the same wheels. Signatures are metadata of the
    objects they sign, not objects.
    """
    layout, *parts = name.split("/")
    if layout not in ("v1", "v2") or any(part in ("", ".", "..") for part in parts):
        return None
    if parts[:1] == ["sources"]:
        return "source" if _is_source(layout, parts) else None
    if layout == "v2" and parts[:1] == ["plans"] and len(parts) == 2:
        return "plan" if PLAN.fullmatch(parts[1]) else None
    if layout == "v2" and parts[:1] == ["trees"] and len(parts) == 3:
        return "tree" if TREE.fullmatch(parts[2]) else None
    if len(parts) == 5 and parts[0] not in SHARED and re.fullmatch(SHA256, parts[3]):
        return "wheel" if parts[4].endswith(".whl") and len(parts[4]) > 4 else None
    return None


def _is_source(layout: str, parts: list[str]) -> bool:
    """Whether ``sources/...`` names an archive as its layout does (v2: under its project)."""
    if layout == "v1":
        return len(parts) == 2 and source_object(parts[1]) is not None
    return len(parts) == 3 and source_object(parts[2]) == "/".join(parts)


class Bucket:
    """The objects that pip-accel keeps in the configured bucket, under the configured prefix."""

    def __init__(self, config: Config, client: Any) -> None:
        """Use ``client`` (a boto3 S3 client, or a stand-in) for the bucket of ``config``."""
        self.client = client
        self.name = str(config.s3_bucket)
        self.prefix = f"{config.s3_prefix}/" if config.s3_prefix else ""
        self.others = 0
        """How many objects under the prefix the last listing passed: not pip-accel's."""

    @property
    def url(self) -> str:
        """The bucket and prefix, as an ``s3://`` URL."""
        return f"s3://{self.name}/{self.prefix}"

    def objects(self) -> Iterator[StoredObject]:
        """Every object of pip-accel's layouts under the prefix.

        The others under the prefix are counted in :attr:`others` as they are passed.
        """
        self.others = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                kind = kind_of(item["Key"][len(self.prefix) :])
                if kind is None:
                    self.others += 1
                    continue
                stored = item["LastModified"].timestamp()
                yield StoredObject(item["Key"], int(item["Size"]), stored, kind)

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
