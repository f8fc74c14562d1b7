"""Unit tests of :mod:`pip_accel.accelerator`: the order of an install's steps, with stand-ins.

No pip runs and no index is asked: the request holds a real configuration (its data
directory in ``tmp_path``) and command line, a stand-in target, and a pip that records
the commands it is given.
"""

from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from pip_accel.accelerator import PipAccelerator, StoredPlanOnly
from pip_accel.config import Config
from pip_accel.environment import TargetEnvironment
from pip_accel.parts import InstallParts
from pip_accel.pip.command_line import parse_install
from pip_accel.pip.runner import Pip
from pip_accel.plan.plan import PlannedWheel
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


def request(tmp_path: Path, args: list[str], pip: Pip | None = None) -> InstallRequest:
    """A request for the command line ``args`` (a stand-in target, data in ``tmp_path``)."""
    config = Config(overrides={"data-directory": str(tmp_path / "data")}, environ={})
    info = {"version": "3.11", "implementation": "cpython", "cache_tag": "cpython-311",
            "tags": ["py3-none-any"], "in_venv": True, "markers": {},
            "sys_path": [str(tmp_path / "site")]}  # fmt: skip
    target = cast(TargetEnvironment, SimpleNamespace(cache_tag="cpython-311", info=info))
    return InstallRequest(config, parse_install(args), target, pip or RecordingPip())


def accelerator(
    tmp_path: Path, args: list[str], stored_only: bool = False
) -> tuple[PipAccelerator, RecordingPip]:
    """An accelerator for the command line ``args``, with a recording pip."""
    pip = RecordingPip()
    parts = InstallParts(request(tmp_path, args, pip))
    return PipAccelerator(parts, stored_only), pip


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
    summary = accel.parts.summary
    assert summary.installed == 1 and summary.by_pip == 0


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
    accel.parts.trees.location(Path(item.wheel), item.sha256).mkdir(parents=True)
    assert accel._trees_of_absent([item])
    dry, _ = accelerator(tmp_path, ["--dry-run", "demo"])
    assert not dry._trees_of_absent([item]), "--dry-run reads the wheel's metadata"


def test_a_stored_plan_is_returned_as_kept_and_a_warm_start_without_one_changes_nothing(
    tmp_path: Path,
) -> None:
    """The plan step returns the stored plan, marked kept, without starting an unpacker; a
    warm start with no stored plan stops before anything is loaded or changed."""
    made = make_wheel(tmp_path / "made", "demo", "1.0", pure_project("demo", "1.0"))
    status = made.stat()
    wheel = PlannedWheel("demo", "1.0", True, str(made), status.st_size, status.st_mtime_ns)
    warm, _ = accelerator(tmp_path, ["demo==1.0"], stored_only=True)
    with pytest.raises(StoredPlanOnly):
        warm._plan()
    assert warm.parts.fleet is None and warm.parts._backends is None, "no backend was loaded"
    plans = warm.parts.plans
    assert plans is not None
    plans.store([wheel])
    chosen = warm._plan()
    assert chosen.wheels == [wheel] and chosen.handed_to_pip == []
    assert chosen.kept and chosen.unpacker is None
