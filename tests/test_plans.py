"""Stored plans are checked before they are trusted: each kind of damage is named and refused.

Fast unit tests of :func:`pip_accel.plans.parse_plan` on parsed JSON, and of
``PlanCache.load``/``store`` on a temporary directory: no index, no venv, no subprocess.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from pip_accel.plans import FORMAT, DamagedPlanError, PlanCache, PlannedWheel, parse_plan

KEY = "0123456789abcdef" * 4
"""The key of the plans of these tests (any string does for parse_plan)."""


def wheel_entry(**changes: Any) -> dict[str, Any]:
    """A sound wheel of a stored plan, as JSON reads it, with some fields changed."""
    entry: dict[str, Any] = {
        "name": "purepkg",
        "version": "1.0",
        "requested": True,
        "wheel": "/cache/binaries/purepkg-1.0-py3-none-any.whl",
        "size": 1234,
        "mtime_ns": 1_700_000_000_000_000_000,
        "direct_url": None,
    }
    entry.update(changes)
    return entry


def document(wheels: list[Any], /, **changes: Any) -> dict[str, Any]:
    """A stored plan of ``wheels`` for KEY, with the digest the design names, fields changed."""
    digest = hashlib.sha256(json.dumps(wheels, sort_keys=True).encode()).hexdigest()
    plan: dict[str, Any] = {"format": FORMAT, "key": KEY, "wheels": wheels, "sha256": digest}
    plan.update(changes)
    return plan


def without(field: str) -> dict[str, Any]:
    """A wheel entry that lacks one field."""
    entry = wheel_entry()
    del entry[field]
    return entry


def test_a_sound_plan_is_accepted() -> None:
    """Every field of every wheel comes back as it was stored, direct URLs included."""
    direct_url = {"url": "file:///src/purepkg-1.0.tar.gz", "archive_info": {}}
    wheels = [wheel_entry(), wheel_entry(name="other", requested=False, direct_url=direct_url)]
    plan = parse_plan(document(wheels), KEY)
    assert plan == [PlannedWheel(**item) for item in wheels]
    assert plan[1].direct_url == direct_url


def test_an_empty_plan_is_accepted() -> None:
    """No wheels is a plan (everything is installed already), inside the stored form."""
    assert parse_plan(document([]), KEY) == []


DAMAGES: dict[str, tuple[Any, str]] = {
    "empty object": ({}, "lacks format, key, sha256, wheels"),
    "empty array": ([], "is a JSON array"),
    "null": (None, "is a JSON null"),
    "old format (a bare list)": ([wheel_entry()], "is a JSON array"),
    "unknown field": ({**document([]), "extra": 1}, "unknown fields ['extra']"),
    "other format": (document([], format=1), "format is 1, not 2"),
    "format as a string": (document([], format=str(FORMAT)), "format is '2'"),
    "other key": (document([], key="f" * 64), "stored for another key"),
    "wheels not a list": (document([], wheels={}), "wheels are a JSON object"),
    "digest mismatch": (document([wheel_entry()], sha256="0" * 64), "do not match their sha256"),
    "a wheel dropped": (
        document([wheel_entry()], sha256=document([])["sha256"]),
        "do not match their sha256",
    ),
    "wheel not an object": (document(["purepkg"]), "entry 1 of its wheels is a JSON string"),
    "wheel null": (
        document([wheel_entry(wheel=None)]),
        "the wheel of entry 1 of its wheels is None",
    ),
    "missing field": (document([without("size")]), "entry 1 of its wheels lacks size"),
    "extra field": (
        document([wheel_entry(extra=1)]),
        "entry 1 of its wheels has unknown fields ['extra']",
    ),
    "empty name": (document([wheel_entry(name="")]), "the name of entry 1 of its wheels is ''"),
    "version a number": (
        document([wheel_entry(version=1.0)]),
        "the version of entry 1 of its wheels is 1.0",
    ),
    "requested a number": (
        document([wheel_entry(requested=1)]),
        "requested of entry 1 of its wheels is 1",
    ),
    "size true": (document([wheel_entry(size=True)]), "the size of entry 1 of its wheels is True"),
    "size a float": (
        document([wheel_entry(size=12.0)]),
        "the size of entry 1 of its wheels is 12.0",
    ),
    "negative mtime": (
        document([wheel_entry(mtime_ns=-1)]),
        "the mtime_ns of entry 1 of its wheels is -1",
    ),
    "direct url a string": (
        document([wheel_entry(direct_url="file:///x")]),
        "the direct_url of entry 1 of its wheels is 'file:///x'",
    ),
    "relative wheel path": (
        document([wheel_entry(wheel="purepkg-1.0-py3-none-any.whl")]),
        "not the absolute path of a wheel",
    ),
    "not a wheel": (document([wheel_entry(wheel="/cache/purepkg-1.0.tar.gz")]), "of a wheel"),
    "second wheel damaged": (
        document([wheel_entry(), wheel_entry(name=None)]),
        "the name of entry 2 of its wheels is None",
    ),
}
"""Damaged plans (parsed JSON), each with a part of the reason it must be refused for."""


@pytest.mark.parametrize(("data", "reason"), DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_plan_is_refused_with_a_reason(data: Any, reason: str) -> None:
    """Each damage raises DamagedPlanError (a ValueError) that says what is wrong."""
    with pytest.raises(DamagedPlanError) as caught:
        parse_plan(data, KEY)
    assert isinstance(caught.value, ValueError)
    assert reason in str(caught.value)


def test_a_long_value_is_cut_short_in_the_reason() -> None:
    """A reason stays one readable line, whatever a damaged plan holds."""
    with pytest.raises(DamagedPlanError) as caught:
        parse_plan(document([], key="x" * 10_000), KEY)
    assert len(str(caught.value)) < 200


def plan_cache(tmp_path: Path) -> PlanCache:
    """A plan cache under ``tmp_path``, with a fixed question (no interpreter is asked)."""
    cache = PlanCache.__new__(PlanCache)
    cache.directory = tmp_path / "plans"
    cache.index = tmp_path / "sources"
    cache.question = {"format": FORMAT, "arguments": ["purepkg==1.0"]}
    return cache


def real_wheel(tmp_path: Path, name: str = "purepkg-1.0-py3-none-any.whl") -> PlannedWheel:
    """A planned wheel that names a real file, so that it is unchanged."""
    path = tmp_path / name
    path.write_bytes(b"not really a zip, but a file with a size and a time")
    status = path.stat()
    return PlannedWheel("purepkg", "1.0", True, str(path), status.st_size, status.st_mtime_ns)


def test_a_stored_plan_is_loaded_as_it_was(tmp_path: Path) -> None:
    """store then load gives the same wheels, from a file of the documented form."""
    cache = plan_cache(tmp_path)
    assert cache.load() is None, "no plan yet"
    plan = [real_wheel(tmp_path)]
    cache.store(plan)
    assert cache.load() == plan
    stored = json.loads((cache.directory / f"{cache.key()}.json").read_text())
    assert stored == document([asdict(plan[0])], key=cache.key())


def test_an_empty_plan_is_stored_and_loaded(tmp_path: Path) -> None:
    """An empty plan survives the round trip as an empty list, not as no plan."""
    cache = plan_cache(tmp_path)
    cache.store([])
    assert cache.load() == []


def test_a_missing_plan_is_silent(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """No stored plan is not damage: no warning."""
    with caplog.at_level(logging.INFO, logger="pip_accel.plans"):
        assert plan_cache(tmp_path).load() is None
    assert caplog.records == []


def write_bytes(data: bytes) -> Callable[[Path, dict[str, Any]], bytes]:
    """A damage that replaces the stored plan with ``data``."""
    return lambda path, plan: data


FILE_DAMAGES: dict[str, Callable[[Path, dict[str, Any]], bytes]] = {
    "empty file": write_bytes(b""),
    "empty object": write_bytes(b"{}"),
    "empty array": write_bytes(b"[]"),
    "truncated": lambda path, plan: path.read_bytes()[:-20],
    "not text": write_bytes(b"\xff\xfe\xff"),
    "nested too deeply": write_bytes(b"[" * 100_000),
    "wheel null": lambda path, plan: json.dumps(
        {**plan, "wheels": [{**plan["wheels"][0], "wheel": None}]}
    ).encode(),
    "wheel null, digest fixed": lambda path, plan: json.dumps(
        document([{**plan["wheels"][0], "wheel": None}], key=plan["key"])
    ).encode(),
}
"""Damage done to the file of a stored plan: the new contents, from the file and its plan."""


@pytest.mark.parametrize("damage", FILE_DAMAGES.values(), ids=FILE_DAMAGES.keys())
def test_a_damaged_plan_file_is_removed_with_a_warning(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[Path, dict[str, Any]], bytes],
) -> None:
    """load warns once, naming the file, removes it and returns None; store repairs it."""
    cache = plan_cache(tmp_path)
    plan = [real_wheel(tmp_path)]
    cache.store(plan)
    path = cache.directory / f"{cache.key()}.json"
    path.write_bytes(damage(path, json.loads(path.read_text())))
    with caplog.at_level(logging.INFO, logger="pip_accel.plans"):
        assert cache.load() is None
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert message.startswith(f"The stored plan {path} is damaged (")
    assert message.endswith("); planning anew.")
    assert not path.exists()
    cache.store(plan)
    assert cache.load() == plan


def test_an_unreadable_plan_is_damaged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A plan that cannot be read (here a directory in its place) is a warning, not an error."""
    cache = plan_cache(tmp_path)
    path = cache.directory / f"{cache.key()}.json"
    path.mkdir(parents=True)
    with caplog.at_level(logging.WARNING, logger="pip_accel.plans"):
        assert cache.load() is None
        cache.store([real_wheel(tmp_path)])  # cannot replace a directory: warns only
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith(f"The stored plan {path} is damaged (it cannot be read")
    assert any(message.startswith("The plan could not be stored") for message in messages)


def test_a_changed_wheel_is_not_damage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A sound plan whose wheel changed keeps its file and logs the usual info line."""
    cache = plan_cache(tmp_path)
    wheel = real_wheel(tmp_path)
    cache.store([wheel])
    Path(wheel.wheel).write_bytes(b"another wheel")
    with caplog.at_level(logging.INFO, logger="pip_accel.plans"):
        assert cache.load() is None
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("A wheel of the stored plan changed")
    assert (cache.directory / f"{cache.key()}.json").exists()
