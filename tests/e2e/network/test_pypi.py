"""Real packages from the real package registry (PyPI): marked ``network``, CI runs them too.

These are the only tests that leave 127.0.0.1, and only to reach the registry.
"""

from pathlib import Path

import pytest

from support.commands import describe, pip_accel_cmd, run
from support.index import free_port
from support.venvs import VenvFactory, installed_packages

pytestmark = pytest.mark.network

REQUIREMENTS = ["markupsafe==2.1.5", "six==1.16.0", "--no-binary", "markupsafe"]
"""A real sdist with a C extension (forced to build from source) and a real wheel."""


def test_real_sdist_with_c_extension_then_offline(
    isolated_env: dict[str, str], make_venv: VenvFactory, tmp_path: Path
) -> None:
    """MarkupSafe is built from source once; a second venv installs with no index reachable."""
    first = make_venv("first")
    command = [*pip_accel_cmd(), "install", "--python", str(first.python), *REQUIREMENTS]
    result = run(command, isolated_env, timeout=600)
    assert result.returncode == 0, describe(result)
    assert "Installed 2 packages (1 built, 1 downloaded, 0 from cache)" in result.stderr
    speedups = "import markupsafe._speedups as s; print(s.__file__)"
    compiled = run([first.python, "-c", speedups], isolated_env, check=True).stdout
    assert compiled.strip().endswith(".so")
    second = make_venv("second")
    nowhere = f"http://127.0.0.1:{free_port()}/simple/"  # nothing listens there
    command = [*pip_accel_cmd(), "install", "--python", str(second.python), "-i", nowhere]
    result = run([*command, *REQUIREMENTS], isolated_env, timeout=300)
    assert result.returncode == 0, describe(result)
    assert "(0 built, 2 from cache)" in result.stderr
    assert installed_packages(second, isolated_env) == {"markupsafe": "2.1.5", "six": "1.16.0"}
