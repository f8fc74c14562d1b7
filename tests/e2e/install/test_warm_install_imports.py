"""A warm install (from a stored plan) imports none of the cold parts: downloads, builds, the
fleet, S3 (the list is :data:`support.imports.COLD`).

The run is ``python -X importtime -m pip_accel``, which names every module it imports.
"""

import sys

import pytest

from support.commands import run
from support.imports import cold_modules
from support.index import PackageIndex
from support.venvs import VenvFactory

pytestmark = pytest.mark.once  # the warm path starts no pip: pip-independent


def imported_by(command: list[str], env: dict[str, str]) -> list[str]:
    """The modules that a run of ``pip-accel`` (``python -X importtime -m pip_accel ...``)
    imports, in order."""
    result = run([sys.executable, "-X", "importtime", "-m", "pip_accel", *command], env,
                 check=True)  # fmt: skip
    return [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:")]  # fmt: skip


def test_a_warm_install_imports_no_cold_part(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
) -> None:
    """A second install of the same requirements, from its stored plan, imports no cold part."""
    install = ["install", "--index-url", package_index.url, "chain-c", "--python"]
    cold = imported_by([*install, str(make_venv("one").python)], isolated_env)
    assert "pip_accel.sources.download" in cold, "the control run (no stored plan) downloaded"
    warm = imported_by([*install, str(make_venv("two").python)], isolated_env)
    assert "pip_accel.install.installer" in warm, "the warm run installed nothing"
    assert cold_modules(warm) == []
