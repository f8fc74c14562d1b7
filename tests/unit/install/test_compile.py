"""Unit tests of ``pip_accel.install._compile``: compiling trees' modules in chunks.

pip-accel runs it as a script with the target interpreter; here its parts run in-process,
and the whole script runs once as a child with the ``spawn`` start method, where worker
processes must find its functions by its file.
"""

import io
import subprocess
import sys
from pathlib import Path

import pytest

from pip_accel.install import _compile
from pip_accel.install.compiler import COMPILE_SCRIPT

TAG = sys.implementation.cache_tag


def module(directory: Path, name: str, text: str = "VALUE = 1\n") -> Path:
    """A Python module in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(text)
    return path


def bytecode(path: Path) -> Path:
    """Where the bytecode of a module goes for this interpreter."""
    return path.parent / "__pycache__" / f"{path.stem}.{TAG}.pyc"


def test_chunks_keep_order_and_bound_the_size() -> None:
    """Consecutive chunks of at most the size, nothing lost, nothing for no paths."""
    paths = [f"m{number}.py" for number in range(37)]
    parts = _compile.chunks(paths, 16)
    assert [len(part) for part in parts] == [16, 16, 5]
    assert [path for part in parts for path in part] == paths
    assert _compile.chunks([], 16) == []


def test_compile_files_writes_bytecode_and_survives_a_syntax_error(tmp_path: Path) -> None:
    """Each good module gets its bytecode; a broken one is left for import time."""
    good = module(tmp_path, "good")
    broken = module(tmp_path, "broken", "def (:\n")
    _compile.compile_files([str(broken), str(good)])
    assert bytecode(good).is_file()
    assert not bytecode(broken).exists()


def test_reporter_names_a_batch_once_all_its_chunks_are_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch of two chunks is reported after the second; an empty one at once."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    reporter = _compile.Reporter()
    reporter.expect("big", 2)
    reporter.expect("empty", 0)
    assert out.getvalue() == "empty\n"
    reporter.done("big")
    assert out.getvalue() == "empty\n"
    reporter.done("big")
    assert out.getvalue() == "empty\nbig\n"


RUN_WITH_SPAWN = """\
import multiprocessing, runpy, sys
multiprocessing.set_start_method("spawn")
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def test_the_script_compiles_with_the_spawn_start_method(tmp_path: Path) -> None:
    """Run as pip-accel runs it (a file, not ``-c``), its workers find its functions even
    where they are spawned, not forked; each batch's name comes back when it is done."""
    first = [module(tmp_path / "one", f"m{number}") for number in range(20)]
    second = [module(tmp_path / "two", "only")]
    lines = "".join(
        f'["{name}", [{", ".join(f"{chr(34)}{path}{chr(34)}" for path in paths)}]]\n'
        for name, paths in (("one", first), ("two", second), ("none", []))
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", RUN_WITH_SPAWN, _compile.__file__],
        input=lines, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert sorted(result.stdout.split()) == ["none", "one", "two"]
    assert all(bytecode(path).is_file() for path in first + second)


def test_the_tree_store_runs_this_script() -> None:
    """pip_accel.install.compiler names the script by its path (it does not import it)."""
    assert Path(_compile.__file__) == COMPILE_SCRIPT
