"""The warm path imports none of the cold parts: downloads, builds, the fleet, S3.

An install from a stored plan needs the plan, the trees and the installer; the parts
that fetch, build or talk to a bucket are imported only when a run has no usable plan
(see :mod:`pip_accel.accelerator`). Each import costs start-up time on every warm run,
so a module that starts to import one of them at its top shows here.
"""

import subprocess
import sys
from pathlib import Path

from helpers import PackageIndex, VenvFactory, run

COLD = (
    "pip_accel.sources.download",
    "pip_accel.sources.pip_finder",
    "pip_accel.builds.builder",
    "pip_accel.builds.system",
    "pip_accel.plan.planner",
    "pip_accel.fleet",
    "pip_accel.caches.s3",
    "pip_accel.caches.s3_client",
    "pip_accel.caches.signing",
    "boto3",
    "cryptography",
)
"""The modules (and packages) that only a run without a usable plan imports."""

WARM = (
    "pip_accel.cli.main",
    "pip_accel.accelerator",
    "pip_accel.upkeep.eviction",  # at the end of every install, for the size bound
)
"""The modules a warm install imports, besides what they import themselves."""


def cold_modules(names: list[str]) -> list[str]:
    """Those of the module names that are cold parts or lie inside one."""
    return sorted(name for name in names
                  if any(name == cold or name.startswith(cold + ".") for cold in COLD))  # fmt: skip


def imported_by(command: list[str], env: dict[str, str]) -> list[str]:
    """The modules that a run of ``pip-accel`` (``python -X importtime -m pip_accel ...``)
    imports, in order."""
    result = run([sys.executable, "-X", "importtime", "-m", "pip_accel", *command], env,
                 check=True)  # fmt: skip
    return [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:")]  # fmt: skip


def test_the_warm_modules_import_no_cold_part() -> None:
    """Importing the modules of the warm path (in a fresh interpreter) imports no cold part."""
    code = f"import sys; import {', '.join(WARM)}; print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert cold_modules(result.stdout.split()) == []
    assert "pip_accel.plan.stored" in result.stdout.split(), "the control import is missing"


def test_a_warm_install_imports_no_cold_part(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """A second install of the same requirements, from its stored plan, imports no cold part."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--index-url {package_index.url}\nchain-c\n")
    install = ["install", "-r", str(requirements), "--python"]
    cold = imported_by([*install, str(make_venv("one").python)], isolated_env)
    assert "pip_accel.sources.download" in cold, "the control run (no stored plan) downloaded"
    warm = imported_by([*install, str(make_venv("two").python)], isolated_env)
    assert "pip_accel.install.installer" in warm, "the warm run installed nothing"
    assert cold_modules(warm) == []
