"""Loose requirements get the package index's fresh answer, through the real command.

The real ``pip-accel`` command against a pypiserver on 127.0.0.1 that publishes a newer
release after a first run put the older one into the local index, compared with pip's
own install of the same requirement.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import pip
import pytest
from packaging.version import Version

from support.commands import describe, run
from support.fixtures import make_wheel, pkg_info
from support.index import IndexFactory, PackageIndex
from support.venvs import VenvFactory, accel, accel_without_pip, installed_packages, pip_cmd

pytestmark = pytest.mark.every_pip  # what pip's finder answers (those below: pip-accel's record)


def wheel(directory: Path, name: str, version: str, dependencies: list[str] | None = None) -> Path:
    """A pure wheel of ``name`` ``version`` (with dependencies) in ``directory``."""
    package = name.replace("-", "_")
    files = {
        f"{package}/__init__.py": f'VERSION = "{version}"\n',
        f"{package}-{version}.dist-info/METADATA": pkg_info(name, version, dependencies or []),
    }
    return make_wheel(directory, name, version, files)


@dataclass
class Releases:
    """The releases of a test (``name-version``), served by indexes of the test's own."""

    env: dict[str, str]
    make_index: IndexFactory
    make_venv: VenvFactory
    wheels: dict[str, Path]

    def serve(self, *releases: str) -> PackageIndex:
        """A started index of ``releases``."""
        return self.make_index([self.wheels[release] for release in releases])

    def seen(self, index: PackageIndex, *args: str) -> None:
        """A first install of ``args`` from ``index``, which plans and fills the local index."""
        accel(self.env, self.make_venv("first"), "--index-url", index.url, *args)

    def publish(self, index: PackageIndex, release: str) -> None:
        """Publish ``release`` on ``index``, after the first run."""
        index.add(self.wheels[release])

    def pips_install(self, env: dict[str, str], index: PackageIndex, *args: str) -> dict[str, str]:
        """What pip itself installs for ``args`` from ``index`` into a new venv."""
        venv = self.make_venv("by-pip")
        run([*pip_cmd(venv), "install", "-i", index.url, *args], env, check=True)
        return installed_packages(venv, env)


@pytest.fixture
def releases(
    tmp_path: Path,
    isolated_env: dict[str, str],
    make_package_index: IndexFactory,
    make_venv: VenvFactory,
) -> Releases:
    """freshpkg 1.0, 2.0 and 3.0; toppkg 1.0, which depends on ``deppkg>=1``; deppkg 1.0 and 1.1."""
    directory = tmp_path / "releases"
    made = [
        wheel(directory, "freshpkg", "1.0"),
        wheel(directory, "freshpkg", "2.0"),
        wheel(directory, "freshpkg", "3.0"),
        wheel(directory, "toppkg", "1.0", ["deppkg>=1"]),
        wheel(directory, "deppkg", "1.0"),
        wheel(directory, "deppkg", "1.1"),
    ]
    wheels = {"-".join(path.name.split("-")[:2]): path for path in made}
    return Releases(isolated_env, make_package_index, make_venv, wheels)


def warnings_of(stderr: str) -> list[str]:
    """pip-accel's warnings (its log lines at level WARNING)."""
    return [line for line in stderr.splitlines() if " WARNING " in line]


def test_a_loose_requirement_gets_what_pip_gets_once_the_ttl_is_over(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """freshpkg 1.0 is in the local index; 2.0 is published; after the TTL pip-accel asks
    the index and installs 2.0, as pip does; the stored plan of the first run is not used."""
    index = releases.serve("freshpkg-1.0")
    env = {**isolated_env, "PIP_ACCEL_INDEX_TTL": "1s"}
    first = make_venv("first")
    accel(env, first, "--index-url", index.url, "freshpkg")
    assert installed_packages(first, env) == {"freshpkg": "1.0"}
    releases.publish(index, "freshpkg-2.0")
    time.sleep(1.1)
    venv = make_venv("second")
    result = accel(env, venv, "--index-url", index.url, "freshpkg")
    assert "Not using the plan of an earlier run" in result.stderr, describe(result)
    assert "Asking the package index: the package index was not asked" in result.stderr
    assert installed_packages(venv, env) == {"freshpkg": "2.0"}, describe(result)
    assert installed_packages(venv, env) == releases.pips_install(env, index, "freshpkg")
    run([*pip_cmd(venv), "check"], env, check=True)
    assert (venv.site_packages / "freshpkg-2.0.dist-info" / "REQUESTED").exists()


@pytest.mark.once
def test_an_offline_plan_of_a_stale_project_asks_the_index(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """With no stored plan for the question (another spelling of it), the local index's
    answer is stale after the TTL: the planner asks the index and takes 2.0."""
    index = releases.serve("freshpkg-1.0")
    releases.seen(index, "freshpkg")
    releases.publish(index, "freshpkg-2.0")
    env = {**isolated_env, "PIP_ACCEL_INDEX_TTL": "0"}
    venv = make_venv("second")
    result = accel(env, venv, "--index-url", index.url, "freshpkg>=1")
    assert "Asking the package index: index-ttl is 0" in result.stderr, describe(result)
    assert installed_packages(venv, env) == {"freshpkg": "2.0"}
    assert installed_packages(venv, env) == releases.pips_install(env, index, "freshpkg>=1")
    assert not warnings_of(result.stderr), describe(result)


@pytest.mark.once
def test_with_the_index_down_the_local_index_answers_with_one_warning(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """The index stopped, a stale project: exit 0, the local index's release, and one
    warning that names the project."""
    index = releases.serve("freshpkg-1.0", "toppkg-1.0", "deppkg-1.0")
    releases.seen(index, "freshpkg", "toppkg==1.0")
    index.stop()
    env = {**isolated_env, "PIP_ACCEL_INDEX_TTL": "0"}
    venv = make_venv("second")
    result = accel(env, venv, "--index-url", index.url, "freshpkg", "toppkg==1.0")
    assert installed_packages(venv, env) == {"freshpkg": "1.0", "toppkg": "1.0", "deppkg": "1.0"}
    warnings = warnings_of(result.stderr)
    assert len(warnings) == 1, describe(result)
    assert "could not be reached" in warnings[0]
    assert "deppkg, freshpkg," in warnings[0] and "toppkg," not in warnings[0]


@pytest.mark.once
def test_within_the_ttl_the_local_index_answers_without_asking(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """Asked a minute ago: the stored plan is used with no pip and no connection at all,
    an offline plan with the index stopped says nothing; with a TTL of 0, 2.0 again."""
    index = releases.serve("freshpkg-1.0")
    releases.seen(index, "freshpkg")
    releases.publish(index, "freshpkg-2.0")
    warm = make_venv("warm")
    result = accel_without_pip(isolated_env, warm, "--index-url", index.url, "freshpkg")
    assert result.returncode == 0, describe(result)
    assert installed_packages(warm, isolated_env) == {"freshpkg": "1.0"}
    index.stop()
    offline = make_venv("offline")
    result = accel(isolated_env, offline, "--index-url", index.url, "freshpkg<3")
    assert installed_packages(offline, isolated_env) == {"freshpkg": "1.0"}
    assert not warnings_of(result.stderr), describe(result)
    index.start()
    fresh = make_venv("fresh")
    env = {**isolated_env, "PIP_ACCEL_INDEX_TTL": "0"}
    accel(env, fresh, "--index-url", index.url, "freshpkg")
    assert installed_packages(fresh, env) == {"freshpkg": "2.0"}


@pytest.mark.once
def test_a_bounded_answer_within_the_ttl_does_not_answer_an_unbounded_requirement(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """``freshpkg<2`` asks the index (1.0; 2.0 listed); 3.0 is published; within the TTL
    ``freshpkg`` asks again, since the listing has a release the local index lacks, and
    installs 3.0 as pip does; ``freshpkg<2`` again is fresh: the local index answers 1.0
    with the index stopped, and says nothing of it."""
    index = releases.serve("freshpkg-1.0", "freshpkg-2.0")
    bounded = make_venv("bounded")
    accel(isolated_env, bounded, "--index-url", index.url, "freshpkg<2")
    assert installed_packages(bounded, isolated_env) == {"freshpkg": "1.0"}
    releases.publish(index, "freshpkg-3.0")
    venv = make_venv("loose")
    result = accel(isolated_env, venv, "--index-url", index.url, "freshpkg")
    assert (
        "Asking the package index: the package index listed freshpkg 2.0 where the local index"
        " has 1.0" in result.stderr
    ), describe(result)
    assert installed_packages(venv, isolated_env) == {"freshpkg": "3.0"}, describe(result)
    assert installed_packages(venv, isolated_env) == releases.pips_install(
        isolated_env, index, "freshpkg"
    )
    assert not warnings_of(result.stderr), describe(result)
    index.stop()
    again = make_venv("again")
    result = accel(isolated_env, again, "--index-url", index.url, "freshpkg<2")
    assert installed_packages(again, isolated_env) == {"freshpkg": "1.0"}, describe(result)
    assert "Asking the package index" not in result.stderr, describe(result)
    assert not warnings_of(result.stderr), describe(result)


@pytest.mark.once
def test_a_transitive_range_picks_up_a_new_release(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """toppkg==1.0 is pinned, its dependency deppkg>=1 is not: after the TTL, deppkg 1.1."""
    index = releases.serve("toppkg-1.0", "deppkg-1.0")
    releases.seen(index, "toppkg==1.0")
    releases.publish(index, "deppkg-1.1")
    env = {**isolated_env, "PIP_ACCEL_INDEX_TTL": "0"}
    venv = make_venv("second")
    result = accel(env, venv, "--index-url", index.url, "toppkg==1.0")
    assert (
        "Not using the plan of an earlier run: index-ttl is 0, so every run asks about deppkg"
        in result.stderr
    )
    assert installed_packages(venv, env) == {"toppkg": "1.0", "deppkg": "1.1"}, describe(result)
    assert installed_packages(venv, env) == releases.pips_install(env, index, "toppkg==1.0")


@pytest.mark.once
def test_a_set_of_pins_never_asks_the_index(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases, tmp_path: Path
) -> None:
    """Every project pinned: with a TTL of 0 the stored plan is used with no pip and no
    connection, and with the index down an offline plan says nothing."""
    index = releases.serve("toppkg-1.0", "deppkg-1.0")
    pins = ["toppkg==1.0", "deppkg==1.0"]
    releases.seen(index, *pins)
    releases.publish(index, "deppkg-1.1")
    env = {**isolated_env, "PIP_ACCEL_INDEX_TTL": "0"}
    warm = make_venv("warm")
    result = accel_without_pip(env, warm, "--index-url", index.url, *pins)
    assert result.returncode == 0, describe(result)
    assert installed_packages(warm, env) == {"toppkg": "1.0", "deppkg": "1.0"}
    index.stop()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    offline = make_venv("offline")
    result = accel(env, offline, "--index-url", index.url, "-r", requirements)
    assert installed_packages(offline, env) == {"toppkg": "1.0", "deppkg": "1.0"}
    assert not warnings_of(result.stderr) and "Asking the package index" not in result.stderr


@pytest.mark.once
def test_upgrade_asks_the_index_within_the_ttl(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """``-U`` asks the index at once, whatever the record says."""
    index = releases.serve("freshpkg-1.0")
    venv = make_venv()
    accel(isolated_env, venv, "--index-url", index.url, "freshpkg")
    releases.publish(index, "freshpkg-2.0")
    accel(isolated_env, venv, "--index-url", index.url, "-U", "freshpkg")
    assert installed_packages(venv, isolated_env) == {"freshpkg": "2.0"}


@pytest.mark.skipif(
    Version(pip.__version__) < Version("26.2"), reason="--refresh-package came with pip 26.2"
)
def test_refresh_package_asks_the_index_within_the_ttl(
    isolated_env: dict[str, str], make_venv: VenvFactory, releases: Releases
) -> None:
    """``--refresh-package freshpkg`` makes freshpkg stale: 2.0, the first run a minute ago."""
    index = releases.serve("freshpkg-1.0")
    releases.seen(index, "freshpkg")
    releases.publish(index, "freshpkg-2.0")
    venv = make_venv("second")
    args = ["--index-url", index.url, "--refresh-package", "freshpkg", "freshpkg"]
    result = accel(isolated_env, venv, *args)
    assert "--refresh-package names freshpkg" in result.stderr, describe(result)
    assert installed_packages(venv, isolated_env) == {"freshpkg": "2.0"}
