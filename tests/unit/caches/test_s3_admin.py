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


SHA = "a" * 64
"""A sha256, as object names hold them."""

PLAN = f"v2/plans/{SHA}.json"
TREE = f"v2/trees/cpython-311/{SHA}-2.tar.gz"
WHEEL = f"v2/cp311-ns/six/1.0/{SHA}/six-1.0-py3-none-any.whl"


def test_objects_of_pip_accel_under_the_prefix_only() -> None:
    """Other data of the bucket, of other prefixes and below v2/ itself, is not pip-accel's."""
    client = Client({
        "ci/v2/sources/six/six-1.0.tar.gz": 1,
        f"ci/{PLAN}": 2,
        f"ci/{TREE}": 3,
        f"ci/{WHEEL}": 4,
        "ci/notes.txt": 1,
        "ci/v2/notes.txt": 1,
        "ci/v2/trees/README": 1,
        "other/v2/plans/k.json": 1,
    })  # fmt: skip
    bucket = Bucket(config(), client)
    found = {item.key: item.kind for item in bucket.objects()}
    assert found == {
        "ci/v2/sources/six/six-1.0.tar.gz": "source",
        f"ci/{PLAN}": "plan",
        f"ci/{TREE}": "tree",
        f"ci/{WHEEL}": "wheel",
    }
    assert bucket.others == 3, "ci/notes.txt, ci/v2/notes.txt, ci/v2/trees/README"
    assert bucket.url == "s3://b/ci/"
    old = [
        item
        for item in bucket.objects()
        if item.last_modified < datetime(2025, 1, 3, tzinfo=UTC).timestamp()
    ]
    bucket.delete(old)
    assert client.deleted == ["ci/v2/sources/six/six-1.0.tar.gz", f"ci/{PLAN}"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("v2/sources/a/a-1.0.tar.gz", "source"),
        ("v2/sources/zope-interface/zope.interface-6.0-py3-none-any.whl", "source"),
        (PLAN, "plan"),
        (TREE, "tree"),
        (WHEEL, "wheel"),
        ("v1/sources/a-1.0.tar.gz", "source"),
        (f"v1/ns/a/1.0/{SHA}/a-1.0-py3-none-any.whl", "wheel"),
        ("v2/notes.txt", None),
        ("v2/trees/README", None),
        ("v2/sources/README", None),
        ("v2/sources/a/notes.txt", None),
        ("v2/sources/b/a-1.0.tar.gz", None),
        ("v2/plans/k.json", None),
        (f"v2/plans/{SHA}.json.bak", None),
        (f"v2/trees/cpython-311/{SHA}.tar.gz", None),
        (f"v2/ns/a/1.0/{SHA}/README", None),
        ("v2/ns/a/1.0/not-a-sha/a-1.0-py3-none-any.whl", None),
        (f"v2/sources/a/1.0/{SHA}/a-1.0-py3-none-any.whl", None),
        (f"v2/ns/a/1.0/{SHA}/sub/a-1.0-py3-none-any.whl", None),
        (f"v1/{PLAN[3:]}", None),
        (f"v3/{PLAN[3:]}", None),
        ("backup/v2/sources/a/a-1.0.tar.gz", None),
    ],
)
def test_kinds_are_those_of_the_names_pip_accel_writes(name: str, kind: str | None) -> None:
    """Each kind by its whole name; any other name below the prefix is not pip-accel's."""
    assert kind_of(name) == kind


@pytest.mark.parametrize(
    ("options", "reason"),
    [({"s3-bucket": ""}, "No S3 bucket is configured"), ({"s3-readonly": "true"}, "read-only")],
)
def test_only_a_writer_prunes(options: dict[str, str], reason: str) -> None:
    """Refused before anything is asked of S3."""
    with pytest.raises(CacheCommandError, match=reason):
        connect_writer(config(**options))
