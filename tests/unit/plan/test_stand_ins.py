"""Unit tests of ``pip_accel.plan.stand_ins``: which local projects get a stand-in wheel,
what its metadata says, the command line that names it, and the outcome without it."""

import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import cast

import pytest
from pip._internal.commands.install import InstallCommand

from pip_accel.config import Config
from pip_accel.datadir.scratch import PrivateDirectory
from pip_accel.environment import TargetEnvironment
from pip_accel.pip.command_line import CommandLine, OptionGroup, parse_install
from pip_accel.pip.runner import Pip
from pip_accel.plan.plan import Outcome, PlannedWheel
from pip_accel.plan.stand_ins import (
    PREFIX,
    handed_to_pip,
    keyed,
    local_projects,
    stand_ins,
    static_project,
    write_wheel,
)
from pip_accel.request import InstallRequest

from support.fixtures import write_files

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "My.Proj"
version = "1.0.0"
requires-python = ">=3.9"
dependencies = ["attrs>=22", "tomli; python_version < '3.11'"]
{more}
[project.optional-dependencies]
test = ["pytest", "my-proj[docs]"]
docs = ["sphinx; sys_platform != 'win32'"]
"""


def needs_only_deps() -> None:
    """Skip the test where pip's install command has no ``--only-deps`` (pip 23.0)."""
    options = InstallCommand("install", "").parser._get_all_options()
    if not any(str(option).startswith("--only-deps") for option in options):
        pytest.skip("this pip has no --only-deps")


def project(tmp_path: Path, more: str = "", name: str = "proj") -> Path:
    """A project directory with :data:`PYPROJECT` (``more`` added to its ``[project]``)."""
    return write_files(tmp_path / name, {"pyproject.toml": PYPROJECT.format(more=more)})


def request(argv: list[str], tmp_path: Path) -> InstallRequest:
    """An install request for ``argv`` (only its command line matters here)."""
    return replace_command_line(parse_install(argv))


def replace_command_line(command_line: CommandLine) -> InstallRequest:
    """A request of nothing but ``command_line``; ``dataclasses.replace`` keeps the rest."""
    return InstallRequest(cast(Config, None), command_line, cast(TargetEnvironment, None),
                          cast(Pip, None))  # fmt: skip


def test_static_metadata_becomes_the_stand_ins_metadata(tmp_path: Path) -> None:
    """Name, version, Requires-Python, the dependencies and each extra's, markers kept."""
    found = static_project(project(tmp_path))
    assert found is not None
    metadata = Parser().parsestr(found.metadata())
    assert (metadata["Name"], metadata["Version"]) == ("My.Proj", "1.0.0")
    assert metadata["Requires-Python"] == ">=3.9"
    assert metadata.get_all("Provides-Extra") == ["test", "docs"]
    assert metadata.get_all("Requires-Dist") == [
        "attrs>=22",
        'tomli; python_version < "3.11"',
        'pytest; extra == "test"',
        'my-proj[docs]; extra == "test"',
        'sphinx; (sys_platform != "win32") and extra == "docs"',
    ]
    assert found.wheel_name == "my_proj-1.0.0-py3-none-any.whl"


@pytest.mark.parametrize(
    "more",
    [
        'dynamic = ["dependencies"]',
        'dynamic = ["version"]',
        'dynamic = ["optional-dependencies"]',
        'dynamic = ["requires-python"]',
    ],
)
def test_dynamic_metadata_is_the_back_ends(tmp_path: Path, more: str) -> None:
    """A field the plan needs that only the back-end knows: no stand-in."""
    text = PYPROJECT.format(more=more)
    for field in ("version", "requires-python", "dependencies"):
        if field in more:
            text = "\n".join(line for line in text.splitlines() if not line.startswith(field))
    write_files(tmp_path / "proj", {"pyproject.toml": text})
    assert static_project(tmp_path / "proj") is None


@pytest.mark.parametrize(
    "text",
    [
        "[build-system]\nrequires = []\n",
        "not toml [",
        '[project]\nname = "x"\n',
        '[project]\nname = "x"\nversion = "one"\n',
        '[project]\nname = "-x"\nversion = "1"\n',
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["x >>> 1"]\n',
        '[project]\nname = "x"\nversion = "1"\ndependencies = "attrs"\n',
    ],
    ids=[
        "no-project",
        "bad-toml",
        "no-version",
        "bad-version",
        "bad-name",
        "bad-requirement",
        "not-a-list",
    ],
)
def test_what_is_not_valid_is_left_to_pip(tmp_path: Path, text: str) -> None:
    """No [project], a missing or bad field: pip and the back-end say what is wrong."""
    write_files(tmp_path / "proj", {"pyproject.toml": text})
    assert static_project(tmp_path / "proj") is None
    assert static_project(tmp_path / "missing") is None


def test_the_stand_in_wheel_holds_its_metadata_only(tmp_path: Path) -> None:
    """METADATA, WHEEL and RECORD in the dist-info directory pip expects of the file name."""
    found = static_project(project(tmp_path))
    assert found is not None
    wheel = write_wheel(found, tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("my_proj-1.0.0.dist-info/METADATA").decode() == found.metadata()
    assert sorted(names) == [f"my_proj-1.0.0.dist-info/{name}"
                             for name in ("METADATA", "RECORD", "WHEEL")]  # fmt: skip


def test_editables_and_path_arguments_are_local_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-e of a directory (with extras), and an argument that looks like a path; not a name that
    happens to be a directory, nor a project with dynamic metadata."""
    monkeypatch.chdir(tmp_path)
    project(tmp_path, name="proj")
    project(tmp_path, name="other")
    project(tmp_path, 'dynamic = ["version"]'.replace("version", "dependencies"), name="dyn")
    argv = ["-e", "proj[test]", "./other", "other", "-e", "dyn", "attrs"]
    found = local_projects(parse_install(argv))
    assert [(item.path, item.extras, item.editable) for item in found] == [
        (tmp_path / "proj", "[test]", True),
        (tmp_path / "other", "", False),
    ]
    assert found[0].planned().pip_requirement == ["--editable", str(tmp_path / "proj")]
    assert found[1].planned().pip_requirement == [str(tmp_path / "other")]
    assert found[0].planned().requested and found[0].planned().handed_to_pip


def test_the_planner_sees_stand_ins_and_the_outcome_hands_the_projects_to_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line names the stand-in instead of -e; restoring drops its wheel and hands
    the project to pip after what else pip installs."""
    monkeypatch.chdir(tmp_path)
    project(tmp_path)
    with stand_ins(request(["-e", "./proj[test]", "attrs"], tmp_path)) as local:
        command_line = local.request.command_line
        assert command_line.options.editables == []
        (stand_in,) = local.wheels
        assert stand_in.is_file()
        assert command_line.arguments == [f"My.Proj[test] @ {stand_in.as_uri()}", "attrs"]
        assert local.names == {"my_proj-1.0.0-py3-none-any.whl"}
        attrs = PlannedWheel("attrs", "23.1", False, str(tmp_path / "attrs.whl"), 1, 1)
        planned = PlannedWheel("my-proj", "1.0.0", True, str(stand_in), 1, 1)
        outcome = local.restore(Outcome([planned, attrs], [], False))
    assert not stand_in.exists()
    assert outcome.wheels == [attrs]
    assert [item.pip_requirement for item in outcome.handed_to_pip] == [
        ["--editable", str(tmp_path / "proj")]
    ]


def test_a_run_without_local_projects_makes_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to stand in, nothing made: a run killed while it plans leaves nothing in the
    temporary directory (it used to leave an empty ``pip-accel-stand-ins-*`` behind)."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.chdir(tmp_path)
    project(tmp_path)
    for argv in (["attrs"], ["--dry-run", "-e", "proj"]):
        with stand_ins(request(argv, tmp_path)) as local:
            assert not local.wheels
            assert list(temporary.iterdir()) == []


def test_the_stand_ins_of_a_killed_run_are_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-ins live in a private directory (with its lock) of the temporary directory:
    the next run with stand-ins removes one whose run is gone, not one whose run lives, and
    its own at its end."""
    temporary = tmp_path / "tmp"
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.chdir(tmp_path)
    project(tmp_path)
    killed = write_files(temporary / f"{PREFIX}killed", {"proj-1.0-py3-none-any.whl": "x"})
    (temporary / f"{PREFIX}killed.lock").touch()
    living = PrivateDirectory(temporary, PREFIX)
    try:
        with stand_ins(request(["-e", "proj"], tmp_path)) as local:
            (stand_in,) = local.wheels
            assert stand_in.parent.parent == temporary
            assert stand_in.parent.name.startswith(PREFIX)
            assert not killed.exists()
            assert living.path.is_dir()
        assert sorted(temporary.iterdir()) == sorted([living.path, Path(living.lock.lock_file)])
    finally:
        living.close()
    assert list(temporary.iterdir()) == []


def test_only_deps_hands_nothing_and_reports_keep_pips_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--only-deps installs the dependencies alone; --dry-run and --report (pip's own entries)
    and hash-checking mode get no stand-in."""
    needs_only_deps()
    monkeypatch.chdir(tmp_path)
    project(tmp_path)
    with stand_ins(request(["--only-deps", "-e", "proj"], tmp_path)) as local:
        assert local.restore(Outcome([], [], True)).handed_to_pip == []
    for argv in (["--dry-run"], ["--report", "-"], ["--require-hashes"]):
        with stand_ins(request([*argv, "-e", "proj"], tmp_path)) as local:
            assert not local.wheels
            assert local.request.command_line.options.editables == ["proj"]


def test_replacing_groups_keeps_the_rest_of_the_command_line() -> None:
    """Each replaced group becomes an argument in its place; the others stay as they were."""
    command_line = parse_install(["-e", "a", "-i", "https://x/simple", "-e", "b", "c"])
    replaced = command_line.replacing({OptionGroup(("-e", "a"), "editables"): "a @ file:///a.whl"})
    assert [group.tokens for group in replaced.groups] == [
        ("a @ file:///a.whl",), ("-i", "https://x/simple"), ("-e", "b"), ("c",),
    ]  # fmt: skip
    assert replaced.options.editables == ["b"]
    assert command_line.options.editables == ["a", "b"]
    assert command_line.replacing({}) is command_line


def test_a_stored_plans_key_names_the_projects_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key names each static project by its directory and metadata: changing a dependency
    changes it; a stored plan hands the project to pip, but with --only-deps."""
    needs_only_deps()
    monkeypatch.chdir(tmp_path)
    project(tmp_path)
    before = keyed(request(["-e", "proj", "attrs"], tmp_path))
    assert before.options.editables == []
    assert before.arguments[0].startswith(f"My.Proj @ {(tmp_path / 'proj').as_uri()}#metadata=")
    assert keyed(request(["-e", "proj", "attrs"], tmp_path)).arguments == before.arguments
    project(tmp_path, 'description = "changes no metadata the plan reads"')
    assert keyed(request(["-e", "proj", "attrs"], tmp_path)).arguments == before.arguments
    write_files(tmp_path / "proj", {"pyproject.toml": PYPROJECT.format(more="").replace(
        '"attrs>=22"', '"attrs>=23"')})  # fmt: skip
    assert keyed(request(["-e", "proj", "attrs"], tmp_path)).arguments != before.arguments
    (handed,) = handed_to_pip(request(["-e", "proj"], tmp_path))
    assert handed.pip_requirement == ["--editable", str(tmp_path / "proj")]
    assert handed_to_pip(request(["--only-deps", "-e", "proj"], tmp_path)) == []
