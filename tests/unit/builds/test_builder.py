"""Unit tests of ``pip_accel.builds.builder``: sdists built once into the binary cache.

pip is :class:`WheelPip`, a :class:`Pip` that runs nothing: it records each ``pip wheel``
command and writes a wheel (or none, or fails) into ``--wheel-dir``. The binary cache is a
real one with one in-memory backend, so the tests see what is stored and what is kept.
"""

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from filelock import Timeout

from pip_accel.builds.builder import Builder
from pip_accel.caches import CacheBackend, CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.exceptions import BuildError, CacheError, PipFailedError
from pip_accel.pip.output import missing_build_requirements
from pip_accel.pip.runner import Pip

KEYS = [CacheKey("ns", name, "1.0", name[0] * 64) for name in ("alpha", "beta", "gamma")]
"""The keys of three sdists."""


class WheelPip(Pip):
    """A pip whose ``wheel`` command writes ``<name>-1.0-py3-none-any.whl``, or fails."""

    def __init__(self, failure: PipFailedError | None = None, wheels: int = 1) -> None:
        """Fail with ``failure`` if given; else write ``wheels`` wheels per build."""
        super().__init__(None)
        self.failure = failure
        self.wheels = wheels
        self.commands: list[list[str]] = []

    def run(
        self, args: Sequence[str], env: dict[str, str] | None = None, spinner: str | None = None
    ) -> str:
        """Record the command; build (or fail) into its ``--wheel-dir``."""
        self.commands.append(list(args))
        if self.failure is not None:
            raise self.failure
        directory = Path(args[list(args).index("--wheel-dir") + 1])
        name = Path(args[-1]).name.split("-")[0]
        for number in range(self.wheels):
            (directory / f"{name}-1.0-{number}-py3-none-any.whl").write_bytes(b"wheel")
        return ""


class Memory(CacheBackend):
    """A local backend that keeps wheels in a directory, or refuses every write."""

    remote = False

    def __init__(self, directory: Path, broken: bool = False) -> None:
        """Keep wheels in ``directory``; with ``broken``, fail every ``put``."""
        self.directory = directory
        self.broken = broken
        directory.mkdir(exist_ok=True)

    def get(self, key: CacheKey) -> Path | None:
        """The wheel stored for ``key``."""
        found = sorted(self.directory.glob(f"{key.name}-*.whl"))
        return found[0] if found else None

    def put(self, key: CacheKey, wheel: Path) -> None:
        """Store a copy of ``wheel``, or fail."""
        if self.broken:
            raise CacheError("disk on fire")
        (self.directory / wheel.name).write_bytes(wheel.read_bytes())


def builder(
    tmp_path: Path,
    pip: Pip,
    broken: bool = False,
    options: Sequence[str] = (),
    project_options: Callable[[str], Sequence[str]] = lambda project: (),
) -> Builder:
    """A builder with a one-backend cache in ``tmp_path/cache``."""
    cache = BinaryCache({"memory": Memory(tmp_path / "cache", broken)})
    locks = tmp_path / "locks"
    return Builder(pip, cache, tmp_path / "sources", locks, options, tmp_path, project_options)


def sdists(tmp_path: Path, keys: Sequence[CacheKey] = KEYS) -> dict[CacheKey, Path]:
    """The sdist path of each key (the files need not exist: pip is a stand-in)."""
    return {key: tmp_path / f"{key.name}-1.0.tar.gz" for key in keys}


def test_missing_wheels_are_built_once_and_cached(tmp_path: Path) -> None:
    """Each sdist without a cached wheel is built; a second call builds nothing."""
    pip = WheelPip()
    first = builder(tmp_path, pip)
    wheels = first.wheels_for(sdists(tmp_path))
    assert {key.name: path.parent for key, path in wheels.items()} == {
        key.name: tmp_path / "cache" for key in KEYS
    }
    assert len(pip.commands) == 3 and first.built == set(wheels.values())
    again = builder(tmp_path, pip)
    assert again.wheels_for(sdists(tmp_path)) == wheels
    assert len(pip.commands) == 3 and again.built == set()


def test_pip_wheel_command_is_offline_with_the_options(tmp_path: Path) -> None:
    """pip builds offline from the local index, with the user's and the project's options."""
    pip = WheelPip()
    build = builder(
        tmp_path,
        pip,
        options=["-C", "x=1"],
        project_options=lambda project: ["--no-build-isolation"] if project == "alpha" else [],
    )
    build.wheels_for(sdists(tmp_path, KEYS[:1]))
    (command,) = pip.commands
    assert command[:5] == [
        "wheel",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(tmp_path / "sources"),
    ]
    assert command[-4:] == ["-C", "x=1", "--no-build-isolation", str(tmp_path / "alpha-1.0.tar.gz")]


def test_failed_build_is_a_build_error_with_the_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """pip's failure names the project, and its output is logged once."""
    pip = WheelPip(PipFailedError("Failed building wheel for alpha", "compiler says no\n", 1))
    with pytest.raises(BuildError) as raised:
        builder(tmp_path, pip).wheels_for(sdists(tmp_path, KEYS[:1]))
    assert raised.value.project == "alpha"
    assert str(raised.value) == (
        "Failed to build alpha 1.0: Failed building wheel for alpha (build output above)"
    )
    assert "compiler says no" in caplog.text


@pytest.mark.parametrize("count", [0, 2])
def test_a_build_must_make_one_wheel(tmp_path: Path, count: int) -> None:
    """No wheel, or several, from one sdist is an error."""
    with pytest.raises(BuildError, match=r"alpha 1\.0 made no wheel"):
        builder(tmp_path, WheelPip(wheels=count)).wheels_for(sdists(tmp_path, KEYS[:1]))


def test_a_wheel_no_backend_stores_is_kept_for_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """When the cache fails to store it, the built wheel is kept in a directory of the run."""
    build = builder(tmp_path, WheelPip(), broken=True)
    with caplog.at_level(logging.WARNING):
        wheels = build.wheels_for(sdists(tmp_path, KEYS[:1]))
    (wheel,) = wheels.values()
    assert build.kept is not None and wheel.parent == build.kept
    assert wheel.read_bytes() == b"wheel"
    assert "disk on fire" in caplog.text


PIP_26_OUTPUT = """\
  Installing backend dependencies: finished with status 'error'
  error: subprocess-exited-with-error

  \u00d7 installing backend dependencies did not run successfully.
  ╰─> [3 lines of output]
      ERROR: Could not find a version that satisfies the requirement Cython>=3.1.1
      ERROR: No matching distribution found for Cython>=3.1.1
"""
PIP_23_OUTPUT = """\
  \u00d7 pip subprocess to install build dependencies did not run successfully.
  │ exit code: 1
  ╰─> [3 lines of output]
      ERROR: No matching distribution found for scikit-build-core>=0.10
"""


@pytest.mark.parametrize(
    ("output", "missing"),
    [
        (PIP_26_OUTPUT, ["Cython>=3.1.1"]),
        (PIP_23_OUTPUT, ["scikit-build-core>=0.10"]),
        ("setup.py: No matching distribution found for lib (a message of the build itself)", []),
        ("error: command 'gcc' failed", []),
    ],
)
def test_missing_build_requirements_are_read_from_pips_output(
    output: str, missing: list[str]
) -> None:
    """Only what pip could not install for the build's own environment counts."""
    assert missing_build_requirements(output) == missing


def test_a_build_lacking_build_requirements_says_so_without_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The planner downloads them and builds again: an informative line, no error output."""
    pip = WheelPip(PipFailedError("Failed to build", PIP_26_OUTPUT, 1))
    with caplog.at_level(logging.INFO), pytest.raises(BuildError) as raised:
        builder(tmp_path, pip).wheels_for(sdists(tmp_path, KEYS[:1]))
    assert missing_build_requirements(raised.value.output) == ["Cython>=3.1.1"]
    assert "its build back-end asked for Cython>=3.1.1" in str(raised.value)
    assert "Building alpha 1.0 needs Cython>=3.1.1, which the local index lacks." in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_builds_run_as_many_at_once_as_the_machine_gives(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The number of builds at once is asked of ``cores`` when the builds start."""
    asked: list[int] = []

    def one_core() -> int:
        asked.append(1)
        return 1

    cache = BinaryCache({"memory": Memory(tmp_path / "cache")})
    made = Builder(WheelPip(), cache, tmp_path / "sources", tmp_path / "locks", cores=one_core)
    assert asked == []
    with caplog.at_level(logging.INFO):
        assert len(made.wheels_for(sdists(tmp_path))) == 3
    assert asked == [1]
    assert "Building 3 sdists, 1 at a time." in caplog.messages


def test_a_wheel_pip_built_while_downloading_is_cached_once(tmp_path: Path) -> None:
    """An adopted wheel enters the cache and counts as built; a second process's copy of
    the same key finds the first and stores nothing; a cache that refuses it keeps it."""
    wheel = tmp_path / "alpha-1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    built: list[Path] = []
    first = builder(tmp_path, WheelPip())
    first.on_built = built.append
    stored = first.adopt(KEYS[0], wheel)
    assert stored == tmp_path / "cache" / wheel.name and stored.read_bytes() == b"wheel"
    assert first.built == {stored} and built == [stored]
    wheel.write_bytes(b"another build")
    second = builder(tmp_path, WheelPip())
    assert second.adopt(KEYS[0], wheel) == stored and stored.read_bytes() == b"wheel"
    assert second.built == set()
    (tmp_path / "refused").mkdir()
    refused = builder(tmp_path / "refused", WheelPip(), broken=True)
    kept = refused.adopt(KEYS[1], wheel)
    assert kept.read_bytes() == b"another build" and kept.parent != wheel.parent


def test_a_whole_set_build_holds_one_lock_for_every_process(tmp_path: Path) -> None:
    """The whole-set lock is one file among the builds' locks, the same for two builders."""
    first, second = builder(tmp_path, WheelPip()), builder(tmp_path, WheelPip())
    with first.whole_set_lock() as held:
        assert Path(held.lock_file).parent == tmp_path / "locks"
        assert second.whole_set_lock().lock_file == held.lock_file
        with pytest.raises(Timeout):
            second.whole_set_lock().acquire(timeout=0.05)
