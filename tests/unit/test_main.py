"""Unit test of ``pip_accel.__main__``: ``python -m pip_accel`` is the command line."""

import runpy
import sys

import pytest


def test_module_runs_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without arguments it prints the usage and exits with status 0, as ``pip-accel`` does."""
    monkeypatch.setattr(sys, "argv", ["pip-accel"])
    with pytest.raises(SystemExit) as raised:
        runpy.run_module("pip_accel", run_name="__main__")
    assert raised.value.code == 0
    assert "pip-accel" in capsys.readouterr().out
