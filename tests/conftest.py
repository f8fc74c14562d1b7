"""Fixtures of the pip-accel tests: isolated environments, fixture packages, an index, venvs.

One conftest for both trees, ``tests/unit`` and ``tests/e2e``; what the fixtures are made of
is in the package ``tests/support``. No hermetic test touches the network beyond 127.0.0.1:
the fixture projects are written by ``support.fixtures``, and the build back-ends they need
(setuptools, wheel, flit_core) come from the directory PIP_ACCEL_TEST_WHEELS, which
``make test`` and ``make check`` fill once.

A test that asks, directly or through another fixture, for one of :data:`E2E_FIXTURES` (a
package index, an S3 server, a venv, the subprocesses' environment, the back-ends' wheels)
is an end-to-end test and gets the ``e2e`` mark here, at collection; every other test is a
unit test. ``pytest -m "not e2e"`` runs the unit tests alone, in seconds, without the wheels.
The collection stops, naming the test, when an end-to-end test sits in ``tests/unit`` or a
unit test in ``tests/e2e``: the folders say truly what ``make unit`` runs.

Every end-to-end test says which pips it runs with (:data:`PIP_CLASSES`), so that a new
one is classified when it is written, and the collection stops, naming it, when it does
not. The rule: ``every_pip`` (it runs with pip 23.0 and with the newest pip) when pip's
version can change what the test checks: pip's parser and pip's answers to the options
and requirement forms it reads (requirement files, constraints, groups, scripts, lock
files), pip's dry run and report, the messages of pip that pip-accel passes on or reads
(hashes, failed builds, missing build requirements, usage), how pip prepares local
projects, what pip's finder answers, and pip's view of the result (pip list, check,
uninstall). ``once`` (the newest pip only) when it checks pip-accel's own behaviour and
pip only makes the plan it starts from: the binary cache and the trees, stored plans and
the warm path, the local index's freshness record, its configuration and messages, faults
and interruptions, the test harness. ``backends``, ``system`` and ``network`` run once too.
A test marked ``once`` in an ``every_pip`` module runs once. The unit tests run with both
pips but for those marked ``once`` or ``backends``: they cost seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from support import TESTS
from support.bench import Bench
from support.commands import isolated_environment
from support.fixtures import build_all
from support.index import IndexFactory, PackageIndex
from support.s3 import BUCKET, S3Server
from support.venvs import Venv, VenvFactory, create_venv

#: The build back-ends that the fixture projects need, as wheel file name prefixes.
REQUIRED_WHEELS = ("setuptools-", "wheel-", "flit_core-")

MISSING_WHEELS = (
    "PIP_ACCEL_TEST_WHEELS must name a directory with the setuptools, wheel and flit_core wheels:"
    " run `make test` (or `make check`), which fetches them"
)


def find_test_wheels() -> Path | None:
    """Return the directory of the build back-ends' wheels, or None if it is incomplete."""
    value = os.environ.get("PIP_ACCEL_TEST_WHEELS")
    if not value or not Path(value).is_dir():
        return None
    names = [path.name for path in Path(value).glob("*.whl")]
    if not all(any(name.startswith(prefix) for name in names) for prefix in REQUIRED_WHEELS):
        return None
    return Path(value)


MISPLACED = (
    "End-to-end tests belong in tests/e2e and unit tests in tests/unit (a test is end-to-end"
    " when it uses a server, a venv, pip-accel's subprocesses or the wheels); move"
)

#: The fixtures that make a test end-to-end: each starts a server or a venv, runs pip-accel
#: as a subprocess (``isolated_env`` is the environment of those) or needs the wheels.
E2E_FIXTURES = frozenset(
    {
        "backend_wheels",
        "build_log",
        "isolated_env",
        "make_package_index",
        "make_venv",
        "package_index",
        "s3",
    }
)

#: The marks that make a test end-to-end whatever its fixtures: it changes the machine's
#: packages (``apt-get update`` reaches the distribution's mirrors) or needs PyPI.
E2E_MARKS = ("network", "system")


#: The marks of which every end-to-end test carries one: the pips it runs with (see above).
PIP_CLASSES = ("every_pip", "once", "backends", "system", "network")

UNCLASSIFIED = (
    "Each end-to-end test says which pips it runs with: mark it (or its module's pytestmark)"
    " every_pip when pip's version can change what it checks, else once (tests/conftest.py"
    " says which is which); unclassified"
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``e2e`` the tests of :data:`E2E_FIXTURES` or :data:`E2E_MARKS`, before ``-m`` selects.

    ``item.fixturenames`` is the closure of the fixtures a test uses, so a test that needs a
    venv through a fixture of its own file is marked too. ``tryfirst`` runs this before
    pytest's own ``-m``. A test whose folder says otherwise stops the collection (see
    :data:`MISPLACED`), so that the folders and the mark always agree.
    """
    misplaced, unclassified = [], []
    for item in items:
        uses_e2e_fixture = E2E_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        e2e = bool(uses_e2e_fixture) or any(item.get_closest_marker(name) for name in E2E_MARKS)
        if e2e:
            item.add_marker(pytest.mark.e2e)
            if not any(item.get_closest_marker(name) for name in PIP_CLASSES):
                unclassified.append(item.nodeid)
        if item.path.is_relative_to(TESTS / ("unit" if e2e else "e2e")):
            misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError(f"{MISPLACED}: {', '.join(misplaced)}")
    if unclassified:
        raise pytest.UsageError(f"{UNCLASSIFIED}: {', '.join(unclassified)}")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail the whole session at once, with one line, if an e2e test would run without wheels.

    The unit tests need no wheels, so ``pytest -m "not e2e"`` runs on a bare checkout.
    """
    if session.config.option.collectonly:
        return
    if find_test_wheels() is None and any(item.get_closest_marker("e2e") for item in session.items):
        raise pytest.UsageError(MISSING_WHEELS)


@pytest.fixture(scope="session")
def backend_wheels() -> list[Path]:
    """The wheels of the build back-ends, from PIP_ACCEL_TEST_WHEELS."""
    directory = find_test_wheels()
    assert directory is not None, MISSING_WHEELS
    return sorted(directory.glob("*.whl"))


@pytest.fixture(scope="session")
def fixture_sdists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every fixture archive, written once per session, keyed by ``<name>-<version>``.

    See ``support.fixtures.build_all``: ``fixture_sdists["chain-a-1.0"]`` is ``chain_a-1.0.tar.gz``,
    ``fixture_sdists["evilpkg-1.0"]`` the wheel that tries to write ``../evil.txt``.
    """
    return build_all(tmp_path_factory.mktemp("fixture-sdists"))


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The environment of every subprocess of a test; see ``support.helpers.isolated_environment``.

    HOME is ``tmp_path/"home"``, PIP_ACCEL_CACHE ``tmp_path/"data"`` (not created, so that
    pip-accel creates it) and PIP_ACCEL_TEST_BUILD_LOG ``tmp_path/"builds.log"``.
    """
    home = tmp_path / "home"
    home.mkdir()
    return isolated_environment(home, tmp_path / "data", tmp_path / "builds.log")


@pytest.fixture
def build_log(isolated_env: dict[str, str]) -> Path:
    """The file in which the ``cext`` fixture records each of its builds."""
    return Path(isolated_env["PIP_ACCEL_TEST_BUILD_LOG"])


@pytest.fixture
def make_package_index(
    tmp_path: Path, fixture_sdists: dict[str, Path], backend_wheels: list[Path]
) -> Iterator[IndexFactory]:
    """A factory of started package indexes, each serving its own directory.

    ``make_package_index(None)`` serves every fixture archive and the build back-ends;
    ``make_package_index([paths])`` only those files. All of them are stopped at teardown.
    """
    indexes: list[PackageIndex] = []

    def make(files: Iterable[Path] | None = None) -> PackageIndex:
        name = f"index{len(indexes)}"
        index = PackageIndex(tmp_path / name, tmp_path / f"{name}.log")
        indexes.append(index)
        index.add(*(files if files is not None else [*fixture_sdists.values(), *backend_wheels]))
        return index.start()

    yield make
    for index in indexes:
        index.stop()


@pytest.fixture
def package_index(make_package_index: IndexFactory) -> PackageIndex:
    """A started index of every fixture archive and build back-end: ``.url``, ``.add()``..."""
    return make_package_index(None)


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3Server]:
    """A started S3 server (moto, 127.0.0.1) with an empty bucket ``support.helpers.BUCKET``."""
    server = S3Server(tmp_path / "moto.log").start()
    server.client().create_bucket(Bucket=BUCKET)
    yield server
    server.stop()


@pytest.fixture
def make_venv(tmp_path: Path, isolated_env: dict[str, str]) -> VenvFactory:
    """A factory of virtual environments without pip: ``make_venv(name="venv") -> Venv``."""

    def make(name: str = "venv") -> Venv:
        return create_venv(tmp_path / name, isolated_env)

    return make


@pytest.fixture
def bench(
    isolated_env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    build_log: Path,
    tmp_path: Path,
) -> Bench:
    """The environment, the index of every fixture archive, venvs, the build log: one fixture."""
    return Bench(isolated_env, package_index, make_venv, build_log, tmp_path)
