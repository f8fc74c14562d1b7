"""Missing system packages on this very machine: real apt-get, a real C extension, as root.

These tests change the system: they remove the small Debian package liblz4-dev (the
header lz4.h and the link library of LZ4) before each test, let pip-accel install it or
refuse to, and put the machine back as it was afterwards. They run where CI runs, as root
on Debian or Ubuntu, and skip anywhere else. One more test checks that apt knows every
package that debian.ini names. apt-get talks to the distribution's mirror, the package
registry (``apt-get update`` runs first when apt knows no packages yet, as in a fresh
container); everything else stays on 127.0.0.1.
"""

import os
import pty
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pip_accel.builds.system.platforms import DATA, read_platform

from support.commands import Command, describe, pip_accel_cmd
from support.commands import run as run_command
from support.fixtures import make_sdist, pyproject
from support.index import PackageIndex
from support.venvs import Venv, VenvFactory, installed_packages

pytestmark = pytest.mark.system  # tox runs them alone, one after the other

PACKAGE = "liblz4-dev"
"""A small -dev package (85 kB) of Debian 12 and Ubuntu 24.04 whose runtime library is common."""

LZ4EXT_SOURCE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <lz4.h>

static PyObject *version(PyObject *self, PyObject *args) {
    return PyLong_FromLong(LZ4_versionNumber());
}

static PyMethodDef methods[] = {
    {"version", version, METH_NOARGS, "The version number of the LZ4 library."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "lz4ext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_lz4ext(void) {
    return PyModule_Create(&module);
}
"""

LZ4EXT_SETUP = (
    "from setuptools import Extension, setup\n"
    "setup(ext_modules=[Extension('lz4ext', ['lz4ext.c'], libraries=['lz4'])])\n"
)


def is_installed(package: str = PACKAGE) -> bool:
    """Whether dpkg counts ``package`` as installed."""
    result = subprocess.run(
        ["dpkg-query", "--show", "--showformat=${db:Status-Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() == "installed"


def change(command: list[str]) -> None:
    """Run a command that changes the installed packages; fail with its output if it fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"


def remove(package: str = PACKAGE) -> None:
    """Remove ``package`` with dpkg, which refuses (rather than removing more) if others need it."""
    change(["dpkg", "--remove", package])


@pytest.fixture(scope="module")
def apt_lists() -> None:
    """apt knows the distribution's packages: a fresh container has to ``apt-get update`` first."""
    if os.geteuid() != 0:
        pytest.skip("changes the system packages, which needs root (CI runs as root)")
    if shutil.which("apt-get") is None or shutil.which("dpkg-query") is None:
        pytest.skip("needs Debian or Ubuntu (apt-get and dpkg-query); CI runs on Debian")
    known = subprocess.run(["apt-cache", "show", PACKAGE], capture_output=True, check=False)
    if known.returncode != 0:
        change(["apt-get", "update"])


@pytest.fixture
def without_lz4_headers(apt_lists: None) -> Iterator[None]:
    """No liblz4-dev during the test; afterwards, installed again exactly when it was before."""
    before = is_installed()
    if before:
        remove()
    yield
    if is_installed() and not before:
        remove()
    elif before and not is_installed():
        change(["apt-get", "install", "--yes", PACKAGE])


@dataclass(frozen=True)
class Lz4extInstall:
    """The install of ``lz4ext`` into a new venv, with liblz4-dev removed for the test."""

    env: dict[str, str]
    venv: Venv
    command: list[str]


@pytest.fixture
def lz4ext(
    without_lz4_headers: None,
    package_index: PackageIndex,
    tmp_path: Path,
    isolated_env: dict[str, str],
    make_venv: VenvFactory,
) -> Lz4extInstall:
    """The package index, serving also ``lz4ext`` 1.0, a C extension that needs lz4.h."""
    files = {
        "pyproject.toml": pyproject("lz4ext", "1.0", packages=[]),
        "setup.py": LZ4EXT_SETUP,
        "lz4ext.c": LZ4EXT_SOURCE,
    }
    package_index.add(make_sdist(tmp_path / "sdists", "lz4ext", "1.0", files))
    venv = make_venv()
    command = [*pip_accel_cmd(), "install", "--python", str(venv.python), "-i", package_index.url]
    return Lz4extInstall(isolated_env, venv, [*command, "lz4ext"])


def test_every_debian_package_exists(apt_lists: None) -> None:
    """Every package that debian.ini names is known to this machine's apt (CI: Debian 12)."""
    platform = read_platform(DATA / "debian.ini")
    names = sorted({name for table in platform.tables.values() for row in table.values()
                    for name in row})  # fmt: skip
    result = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *names], capture_output=True, text=True
    )
    known = {line.split(": ", 1)[1] for line in result.stdout.splitlines()
             if line.startswith("Package: ")}  # fmt: skip
    assert set(names) - known == set()


def test_installs_the_missing_package_and_builds_again(lz4ext: Lz4extInstall) -> None:
    """auto-install on: apt-get installs liblz4-dev, the second build works and links LZ4."""
    env = {**lz4ext.env, "PIP_ACCEL_AUTO_INSTALL": "true"}
    result = run_command(lz4ext.command, env, input="")
    assert result.returncode == 0, describe(result)
    assert "fatal error: lz4.h: No such file or directory" in result.stderr  # the first build
    assert f"The system package {PACKAGE} is not installed: it provides the header lz4.h." in (
        result.stderr
    )
    assert f"Installing the system package {PACKAGE}: apt-get install --yes {PACKAGE}" in (
        result.stderr
    )
    assert is_installed()
    version = run_command([lz4ext.venv.python, "-c", "import lz4ext; print(lz4ext.version())"], env)
    assert version.returncode == 0 and int(version.stdout) >= 10900, describe(version)


def test_refuses_when_auto_install_is_off(lz4ext: Lz4extInstall) -> None:
    """auto-install off: the compiler's output, then one line with the package and the command."""
    env = {**lz4ext.env, "PIP_ACCEL_AUTO_INSTALL": "false"}
    result = run_command(lz4ext.command, env, input="")
    assert result.returncode == 1, describe(result)
    assert "fatal error: lz4.h: No such file or directory" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert f"Building lz4ext needs the system package {PACKAGE}" in last
    assert f"Install with `apt-get install --yes {PACKAGE}` and run pip-accel again." in last
    assert "Traceback" not in result.stderr
    assert not is_installed()
    assert installed_packages(lz4ext.venv, lz4ext.env) == {}


def run_on_terminal(
    command: Command, env: dict[str, str], answer: str, timeout: float = 300
) -> tuple[int, str]:
    """Run ``command`` on a new pseudo-terminal; type ``answer`` when it asks [y/N].

    Returns the exit status and everything the command wrote, without colours.
    """
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [os.fspath(arg) for arg in command],
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the command and its children closed the terminal
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(master, answer.encode() + b"\n")
                answered = True
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", output.decode(errors="replace"))
    return process.wait(timeout=10), text.replace("\r\n", "\n")


def test_the_question_on_a_terminal_answered_no(lz4ext: Lz4extInstall) -> None:
    """auto-install unset, standard input a terminal: pip-accel asks; "n" installs nothing."""
    status, output = run_on_terminal(lz4ext.command, lz4ext.env, "n")
    assert status == 1, output
    question = f"Building lz4ext needs the system package {PACKAGE}. Install with `apt-get"
    assert question in output and "? [y/N] n" in output, output
    assert "you answered no" in output.splitlines()[-1], output
    assert "Traceback" not in output
    assert not is_installed()
