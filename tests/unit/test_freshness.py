"""Unit tests of :mod:`pip_accel.freshness`: the record and the rule, with a stand-in clock.

Loose requirements get the package index's fresh answer; the end-to-end tests of the same
rule are in ``tests/e2e/sources/test_index_freshness.py``.
"""

import json
import threading
from pathlib import Path

import pip
import pytest
from packaging.version import Version

from pip_accel.config import Config
from pip_accel.exceptions import ConfigurationError
from pip_accel.freshness import FreshnessRecord, Staleness, fresh_plan
from pip_accel.pip import parse_install


class Clock:
    """A clock that moves only when a test moves it."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        """Start at ``now``."""
        self.now = now

    def __call__(self) -> float:
        """The time it is."""
        return self.now


def record_at(tmp_path: Path, ttl: float = 600.0) -> tuple[FreshnessRecord, Clock]:
    """A record under ``tmp_path`` with a TTL, and the clock it goes by."""
    clock = Clock()
    return FreshnessRecord(tmp_path / "freshness", ttl, clock), clock


def test_an_answer_is_fresh_for_the_ttl_and_no_longer(tmp_path: Path) -> None:
    """Recorded now: fresh until ``ttl`` seconds have passed; another project is not."""
    record, clock = record_at(tmp_path, ttl=600)
    record.record([("Rich", "14.0.0")])
    assert record.is_fresh("rich") and record.is_fresh("RICH")
    assert not record.is_fresh("requests")
    clock.now += 599
    assert record.is_fresh("rich")
    clock.now += 1
    assert not record.is_fresh("rich")


def test_the_record_says_when_the_index_was_asked_and_what_was_planned(tmp_path: Path) -> None:
    """One JSON file per canonical name, with the time of asking and the planned version."""
    record, clock = record_at(tmp_path)
    record.record([("Zope.Interface", "7.0")])
    entry = json.loads((tmp_path / "freshness" / "zope-interface.json").read_text())
    assert entry == {"project": "zope-interface", "asked": clock.now, "version": "7.0"}
    assert record.asked("zope_interface") == clock.now


def test_a_ttl_of_zero_is_never_fresh(tmp_path: Path) -> None:
    """``index-ttl`` 0: every run asks."""
    record, _ = record_at(tmp_path, ttl=0)
    record.record([("rich", "14.0.0")])
    assert not record.is_fresh("rich")


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[1, 2]", b'{"asked": "yesterday"}', b'{"asked": true}', b"\xff\xfe"],
)
def test_a_damaged_entry_counts_as_never_asked(tmp_path: Path, content: bytes) -> None:
    """An empty, truncated or foreign entry is no answer: the index is asked again."""
    record, _ = record_at(tmp_path)
    record.directory.mkdir()
    (record.directory / "rich.json").write_bytes(content)
    assert record.asked("rich") is None
    assert not record.is_fresh("rich")


def test_an_entry_from_the_future_is_not_fresh(tmp_path: Path) -> None:
    """A clock set back since the index was asked cannot tell the entry's age."""
    record, clock = record_at(tmp_path)
    record.record([("rich", "14.0.0")])
    clock.now -= 60
    assert not record.is_fresh("rich")


def test_a_name_that_cannot_be_a_file_name_is_never_recorded(tmp_path: Path) -> None:
    """A hostile project name writes nothing outside the record, and is always stale."""
    record, _ = record_at(tmp_path)
    record.record([("../escape", "1.0"), ("ok", "1.0")])
    assert record.path("../escape") is None
    assert not record.is_fresh("../escape")
    assert sorted(path.name for path in tmp_path.rglob("*.json")) == ["ok.json"]


def test_a_record_that_cannot_be_written_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The record only saves asking: a failed write warns once and the install goes on."""
    (tmp_path / "freshness").write_text("a file where the directory should be")
    record, _ = record_at(tmp_path)
    record.record([("one", "1.0"), ("two", "1.0")])
    warnings = [item for item in caplog.records if item.levelname == "WARNING"]
    assert len(warnings) == 1 and "could not be written" in warnings[0].getMessage()


def test_concurrent_writers_leave_a_whole_entry_for_readers(tmp_path: Path) -> None:
    """Runs that record the same project at once: every read sees a whole entry."""
    record, _ = record_at(tmp_path)
    record.record([("rich", "13.9.4")])
    seen: list[float | None] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            record.record([("rich", "14.0.0")])

    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in writers:
        thread.start()
    try:
        for _ in range(300):
            seen.append(record.asked("rich"))
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert None not in seen
    assert not [path for path in record.directory.iterdir() if path.name != "rich.json"]


def test_pinned_projects_never_need_asking(tmp_path: Path) -> None:
    """Pins on the command line and in requirement files count; ranges and markers do not."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Requests==2.32.3\nidna>=3\n")
    command_line = parse_install(["-r", str(requirements), "certifi==2025.1.31", "urllib3"])
    record, _ = record_at(tmp_path)
    projects = ["requests", "idna", "certifi", "urllib3", "charset_normalizer"]
    stale = record.stale(projects, command_line)
    assert stale.expired == ["charset-normalizer", "idna", "urllib3"]
    assert stale.refreshed == []


def test_a_set_of_pins_is_never_stale(tmp_path: Path) -> None:
    """Exact pins ask the index for nothing, whatever the record (here: none at all)."""
    record, _ = record_at(tmp_path, ttl=0)
    command_line = parse_install(["rich==13.9.4", "markdown-it-py==3.0.0"])
    assert not record.stale(["rich", "markdown-it-py"], command_line)
    assert not record.directory.exists()


def test_an_answer_for_pins_leaves_the_pinned_projects_unrecorded(tmp_path: Path) -> None:
    """A pin is fetched by its version: a later loose requirement on it still asks the index
    (an earlier run of ``rich==13.9.4`` must not make ``rich`` answer 13.9.4)."""
    record, _ = record_at(tmp_path)
    pinned = parse_install(["rich==13.9.4"])
    record.record_answer([("rich", "13.9.4"), ("Pygments", "2.19.1")], pinned)
    loose = parse_install(["rich"])
    assert record.stale(["rich", "pygments"], loose).expired == ["rich"]


def test_projects_asked_within_the_ttl_are_fresh(tmp_path: Path) -> None:
    """Recorded projects are fresh; the transitive ones not recorded are not."""
    record, clock = record_at(tmp_path)
    record.record([("rich", "14.0.0"), ("pygments", "2.19.1")])
    command_line = parse_install(["rich"])
    assert record.stale(["rich", "pygments", "markdown-it-py"], command_line).expired == [
        "markdown-it-py"
    ]
    clock.now += 601
    stale = record.stale(["rich", "pygments"], command_line)
    assert stale.expired == ["pygments", "rich"]


@pytest.mark.skipif(
    Version(pip.__version__) < Version("26.2"), reason="--refresh-package came with pip 26.2"
)
def test_refresh_package_makes_a_project_stale(tmp_path: Path) -> None:
    """A fresh project, and even a pinned one, is stale when ``--refresh-package`` names it."""
    record, _ = record_at(tmp_path)
    record.record([("rich", "14.0.0"), ("pygments", "2.19.1")])
    stale = record.stale(["rich", "pygments"], parse_install(["--refresh-package", "Rich", "rich"]))
    assert stale.refreshed == ["rich"] and stale.expired == []
    pinned = parse_install(["--refresh-package", "rich", "rich==14.0.0"])
    assert record.stale(["rich"], pinned).projects == ["rich"]
    every = record.stale(["rich", "pygments"], parse_install(["--refresh-package", ":all:", "x"]))
    assert every.refreshed == ["pygments", "rich"]


def test_staleness_says_why() -> None:
    """The reason names the projects, the TTL and the option."""
    assert not Staleness([], [], 600)
    assert Staleness(["rich"], [], 600).reason() == (
        "the package index was not asked about rich in the last 10 minutes (index-ttl)"
    )
    assert Staleness(["rich"], [], 0).reason() == "index-ttl is 0, so every run asks about rich"
    both = Staleness(["idna"], ["rich"], 90)
    assert both.projects == ["idna", "rich"]
    assert both.reason().endswith("; --refresh-package names rich")


def test_a_stale_stored_plan_is_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """fresh_plan says why a stored plan is not used, and passes an empty one."""
    caplog.set_level("INFO")
    record, _ = record_at(tmp_path)
    command_line = parse_install(["rich"])
    assert fresh_plan(record, [], command_line)
    assert not fresh_plan(record, ["rich"], command_line)
    assert "Not using the plan of an earlier run" in caplog.text
    record.record([("rich", "14.0.0")])
    assert fresh_plan(record, ["rich"], command_line)


@pytest.mark.parametrize(("value", "seconds"), [("10m", 600.0), ("90s", 90.0), ("0", 0.0)])
def test_index_ttl_is_a_duration(tmp_path: Path, value: str, seconds: float) -> None:
    """The option reads humanfriendly's durations; the default is PyPI's max-age, 600 s."""
    environ = {"PIP_ACCEL_CACHE": str(tmp_path), "PIP_ACCEL_INDEX_TTL": value}
    assert Config(environ=environ).index_ttl == seconds
    assert Config(environ={"PIP_ACCEL_CACHE": str(tmp_path)}).index_ttl == 600.0
    assert FreshnessRecord.of(Config(environ=environ)).directory == tmp_path / "freshness"


@pytest.mark.parametrize("value", ["soon", "-5m", "10 parsecs"])
def test_a_bad_index_ttl_is_refused(tmp_path: Path, value: str) -> None:
    """A bad duration is one line that names the option, the value and the variable."""
    environ = {"PIP_ACCEL_CACHE": str(tmp_path), "PIP_ACCEL_INDEX_TTL": value}
    with pytest.raises(ConfigurationError) as error:
        Config(environ=environ).validate()
    message = str(error.value)
    assert "index-ttl" in message and repr(value) in message
    assert "$PIP_ACCEL_INDEX_TTL" in message and "\n" not in message
