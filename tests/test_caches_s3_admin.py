"""Looking after the bucket, with a stand-in for boto3's client: kinds, listing, deleting."""

from datetime import UTC, datetime
from typing import Any

import pytest

from pip_accel.caches.s3_admin import Bucket, connect_writer, kind_of
from pip_accel.config import Config
from pip_accel.exceptions import CacheCommandError


class Pages:
    """A paginator of stand-in listings."""

    def __init__(self, contents: list[dict[str, Any]]) -> None:
        """Hand out ``contents`` in pages of two."""
        self.contents = contents

    def paginate(self, **arguments: str) -> list[dict[str, Any]]:
        """The pages of the objects whose names start with the prefix."""
        found = [item for item in self.contents if item["Key"].startswith(arguments["Prefix"])]
        return [{"Contents": found[start : start + 2]} for start in range(0, len(found), 2)]


class Client:
    """The two calls of boto3's S3 client that :class:`Bucket` makes."""

    def __init__(self, keys: dict[str, int]) -> None:
        """Objects by name, with the day of January 2025 on which each was stored."""
        self.contents = [
            {"Key": key, "Size": 10, "LastModified": datetime(2025, 1, day, tzinfo=UTC)}
            for key, day in keys.items()
        ]
        self.deleted: list[str] = []

    def get_paginator(self, name: str) -> Pages:
        """A paginator of ``list_objects_v2``."""
        assert name == "list_objects_v2"
        return Pages(self.contents)

    def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:
        """Delete the objects named."""
        self.deleted += [item["Key"] for item in Delete["Objects"]]
        return {}


def config(**options: str) -> Config:
    """A configuration of the bucket ``b`` with the prefix ``ci``."""
    return Config({"s3-bucket": "b", "s3-prefix": "ci", **options}, environ={})


def test_objects_of_pip_accel_under_the_prefix_only() -> None:
    """Other data of the bucket, and of other prefixes, is not pip-accel's."""
    client = Client({
        "ci/v2/sources/six/six-1.0.tar.gz": 1,
        "ci/v2/plans/k.json": 2,
        "ci/v2/trees/abc.tar.gz": 3,
        "ci/v2/cp311-ns/six/1.0/sha/six-1.0-py3-none-any.whl": 4,
        "ci/notes.txt": 1,
        "other/v2/plans/k.json": 1,
    })  # fmt: skip
    bucket = Bucket(config(), client)
    found = {item.key: item.kind for item in bucket.objects()}
    assert found == {
        "ci/v2/sources/six/six-1.0.tar.gz": "source",
        "ci/v2/plans/k.json": "plan",
        "ci/v2/trees/abc.tar.gz": "tree",
        "ci/v2/cp311-ns/six/1.0/sha/six-1.0-py3-none-any.whl": "wheel",
    }
    assert bucket.url == "s3://b/ci/"
    old = [
        item
        for item in bucket.objects()
        if item.last_modified < datetime(2025, 1, 3, tzinfo=UTC).timestamp()
    ]
    bucket.delete(old)
    assert client.deleted == ["ci/v2/sources/six/six-1.0.tar.gz", "ci/v2/plans/k.json"]


def test_kinds_by_name() -> None:
    """The part after the layout version says the kind."""
    assert kind_of("v2/sources/a/a.tar.gz") == "source"
    assert kind_of("v1/ns/a/1.0/sha/a.whl") == "wheel"


@pytest.mark.parametrize(
    ("options", "reason"),
    [({"s3-bucket": ""}, "No S3 bucket is configured"), ({"s3-readonly": "true"}, "read-only")],
)
def test_only_a_writer_prunes(options: dict[str, str], reason: str) -> None:
    """Refused before anything is asked of S3."""
    with pytest.raises(CacheCommandError, match=reason):
        connect_writer(config(**options))
