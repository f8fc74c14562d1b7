"""pip and pip-accel as subprocesses, in an environment isolated from the machine's pip.

Every test runs pip and pip-accel as subprocesses, the way people run them, in an environment
that ignores the machine's pip configuration and the real user's home directory, and that
reaches no network but 127.0.0.1; the fixtures in ``tests/conftest.py`` only tie it to
pytest's temporary directories.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The command-line arguments that ``run`` accepts: strings and paths.
Command = Sequence[str | os.PathLike[str]]


#: Environment variables that the tests' subprocesses never inherit. XDG_* would put pip's
#: cache and configuration outside the per-test home directory.
DROPPED_VARIABLES = ("VIRTUAL_ENV", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")


def isolated_environment(home: Path, data_dir: Path, build_log: Path) -> dict[str, str]:
    """Return ``os.environ`` without any pip or pip-accel setting, plus the tests' own.

    pip reads no configuration file (PIP_CONFIG_FILE=/dev/null), never asks or checks its
    version, ``~`` is the per-test ``home`` and pip-accel keeps its data in ``data_dir``.
    Loopback addresses bypass any proxy, since the tests' servers listen there.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PIP_") and key not in DROPPED_VARIABLES
    }
    env |= {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "HOME": str(home),
        "PIP_ACCEL_CACHE": str(data_dir),
        "PIP_ACCEL_TEST_BUILD_LOG": str(build_log),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return env


def run(
    cmd: Command,
    env: Mapping[str, str],
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float = 300,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with exactly ``env`` and return it, stdout and stderr captured as text.

    With ``check=True`` a non-zero exit status fails the test with the whole output, which
    is what one needs to see when a pip run in a test goes wrong.
    """
    result = subprocess.run(
        [os.fspath(arg) for arg in cmd],
        env=dict(env),
        cwd=cwd,
        input=input,
        timeout=timeout,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(describe(result))
    return result


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """Return a command, its exit status and its output, for assertion messages."""
    command = " ".join(str(arg) for arg in result.args)
    return (
        f"command: {command}\nexit status: {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a server process and wait for it, so that connections are refused afterwards."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pip_accel_cmd() -> list[str]:
    """Return the argv prefix of the installed ``pip-accel`` console script under test."""
    return [str(Path(sys.executable).parent / "pip-accel")]


def build_count(build_log: Path, name: str = "cext") -> int:
    """Return how many times project ``name`` was built, from the PIP_ACCEL_TEST_BUILD_LOG file.

    Only the ``cext`` fixture writes to the log: one line per compilation of its extension.
    """
    if not build_log.exists():
        return 0
    lines = build_log.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.split(" ", 1)[0] == name)
