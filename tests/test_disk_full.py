"""A full disk, or a write that is not permitted, ends pip-accel with one line and exit 1.

The end-to-end test fills a small tmpfs, the data directory, to the last byte before
pip-accel runs: directories and empty files can still be made there, but no byte can be
written, as on a real full disk. Mounting needs root; elsewhere that test is skipped.
The other tests raise the errors of pip-accel's own writes inside ``run_install``.
"""

import errno
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from pip_accel.cli import main as cli

from helpers import PackageIndex, VenvFactory, accel, describe

pytestmark = pytest.mark.once  # pip-accel's own messages: pip-independent

TMPFS_SIZE = "1m"
"""The size of the tmpfs: big enough to mount, small enough to fill at once."""


def fill(directory: Path) -> None:
    """Write zero bytes into a file in ``directory`` until its file system is full."""
    with (directory / "filler").open("ab", buffering=0) as filler:
        for size in (64 * 1024, 1):
            try:
                while True:
                    filler.write(bytes(size))
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise


@pytest.fixture
def full_directory(tmp_path: Path) -> Iterator[Path]:
    """A directory on a tmpfs of its own with no free byte left; unmounted at teardown."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs as a full data directory needs root")
    mountpoint = tmp_path / "full"
    mountpoint.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mountpoint)]
    result = subprocess.run(mount, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")
    try:
        fill(mountpoint)
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_full_data_directory(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    full_directory: Path,
) -> None:
    """An install into a full data directory says "No space left on device" and where."""
    env = {**isolated_env, "PIP_ACCEL_CACHE": str(full_directory / "data")}
    result = accel(env, make_venv(), "--index-url", package_index.url, "purepkg==1.0", ok=False)
    assert result.returncode == 1, describe(result)
    last = result.stderr.splitlines()[-1]
    assert "No space left on device" in last and str(full_directory) in last, describe(result)
    assert "Traceback" not in result.stderr, describe(result)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data directory of an in-process ``run_install``, whose log goes to caplog only."""
    for variable in [name for name in os.environ if name.startswith("PIP_ACCEL_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PIP_ACCEL_CACHE", str(tmp_path / "data"))
    monkeypatch.setattr("pip_accel.cli.main.coloredlogs.install", lambda **kwargs: None)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    return tmp_path / "data"


def run_failing(monkeypatch: pytest.MonkeyPatch, error: OSError) -> int:
    """Run ``pip-accel install purepkg`` in this process, the install raising ``error``."""

    def accelerate(*args: object) -> None:
        raise error

    monkeypatch.setattr(cli, "accelerate", accelerate)
    return cli.run_install(["install", "purepkg"])


def error_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages that pip-accel logged at ERROR."""
    return [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]


@pytest.mark.parametrize(
    ("number", "filename", "expected"),
    [
        (errno.ENOSPC, "trees/x.py", "No space left on device while writing {data}/trees/x.py:"),
        (errno.ENOSPC, None, "No space left on device while writing {data}:"),
        (errno.EDQUOT, "/elsewhere/y", "Disk quota exceeded while writing /elsewhere/y:"),
        (errno.EACCES, "trees/x.py", "Permission denied writing {data}/trees/x.py:"),
        (errno.EROFS, "plans", "Permission denied writing {data}/plans (Read-only file system):"),
    ],
    ids=["full", "full-no-filename", "quota", "denied", "read-only"],
)
def test_failed_write_is_one_line(
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    number: int,
    filename: str | None,
    expected: str,
) -> None:
    """A write that the machine refused is named with its path and what to do, exit 1."""
    path = None if filename is None else str(data / filename)  # an absolute name stays
    error = OSError(number, os.strerror(number), *([path] if path else []))
    assert run_failing(monkeypatch, error) == 1
    (message,) = error_messages(caplog)
    assert message.startswith(expected.format(data=data)), message
    assert "$PIP_ACCEL_CACHE" in message and message.endswith("then run pip-accel again.")


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(errno.EACCES, "Permission denied", "/usr/lib/python3/site-packages/x"),
        FileNotFoundError(errno.ENOENT, "No such file or directory", "trees/x"),
    ],
    ids=["denied-outside-data", "missing"],
)
def test_other_os_errors_stay_bugs(
    data: Path, monkeypatch: pytest.MonkeyPatch, error: OSError
) -> None:
    """Other errors, and a denied write outside the data directory, keep their traceback."""
    with pytest.raises(OSError) as raised:
        run_failing(monkeypatch, error)
    assert raised.value is error
