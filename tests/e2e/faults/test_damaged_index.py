"""A damaged local index, end to end: the real ``pip-accel`` command, a real index, real pip.

An archive of ``<data>/sources`` that is not the one pip-accel downloaded (cut short, or
replaced by other contents) is moved into ``sources/.damaged`` with a warning naming it,
and the run downloads it again: it neither fails on it nor installs what it holds.
"""

import os
import shutil
from pathlib import Path

import pytest

from support.bench import Bench
from support.commands import describe, run
from support.fixtures import make_sdist, make_wheel, pure_project
from support.venvs import accel, installed_packages

pytestmark = pytest.mark.once  # the local index's own behaviour: pip-independent

MODULE = 'VERSION = "1.0"\n'
"""The module of the wheel fixture of these tests."""


def data_directory(env: dict[str, str]) -> Path:
    """pip-accel's data directory in the tests' environment."""
    return Path(env["PIP_ACCEL_CACHE"])


def forget_plans(env: dict[str, str]) -> None:
    """Remove the stored plans, so that the next run plans (and checks the local index)."""
    shutil.rmtree(data_directory(env) / "plans", ignore_errors=True)


@pytest.mark.parametrize(
    ("record", "options"),
    [("recorded", []), ("unrecorded", []), ("recorded", ["-U"])],
    ids=["recorded", "without-record", "upgrade"],
)
def test_a_truncated_wheel_is_moved_aside_and_downloaded_again(
    bench: Bench, record: str, options: list[str]
) -> None:
    """Half a wheel in the local index: the next run names it, fetches it again and installs."""
    made = make_wheel(bench.tmp_path / "made", "wheelpkg", "1.0", {"wheelpkg/__init__.py": MODULE})
    bench.index.add(made)
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "wheelpkg==1.0")
    sources = data_directory(bench.env) / "sources"
    archive = sources / made.name
    assert (sources / ".sha256" / made.name).is_file(), "the download was not recorded"
    os.truncate(archive, archive.stat().st_size // 2)
    if record == "unrecorded":  # as an older pip-accel left it
        (sources / ".sha256" / made.name).unlink()
    forget_plans(bench.env)
    venv = bench.make_venv("two")
    result = accel(bench.env, venv, "--index-url", bench.index.url, *options, "wheelpkg==1.0")
    assert f"The archive {archive} in the local index is not" in result.stderr, describe(result)
    assert result.stderr.count(str(archive)) == 1, describe(result)
    assert "Traceback" not in result.stderr
    assert installed_packages(venv, bench.env) == {"wheelpkg": "1.0"}
    version = run([venv.python, "-c", "import wheelpkg; print(wheelpkg.VERSION)"], bench.env)
    assert version.stdout.strip() == "1.0", describe(version)
    assert archive.read_bytes() == made.read_bytes()
    assert (sources / ".damaged" / made.name).stat().st_size == made.stat().st_size // 2


def test_a_changed_sdist_is_moved_aside_and_the_real_one_installed(bench: Bench) -> None:
    """Another sdist of the same name in the local index is neither built nor installed."""
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "flitpkg==1.0")
    sources = data_directory(bench.env) / "sources"
    archive = sources / "flitpkg-1.0.tar.gz"
    real = archive.read_bytes()
    code = 'CHANGED = "not what was downloaded"\n'
    files = pure_project("flitpkg", "1.0", flit=True, code=code)
    shutil.copyfile(make_sdist(bench.tmp_path / "changed", "flitpkg", "1.0", files), archive)
    forget_plans(bench.env)
    venv = bench.make_venv("two")
    result = accel(bench.env, venv, "--index-url", bench.index.url, "flitpkg==1.0")
    assert (
        f"The archive {archive} in the local index is not the one that was downloaded"
        in result.stderr
    ), describe(result)
    assert "(0 built" in result.stderr, "the changed sdist was built"
    assert "Traceback" not in result.stderr
    assert installed_packages(venv, bench.env) == {"flitpkg": "1.0"}
    changed = run(
        [venv.python, "-c", "import flitpkg; print(hasattr(flitpkg, 'CHANGED'))"], bench.env
    )
    assert changed.stdout.strip() == "False", describe(changed)
    assert archive.read_bytes() == real
    assert b"not what was downloaded" not in archive.read_bytes()
    assert (sources / ".damaged" / archive.name).is_file()


def test_a_damaged_build_back_end_is_downloaded_again(bench: Bench) -> None:
    """A truncated back-end wheel does not make every later build fail: it is fetched again.

    The offline plan of an sdist whose wheel is gone does not need the back-end, so
    nothing but the check of the local index would bring it back.
    """
    accel(bench.env, bench.make_venv("one"), "--index-url", bench.index.url, "flitpkg")
    data = data_directory(bench.env)
    (back_end,) = (data / "sources").glob("flit_core-*.whl")
    os.truncate(back_end, back_end.stat().st_size // 2)
    shutil.rmtree(data / "binaries")
    forget_plans(bench.env)
    venv = bench.make_venv("two")
    result = accel(bench.env, venv, "--index-url", bench.index.url, "flitpkg")
    assert f"The archive {back_end} in the local index" in result.stderr, describe(result)
    assert installed_packages(venv, bench.env) == {"flitpkg": "1.0"}
    assert back_end.stat().st_size > 0 and (data / "sources" / ".damaged").is_dir()
