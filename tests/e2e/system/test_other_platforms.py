"""Fedora's and Alpine's definitions, and the consent rules, with stand-ins for package tools.

This machine runs Debian, so dnf, rpm, apk and apt-file cannot run here: each is replaced
by a stand-in script on PATH (``support.standins``) that logs its arguments, lists the packages
"installed" so far, and "installs" packages by adding them to that list; installing a libpq
package puts a ``pg_config`` stand-in on PATH. The tests with stand-ins run the real
``pip-accel`` command with PATH holding only the stand-ins, so that Debian's own apt-get is
not found and the other definitions apply. Everything else is real: pip, the package index
on 127.0.0.1, the builds.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.commands import describe, pip_accel_cmd, run
from support.fixtures import make_sdist, pyproject
from support.index import PackageIndex
from support.standins import calls, standins
from support.venvs import Venv, VenvFactory, installed_packages

pytestmark = pytest.mark.every_pip  # a failed build's output through pip (the others: pip-accel's)

NEEDS_PG_CONFIG = (
    "import shutil\nfrom setuptools import setup\n"
    "if shutil.which('pg_config') is None:\n"
    "    raise SystemExit('Error: pg_config executable not found.')\n"
    "setup()\n"
)
"""A setup.py that fails at metadata time as psycopg2's does, with psycopg2's words."""

NEEDS_LIBPQ_SILENTLY = NEEDS_PG_CONFIG.replace("Error: pg_config executable not found.", "no!")
"""A setup.py that fails without saying why: only the [projects] table can explain it."""


@dataclass
class Attempt:
    """One install with stand-ins of package tools: its result, the tools' calls, the venv."""

    result: subprocess.CompletedProcess[str]
    bin_dir: Path
    venv: Venv
    env: dict[str, str]

    def calls(self) -> list[str]:
        """The command lines the stand-ins were run with."""
        return calls(self.bin_dir)

    def installed(self) -> dict[str, str]:
        """What the venv holds now: name -> version."""
        return installed_packages(self.venv, self.env)


@dataclass
class OtherPlatform:
    """Another distribution's package tools (stand-ins) and a project that needs one of them."""

    env: dict[str, str]
    index: PackageIndex
    make_venv: VenvFactory
    directory: Path

    def install(self, name: str, setup_py: str, tools: list[str], **env: str) -> Attempt:
        """Serve ``name`` 1.0 with this setup.py, install it with only ``tools`` on PATH.

        Standard input is no terminal; ``env`` is added to the tests' environment.
        """
        files = {"pyproject.toml": pyproject(name, "1.0", packages=[]), "setup.py": setup_py}
        self.index.add(make_sdist(self.directory / "sdists", name, "1.0", files))
        bin_dir = standins(self.directory / "bin", *tools)
        venv = self.make_venv()
        command = [*pip_accel_cmd(), "install", "--python", str(venv.python)]
        run_env = {**self.env, **env, "PATH": str(bin_dir)}
        result = run([*command, "-i", self.index.url, name], run_env, input="")
        return Attempt(result, bin_dir, venv, self.env)


@pytest.fixture
def platform(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> OtherPlatform:
    """Stand-ins instead of this machine's package tools, and the fixture index."""
    return OtherPlatform(isolated_env, package_index, make_venv, tmp_path)


def test_fedora_installs_what_the_output_names_and_builds_again(platform: OtherPlatform) -> None:
    """dnf (stand-in) installs libpq-devel for the missing pg_config, then the build works."""
    attempt = platform.install(
        "pgneeder", NEEDS_PG_CONFIG, ["dnf", "rpm"], PIP_ACCEL_AUTO_INSTALL="true"
    )
    result = attempt.result
    assert result.returncode == 0, describe(result)
    assert "dnf install --assumeyes libpq-devel" in attempt.calls()
    assert r"rpm --query --all --queryformat [%{PROVIDENAME}\n]" in attempt.calls()
    assert (
        "The system package libpq-devel is not installed: it provides the command pg_config."
    ) in result.stderr
    assert "Building again, now that the missing system packages are installed." in result.stderr
    assert attempt.installed() == {"pgneeder": "1.0"}


@pytest.mark.once
def test_alpine_installs_what_the_project_table_names(platform: OtherPlatform) -> None:
    """A build that says nothing useful: apk (stand-in) adds what [projects] names for it."""
    attempt = platform.install(
        "psycopg2", NEEDS_LIBPQ_SILENTLY, ["apk"], PIP_ACCEL_AUTO_INSTALL="yes"
    )
    result = attempt.result
    assert result.returncode == 0, describe(result)
    assert "psycopg2 is known to need it" in result.stderr
    assert attempt.calls()[-1] == "apk add libpq-dev"
    assert attempt.installed() == {"psycopg2": "1.0"}


@pytest.mark.once
def test_refusal_names_the_package_and_the_command(platform: OtherPlatform) -> None:
    """auto-install off: nothing installed, one last line with the package and the command."""
    attempt = platform.install(
        "pgneeder", NEEDS_PG_CONFIG, ["dnf", "rpm"], PIP_ACCEL_AUTO_INSTALL="false"
    )
    result = attempt.result
    assert result.returncode == 1, describe(result)
    last = result.stderr.splitlines()[-1]
    assert "Building pgneeder needs the system package libpq-devel" in last
    assert "the auto-install option is off" in last
    assert "`dnf install --assumeyes libpq-devel`" in last
    assert "Error: pg_config executable not found." in result.stderr  # the build's output
    assert "Traceback" not in result.stderr
    assert not any(call.startswith("dnf install") for call in attempt.calls())
    assert attempt.installed() == {}


def test_second_failure_shows_the_new_output(platform: OtherPlatform) -> None:
    """The package is installed, the build fails again: its new output, exit 1, no third try."""
    setup_py = NEEDS_PG_CONFIG.replace("setup()", "raise SystemExit('libpq is too old, says pg')")
    attempt = platform.install("pgneeder", setup_py, ["dnf", "rpm"], PIP_ACCEL_AUTO_INSTALL="on")
    result = attempt.result
    assert result.returncode == 1, describe(result)
    assert "libpq is too old, says pg" in result.stderr
    assert [call for call in attempt.calls() if " install " in call] == [
        "dnf install --assumeyes libpq-devel"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.once
def test_no_terminal_means_no_install(platform: OtherPlatform) -> None:
    """auto-install unset and standard input no terminal: no question, no install."""
    attempt = platform.install("pgneeder", NEEDS_PG_CONFIG, ["apk"])
    result = attempt.result
    assert result.returncode == 1, describe(result)
    assert "standard input is no terminal to ask on" in result.stderr.splitlines()[-1]
    assert "`apk add libpq-dev`" in result.stderr.splitlines()[-1]
    assert "[y/N]" not in result.stderr
    assert attempt.calls() == ["apk --version", "apk info"]


@pytest.mark.once
def test_failed_install_shows_the_package_managers_output(platform: OtherPlatform) -> None:
    """The package manager fails: its output, then one line, exit 1, no second build."""
    attempt = platform.install(
        "pgneeder", NEEDS_PG_CONFIG, ["apk"], PIP_ACCEL_AUTO_INSTALL="1", STANDIN_FAIL="1"
    )
    result = attempt.result
    assert result.returncode == 1, describe(result)
    assert "unable to select packages: libpq-dev" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert "Installing the system package libpq-dev failed: `apk add libpq-dev` exited" in last
    assert "Traceback" not in result.stderr
