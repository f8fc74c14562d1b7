"""Unit tests of ``pip_accel.plan.plan``: pip's installation report read as a plan.

The entries are written here the way pip's ``--report`` writes them (a wheel from an
index, a local sdist, an editable directory, a VCS checkout), without running pip.
"""

from pathlib import Path
from typing import Any

from pip_accel.plan.plan import Plan, PlannedDistribution


def entry(name: str, version: str, download_info: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One item of the ``install`` list of pip's installation report."""
    return {"metadata": {"name": name, "version": version}, "download_info": download_info, **extra}


def archive(url: str) -> dict[str, Any]:
    """The download info of an archive (a wheel or an sdist)."""
    return {"url": url, "archive_info": {"hashes": {"sha256": "0" * 64}}}


def test_entry_is_read_with_a_normalized_name(tmp_path: Path) -> None:
    """Name, version, URL and the requested/direct flags come from the report."""
    url = (tmp_path / "My_Pkg-1.0.tar.gz").as_uri()
    item = PlannedDistribution.from_report(
        entry("My_Pkg", "1.0", archive(url), requested=True, is_direct=True)
    )
    assert (item.name, item.version, item.url) == ("my-pkg", "1.0", url)
    assert item.requested and item.is_direct
    assert str(item) == "my-pkg 1.0"
    assert item.local_path == tmp_path / "My_Pkg-1.0.tar.gz"


def test_local_archive_is_installed_by_pip_accel(tmp_path: Path) -> None:
    """A local archive (a ``file:`` URL with archive info) is pip-accel's to install."""
    item = PlannedDistribution.from_report(
        entry("demo", "1.0", archive((tmp_path / "d.whl").as_uri()))
    )
    assert not item.handed_to_pip
    assert item.pip_requirement == [str(tmp_path / "d.whl")]


def test_remote_archive_is_handed_to_pip() -> None:
    """A remote direct URL is pip's to install, named ``name @ url``."""
    item = PlannedDistribution.from_report(entry("demo", "1.0", archive("https://x/d.whl")))
    assert item.local_path is None
    assert item.handed_to_pip
    assert item.pip_requirement == ["demo @ https://x/d.whl"]


def test_editable_directory_is_handed_to_pip_as_editable(tmp_path: Path) -> None:
    """An editable local directory becomes ``--editable <directory>``."""
    info = {"url": tmp_path.as_uri(), "dir_info": {"editable": True}}
    item = PlannedDistribution.from_report(entry("demo", "1.0", info))
    assert item.is_editable and item.handed_to_pip
    assert item.pip_requirement == ["--editable", str(tmp_path)]


def test_vcs_checkout_is_pinned_to_its_commit() -> None:
    """A VCS requirement is handed to pip pinned to the commit pip resolved."""
    info = {"url": "https://git.example/demo", "vcs_info": {"vcs": "git", "commit_id": "abc123"}}
    item = PlannedDistribution.from_report(entry("demo", "1.0", info))
    assert not item.is_editable
    assert item.pip_requirement == ["demo @ git+https://git.example/demo@abc123"]


def test_plan_keeps_pips_order_and_splits_by_installer(tmp_path: Path) -> None:
    """Archives and pip's own share keep the report's order; pre-releases are found."""
    report = {
        "install": [
            entry("a", "1.0", archive((tmp_path / "a.whl").as_uri())),
            entry("b", "2.0rc1", archive("https://x/b.whl")),
            entry("c", "3.0.dev1", archive((tmp_path / "c.tar.gz").as_uri())),
        ]
    }
    plan = Plan.from_report(report)
    assert len(plan) == 3 and plan
    assert [item.name for item in plan.archives] == ["a", "c"]
    assert [item.name for item in plan.handed_to_pip] == ["b"]
    assert [item.name for item in plan.prereleases] == ["b", "c"]


def test_empty_report_is_a_false_plan() -> None:
    """A report with nothing to install is an empty, false plan."""
    plan = Plan.from_report({})
    assert not plan and len(plan) == 0
