"""A shared plan: the plan of one question, its wheels named by their objects in the bucket.

Its document has the envelope of every plan (:mod:`pip_accel.plan.document`) and the
version of pip-accel that stored it; each entry names a wheel by its object and sha256
(``source`` for a downloaded wheel, ``binary`` for one built from an sdist, with its
cache key), and is checked before anything is fetched.
"""

import re
from dataclasses import dataclass, fields
from typing import Any

from pip_accel import __version__
from pip_accel.caches import CacheKey
from pip_accel.plan.document import ENVELOPE, matches

FORMAT = 1
"""The layout of a shared plan."""


PLAN_FIELDS = ENVELOPE | {"pip_accel"}
"""The fields of a shared plan."""


SOURCE = "source"


BINARY = "binary"


@dataclass(frozen=True)
class SharedWheel:
    """One distribution of a shared plan: what it is, and the object of its wheel."""

    name: str
    version: str
    requested: bool
    direct_url: dict[str, Any] | None
    file: str
    """The file name of the wheel."""
    kind: str
    """``source`` (downloaded: it goes into the local index) or ``binary`` (built)."""
    key: list[str] | None
    """The binary cache key of a built wheel: namespace, name, version, sdist sha256."""
    sha256: str

    @property
    def object(self) -> str:
        """The name of the wheel's object."""
        if self.kind == BINARY and self.key:
            return f"{CacheKey(*self.key).path}/{self.file}"
        return f"sources/{self.name}/{self.file}"


def parse_shared_plan(data: Any, shared_key: str) -> list[SharedWheel]:
    """The entries of a shared plan (parsed JSON), once it is known to be sound.

    Raises :class:`ValueError` that says what is wrong.
    """
    if not isinstance(data, dict) or set(data) != PLAN_FIELDS:
        raise ValueError("it is not a shared plan")
    if not isinstance(data["wheels"], list):
        raise ValueError("its wheels are not a list")
    if data["format"] != FORMAT or data["pip_accel"] != __version__:
        raise ValueError(f"it was stored by pip-accel {data['pip_accel']!r}, of another format")
    if not matches(data, shared_key):
        raise ValueError("its key or checksum does not match")
    names = {field.name for field in fields(SharedWheel)}
    entries = []
    for item in data["wheels"]:
        if not isinstance(item, dict) or set(item) != names:
            raise ValueError("an entry of it has other fields")
        entry = SharedWheel(**item)
        if not _sound(entry):
            raise ValueError(f"its entry of {entry.file!r} is malformed")
        entries.append(entry)
    return entries


def _sound(entry: SharedWheel) -> bool:
    """Whether an entry names a wheel file safely, with a sha256 and a kind."""
    texts = (entry.name, entry.version, entry.file, entry.sha256)
    if not all(isinstance(text, str) and text for text in texts):
        return False
    if not isinstance(entry.requested, bool) or not isinstance(entry.direct_url, dict | None):
        return False
    plain = "/" not in entry.file + entry.name and entry.file.endswith(".whl")
    plain = plain and not entry.file.startswith(".") and entry.name not in (".", "..")
    key_ok = entry.kind == SOURCE or (
        isinstance(entry.key, list)
        and len(entry.key) == 4
        and all(isinstance(part, str) and part and "/" not in part and part not in (".", "..")
                for part in entry.key)
    )  # fmt: skip
    digest_ok = re.fullmatch("[0-9a-f]{64}", entry.sha256) is not None
    return plain and key_ok and digest_ok and entry.kind in (SOURCE, BINARY)
