"""Unit tests of :mod:`pip_accel.accelerator`: the order of an install's steps, with stand-ins.

No pip runs and no index is asked: the request holds a real configuration (its data
directory in ``tmp_path``) and command line, a stand-in target, and a pip that records
the commands it is given.
"""

import io
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pip_accel.accelerator import PipAccelerator
from pip_accel.builds.settings import BuildSettings
from pip_accel.config import Config
from pip_accel.environment import TargetEnvironment
from pip_accel.install.unpacker import BackgroundUnpacker
from pip_accel.pip.command_line import parse_install
from pip_accel.pip.runner import Pip
from pip_accel.plan.plan import PlannedWheel
from pip_accel.report.progress import Progress
from pip_accel.request import InstallRequest

from support.fixtures import make_wheel, pure_project


class RecordingPip(Pip):
    """A pip that runs nothing and records each command."""

    def __init__(self) -> None:
        """Record into :attr:`commands`."""
        super().__init__(None)
        self.commands: list[list[str]] = []

    def run(
        self, args: Sequence[str], env: dict[str, str] | None = None, spinner: str | None = None
    ) -> str:
        """Record the command."""
        self.commands.append(list(args))
        return ""


def accelerator(
    tmp_path: Path, args: list[str], progress: Progress | None = None
) -> tuple[PipAccelerator, RecordingPip]:
    """An accelerator for the command line ``args``, with a recording pip."""
    config = Config(overrides={"data-directory": str(tmp_path / "data")}, environ={})
    target = cast(TargetEnvironment, SimpleNamespace(cache_tag="cpython-311"))
    pip = RecordingPip()
    return PipAccelerator(InstallRequest(config, parse_install(args), target, pip), progress), pip


def test_no_stored_plan_with_upgrade_or_a_remote_requirements_file(tmp_path: Path) -> None:
    """``-U`` asks the index, and a file named by URL may change unseen: no plan cache."""
    assert accelerator(tmp_path, ["-U", "demo"])[0]._plan_cache() is None
    remote = ["-r", "https://127.0.0.1:9/requirements.txt"]
    assert accelerator(tmp_path, remote)[0]._plan_cache() is None


def test_a_downloaded_archive_is_counted_and_handed_to_the_unpacker(tmp_path: Path) -> None:
    """Each archive goes to the progress line and, as a wheel, to the background unpacker."""
    progress = Progress(io.StringIO(), live=False)
    accel, _ = accelerator(tmp_path, ["demo"], progress)
    handed: list[Path] = []
    accel.unpacker = cast(BackgroundUnpacker, SimpleNamespace(add=handed.append))
    archive = make_wheel(tmp_path / "made", "demo", "1.0", pure_project("demo", "1.0"))
    accel._on_archive(archive)
    assert progress.downloads == 1 and progress.bytes == archive.stat().st_size
    assert handed == [archive]


def test_with_target_the_wheels_go_to_pip_as_pins_on_a_private_find_links(
    tmp_path: Path,
) -> None:
    """pip installs the wheels by name and version, with the user's install options, from a
    directory of links (so pip records no direct reference to pip-accel's cache)."""
    accel, pip = accelerator(tmp_path, ["--target", str(tmp_path / "t"), "--no-compile", "demo"])
    made = make_wheel(tmp_path / "made", "demo", "1.0", pure_project("demo", "1.0"))
    status = made.stat()
    wheel = PlannedWheel("demo", "1.0", True, str(made), status.st_size, status.st_mtime_ns)
    accel._hand_wheels_to_pip([wheel])
    (command,) = pip.commands
    assert command[:2] == ["install", "--no-deps"]
    assert "--target" in command and "--no-compile" in command and command[-1] == "demo==1.0"
    links = Path(command[command.index("--find-links") + 1])
    assert not links.exists(), "the private directory of links is removed afterwards"
    assert accel.summary.installed == 1 and accel.summary.by_pip == 0


def test_a_plan_cache_is_keyed_by_the_build_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The variables of build-environment that are set are handed to the plan cache."""
    accel, _ = accelerator(tmp_path, ["demo"])
    accel.settings = BuildSettings(environment={"CFLAGS": "-O0"})
    handed: list[object] = []

    def plan_cache(*args: object) -> None:
        handed.append(args[-1])

    monkeypatch.setattr("pip_accel.accelerator.PlanCache", plan_cache)
    accel._plan_cache()
    assert handed == [{"CFLAGS": "-O0"}]


def absent_wheel(accel: PipAccelerator, sha256: str = "a" * 64) -> PlannedWheel:
    """A wheel of a fleet's plan named by its sha256 alone: not in the data directory."""
    path = accel.config.source_index / "demo-1.0-py3-none-any.whl"
    return PlannedWheel("demo", "1.0", True, str(path), 0, 0, None, sha256)


def test_a_plan_with_absent_wheels_is_used_while_their_trees_are_here(tmp_path: Path) -> None:
    """One check per absent wheel: its tree's directory; a run that needs the wheel files
    (``--dry-run``, ``--report``, ``--target``) does not use such a plan."""
    accel, _ = accelerator(tmp_path, ["demo"])
    item = absent_wheel(accel)
    assert not accel._trees_of_absent([item]), "its tree is gone"
    accel.trees.location(Path(item.wheel), item.sha256).mkdir(parents=True)
    assert accel._trees_of_absent([item])
    dry, _ = accelerator(tmp_path, ["--dry-run", "demo"])
    assert not dry._trees_of_absent([item]), "--dry-run reads the wheel's metadata"


def test_a_wheel_needed_after_all_is_brought_by_the_fleet_or_is_a_clear_error(
    tmp_path: Path,
) -> None:
    """The tree store asks for an absent wheel of the plan: the fleet fetches it; without a
    fleet (no shared cache) the run stops with a line that says what to do."""
    from pip_accel.exceptions import InstallError
    from pip_accel.fleet.fleet import Fleet

    accel, _ = accelerator(tmp_path, ["demo"])
    item = absent_wheel(accel)
    accel.absent = {Path(item.wheel): item}
    brought: list[PlannedWheel] = []

    def bring(wheel: PlannedWheel) -> bool:
        brought.append(wheel)
        return True

    accel.cache = cast(Any, SimpleNamespace())  # the backends are loaded
    accel.fleet = cast(Fleet, SimpleNamespace(bring=bring))
    assert accel.trees.fetch_wheel is not None
    accel.trees.fetch_wheel(Path(item.wheel))
    assert brought == [item]
    accel.fleet = None
    with pytest.raises(InstallError, match="not in the data directory and the shared cache"):
        accel.trees.fetch_wheel(Path(item.wheel))
    accel.trees.fetch_wheel(tmp_path / "other-1.0-py3-none-any.whl")  # not the plan's: nothing
