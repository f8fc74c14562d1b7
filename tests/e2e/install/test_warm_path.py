"""The warm path: stored plans, unpacked trees and linked installs, through the real command.

A repeated run must start no pip process and open no network connection. To prove it,
the run goes through a small launcher (``support.helpers.NO_PIP_LAUNCHER``) that installs a Python
audit hook in the pip-accel process before running the same ``main()`` as the console
script: the hook refuses to start a process that runs pip, and refuses any connection to a
network address, so a run that tries either fails (and says why on standard error).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pip
import pytest
from packaging.version import Version

from support.bench import Bench
from support.commands import Command, build_count, describe, pip_accel_cmd, run
from support.fixtures import BASIC
from support.index import PackageIndex
from support.venvs import (
    Venv,
    accel,
    accel_without_pip,
    assert_valid_bytecode,
    cached_wheels,
    files_of,
    installed_packages,
    pip_cmd,
)

pytestmark = pytest.mark.once  # stored plans and the warm path: pip-independent

REUSED = "Using the plan of an earlier run"
"""What pip-accel logs when it installs from a stored plan."""


def requirements_file(tmp_path: Path, index: PackageIndex) -> Path:
    """A requirements file of the basic set that names the test index."""
    path = tmp_path / "requirements.txt"
    path.write_text("\n".join([f"--index-url {index.url}", *BASIC]) + "\n")
    return path


def test_repeated_run_starts_no_pip_and_opens_no_connection(bench: Bench) -> None:
    """The second run into a new venv reuses the plan: no pip, no network, the same files."""
    requirements = requirements_file(bench.tmp_path, bench.index)
    first_venv = bench.make_venv("one")
    first = accel(bench.env, first_venv, "-r", requirements)
    assert REUSED not in first.stderr
    bench.index.stop()
    # Another run's download in progress (a private directory) does not change the question.
    (Path(bench.env["PIP_ACCEL_CACHE"]) / "sources" / ".incoming-other-run").mkdir()
    venv = bench.make_venv("two")
    second = accel_without_pip(bench.env, venv, "-r", requirements)
    assert second.returncode == 0, describe(second)
    assert "AUDIT" not in second.stderr
    assert REUSED in second.stderr
    assert installed_packages(venv, bench.env) == installed_packages(first_venv, bench.env)
    assert files_of(venv) == files_of(first_venv)
    hello = run([venv.bin / "scriptpkg-hello"], bench.env, check=True)
    assert hello.stdout.strip() == "hello from scriptpkg"
    run([*pip_cmd(venv), "check"], bench.env, check=True)


def test_the_launcher_notices_pip(bench: Bench) -> None:
    """Without a stored plan pip must run, and the launcher stops it: the proof can fail."""
    result = accel_without_pip(bench.env, bench.make_venv(), "--index-url", bench.index.url, *BASIC)
    assert result.returncode != 0
    assert "AUDIT: refused to start pip" in result.stderr


def test_a_changed_requirements_file_is_planned_anew(bench: Bench) -> None:
    """Any change to a requirements file, even a nested one, invalidates the stored plan."""
    nested = bench.tmp_path / "nested.txt"
    nested.write_text("purepkg==1.0\n")
    top = bench.tmp_path / "top.txt"
    top.write_text(f"--index-url {bench.index.url}\n-r nested.txt\n")
    accel(bench.env, bench.make_venv("one"), "-r", top)
    assert REUSED in accel(bench.env, bench.make_venv("two"), "-r", top).stderr
    nested.write_text("purepkg==2.0\n")
    venv = bench.make_venv("three")
    result = accel(bench.env, venv, "-r", top)
    assert REUSED not in result.stderr
    # The kept start of the same command line found no fresh plan and fell back: once.
    assert result.stderr.count("Installing for ") == 1, describe(result)
    assert installed_packages(venv, bench.env) == {"purepkg": "2.0"}


def test_a_changed_wheel_is_planned_anew(bench: Bench) -> None:
    """A cached wheel that changed after the plan was stored makes pip-accel plan again."""
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "cext")
    binaries = Path(bench.env["PIP_ACCEL_CACHE"]) / "binaries"
    (wheel,) = cached_wheels(binaries, "cext-*.whl")
    os.utime(wheel, ns=(wheel.stat().st_atime_ns, wheel.stat().st_mtime_ns + 10**9))
    venv = bench.make_venv("two")
    result = accel(bench.env, venv, "--index-url", bench.index.url, "cext")
    assert REUSED not in result.stderr
    assert "A wheel of the stored plan changed" in result.stderr
    code = "import cext._speedups as s; print(s.add(2, 3))"
    assert run([venv.python, "-c", code], bench.env, check=True).stdout.strip() == "5"


def test_another_interpreter_is_planned_anew(bench: Bench) -> None:
    """A plan made for one Python version is not reused for another."""
    other = other_python()
    if other is None:
        pytest.skip("no Python of another minor version on this machine")
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "purepkg==1.0")
    run([other, "-m", "venv", "--without-pip", bench.tmp_path / "other"], bench.env, check=True)
    venv = Venv(bench.tmp_path / "other")
    result = accel(bench.env, venv, "--index-url", bench.index.url, "purepkg==1.0")
    assert REUSED not in result.stderr
    code = "import purepkg, sys; print(purepkg.VERSION, purepkg.__cached__)"
    output = run([venv.python, "-c", code], bench.env, check=True).stdout
    assert output.startswith("1.0 ")
    assert Path(output.split()[1]).is_file(), "no bytecode for the other version"


def test_installed_distributions_are_part_of_the_plan(bench: Bench) -> None:
    """A venv holding other distributions gets its own plan, not the one of an empty venv."""
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "chain-a")
    venv = bench.make_venv("two")
    accel(bench.env, venv, "--index-url", bench.index.url, "chain-c")
    result = accel(bench.env, venv, "--index-url", bench.index.url, "chain-a")
    assert REUSED not in result.stderr
    assert "Installed 2 packages" in result.stderr, "chain-c was installed already"


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
@pytest.mark.once
def test_link_modes_install_valid_bytecode(bench: Bench, mode: str) -> None:
    """Both link modes give files with the tree's times, so the bytecode stays valid."""
    env = {**bench.env, "PIP_ACCEL_LINK_MODE": mode}
    venv = bench.make_venv()
    accel(env, venv, "--index-url", bench.index.url, "purepkg==1.0")
    module = venv.site_packages / "purepkg" / "__init__.py"
    assert (module.stat().st_nlink > 1) == (mode == "hardlink")
    (cached,) = module.parent.joinpath("__pycache__").glob("__init__.*.pyc")
    assert_valid_bytecode(module, cached)
    record = (venv.site_packages / "purepkg-1.0.dist-info" / "RECORD").read_text()
    assert "purepkg/__pycache__/__init__." in record
    assert (venv.site_packages / "purepkg-1.0.dist-info" / "RECORD").stat().st_nlink == 1
    run([*pip_cmd(venv), "uninstall", "--yes", "purepkg"], bench.env, check=True)
    assert not list(venv.site_packages.glob("purepkg*"))


@pytest.mark.once
def test_reinstalling_never_writes_through_a_link(bench: Bench) -> None:
    """A copy over a hard-linked file replaces the link: the tree keeps its contents."""
    venv = bench.make_venv()
    accel(bench.env, venv, "--index-url", bench.index.url, "purepkg==1.0")
    module = venv.site_packages / "purepkg" / "__init__.py"
    assert module.stat().st_nlink == 2, "not linked to its tree"
    (tree_file,) = (Path(bench.env["PIP_ACCEL_CACHE"]) / "trees").rglob("purepkg/__init__.py")
    contents = tree_file.read_bytes()
    copying = {**bench.env, "PIP_ACCEL_LINK_MODE": "copy"}
    accel(copying, venv, "--index-url", bench.index.url, "-I", "purepkg==1.0")
    assert module.stat().st_nlink == 1
    assert tree_file.stat().st_nlink == 1
    assert tree_file.read_bytes() == contents


def other_python() -> str | None:
    """A Python 3 interpreter of another minor version than the tests', if there is one.

    Looked for on PATH and among pyenv's versions (whose shims on PATH may refuse to run).
    Python 3.12 and newer only with pip 23.2 and newer, the first pip that runs on them.
    """
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    minors = [10] + ([12, 13] if Version(pip.__version__) >= Version("23.2") else [])
    for minor in minors:
        if minor == sys.version_info.minor:
            continue
        candidates = [shutil.which(f"python3.{minor}"), *pyenv.glob(f"3.{minor}.*/bin/python3")]
        for candidate in filter(None, candidates):
            if run_ok([str(candidate), "-c", "import venv"]):
                return str(candidate)
    return None


def run_ok(command: list[str]) -> bool:
    """Whether a command succeeds."""
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("damage", ["manifest", "module"])
@pytest.mark.once
def test_a_damaged_tree_is_unpacked_again(bench: Bench, damage: str) -> None:
    """A tree with an unreadable manifest, or that lost a file, is unpacked again."""
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "purepkg==1.0")
    trees = Path(bench.env["PIP_ACCEL_CACHE"]) / "trees"
    if damage == "manifest":
        (manifest,) = trees.rglob("manifest.json")
        manifest.write_text("{")
    else:
        (module,) = trees.rglob("purepkg/__init__.py")
        module.unlink()
    venv = bench.make_venv("two")
    result = accel(bench.env, venv, "--index-url", bench.index.url, "purepkg==1.0")
    assert "Unpacking and compiling 1 new wheel" in result.stderr
    code = "import purepkg; print(purepkg.VERSION)"
    assert run([venv.python, "-c", code], bench.env, check=True).stdout.strip() == "1.0"


@pytest.mark.skipif(
    Version(pip.__version__) < Version("26"), reason="pip before 26 prepares sdists when planning"
)
def test_no_binary_sdists_are_planned_from_their_wheels_metadata(bench: Bench) -> None:
    """With --no-binary, pip plans a built sdist from its wheel's metadata, not by building.

    The second run asks pip for a new plan (``--no-compile`` changes the question), and
    pip must not set up a build environment for ``cext`` to learn its dependencies.
    """
    accel(
        bench.env,
        bench.make_venv("one"),
        "--index-url",
        bench.index.url,
        "--no-binary",
        "cext",
        "cext",
    )
    venv = bench.make_venv("two")
    args = ["-v", "--index-url", bench.index.url, "--no-binary", "cext", "--no-compile", "cext"]
    result = accel(bench.env, venv, *args)
    output = result.stdout + result.stderr  # pip's own output, shown with -v
    assert REUSED not in output
    assert "Obtaining dependency information for cext" in output
    assert "Installing build dependencies" not in output
    assert build_count(bench.build_log) == 1


def null_first_wheel(plan: dict[str, Any]) -> dict[str, Any]:
    """The stored plan with ``"wheel": null`` in its first wheel (and a digest that matches)."""
    wheels = [{**plan["wheels"][0], "wheel": None}, *plan["wheels"][1:]]
    digest = hashlib.sha256(json.dumps(wheels, sort_keys=True).encode()).hexdigest()
    return {**plan, "wheels": wheels, "sha256": digest}


PLAN_DAMAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "empty object": lambda plan: {},
    "empty array": lambda plan: [],
    "null wheel": null_first_wheel,
}
"""Damage to a stored plan: what to write in its place, given the plan as stored."""


@pytest.mark.parametrize("damage", PLAN_DAMAGES.values(), ids=PLAN_DAMAGES.keys())
@pytest.mark.once
def test_a_damaged_plan_is_planned_anew(
    bench: Bench, damage: Callable[[dict[str, Any]], Any]
) -> None:
    """A damaged plan is named in a warning and replaced: the run installs what it should."""
    args = ["--index-url", bench.index.url, "purepkg==1.0"]
    accel(bench.env, bench.make_venv("one"), *args)
    plans = list((Path(bench.env["PIP_ACCEL_CACHE"]) / "plans").iterdir())
    assert plans, "no plan was stored"
    for path in plans:
        path.write_text(json.dumps(damage(json.loads(path.read_text()))))
    venv = bench.make_venv("two")
    result = accel(bench.env, venv, *args)
    assert "Traceback" not in result.stderr
    assert REUSED not in result.stderr
    warned = [path for path in plans if f"The stored plan {path} is damaged (" in result.stderr]
    assert warned, describe(result)
    assert installed_packages(venv, bench.env) == {"purepkg": "1.0"}
    again = bench.make_venv("three")
    assert REUSED in accel(bench.env, again, *args).stderr, "the plan was not stored anew"
    assert installed_packages(again, bench.env) == {"purepkg": "1.0"}


def test_the_same_requirements_file_in_another_checkout_reuses_the_plan(bench: Bench) -> None:
    """A copy of the requirements file in another directory, run from there, hits the plan."""
    checkouts = [bench.tmp_path / "checkout-one", bench.tmp_path / "checkout-two"]
    for checkout in checkouts:
        checkout.mkdir()
        requirements_file(checkout, bench.index)
    first: Command = [*pip_accel_cmd(), "install", "--python", bench.make_venv("one").python]
    run([*first, "-r", "requirements.txt"], bench.env, cwd=checkouts[0], check=True)
    bench.index.stop()
    venv = bench.make_venv("two")
    result = accel_without_pip(bench.env, venv, "-r", "requirements.txt", cwd=checkouts[1])
    assert result.returncode == 0, describe(result)
    assert REUSED in result.stderr
    assert "AUDIT" not in result.stderr
    assert installed_packages(venv, bench.env)["scriptpkg"] == "1.0"


def imported_pip_modules(stderr: str) -> list[str]:
    """The modules of pip that ``python -X importtime`` says the run imported."""
    names = [line.rpartition("|")[2].strip() for line in stderr.splitlines() if "|" in line]
    return [name for name in names if name == "pip" or name.startswith("pip.")]


def test_warm_start_imports_no_pip_and_a_venv_made_again_is_probed_again(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """The same command line, run again (the venv made again at the same path), imports no
    pip module at all and installs the same environment; the venv made again with another
    Python is probed again (its bytecode is that Python's) and planned anew."""
    requirements = requirements_file(tmp_path, package_index)
    venv = Venv(tmp_path / "venv")
    env = {**isolated_env, "VIRTUAL_ENV": str(venv.path)}
    command = [sys.executable, "-X", "importtime", "-m", "pip_accel", "install", "-r"]
    run([sys.executable, "-m", "venv", "--without-pip", venv.path], env, check=True)
    first = run([*command, requirements], env, check=True)
    assert imported_pip_modules(first.stderr), "the first run reads the command line with pip"
    first_files, first_packages = files_of(venv), installed_packages(venv, isolated_env)
    shutil.rmtree(venv.path)
    run([sys.executable, "-m", "venv", "--without-pip", venv.path], env, check=True)
    second = run([*command, requirements], env, check=True)
    assert REUSED in second.stderr
    assert imported_pip_modules(second.stderr) == []
    assert files_of(venv) == first_files
    assert installed_packages(venv, isolated_env) == first_packages
    other = other_python()
    if other is None:
        pytest.skip("no Python of another minor version on this machine")
    shutil.rmtree(venv.path)
    run([other, "-m", "venv", "--without-pip", venv.path], env, check=True)
    third = run([*command, requirements], env, check=True)
    assert REUSED not in third.stderr
    code = "import sys; print(sys.implementation.cache_tag)"
    tag = run([venv.python, "-c", code], isolated_env, check=True).stdout.strip()
    assert list(venv.path.glob(f"lib/*/site-packages/chain_a/__pycache__/*.{tag}.pyc"))
    run([*pip_cmd(venv), "check"], isolated_env, check=True)
