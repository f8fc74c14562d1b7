"""``pip-accel --help`` through the real command: pip-accel's usage lines and pip's text."""

import sys

import pytest

from pip_accel.cli import help

from support.commands import pip_accel_cmd, run

pytestmark = pytest.mark.every_pip  # pip-accel's help shows pip's own options

GENERAL: list[list[str]] = [[], ["--help"], ["-h"], ["help"], ["-v"], ["--isolated", "help"]]
"""Command lines that print the general help."""


def test_real_command_prints_pip_accels_help(isolated_env: dict[str, str]) -> None:
    """The console script and ``python -m pip_accel`` print the same help, naming pip-accel."""
    env = {**isolated_env, "COLUMNS": "200"}
    general = [run([*pip_accel_cmd(), *args], env, check=True).stdout for args in GENERAL]
    assert len(set(general)) == 1
    assert f"cache                       {help.CACHE_SUMMARY}" in general[0]
    module = [sys.executable, "-m", "pip_accel"]
    for command in ([*module, "install", "--help"], [*pip_accel_cmd(), "help", "install"]):
        text = run(command, env, check=True).stdout
        assert "  pip-accel install [options] <requirement specifier>" in text, text
        assert "-m pip" not in text
