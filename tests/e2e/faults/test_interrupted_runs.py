"""Interrupted runs, through the real command: SIGKILL, SIGINT and SIGTERM at chosen moments.

A run goes through a launcher that installs a Python audit hook in the pip-accel process and
sends the process a real signal when a chosen event happens for the n-th time: a hard link
into the environment (linking), a rename into a transaction's stash (an upgrade replacing the
old version), a file written into a tree being unpacked, or the start of the pip process that
downloads or builds. Then the same command runs again, and the environment must be whole:
every ``.dist-info`` with its ``RECORD``, ``pip check`` content, the modules importable, the
console script working and ``pip uninstall`` leaving nothing behind.
"""

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.bench import Bench
from support.commands import describe, run
from support.fixtures import make_wheel
from support.index import IndexFactory, PackageIndex
from support.venvs import Venv, VenvFactory, accel, files_of, installed_packages, pip_cmd

pytestmark = pytest.mark.once

LAUNCHER = """\
import os, re, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a shell's foreground job
event, pattern, nth, signame = sys.argv[1:5]
seen = 0
def strike(name, args):
    global seen
    if name == event and re.search(pattern, " ".join(map(str, args))):
        seen += 1
        if seen == int(nth):
            os.kill(os.getpid(), getattr(signal, signame))
sys.addaudithook(strike)
from pip_accel.cli.main import main
sys.exit(main(sys.argv[5:]))
"""
"""Runs pip-accel and sends it a signal at the n-th audit event that matches a pattern."""

MODULES = 6
"""The modules of the test distribution, so that a kill can fall between its files."""


def multipkg(directory: Path, version: str) -> Path:
    """A wheel of ``multipkg`` with several modules and a console script."""
    files: dict[str, str | bytes] = {
        f"multipkg/mod{number}.py": f"VERSION = {version!r}\n" for number in range(MODULES)
    }
    files["multipkg/__init__.py"] = (
        f"VERSION = {version!r}\n\n\ndef main() -> None:\n    print('multipkg', VERSION)\n"
    )
    entry_points = "[console_scripts]\nmultipkg-hello = multipkg:main\n"
    files[f"multipkg-{version}.dist-info/entry_points.txt"] = entry_points
    return make_wheel(directory, "multipkg", version, files)


@pytest.fixture
def wheel_index(make_package_index: IndexFactory, tmp_path: Path) -> PackageIndex:
    """An index of ``multipkg`` 1.0 and 2.0 (wheels: nothing to build)."""
    wheels = tmp_path / "wheels"
    return make_package_index([multipkg(wheels, "1.0"), multipkg(wheels, "2.0")])


LINGERING = LAUNCHER.replace(
    "sys.exit(main(sys.argv[5:]))",
    "code = main(sys.argv[5:])\nimport time\ntime.sleep(2)\nsys.exit(code)",
)
"""The launcher, its main thread waiting 2 seconds after pip-accel returned: the background
threads have time to say whatever they would say after the last line."""


def interrupted(
    env: dict[str, str],
    venv: Venv,
    strike: tuple[str, str, int, str],
    *args: str,
    launcher: str = LAUNCHER,
) -> subprocess.CompletedProcess[str]:
    """Run ``pip-accel install`` and send it a signal at the chosen event."""
    event, pattern, nth, signame = strike
    command = [sys.executable, "-c", launcher, event, pattern, str(nth), signame]
    return run([*command, "install", "--python", venv.python, *args], env)


def assert_whole(env: dict[str, str], venv: Venv, expected: dict[str, str]) -> None:
    """The environment holds exactly ``expected``, each distribution whole, as pip sees it."""
    for dist_info in venv.site_packages.glob("*.dist-info"):
        assert (dist_info / "RECORD").is_file(), f"{dist_info.name} looks installed but is not"
    assert installed_packages(venv, env) == expected
    run([*pip_cmd(venv), "check"], env, check=True)
    if "multipkg" in expected:
        code = f"import multipkg.mod{MODULES - 1} as m; print(m.VERSION)"
        assert (
            run([venv.python, "-c", code], env, check=True).stdout.strip() == expected["multipkg"]
        )
        hello = run([venv.bin / "multipkg-hello"], env, check=True)
        assert hello.stdout.strip() == f"multipkg {expected['multipkg']}"
    leftovers = [path.name for path in venv.site_packages.iterdir() if path.name.startswith(".")]
    assert leftovers == [], "the transaction directories of the run are left"


def assert_uninstalls_cleanly(env: dict[str, str], venv: Venv, before: set[str]) -> None:
    """``pip uninstall`` of everything leaves the files the environment had before."""
    names = list(installed_packages(venv, env))
    run([*pip_cmd(venv), "uninstall", "--yes", *names], env, check=True)
    assert files_of(venv) == before


def assert_interruption_said_last(result: subprocess.CompletedProcess[str], signame: str) -> None:
    """The run's last line says that it was interrupted and what was undone: nothing follows."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, describe(result)
    assert f"ERROR Interrupted by {signame}; what was half done is undone." in lines[-1], describe(
        result
    )


LINKING = ("os.link", r"site-packages/multipkg/", 3)
"""The third file of multipkg linked into the environment."""

STASHING = ("os.rename", r"\.pip-accel-txn-\w+/old/", 3)
"""The third file of the old version moved aside during an upgrade (its .dist-info went first)."""


Strike = tuple[str, str, int]
"""Where a run is struck: the audit event, a pattern of its arguments, and which match."""


@dataclass(frozen=True)
class Target:
    """The new venv a test installs multipkg into, the index of its two versions, the env."""

    env: dict[str, str]
    index: PackageIndex
    venv: Venv


@pytest.fixture
def target(
    isolated_env: dict[str, str], wheel_index: PackageIndex, make_venv: VenvFactory
) -> Target:
    """The index of multipkg's two versions and a new venv to install them into."""
    return Target(isolated_env, wheel_index, make_venv())


@pytest.mark.parametrize("signame", ["SIGKILL", "SIGINT", "SIGTERM"])
def test_killed_while_linking(target: Target, signame: str) -> None:
    """Nothing looks installed that is not; the next run installs the rest."""
    venv = target.venv
    before = files_of(venv)
    args = ["--index-url", target.index.url, "multipkg==1.0"]
    result = interrupted(target.env, venv, (*LINKING, signame), *args)
    signum = getattr(signal, signame)
    assert result.returncode in (-signum, 128 + signum), describe(result)
    assert "Traceback" not in result.stderr
    for dist_info in venv.site_packages.glob("*.dist-info"):
        assert (dist_info / "RECORD").is_file(), f"{dist_info.name} looks installed but is not"
    if signame != "SIGKILL":  # undone at once
        assert_interruption_said_last(result, signame)
        assert installed_packages(venv, target.env) == {}
        assert not list(venv.site_packages.glob("multipkg*"))
    again = accel(target.env, venv, *args)
    if signame == "SIGKILL":
        assert "Repaired the environment" in again.stderr
        assert "removed what an interrupted install of multipkg-1.0" in again.stderr
    assert_whole(target.env, venv, {"multipkg": "1.0"})
    assert_uninstalls_cleanly(target.env, venv, before)


@pytest.mark.parametrize("strike", [STASHING, LINKING], ids=["stashing", "linking"])
@pytest.mark.parametrize("signame", ["SIGKILL", "SIGINT", "SIGTERM"])
def test_interrupted_upgrade(target: Target, signame: str, strike: Strike) -> None:
    """An upgrade cut short leaves the old version whole (at once, or after the next run)."""
    venv = target.venv
    before = files_of(venv)
    accel(target.env, venv, "--index-url", target.index.url, "multipkg==1.0")
    args = ["--index-url", target.index.url, "multipkg==2.0"]
    result = interrupted(target.env, venv, (*strike, signame), *args)
    assert result.returncode != 0, describe(result)
    if signame != "SIGKILL":
        assert_interruption_said_last(result, signame)
        assert_whole(target.env, venv, {"multipkg": "1.0"})
    again = accel(target.env, venv, *args)
    if signame == "SIGKILL":
        assert "multipkg 1.0 is back" in again.stderr, describe(again)
    assert "Replaced multipkg 1.0 with multipkg-2.0" in again.stderr
    assert_whole(target.env, venv, {"multipkg": "2.0"})
    assert_uninstalls_cleanly(target.env, venv, before)


@pytest.mark.parametrize(
    "strike",
    [
        ("subprocess.Popen", r"'pip', .*'download'", 1),
        ("subprocess.Popen", r"'pip', .*'wheel'", 1),
        ("open", r"\.unpacking-\w+/\S+ w ", 2),
    ],
    ids=["download", "build", "unpack"],
)
def test_killed_while_preparing(bench: Bench, strike: tuple[str, str, int]) -> None:
    """A run killed while it downloads, builds or unpacks leaves nothing the next run keeps."""
    venv = bench.make_venv()
    args = ["--index-url", bench.index.url, "chain-a", "purepkg==1.0"]
    result = interrupted(bench.env, venv, (*strike, "SIGKILL"), *args)
    assert result.returncode == -signal.SIGKILL, describe(result)
    data = Path(bench.env["PIP_ACCEL_CACHE"])
    accel(bench.env, venv, *args)
    assert_whole(
        bench.env, venv, {"chain-a": "1.0", "chain-b": "1.0", "chain-c": "1.0", "purepkg": "1.0"}
    )
    left = [
        *data.glob("sources/.incoming-*"),
        *data.glob("tmp/*"),
        *data.glob("trees/*/.unpacking-*"),
    ]
    assert left == [], "leftovers of the killed run"


@pytest.mark.parametrize("nth", [60, 150])
def test_nothing_is_said_after_the_interruption(
    isolated_env: dict[str, str],
    make_package_index: IndexFactory,
    make_venv: VenvFactory,
    tmp_path: Path,
    nth: int,
) -> None:
    """Interrupted while wheels unpack and compile in the background, the run ends with the
    line that says so: the background work winding down (a compiling process stopped, the
    trees finished meanwhile) adds nothing after it."""
    wheels = tmp_path / "wheels"
    names = [f"bigpkg{number}" for number in range(8)]
    for name in names:
        modules: dict[str, str | bytes] = {
            f"{name}/mod{number}.py": "VALUE = 1\n" * 50 for number in range(400)
        }
        make_wheel(wheels, name, "1.0", {**modules, f"{name}/__init__.py": ""})
    index = make_package_index(sorted(wheels.iterdir()))
    venv = make_venv()
    strike = ("open", r"\.unpacking-\w+/\S+ w ", nth, "SIGINT")
    args = ["--index-url", index.url, *names]
    result = interrupted(isolated_env, venv, strike, *args, launcher=LINGERING)
    assert result.returncode == 128 + signal.SIGINT, describe(result)
    assert_interruption_said_last(result, "SIGINT")
    assert "Traceback" not in result.stderr
