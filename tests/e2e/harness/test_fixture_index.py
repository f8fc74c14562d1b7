"""Smoke tests of the test infrastructure itself, with plain pip and no pip-accel: the index.

If these fail, every other test would fail for reasons that have nothing to do with pip-accel:
the fixture archives, the package index, the virtual environments or the isolation from the
machine's pip configuration.
"""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import pytest

from support import CHECKOUT, TESTS
from support.bench import Bench
from support.commands import build_count, run
from support.fixtures import make_sdist, pure_project
from support.index import DIRECT, PackageIndex, answers
from support.venvs import installed_packages, pip_cmd

pytestmark = pytest.mark.once  # the tests' own harness: pip-independent

#: A unit test and an e2e test of the suite: ``-k`` selects them in the sessions below.
PAIR = [str(TESTS / "unit" / "test_fixtures.py"), str(Path(__file__))]
SELECTION = ["-k", "reproducible or stops_and_restarts", *PAIR]


def refused(port: int) -> bool:
    """Return whether a TCP connection to 127.0.0.1:``port`` is refused."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_index_stops_and_restarts_on_the_same_port(package_index: PackageIndex) -> None:
    """``stop`` closes the port; ``start`` serves again at the same URL."""
    url = package_index.url
    package_index.stop()
    assert refused(package_index.port)
    package_index.start()
    assert package_index.url == url
    assert answers(url + "chain-a/")


def test_index_serves_files_added_while_it_runs(
    package_index: PackageIndex, tmp_path: Path
) -> None:
    """A file given to ``add`` is listed at once, under the project's normalized name."""
    files = pure_project("purepkg", "3.0")
    (added,) = package_index.add(make_sdist(tmp_path / "new", "purepkg", "3.0", files))
    assert added == package_index.directory / "purepkg-3.0.tar.gz"
    with DIRECT.open(package_index.url + "purepkg/", timeout=5) as response:
        page = response.read().decode("utf-8")
    assert "purepkg-1.0.tar.gz" in page
    assert "purepkg-3.0.tar.gz#sha256=" in page


def test_plain_pip_installs_from_the_index(bench: Bench) -> None:
    """pip builds and installs a dependency chain and a C extension from the index alone."""
    venv = bench.make_venv()
    install = [*pip_cmd(venv), "install", "--index-url", bench.index.url, "chain-a", "cext"]
    run(install, bench.env, check=True)
    installed = installed_packages(venv, bench.env)
    assert {name: installed.get(name) for name in ("chain-a", "chain-b", "chain-c", "cext")} == {
        "chain-a": "1.0",
        "chain-b": "1.0",
        "chain-c": "1.0",
        "cext": "1.0",
    }
    result = run([venv.python, "-c", "import cext; print(cext.add(2, 3))"], bench.env)
    assert result.stdout.strip() == "5", result.stderr
    assert build_count(bench.build_log) == 1
    bench.index.stop()
    options = ["--no-deps", "--retries", "0", "--index-url", bench.index.url]
    download = [
        sys.executable,
        "-m",
        "pip",
        "download",
        *options,
        "-d",
        str(bench.tmp_path),
        "purepkg",
    ]
    assert run(download, bench.env).returncode != 0


def test_plain_pip_builds_flit_scripts_extras_and_markers(bench: Bench) -> None:
    """The flit project builds, the console script runs, the extra pulls chain-c, the marker not."""
    venv = bench.make_venv()
    packages = ["flitpkg", "scriptpkg", "extrapkg[fancy]"]
    install = [*pip_cmd(venv), "install", "--index-url", bench.index.url, *packages]
    run(install, bench.env, check=True)
    assert installed_packages(venv, bench.env) == {
        "flitpkg": "1.0",
        "scriptpkg": "1.0",
        "extrapkg": "1.0",
        "chain-c": "1.0",
    }
    result = run([venv.bin / "scriptpkg-hello"], bench.env, check=True)
    assert result.stdout == "hello from scriptpkg\n"


def test_session_fails_without_the_back_ends(isolated_env: dict[str, str]) -> None:
    """Without PIP_ACCEL_TEST_WHEELS a session with an e2e test stops at once, saying why."""
    env = {key: value for key, value in isolated_env.items() if key != "PIP_ACCEL_TEST_WHEELS"}
    options = ["-q", "-p", "no:cacheprovider", *SELECTION]
    result = run([sys.executable, "-m", "pytest", *options], env, cwd=CHECKOUT)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "run `make test` (or `make check`)" in result.stdout + result.stderr
    assert "passed" not in result.stdout  # not even the unit test ran


def test_unit_tests_run_without_the_back_ends(isolated_env: dict[str, str]) -> None:
    """Without PIP_ACCEL_TEST_WHEELS, ``-m "not e2e"`` runs the unit tests and no e2e test."""
    env = {key: value for key, value in isolated_env.items() if key != "PIP_ACCEL_TEST_WHEELS"}
    options = ["-q", "-p", "no:cacheprovider", "-m", "not e2e", *SELECTION]
    result = run([sys.executable, "-m", "pytest", *options], env, cwd=CHECKOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b1 passed\b", result.stdout), result.stdout
    assert "stops_and_restarts" not in result.stdout  # the e2e test did not run
