"""``--dry-run`` and ``--report``: pip-accel's own plan, the one its install uses, in pip's words.

The end-to-end tests run the real ``pip-accel`` command and real pip against the fixture
index on 127.0.0.1 and compare: the report of a dry run with what the same command then
installs, and with pip's own ``pip install --dry-run --report`` of the same input in a venv
in the same state. How entries find their archive in the local index and which extras
count as asked for are unit tests, in ``tests/unit/test_dry_run.py``.
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from pip_accel.pip.runner import pip_version

from support.commands import describe, run
from support.fixtures import canonical_name, make_wheel, pure_project
from support.index import PackageIndex, free_port
from support.venvs import Venv, VenvFactory, accel, installed_packages, pip_cmd

pytestmark = pytest.mark.every_pip  # pip's dry run and its report

RICH_METADATA = """\
Metadata-Version: 2.1
Name: Rich_Pkg
Version: 1.0
Summary: A wheel with fields of every kind
Keywords: alpha, beta,gamma
Home-page: https://example.org/rich
Author: Jane Doe
Author-email: Jane Doe <jane@example.org>
License: MIT
Classifier: Programming Language :: Python :: 3
Classifier: License :: OSI Approved :: MIT License
Requires-Dist: chain-c
Requires-Dist: purepkg; extra == "docs"
Requires-Python: >=3.8
Project-URL: Source, https://example.org/rich/src
Provides-Extra: docs
X-Private-Field: not core metadata
Description-Content-Type: text/markdown

# Rich

A description in the body, with ünïcode.
"""
"""Core metadata with repeated fields, keywords, an unknown field and a body."""

REQUIREMENTS = ["chain-a", "extrapkg[fancy]", "Rich-Pkg"]
"""A dependency chain, extras asked for, and a wheel with rich metadata (an upper-case name)."""


#: pip 23.0's report lacks ``is_yanked`` and converts metadata in an older way; pip-accel writes
#: the report of pip 23.1 and newer, so only those pips are its reference.
NEWER_REPORT = pytest.mark.skipif(
    Version(pip_version()) < Version("23.1"), reason="pip 23.0 writes an older report"
)


@pytest.fixture
def env(isolated_env: dict[str, str]) -> dict[str, str]:
    """``isolated_env`` in which only 127.0.0.1 is reachable, and failures are not retried."""
    dead = f"http://127.0.0.1:{free_port()}"
    proxies = {name: dead for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    return isolated_env | proxies | {"PIP_RETRIES": "0", "PIP_ACCEL_MAX_RETRIES": "0"}


@pytest.fixture
def index(package_index: PackageIndex, tmp_path: Path) -> PackageIndex:
    """The fixture index, with the wheel of rich metadata too."""
    files = {"rich_pkg/__init__.py": "", "rich_pkg-1.0.dist-info/METADATA": RICH_METADATA}
    package_index.add(make_wheel(tmp_path / "wheels", "Rich_Pkg", "1.0", files))
    return package_index


def files_of(venv: Venv) -> dict[str, float]:
    """Every file and directory of a virtual environment, with its modification time."""
    paths = venv.path.rglob("*")
    return {str(path.relative_to(venv.path)): path.lstat().st_mtime for path in paths}


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The entries of a report by canonical project name."""
    return {canonical_name(item["metadata"]["name"]): item for item in report["install"]}


def shape(item: dict[str, Any]) -> dict[str, Any]:
    """What must agree between two reports' entries: the keys, the plan, the archive's hash."""
    info = item["download_info"]
    return {
        "keys": sorted(item),
        "download_info": sorted(info),
        "archive_info": info.get("archive_info"),
        "version": item["metadata"]["version"],
        "requested": item["requested"],
        "requested_extras": item.get("requested_extras"),
        "is_direct": item["is_direct"],
        "is_yanked": item["is_yanked"],
    }


def would_install(output: str) -> list[str]:
    """The "Would install" lines of a command's standard output."""
    return [line for line in output.splitlines() if line.startswith("Would install")]


def requested_projects(venv: Venv) -> set[str]:
    """The projects of a venv whose ``.dist-info`` has a ``REQUESTED`` file."""
    return {
        canonical_name(path.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        for path in venv.site_packages.glob("*.dist-info/REQUESTED")
    }


@NEWER_REPORT
def test_dry_run_reports_what_the_install_installs_as_pip_reports_it(
    env: dict[str, str], index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """A dry run's report and line equal pip's; the install then installs just that."""
    ours, pips = make_venv("ours"), make_venv("pips")
    before = files_of(ours)
    ours_file, pips_file = tmp_path / "ours.json", tmp_path / "pips.json"
    dry = accel(env, ours, "-i", index.url, "--dry-run", "--report", ours_file, *REQUIREMENTS)
    assert files_of(ours) == before, "the dry run changed the target"
    pip_dry = run(
        [*pip_cmd(pips), "install", "-i", index.url, "--dry-run", "--report", pips_file,
         *REQUIREMENTS], env, check=True,
    )  # fmt: skip

    report, expected = json.loads(ours_file.read_text()), json.loads(pips_file.read_text())
    assert sorted(report) == sorted(expected)
    for key in ("version", "pip_version", "environment"):
        assert report[key] == expected[key], key
    ours_items, pips_items = by_name(report), by_name(expected)
    assert {name: shape(item) for name, item in ours_items.items()} == {
        name: shape(item) for name, item in pips_items.items()
    }
    for name, item in ours_items.items():
        assert item["metadata"] == pips_items[name]["metadata"], name
        assert item["download_info"]["url"].startswith("file://")
    assert ours_items["rich-pkg"]["metadata"]["keywords"] == ["alpha", "beta", "gamma"]
    assert would_install(dry.stdout) == would_install(pip_dry.stdout) != [], describe(dry)

    accel(env, ours, "-i", index.url, *REQUIREMENTS)
    planned = {name: item["metadata"]["version"] for name, item in ours_items.items()}
    assert installed_packages(ours, env) == planned
    requested = {name for name, item in ours_items.items() if item["requested"]}
    assert requested_projects(ours) == requested == {"chain-a", "extrapkg", "rich-pkg"}


def test_dry_run_of_what_is_installed_would_install_nothing(
    env: dict[str, str], index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """After the install, a dry run says nothing, as pip's does, and changes nothing."""
    venv = make_venv()
    accel(env, venv, "-i", index.url, "chain-b")
    before = files_of(venv)
    ours_file, pips_file = tmp_path / "ours.json", tmp_path / "pips.json"
    dry = accel(env, venv, "-i", index.url, "--dry-run", "--report", ours_file, "chain-b")
    pip_dry = run(
        [*pip_cmd(venv), "install", "-i", index.url, "--dry-run", "--report", pips_file,
         "chain-b"], env, check=True,
    )  # fmt: skip
    assert would_install(dry.stdout) == would_install(pip_dry.stdout) == []
    assert "Nothing would be installed" in dry.stderr, describe(dry)
    assert json.loads(ours_file.read_text())["install"] == []
    assert json.loads(pips_file.read_text())["install"] == []
    assert files_of(venv) == before


def test_dry_run_from_a_stored_plan_reports_the_same(
    env: dict[str, str], index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """The second dry run takes the plan the first one stored, and says the same."""
    venv, pins = make_venv(), ["chain-a==1.0", "chain-b==1.0", "chain-c==1.0"]
    first_file, second_file = tmp_path / "first.json", tmp_path / "second.json"
    first = accel(env, venv, "-i", index.url, "--dry-run", "--report", first_file, *pins)
    second = accel(env, venv, "-i", index.url, "--dry-run", "--report", second_file, *pins)
    assert "Using the plan of an earlier run" in second.stderr, describe(second)
    assert json.loads(second_file.read_text()) == json.loads(first_file.read_text())
    assert would_install(second.stdout) == would_install(first.stdout)
    assert would_install(first.stdout) == ["Would install chain-a-1.0 chain-b-1.0 chain-c-1.0"]
    assert installed_packages(venv, env) == {}


def test_report_to_standard_output_with_an_install(
    env: dict[str, str], index: PackageIndex, make_venv: VenvFactory
) -> None:
    """``--report -`` without ``--dry-run``: the report on standard output, and the install."""
    venv = make_venv()
    result = accel(env, venv, "-i", index.url, "-q", "--report", "-", "chain-b")
    report = json.loads(result.stdout)
    planned = {canonical_name(item["metadata"]["name"]): item["metadata"]["version"]
               for item in report["install"]}  # fmt: skip
    assert planned == {"chain-b": "1.0", "chain-c": "1.0"}
    assert installed_packages(venv, env) == planned
    assert requested_projects(venv) == {"chain-b"}
    dist_info = venv.site_packages / "chain_b-1.0.dist-info"
    assert (dist_info / "INSTALLER").read_text().strip() == "pip-accel"


def test_report_file_with_an_install(
    env: dict[str, str], index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """``--report FILE`` with an install writes the plan it installs, with the user's mode."""
    venv, report_file = make_venv(), tmp_path / "report.json"
    accel(env, venv, "-i", index.url, "--report", report_file, "chain-c")
    items = json.loads(report_file.read_text())["install"]
    assert [(item["metadata"]["name"], item["requested"]) for item in items] == [("chain-c", True)]
    assert installed_packages(venv, env) == {"chain-c": "1.0"}
    assert oct(report_file.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())
    assert [path.name for path in tmp_path.glob(".report.json.*")] == []


def current_umask() -> int:
    """The process's umask (set and restored at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_report_that_cannot_be_written_stops_before_installing(
    env: dict[str, str], index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """A report in a missing directory: one line naming it, exit code 1, nothing installed."""
    venv, missing = make_venv(), tmp_path / "missing" / "report.json"
    result = accel(env, venv, "-i", index.url, "--report", missing, "chain-c", ok=False)
    assert result.returncode == 1, describe(result)
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and str(missing) in errors[0], describe(result)
    assert "Traceback" not in result.stderr
    assert installed_packages(venv, env) == {}


@NEWER_REPORT
def test_dry_run_of_an_editable_directory_installs_nothing(
    env: dict[str, str], index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """An editable directory is reported as pip reports it, and neither pip nor pip-accel
    installs it or its dependencies."""
    project = tmp_path / "project"
    for path, text in pure_project("localproj", "0.1", dependencies=["chain-c"], flit=True).items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(str(text))
    ours, pips = make_venv("ours"), make_venv("pips")
    before = files_of(ours)
    ours_file, pips_file = tmp_path / "ours.json", tmp_path / "pips.json"
    dry = accel(env, ours, "-i", index.url, "--dry-run", "--report", ours_file, "-e", project)
    pip_dry = run(
        [*pip_cmd(pips), "install", "-i", index.url, "--dry-run", "--report", pips_file,
         "-e", project], env, check=True,
    )  # fmt: skip
    assert files_of(ours) == before, "the dry run changed the target"
    assert would_install(dry.stdout) == would_install(pip_dry.stdout)
    assert would_install(dry.stdout) == ["Would install chain-c-1.0 localproj-0.1"]
    report, expected = (
        by_name(json.loads(ours_file.read_text())),
        by_name(json.loads(pips_file.read_text())),
    )
    assert report["localproj"]["download_info"] == expected["localproj"]["download_info"]
    assert {name: shape(item) for name, item in report.items()} == {
        name: shape(item) for name, item in expected.items()
    }


# Unit tests: no server, no venv.
