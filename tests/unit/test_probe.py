"""Unit tests of ``pip_accel._probe``: the description of an interpreter, run in-process.

pip-accel runs the probe as a script with the target interpreter; here ``describe`` runs
with this one, so that what it says can be compared with ``sys`` and ``sysconfig``.
"""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import packaging

from pip_accel import _probe


def test_describe_says_what_sys_says() -> None:
    """Executable, version, prefix and paths are this interpreter's."""
    info = _probe.describe()
    assert info["executable"] == sys.executable
    assert info["version"] == "{}.{}".format(*sys.version_info[:2])
    assert info["prefix"] == sys.prefix
    assert info["in_venv"] == (sys.prefix != sys.base_prefix)
    assert info["paths"] == sysconfig.get_paths()
    assert info["cache_tag"] == sys.implementation.cache_tag


def test_tags_and_markers_come_from_packaging() -> None:
    """The best tag names this interpreter; the markers are packaging's defaults."""
    info = _probe.describe()
    assert info["tags"][0].startswith(f"cp{sys.version_info[0]}{sys.version_info[1]}-")
    assert info["markers"]["python_version"] == info["version"]


def test_prefix_paths_carry_the_placeholder() -> None:
    """The ``--prefix`` scheme's paths start at BASE, which the caller replaces."""
    paths = _probe.describe()["prefix_paths"]
    assert paths["purelib"].startswith(_probe.BASE)
    assert paths["scripts"] == f"{_probe.BASE}/bin"


def test_script_prints_json_with_packaging_from_the_argument() -> None:
    """Run as a script in isolated mode, it finds packaging in the directory it is given."""
    library = str(Path(packaging.__file__).parent.parent)
    command = [sys.executable, "-I", _probe.__file__, library]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    info = json.loads(result.stdout)
    assert info["executable"] == sys.executable
    assert info["sys_path"][0] != library  # recorded before the probe put it first
