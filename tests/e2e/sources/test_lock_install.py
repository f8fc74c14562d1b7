"""Lock files (PEP 751, ``pip lock``) installed by pip-accel, compared with pip's own install.

``pip lock`` of fixture projects on the index on 127.0.0.1 writes ``pylock.toml``; pip-accel
installs it online (each archive fetched by its URL, checked against the lock's sha256,
sdists built once), then again without pip and without the network (from the stored plan,
and from the local index with no plan), and each environment equals pip's install of the
same lock (pip freeze, REQUESTED, direct_url.json). pip reads lock files from 26.1 on: the
tests skip under older pips, which get pip's own answer (see the last test).
"""

import re
import shutil
import sys
from pathlib import Path

import pip
import pytest
from packaging.version import Version
from test_requirement_sources import REUSED, accel_in

from support.commands import build_count, describe, pip_accel_cmd, run
from support.fixtures import make_wheel, pkg_info, pure_project
from support.index import PackageIndex
from support.venvs import VenvFactory, accel_without_pip, environment_of, pip_cmd

pytestmark = pytest.mark.every_pip  # lock files: pip reads them, or refuses them

LOCKING_PIP = Version(pip.__version__) >= Version("26.1")

needs_lock = pytest.mark.skipif(not LOCKING_PIP, reason="pip reads lock files from 26.1 on")


def lock(env: dict[str, str], index: PackageIndex, directory: Path, *requirements: str) -> Path:
    """``pip lock`` of ``requirements`` from ``index`` into ``directory/pylock.toml``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pylock.toml"
    command = [*pip_cmd_plain(), "lock", "-i", index.url, "-o", str(path), *requirements]
    result = run(command, env, cwd=directory)
    assert result.returncode == 0, describe(result)
    return path


def pip_cmd_plain() -> list[str]:
    """pip of the tests, for commands that take no target (``pip lock``)."""
    return [sys.executable, "-m", "pip"]


def _files(name: str, dependencies: list[str]) -> dict[str, str]:
    """The files of a fixture wheel: a module and METADATA with its dependencies."""
    stem = f"{name.replace('-', '_')}-1.0"
    return {
        f"{name.replace('-', '_')}.py": "VALUE = 1\n",
        f"{stem}.dist-info/METADATA": pkg_info(name, "1.0", dependencies),
    }


@needs_lock
def test_a_lock_is_installed_like_pip_online_and_offline(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    build_log: Path,
    tmp_path: Path,
) -> None:
    """Wheels and an sdist (cext, built once) from a lock: pip's environment online, then
    from the stored plan and from the local index alone, without pip and the network."""
    made = tmp_path / "made"
    package_index.add(
        make_wheel(made, "lock-a", "1.0", _files("lock-a", ["lock-b>=1", "cext"])),
        make_wheel(made, "lock-b", "1.0", _files("lock-b", [])),
    )
    project = tmp_path / "project"
    path = lock(isolated_env, package_index, project, "lock-a")
    text = path.read_text()
    assert "lock_a-1.0-py3-none-any.whl" in text and "cext-1.0.tar.gz" in text
    by_accel, by_pip = make_venv("by-accel"), make_venv("by-pip")
    output = accel_in(isolated_env, by_accel, "-r", "pylock.toml", cwd=project)
    assert "Planned 3 packages from the lock file" in output
    run([*pip_cmd(by_pip), "install", "-r", "pylock.toml"], isolated_env, cwd=project, check=True)
    installed = environment_of(by_accel, isolated_env)
    assert installed == environment_of(by_pip, isolated_env)
    assert installed["freeze"] == ["cext==1.0", "lock-a==1.0", "lock-b==1.0"]
    assert installed["direct_url"] == {}
    assert len(installed["requested"]) == 3
    assert build_count(build_log) == 2  # pip-accel's build once, pip's own once
    run([*pip_cmd(by_accel), "check"], isolated_env, check=True)

    package_index.stop()
    offline = make_venv("offline")
    result = accel_without_pip(isolated_env, offline, "-r", str(path))
    assert result.returncode == 0, describe(result)
    assert REUSED in result.stderr
    assert environment_of(offline, isolated_env) == installed

    shutil.rmtree(Path(isolated_env["PIP_ACCEL_CACHE"]) / "plans")
    no_plan = make_venv("no-plan")
    result = accel_without_pip(isolated_env, no_plan, "-r", str(path))
    assert result.returncode == 0, describe(result)
    assert REUSED not in result.stderr and "Downloaded" not in result.stderr
    assert environment_of(no_plan, isolated_env) == installed
    assert build_count(build_log) == 2


@needs_lock
def test_an_archive_that_does_not_match_the_locks_sha256_is_refused(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """A lock whose sha256 of an archive is wrong: one line naming the package, the URL, the
    expected and the actual sha256; the archive did not enter the local index."""
    project = tmp_path / "project"
    path = lock(isolated_env, package_index, project, "chain-c")
    good = re.search(r'sha256 = "([0-9a-f]{64})"', path.read_text())
    assert good is not None
    wrong = "0" * 64
    path.write_text(path.read_text().replace(good[1], wrong))
    venv = make_venv()
    result = run(
        [*pip_accel_cmd(), "install", "--python", venv.python, "-r", str(path)], isolated_env
    )
    assert result.returncode == 1, describe(result)
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert "chain-c 1.0" in errors[0] and f"expected {wrong}, got {good[1]}" in errors[0]
    assert f"{package_index.url.rsplit('/simple/', 1)[0]}/" in errors[0]
    assert "Traceback" not in result.stderr
    sources = Path(isolated_env["PIP_ACCEL_CACHE"]) / "sources"
    assert not list(sources.glob("chain_c*")), list(sources.iterdir())
    refused = run([*pip_cmd(make_venv("by-pip")), "install", "-r", str(path)], isolated_env)
    assert refused.returncode != 0  # pip refuses it too


@needs_lock
def test_a_lock_for_another_python_is_refused_with_pips_reason(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """``requires-python`` that the target does not meet: pip's reason, from both."""
    project = tmp_path / "project"
    path = lock(isolated_env, package_index, project, "chain-c")
    text = re.sub(r"(?m)^requires-python = .*$", 'requires-python = "<3"', path.read_text())
    if "requires-python" not in text:
        text = 'requires-python = "<3"\n' + text
    path.write_text(text)
    venv = make_venv()
    ours = run([*pip_accel_cmd(), "install", "--python", venv.python, "-r", str(path)],
               isolated_env)  # fmt: skip
    theirs = run([*pip_cmd(make_venv("by-pip")), "install", "-r", str(path)], isolated_env)
    assert ours.returncode == 1 and theirs.returncode != 0, describe(ours)
    reason = "does not satisfy the Python version requirement '<3'"
    assert reason in ours.stderr and reason in theirs.stderr, describe(theirs)
    assert "Traceback" not in ours.stderr


@needs_lock
def test_platform_options_beside_a_lock_are_refused_like_pip(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """``--platform`` with a lock: pip's refusal (pip 26's words), no traceback."""
    path = lock(isolated_env, package_index, tmp_path / "project", "chain-c")
    args = ["-r", str(path), "--platform", "linux_x86_64", "--only-binary=:all:", "--dry-run"]
    venv = make_venv()
    ours = run([*pip_accel_cmd(), "install", "--python", venv.python, *args], isolated_env)
    theirs = run([*pip_cmd(venv), "install", *args], isolated_env)
    assert ours.returncode == 1 and theirs.returncode != 0
    reason = "are not supported when selecting requirements from"
    assert reason in ours.stderr and reason in theirs.stderr, describe(theirs)


@needs_lock
def test_a_lock_with_an_entry_pip_installs_as_a_direct_reference_goes_to_pip(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """A lock of a local directory (pip records it as a direct reference): the whole command
    is handed to pip, with one line saying why, and the environment is pip's."""
    project = tmp_path / "project"
    files = pure_project("local-app", "1.0", dependencies=["chain-c"], flit=True)
    for name, content in files.items():
        (project / "local-app" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "local-app" / name).write_text(str(content))
    lock(isolated_env, package_index, project, "./local-app")
    args = ["-i", package_index.url, "-r", "pylock.toml"]
    ours = run([*pip_accel_cmd(), "install", "--python", make_venv().python, *args],
               isolated_env, cwd=project)  # fmt: skip
    theirs = run([*pip_cmd(make_venv("pip")), "install", *args], isolated_env, cwd=project)
    reason = "Handing the whole command to pip: pip installs local-app from its directory entry."
    assert reason in ours.stderr, describe(ours)
    refusal = "Can't verify hashes for these file:// requirements"  # pip's hash-checking mode
    assert ours.returncode == theirs.returncode == 1
    assert refusal in ours.stderr and refusal in theirs.stderr, describe(theirs)
    args.append("--no-require-hashes")
    by_accel, by_pip = make_venv("by-accel"), make_venv("by-pip")
    accel_in(isolated_env, by_accel, *args, cwd=project)
    run([*pip_cmd(by_pip), "install", *args], isolated_env, cwd=project, check=True)
    installed = environment_of(by_accel, isolated_env)
    assert installed == environment_of(by_pip, isolated_env)
    assert installed["freeze"][0] == "chain-c==1.0"
    assert list(installed["direct_url"]) == ["local_app-1.0.dist-info"]


@pytest.mark.skipif(LOCKING_PIP, reason="a pip older than 26.1 reads no lock files")
def test_an_older_pip_gives_its_own_answer_to_a_lock_file(
    isolated_env: dict[str, str], make_venv: VenvFactory, tmp_path: Path
) -> None:
    """With pip < 26.1, pylock.toml is pip's to read (as a requirements file): handed over."""
    path = tmp_path / "pylock.toml"
    path.write_text('lock-version = "1.0"\ncreated-by = "test"\n')
    venv = make_venv()
    ours = run([*pip_accel_cmd(), "install", "--python", venv.python, "-r", str(path)],
               isolated_env)  # fmt: skip
    theirs = run([*pip_cmd(make_venv("by-pip")), "install", "-r", str(path)], isolated_env)
    assert "Handing the whole command to pip" in ours.stderr
    assert ours.returncode == theirs.returncode
