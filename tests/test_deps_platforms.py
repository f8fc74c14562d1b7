"""Fedora's and Alpine's definitions, and the consent rules, with stand-ins for package tools.

This machine runs Debian, so dnf, rpm, apk and apt-file cannot run here: each is replaced
by a stand-in script on PATH (``STANDIN`` below) that logs its arguments, lists the packages
"installed" so far, and "installs" packages by adding them to that list; installing a libpq
package puts a ``pg_config`` stand-in on PATH. The tests with stand-ins run the real
``pip-accel`` command with PATH holding only the stand-ins, so that Debian's own apt-get is
not found and the other definitions apply. Everything else is real: pip, the package index
on 127.0.0.1, the builds.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pip_accel.builds.system.analysis import COMMAND, HEADER, MissingFile
from pip_accel.builds.system.platforms import DATA, install_command, read_platform

from fixtures import make_sdist, pyproject
from helpers import PackageIndex, VenvFactory, describe, installed_packages, pip_accel_cmd, run

STANDIN = f"""#!{sys.executable}
'''A stand-in for a package tool in pip-accel's tests (see tests/test_deps_platforms.py).'''
import os, sys
from pathlib import Path

here = Path(__file__).parent
tool, args = Path(sys.argv[0]).name, sys.argv[1:]
with open(here / "calls.log", "a") as log:
    log.write(" ".join([tool, *args]) + "\\n")
installed = here / "installed.txt"
if args == ["--version"]:
    print(tool, "(stand-in)")
elif tool == "rpm" or (tool == "apk" and args == ["info"]):
    print(installed.read_text() if installed.exists() else "", end="")
elif (tool, args[0]) in (("dnf", "install"), ("apk", "add")):
    if os.environ.get("STANDIN_FAIL"):
        sys.exit("ERROR: unable to select packages: " + args[-1])
    packages = [arg for arg in args[1:] if not arg.startswith("-")]
    with installed.open("a") as stream:
        stream.writelines(package + "\\n" for package in packages)
    if any("libpq" in package for package in packages):
        (here / "pg_config").write_text("#!/bin/sh\\necho PostgreSQL 16\\n")
        (here / "pg_config").chmod(0o755)
elif tool in ("dnf", "apt-file"):
    search = here / "search.txt"
    print(search.read_text() if search.exists() else "", end="")
else:
    sys.exit(2)
"""

NEEDS_PG_CONFIG = (
    "import shutil\nfrom setuptools import setup\n"
    "if shutil.which('pg_config') is None:\n"
    "    raise SystemExit('Error: pg_config executable not found.')\n"
    "setup()\n"
)
"""A setup.py that fails at metadata time as psycopg2's does, with psycopg2's words."""

NEEDS_LIBPQ_SILENTLY = NEEDS_PG_CONFIG.replace("Error: pg_config executable not found.", "no!")
"""A setup.py that fails without saying why: only the [projects] table can explain it."""


def standins(directory: Path, *tools: str) -> Path:
    """Put stand-ins of ``tools`` into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        (directory / tool).write_text(STANDIN)
        (directory / tool).chmod(0o755)
    return directory


def calls(directory: Path) -> list[str]:
    """The command lines the stand-ins in ``directory`` were run with."""
    log = directory / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


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


def test_searches_with_apt_file_and_dnf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file no table names is looked up with the platform's search, when that is installed."""
    missing = MissingFile(COMMAND, "frob-config")
    debian, fedora = read_platform(DATA / "debian.ini"), read_platform(DATA / "fedora.ini")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert debian.for_file(missing) == ()  # apt-file is not installed: no search, no error
    bin_dir = standins(tmp_path / "bin", "apt-file", "dnf")
    (bin_dir / "search.txt").write_text("libfrob-dev\nlibfrob-doc\n")
    assert debian.for_file(missing) == ("libfrob-dev",)
    assert calls(bin_dir)[-1] == (
        r"apt-file search --package-only --regexp ^/?usr/.*bin/frob\-config$"
    )
    (bin_dir / "search.txt").write_text(
        "frob-devel-2:1.2-3.fc41.x86_64 : Headers of frob\nRepo        : fedora\n"
    )
    assert fedora.for_file(missing) == ("frob-devel",)
    assert calls(bin_dir)[-1] == "dnf provides --quiet /usr/*bin/frob-config"
    (bin_dir / "search.txt").write_text("frob-a-dev\nfrob-b-dev\n")
    assert debian.for_file(missing) == ()  # two candidates: no guess
    assert debian.for_file(MissingFile(HEADER, "openssl/evp.h")) == ("libssl-dev",)


def test_sudo_when_not_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not root: sudo when it exists, else the reason. (os.geteuid is faked: tests run as root.)"""
    debian = read_platform(DATA / "debian.ini")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert install_command(debian, ["liblz4-dev"]) == (
        ["apt-get", "install", "--yes", "liblz4-dev"],
        "pip-accel does not run as root and sudo is not installed",
    )
    standins(tmp_path, "sudo")
    assert install_command(debian, ["liblz4-dev"]) == (
        ["sudo", "apt-get", "install", "--yes", "liblz4-dev"],
        "",
    )
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert install_command(debian, ["x"]) == (["apt-get", "install", "--yes", "x"], "")
