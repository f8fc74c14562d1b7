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
from pathlib import Path

from support.commands import describe, pip_accel_cmd, run
from support.fixtures import make_sdist, pyproject
from support.index import PackageIndex
from support.standins import calls, standins
from support.venvs import VenvFactory, installed_packages

NEEDS_PG_CONFIG = (
    "import shutil\nfrom setuptools import setup\n"
    "if shutil.which('pg_config') is None:\n"
    "    raise SystemExit('Error: pg_config executable not found.')\n"
    "setup()\n"
)
"""A setup.py that fails at metadata time as psycopg2's does, with psycopg2's words."""

NEEDS_LIBPQ_SILENTLY = NEEDS_PG_CONFIG.replace("Error: pg_config executable not found.", "no!")
"""A setup.py that fails without saying why: only the [projects] table can explain it."""


def serve(index: PackageIndex, tmp_path: Path, name: str, setup_py: str) -> None:
    """Add an sdist ``name`` 1.0 with this setup.py to the index."""
    files = {"pyproject.toml": pyproject(name, "1.0", packages=[]), "setup.py": setup_py}
    index.add(make_sdist(tmp_path / "sdists", name, "1.0", files))


def accel_with(
    env: dict[str, str], bin_dir: Path, venv_python: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run pip-accel with only ``bin_dir`` on PATH and no terminal on standard input."""
    env = {**env, "PATH": str(bin_dir)}
    command = [*pip_accel_cmd(), "install", "--python", str(venv_python), *args]
    return run(command, env, input="")


def test_fedora_installs_what_the_output_names_and_builds_again(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """dnf (stand-in) installs libpq-devel for the missing pg_config, then the build works."""
    serve(package_index, tmp_path, "pgneeder", NEEDS_PG_CONFIG)
    bin_dir = standins(tmp_path / "bin", "dnf", "rpm")
    env = {**isolated_env, "PIP_ACCEL_AUTO_INSTALL": "true"}
    venv = make_venv()
    result = accel_with(env, bin_dir, venv.python, "-i", package_index.url, "pgneeder")
    assert result.returncode == 0, describe(result)
    assert "dnf install --assumeyes libpq-devel" in calls(bin_dir)
    assert r"rpm --query --all --queryformat [%{PROVIDENAME}\n]" in calls(bin_dir)
    assert (
        "The system package libpq-devel is not installed: it provides the command pg_config."
    ) in result.stderr
    assert "Building again, now that the missing system packages are installed." in result.stderr
    assert installed_packages(venv, isolated_env) == {"pgneeder": "1.0"}


def test_alpine_installs_what_the_project_table_names(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """A build that says nothing useful: apk (stand-in) adds what [projects] names for it."""
    serve(package_index, tmp_path, "psycopg2", NEEDS_LIBPQ_SILENTLY)
    bin_dir = standins(tmp_path / "bin", "apk")
    env = {**isolated_env, "PIP_ACCEL_AUTO_INSTALL": "yes"}
    venv = make_venv()
    result = accel_with(env, bin_dir, venv.python, "-i", package_index.url, "psycopg2")
    assert result.returncode == 0, describe(result)
    assert "psycopg2 is known to need it" in result.stderr
    assert calls(bin_dir)[-1] == "apk add libpq-dev"
    assert installed_packages(venv, isolated_env) == {"psycopg2": "1.0"}


def test_refusal_names_the_package_and_the_command(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """auto-install off: nothing installed, one last line with the package and the command."""
    serve(package_index, tmp_path, "pgneeder", NEEDS_PG_CONFIG)
    bin_dir = standins(tmp_path / "bin", "dnf", "rpm")
    env = {**isolated_env, "PIP_ACCEL_AUTO_INSTALL": "false"}
    venv = make_venv()
    result = accel_with(env, bin_dir, venv.python, "-i", package_index.url, "pgneeder")
    assert result.returncode == 1, describe(result)
    last = result.stderr.splitlines()[-1]
    assert "Building pgneeder needs the system package libpq-devel" in last
    assert "the auto-install option is off" in last
    assert "`dnf install --assumeyes libpq-devel`" in last
    assert "Error: pg_config executable not found." in result.stderr  # the build's output
    assert "Traceback" not in result.stderr
    assert not any(call.startswith("dnf install") for call in calls(bin_dir))
    assert installed_packages(venv, isolated_env) == {}


def test_second_failure_shows_the_new_output(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """The package is installed, the build fails again: its new output, exit 1, no third try."""
    setup_py = NEEDS_PG_CONFIG.replace("setup()", "raise SystemExit('libpq is too old, says pg')")
    serve(package_index, tmp_path, "pgneeder", setup_py)
    bin_dir = standins(tmp_path / "bin", "dnf", "rpm")
    env = {**isolated_env, "PIP_ACCEL_AUTO_INSTALL": "on"}
    result = accel_with(env, bin_dir, make_venv().python, "-i", package_index.url, "pgneeder")
    assert result.returncode == 1, describe(result)
    assert "libpq is too old, says pg" in result.stderr
    assert [call for call in calls(bin_dir) if " install " in call] == [
        "dnf install --assumeyes libpq-devel"
    ]
    assert "Traceback" not in result.stderr


def test_no_terminal_means_no_install(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """auto-install unset and standard input no terminal: no question, no install."""
    serve(package_index, tmp_path, "pgneeder", NEEDS_PG_CONFIG)
    bin_dir = standins(tmp_path / "bin", "apk")
    venv = make_venv()
    result = accel_with(isolated_env, bin_dir, venv.python, "-i", package_index.url, "pgneeder")
    assert result.returncode == 1, describe(result)
    assert "standard input is no terminal to ask on" in result.stderr.splitlines()[-1]
    assert "`apk add libpq-dev`" in result.stderr.splitlines()[-1]
    assert "[y/N]" not in result.stderr
    assert calls(bin_dir) == ["apk --version", "apk info"]


def test_failed_install_shows_the_package_managers_output(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """The package manager fails: its output, then one line, exit 1, no second build."""
    serve(package_index, tmp_path, "pgneeder", NEEDS_PG_CONFIG)
    bin_dir = standins(tmp_path / "bin", "apk")
    env = {**isolated_env, "PIP_ACCEL_AUTO_INSTALL": "1", "STANDIN_FAIL": "1"}
    result = accel_with(env, bin_dir, make_venv().python, "-i", package_index.url, "pgneeder")
    assert result.returncode == 1, describe(result)
    assert "unable to select packages: libpq-dev" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert "Installing the system package libpq-dev failed: `apk add libpq-dev` exited" in last
    assert "Traceback" not in result.stderr
