"""Unit tests of ``pip_accel.cli.main``: what the command does with its arguments; its exit codes.

``main`` runs in-process with the work behind it replaced: ``pass_through`` (pip itself)
records how it was called, and ``accelerate`` (the install, whatever its arguments) fails
as told. The
configuration reads a home directory and data directory in ``tmp_path`` only.
"""

import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pip_accel import __version__, interrupts
from pip_accel.cli import main as cli
from pip_accel.exceptions import BuildError, ConfigurationError, PipFailedError


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A home and data directory of the test's own; pip-accel's logger restored afterwards."""
    for name in [name for name in os.environ if name.startswith("PIP_ACCEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_ACCEL_CACHE", str(tmp_path / "data"))
    logger = logging.getLogger("pip_accel")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:], logger.propagate = handlers, propagate
    logger.setLevel(level)


@pytest.fixture
def passed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], Path | None]]:
    """The commands handed to pip (its exit code is 3), instead of running it."""
    calls: list[tuple[list[str], Path | None]] = []

    def pass_through(argv: list[str], target: Path | None = None) -> int:
        calls.append((list(argv), target))
        return 3

    monkeypatch.setattr(cli, "pass_through", pass_through)
    return calls


def test_no_arguments_print_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """``pip-accel`` alone prints how to use it (the general help, as pip) and exits with 0."""
    assert cli.main([]) == 0
    assert "pip-accel install [options] <requirement specifier>" in capsys.readouterr().out


def test_version_names_pip_accel_and_pip(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` gives both versions, without running pip."""
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith(f"pip-accel {__version__} (pip ")


def test_bad_option_exits_with_pips_usage_error() -> None:
    """An option that pip does not know ends with exit code 2, as with pip."""
    with pytest.raises(SystemExit) as raised:
        cli.main(["install", "--no-such-option", "demo"])
    assert raised.value.code == 2


def test_other_commands_go_to_pip_with_their_exit_code(
    passed: list[tuple[list[str], Path | None]],
) -> None:
    """``pip-accel list`` runs pip with the same arguments and returns pip's exit code."""
    assert cli.main(["list", "--format", "json"]) == 3
    assert passed == [(["list", "--format", "json"], None)]


def test_active_venv_is_named_for_other_commands(
    passed: list[tuple[list[str], Path | None]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In an active virtual environment pip is pointed at it."""
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    cli.main(["freeze"])
    assert passed == [(["freeze"], tmp_path / "venv" / "bin" / "python")]


def test_handed_over_install_has_python_in_front(
    passed: list[tuple[list[str], Path | None]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An install handed to pip goes whole; a ``--python`` after ``install`` is the target."""
    monkeypatch.setattr(cli, "HANDED_OVER", {"upgrade": "a reason"})
    python = str(tmp_path / "venv" / "bin" / "python")
    assert cli.main(["install", "--python", python, "--dry-run", "-U", "demo"]) == 3
    assert passed == [(["install", "--dry-run", "-U", "demo"], Path(python))]


def test_dry_run_and_report_are_pip_accels_own(
    passed: list[tuple[list[str], Path | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--dry-run`` and ``--report`` describe pip-accel's plan: the install runs, not pip."""
    accelerated: list[list[str]] = []
    monkeypatch.setattr(cli, "accelerate", lambda config, line, *rest: accelerated.append(
        line.arguments))  # fmt: skip
    assert cli.main(["install", "--dry-run", "--report", "-", "demo"]) == 0
    assert (accelerated, passed) == ([["demo"]], [])


def test_expected_failure_is_one_line_and_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A PipAcceleratorError ends the install with its message and exit code 1."""

    def fail(*args: object) -> None:
        raise ConfigurationError("the data directory is a file")

    monkeypatch.setattr(cli, "accelerate", fail)
    assert cli.main(["install", "demo"]) == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["the data directory is a file"]


def test_interruption_exits_with_128_plus_the_signal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ctrl-C during an install exits with 130 and says that half-done work was undone."""

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "accelerate", interrupt)
    monkeypatch.setattr(cli, "install_handlers", lambda: None)
    monkeypatch.setattr(interrupts, "_interrupted", threading.Event())  # noted by main, reset
    assert cli.main(["install", "demo"]) == 130
    assert interrupts.interrupted()
    assert "Interrupted by SIGINT" in caplog.text


def test_unexpected_os_error_stays_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """An OSError that is not about the data directory is raised, with its traceback."""

    def fail(*args: object) -> None:
        raise OSError(5, "Input/output error", "/somewhere/else")

    monkeypatch.setattr(cli, "accelerate", fail)
    with pytest.raises(OSError, match="Input/output error"):
        cli.main(["install", "demo"])


def test_build_output_shown_once(caplog: pytest.LogCaptureFixture) -> None:
    """pip's failed-build output is shown for a pip failure, not again for a BuildError."""
    output = "Collecting demo\n  error: subprocess-exited-with-error\n"
    cli.show_build_output(ConfigurationError("no output here"))
    cli.show_build_output(BuildError("failed", output, project="demo"))
    assert caplog.records == []

    cli.show_build_output(PipFailedError("failed", output))
    assert "its output follows" in caplog.text


def test_main_reads_sys_argv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``argv``, the process's arguments are read."""
    monkeypatch.setattr(sys, "argv", ["pip-accel", "--version"])
    assert cli.main() == 0
    assert "pip-accel" in capsys.readouterr().out
