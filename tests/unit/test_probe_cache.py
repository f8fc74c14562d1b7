"""Unit tests of ``pip_accel.probe_cache``: the target's probe kept per interpreter.

The interpreters are files in ``tmp_path`` laid out as venvs (``bin/python`` a
link to an "executable", ``pyvenv.cfg`` beside ``bin``), and the probe is a
stand-in that counts its calls: no process runs.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pip_accel.environment import TargetEnvironment
from pip_accel.probe_cache import ProbeCache

from support.aged import old_and_recent


class CountingProbe:
    """A probe that answers ``info`` (with a number of the call) and counts its calls."""

    def __init__(self, site: Path) -> None:
        """Answer with ``site`` as the interpreter's only directory on its path."""
        self.calls = 0
        self.site = site

    def __call__(self) -> dict[str, Any]:
        """The answer of one probe."""
        self.calls += 1
        return {"call": self.calls, "sys_path": [str(self.site)], "paths": {}}


def make_venv(root: Path, executable: Path) -> Path:
    """A venv at ``root`` whose ``bin/python`` links to ``executable``; its python."""
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir(exist_ok=True)
    (root / "pyvenv.cfg").write_text(f"home = {executable.parent}\n")
    python = root / "bin" / "python"
    python.symlink_to(executable)
    return python


def executable(path: Path, contents: str = "#!/bin/sh\n") -> Path:
    """An executable file standing in for an interpreter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(contents)
    path.chmod(0o755)
    return path


def test_second_lookup_does_not_probe(tmp_path: Path) -> None:
    """The answer is kept: the second lookup of the same interpreter runs no probe."""
    python = make_venv(tmp_path / "venv", executable(tmp_path / "base" / "python3"))
    probe = CountingProbe(tmp_path / "venv" / "lib")
    cache = ProbeCache(tmp_path / "probes", {"HOME": "/home/me"})
    assert cache.info(python, probe) == cache.info(python, probe)
    assert probe.calls == 1
    assert ProbeCache(tmp_path / "probes", {"HOME": "/home/me"}).info(python, probe)["call"] == 1


def test_venv_made_again_with_another_python_probes_again(tmp_path: Path) -> None:
    """A venv removed and made again at the same path with another Python is a miss."""
    venv = tmp_path / "venv"
    python = make_venv(venv, executable(tmp_path / "base311" / "python3"))
    probe = CountingProbe(venv / "lib")
    cache = ProbeCache(tmp_path / "probes", {})
    cache.info(python, probe)
    for path in (python, venv / "pyvenv.cfg"):
        path.unlink()
    (venv / "bin").rmdir()
    make_venv(venv, executable(tmp_path / "base312" / "python3", "#!/bin/sh\n# 3.12\n"))
    assert cache.info(python, probe)["call"] == 2


def test_venv_made_again_with_the_same_python_probes_again(tmp_path: Path) -> None:
    """A new ``pyvenv.cfg`` (the venv made again, same base) is a miss too."""
    venv = tmp_path / "venv"
    base = executable(tmp_path / "base" / "python3")
    python = make_venv(venv, base)
    probe = CountingProbe(venv / "lib")
    cache = ProbeCache(tmp_path / "probes", {})
    cache.info(python, probe)
    (venv / "pyvenv.cfg").unlink()
    (venv / "pyvenv.cfg").write_text(f"home = {base.parent}\ninclude-system-site-packages = true\n")
    assert cache.info(python, probe)["call"] == 2


def test_interpreter_replaced_in_place_probes_again(tmp_path: Path) -> None:
    """An executable installed anew at the same path (another file) is a miss."""
    base = executable(tmp_path / "base" / "python3")
    probe = CountingProbe(tmp_path / "lib")
    cache = ProbeCache(tmp_path / "probes", {})
    cache.info(base, probe)
    base.unlink()
    executable(base, "#!/bin/sh\n# upgraded\n")
    assert cache.info(base, probe)["call"] == 2


def test_new_pth_file_probes_again(tmp_path: Path) -> None:
    """A ``.pth`` file added where the interpreter looks (it changes ``sys.path``) is a miss."""
    python = make_venv(tmp_path / "venv", executable(tmp_path / "base" / "python3"))
    site = tmp_path / "venv" / "lib"
    probe = CountingProbe(site)
    cache = ProbeCache(tmp_path / "probes", {})
    cache.info(python, probe)
    (site / "__editable__.project.pth").write_text("/src\n")
    assert cache.info(python, probe)["call"] == 2
    assert cache.info(python, probe)["call"] == 2


def test_each_venv_has_its_own_answer(tmp_path: Path) -> None:
    """Two venvs of one base interpreter are two interpreters (prefixes, paths differ)."""
    base = executable(tmp_path / "base" / "python3")
    first, second = make_venv(tmp_path / "a", base), make_venv(tmp_path / "b", base)
    probe = CountingProbe(tmp_path / "a" / "lib")
    cache = ProbeCache(tmp_path / "probes", {})
    cache.info(first, probe)
    assert cache.info(second, probe)["call"] == 2
    assert cache.info(first, probe)["call"] == 1


def test_other_home_probes_again(tmp_path: Path) -> None:
    """The user scheme's paths follow ``$HOME``: another home is a miss."""
    base = executable(tmp_path / "base" / "python3")
    probe = CountingProbe(tmp_path / "lib")
    ProbeCache(tmp_path / "probes", {"HOME": "/home/a"}).info(base, probe)
    assert ProbeCache(tmp_path / "probes", {"HOME": "/home/b"}).info(base, probe)["call"] == 2


def test_damaged_file_probes_again_and_is_replaced(tmp_path: Path) -> None:
    """A kept probe that is not JSON (or not this layout) is a miss, and is written anew."""
    base = executable(tmp_path / "base" / "python3")
    probe = CountingProbe(tmp_path / "lib")
    cache = ProbeCache(tmp_path / "probes", {})
    cache.info(base, probe)
    (kept,) = (tmp_path / "probes").iterdir()
    kept.write_text("{not json")
    assert cache.info(base, probe)["call"] == 2
    assert json.loads(kept.read_text())["info"]["call"] == 2
    kept.write_text(json.dumps({"format": 1, "python": str(base), "info": []}))
    assert cache.info(base, probe)["call"] == 3


def test_unwritable_directory_still_answers(tmp_path: Path) -> None:
    """A probe that cannot be kept is still the answer (the next run probes again)."""
    (tmp_path / "probes").write_text("a file where the directory should be")
    base = executable(tmp_path / "base" / "python3")
    probe = CountingProbe(tmp_path / "lib")
    assert ProbeCache(tmp_path / "probes", {}).info(base, probe)["call"] == 1


def test_target_environment_uses_the_kept_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real probe of this interpreter, kept: the second target reads it and runs nothing."""
    cache = ProbeCache(tmp_path / "probes")
    first = TargetEnvironment(Path(sys.executable), cache)

    def refuse(self: TargetEnvironment) -> dict[str, Any]:
        raise AssertionError("probed again")

    monkeypatch.setattr(TargetEnvironment, "_probe", refuse)
    second = TargetEnvironment(Path(sys.executable), cache)
    assert second.info == first.info
    assert second.version == "{}.{}".format(*sys.version_info[:2])


def test_a_new_venv_of_a_probed_base_takes_its_answer_relocated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second venv of this interpreter is not probed: the first venv's answer, with the
    prefix changed, is what the real probe of the second says (paths, sys.path, executable)."""
    base = Path(sys.executable).resolve()
    for name in ("one", "two"):
        subprocess.run([base, "-m", "venv", "--without-pip", tmp_path / name], check=True)
    cache = ProbeCache(tmp_path / "probes")
    TargetEnvironment(tmp_path / "one" / "bin" / "python", cache)
    expected = TargetEnvironment(tmp_path / "two" / "bin" / "python").info

    def refuse(self: TargetEnvironment) -> dict[str, Any]:
        raise AssertionError("probed again")

    monkeypatch.setattr(TargetEnvironment, "_probe", refuse)
    assert TargetEnvironment(tmp_path / "two" / "bin" / "python", cache).info == expected


def test_a_new_venv_with_a_pth_file_or_other_settings_is_probed(tmp_path: Path) -> None:
    """A venv with a ``.pth`` file of its own, or another ``pyvenv.cfg``, is probed."""
    base = Path(sys.executable).resolve()
    for name in ("one", "two", "three"):
        subprocess.run([base, "-m", "venv", "--without-pip", tmp_path / name], check=True)
    cache = ProbeCache(tmp_path / "probes")
    TargetEnvironment(tmp_path / "one" / "bin" / "python", cache)
    (site,) = (tmp_path / "two").glob("lib/python*/site-packages")
    (site / "extra.pth").write_text(str(tmp_path) + "\n")
    two = TargetEnvironment(tmp_path / "two" / "bin" / "python", cache)
    assert str(tmp_path) in two.info["sys_path"]
    config = tmp_path / "three" / "pyvenv.cfg"
    config.write_text(config.read_text().replace("= false", "= true"))
    three = TargetEnvironment(tmp_path / "three" / "bin" / "python", cache)
    assert any(path.startswith(sys.base_prefix) for path in three.info["sys_path"][3:])


def test_writing_a_probe_removes_those_written_long_ago(tmp_path: Path) -> None:
    """A probe written more than ``kept_for`` ago goes when another is written (one per
    interpreter path would else pile up); a recent one stays."""
    directory = tmp_path / "probes"
    old, recent = old_and_recent(directory)
    python = executable(tmp_path / "base" / "python3")
    probe = CountingProbe(tmp_path / "base")
    ProbeCache(directory, {}, kept_for=600).info(python, probe)
    assert not old.exists() and recent.exists()
    assert probe.calls == 1 and count_json(directory) == 2


def count_json(directory: Path) -> int:
    """The kept files directly in ``directory``."""
    return len(list(directory.glob("*.json")))
