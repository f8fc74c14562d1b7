"""Unit tests of :mod:`pip_accel.request`: one request, handed to every step, unchanged."""

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from pip_accel.config import Config
from pip_accel.environment import TargetEnvironment
from pip_accel.pip.command_line import parse_install
from pip_accel.pip.runner import Pip
from pip_accel.request import InstallRequest


def test_a_request_holds_its_collaborators_and_cannot_change(tmp_path: Path) -> None:
    """The steps share one request; none of them can swap a collaborator under the others."""
    config = Config(overrides={"data-directory": str(tmp_path)}, environ={})
    target = cast(TargetEnvironment, SimpleNamespace(cache_tag="cpython-311"))
    request = InstallRequest(config, parse_install(["demo"]), target, Pip(None))
    assert request.command_line.arguments == ["demo"] and request.config is config
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.pip = Pip(None)  # type: ignore[misc]


def test_the_requirement_files_are_read_once_per_request(tmp_path: Path) -> None:
    """The first question reads them; a request for another command line reads its own."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("demo==1.0\n")
    config = Config(overrides={"data-directory": str(tmp_path)}, environ={})
    target = cast(TargetEnvironment, SimpleNamespace(cache_tag="cpython-311"))
    request = InstallRequest(config, parse_install(["-r", str(requirements)]), target, Pip(None))
    assert request.requirements is request.requirements
    assert request.requirements.files[0].lines == ("demo==1.0",)
    other = dataclasses.replace(request, command_line=parse_install(["demo"]))
    assert other.requirements.files == ()
