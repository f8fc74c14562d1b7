"""pip-accel's help: pip's text under pip-accel's usage lines, ``cache`` described as its own.

The unit tests run ``cli.main`` in-process; the end-to-end test runs the real command (as
the console script and as ``python -m pip_accel``, whose usage lines pip would name
``python -m pip``).
"""

import pytest

from pip_accel.cli import help
from pip_accel.cli import main as cli

PIP_CACHE = "Inspect and manage pip's wheel cache."
"""pip's own summary of its ``cache`` command."""

GENERAL: list[list[str]] = [[], ["--help"], ["-h"], ["help"], ["-v"], ["--isolated", "help"]]
"""Command lines that print the general help."""


def output_of(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """What ``pip-accel ARGS`` prints, after checking that it exits with 0."""
    assert cli.main(list(args)) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("args", GENERAL[1:])
def test_help_options_and_words_print_the_same_general_help(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """``--help``, ``-h``, ``help`` and no command at all print one and the same text."""
    assert output_of(capsys, *args) == output_of(capsys)


def test_general_help_lists_pips_commands_with_pip_accels_cache(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pip's commands and options, ``cache`` as pip-accel's, usage and differences pip-accel's."""
    text = output_of(capsys, "--help")
    assert "pip-accel install [options] <requirement specifier>" in text
    assert "pip-accel cache dir|info|list|remove|prune|purge|keygen" in text
    assert "-m pip" not in text
    assert PIP_CACHE not in text
    assert help.CACHE_SUMMARY in text
    for command in ("install", "download", "freeze", "wheel", "--proxy", "--python"):
        assert command in text
    assert "How pip-accel differs from pip:" in text


@pytest.mark.parametrize(
    "line",
    [
        f"cache                       {PIP_CACHE}",  # pip 23
        f"[optparse.longargs]cache                      [/] {PIP_CACHE}",  # pip 24 and newer
    ],
)
def test_own_cache_replaces_pips_summary_only(line: str) -> None:
    """Whatever pip's markup, only the summary of ``cache`` changes, its name and column stay."""
    commands = f"\ninstall    Install packages.\n{line}\nhash    Compute hashes."
    replaced = help.own_cache(commands).splitlines()
    assert replaced[2] == line.replace(PIP_CACHE, help.CACHE_SUMMARY)
    assert replaced[:2] + replaced[3:] == commands.splitlines()[:2] + commands.splitlines()[3:]


def test_help_install_is_pips_under_pip_accels_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """``help install`` and ``install --help`` print pip's install options, usage pip-accel's."""
    text = output_of(capsys, "help", "install")
    assert "pip-accel install [options] -r <requirements file>" in text
    assert "--require-hashes" in text
    assert "-m pip" not in text
    with pytest.raises(SystemExit) as exited:
        cli.main(["install", "--help"])
    assert exited.value.code == 0
    own = capsys.readouterr().out  # the defaults of the general options may come from pip's config
    assert own.partition("General Options")[0] == text.partition("General Options")[0]


def test_help_of_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """``help cache`` is pip-accel's own; ``help freeze`` pip's, usage naming pip-accel."""
    assert output_of(capsys, "help", "cache").startswith("usage: pip-accel cache")
    assert "pip-accel freeze [options]" in output_of(capsys, "help", "freeze")


def test_help_of_an_unknown_command_is_pips_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip says that it has no such command (and may guess one), with its exit code."""
    calls: list[list[str]] = []

    def pass_through(argv: list[str], target: object = None) -> int:
        calls.append(argv)
        return 1

    monkeypatch.setattr(cli, "pass_through", pass_through)
    assert help.print_command_help(["instal"]) is False
    assert cli.main(["help", "instal"]) == 1
    assert calls == [["help", "instal"]]
