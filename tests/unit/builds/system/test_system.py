"""Unit tests of ``pip_accel.builds.system``: failed builds explained, system packages installed.

The package manager is a :class:`Platform` whose commands are small shell commands written
here (``true``, ``printf``, ``sh -c``), so nothing on the machine is listed or installed;
``install_command`` is replaced so that the tests behave alike as root and as a user.
"""

import contextlib
import io
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import pip_accel.builds.system
from pip_accel.builds.system import SystemDependencies, ask
from pip_accel.builds.system.platforms import Platform
from pip_accel.config import Config
from pip_accel.exceptions import (
    BuildError,
    MissingSystemPackagesError,
    PipFailedError,
    SystemPackageInstallError,
)

MISSING_HEADER = "lz4ext.c:3:10: fatal error: lz4.h: No such file or directory\n"
"""What gcc says when a header is missing."""


class Terminal(io.StringIO):
    """Standard input that is a terminal, with the user's answer ready to read."""

    def isatty(self) -> bool:
        """Always a terminal."""
        return True


def platform(tmp_path: Path, installed: str = "", install: str = "true") -> Platform:
    """A package manager that applies, lists ``installed`` and installs with ``install``."""
    log = tmp_path / "installed.log"
    settings = {
        "name": "Testix",
        "applies": "true",
        "installed": f"printf '{installed}'",
        "install": f"sh -c '{install}; echo \"$@\" >> {log}' install",
        "install-environment": "TESTIX=1",
    }
    tables: dict[str, dict[str, tuple[str, ...]]] = {
        "projects": {"lz4ext": ("liblz4-dev",)},
        "headers": {"lz4.h": ("liblz4-dev",)},
    }
    return Platform("testix", settings, tables)


def dependencies(
    tmp_path: Path, auto_install: str | None, stdin: io.StringIO | None = None, **kwargs: str
) -> SystemDependencies:
    """The system dependencies of a configuration with ``auto-install`` set as given."""
    overrides = {"data-directory": str(tmp_path / "data")}
    if auto_install is not None:
        overrides["auto-install"] = auto_install
    config = Config(overrides=overrides, environ={})
    return SystemDependencies(config, [platform(tmp_path, **kwargs)], stdin or io.StringIO())


@pytest.fixture(autouse=True)
def without_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The install command runs as is, as it would for root."""

    def as_root(platform: Platform, packages: Sequence[str]) -> tuple[list[str], str]:
        return [*platform.install_command, *packages], ""

    monkeypatch.setattr(pip_accel.builds.system, "install_command", as_root)


def installed_log(tmp_path: Path) -> str:
    """What the fake package manager was asked to install."""
    path = tmp_path / "installed.log"
    return path.read_text() if path.exists() else ""


def test_missing_header_is_installed_when_allowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """auto-install on: the package that provides lz4.h is installed, once, and logged."""
    deps = dependencies(tmp_path, "true")
    error = BuildError("failed", MISSING_HEADER, project="lz4ext")
    with caplog.at_level(logging.INFO):
        assert deps.install_missing(error)
    assert installed_log(tmp_path) == "liblz4-dev\n"
    assert "lz4ext is known to need it; it provides the header lz4.h" in caplog.text
    assert "Installed the system package liblz4-dev" in caplog.text


def test_refused_when_auto_install_is_off(tmp_path: Path) -> None:
    """auto-install off: pip-accel stops with the command that would install the package."""
    deps = dependencies(tmp_path, "false")
    with pytest.raises(MissingSystemPackagesError) as raised:
        deps.install_missing(BuildError("failed", MISSING_HEADER, project="lz4ext"))
    message = str(raised.value)
    assert "Building lz4ext needs the system package liblz4-dev" in message
    assert "the auto-install option is off" in message
    assert "liblz4-dev`" in message
    assert installed_log(tmp_path) == ""


def test_no_terminal_means_no_question(tmp_path: Path) -> None:
    """auto-install unset and no terminal: refused, saying why."""
    deps = dependencies(tmp_path, None)
    with pytest.raises(MissingSystemPackagesError, match="no terminal to ask on"):
        deps.install_missing(BuildError("failed", MISSING_HEADER, project="lz4ext"))


@pytest.mark.parametrize(("answer", "installs"), [("yes\n", True), ("\n", False)])
def test_the_user_is_asked_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], answer: str, installs: bool
) -> None:
    """auto-install unset on a terminal: "yes" installs, the default (No) refuses."""
    deps = dependencies(tmp_path, None, Terminal(answer))
    error = BuildError("failed", MISSING_HEADER, project="lz4ext")
    if installs:
        assert deps.install_missing(error)
    else:
        with pytest.raises(MissingSystemPackagesError, match="you answered no"):
            deps.install_missing(error)
    assert "Install with `" in capsys.readouterr().err
    assert installed_log(tmp_path) == ("liblz4-dev\n" if installs else "")


def test_installed_packages_are_not_installed_again(tmp_path: Path) -> None:
    """A needed package that is installed already explains nothing: False, no install."""
    deps = dependencies(tmp_path, "true", installed="liblz4-dev\\n")
    assert not deps.install_missing(BuildError("failed", MISSING_HEADER, project="lz4ext"))
    assert installed_log(tmp_path) == ""


def test_failures_that_are_no_builds_are_left_alone(tmp_path: Path) -> None:
    """A pip failure without a failed build step is not the system's fault."""
    deps = dependencies(tmp_path, "true")
    assert not deps.install_missing(PipFailedError("No matching distribution", "ERROR: no\n"))


def test_pips_output_names_the_project(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A plain pip failure with a failed build: the project is read from pip's output."""
    output = f"Collecting lz4ext\n{MISSING_HEADER}  error: subprocess-exited-with-error\n"
    deps = dependencies(tmp_path, "false")
    with pytest.raises(MissingSystemPackagesError, match="Building lz4ext needs"):
        deps.install_missing(PipFailedError("failed", output))
    assert "its output follows" in caplog.text  # shown, since no builder showed it


def test_unknown_file_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A missing file that no table names is logged, and explains nothing."""
    output = "x.c:1:10: fatal error: nothing.h: No such file or directory\n"
    deps = dependencies(tmp_path, "true")
    assert not deps.install_missing(BuildError("failed", output, project="other"))
    assert "knows no Testix package that provides it" in caplog.text


def test_no_platform_here(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Without a package manager that applies, nothing can be explained."""
    config = Config(overrides={"data-directory": str(tmp_path)}, environ={})
    alien = Platform("alien", {"name": "Alien", "applies": "false", "installed": "true"})
    deps = SystemDependencies(config, [alien], io.StringIO())
    with caplog.at_level(logging.INFO):
        assert not deps.install_missing(BuildError("failed", MISSING_HEADER, project="lz4ext"))
    assert "knows no package manager here" in caplog.text


def test_failed_install_shows_the_output(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An install command that fails raises with its exit code and logs its output."""
    deps = dependencies(tmp_path, "true", install="echo disk on fire; exit 3")
    with pytest.raises(SystemPackageInstallError, match="exited with code 3"):
        deps.install_missing(BuildError("failed", MISSING_HEADER, project="lz4ext"))
    assert "disk on fire" in caplog.text


def test_ask_accepts_y_and_yes_only(capsys: pytest.CaptureFixture[str]) -> None:
    """Only "y" or "yes" (any case) agree; the question goes to standard error."""
    assert ask("Install?", io.StringIO("Y\n"))
    assert ask("Install?", io.StringIO("yes\n"))
    assert not ask("Install?", io.StringIO("yep\n"))
    assert capsys.readouterr().err == "Install? [y/N] " * 3


def test_default_stdin_is_standard_input(tmp_path: Path) -> None:
    """Without a stdin of its own, the question is asked on ``sys.stdin``."""
    config = Config(overrides={"data-directory": str(tmp_path)}, environ={})
    assert SystemDependencies(config, []).stdin is sys.stdin


def test_the_question_is_asked_in_quiet(tmp_path: Path) -> None:
    """The live progress line stops while the question waits for its answer."""
    quiet: list[str] = []

    @contextlib.contextmanager
    def recording() -> Iterator[None]:
        quiet.append("entered")
        yield
        quiet.append("left")

    config = Config(overrides={"data-directory": str(tmp_path / "data")}, environ={})
    deps = SystemDependencies(config, [platform(tmp_path)], Terminal("y\n"), quiet=recording)
    assert deps.install_missing(BuildError("failed", MISSING_HEADER, project="lz4ext"))
    assert quiet == ["entered", "left"]
