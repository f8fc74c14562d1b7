"""The document of a plan, stored (:mod:`pip_accel.plan.stored`) or shared (:mod:`pip_accel.fleet`).

Both are one JSON object with the same envelope: the ``format`` of the document,
the ``key`` of the question it answers, the ``wheels`` to install, in order, and
the ``sha256`` of those wheels in their canonical JSON form, so that a truncated
or edited plan is refused. What a wheel entry holds differs (a local path or a
bucket's object), and each reader checks its own entries.
"""

import hashlib
import json
from typing import Any

ENVELOPE = frozenset({"format", "key", "wheels", "sha256"})
"""The fields of every plan document."""


def checksum(wheels: Any) -> str:
    """The sha256 of the wheels of a plan, in their canonical JSON form."""
    return hashlib.sha256(json.dumps(wheels, sort_keys=True).encode()).hexdigest()


def plan_document(format: int, key: str, wheels: list[Any], **extra: Any) -> dict[str, Any]:
    """The document of the plan ``wheels`` for ``key``, with the ``extra`` fields of its kind."""
    return {"format": format, "key": key, **extra, "wheels": wheels, "sha256": checksum(wheels)}


def matches(document: dict[str, Any], key: str) -> bool:
    """Whether a document answers ``key`` and its wheels are the ones it was stored with."""
    return bool(document["key"] == key and document["sha256"] == checksum(document["wheels"]))
