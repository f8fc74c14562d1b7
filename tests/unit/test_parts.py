"""Unit tests of :mod:`pip_accel.parts`: each part made once from the request, stand-ins handed in.

No pip runs and no index is asked: the request holds a real configuration (its data
directory in ``tmp_path``) and command line, and a stand-in target.
"""

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pip_accel.builds.settings import BuildSettings
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.config import Config
from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import InstallError
from pip_accel.install.unpacker import BackgroundUnpacker
from pip_accel.parts import Backends, InstallParts
from pip_accel.pip.command_line import parse_install
from pip_accel.pip.runner import Pip
from pip_accel.plan.plan import PlannedWheel
from pip_accel.plan.stored import PlanCache
from pip_accel.report.progress import Progress
from pip_accel.request import InstallRequest

from support.fixtures import make_wheel, pure_project


def parts(
    tmp_path: Path,
    args: list[str],
    progress: Progress | None = None,
    backends: Backends | None = None,
) -> InstallParts:
    """The parts of an install of ``args`` (a stand-in target, data in ``tmp_path``)."""
    config = Config(overrides={"data-directory": str(tmp_path / "data")}, environ={})
    target = cast(TargetEnvironment, SimpleNamespace(cache_tag="cpython-311"))
    request = InstallRequest(config, parse_install(args), target, Pip(None))
    return InstallParts(request, progress, backends)


def test_no_stored_plan_with_upgrade_or_a_remote_requirements_file(tmp_path: Path) -> None:
    """``-U`` asks the index, and a file named by URL may change unseen: no plan cache."""
    assert parts(tmp_path, ["-U", "demo"]).plans is None
    remote = ["-r", "https://127.0.0.1:9/requirements.txt"]
    assert parts(tmp_path, remote).plans is None


def test_a_plan_cache_is_keyed_by_the_build_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The variables of build-environment that are set are handed to the plan cache, which
    is made once."""
    made = parts(tmp_path, ["demo"])
    made.settings = BuildSettings(environment={"CFLAGS": "-O0"})
    handed: list[object] = []

    made_once = cast(PlanCache, SimpleNamespace())

    def plan_cache(*args: object) -> PlanCache:
        handed.append(args[-2])
        return made_once

    monkeypatch.setattr("pip_accel.parts.PlanCache", plan_cache)
    assert made.plans is made_once
    assert made.plans is made_once
    assert handed == [{"CFLAGS": "-O0"}]


def test_one_tree_store_tells_the_reporter_of_each_compiled_tree(tmp_path: Path) -> None:
    """The tree store is made once; each tree it publishes goes to the live line."""
    progress = Progress(io.StringIO(), live=False)
    made = parts(tmp_path, ["demo"], progress)
    assert made.trees is made.trees
    for listener in made.trees.listeners:
        listener(tmp_path / "demo-1.0-py3-none-any.whl")
    assert progress.compiles == 1
    assert made.summary.installed == 0, "the summary counts installs, not compiles"


def test_a_downloaded_archive_is_counted_and_handed_to_the_unpacker(tmp_path: Path) -> None:
    """Each archive the planner's downloader fetches goes to the live line and, as a wheel,
    to the background unpacker; the planner's builder reports to the same reporter."""
    progress = Progress(io.StringIO(), live=False)
    made = parts(tmp_path, ["demo"], progress, Backends(BinaryCache({})))
    handed: list[Path] = []
    unpacker = cast(BackgroundUnpacker, SimpleNamespace(add=handed.append))
    planner_parts = made._planner_parts(made.request, unpacker)
    archive = make_wheel(tmp_path / "made", "demo", "1.0", pure_project("demo", "1.0"))
    planner_parts.downloader.on_archive(archive)
    assert progress.downloads == 1 and progress.bytes == archive.stat().st_size
    assert handed == [archive]
    planner_parts.builder.on_built(archive)
    assert progress.builds == 1
    assert planner_parts.cache is made.backends().cache, "the backends are loaded once"
    assert planner_parts.freshness is made.freshness


def absent_wheel(made: InstallParts, sha256: str = "a" * 64) -> PlannedWheel:
    """A wheel of a fleet's plan named by its sha256 alone: not in the data directory."""
    path = made.request.config.source_index / "demo-1.0-py3-none-any.whl"
    return PlannedWheel("demo", "1.0", True, str(path), 0, 0, None, sha256)


def test_a_wheel_needed_after_all_is_brought_by_the_fleet_or_is_a_clear_error(
    tmp_path: Path,
) -> None:
    """The tree store asks for an absent wheel of the plan: the fleet fetches it; without a
    fleet (no shared cache) the run stops with a line that says what to do."""
    from pip_accel.fleet.fleet import Fleet

    brought: list[PlannedWheel] = []

    def bring(wheel: PlannedWheel) -> bool:
        brought.append(wheel)
        return True

    fleet = cast(Fleet, SimpleNamespace(bring=bring))
    made = parts(tmp_path, ["demo"], backends=Backends(cast(Any, SimpleNamespace()), fleet))
    item = absent_wheel(made)
    made.expect([item])
    assert made.trees.fetch_wheel is not None
    made.trees.fetch_wheel(Path(item.wheel))
    assert brought == [item]
    made.trees.fetch_wheel(tmp_path / "other-1.0-py3-none-any.whl")  # not the plan's: nothing
    assert brought == [item]
    alone = parts(tmp_path, ["demo"], backends=Backends(cast(Any, SimpleNamespace())))
    alone.expect([item])
    assert alone.trees.fetch_wheel is not None
    with pytest.raises(InstallError, match="not in the data directory and the shared cache"):
        alone.trees.fetch_wheel(Path(item.wheel))


def test_abandon_stops_only_what_was_started(tmp_path: Path) -> None:
    """A failed run stops the background unpacker and the fleet's uploads, when they were
    started; with neither, abandoning does nothing."""
    from pip_accel.fleet.fleet import Fleet

    parts(tmp_path, ["demo"]).abandon()
    stopped: list[str] = []
    fleet = cast(Fleet, SimpleNamespace(abandon=lambda: stopped.append("fleet")))
    made = parts(tmp_path, ["demo"], backends=Backends(cast(Any, SimpleNamespace()), fleet))
    unpacker = made.unpacker()
    assert made.unpacker() is unpacker, "one unpacker per run"
    made.abandon()
    assert unpacker.stopped and stopped == ["fleet"]
