"""Unit tests of ``pip_accel.environment``: choosing the target and reading its probe.

The target's answers come from :class:`StubTarget`, a :class:`TargetEnvironment` whose
probe returns a dictionary written here; one test runs the real probe with this very
interpreter (a subprocess of a tenth of a second, no pip, no index).
"""

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from pip_accel import _probe, environment
from pip_accel.environment import (
    TargetEnvironment,
    active_environment,
    select_interpreter,
)
from pip_accel.exceptions import EnvironmentProbeError


def fake_python(directory: Path) -> Path:
    """An executable file at ``directory/bin/python``, which is all the selection checks."""
    python = directory / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    return python


class StubTarget(TargetEnvironment):
    """A target environment whose probe answers with ``info`` instead of running Python."""

    def __init__(self, info: dict[str, Any]) -> None:
        """Take the probe's answer as given."""
        self.stub_info = info
        super().__init__(Path("/nowhere/bin/python"))

    def _probe(self) -> dict[str, Any]:
        """The answer given to the constructor."""
        return self.stub_info


def probe_info(tmp_path: Path, in_venv: bool = True) -> dict[str, Any]:
    """A probe's answer for a CPython 3.11 venv at ``tmp_path/venv``."""
    prefix = str(tmp_path / "venv")
    paths = {
        "purelib": f"{prefix}/lib/python3.11/site-packages",
        "platlib": f"{prefix}/lib64/python3.11/site-packages",
        "scripts": f"{prefix}/bin",
        "data": prefix,
        "include": "/usr/include/python3.11",
    }
    prefix_paths = {key: value.replace(prefix, _probe.BASE) for key, value in paths.items()}
    return {
        "executable": f"{prefix}/bin/python",
        "version": "3.11",
        "tags": ["cp311-cp311-manylinux_2_36_x86_64", "py3-none-any"],
        "cache_tag": "cpython-311",
        "platform": "linux-x86_64",
        "libc": "glibc2.36",
        "in_venv": in_venv,
        "prefix": prefix,
        "paths": paths,
        "user_paths": {**paths, "purelib": "/home/u/.local/lib/python3.11/site-packages"},
        "prefix_paths": prefix_paths,
    }


def test_python_option_wins_and_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``--python`` names the target even when a virtual environment is active."""
    python = fake_python(tmp_path / "chosen")
    other = fake_python(tmp_path / "active")
    with caplog.at_level(logging.INFO):
        chosen = select_interpreter(str(python), {"VIRTUAL_ENV": str(other.parent.parent)})
    assert chosen == python
    assert "from pip's --python option" in caplog.text


def test_python_option_may_name_a_directory(tmp_path: Path) -> None:
    """``--python venv`` means the venv's ``bin/python``, as in pip."""
    python = fake_python(tmp_path / "venv")
    assert select_interpreter(str(tmp_path / "venv"), {}) == python


def test_python_option_is_looked_up_on_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare command name such as ``python3.11`` is found on ``$PATH``."""
    python = fake_python(tmp_path)
    monkeypatch.setenv("PATH", str(python.parent))
    monkeypatch.chdir(tmp_path)  # no file called "python" here
    assert select_interpreter("python", {}) == python


def test_active_virtual_environment_is_the_target(tmp_path: Path) -> None:
    """Without ``--python``, ``$VIRTUAL_ENV`` names the target."""
    python = fake_python(tmp_path / "venv")
    assert select_interpreter(None, {"VIRTUAL_ENV": str(tmp_path / "venv")}) == python


def test_own_environment_is_not_a_target(caplog: pytest.LogCaptureFixture) -> None:
    """pip-accel's own venv, though active, leaves the target to pip-accel's interpreter."""
    with caplog.at_level(logging.INFO):
        chosen = select_interpreter(None, {"VIRTUAL_ENV": sys.prefix})
    assert chosen == Path(sys.executable)
    assert "the interpreter that runs pip-accel" in caplog.text


def test_missing_interpreter_is_refused(tmp_path: Path) -> None:
    """A target that does not exist stops pip-accel with a message that names it."""
    missing = tmp_path / "gone" / "bin" / "python"
    with pytest.raises(EnvironmentProbeError, match="does not exist or cannot run"):
        select_interpreter(str(missing), {})


def test_active_environment_only_without_python_option(tmp_path: Path) -> None:
    """Pass-through commands get ``$VIRTUAL_ENV`` only when pip would not see it itself."""
    environ = {"VIRTUAL_ENV": str(tmp_path / "venv")}
    assert active_environment(None, environ) == tmp_path / "venv" / "bin" / "python"
    assert active_environment("/usr/bin/python3", environ) is None
    assert active_environment(None, {}) is None
    assert active_environment(None, {"VIRTUAL_ENV": sys.prefix}) is None


def test_properties_read_the_probe(tmp_path: Path) -> None:
    """Executable, version, tags and cache tag are the probe's answers."""
    target = StubTarget(probe_info(tmp_path))
    assert target.executable == str(tmp_path / "venv" / "bin" / "python")
    assert target.version == "3.11"
    assert target.tags == ["cp311-cp311-manylinux_2_36_x86_64", "py3-none-any"]
    assert target.cache_tag == "cpython-311"


def test_namespace_separates_what_must_not_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interpreter, ABI, machine, C library and distribution make the namespace."""
    monkeypatch.setattr(environment, "_os_release", lambda: "debian12")
    target = StubTarget(probe_info(tmp_path))
    assert target.namespace == "cp311-cp311-x86_64-glibc2.36-debian12"
    musl = StubTarget({**probe_info(tmp_path), "libc": ""})
    assert musl.namespace == "cp311-cp311-x86_64-nolibc-debian12"


def test_namespace_ends_with_this_machines_distribution(tmp_path: Path) -> None:
    """The last part is read from os-release: one word such as ``debian12``, no dash."""
    namespace = StubTarget(probe_info(tmp_path)).namespace
    assert namespace.startswith("cp311-cp311-x86_64-glibc2.36")
    assert len(namespace.split("-")) <= 5


def test_default_scheme_and_venv_headers(tmp_path: Path) -> None:
    """In a venv, headers go to ``<prefix>/include/site/pythonX.Y/<name>``, as pip does."""
    scheme = StubTarget(probe_info(tmp_path)).scheme("Demo")
    prefix = str(tmp_path / "venv")
    assert scheme.paths["purelib"] == f"{prefix}/lib/python3.11/site-packages"
    assert scheme.paths["headers"] == f"{prefix}/include/site/python3.11/Demo"
    assert scheme.root is None


def test_headers_outside_a_venv_follow_the_include_path(tmp_path: Path) -> None:
    """Outside a venv the scheme's ``include`` directory holds the headers."""
    scheme = StubTarget(probe_info(tmp_path, in_venv=False)).scheme("demo", root="/r")
    assert scheme.paths["headers"] == "/usr/include/python3.11/demo"
    assert scheme.root == "/r"


def test_prefix_and_user_schemes(tmp_path: Path) -> None:
    """``--prefix`` replaces the placeholder base; ``--user`` takes the user paths."""
    target = StubTarget(probe_info(tmp_path))
    prefixed = target.scheme("demo", prefix=str(tmp_path / "p"))
    assert prefixed.paths["scripts"] == f"{tmp_path}/p/bin"
    assert prefixed.paths["headers"] == f"{tmp_path}/p/include/site/python3.11/demo"
    user = target.scheme("demo", user=True)
    assert user.paths["purelib"] == "/home/u/.local/lib/python3.11/site-packages"


def test_installed_finds_the_dist_info_by_normalized_name(tmp_path: Path) -> None:
    """``My_Project`` finds ``my.project-2.0.dist-info``; other entries are ignored."""
    target = StubTarget(probe_info(tmp_path))
    scheme = target.scheme("x")
    platlib = Path(scheme.paths["platlib"])
    platlib.mkdir(parents=True)
    (platlib / "my.project-2.0.dist-info").mkdir()
    (platlib / "other-1.0.dist-info").mkdir()
    (platlib / "README.txt").write_text("")
    found = target.installed("My_Project", scheme)
    assert found is not None
    assert (found.name, found.version) == ("my-project", "2.0")
    assert found.dist_info == platlib / "my.project-2.0.dist-info"
    assert target.installed("absent", scheme) is None


def test_real_probe_of_this_interpreter() -> None:
    """The probe, run with this interpreter, says what ``sys`` says here."""
    target = TargetEnvironment(Path(sys.executable))
    assert target.version == "{}.{}".format(*sys.version_info[:2])
    assert target.cache_tag == sys.implementation.cache_tag
    assert target.info["in_venv"] == (sys.prefix != sys.base_prefix)


def test_failing_probe_names_the_interpreter(tmp_path: Path) -> None:
    """An interpreter that fails to run the probe gives its last line of output."""
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\necho 'no such thing' >&2\nexit 1\n")
    python.chmod(0o755)
    with pytest.raises(EnvironmentProbeError, match=f"{python}: no such thing"):
        TargetEnvironment(python)
