"""Virtual environments of the tests (without pip), and pip and pip-accel run against them."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from typing import Any, Protocol

from support.commands import describe, pip_accel_cmd, run
from support.fixtures import canonical_name


@dataclass(frozen=True)
class Venv:
    """A virtual environment made for one test; it has no pip of its own."""

    path: Path

    @property
    def bin(self) -> Path:
        """The directory of the environment's executables and scripts."""
        return self.path / "bin"

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.bin / "python"

    @property
    def site_packages(self) -> Path:
        """The environment's purelib directory, where wheels are installed."""
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return self.path / "lib" / version / "site-packages"


def create_venv(path: Path, env: Mapping[str, str]) -> Venv:
    """Create a virtual environment without pip at ``path``, from the tests' interpreter.

    Without pip it takes a fraction of a second; the tests' pip installs into it from
    outside (see ``pip_cmd``).
    """
    run([sys.executable, "-m", "venv", "--without-pip", path], env, timeout=60, check=True)
    return Venv(path)


def files_of(venv: Venv) -> set[str]:
    """Every file and directory of a virtual environment, relative to it."""
    return {str(path.relative_to(venv.path)) for path in venv.path.rglob("*")}


def pip_cmd(venv: Venv) -> list[str]:
    """Return the argv prefix that runs the tests' own pip against ``venv`` (pip --python)."""
    return [sys.executable, "-m", "pip", "--python", str(venv.python)]


def installed_packages(venv: Venv, env: Mapping[str, str]) -> dict[str, str]:
    """Return the distributions installed in ``venv``: canonical name -> version."""
    result = run([*pip_cmd(venv), "list", "--format", "json"], env, check=True)
    return {canonical_name(item["name"]): item["version"] for item in json.loads(result.stdout)}


class VenvFactory(Protocol):
    """The type of ``make_venv``."""

    def __call__(self, name: str = "venv") -> Venv:
        """Create the virtual environment ``tmp_path/name``, without pip."""


def accel(
    env: Mapping[str, str], venv: Venv, *args: str | os.PathLike[str], ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``pip-accel install --python <venv> ARGS``; with ``ok``, fail the test on an error."""
    result = run([*pip_accel_cmd(), "install", "--python", venv.python, *args], env)
    if ok:
        assert result.returncode == 0, describe(result)
    return result


NO_PIP_LAUNCHER = """\
import os, re, sys

allowed = int(sys.argv[1])

def refuse(event, args):
    if event == "subprocess.Popen":
        words = [os.path.basename(str(word)) for word in (args[1] or [args[0]])]
        if any(re.fullmatch(r"pip[0-9.]*", word) for word in words):
            sys.stderr.write(f"AUDIT: refused to start pip: {words}\\n")
            raise RuntimeError("pip is unavailable to this run")
    elif event == "socket.connect" and isinstance(args[1], tuple):
        if args[1][1] != allowed:
            sys.stderr.write(f"AUDIT: refused a connection to {args[1]}\\n")
            raise RuntimeError("the network is unavailable to this run")

sys.addaudithook(refuse)
from pip_accel.cli.main import main
sys.exit(main(sys.argv[2:]))
"""
"""Runs pip-accel with an audit hook that refuses to start pip and to connect anywhere but
to the port given first (0: nowhere), so that a run that tries fails and says why."""


def accel_without_pip(
    env: Mapping[str, str],
    venv: Venv,
    *args: str | os.PathLike[str],
    allowed_port: int = 0,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``pip-accel install`` with pip and the network (but ``allowed_port``) refused."""
    command = [sys.executable, "-c", NO_PIP_LAUNCHER, str(allowed_port), "install"]
    return run([*command, "--python", venv.python, *args], env, cwd=cwd)


def environment_of(venv: Venv, env: dict[str, str]) -> dict[str, Any]:
    """What pip sees of an environment: pip freeze, the REQUESTED ones, their direct URLs."""
    frozen = run([*pip_cmd(venv), "freeze"], env, check=True).stdout.split()
    infos = sorted(venv.site_packages.glob("*.dist-info"))
    requested = [info.name for info in infos if (info / "REQUESTED").exists()]
    direct = {
        info.name: json.loads((info / "direct_url.json").read_text())
        for info in infos
        if (info / "direct_url.json").exists()
    }
    return {"freeze": frozen, "requested": requested, "direct_url": direct}


def assert_valid_bytecode(module: Path, cached: Path) -> None:
    """Check that a ``.pyc`` is the timestamp-checked bytecode of ``module`` as it is now."""
    header = cached.read_bytes()[:16]
    flags, mtime, size = struct.unpack("<III", header[4:16])
    status = module.stat()
    assert header[:4] == MAGIC_NUMBER
    assert flags == 0, "not a timestamp-checked .pyc"
    assert (mtime, size) == (int(status.st_mtime) & 0xFFFFFFFF, status.st_size & 0xFFFFFFFF)


def cached_wheels(binaries: Path, pattern: str) -> list[Path]:
    """The wheels of a binary cache whose names match ``pattern``, not the sha256 records
    (``.sha256/<wheel>``) beside them."""
    return sorted(path for path in binaries.rglob(pattern) if path.parent.name != ".sha256")
