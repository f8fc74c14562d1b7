"""Unit tests of ``pip_accel.cli.cache_command``: what info and purge say and remove.

The real command on a real data directory is in ``tests/e2e/cli/test_cache_maintenance.py``.
"""

import io
import time
from pathlib import Path

from pip_accel.cli.cache_command import purge, show_info
from pip_accel.cli.cache_request import parse
from pip_accel.config import Config
from pip_accel.plan.freshness import FreshnessRecord


def test_info_counts_the_freshness_record_and_purge_removes_it(tmp_path: Path) -> None:
    """The record of when the index was asked is part of the data directory: info says how
    many projects it knows, purge removes it (the next loose requirement asks again)."""
    config = Config(environ={"PIP_ACCEL_CACHE": str(tmp_path)})
    record = FreshnessRecord.of(config)
    record.record([("rich", "15.0.0"), ("pygments", "2.19.1")])
    out = io.StringIO()
    show_info(config, parse(["info"]), out, time.time())
    assert f"Freshness record location: {tmp_path / 'freshness'}\n" in out.getvalue()
    assert "Number of projects in the freshness record: 2\n" in out.getvalue()
    out = io.StringIO()
    purge(config, parse(["purge"]), out, time.time())
    assert not record.directory.exists() and record.asked("rich") is None
    assert out.getvalue().startswith("Removed 0 entries (") and "(0 bytes)" not in out.getvalue()


def test_info_counts_the_warm_starts_and_probes_and_purge_removes_them(tmp_path: Path) -> None:
    """The kept command lines (``starts/``) and interpreter probes (``probes/``, with their
    ``venvs/``) are shown with their number and size, and purge removes both."""
    config = Config(environ={"PIP_ACCEL_CACHE": str(tmp_path)})
    (tmp_path / "starts").mkdir()
    (tmp_path / "starts" / "a.json").write_text("{}")
    (tmp_path / "probes" / "venvs").mkdir(parents=True)
    (tmp_path / "probes" / "b.json").write_text("[1]")
    (tmp_path / "probes" / "venvs" / "c.json").write_text("[2]")
    out = io.StringIO()
    show_info(config, parse(["info"]), out, time.time())
    said = out.getvalue()
    assert f"Warm starts location: {tmp_path / 'starts'}\n" in said
    assert "Warm starts size: 2 bytes\n" in said
    assert "Number of warm starts: 1\n" in said
    assert f"Interpreter probes location: {tmp_path / 'probes'}\n" in said
    assert "Interpreter probes size: 6 bytes\n" in said
    assert "Number of interpreter probes: 2\n" in said
    out = io.StringIO()
    purge(config, parse(["purge"]), out, time.time())
    assert not (tmp_path / "starts").exists() and not (tmp_path / "probes").exists()
    assert out.getvalue().startswith("Removed 0 entries (8 bytes).")


def test_info_of_a_data_directory_without_starts_or_probes_counts_none(tmp_path: Path) -> None:
    """Directories not made yet are shown as empty, and purge does not fail on them."""
    config = Config(environ={"PIP_ACCEL_CACHE": str(tmp_path / "new")})
    out = io.StringIO()
    show_info(config, parse(["info"]), out, time.time())
    assert "Number of warm starts: 0\n" in out.getvalue()
    assert "Number of interpreter probes: 0\n" in out.getvalue()
    out = io.StringIO()
    purge(config, parse(["purge"]), out, time.time())
    assert out.getvalue() == "Removed 0 entries (0 bytes).\n"
