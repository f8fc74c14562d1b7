"""A full disk ends pip-accel with one line and exit 1, through the real command.

The test fills a small tmpfs, the data directory, to the last byte before pip-accel runs:
directories and empty files can still be made there, but no byte can be written, as on a
real full disk. Mounting needs root; elsewhere the test is skipped. The errors of
pip-accel's own writes, raised inside ``run_install``, are unit tests in ``tests/unit/test_cli.py``.
"""

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.bench import Bench
from support.commands import describe
from support.venvs import accel

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


def test_full_data_directory(bench: Bench, full_directory: Path) -> None:
    """An install into a full data directory says "No space left on device" and where."""
    env = {**bench.env, "PIP_ACCEL_CACHE": str(full_directory / "data")}
    result = accel(env, bench.make_venv(), "--index-url", bench.index.url, "purepkg==1.0", ok=False)
    assert result.returncode == 1, describe(result)
    last = result.stderr.splitlines()[-1]
    assert "No space left on device" in last and str(full_directory) in last, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
