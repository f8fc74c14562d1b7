"""Editables and local directories at pip's cost, in pip's environment.

A local project whose ``pyproject.toml`` states its metadata is planned from a
stand-in wheel (:mod:`pip_accel.plan.stand_ins`): its dependencies are
installed by pip-accel, and pip builds the project itself once, in the one
isolated build environment its own install sets up too. Each test compares
the environment with pip's own install of the same command (``pip freeze``,
``REQUESTED``, ``direct_url.json``, ``pip check``), and counts the build
environments in pip's verbose output.
"""

import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from support.commands import describe, run
from support.fixtures import pyproject, write_files
from support.index import PackageIndex
from support.venvs import VenvFactory, accel, environment_of, pip_cmd

pytestmark = pytest.mark.every_pip  # how pip prepares local projects

PREPARED = r"^\s*(Processing |Obtaining file://){}(\[\w+\])?\s*$"
"""pip's line when it prepares a local project (an isolated build environment, its metadata),
for the project's path."""


PIP_STARTED = re.compile(r"pip_accel\.pip\.runner\[\d+\] DEBUG Running .* -m pip ")
"""pip-accel's verbose line when it starts a pip process."""


def write_project(
    directory: Path, dynamic: bool = False, dependencies: Sequence[str] = ("chain-c",)
) -> Path:
    """Write ``localproj`` 0.1 (setuptools), which depends on chain-c (or ``dependencies``)
    and, with its extra ``more``, on chain-b; with ``dynamic``, its dependencies are the
    back-end's to say."""
    text = pyproject(
        "localproj", "0.1", dependencies=dependencies, extras={"more": ["chain-b"]},
        packages=["localproj"],
    )  # fmt: skip
    if dynamic:
        text = text.replace(f"dependencies = {json.dumps(list(dependencies))}",
                            'dynamic = ["dependencies"]')  # fmt: skip
        text += '\n[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.txt"]}\n'
    files = {"localproj/__init__.py": "VALUE = 1\n", "pyproject.toml": text,
             "requirements.txt": "chain-c\n"}  # fmt: skip
    return write_files(directory, files)


def preparations(result: subprocess.CompletedProcess[str], project: Path) -> int:
    """How often pip prepared ``project`` (in a build environment of its own), from its output."""
    pattern = re.compile(PREPARED.format(re.escape(str(project))), re.MULTILINE)
    return len(pattern.findall(result.stdout + result.stderr))


@pytest.mark.parametrize(
    ("arguments", "installed"),
    [
        (["-e", "{project}[more]"], ["chain-b==1.0", "chain-c==1.0"]),
        (["{project}"], ["chain-c==1.0", "file://{project}"]),
    ],
    ids=["editable-with-extra", "local-directory"],
)
def test_local_project_is_prepared_once_into_pips_environment(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
    arguments: list[str],
    installed: list[str],
) -> None:
    """The project's dependencies are planned without preparing it: pip prepares it once (one
    build environment, as in its own install), in a first and a later run, and both make
    pip's environment."""
    project = write_project(tmp_path / "project")
    args = [argument.format(project=project) for argument in arguments]
    by_pip = make_venv("by-pip")
    command = [*pip_cmd(by_pip), "install", "-v", "-i", package_index.url, *args]
    assert preparations(run(command, isolated_env, check=True), project) == 1
    expected = environment_of(by_pip, isolated_env)
    for line in installed:
        assert line.format(project=project) in expected["freeze"]
    for name in ("first", "later"):
        venv = make_venv(name)
        result = accel(isolated_env, venv, "-v", "-i", package_index.url, *args)
        assert preparations(result, project) == 1, describe(result)
        if name == "later":  # the stored plan, and pip once, for the project
            assert "Using the plan of an earlier run" in result.stderr, describe(result)
            assert len(PIP_STARTED.findall(result.stderr)) == 1, describe(result)
        assert environment_of(venv, isolated_env) == expected
        run([*pip_cmd(venv), "check"], isolated_env, check=True)


def test_project_with_dynamic_dependencies_is_planned_by_pip(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """Dependencies that only the back-end knows: pip prepares the project to plan too (beside
    its own install's preparation), and the environment is pip's."""
    project = write_project(tmp_path / "project", dynamic=True)
    by_pip, first, later = make_venv("by-pip"), make_venv("first"), make_venv("later")
    run([*pip_cmd(by_pip), "install", "-i", package_index.url, "-e", project], isolated_env,
        check=True)  # fmt: skip
    accel(isolated_env, first, "-i", package_index.url, "-e", project)
    result = accel(isolated_env, later, "-v", "-i", package_index.url, "-e", project)
    assert preparations(result, project) > 1, describe(result)
    expected = environment_of(by_pip, isolated_env)
    assert "chain-c==1.0" in expected["freeze"]
    assert environment_of(first, isolated_env) == expected
    assert environment_of(later, isolated_env) == expected


def test_changed_dependencies_are_planned_again(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """The stored plan counts the project by its metadata: a dependency added to its
    pyproject.toml is planned (and installed) at once, as pip installs it."""
    project = write_project(tmp_path / "project")
    accel(isolated_env, make_venv("before"), "-i", package_index.url, "-e", project)
    write_project(tmp_path / "project", dependencies=["chain-c", "chain-a"])
    after, by_pip = make_venv("after"), make_venv("by-pip")
    result = accel(isolated_env, after, "-i", package_index.url, "-e", project)
    assert "Using the plan of an earlier run" not in result.stderr
    run([*pip_cmd(by_pip), "install", "-i", package_index.url, "-e", project], isolated_env,
        check=True)  # fmt: skip
    expected = environment_of(by_pip, isolated_env)
    assert "chain-a==1.0" in expected["freeze"]
    assert environment_of(after, isolated_env) == expected
