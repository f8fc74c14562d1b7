"""Plan documents of the tests, stored or shared: their checksum, and entries with a field less."""

import hashlib
import json
from typing import Any


def wheels_digest(wheels: list[Any]) -> str:
    """The sha256 of a plan's wheels, as both plan documents record it."""
    return hashlib.sha256(json.dumps(wheels, sort_keys=True).encode()).hexdigest()


def lacking(item: dict[str, Any], field: str) -> dict[str, Any]:
    """``item`` without ``field``, to check that a plan's entry must have it."""
    return {key: value for key, value in item.items() if key != field}
