"""The unpacked trees stay what their wheels hold, through the real command.

An installed file is, by default, a hard link to a file of the tree of its wheel, so an edit
in place in one environment is an edit of the tree. Such a file must not reach another
environment: an install checks each tree file against the tree's manifest and unpacks the
tree again when one changed; ``--force-reinstall`` checks every hash. A data directory copied
elsewhere (new times) keeps every tree: they are named by their wheels' contents, and a copied
tree is checked by contents and given its times back instead of being unpacked again.
"""

import os
import shutil
from pathlib import Path

import pytest

from support.commands import describe, run
from support.fixtures import BASIC, make_wheel
from support.index import PackageIndex
from support.venvs import (
    VenvFactory,
    accel,
    assert_valid_bytecode,
    environment_of,
    files_of,
    installed_packages,
)

pytestmark = pytest.mark.once

MODULES = {f"treepkg/mod{number}.py": f"VALUE = {number}\n" for number in range(4)}
"""A few modules, so that a damaged file can come after others were placed."""

SCRIPTS = "[console_scripts]\ntreepkg-hello = treepkg.mod0:VALUE\n"
"""A console script, made after the modules are placed."""


@pytest.fixture
def tree_index(package_index: PackageIndex, tmp_path: Path) -> PackageIndex:
    """The test index, with ``treepkg`` 1.0 as a wheel."""
    scripts = {"treepkg-1.0.dist-info/entry_points.txt": SCRIPTS}
    package_index.add(make_wheel(tmp_path / "wheels", "treepkg", "1.0", {**MODULES, **scripts}))
    return package_index


def data(env: dict[str, str]) -> Path:
    """pip-accel's data directory."""
    return Path(env["PIP_ACCEL_CACHE"])


def value(env: dict[str, str], venv_python: Path, number: int) -> str:
    """What ``treepkg.mod<number>`` holds in an environment."""
    code = f"import treepkg.mod{number} as m; print(m.VALUE)"
    return run([venv_python, "-c", code], env, check=True).stdout.strip()


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_an_edit_in_place_does_not_reach_a_new_environment(
    isolated_env: dict[str, str], tree_index: PackageIndex, make_venv: VenvFactory, mode: str
) -> None:
    """A line appended to an installed (linked) file: the next environment gets the original."""
    env = {**isolated_env, "PIP_ACCEL_LINK_MODE": mode}
    args = ["--index-url", tree_index.url, "treepkg==1.0"]
    first = make_venv("one")
    accel({**env, "PIP_ACCEL_LINK_MODE": "hardlink"}, first, *args)
    edited = first.site_packages / "treepkg" / "mod2.py"
    assert not edited.stat().st_mode & 0o222, "the tree's files are not read-only"
    with edited.open("a") as stream:  # as root, read-only files can still be written
        stream.write("VALUE = 'edited'\n")
    second = make_venv("two")
    result = accel(env, second, *args)
    assert "was changed after it was unpacked" in result.stderr, describe(result)
    assert value(env, second.python, 2) == "2"
    assert (second.site_packages / "treepkg" / "mod2.py").read_text() == MODULES["treepkg/mod2.py"]
    if mode == "copy":
        assert (second.site_packages / "treepkg" / "mod2.py").stat().st_mode & 0o200
    third = make_venv("three")
    assert "was changed" not in accel(env, third, *args).stderr, "the tree was not made anew"
    assert value(env, third.python, 2) == "2"


def test_force_reinstall_checks_every_hash(
    isolated_env: dict[str, str], tree_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """An edit that keeps size and time escapes the quick check, not --force-reinstall's."""
    args = ["--index-url", tree_index.url, "treepkg==1.0"]
    venv = make_venv()
    accel(isolated_env, venv, *args)
    edited = venv.site_packages / "treepkg" / "mod3.py"
    status = edited.stat()
    edited.write_text(MODULES["treepkg/mod3.py"].replace("3", "4"))
    os.utime(edited, ns=(status.st_atime_ns, status.st_mtime_ns))
    result = accel(isolated_env, venv, "--force-reinstall", *args)
    assert "does not match the hash its wheel gives" in result.stderr, describe(result)
    assert value(isolated_env, venv.python, 3) == "3"


def test_a_tree_file_lost_mid_install_is_repaired_in_the_same_run(
    isolated_env: dict[str, str], tree_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """A file missing from a read-only tree, after others were placed: unpacked again, once."""
    args = ["--index-url", tree_index.url, "treepkg==1.0"]
    accel(isolated_env, make_venv("one"), *args)
    (last,) = (data(isolated_env) / "trees").rglob("treepkg/mod3.py")
    last.unlink()
    last.parent.chmod(0o555)  # pip-accel makes it writable to remove the damaged tree
    venv = make_venv("two")
    result = accel(isolated_env, venv, *args)
    assert result.stderr.count("Unpacking treepkg-1.0-py3-none-any.whl again") == 1, describe(
        result
    )
    assert "Traceback" not in result.stderr
    assert [value(isolated_env, venv.python, n) for n in range(4)] == ["0", "1", "2", "3"]
    assert last.is_file(), "the tree was not unpacked again in its place"
    assert not list(last.parents[3].glob(".damaged-*")), "the damaged tree was not removed"


def test_a_failed_install_into_an_empty_venv_keeps_the_venv(
    isolated_env: dict[str, str], tree_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """The undo of a failed install removes what it made, not site-packages or lib/."""
    venv = make_venv()
    (venv.bin / "treepkg-hello").mkdir()  # a directory where the script goes, after the modules
    before = files_of(venv)
    result = accel(isolated_env, venv, "--index-url", tree_index.url, "treepkg==1.0", ok=False)
    assert result.returncode == 1, describe(result)
    assert "Traceback" not in result.stderr
    assert files_of(venv) == before
    assert installed_packages(venv, isolated_env) == {}


UNPACKED = ("Unpacking and compiling", "Unpacked and compiled", "again")
"""What pip-accel logs when it unpacks a wheel into a tree."""


def trees_of(data_directory: Path) -> list[str]:
    """The names of the trees of a data directory (of every cache tag)."""
    return sorted(path.name for path in (data_directory / "trees").glob("*/*") if path.is_dir())


def test_a_data_directory_copied_elsewhere_unpacks_nothing(
    isolated_env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """``cp -r`` to another path (every file at a new time), the original gone, the index
    stopped: the next install from the copy hits every tree, a built wheel's too, and gives
    the first environment; the run after it finds the trees sound at once."""
    args = ["--index-url", package_index.url, *BASIC]
    first = make_venv("one")
    accel(isolated_env, first, *args)
    original = data(isolated_env)
    trees = trees_of(original)
    copied = original.with_name("restored")
    run(["cp", "-r", original, copied], isolated_env, check=True)
    shutil.move(original, original.with_name("gone"))
    package_index.stop()
    env = {**isolated_env, "PIP_ACCEL_CACHE": str(copied)}
    second = make_venv("two")
    result = accel(env, second, *args)
    assert not [line for line in result.stderr.splitlines() if any(w in line for w in UNPACKED)]
    assert "have new times" in result.stderr, describe(result)
    assert trees_of(copied) == trees
    assert environment_of(second, env) == environment_of(first, isolated_env)
    assert files_of(second) == files_of(first)
    module = second.site_packages / "chain_c" / "__init__.py"
    assert_valid_bytecode(module, next(module.parent.glob("__pycache__/__init__.*.pyc")))
    third = accel(env, make_venv("three"), *args)
    assert "have new times" not in third.stderr and "Unpacking" not in third.stderr
