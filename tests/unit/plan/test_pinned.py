"""Unit tests of ``pip_accel.plan.pinned``: a set of pins planned from its wheels' metadata.

The wheels are real (small, written by the fixtures); the target is this interpreter's
description, with a ``sys.path`` of a temporary directory that stands for an empty venv.
"""

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment

from pip_accel.pip.command_line import parse_install
from pip_accel.plan.pinned import (
    NoPinnedPlan,
    choose_wheels,
    close_over_dependencies,
    installed_projects,
    pinned_plan,
    read_pins,
    unset_resolution_options,
)

from support.fixtures import make_wheel, pkg_info

TAGS = ["cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64", "py3-none-any"]
"""A CPython 3.11 target on Linux, best tag first."""

MARKERS = {key: str(value) for key, value in default_environment().items()}
"""This interpreter's marker values."""


def wheel(
    directory: Path,
    name: str,
    version: str = "1.0",
    dependencies: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] | None = None,
    tag: str = "py3-none-any",
    requires_python: str | None = None,
) -> Path:
    """A wheel whose METADATA declares ``dependencies`` and ``extras``."""
    metadata = pkg_info(name, version, dependencies, extras)
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    stem = f"{name.replace('-', '_')}-{version}"
    files = {f"{stem}.dist-info/METADATA": metadata, f"{name.replace('-', '_')}/__init__.py": ""}
    return make_wheel(directory, name, version, files, tag=tag)


def target(tmp_path: Path) -> dict[str, Any]:
    """This interpreter's markers, and an empty site-packages."""
    site = tmp_path / "site-packages"
    site.mkdir(exist_ok=True)
    return {"markers": MARKERS, "sys_path": [str(site)]}


def plan_names(
    tmp_path: Path, requirements: list[tuple[str, str, list[str]]], wheels: list[Path]
) -> list[str] | None:
    """The names and versions the pinned plan installs, or None when pip must plan."""
    options = parse_install(["x==1"]).options
    plan = pinned_plan(requirements, options, wheels, target(tmp_path), TAGS)
    return None if plan is None else [str(item) for item in plan.distributions]


def test_a_closed_set_of_pins_is_planned_in_the_order_of_the_requirements(
    tmp_path: Path,
) -> None:
    """chain-a needs chain-b needs chain-c: all pinned, all planned, requested, as wheels."""
    wheels = [
        wheel(tmp_path, "chain-a", dependencies=["chain-b>=1"]),
        wheel(tmp_path, "chain-b", dependencies=["chain-c"]),
        wheel(tmp_path, "chain-c"),
    ]
    requirements: list[tuple[str, str, list[str]]] = [
        ("chain-c", "1.0", []), ("Chain_A", "1.0", []), ("chain-b", "1", []),
    ]  # fmt: skip
    options = parse_install(["x==1"]).options
    plan = pinned_plan(requirements, options, wheels, target(tmp_path), TAGS)
    assert plan is not None
    assert [str(item) for item in plan.distributions] == [
        "chain-c 1.0", "chain-a 1.0", "chain-b 1.0",
    ]  # fmt: skip
    assert all(item.requested and not item.handed_to_pip for item in plan.distributions)
    assert plan.distributions[1].local_path == wheels[0]


@pytest.mark.parametrize(
    ("dependencies", "pinned"),
    [
        (["chain-b"], []),  # a dependency that is not pinned
        (["chain-b>=2"], [("chain-b", "1.0", [])]),  # a version the dependency does not allow
        (["chain-b @ https://example.invalid/b.whl"], [("chain-b", "1.0", [])]),  # a URL
    ],
)
def test_a_dependency_outside_the_pins_leaves_the_plan_to_pip(
    tmp_path: Path, dependencies: list[str], pinned: list[tuple[str, str, list[str]]]
) -> None:
    """pip resolves it (or says what conflicts)."""
    wheels = [wheel(tmp_path, "chain-a", dependencies=dependencies), wheel(tmp_path, "chain-b")]
    assert plan_names(tmp_path, [("chain-a", "1.0", []), *pinned], wheels) is None


def test_markers_are_the_targets_and_extras_add_their_dependencies(tmp_path: Path) -> None:
    """A dependency for another Python is not needed; an extra asked for by a dependent
    brings its own dependencies, which must be pinned too."""
    wheels = [
        wheel(tmp_path, "app", dependencies=["lib[fancy]", 'old; python_version < "3"']),
        wheel(tmp_path, "lib", extras={"fancy": ["helper"]}),
        wheel(tmp_path, "helper"),
    ]
    requirements: list[tuple[str, str, list[str]]] = [("app", "1.0", []), ("lib", "1.0", [])]
    assert plan_names(tmp_path, requirements, wheels) is None  # helper is not pinned
    with_helper = [*requirements, ("helper", "1.0", [])]
    assert plan_names(tmp_path, with_helper, wheels) == ["app 1.0", "lib 1.0", "helper 1.0"]


def test_an_extra_the_wheel_does_not_provide_leaves_the_plan_to_pip(tmp_path: Path) -> None:
    """pip warns about it; pip-accel lets it."""
    wheels = [wheel(tmp_path, "lib")]
    assert plan_names(tmp_path, [("lib", "1.0", ["missing"])], wheels) is None


def test_requires_python_is_the_targets(tmp_path: Path) -> None:
    """A wheel for other Pythons leaves the plan to pip."""
    wheels = [wheel(tmp_path, "lib", requires_python=">=3.99")]
    assert plan_names(tmp_path, [("lib", "1.0", [])], wheels) is None
    fits = [wheel(tmp_path / "fits", "lib", requires_python=f">={sys.version_info[0]}")]
    assert plan_names(tmp_path, [("lib", "1.0", [])], fits) == ["lib 1.0"]


def test_the_best_wheel_for_the_target_is_chosen_and_a_tie_refused(tmp_path: Path) -> None:
    """pip's choice: the wheel whose best tag comes first; two of one rank: pip decides."""
    generic = wheel(tmp_path / "a", "lib")
    native = wheel(tmp_path / "b", "lib", tag="cp311-cp311-manylinux_2_17_x86_64")
    other = wheel(tmp_path / "c", "lib", tag="cp312-cp312-manylinux_2_17_x86_64")
    pins = read_pins([("lib", "1.0", [])])
    choose_wheels(pins, [generic, other, native], TAGS)
    assert pins["lib"].wheel == native
    with pytest.raises(NoPinnedPlan, match="2 best wheels"):
        choose_wheels(read_pins([("lib", "1.0", [])]), [generic, generic], TAGS)
    with pytest.raises(NoPinnedPlan, match="0 best wheels"):
        choose_wheels(read_pins([("lib", "1.0", [])]), [other], TAGS)


def test_pins_merge_extras_and_refuse_two_versions() -> None:
    """One project twice: its extras together; at two versions: pip says so."""
    pins = read_pins([("Lib", "1.0", ["A"]), ("lib", "1.0.0", ["b"])])
    assert pins["lib"].extras == {"a", "b"}
    with pytest.raises(NoPinnedPlan, match="two versions"):
        read_pins([("lib", "1.0", []), ("lib", "2.0", [])])
    with pytest.raises(NoPinnedPlan):
        read_pins([])


def test_a_project_installed_already_leaves_the_plan_to_pip(tmp_path: Path) -> None:
    """pip's plan leaves out what is installed at that version: pip decides."""
    described = target(tmp_path)
    (Path(described["sys_path"][0]) / "Lib-0.9.dist-info").mkdir()
    assert installed_projects(described["sys_path"]) == {"lib"}
    options = parse_install(["x==1"]).options
    plan = pinned_plan([("lib", "1.0", [])], options, [wheel(tmp_path, "lib")], described, TAGS)
    assert plan is None


@pytest.mark.parametrize(
    "argv",
    [
        ["-U", "x"], ["--no-deps", "x"], ["-c", "c.txt", "x"], ["--target", "t", "x"],
        ["--user", "x"], ["--prefix", "p", "x"], ["--ignore-installed", "x"],
        ["--force-reinstall", "x"], ["--require-hashes", "x"], ["--ignore-requires-python", "x"],
        ["-e", ".", "x"],
    ],
)  # fmt: skip
def test_options_that_change_the_resolution_leave_the_plan_to_pip(argv: list[str]) -> None:
    """Each of them, from the command line."""
    with pytest.raises(NoPinnedPlan, match="is set"):
        unset_resolution_options(parse_install(argv).options)


def test_default_options_change_nothing() -> None:
    """pip's defaults (pip 26's release control included) are not settings."""
    unset_resolution_options(parse_install(["-i", "https://mirror/simple", "-q", "x"]).options)


def test_a_damaged_wheel_leaves_the_plan_to_pip(tmp_path: Path) -> None:
    """Unreadable metadata is no reason to fail: pip plans, and says what it finds."""
    damaged = tmp_path / "lib-1.0-py3-none-any.whl"
    damaged.write_bytes(b"not a zip")
    assert plan_names(tmp_path, [("lib", "1.0", [])], [damaged]) is None


def test_a_dependency_asking_for_more_extras_is_looked_at_again(tmp_path: Path) -> None:
    """lib is checked first without extras, then again once app asks for lib[fancy]."""
    wheels = [
        wheel(tmp_path, "lib", extras={"fancy": ["helper>=2"]}),
        wheel(tmp_path, "app", dependencies=["lib[fancy]"]),
        wheel(tmp_path, "helper"),
    ]
    pins = read_pins([("lib", "1.0", []), ("app", "1.0", []), ("helper", "1.0", [])])
    choose_wheels(pins, wheels, TAGS)
    with pytest.raises(NoPinnedPlan, match=r"lib needs helper>=2; extra == \"fancy\", not"):
        close_over_dependencies(pins, MARKERS, "3.11.7")
