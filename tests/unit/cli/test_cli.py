"""Unit tests of ``pip_accel.cli.main``: what the command does with its arguments; its exit codes.

``main`` runs in-process with the work behind it replaced: ``pass_through`` (pip itself)
records how it was called, and ``accelerate`` (the install, whatever its arguments) fails
as told. The
configuration reads a home directory and data directory in ``tmp_path`` only. A write
that the machine refused (a full disk, a denied write in the data directory) is one line
and exit 1; other OS errors, and the warnings of libraries, are checked here too.
"""

import errno
import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from pip_accel import __version__, interrupts
from pip_accel.cli import main as cli
from pip_accel.cli.main import setup_logging
from pip_accel.config import DEFAULT_LOG_FORMAT
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


def test_library_warnings_become_log_lines(
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A library's warning is one of pip-accel's WARNING lines, without Python's source line."""
    text = "Certificate for example.org has no subjectAltName, falling back to check for a CN."
    monkeypatch.setattr("pip_accel.cli.main.coloredlogs.install", lambda **kwargs: None)
    with warnings.catch_warnings(), caplog.at_level(logging.INFO, logger="pip_accel"):
        warnings.simplefilter("always")
        setup_logging(DEFAULT_LOG_FORMAT, "INFO", 0)
        warnings.warn(text, RuntimeWarning, stacklevel=1)
    records = [(record.name, record.levelno, record.getMessage()) for record in caplog.records]
    assert records == [("pip_accel.warnings", logging.WARNING, f"RuntimeWarning: {text}")]
    assert capsys.readouterr().err == ""


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data directory of an in-process ``run_install``, whose log goes to caplog only."""
    for variable in [name for name in os.environ if name.startswith("PIP_ACCEL_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PIP_ACCEL_CACHE", str(tmp_path / "data"))
    monkeypatch.setattr("pip_accel.cli.main.coloredlogs.install", lambda **kwargs: None)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    return tmp_path / "data"


def run_failing(monkeypatch: pytest.MonkeyPatch, error: OSError) -> int:
    """Run ``pip-accel install purepkg`` in this process, the install raising ``error``."""

    def accelerate(*args: object) -> None:
        raise error

    monkeypatch.setattr(cli, "accelerate", accelerate)
    return cli.run_install(["install", "purepkg"])


def error_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages that pip-accel logged at ERROR."""
    return [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]


@pytest.mark.parametrize(
    ("number", "filename", "expected"),
    [
        (errno.ENOSPC, "trees/x.py", "No space left on device while writing {data}/trees/x.py:"),
        (errno.ENOSPC, None, "No space left on device while writing {data}:"),
        (errno.EDQUOT, "/elsewhere/y", "Disk quota exceeded while writing /elsewhere/y:"),
        (errno.EACCES, "trees/x.py", "Permission denied writing {data}/trees/x.py:"),
        (errno.EROFS, "plans", "Permission denied writing {data}/plans (Read-only file system):"),
    ],
    ids=["full", "full-no-filename", "quota", "denied", "read-only"],
)
def test_failed_write_is_one_line(
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    number: int,
    filename: str | None,
    expected: str,
) -> None:
    """A write that the machine refused is named with its path and what to do, exit 1."""
    path = None if filename is None else str(data / filename)  # an absolute name stays
    error = OSError(number, os.strerror(number), *([path] if path else []))
    assert run_failing(monkeypatch, error) == 1
    (message,) = error_messages(caplog)
    assert message.startswith(expected.format(data=data)), message
    assert "$PIP_ACCEL_CACHE" in message and message.endswith("then run pip-accel again.")


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(errno.EACCES, "Permission denied", "/usr/lib/python3/site-packages/x"),
        FileNotFoundError(errno.ENOENT, "No such file or directory", "trees/x"),
    ],
    ids=["denied-outside-data", "missing"],
)
def test_other_os_errors_stay_bugs(
    data: Path, monkeypatch: pytest.MonkeyPatch, error: OSError
) -> None:
    """Other errors, and a denied write outside the data directory, keep their traceback."""
    with pytest.raises(OSError) as raised:
        run_failing(monkeypatch, error)
    assert raised.value is error
