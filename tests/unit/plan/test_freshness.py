"""Unit tests of :mod:`pip_accel.plan.freshness`: the record and the rule, with a stand-in clock.

Loose requirements get the package index's fresh answer; the end-to-end tests of the same
rule are in ``tests/e2e/sources/test_index_freshness.py``.
"""

import json
import threading
from pathlib import Path

import pip
import pytest
from packaging.version import Version

from pip_accel.cli.fast_start import decode, encode
from pip_accel.config import Config
from pip_accel.exceptions import ConfigurationError
from pip_accel.pip.command_line import parse_install
from pip_accel.plan.freshness import FreshnessRecord, Staleness, fresh_plan
from pip_accel.sources.listing import Listing

from support.requirements import with_files


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


def listed(**versions: str) -> dict[str, Listing]:
    """Listings by project: ``rich="13.9.4 15.0.0"`` (a trailing ``!`` marks a yanked one)."""
    listings = {}
    for name, text in versions.items():
        words = text.split()
        listings[name] = Listing(
            tuple(word.rstrip("!") for word in words),
            tuple(word.rstrip("!") for word in words if word.endswith("!")),
        )
    return listings


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
    record.record([("Zope.Interface", "7.0")], listed(zope_interface="6.4 7.0 7.1b1 7.0.1!"))
    entry = json.loads((tmp_path / "freshness" / "zope-interface.json").read_text())
    assert entry == {"project": "zope-interface", "asked": clock.now, "version": "7.0"}
    record.record([("Zope.Interface", "7.0")], listed(**{"zope-interface": "6.4 7.0 7.0.1!"}))
    entry = json.loads((tmp_path / "freshness" / "zope-interface.json").read_text())
    assert entry == {
        "project": "zope-interface",
        "asked": clock.now,
        "version": "7.0",
        "listed": {"versions": ["6.4", "7.0", "7.0.1"], "yanked": ["7.0.1"]},
    }
    assert record.asked("zope_interface") == clock.now
    assert record.listing("Zope.Interface") == Listing(("6.4", "7.0", "7.0.1"), ("7.0.1",))


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
    stale = record.stale([(name, "1.0") for name in projects], *with_files(command_line))
    assert stale.expired == ["charset-normalizer", "idna", "urllib3"]
    assert stale.refreshed == []


def test_a_set_of_pins_is_never_stale(tmp_path: Path) -> None:
    """Exact pins ask the index for nothing, whatever the record (here: none at all)."""
    record, _ = record_at(tmp_path, ttl=0)
    command_line = parse_install(["rich==13.9.4", "markdown-it-py==3.0.0"])
    assert not record.stale(
        [("rich", "13.9.4"), ("markdown-it-py", "3.0.0")], *with_files(command_line)
    )
    assert not record.directory.exists()


def test_an_answer_for_pins_leaves_the_pinned_projects_unrecorded(tmp_path: Path) -> None:
    """A pin is fetched by its version: a later loose requirement on it still asks the index
    (an earlier run of ``rich==13.9.4`` must not make ``rich`` answer 13.9.4)."""
    record, _ = record_at(tmp_path)
    pinned = parse_install(["rich==13.9.4"])
    record.record_answer([("rich", "13.9.4"), ("Pygments", "2.19.1")], *with_files(pinned))
    loose = parse_install(["rich"])
    assert record.stale(
        [("rich", "13.9.4"), ("pygments", "2.19.1")], *with_files(loose)
    ).expired == ["rich"]


def test_projects_asked_within_the_ttl_are_fresh(tmp_path: Path) -> None:
    """Recorded projects are fresh; the transitive ones not recorded are not."""
    record, clock = record_at(tmp_path)
    record.record(
        [("rich", "14.0.0"), ("pygments", "2.19.1")],
        listed(rich="13.9.4 14.0.0", pygments="2.19.1"),
    )
    command_line = parse_install(["rich"])
    planned = [("rich", "14.0.0"), ("pygments", "2.19.1"), ("markdown-it-py", "3.0.0")]
    stale = record.stale(planned, *with_files(command_line))
    assert stale.expired == ["markdown-it-py"] and stale.outdated == {}
    clock.now += 601
    stale = record.stale(planned[:2], *with_files(command_line))
    assert stale.expired == ["pygments", "rich"]


@pytest.mark.skipif(
    Version(pip.__version__) < Version("26.2"), reason="--refresh-package came with pip 26.2"
)
def test_refresh_package_makes_a_project_stale(tmp_path: Path) -> None:
    """A fresh project, and even a pinned one, is stale when ``--refresh-package`` names it."""
    record, _ = record_at(tmp_path)
    planned = [("rich", "14.0.0"), ("pygments", "2.19.1")]
    record.record(planned, listed(rich="14.0.0", pygments="2.19.1"))
    stale = record.stale(planned, *with_files(parse_install(["--refresh-package", "Rich", "rich"])))
    assert stale.refreshed == ["rich"] and stale.expired == [] and stale.outdated == {}
    pinned = parse_install(["--refresh-package", "rich", "rich==14.0.0"])
    assert record.stale(planned[:1], *with_files(pinned)).projects == ["rich"]
    every = record.stale(planned, *with_files(parse_install(["--refresh-package", ":all:", "x"])))
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
    assert fresh_plan(record, [], *with_files(command_line))
    assert not fresh_plan(record, [("rich", "14.0.0")], *with_files(command_line))
    assert "Not using the plan of an earlier run" in caplog.text
    record.record([("rich", "14.0.0")], listed(rich="14.0.0"))
    assert fresh_plan(record, [("rich", "14.0.0")], *with_files(command_line))


def test_a_bounded_answer_does_not_answer_an_unbounded_requirement(tmp_path: Path) -> None:
    """``rich<14`` asked the index (13.9.4, and 15.0.0 listed): ``rich<14`` is fresh with the
    local index's 13.9.4, ``rich`` is not (pip takes 15.0.0), nor is ``rich<15``."""
    record, _ = record_at(tmp_path)
    record.record_answer([("rich", "13.9.4")], *with_files(parse_install(["rich<14"])),
                         listed(rich="13.8.0 13.9.4 14.1.0 15.0.0"))  # fmt: skip
    assert not record.stale([("rich", "13.9.4")], *with_files(parse_install(["rich<14"])))
    stale = record.stale([("rich", "13.9.4")], *with_files(parse_install(["rich"])))
    assert stale.projects == ["rich"] and stale.expired == []
    assert stale.reason() == "the package index listed rich 15.0.0 where the local index has 13.9.4"
    assert record.stale([("rich", "13.9.4")], *with_files(parse_install(["Rich<15,>=13"]))).outdated
    assert not record.stale([("rich", "15.0.0")], *with_files(parse_install(["rich"])))
    assert record.stale(
        [("rich", "13.9.4")], *with_files(parse_install(["rich>=16"]))
    ).outdated == {
        "rich": "the package index listed no release of rich that fits where the local index"
        " has 13.9.4"
    }


def test_a_dependency_is_fresh_only_at_the_newest_listed_release(tmp_path: Path) -> None:
    """Its range is in its dependents' metadata, not on the command line: only the newest
    listed release is surely pip's answer; an older one asks the index."""
    record, _ = record_at(tmp_path)
    record.record([("mdurl", "0.1.2"), ("pygments", "2.18.0")],
                  listed(mdurl="0.1.0 0.1.2", pygments="2.18.0 2.19.1"))  # fmt: skip
    stale = record.stale(
        [("mdurl", "0.1.2"), ("pygments", "2.18.0")], *with_files(parse_install(["rich"]))
    )
    assert list(stale.outdated) == ["pygments"]


@pytest.mark.skipif(Version(pip.__version__) < Version("25.1"), reason="--group came with pip 25.1")
def test_a_dependency_group_and_a_script_bound_their_projects(tmp_path: Path) -> None:
    """``--group`` and ``--requirements-from-script`` are the user's requirements too, read
    with pip's readers: ``rich<14`` there is fresh at 13.9.4; an unreadable file bounds
    nothing (the index is asked)."""
    record, _ = record_at(tmp_path)
    record.record([("rich", "13.9.4"), ("idna", "3.9")], listed(rich="13.9.4 15.0", idna="3.9 4"))
    (tmp_path / "pyproject.toml").write_text('[dependency-groups]\ntest = ["rich<14"]\n')
    planned = [("rich", "13.9.4")]
    assert not record.stale(
        planned, *with_files(parse_install(["--group", f"{tmp_path}/pyproject.toml:test"]))
    )
    missing = parse_install(["--group", f"{tmp_path}/absent/pyproject.toml:test"])
    assert record.stale(planned, *with_files(missing)).outdated
    script = tmp_path / "script.py"
    script.write_text('# /// script\n# dependencies = ["idna<4"]\n# ///\nprint(1)\n')
    if hasattr(parse_install([]).options, "requirements_from_scripts"):
        from_script = parse_install(["--requirements-from-script", str(script)])
        assert not record.stale([("idna", "3.9")], *with_files(from_script))


def test_a_requirement_with_a_marker_counts_as_a_dependency(tmp_path: Path) -> None:
    """``rich<14; python_version < '3'`` may not apply: it bounds nothing here."""
    record, _ = record_at(tmp_path)
    record.record([("rich", "13.9.4")], listed(rich="13.9.4 15.0.0"))
    command_line = parse_install(["rich<14; python_version < '3'", "rich-extras"])
    assert record.stale([("rich", "13.9.4")], *with_files(command_line)).outdated


@pytest.mark.parametrize(
    ("versions", "args", "planned", "fresh"),
    [
        ("1.0 2.0b1", ["alpha"], "1.0", True),  # pip takes no pre-release when a final fits
        ("1.0 2.0b1", ["--pre", "alpha"], "1.0", False),  # with --pre it takes 2.0b1
        ("1.0 2.0b1", ["--pre", "alpha"], "2.0b1", True),
        ("1.0 2.0b1", ["alpha>=2.0b1"], "2.0b1", True),  # a pre-release in the specifier
        ("2.0b1 2.0b2", ["alpha"], "2.0b1", False),  # only pre-releases: pip takes the newest
        ("2.0b1 2.0b2", ["alpha"], "2.0b2", True),
        ("1.0 1.1!", ["alpha"], "1.0", True),  # a yanked release is never the answer...
        ("1.0! 1.1!", ["alpha"], "1.1", True),  # ...unless only yanked ones fit
        ("1.0 1.1!", ["alpha==1.1"], "1.1", True),  # a pin asks nothing anyway
        ("1.0 2.0", ["alpha", "--prefer-binary"], "2.0", False),  # the listing cannot tell
        ("1.0 2.0", ["alpha"], "2.0.0", True),  # 2.0.0 is 2.0, as pip compares them
    ],
)
def test_pre_releases_and_yanked_releases_follow_pips_rule(
    tmp_path: Path, versions: str, args: list[str], planned: str, fresh: bool
) -> None:
    """Which release of the listing pip takes: pre-releases as ``--pre`` or the specifier
    say, yanked ones last; with ``--prefer-binary`` the index is asked."""
    record, _ = record_at(tmp_path)
    record.record([("alpha", planned)], listed(alpha=versions))
    assert bool(record.stale([("alpha", planned)], *with_files(parse_install(args)))) is not fresh


@pytest.mark.skipif(
    Version(pip.__version__) < Version("26.0"), reason="--only-final came with pip 26"
)
def test_release_control_options_choose_the_pre_releases(tmp_path: Path) -> None:
    """``--all-releases alpha`` takes alpha's pre-releases, ``--only-final :all:`` none."""
    record, _ = record_at(tmp_path)
    record.record([("alpha", "2.0b1"), ("beta", "1.0")],
                  listed(alpha="1.0 2.0b1", beta="1.0 1.1rc1"))  # fmt: skip
    planned = [("alpha", "2.0b1"), ("beta", "1.0")]
    assert not record.stale(
        planned, *with_files(parse_install(["--all-releases", "alpha", "alpha", "beta"]))
    )
    only_final = parse_install(["--only-final", ":all:", "alpha", "beta"])
    assert list(record.stale(planned, *with_files(only_final)).outdated) == ["alpha"]


@pytest.mark.skipif(
    Version(pip.__version__) < Version("26.0"), reason="--only-final came with pip 26"
)
def test_release_control_restored_by_a_warm_start_answers_alike(tmp_path: Path) -> None:
    """A warm start keeps pip's ReleaseControl by its fields (no methods): the same answer."""
    record, _ = record_at(tmp_path)
    record.record([("alpha", "2.0b1")], listed(alpha="1.0 2.0b1"))
    for args in (["--all-releases", "alpha", "alpha"], ["--only-final", ":all:", "alpha"]):
        command_line = parse_install(args)
        original = record.stale([("alpha", "2.0b1")], *with_files(command_line))
        control = command_line.options.release_control
        command_line.options.release_control = decode(encode(control))
        assert not hasattr(command_line.options.release_control, "allows_prereleases")
        assert record.stale([("alpha", "2.0b1")], *with_files(command_line)) == original


def test_an_entry_of_the_time_only_is_not_fresh(tmp_path: Path) -> None:
    """An entry written before listings were kept (or without one) asks again, no error."""
    record, clock = record_at(tmp_path)
    record.directory.mkdir()
    entry = {"project": "rich", "asked": clock.now, "version": "13.9.4"}
    (record.directory / "rich.json").write_text(json.dumps(entry))
    assert record.is_fresh("rich") and record.listing("rich") is None
    stale = record.stale([("rich", "13.9.4")], *with_files(parse_install(["rich"])))
    unknown = "the record does not say what the package index listed for rich"
    assert stale.outdated == {"rich": unknown}
    damaged_listings: list[object] = [{"versions": "13.9.4"}, {"versions": [1]}, {"yanked": []}, []]
    for damaged in damaged_listings:
        (record.directory / "rich.json").write_text(json.dumps({**entry, "listed": damaged}))
        assert record.listing("rich") is None


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


# End-to-end: the real command against the fixture index.
