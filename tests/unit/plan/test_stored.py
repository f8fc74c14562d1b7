"""Stored plans are checked before they are trusted: each kind of damage is named and refused.

Fast unit tests of :func:`pip_accel.plan.stored.parse_plan` on parsed JSON, and of
``PlanCache.load``/``store`` on a temporary directory: no index, no venv, no subprocess.
The question (and its keys) is asked of command lines read by pip's own parser, for a
stand-in target.
"""

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

import pytest

from pip_accel.environment import TargetEnvironment
from pip_accel.pip.command_line import command_dests, parse_install
from pip_accel.plan.plan import PlannedWheel
from pip_accel.plan.stored import (
    FORMAT,
    DamagedPlanError,
    PlanCache,
    _question,
    _stable,
    parse_plan,
)

from support.plans import lacking, wheels_digest

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
    plan: dict[str, Any] = {"format": FORMAT, "key": KEY, "wheels": wheels}
    plan["sha256"] = wheels_digest(wheels)
    plan.update(changes)
    return plan


def without(field: str) -> dict[str, Any]:
    """A wheel entry that lacks one field."""
    return lacking(wheel_entry(), field)


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
    with caplog.at_level(logging.INFO, logger="pip_accel.plan.stored"):
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
    with caplog.at_level(logging.INFO, logger="pip_accel.plan.stored"):
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
    with caplog.at_level(logging.WARNING, logger="pip_accel.plan.stored"):
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
    with caplog.at_level(logging.INFO, logger="pip_accel.plan.stored"):
        assert cache.load() is None
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("A wheel of the stored plan changed")
    assert (cache.directory / f"{cache.key()}.json").exists()


# The question and its keys ------------------------------------------------------------------


class QuestionTarget:
    """The target interpreter as the plan cache asks it: its ``info``, nothing else."""

    def __init__(self, sys_path: list[str]) -> None:
        """An interpreter that finds installed distributions in ``sys_path``."""
        self.info: dict[str, Any] = {
            "version": "3.11.7",
            "implementation": "cpython",
            "cache_tag": "cpython-311",
            "tags": ["cp311-cp311-manylinux_2_17_x86_64", "py3-none-any"],
            "markers": {"os_name": "posix", "python_version": "3.11"},
            "in_venv": True,
            "sys_path": sys_path,
        }


def question_target(tmp_path: Path) -> TargetEnvironment:
    """A stand-in target whose library directory holds one installed distribution."""
    site = tmp_path / "site"
    (site / "installed-1.0.dist-info").mkdir(parents=True, exist_ok=True)
    return cast(TargetEnvironment, QuestionTarget([str(site), str(tmp_path / "missing")]))


def checkout(directory: Path, nested: str = "chain-a==1.0\n") -> Path:
    """A requirements file that names a nested one (``-r``), in ``directory``; its path."""
    directory.mkdir(parents=True)
    (directory / "requirements.txt").write_text("-r nested/more.txt\npurepkg==1.0\n")
    (directory / "nested").mkdir()
    (directory / "nested" / "more.txt").write_text(nested)
    return directory / "requirements.txt"


def question(arguments: list[str], tmp_path: Path) -> dict[str, Any]:
    """The question of ``pip-accel install <arguments>`` for the stand-in target."""
    asked: dict[str, Any] = _question(parse_install(arguments), question_target(tmp_path))
    return asked


def test_a_copied_requirements_file_asks_the_same_question(tmp_path: Path) -> None:
    """The same files in another checkout: same question, same keys; the nested file counts."""
    first = checkout(tmp_path / "first")
    second = checkout(tmp_path / "second")
    asked = question(["-r", str(first)], tmp_path)
    assert asked == question(["-r", str(second)], tmp_path)
    assert len(asked["files"]) == 2, "the nested file is read too"
    assert asked["installed"] == ["installed-1.0.dist-info"]
    assert str(tmp_path) not in json.dumps(asked, default=_stable)
    caches = [
        PlanCache(tmp_path / "plans", tmp_path / "sources", parse_install(["-r", str(path)]),
                  question_target(tmp_path))
        for path in (first, second)
    ]  # fmt: skip
    assert caches[0].shared_key() == caches[1].shared_key()
    assert caches[0].key() == caches[1].key()


def test_another_working_directory_asks_the_same_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative requirements file, read from two working directories: the same question."""
    checkout(tmp_path / "first")
    checkout(tmp_path / "second")
    monkeypatch.chdir(tmp_path / "first")
    asked = question(["-r", "requirements.txt"], tmp_path)
    monkeypatch.chdir(tmp_path / "second")
    assert question(["-r", "requirements.txt"], tmp_path) == asked
    assert question(["-r", str(tmp_path / "first" / "requirements.txt")], tmp_path) == asked


@pytest.mark.parametrize("changed", ["top", "nested"])
def test_other_contents_ask_another_question(tmp_path: Path, changed: str) -> None:
    """A changed requirement, in the file named or in the file it names, is another question."""
    first = checkout(tmp_path / "first")
    second = checkout(tmp_path / "second")
    if changed == "top":
        second.write_text("-r nested/more.txt\npurepkg==2.0\n")
    else:
        (tmp_path / "second" / "nested" / "more.txt").write_text("chain-a==2.0\n")
    assert question(["-r", str(first)], tmp_path) != question(["-r", str(second)], tmp_path)


def test_the_shared_key_ignores_the_local_index(tmp_path: Path) -> None:
    """A new archive in the local index changes the key, not the shared key; hidden files
    (checksums, downloads in progress) change neither."""
    cache = PlanCache(
        tmp_path / "plans",
        tmp_path / "sources",
        parse_install(["-r", str(checkout(tmp_path / "checkout"))]),
        question_target(tmp_path),
    )
    key, shared = cache.key(), cache.shared_key()
    assert key != shared
    (tmp_path / "sources" / ".sha256").mkdir(parents=True)
    (tmp_path / "sources" / ".incoming-purepkg-1.0.tar.gz").write_bytes(b"partial")
    assert (cache.key(), cache.shared_key()) == (key, shared)
    (tmp_path / "sources" / "purepkg-1.0.tar.gz").write_bytes(b"an archive")
    assert cache.key() != key
    assert cache.shared_key() == shared


def test_the_question_names_no_path_of_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the interpreter running pip-accel nor the working directory is in the question."""
    monkeypatch.chdir(checkout(tmp_path / "checkout").parent)
    text = json.dumps(question(["-r", "requirements.txt"], tmp_path), default=_stable)
    for path in (sys.prefix, os.getcwd()):
        assert path not in text


@pytest.mark.parametrize(
    ("requirement", "same"),
    [("purepkg==1.0\n", True), ('purepkg==1.0; platform_release >= "6"\n', False)],
    ids=["no kernel marker", "a kernel marker"],
)
def test_the_kernel_counts_only_when_a_requirement_names_it(
    tmp_path: Path, requirement: str, same: bool
) -> None:
    """Machines on other kernels share plans, unless a requirement depends on the kernel."""
    path = tmp_path / "requirements.txt"
    path.write_text(requirement)
    command_line = parse_install(["-r", str(path)])
    asked = []
    for release in ("6.1.0", "6.8.0"):
        target = question_target(tmp_path)
        target.info["markers"] = {"platform_release": release, "platform_version": release}
        asked.append(_question(command_line, target))
    assert (asked[0] == asked[1]) == same


def pip_accepts(dest: str) -> pytest.MarkDecorator:
    """Skip a test when this pip's install command has no option with destination ``dest``."""
    return pytest.mark.skipif(
        dest not in command_dests("install"), reason=f"this pip has no option {dest}"
    )


def source_files(directory: Path, dependency: str = "chain-a") -> None:
    """A pyproject.toml with a dependency group, a script with inline metadata and build
    constraints, each naming ``dependency``, in ``directory``."""
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(f'[dependency-groups]\ntest = ["{dependency}"]\n')
    (directory / "script.py").write_text(
        f'# /// script\n# dependencies = ["{dependency}"]\n# ///\nprint("hello")\n'
    )
    (directory / "build.txt").write_text(f"{dependency}==1.0\n")


SOURCE_OPTIONS = {
    "dependency_groups": ["--group", "{directory}/pyproject.toml:test"],
    "requirements_from_scripts": ["--requirements-from-script", "{directory}/script.py"],
    "build_constraints": ["--build-constraint", "{directory}/build.txt"],
}
"""The options that name files of requirements other than requirement files."""


@pytest.mark.parametrize("dest", sorted(SOURCE_OPTIONS))
def test_other_requirement_sources_count_by_their_contents(tmp_path: Path, dest: str) -> None:
    """A group's pyproject.toml, a script, build constraints: the same contents in another
    checkout ask the same question; other contents, another one."""
    if dest not in command_dests("install"):
        pytest.skip(f"this pip has no option {dest}")
    for name, dependency in (("first", "chain-a"), ("second", "chain-a"), ("third", "other")):
        source_files(tmp_path / name, dependency)
    asked = [
        question([*(token.format(directory=tmp_path / name) for token in SOURCE_OPTIONS[dest]),
                  "purepkg"], tmp_path)
        for name in ("first", "second", "third")
    ]  # fmt: skip
    assert asked[0] == asked[1]
    assert asked[0] != asked[2]
    assert str(tmp_path) not in json.dumps(asked[0], default=_stable)


@pip_accepts("dependency_groups")
def test_the_default_group_file_is_the_working_directorys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--group test`` reads ./pyproject.toml: two checkouts with other groups differ."""
    source_files(tmp_path / "first")
    source_files(tmp_path / "second", "other")
    monkeypatch.chdir(tmp_path / "first")
    first = question(["--group", "test"], tmp_path)
    monkeypatch.chdir(tmp_path / "second")
    assert question(["--group", "test"], tmp_path) != first


@pip_accepts("dependency_groups")
def test_a_kernel_marker_in_a_group_counts(tmp_path: Path) -> None:
    """A dependency group that names the kernel's release keeps it in the question."""
    (tmp_path / "pyproject.toml").write_text(
        "[dependency-groups]\ntest = ['purepkg; platform_release >= \"6\"']\n"
    )
    command_line = parse_install(["--group", f"{tmp_path}/pyproject.toml:test"])
    asked = []
    for release in ("6.1.0", "6.8.0"):
        target = question_target(tmp_path)
        target.info["markers"] = {"platform_release": release}
        asked.append(_question(command_line, target))
    assert asked[0] != asked[1]
