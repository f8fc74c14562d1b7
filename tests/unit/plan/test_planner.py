"""When the package index is down, the planner fetches the archives pip misses, by name.

Fast unit tests of :data:`pip_accel.plan.planner.MISSING_PROJECT` on pip's own messages, and of
``Planner._from_shared_sources`` with a stand-in binary cache and a stand-in resolver (no
pip, no index): a real local index in a temporary directory records what is fetched.
"""

import contextlib
import hashlib
import importlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

import pip_accel.builds
from pip_accel.builds.builder import Builder
from pip_accel.builds.settings import BuildSettings
from pip_accel.builds.system import SystemDependencies
from pip_accel.caches import CacheBackend, CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.config import Config
from pip_accel.datadir.records import Record
from pip_accel.environment import TargetEnvironment
from pip_accel.exceptions import BuildError, DownloadError, PipFailedError
from pip_accel.pip.command_line import parse_install
from pip_accel.pip.requirements import RequirementFiles
from pip_accel.pip.runner import Pip
from pip_accel.plan.freshness import FreshnessRecord
from pip_accel.plan.plan import Plan
from pip_accel.report.summary import Summary
from pip_accel.request import InstallRequest
from pip_accel.sources.building import BuildingDownloader
from pip_accel.sources.listing import Listing
from pip_accel.sources.local_index import IndexView, LocalIndex

with warnings.catch_warnings():
    # pip_accel.builds.builder imports a name that humanfriendly deprecated.
    warnings.filterwarnings("ignore", "humanfriendly.Spinner was moved", DeprecationWarning)

    from pip_accel.pip.output import MISSING_PROJECT, shortfall
    from pip_accel.plan.parts import PlannerParts
    from pip_accel.plan.planner import MAX_SHARED_ROUNDS, Planner

NOT_FOUND = (
    "ERROR: Could not find a version that satisfies the requirement chain-b==1.0"
    " (from versions: none)\n"
    "ERROR: No matching distribution found for chain-b==1.0\n"
)
"""What pip (23.0 to 25) says when the local index has no archive of a requirement."""


PIP_OUTPUTS: dict[str, tuple[str, list[str]]] = {
    "both lines": (NOT_FOUND, ["chain-b", "chain-b"]),
    "from a dependency": (
        "ERROR: Could not find a version that satisfies the requirement chain-b==1.0"
        " (from chain-a==1.0) (from versions: none)",
        ["chain-b"],
    ),
    "extras": ("ERROR: No matching distribution found for foo[bar]>=1", ["foo"]),
    "extras, versions": (
        "ERROR: Could not find a version that satisfies the requirement foo[bar]>=1"
        " (from versions: 0.5)",
        ["foo"],
    ),
    "dots": ("ERROR: No matching distribution found for zope.interface", ["zope.interface"]),
    "marker": (
        "ERROR: No matching distribution found for Pure_Pkg<2; python_version>'3'",
        ["Pure_Pkg"],
    ),
    "no project": ("ERROR: Invalid requirement: '==1.0'", []),
    "a requirements file": ("Looking in links: /tmp/requirements.txt", []),
}
"""pip's output, and the projects it says are missing."""


@pytest.mark.parametrize(("output", "projects"), PIP_OUTPUTS.values(), ids=PIP_OUTPUTS.keys())
def test_missing_project_finds_the_names_pip_misses(output: str, projects: list[str]) -> None:
    """The project names alone: no version, extras or marker; nothing from other lines."""
    assert MISSING_PROJECT.findall(output) == projects


class Sources:
    """The source archives that the fleet's cache keeps, by project, fetched on request."""

    def __init__(self, archives: dict[str, list[str]]) -> None:
        """Archive file names by project."""
        self.archives = archives
        self.asked: list[list[str]] = []

    def get_sources(self, directory: Path, projects: list[str]) -> list[Path]:
        """Write the archives of ``projects`` that ``directory`` lacks; return them."""
        self.asked.append(list(projects))
        fetched = []
        for project in sorted(set(projects)):
            for name in self.archives.get(project, []):
                if not (directory / name).exists():
                    (directory / name).write_bytes(f"archive {name}".encode())
                    fetched.append(directory / name)
        return fetched


def planner_with(
    tmp_path: Path,
    sources: Sources,
    answers: list[PipFailedError | str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Planner, list[list[str]]]:
    """A planner with a local index, these sources, and pip's answers in turn (an error, or
    the plan "planned"); also the archives of the index at each of pip's runs."""
    planner = Planner.__new__(Planner)
    planner.cache = cast(BinaryCache, sources)
    planner.index = LocalIndex(tmp_path / "sources")
    seen: list[list[str]] = []
    plan = Plan([])
    view = IndexView(tmp_path / "view")

    def resolve() -> tuple[Plan, IndexView]:
        seen.append(sorted(path.name for path in planner.index.directory.glob("*.tar.gz")))
        answer = answers.pop(0)
        if isinstance(answer, PipFailedError):
            raise answer
        return plan, view

    monkeypatch.setattr(planner, "_resolve", resolve)
    return planner, seen


def missing(project: str) -> PipFailedError:
    """pip's failure when the local index has no archive of ``project``."""
    output = NOT_FOUND.replace("chain-b", project)
    return PipFailedError("pip could not plan", output)


def test_the_archives_pip_misses_are_fetched_one_level_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chain-b, then its dependency chain-c: each fetched by name, recorded, pip asked again."""
    sources = Sources({"chain-b": ["chain_b-1.0.tar.gz"], "chain-c": ["chain_c-1.0.tar.gz"]})
    planner, seen = planner_with(tmp_path, sources, [missing("chain-c"), "planned"], monkeypatch)
    found = planner._from_shared_sources(DownloadError("index down", missing("chain-b").output))
    assert found is not None
    assert sources.asked == [["chain-b", "chain-b"], ["chain-c", "chain-c"]]
    assert seen == [["chain_b-1.0.tar.gz"], ["chain_b-1.0.tar.gz", "chain_c-1.0.tar.gz"]]
    for name in ("chain_b-1.0.tar.gz", "chain_c-1.0.tar.gz"):
        assert Record.read(planner.index.directory / name) is not None, f"{name} is recorded"


def test_a_project_no_backend_has_is_no_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing fetched: None at once, pip not asked again (the caller raises the download error)."""
    sources = Sources({})
    planner, seen = planner_with(tmp_path, sources, [], monkeypatch)
    assert planner._from_shared_sources(DownloadError("down", missing("chain-b").output)) is None
    assert seen == []
    assert planner._from_shared_sources(DownloadError("down", "ERROR: a proxy error")) is None
    assert sources.asked == [["chain-b", "chain-b"]], "no project named: no backend asked"


def test_a_project_missing_again_ends_the_rounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its archives are here but do not satisfy pip: nothing new to fetch, None."""
    sources = Sources({"chain-b": ["chain_b-0.9.tar.gz"]})
    planner, seen = planner_with(tmp_path, sources, [missing("chain-b")], monkeypatch)
    assert planner._from_shared_sources(DownloadError("down", missing("chain-b").output)) is None
    assert len(seen) == 1 < MAX_SHARED_ROUNDS


def test_another_pip_failure_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure that is not about missing distributions is not hidden by the fallback."""
    sources = Sources({"chain-b": ["chain_b-1.0.tar.gz"]})
    broken = PipFailedError("pip failed", "ERROR: Exception: disk full")
    planner, _ = planner_with(tmp_path, sources, [broken], monkeypatch)
    with pytest.raises(PipFailedError) as caught:
        planner._from_shared_sources(DownloadError("down", missing("chain-b").output))
    assert caught.value is broken


def test_the_planner_imports_without_deprecation_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip_accel.builds.builder, imported anew (then put back), warns about nothing."""
    monkeypatch.setattr(pip_accel.builds, "builder", sys.modules["pip_accel.builds.builder"])
    monkeypatch.delitem(sys.modules, "pip_accel.builds.builder")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.import_module("pip_accel.builds.builder")
    assert [str(item.message) for item in caught] == []


TAGS = ["cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64", "py3-none-any"]
"""The tags of a stand-in target: CPython 3.11 on Linux."""


def planner_for(tmp_path: Path, args: list[str], archives: list[str]) -> Planner:
    """A planner of an install command line, with these archives in its local index."""
    planner = Planner.__new__(Planner)
    planner.command_line = parse_install(args)
    planner.files = RequirementFiles.of(planner.command_line)
    planner.target = cast(TargetEnvironment, SimpleNamespace(tags=TAGS))
    planner.index = LocalIndex(tmp_path / "sources")
    planner.index.directory.mkdir(parents=True, exist_ok=True)
    for name in archives:
        (planner.index.directory / name).write_bytes(b"archive")
    return planner


def test_missing_pins_compares_normalized_names_and_versions(tmp_path: Path) -> None:
    """``Chain_A==1.0.0`` is in the index as chain_a-1.0; ranges and markers are no pins."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Chain_A==1.0.0\nchain-b==1.0 --hash=sha256:00\nchain-c>=1\n")
    args = ["-r", str(requirements), "chain-d[x]==2", "chain-e==1 ; python_version>'3'"]
    planner = planner_for(tmp_path, args, ["chain_a-1.0.tar.gz", "chain_b-0.9.tar.gz"])
    assert planner._missing_pins() == [("chain-d", "2"), ("chain-b", "1.0")]


def test_an_offline_plan_is_asked_only_when_it_may_succeed(tmp_path: Path) -> None:
    """Not with an empty index, nor with a pin missing; with every pin there, yes."""
    assert not planner_for(tmp_path / "empty", ["chain-a"], [])._may_resolve_offline()
    lacking = planner_for(tmp_path / "lacking", ["chain-a==1.0"], ["chain_b-1.0.tar.gz"])
    assert not lacking._may_resolve_offline()
    ready = planner_for(tmp_path / "ready", ["chain-a==1.0", "other"], ["chain_a-1.0.tar.gz"])
    assert ready._may_resolve_offline()


class StandInDownloader:
    """Records the pins it is asked for, and downloads one sdist of them."""

    def __init__(self, index: LocalIndex) -> None:
        """Download into ``index``."""
        self.index = index
        self.asked: list[list[tuple[str, str]]] = []

    def download_pins(self, pins: list[tuple[str, str]]) -> set[Path]:
        """Write the first pin's sdist into the index."""
        self.asked.append(list(pins))
        name, version = pins[0]
        path = self.index.directory / f"{name}-{version}.tar.gz"
        path.write_bytes(b"sdist")
        return {path}


class StandInBuilder:
    """Records the sdists it is asked to build."""

    def __init__(self) -> None:
        """Nothing built yet."""
        self.asked: list[dict[CacheKey, Path]] = []

    def wheels_for(self, sdists: dict[CacheKey, Path]) -> dict[CacheKey, Path]:
        """Build nothing."""
        self.asked.append(dict(sdists))
        return {}


def test_the_planner_works_with_the_collaborators_it_is_handed(tmp_path: Path) -> None:
    """Missing pins go to the downloader; the new sdist goes to the builder, keyed for the
    target's namespace and the sdist's recorded sha256."""
    index = LocalIndex(tmp_path / "sources")  # makes its directory
    (index.directory / "alpha-1.0.tar.gz").write_bytes(b"old")
    downloader, builder = StandInDownloader(index), StandInBuilder()
    target = cast(TargetEnvironment, SimpleNamespace(namespace="cp311-test", tags=TAGS))
    request = InstallRequest(
        cast(Config, None), parse_install(["alpha==1.0", "beta==2.0"]), target, Pip(None)
    )
    parts = PlannerParts(
        index, BinaryCache({}), cast(BuildingDownloader, downloader), cast(Builder, builder),
        cast(SystemDependencies, None), tmp_path / "tmp",
    )  # fmt: skip
    planner = Planner(request, parts, Summary())
    planner._download_pins()
    assert downloader.asked == [[("beta", "2.0")]]
    sdist = index.directory / "beta-2.0.tar.gz"
    key = CacheKey("cp311-test", "beta", "2.0", hashlib.sha256(b"sdist").hexdigest())
    assert builder.asked == [{key: sdist}]
    assert planner.new_archives == {sdist}


def test_missing_pins_ignore_archives_pip_may_not_take(tmp_path: Path) -> None:
    """A wheel for another Python, a wheel that ``--no-binary`` refuses and an sdist that
    ``--only-binary`` refuses do not count; a fitting wheel and an allowed sdist do."""
    archives = [
        "alpha-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",  # another Python
        "beta-1.0-py3-none-any.whl",  # --no-binary beta
        "gamma-1.0.tar.gz",  # --only-binary gamma
        "delta-1.0-cp311-abi3-manylinux_2_17_x86_64.whl",
        "epsilon-1.0.tar.gz",
    ]
    pins = ["alpha==1.0", "beta==1.0", "gamma==1.0", "delta==1.0", "epsilon==1.0"]
    args = ["--no-binary", "beta", "--only-binary", "gamma", *pins]
    planner = planner_for(tmp_path, args, archives)
    assert planner._missing_pins() == [("alpha", "1.0"), ("beta", "1.0"), ("gamma", "1.0")]


class RequirementsDownloader:
    """Downloads the build requirements it is asked for, or fails to."""

    def __init__(self, works: bool = True) -> None:
        """Succeed (or not) at every download."""
        self.works = works
        self.asked: list[list[str]] = []

    def download_build_requirements(self, requirements: list[str]) -> bool:
        """Record the requirements."""
        self.asked.append(list(requirements))
        return self.works


def lacking(*requirements: str) -> BuildError:
    """The error of a build whose back-end asked for requirements the index lacks."""
    lines = [f"ERROR: No matching distribution found for {item}" for item in requirements]
    output = "installing backend dependencies did not run successfully.\n" + "\n".join(lines)
    return BuildError("Failed to build alpha 1.0", output, project="alpha")


def retrying_planner(downloader: RequirementsDownloader) -> Planner:
    """A planner with only what its retries use: a downloader and no system packages."""
    planner = Planner.__new__(Planner)
    planner.downloader = cast(BuildingDownloader, downloader)
    planner.system_packages = cast(
        SystemDependencies, SimpleNamespace(install_missing=lambda error: False)
    )
    return planner


def test_a_build_lacking_build_requirements_is_run_again_once_they_are_downloaded() -> None:
    """Each round downloads what the last failure named; the step then succeeds."""
    failures = [lacking("Cython>=3.1.1"), lacking("ninja")]

    def step() -> str:
        if failures:
            raise failures.pop(0)
        return "built"

    downloader = RequirementsDownloader()
    assert retrying_planner(downloader)._with_build_requirements(step) == "built"
    assert downloader.asked == [["Cython>=3.1.1"], ["ninja"]]


@pytest.mark.parametrize("works", [True, False])
def test_build_requirements_are_asked_for_once(works: bool) -> None:
    """A requirement still missing after its download, or one that cannot be downloaded,
    ends the retries with the build's error."""

    def step() -> str:
        raise lacking("Cython>=3.1.1")

    downloader = RequirementsDownloader(works)
    with pytest.raises(BuildError, match="Failed to build alpha"):
        retrying_planner(downloader)._with_build_requirements(step)
    assert downloader.asked == [["Cython>=3.1.1"]]


def test_other_build_failures_are_not_retried() -> None:
    """A compiler's error downloads nothing."""

    def step() -> str:
        raise BuildError("Failed to build alpha 1.0", "error: command 'gcc' failed")

    downloader = RequirementsDownloader()
    with pytest.raises(BuildError):
        retrying_planner(downloader)._with_build_requirements(step)
    assert downloader.asked == []


def test_shortfall_says_plainly_what_the_local_index_lacks() -> None:
    """A first run's local index lacking a requirement is no failure, and does not read like one."""
    output = (
        "ERROR: Could not find a version that satisfies the requirement Werkzeug>=3.1"
        " (from flask) (from versions: none)\n"
        "ERROR: No matching distribution found for Werkzeug>=3.1\n"
    )
    assert shortfall(output) == "The local index has nothing that satisfies Werkzeug>=3.1 yet"
    conflict = "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/..."
    assert "Could not" not in shortfall(conflict)
    assert shortfall(conflict).startswith("The versions in the local index")


class AskingDownloader:
    """Says whether the package index answers, and downloads (nothing) or fails to."""

    def __init__(
        self,
        trouble: str | None = None,
        error: DownloadError | None = None,
        built: dict[Path, Path] | None = None,
    ) -> None:
        """Answer ``trouble`` when asked about the index; raise ``error`` when downloading;
        with ``built``, ``pip wheel`` builds those wheels (by sdist), else it cannot run."""
        self.trouble = trouble
        self.error = error
        self.built = built
        self.asked: list[str] = []
        self.downloads = 0
        self.buildings = 0
        self.added: set[Path] = set()

    def index_trouble(self, name: str) -> str | None:
        """Record the project asked about."""
        self.asked.append(name)
        return self.trouble

    def listings(self, names: list[str]) -> dict[str, Listing]:
        """What the index lists after the download: alpha 1.0 and 2.0, beta 1.0."""
        lists = {"alpha": Listing(("1.0", "2.0")), "beta": Listing(("1.0",))}
        return {name: lists[name] for name in names if name in lists}

    def download(self) -> set[Path]:
        """Count the download, or fail it."""
        self.downloads += 1
        if self.error is not None:
            raise self.error
        return set()

    def download_building(
        self, view: IndexView, wheels: Path
    ) -> tuple[set[Path], dict[Path, Path]] | None:
        """Download as :meth:`download` does, with the wheels built; or None."""
        self.buildings += 1
        return None if self.built is None else (self.download(), self.built)


class AdoptingBuilder:
    """Takes the wheels that pip built while downloading, under the whole-set lock."""

    def __init__(self) -> None:
        """Adopt nothing yet."""
        self.adopted: list[tuple[CacheKey, Path]] = []
        self.locked = 0

    @contextlib.contextmanager
    def whole_set_lock(self) -> Iterator[None]:
        """Count the times the lock is held."""
        self.locked += 1
        yield

    def adopt(self, key: CacheKey, wheel: Path) -> Path:
        """Record the wheel with its key."""
        self.adopted.append((key, wheel))
        return wheel


def planned(*items: tuple[str, str]) -> Plan:
    """A plan of these ``(name, version)`` archives of a local index."""
    return Plan.from_report({"install": [
        {"metadata": {"name": name, "version": version},
         "download_info": {"url": f"file:///index/{name}-{version}.tar.gz", "archive_info": {}}}
        for name, version in items
    ]})  # fmt: skip


def fresh_planner(
    tmp_path: Path, args: list[str], downloader: AskingDownloader, record: FreshnessRecord
) -> tuple[Planner, list[Plan]]:
    """A planner whose local index plans alpha 1.0 (and beta 1.0) offline, and alpha 2.0
    once the index was asked; the list holds the plans of its resolutions."""
    planner = planner_for(tmp_path, args, ["alpha-1.0.tar.gz", "beta-1.0.tar.gz"])
    planner.hashes = False
    planner.downloader = cast(BuildingDownloader, downloader)
    planner.freshness = record
    planner.guessed = False
    planner.new_archives, planner.shared = set(), set()
    planner.cache = BinaryCache({})
    planner.settings = BuildSettings()
    planner.scratch = tmp_path / "scratch"
    planner.builder = cast(Builder, AdoptingBuilder())
    planner.target = cast(TargetEnvironment, SimpleNamespace(tags=TAGS, namespace="cp311-test"))
    resolutions: list[Plan] = []
    offline = planned(("alpha", "1.0"), ("beta", "1.0"))
    online = planned(("alpha", "2.0"), ("beta", "1.0"))

    def resolve() -> tuple[Plan, IndexView]:
        resolutions.append(online if downloader.downloads else offline)
        return resolutions[-1], cast(IndexView, None)

    planner._resolve = resolve  # type: ignore[method-assign]
    planner._prepare = lambda archives: None  # type: ignore[method-assign]
    return planner, resolutions


def test_a_fresh_offline_plan_asks_nothing(tmp_path: Path) -> None:
    """Every project asked within the TTL: the local index answers, no download."""
    record = FreshnessRecord(tmp_path / "freshness", 600)
    record.record(
        [("alpha", "1.0"), ("beta", "1.0")],
        {"alpha": Listing(("1.0",)), "beta": Listing(("1.0",))},
    )
    downloader = AskingDownloader()
    planner, _ = fresh_planner(tmp_path, ["alpha"], downloader, record)
    plan, _ = planner._plan()
    assert [str(item) for item in plan.distributions] == ["alpha 1.0", "beta 1.0"]
    assert downloader.asked == [] and downloader.downloads == 0


def test_a_stale_offline_plan_asks_the_index_and_records_the_answer(tmp_path: Path) -> None:
    """alpha and beta never asked: the index is asked, the new plan is recorded as fresh."""
    record = FreshnessRecord(tmp_path / "freshness", 600)
    downloader = AskingDownloader()
    planner, _ = fresh_planner(tmp_path, ["alpha"], downloader, record)
    plan, _ = planner._plan()
    assert [str(item) for item in plan.distributions] == ["alpha 2.0", "beta 1.0"]
    assert downloader.asked == ["alpha"] and downloader.downloads == 1
    assert record.is_fresh("alpha") and record.is_fresh("beta")
    assert record.listing("alpha") == Listing(("1.0", "2.0"))
    assert not planner.guessed


def test_pins_make_an_offline_plan_fresh(tmp_path: Path) -> None:
    """alpha==1.0 and beta==1.0 pinned: nothing to ask, whatever the TTL."""
    record = FreshnessRecord(tmp_path / "freshness", 0)
    downloader = AskingDownloader()
    planner, _ = fresh_planner(tmp_path, ["alpha==1.0", "beta==1.0"], downloader, record)
    planner._plan()
    assert downloader.asked == [] and downloader.downloads == 0


def test_an_unreachable_index_leaves_the_answer_to_the_local_index(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The index does not answer: no download, the offline plan, one warning naming the
    stale projects, and the plan is not stored."""
    record = FreshnessRecord(tmp_path / "freshness", 600)
    downloader = AskingDownloader(trouble="http://127.0.0.1:9/simple/alpha/: refused")
    planner, _ = fresh_planner(tmp_path, ["alpha"], downloader, record)
    plan, _ = planner._plan()
    assert [str(item) for item in plan.distributions] == ["alpha 1.0", "beta 1.0"]
    assert downloader.downloads == 0 and planner.guessed
    warnings = [item.getMessage() for item in caplog.records if item.levelname == "WARNING"]
    assert len(warnings) == 1 and "alpha, beta" in warnings[0] and "refused" in warnings[0]
    assert not record.is_fresh("alpha")


def test_a_download_that_fails_for_the_network_leaves_the_answer_to_the_local_index(
    tmp_path: Path,
) -> None:
    """The index answered, then pip download failed for the network: the offline plan."""
    record = FreshnessRecord(tmp_path / "freshness", 600)
    error = DownloadError("Could not download", "Connection reset by peer")
    planner, _ = fresh_planner(tmp_path, ["alpha"], AskingDownloader(error=error), record)
    plan, _ = planner._plan()
    assert [str(item) for item in plan.distributions] == ["alpha 1.0", "beta 1.0"]


def test_a_download_that_fails_for_another_reason_is_an_error(tmp_path: Path) -> None:
    """The index answered and pip download failed for a reason pip install would fail
    for too: that error, not an old answer."""
    record = FreshnessRecord(tmp_path / "freshness", 600)
    error = DownloadError("ResolutionImpossible", "ERROR: ResolutionImpossible")
    planner, _ = fresh_planner(tmp_path, ["alpha"], AskingDownloader(error=error), record)
    with pytest.raises(DownloadError):
        planner._plan()


def test_a_loose_set_is_downloaded_by_building_and_its_wheels_are_cached(
    tmp_path: Path,
) -> None:
    """Requirements named by project: pip wheel downloads under the whole-set lock, and each
    wheel it built enters the cache under the key of its sdist in the index."""
    record = FreshnessRecord(tmp_path / "freshness", 600)
    wheel = tmp_path / "beta-1.0-py3-none-any.whl"
    sdist = tmp_path / "sources" / "beta-1.0.tar.gz"
    downloader = AskingDownloader(built={sdist: wheel})
    planner, _ = fresh_planner(tmp_path, ["alpha"], downloader, record)
    planner._plan()
    builder = cast(AdoptingBuilder, planner.builder)
    assert downloader.buildings == 1 and downloader.downloads == 1 and builder.locked == 1
    digest = planner.index.sha256(sdist)
    assert builder.adopted == [(CacheKey("cp311-test", "beta", "1.0", digest), wheel)]


class RemoteBackend(CacheBackend):
    """A stand-in of a remote cache (S3) that holds nothing: its wheels would be found by
    key only once a plan names them."""

    remote = True

    def get(self, key: CacheKey) -> Path | None:
        """Nothing is held."""
        return None

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Nothing is kept."""


@pytest.mark.parametrize(
    ("args", "hashes", "remote", "buildings"),
    [
        (["alpha"], False, False, 1),
        (["alpha"], True, False, 0),
        (["./project", "alpha"], False, False, 0),
        (["alpha"], False, True, 0),
    ],
    ids=["pip-wheel-gives-up", "hashes", "local-project", "remote-cache"],
)
def test_pip_download_fetches_what_pip_wheel_cannot(
    tmp_path: Path, args: list[str], hashes: bool, remote: bool, buildings: int
) -> None:
    """pip wheel that gives up, hash-checking mode (pip sees archives, never a wheel built
    from one), a local project, and a remote cache (whose wheels pip wheel cannot see, so
    it would build what the fleet has built): pip download fetches, nothing is adopted."""
    record = FreshnessRecord(tmp_path / "freshness", 600)
    downloader = AskingDownloader()
    planner, _ = fresh_planner(tmp_path, args, downloader, record)
    planner.hashes = hashes
    if remote:
        planner.cache = BinaryCache({"s3": RemoteBackend()})
    planner._download()
    assert downloader.buildings == buildings and downloader.downloads == 1
    assert cast(AdoptingBuilder, planner.builder).adopted == []
