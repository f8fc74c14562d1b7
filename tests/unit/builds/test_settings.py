"""Unit tests of :mod:`pip_accel.builds.settings`: which settings change a build's cache key."""

from collections.abc import Sequence
from pathlib import Path

import pytest
from packaging.version import Version

from pip_accel.builds.builder import Builder
from pip_accel.builds.settings import BuildSettings, build_constraints, requirement_options
from pip_accel.caches import CacheKey
from pip_accel.caches.binary_cache import BinaryCache
from pip_accel.pip.command_line import command_dests, parse_install
from pip_accel.pip.runner import Pip

PLATFORM = "cp311-cp311-x86_64-glibc2.36-debian12"
NAMES = ("CC", "CFLAGS")


def settings(args: list[str], environ: dict[str, str] | None = None) -> BuildSettings:
    """The build settings of an install command line in ``environ``."""
    return BuildSettings.of(parse_install(args), environ or {}, NAMES)


def test_no_settings_keep_the_platform_namespace() -> None:
    """Without build options or variables, keys are those of earlier versions."""
    unset = settings(["cext"], {"PATH": "/bin", "CFLAGS": ""})
    assert unset.namespace(PLATFORM, "cext") == PLATFORM


def test_each_setting_gives_another_namespace() -> None:
    """A variable, its value, and a command-line build option each change the namespace."""
    namespaces = {
        settings(["cext"], {"CFLAGS": "-O0"}).namespace(PLATFORM, "cext"),
        settings(["cext"], {"CFLAGS": "-O2"}).namespace(PLATFORM, "cext"),
        settings(["cext"], {"CC": "clang"}).namespace(PLATFORM, "cext"),
        settings(["--config-settings", "key=value", "cext"]).namespace(PLATFORM, "cext"),
        settings(["--no-build-isolation", "cext"]).namespace(PLATFORM, "cext"),
        PLATFORM,
    }
    assert len(namespaces) == 6
    assert all(name.startswith(PLATFORM) for name in namespaces)


def test_the_same_settings_give_the_same_namespace() -> None:
    """Runs with equal settings share their builds; variables not named do not count."""
    one = settings(["--config-settings", "key=value", "cext"], {"CFLAGS": "-O0", "HOME": "/one"})
    two = settings(["--config-settings", "key=value", "cext"], {"CFLAGS": "-O0", "HOME": "/two"})
    assert one.namespace(PLATFORM, "cext") == two.namespace(PLATFORM, "cext")


def test_options_of_a_requirement_line_count_for_that_project_only(tmp_path: Path) -> None:
    """``name --config-settings=...`` in a requirements file changes that project's key."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Cext==1.0 --config-settings=--build-option=--debug\nother\n")
    found = settings(["-r", str(requirements)])
    assert found.options_for("cext") == ["--config-settings=--build-option=--debug"]
    assert found.options_for("other") == []
    assert found.namespace(PLATFORM, "other") == PLATFORM
    assert found.namespace(PLATFORM, "CEXT") != PLATFORM


def test_requirement_options_reads_each_spelling() -> None:
    """Joined and separate values, ``-C``, and lines that are not a named requirement."""
    line = "demo[extra]>=1 ; python_version>'3' -C a=1 --global-option x --hash=sha256:00"
    assert requirement_options(line) == ("demo", ("--config-settings=a=1", "--global-option=x"))
    assert requirement_options("--index-url http://127.0.0.1/simple") == (None, ())
    assert requirement_options("./local/dir -C a=1") == (None, ())
    assert requirement_options("demo 'unclosed") == (None, ())


class RecordingPip(Pip):
    """Records the pip commands a builder runs and makes the wheel ``pip wheel`` would."""

    def __init__(self) -> None:
        """Record into :attr:`commands`."""
        super().__init__(None, [])
        self.commands: list[list[str]] = []

    def run(
        self, args: Sequence[str], env: dict[str, str] | None = None, spinner: str | None = None
    ) -> str:
        """Write an empty wheel into the ``--wheel-dir`` instead of building."""
        args = list(args)
        self.commands.append(args)
        directory = Path(args[args.index("--wheel-dir") + 1])
        (directory / "cext-1.0-cp311-cp311-linux_x86_64.whl").write_bytes(b"")
        return ""


def test_a_build_gets_the_options_of_its_requirement_line(tmp_path: Path) -> None:
    """The builder adds a project's own options to its ``pip wheel`` command."""
    pip = RecordingPip()
    builder = Builder(
        pip, BinaryCache({}), tmp_path, tmp_path / "locks", ["-C", "all=1"], tmp_path,
        lambda project: ["--config-settings=own=1"] if project == "cext" else [],
    )  # fmt: skip
    sdist = tmp_path / "cext-1.0.tar.gz"
    sdist.write_bytes(b"")
    key = CacheKey(PLATFORM, "cext", "1.0", "0" * 64)
    assert set(builder.wheels_for({key: sdist})) == {key}
    command = pip.commands[0]
    assert command[-3:] == ["all=1", "--config-settings=own=1", str(sdist)]


def pip_accepts(dest: str) -> pytest.MarkDecorator:
    """Skip a test when this pip's install command has no option with destination ``dest``."""
    return pytest.mark.skipif(
        dest not in command_dests("install"), reason=f"this pip has no option {dest}"
    )


@pip_accepts("build_constraints")
def test_build_constraints_count_by_their_contents(tmp_path: Path) -> None:
    """The same build constraints in two places share builds; other contents do not."""
    for name, pin in (("one", "setuptools==70"), ("two", "setuptools==70"), ("three", "x==1")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "build.txt").write_text(f"{pin}\n")
    namespaces = [
        settings(["--build-constraint", str(tmp_path / name / "build.txt"), "cext"]).namespace(
            PLATFORM, "cext"
        )
        for name in ("one", "two", "three")
    ]
    assert namespaces[0] == namespaces[1] != namespaces[2]
    assert PLATFORM not in (namespaces[0], namespaces[2])
    assert all(name.startswith(PLATFORM + "+") for name in namespaces)


def test_constraints_of_the_command_line_never_reach_builds(tmp_path: Path) -> None:
    """``-c`` shapes the plan, not a build's isolated environment: the namespace stays."""
    constraints = tmp_path / "c.txt"
    constraints.write_text("setuptools==70\n")
    assert settings(["-c", str(constraints), "cext"]).namespace(PLATFORM, "cext") == PLATFORM


def inherited(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], pip: str
) -> list[str]:
    """The constraints files of builds for ``args`` with PIP_CONSTRAINT set, for ``pip``."""
    environment = tmp_path / "environment.txt"
    environment.write_text("setuptools==70\n")
    monkeypatch.setenv("PIP_CONSTRAINT", str(environment))
    return build_constraints(parse_install(args), Version(pip))


def test_pip_constraint_reaches_builds_before_pip_26_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PIP_CONSTRAINT applies inside builds up to pip 26.1, so it counts then; ``-c`` never."""
    given = tmp_path / "given.txt"
    given.write_text("purepkg==1.0\n")
    args = ["-c", str(given), "cext"]
    assert inherited(monkeypatch, tmp_path, args, "25.0") == [str(tmp_path / "environment.txt")]
    assert inherited(monkeypatch, tmp_path, args, "26.2") == []


@pip_accepts("build_constraints")
def test_build_constraints_take_the_place_of_pip_constraint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With build constraints or the feature ``build-constraint``, PIP_CONSTRAINT no longer
    reaches builds (pip 25.3 to 26.1)."""
    build = tmp_path / "build.txt"
    build.write_text("flit_core==3.9\n")
    args = ["--build-constraint", str(build), "cext"]
    assert inherited(monkeypatch, tmp_path, args, "25.3") == [str(build)]
    featured = ["--use-feature", "build-constraint", "cext"]
    assert inherited(monkeypatch, tmp_path, featured, "25.3") == []
