"""The user's own system dependency definitions, through the real command: broken or missing."""

from pathlib import Path

import pytest

from support.commands import pip_accel_cmd, run

pytestmark = pytest.mark.once  # pip-accel's own definitions: pip-independent


def write(directory: Path, name: str, text: str) -> Path:
    """Write a definition file and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_broken_user_file_stops_pip_accel(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A broken file in the user's directory stops every install before it plans, one line."""
    write(tmp_path / "deps", "debian.ini", "[projets]\nlxml = libxml2-dev\n")
    env = {**isolated_env, "PIP_ACCEL_SYSTEM_DEPENDENCIES": str(tmp_path / "deps")}
    result = run([*pip_accel_cmd(), "install", "--no-index", "purepkg"], env, input="")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "unknown section(s) projets" in lines[-1] and "ERROR" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr and "purepkg" not in result.stderr


def test_missing_user_directory_stops_pip_accel(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """The system-dependencies option must name a directory; else one line and exit 1."""
    env = {**isolated_env, "PIP_ACCEL_SYSTEM_DEPENDENCIES": str(tmp_path / "nowhere")}
    result = run([*pip_accel_cmd(), "install", "--no-index", "purepkg"], env, input="")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nowhere" in lines[0] and "not a directory" in lines[0]
    assert "Traceback" not in result.stderr
