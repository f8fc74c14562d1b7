"""Bad configuration stops pip-accel with one line, exit 1 and nothing installed.

Each test drives the real ``pip-accel`` command. The requirement named is
served by nobody, so a run that got past the configuration would fail for
another reason, with another message: the assertions tell the two apart.
"""

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import CHECKOUT
from support.commands import describe, pip_accel_cmd, run

pytestmark = pytest.mark.once  # pip-accel's own configuration: pip-independent

CONFIG_ERROR_EXIT = 1


def install(env: dict[str, str], venv_python: str = "") -> "tuple[int, str, str]":
    """Run ``pip-accel install purepkg`` and return exit code, stdout and stderr."""
    args = ["install", "--no-index", "purepkg"]
    if venv_python:
        args[1:1] = ["--python", venv_python]
    result = run([*pip_accel_cmd(), *args], env)
    return result.returncode, result.stdout, result.stderr


def error_lines(stderr: str) -> list[str]:
    """The lines of standard error that are not empty."""
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("variable", "value", "option"),
    [
        ("PIP_ACCEL_MAX_RETRIES", "many", "max-retries"),
        ("PIP_ACCEL_MAX_RETRIES", "-1", "max-retries"),
        ("PIP_ACCEL_AUTO_INSTALL", "perhaps", "auto-install"),
        ("PIP_ACCEL_LOG_VERBOSITY", "chatty", "log-verbosity"),
        ("PIP_ACCEL_S3_READONLY", "sometimes", "s3-readonly"),
        ("PIP_ACCEL_S3_TIMEOUT", "soon", "s3-timeout"),
        ("PIP_ACCEL_S3_RETRIES", "1.5", "s3-retries"),
        ("PIP_ACCEL_MAX_CACHE_SIZE", "2 parsecs", "max-cache-size"),
    ],
)
def test_bad_environment_value(
    isolated_env: dict[str, str], variable: str, value: str, option: str
) -> None:
    """A bad value in the environment names the option, the value and the variable."""
    code, _, stderr = install({**isolated_env, variable: value})
    assert code == CONFIG_ERROR_EXIT
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    assert option in lines[0] and repr(value) in lines[0] and f"${variable}" in lines[0]
    assert "Traceback" not in stderr


def test_bad_value_in_file(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A bad value in a configuration file names the file."""
    config = tmp_path / "bad.conf"
    config.write_text("[pip-accel]\nmax-retries = lots\n")
    code, _, stderr = install({**isolated_env, "PIP_ACCEL_CONFIG": str(config)})
    assert code == CONFIG_ERROR_EXIT
    assert len(error_lines(stderr)) == 1
    assert str(config) in stderr and "max-retries" in stderr and "'lots'" in stderr


def test_missing_named_file(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A file named by $PIP_ACCEL_CONFIG that does not exist is an error, not ignored."""
    missing = tmp_path / "nowhere.conf"
    code, _, stderr = install({**isolated_env, "PIP_ACCEL_CONFIG": str(missing)})
    assert code == CONFIG_ERROR_EXIT
    assert len(error_lines(stderr)) == 1
    assert str(missing) in stderr and "PIP_ACCEL_CONFIG" in stderr


def test_file_without_section(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A configuration file without a [pip-accel] section is an error."""
    config = tmp_path / "nosection.conf"
    config.write_text("[other]\nmax-retries = 2\n")
    code, _, stderr = install({**isolated_env, "PIP_ACCEL_CONFIG": str(config)})
    assert code == CONFIG_ERROR_EXIT
    assert len(error_lines(stderr)) == 1
    assert "[pip-accel]" in stderr and str(config) in stderr


def test_unknown_option_in_file(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A misspelt option in a file is reported, not silently ignored."""
    config = tmp_path / "typo.conf"
    config.write_text("[pip-accel]\nmax-retry = 2\n")
    code, _, stderr = install({**isolated_env, "PIP_ACCEL_CONFIG": str(config)})
    assert code == CONFIG_ERROR_EXIT
    assert "max-retry" in stderr and str(config) in stderr


def test_user_file_is_read(isolated_env: dict[str, str]) -> None:
    """~/.pip-accel/pip-accel.conf is read (a bad value in it proves it)."""
    config = Path(isolated_env["HOME"]) / ".pip-accel" / "pip-accel.conf"
    config.parent.mkdir(parents=True)
    config.write_text("[pip-accel]\nlog-verbosity = loud\n")
    code, _, stderr = install(isolated_env)
    assert code == CONFIG_ERROR_EXIT
    assert str(config) in stderr and "log-verbosity" in stderr


def test_environment_wins_over_file(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """An environment variable overrides the same option in a file."""
    config = tmp_path / "bad.conf"
    config.write_text("[pip-accel]\nmax-retries = lots\n")
    env = {**isolated_env, "PIP_ACCEL_CONFIG": str(config), "PIP_ACCEL_MAX_RETRIES": "2"}
    code, _, stderr = install(env)
    assert "max-retries" not in stderr
    assert code == 1  # the requirement cannot be found: a later, different failure
    assert "purepkg" in stderr


def test_data_directory_under_a_file(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A data directory below a regular file cannot be created, even by root."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env = {**isolated_env, "PIP_ACCEL_CACHE": str(blocker / "data")}
    code, _, stderr = install(env)
    assert code == CONFIG_ERROR_EXIT
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    assert str(blocker / "data") in lines[0] and "$PIP_ACCEL_CACHE" in lines[0]


def as_nobody() -> list[str] | None:
    """The command prefix that runs a command as the user nobody, or None when there is none."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "--preserve-environment", "-u", "nobody", "--"]
    return None


UnwritableSetup = tuple[list[str], dict[str, str], Path]
"""The command prefix that runs pip-accel, its environment and a directory it cannot write."""


@pytest.fixture
def unwritable(isolated_env: dict[str, str], tmp_path: Path) -> Iterator[UnwritableSetup]:
    """A data directory that exists and that the user who runs pip-accel cannot write.

    Root may write anywhere, so for root pip-accel runs as the user nobody, with its home
    and data directory (owned by root, mode 0755) in a directory of their own that nobody
    may enter: pytest's temporary directories are private to root. Anyone else gets a
    data directory without write permission (mode 0555).
    """
    if os.geteuid() != 0:
        data = tmp_path / "unwritable"
        data.mkdir(mode=0o555)
        try:
            if os.access(data, os.W_OK):
                pytest.skip("this user may write into a directory of mode 0555")
            yield [], {**isolated_env, "PIP_ACCEL_CACHE": str(data)}, data
        finally:
            data.chmod(0o755)
        return
    prefix = as_nobody()
    if prefix is None:
        pytest.skip("the tests run as root, and neither setpriv nor runuser can drop to nobody")
    shared = Path(tempfile.mkdtemp(prefix="pip-accel-unwritable-"))
    try:
        for directory in (shared, shared / "home", shared / "data"):
            directory.mkdir(exist_ok=True)
            directory.chmod(0o755)
        env = {
            **isolated_env,
            "HOME": str(shared / "home"),
            "PIP_ACCEL_CACHE": str(shared / "data"),
        }
        if run([*prefix, "test", "-x", str(shared / "home")], env).returncode != 0:
            pytest.skip(f"the user nobody cannot enter {shared}")
        probe = run([*prefix, *pip_accel_cmd(), "--version"], env)
        if probe.returncode != 0:
            pytest.skip(f"the user nobody cannot run {pip_accel_cmd()[0]}: {probe.stderr.strip()}")
        yield prefix, env, shared / "data"
    finally:
        shutil.rmtree(shared)


def test_unwritable_data_directory(unwritable: UnwritableSetup) -> None:
    """A data directory that exists but cannot be written is named in one line, before any work."""
    prefix, env, data = unwritable
    result = run([*prefix, *pip_accel_cmd(), "install", "--no-index", "purepkg"], env)
    assert result.returncode == CONFIG_ERROR_EXIT, describe(result)
    lines = error_lines(result.stderr)
    assert len(lines) == 1, describe(result)
    assert f"data directory {data} (from environment variable $PIP_ACCEL_CACHE)" in lines[0]
    assert "is not writable" in lines[0], describe(result)
    assert "Traceback" not in result.stderr


def test_traceback_only_with_verbose(isolated_env: dict[str, str]) -> None:
    """-v adds the traceback to the one-line error."""
    env = {**isolated_env, "PIP_ACCEL_MAX_RETRIES": "many"}
    result = run([*pip_accel_cmd(), "install", "-v", "--no-index", "purepkg"], env)
    assert result.returncode == CONFIG_ERROR_EXIT
    assert "Traceback" in result.stderr and "max-retries" in result.stderr


def test_sample_configuration_file_is_valid(isolated_env: dict[str, str]) -> None:
    """The sample file in config/ is accepted as it is (the run then fails for the index only)."""
    sample = CHECKOUT / "config" / "pip-accel.conf"
    env = {key: value for key, value in isolated_env.items() if key != "PIP_ACCEL_CACHE"}
    code, _, stderr = install({**env, "PIP_ACCEL_CONFIG": str(sample)})
    assert code == 1 and "purepkg" in stderr.splitlines()[-1], stderr
    assert (Path(env["HOME"]) / ".pip-accel" / "sources").is_dir()


def test_log_format_and_verbosity_are_used(isolated_env: dict[str, str]) -> None:
    """log-format shapes every line; log-verbosity WARNING hides the INFO lines, -v brings them."""
    env = {**isolated_env, "PIP_ACCEL_LOG_FORMAT": "ACCEL:%(levelname)s:%(message)s"}
    _, _, stderr = install(env)
    lines = error_lines(stderr)
    assert lines and all(line.startswith("ACCEL:") for line in lines), stderr
    assert any(line.startswith("ACCEL:INFO:Installing for") for line in lines)
    quiet = {**env, "PIP_ACCEL_LOG_VERBOSITY": "WARNING"}
    _, _, stderr = install(quiet)
    assert "ACCEL:INFO:" not in stderr and "ACCEL:ERROR:" in stderr
    result = run([*pip_accel_cmd(), "install", "-v", "--no-index", "purepkg"], quiet)
    assert "ACCEL:INFO:Installing for" in result.stderr
