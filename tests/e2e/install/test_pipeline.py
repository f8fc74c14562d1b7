"""The accelerated install end to end: the real ``pip-accel`` command, a real index, real pip.

Every test installs fixture projects served by a pypiserver on 127.0.0.1 into new
virtual environments, then checks the result with pip itself (``pip --python``).
"""

import subprocess
from pathlib import Path

import pytest

from support.bench import Bench
from support.commands import Command, build_count, describe, pip_accel_cmd, run
from support.fixtures import BASIC, make_sdist, make_wheel, pyproject
from support.venvs import (
    VenvFactory,
    accel,
    environment_of,
    files_of,
    installed_packages,
    pip_cmd,
)

pytestmark = pytest.mark.every_pip  # pip's plan, builds, messages and view of the result

ENVIRONMENT_LOGGING_SETUP = """\
import os, sys
from setuptools import setup
environments = {entry.split("pip-build-env-")[1].split(os.sep)[0]
                for entry in sys.path if "pip-build-env-" in entry}
with open(os.environ["ENVIRONMENT_LOG"], "a") as log:
    log.write(" ".join(sorted(environments)) + "\\n")
setup()
"""
"""A setup.py that writes, at each of the back-end's steps (its build requirements, its
metadata, its wheel), the name of the isolated build environment it runs in."""


def test_a_new_sdist_of_a_loose_set_gets_one_build_environment_as_in_pip(bench: Bench) -> None:
    """A loose requirement whose sdist is new: its metadata and its wheel are made in one
    isolated build environment, as in pip's own install (not one to download and a second
    to build), and the environment is pip's."""
    files = {"pyproject.toml": pyproject("envlog", "1.0", packages=[]),
             "setup.py": ENVIRONMENT_LOGGING_SETUP}  # fmt: skip
    bench.index.add(make_sdist(bench.tmp_path / "made", "envlog", "1.0", files))
    counts, venvs = [], []
    for name in ("by-pip", "accel"):
        env = bench.env | {"ENVIRONMENT_LOG": str(bench.tmp_path / f"{name}.log")}
        venv = bench.make_venv(name)
        venvs.append(venv)
        if name == "by-pip":  # without its wheel cache, which pip-accel's pip would read
            run([*pip_cmd(venv), "install", "--no-cache-dir", "-i", bench.index.url, "envlog"],
                env, check=True)  # fmt: skip
        else:
            accel(env, venv, "-i", bench.index.url, "envlog")
        logged = Path(env["ENVIRONMENT_LOG"]).read_text(encoding="utf-8").split()
        assert len(logged) >= 2, logged  # the metadata and the wheel, at least
        counts.append(len(set(logged)))
    assert counts == [1, 1]
    assert environment_of(venvs[1], bench.env) == environment_of(venvs[0], bench.env)


@pytest.mark.once
def test_second_install_works_offline_and_builds_nothing(bench: Bench) -> None:
    """Once seen, a requirement set installs into a new venv with the index server stopped."""
    first = accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, *BASIC)
    assert "Installed 6 packages (6 built, 0 from cache)" in first.stderr
    assert build_count(bench.build_log) == 1
    bench.index.stop()
    second_venv = bench.make_venv("two")
    second = accel(bench.env, second_venv, "--index-url", bench.index.url, *BASIC)
    assert "Installed 6 packages (0 built, 6 from cache)" in second.stderr
    assert build_count(bench.build_log) == 1, "the C extension was built again"
    expected = {"chain-a", "chain-b", "chain-c", "cext", "flitpkg", "scriptpkg"}
    assert set(installed_packages(second_venv, bench.env)) == expected
    code = "import cext._speedups as s; print(s.add(2, 3))"
    assert run([second_venv.python, "-c", code], bench.env, check=True).stdout.strip() == "5"


def test_pip_sees_a_complete_installation(bench: Bench) -> None:
    """pip list, pip check and pip uninstall work; uninstall leaves no file behind."""
    venv, pristine = bench.make_venv("target"), bench.make_venv("pristine")
    before = files_of(venv)
    accel(bench.env, venv, "--index-url", bench.index.url, *BASIC)
    hello = run([venv.bin / "scriptpkg-hello"], bench.env, check=True)
    assert hello.stdout.strip() == "hello from scriptpkg"
    assert (venv.site_packages / "scriptpkg-1.0.dist-info" / "REQUESTED").exists()
    assert not (venv.site_packages / "chain_b-1.0.dist-info" / "REQUESTED").exists()
    installer = venv.site_packages / "cext-1.0.dist-info" / "INSTALLER"
    assert installer.read_text().strip() == "pip-accel"
    assert list(venv.site_packages.glob("chain_c/__pycache__/__init__.cpython-*.pyc"))
    run([*pip_cmd(venv), "check"], bench.env, check=True)
    names = list(installed_packages(venv, bench.env))
    run([*pip_cmd(venv), "uninstall", "--yes", *names], bench.env, check=True)
    assert files_of(venv) == before
    assert len(before) == len(files_of(pristine))


def test_nothing_to_do_the_second_time(bench: Bench) -> None:
    """Installing what is installed already says so and succeeds."""
    venv = bench.make_venv()
    accel(bench.env, venv, "--index-url", bench.index.url, "chain-a")
    again = accel(bench.env, venv, "--index-url", bench.index.url, "chain-a")
    assert "Nothing to do" in again.stderr


def test_empty_requirements_file(
    isolated_env: dict[str, str], make_venv: VenvFactory, tmp_path: Path
) -> None:
    """An empty requirements file is nothing to do, not an error."""
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n")
    result = accel(isolated_env, make_venv(), "--no-index", "-r", empty)
    assert "Nothing to do" in result.stderr


def test_upgrade_and_downgrade(bench: Bench) -> None:
    """Another version replaces the installed one, up with -U and down with a pin."""
    venv = bench.make_venv()
    version: Command = [venv.python, "-c", "import purepkg; print(purepkg.VERSION)"]
    accel(bench.env, venv, "--index-url", bench.index.url, "purepkg==1.0")
    assert run(version, bench.env, check=True).stdout.strip() == "1.0"
    upgraded = accel(bench.env, venv, "--index-url", bench.index.url, "-U", "purepkg")
    assert "Replaced purepkg 1.0" in upgraded.stderr
    assert installed_packages(venv, bench.env)["purepkg"] == "2.0"
    assert run(version, bench.env, check=True).stdout.strip() == "2.0"
    accel(bench.env, venv, "--index-url", bench.index.url, "purepkg==1.0")
    assert installed_packages(venv, bench.env)["purepkg"] == "1.0"
    assert sorted(path.name for path in venv.site_packages.glob("purepkg-*.dist-info")) == [
        "purepkg-1.0.dist-info"
    ]
    assert run(version, bench.env, check=True).stdout.strip() == "1.0"


@pytest.mark.once
def test_unpinned_requirement_uses_the_local_index(bench: Bench) -> None:
    """Without -U a requirement the local index satisfies is not looked up again."""
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "purepkg<2")
    bench.index.stop()
    venv = bench.make_venv("two")
    accel(bench.env, venv, "--index-url", bench.index.url, "purepkg")
    assert installed_packages(venv, bench.env)["purepkg"] == "1.0"


def test_constraints(bench: Bench) -> None:
    """A constraints file holds an unpinned requirement back."""
    constraints = bench.tmp_path / "constraints.txt"
    constraints.write_text("purepkg==1.0\n")
    venv = bench.make_venv()
    accel(bench.env, venv, "--index-url", bench.index.url, "-c", constraints, "purepkg")
    assert installed_packages(venv, bench.env)["purepkg"] == "1.0"


def test_nested_requirement_files_with_extras_and_markers(bench: Bench) -> None:
    """-r files that name other -r files; an extra pulls in its dependency, a false marker not."""
    (bench.tmp_path / "inner.txt").write_text("extrapkg[fancy]\n")
    outer = bench.tmp_path / "outer.txt"
    outer.write_text(f"--index-url {bench.index.url}\n-r inner.txt\nflitpkg==1.0\n")
    venv = bench.make_venv()
    accel(bench.env, venv, "-r", outer)
    assert set(installed_packages(venv, bench.env)) == {"extrapkg", "chain-c", "flitpkg"}


def test_wrong_hash_installs_nothing(bench: Bench, fixture_sdists: dict[str, Path]) -> None:
    """Hash-checking mode: a wrong hash fails with pip's message; the right one installs."""
    import hashlib

    digest = hashlib.sha256(fixture_sdists["purepkg-1.0"].read_bytes()).hexdigest()
    wrong, right = bench.tmp_path / "wrong.txt", bench.tmp_path / "right.txt"
    wrong.write_text(f"purepkg==1.0 --hash=sha256:{'0' * 64}\n")
    right.write_text(f"purepkg==1.0 --hash=sha256:{digest}\n")
    venv = bench.make_venv()
    failed = accel(bench.env, venv, "-i", bench.index.url, "-r", wrong, ok=False)
    assert failed.returncode == 1
    assert "HASHES" in failed.stderr.upper() and "Traceback" not in failed.stderr
    assert "purepkg" not in installed_packages(venv, bench.env)
    accel(bench.env, venv, "-i", bench.index.url, "-r", right)
    assert installed_packages(venv, bench.env)["purepkg"] == "1.0"


def test_hash_mode_uses_the_binary_built_from_the_checked_sdist(
    bench: Bench, fixture_sdists: dict[str, Path]
) -> None:
    """With --require-hashes the cached wheel of the checked sdist is reused, not rebuilt."""
    import hashlib

    digest = hashlib.sha256(fixture_sdists["cext-1.0"].read_bytes()).hexdigest()
    requirements = bench.tmp_path / "requirements.txt"
    requirements.write_text(f"cext==1.0 --hash=sha256:{digest}\n")
    for name in ("one", "two"):
        accel(bench.env, bench.make_venv(name), "-i", bench.index.url, "-r", requirements)
    assert build_count(bench.build_log) == 1


@pytest.mark.once
def test_unsafe_wheel_is_refused_before_writing(bench: Bench) -> None:
    """A wheel with a ../ member is refused; nothing of it is written anywhere."""
    venv = bench.make_venv()
    result = accel(bench.env, venv, "--index-url", bench.index.url, "evilpkg", ok=False)
    assert result.returncode == 1, describe(result)
    assert "would land outside" in result.stderr and "Traceback" not in result.stderr
    assert not list(venv.path.rglob("evil*"))
    assert not (venv.site_packages.parent / "evil.txt").exists()


@pytest.mark.once
def test_concurrent_installs_build_once(bench: Bench) -> None:
    """Two pip-accel processes sharing a data directory build one sdist once between them."""
    venvs = [bench.make_venv("one"), bench.make_venv("two")]
    commands = [
        [*pip_accel_cmd(), "install", "--python", str(venv.python), "-i", bench.index.url, "cext"]
        for venv in venvs
    ]
    processes = [
        subprocess.Popen(command, env=bench.env, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    errors = [process.communicate(timeout=300)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], errors
    assert build_count(bench.build_log) == 1
    for venv in venvs:
        assert installed_packages(venv, bench.env) == {"cext": "1.0"}


def test_pass_through_keeps_pips_exit_code(isolated_env: dict[str, str]) -> None:
    """Other subcommands are pip's: same output channel, same exit code."""
    missing = run([*pip_accel_cmd(), "show", "no-such-project-here"], isolated_env)
    assert missing.returncode == 1
    assert "not found" in missing.stderr.lower()
    helped = run([*pip_accel_cmd(), "help", "download"], isolated_env)
    assert helped.returncode == 0 and "pip-accel download [options]" in helped.stdout
    assert "--dest <dir>" in helped.stdout  # pip's options of download


def test_usage_and_pips_parser(isolated_env: dict[str, str]) -> None:
    """No arguments: usage and exit 0; an option pip rejects: pip's message and exit 2."""
    usage = run(pip_accel_cmd(), isolated_env)
    assert usage.returncode == 0 and "pip-accel install" in usage.stdout
    rejected = run([*pip_accel_cmd(), "install", "--no-such-option", "x"], isolated_env)
    assert rejected.returncode == 2
    assert "no such option: --no-such-option" in rejected.stderr


def test_failed_build_shows_its_output(bench: Bench) -> None:
    """A C extension that does not compile: the compiler's output, exit 1, nothing installed."""
    broken = make_sdist(
        bench.tmp_path,
        "brokenext",
        "1.0",
        {
            "pyproject.toml": pyproject("brokenext", "1.0", packages=[]),
            "setup.py": (
                "from setuptools import Extension, setup\n"
                "setup(ext_modules=[Extension('brokenext', ['brokenext.c'])])\n"
            ),
            "brokenext.c": "this is not C, says the unicorn;\n",
        },
    )
    bench.index.add(broken)
    venv = bench.make_venv()
    result = accel(bench.env, venv, "-i", bench.index.url, "chain-c", "brokenext", ok=False)
    assert result.returncode == 1
    assert "says the unicorn" in result.stderr  # the compiler's own output is shown
    assert "Failed to build brokenext 1.0" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert installed_packages(venv, bench.env) == {}


def test_failed_metadata_build_shows_its_output(bench: Bench) -> None:
    """An sdist whose setup.py fails before building: pip's output is shown, then one line."""
    broken = make_sdist(
        bench.tmp_path,
        "brokenpkg",
        "1.0",
        {
            "pyproject.toml": pyproject("brokenpkg", "1.0"),
            "setup.py": "raise SystemExit('brokenpkg refuses to build: no unicorns')\n",
        },
    )
    bench.index.add(broken)
    venv = bench.make_venv()
    result = accel(bench.env, venv, "-i", bench.index.url, "brokenpkg", ok=False)
    assert result.returncode == 1
    assert "no unicorns" in result.stderr
    assert "brokenpkg" in result.stderr.splitlines()[-1]
    assert installed_packages(venv, bench.env) == {}


@pytest.mark.once
def test_failed_replacement_restores_the_old_version(bench: Bench) -> None:
    """When the new version fails half-way, the old one is put back, file for file."""
    module = "badpkg/__init__.py"
    old = make_wheel(bench.tmp_path, "badpkg", "1.0", {module: "VERSION = '1.0'\n"})
    new = make_wheel(
        bench.tmp_path, "badpkg", "2.0", {module: "VERSION = '2.0'\n", "badpkg_block": "x\n"}
    )
    bench.index.add(old, new)
    venv = bench.make_venv()
    accel(bench.env, venv, "-i", bench.index.url, "badpkg==1.0")
    before = files_of(venv)
    (venv.site_packages / "badpkg_block").mkdir()  # the new wheel's file cannot be written
    result = accel(bench.env, venv, "-i", bench.index.url, "badpkg==2.0", ok=False)
    assert result.returncode == 1, describe(result)
    assert "badpkg 1.0 was kept" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert installed_packages(venv, bench.env) == {"badpkg": "1.0"}
    version = run([venv.python, "-c", "import badpkg; print(badpkg.VERSION)"], bench.env)
    assert version.stdout.strip() == "1.0"
    assert files_of(venv) - before == {
        str((venv.site_packages / "badpkg_block").relative_to(venv.path))
    }


@pytest.mark.once
def test_a_wheel_built_with_other_cflags_is_not_used(bench: Bench) -> None:
    """A wheel built with ``CFLAGS=-O0`` serves runs with that setting only (issue 12)."""
    index = ("--index-url", bench.index.url)
    debug = {**bench.env, "CFLAGS": "-O0"}
    accel(debug, bench.make_venv("debug"), *index, "cext")
    assert build_count(bench.build_log) == 1
    plain = accel(bench.env, bench.make_venv("plain"), *index, "cext")
    assert "Installed 1 package (1 built, 0 from cache)" in plain.stderr, describe(plain)
    assert build_count(bench.build_log) == 2
    again = accel(debug, bench.make_venv("again"), *index, "cext")
    assert "Installed 1 package (0 built, 1 from cache)" in again.stderr, describe(again)
    assert build_count(bench.build_log) == 2


DYNAMIC_BACKEND = '''\
"""An in-tree build back-end: flit_core's, asking for one more requirement when it builds."""

from flit_core.buildapi import build_sdist, build_wheel  # noqa: F401


def get_requires_for_build_wheel(config_settings=None):
    """Ask for a requirement that no pyproject.toml names (as Cython, cmake or ninja are)."""
    return ["buildhelper==1.0"]
'''


def test_a_build_requirement_the_back_end_asks_for_is_downloaded(bench: Bench) -> None:  # fmt: skip
    """An sdist whose back-end asks for more when it builds (frozenlist asks for Cython so)
    builds: what it asked for is downloaded into the local index, and the build runs again.
    The requirement is not installed."""
    toml = (
        '[build-system]\nrequires = ["flit_core>=3.2"]\nbuild-backend = "dynamic_backend"\n'
        'backend-path = ["_backend"]\n\n[project]\nname = "dynreq"\nversion = "1.0"\n'
        'description = "Fixture dynreq"\n'
    )
    files = {
        "pyproject.toml": toml,
        "_backend/dynamic_backend.py": DYNAMIC_BACKEND,
        "dynreq/__init__.py": '"""The dynreq fixture package."""\n',
    }
    bench.index.add(make_sdist(bench.tmp_path / "made", "dynreq", "1.0", files))
    helper = {"buildhelper/__init__.py": '"""Needed to build dynreq."""\n'}
    bench.index.add(make_wheel(bench.tmp_path / "made", "buildhelper", "1.0", helper))
    venv = bench.make_venv()
    result = accel(bench.env, venv, "--index-url", bench.index.url, "dynreq==1.0")
    assert "Building dynreq 1.0 needs buildhelper==1.0" in result.stderr, describe(result)
    assert "Downloaded buildhelper==1.0, which a build asked for" in result.stderr
    assert "Installed 1 package (1 built" in result.stderr, describe(result)
    assert installed_packages(venv, bench.env) == {"dynreq": "1.0"}


def test_a_set_of_pins_is_planned_without_pip(bench: Bench) -> None:
    """Every requirement pinned, every dependency among them: the plan comes from the
    wheels' metadata (no ``pip install --dry-run``), and the environment is pip's. A pin
    set that leaves a dependency out is planned by pip, which resolves it."""
    pins = ["chain-a==1.0", "chain-b==1.0", "chain-c==1.0", "flitpkg==1.0"]
    index = ("--index-url", bench.index.url)
    venv = bench.make_venv("accel")
    result = accel(bench.env, venv, "-v", *index, *pins)
    assert "Planned 4 wheels from their metadata" in result.stderr, describe(result)
    assert "--dry-run" not in result.stderr
    reference = bench.make_venv("pip")
    run([*pip_cmd(reference), "install", *index, *pins], bench.env, check=True)
    assert installed_packages(venv, bench.env) == installed_packages(reference, bench.env)
    run([*pip_cmd(venv), "check"], bench.env, check=True)
    partial = accel(bench.env, bench.make_venv("partial"), "-v", *index, "chain-a==1.0")
    assert "chain-a needs chain-b, which is not pinned" in partial.stderr, describe(partial)
    assert "--dry-run" in partial.stderr


def test_a_pin_whose_wheel_no_binary_refuses_is_fetched_as_an_sdist(bench: Bench) -> None:
    """The local index holds flitpkg's wheel from an earlier run; ``--no-binary flitpkg``
    cannot take it, so the pin is missing: its sdist is fetched with the other pins, before
    any plan, and built."""
    module = '"""flitpkg, as a wheel."""\n\nVERSION = "1.0"\n'
    bench.index.add(
        make_wheel(bench.tmp_path / "made", "flitpkg", "1.0", {"flitpkg/__init__.py": module})
    )
    index = ("--index-url", bench.index.url)
    first = accel(bench.env, bench.make_venv("wheel"), *index, "flitpkg==1.0")
    assert "Installed 1 package (0 built, 1 downloaded" in first.stderr, describe(first)
    second = accel(
        bench.env, bench.make_venv("sdist"), *index, "--no-binary", "flitpkg", "flitpkg==1.0"
    )
    assert "Downloading 1 pinned requirement" in second.stderr, describe(second)
    assert "Installed 1 package (1 built" in second.stderr, describe(second)
