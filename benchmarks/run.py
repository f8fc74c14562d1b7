"""Time pip, uv and pip-accel installing a requirement set into new virtual environments.

Each tool gets its own empty cache; a *cold* run starts with that cache empty,
a *warm* run follows one earlier run. The tools take turns run by run, so that
a slower or busier moment of the machine spreads over all of them. Every pip
involved ignores the machine's pip configuration (``PIP_CONFIG_FILE=/dev/null``
and no inherited ``PIP_*`` variables).

Usage::

    python benchmarks/run.py benchmarks/requirements-web.txt --runs 3

It prints the median seconds per tool and state, the ratios of pip-accel to
uv and to pip, the peak memory (largest resident set of any one process) and
the processor time (``CPU s``: user and system seconds of the command's whole
process tree, grandchildren and orphans included), with its ratios too.
pip and pip-accel compile bytecode, so uv is run with ``--compile-bytecode``:
every tool then makes the same environment. uv without it is measured too, as
a reference ("uv-nobytecode"), and left out of the ratios.

``--json FILE`` saves the figures, which ``benchmarks/chart.py`` draws.

``--fleet`` measures the empty-disk CI worker instead: moto's S3 server on
127.0.0.1 holds a bucket that one worker primed with the requirement set (and
that also holds another job's set, ``benchmarks/requirements-other.txt``, and
300 source archives of other projects); then, run by run, a worker with an
empty data directory installs the set from the bucket, side by side with pip
and uv with empty caches. It prints the medians, the ratios and how many
objects the worker fetched from the bucket (from moto's request log)::

    python benchmarks/run.py benchmarks/requirements-web.txt --runs 3 --fleet

``--pairs N`` measures cold runs in pairs instead, for a machine whose speed
drifts: pip-accel cold, then pip cold at once, N times after one pair that is
not counted, each with a new venv and empty caches; it prints each pair's
ratio and their median, which a drift between pairs does not move::

    python benchmarks/run.py benchmarks/requirements-web.txt --pairs 5

``--replan N`` measures a changed lock file with warm caches: each tool has
installed the set once, then, N times, the requirements file changes (its
lines in another order, so that no stored plan matches) and each tool installs
it into a new venv: pip-accel (which plans a set of pins from its wheels),
pip-accel made to ask pip for the plan (``--ignore-requires-python``, which
changes nothing else for a set that fits the interpreter), and pip::

    python benchmarks/run.py benchmarks/requirements-web.txt --replan 3

``--editable`` measures ``-e ./proj`` of a small pyproject project instead of
a requirements file (setuptools, one module, one dependency, made anew in the
work directory for each tool and run): cold is its first install with empty
caches, warm a later one of the same project into a new venv::

    python benchmarks/run.py --editable --runs 3

``--moved`` measures a data directory copied to another path with new times
(``cp -r``, as a CI system restores its cache into a new workspace): pip-accel
fills a data directory once, then, run by run, installs warm with it and with
a new copy of it. It prints both, their ratio, and the copy's size and number
of trees before and after its install (more trees after: trees made again)::

    python benchmarks/run.py benchmarks/requirements-web.txt --runs 3 --moved

``--busy N``, with any scenario, keeps N cores busy during the whole run (a
process spinning on each, not counted in the measured processor time), like
another job on the same CI host or laptop; the report says so::

    python benchmarks/run.py benchmarks/requirements-web.txt --runs 3 --busy 1
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

WRAPPER = (
    "import ctypes, os, resource, subprocess, sys, time\n"
    "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"
    "log = open(sys.argv[1], 'ab')\n"
    "start = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[2:], stdout=log, stderr=log).returncode\n"
    "elapsed = time.perf_counter() - start\n"
    "while True:\n"
    "    try:\n"
    "        os.wait()\n"
    "    except ChildProcessError:\n"
    "        break\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(code, elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)\n"
)
"""Runs one command, its output appended to a log file (the first argument); prints its exit
code, seconds, peak resident set (KiB) and processor seconds (user and system).

The wrapper is a new process, so its children's resource usage is the command's
alone. That usage covers every process of the tree that was waited for:
grandchildren count once their parent reaps them, and the wrapper is made a
child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``, 36), so that a process whose
parent left without waiting for it is adopted and reaped here, and counted too.
The wall time ends when the command exits; processor time includes any process
it left running, waited for before the usage is read."""

LOG_NAME = "commands.log"
"""The file in the work directory that keeps the output of every measured command."""

SPINNER = "while True: pass"
"""The program of a process that keeps one core busy (``--busy``)."""

Tool = Callable[[Path, list[str], Path], list[str]]
"""Makes the command that installs requirements (the arguments naming them, such as
``-r FILE`` or ``-e DIR``) into a venv, with a cache directory."""


class Measurement(NamedTuple):
    """What one measured command took."""

    seconds: float
    """Wall time."""
    mib: int
    """Peak memory: the largest resident set of any one process, in MiB."""
    cpu: float
    """Processor time: user and system seconds of the whole process tree."""


Results = dict[str, dict[str, list[float]]]
"""Each tool's columns of figures, by name (such as ``cold``, ``cold MiB``, ``cold CPU s``)."""


def from_file(requirements: Path) -> list[str]:
    """The arguments that install a requirements file."""
    return ["-r", str(requirements)]


def isolated_environment(home: Path) -> dict[str, str]:
    """The environment of every measured command: no pip configuration of this machine."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "UV_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", HOME=str(home))
    return env


def pip_tool(bench: Path) -> Tool:
    """pip (the newest, installed in the benchmark's own environment), acting on the venv."""
    python = bench / "bin" / "python"
    return lambda venv, requirements, cache: [
        str(python), "-m", "pip", "--python", str(venv / "bin" / "python"),
        "install", "--cache-dir", str(cache), *requirements,
    ]  # fmt: skip


def uv_tool(bench: Path) -> Tool:
    """uv pip install, with its own cache."""
    uv = bench / "bin" / "uv"
    return lambda venv, requirements, cache: [
        str(uv), "pip", "install", "--python", str(venv / "bin" / "python"),
        "--cache-dir", str(cache), "--compile-bytecode", *requirements,
    ]  # fmt: skip


def uv_nobytecode_tool(bench: Path) -> Tool:
    """uv pip install without compiling bytecode: faster, but not the environment pip makes."""
    uv = bench / "bin" / "uv"
    return lambda venv, requirements, cache: [
        str(uv), "pip", "install", "--python", str(venv / "bin" / "python"),
        "--cache-dir", str(cache), *requirements,
    ]  # fmt: skip


def accel_tool(bench: Path) -> Tool:
    """pip-accel, with its data directory as its cache."""
    accel = bench / "bin" / "pip-accel"
    return lambda venv, requirements, cache: [
        "env", f"PIP_ACCEL_CACHE={cache}", f"PIP_CACHE_DIR={cache}/pip", str(accel), "install",
        "--python", str(venv / "bin" / "python"), *requirements,
    ]  # fmt: skip


def prepare(bench: Path, env: dict[str, str]) -> None:
    """Create the benchmark's own environment with the newest pip, uv and this pip-accel.

    With moto's server too, for the fleet scenario, and this checkout's
    pip-accel installed anew every time (it is what is measured).
    """
    pip = [str(bench / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    if not (bench / "bin" / "uv").exists():
        subprocess.run([sys.executable, "-m", "venv", str(bench)], check=True, env=env)
        tools = ["pip", "uv", "matplotlib", "moto[server]"]
        subprocess.run([*pip, "--upgrade", *tools], check=True, env=env)
    checkout = Path(__file__).parent.parent
    subprocess.run([*pip, "--force-reinstall", "--no-deps", str(checkout)], check=True, env=env)
    subprocess.run([*pip, f"{checkout}[s3]"], check=True, env=env)


def measure(command: list[str], env: dict[str, str], work: Path) -> Measurement:
    """Run a command; return what it took, failing loudly on an error.

    Its output goes to ``<work>/commands.log``. The file system's dirty pages
    are written out first (not timed): each tool writes hundreds of megabytes,
    and the next one measured should not pay for the writeback of the last.
    """
    os.sync()
    log = str(work / LOG_NAME)
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, log, *command], env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"The benchmark's wrapper failed:\n{result.stderr}")
    code, seconds, peak, cpu = result.stdout.split()
    if code != "0":
        raise SystemExit(f"Failed (exit {code}): {' '.join(command)}")
    return Measurement(float(seconds), int(peak) // 1024, float(cpu))


def record(columns: dict[str, list[float]], state: str, measurement: Measurement) -> None:
    """Add a measurement to a tool's columns: ``state``, ``state MiB`` and ``state CPU s``."""
    columns.setdefault(state, []).append(measurement.seconds)
    columns.setdefault(f"{state} MiB", []).append(measurement.mib)
    columns.setdefault(f"{state} CPU s", []).append(measurement.cpu)


def progress_line(run: int, name: str, state: str, measurement: Measurement) -> str:
    """The progress line of one measurement."""
    return (
        f"run {run + 1} {name:9} {state}: {measurement.seconds:6.2f} s,"
        f" {measurement.cpu:6.2f} CPU s, {measurement.mib} MiB"
    )


@contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """Keep ``count`` cores busy (a process spinning on each) while the body runs.

    Like another job on a CI host or a laptop: the measured commands share the
    machine with it. The spinners are not children of the measured commands,
    so their processor time is not counted.
    """
    spinners = [subprocess.Popen([sys.executable, "-c", SPINNER]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def discard(path: Path, work: Path) -> None:
    """Put a venv or cache out of the way, to be removed when the benchmark ends.

    Removing it at once would slow down the next command measured, whichever
    tool it is: on a file system without a journal (such as this project's
    CI machines), ext4 skips over recently deleted inodes when it makes a new
    file (``recently_deleted`` in ``perf``'s report), and a cold install makes
    tens of thousands of files. An empty CI worker has nothing deleted.
    """
    trash = work / "trash"
    trash.mkdir(exist_ok=True)
    if path.exists():
        path.rename(tempfile.mkdtemp(dir=trash))  # replaces the empty directory made


def empty_trash(work: Path) -> None:
    """Remove what :func:`discard` put aside (after the measurements, or left by an earlier
    benchmark that was interrupted)."""
    shutil.rmtree(work / "trash", ignore_errors=True)


def bench_environment(work: Path) -> tuple[dict[str, str], Path]:
    """The isolated environment of the measured commands, and the prepared benchmark venv."""
    env = isolated_environment(work / "home")
    (work / "home").mkdir(parents=True, exist_ok=True)
    bench = work / "bench-env"
    prepare(bench, env)
    return env, bench


def new_venv(root: Path, env: dict[str, str]) -> Path:
    """A new, empty virtual environment (without pip) under ``root``."""
    venv = Path(tempfile.mkdtemp(prefix="venv-", dir=root))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    return venv


def benchmark(requirements: Callable[[str, int], list[str]], runs: int, work: Path) -> Results:
    """Measure each tool cold and warm ``runs`` times, the tools taking turns.

    ``requirements`` gives the arguments that name what to install, for a
    tool's name and a run's number (the same for its cold and warm run).
    """
    env, bench = bench_environment(work)
    tools = {
        "pip": pip_tool(bench),
        "uv": uv_tool(bench),
        "uv-nobytecode": uv_nobytecode_tool(bench),
        "pip-accel": accel_tool(bench),
    }
    results: dict[str, dict[str, list[float]]] = {name: {} for name in tools}
    names = list(tools)
    for run in range(runs):
        order = names[run % len(names) :] + names[: run % len(names)]  # each run starts elsewhere
        for name in order:
            tool = tools[name]
            cache = work / f"cache-{name}-{run}"
            arguments = requirements(name, run)
            for state in ("cold", "warm"):
                venv = new_venv(work, env)
                measurement = measure(tool(venv, arguments, cache), env, work)
                record(results[name], state, measurement)
                discard(venv, work)
                print(progress_line(run, name, state, measurement), flush=True)
            discard(cache, work)
    return results


def editable_project(root: Path) -> Path:
    """A new small pyproject project under ``root``, as ``-e ./proj`` installs it.

    setuptools builds it (the back-end a new project most often names): one
    module and one dependency (attrs, which needs nothing else).
    """
    project = Path(tempfile.mkdtemp(prefix="editable-", dir=root)) / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '\n[project]\nname = "bench-proj"\nversion = "0.1"\ndependencies = ["attrs"]\n'
        '\n[tool.setuptools]\npy-modules = ["bench_proj"]\n'
    )
    (project / "bench_proj.py").write_text('"""A module of the benchmark."""\n\nimport attrs\n')
    return project


def editable(runs: int, work: Path) -> Results:
    """Measure ``-e ./proj`` of a small project, first and later run, the tools taking turns.

    Each tool's first run has a new copy of the project and an empty cache;
    its later run installs the same project (with what the first run left in
    it, such as setuptools' ``egg-info``) into a new venv with that cache.
    """
    projects = work / "projects"
    projects.mkdir(exist_ok=True)
    try:
        return benchmark(lambda name, run: ["-e", str(editable_project(projects))], runs, work)
    finally:
        discard(projects, work)


class Bucket:
    """moto's S3 server on 127.0.0.1 with one bucket, and the environment of a worker."""

    NAME = "bench-fleet"

    def __init__(self, bench: Path, work: Path, env: dict[str, str]) -> None:
        """Start the server (with the benchmark environment's moto) and make the bucket."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = work / "moto.log"
        command = [str(bench / "bin" / "python"), "-m", "moto.server", "-p", str(self.port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **env, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
            "PIP_ACCEL_S3_URL": self.url, "PIP_ACCEL_S3_BUCKET": self.NAME,
            "PIP_ACCEL_S3_PREFIX": "bench", "PIP_ACCEL_S3_CREATE_BUCKET": "true",
            "NO_PROXY": "127.0.0.1",
        }  # fmt: skip
        deadline = time.monotonic() + 30
        while not self._answers():
            if time.monotonic() > deadline:
                raise SystemExit(f"moto did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        """Whether the server answers."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def add_other_archives(self, bench: Path, count: int) -> None:
        """Put ``count`` source archives of other projects into the bucket."""
        code = (
            "import boto3, sys\n"
            "s3 = boto3.client('s3', endpoint_url=sys.argv[1])\n"
            "for n in range(int(sys.argv[2])):\n"
            "    key = f'bench/v2/sources/other{n}/other{n}-1.0.tar.gz'\n"
            "    s3.put_object(Bucket=sys.argv[3], Key=key, Body=b'x' * 20000)\n"
        )
        python = str(bench / "bin" / "python")
        subprocess.run(
            [python, "-c", code, self.url, str(count), self.NAME], check=True, env=self.env
        )

    def objects_fetched(self, start: int) -> int:
        """How many objects were downloaded since ``start`` (a position in the log)."""
        text = self.log.read_text(errors="replace")[start:]
        return len(re.findall(rf'"GET /{self.NAME}/[^ ?]+ HTTP', text))

    def position(self) -> int:
        """Where the request log ends now."""
        return len(self.log.read_text(errors="replace"))

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        self.process.wait()


def fleet(requirements: Path, runs: int, work: Path) -> dict[str, dict[str, list[float]]]:
    """Measure an empty-disk worker with a primed bucket against pip and uv with empty caches."""
    env, bench = bench_environment(work)
    bucket = Bucket(bench, work, env)
    try:
        accel = accel_tool(bench)
        other = Path(__file__).parent / "requirements-other.txt"
        for primer, wanted in (("other", other), ("primer", requirements)):
            venv, data = new_venv(work, env), work / f"cache-{primer}"
            discard(data, work)  # a primer starts with an empty disk too
            measure(accel(venv, from_file(wanted), data), bucket.env, work)
            discard(venv, work)
            discard(data, work)
        bucket.add_other_archives(bench, 300)
        tools = {
            "pip": (pip_tool(bench), env),
            "uv": (uv_tool(bench), env),
            "uv-nobytecode": (uv_nobytecode_tool(bench), env),
            "pip-accel": (accel, bucket.env),
        }
        results: dict[str, dict[str, list[float]]] = {name: {} for name in tools}
        names = list(tools)
        for run in range(runs):
            order = names[run % len(names) :] + names[: run % len(names)]
            for name in order:
                tool, tool_env = tools[name]
                cache, venv = work / f"cache-{name}-{run}", new_venv(work, env)
                start = bucket.position()
                measurement = measure(tool(venv, from_file(requirements), cache), tool_env, work)
                record(results[name], "cold", measurement)
                progress = progress_line(run, name, "empty disk", measurement)
                if name == "pip-accel":
                    fetched = bucket.objects_fetched(start)
                    results[name].setdefault("objects fetched", []).append(fetched)
                    progress += f", {fetched} objects fetched"
                discard(venv, work)
                discard(cache, work)
                print(progress, flush=True)
        return results
    finally:
        bucket.stop()


def moved(requirements: Path, runs: int, work: Path) -> Results:
    """Measure pip-accel with a data directory copied to another path, against a warm run.

    One cold run fills a data directory; then, ``runs`` times, a warm run with
    it, and a run with a copy made by ``cp -r`` (as a CI system's cache is
    restored into a new workspace: another path, new times), each into a new
    venv. Each copy's size and tree directories are counted before and after.
    """
    env, bench = bench_environment(work)
    accel = accel_tool(bench)
    data = work / "moved-origin"
    discard(data, work)
    columns: dict[str, list[float]] = {}
    venv = new_venv(work, env)
    record(columns, "cold", measure(accel(venv, from_file(requirements), data), env, work))
    discard(venv, work)
    for run in range(runs):
        venv = new_venv(work, env)
        measurement = measure(accel(venv, from_file(requirements), data), env, work)
        record(columns, "warm", measurement)
        print(progress_line(run, "pip-accel", "warm", measurement), flush=True)
        discard(venv, work)
        copy = work / f"moved-{run}"
        discard(copy, work)
        subprocess.run(["cp", "-r", str(data), str(copy)], check=True)
        before = footprint(copy)
        venv = new_venv(work, env)
        measurement = measure(accel(venv, from_file(requirements), copy), env, work)
        after = footprint(copy)
        record(columns, "moved", measurement)
        for when, (megabytes, trees) in (("before", before), ("after", after)):
            columns.setdefault(f"moved MB {when}", []).append(megabytes)
            columns.setdefault(f"moved trees {when}", []).append(trees)
        print(f"{progress_line(run, 'pip-accel', 'moved', measurement)}; data directory"
              f" {before[0]:.0f} MB, {before[1]} trees before, {after[0]:.0f} MB,"
              f" {after[1]} trees after", flush=True)  # fmt: skip
        discard(venv, work)
        discard(copy, work)
    discard(data, work)
    return {"pip-accel": columns}


def footprint(data: Path) -> tuple[float, int]:
    """A data directory's size on disk (MB, each file once, as ``du``) and its trees.

    A tree is a directory under ``trees`` that holds a ``manifest.json``, at
    whatever depth (today ``trees/<cache tag>/<tree>``), outside the private
    directories (``.unpacking-...``) of a run.
    """
    seen, size = set(), 0
    for directory, _, files in os.walk(data):
        for name in [".", *files]:
            status = os.lstat(os.path.join(directory, name))
            if (status.st_dev, status.st_ino) not in seen:
                seen.add((status.st_dev, status.st_ino))
                size += status.st_blocks * 512
    trees = 0
    for _, directories, files in os.walk(data / "trees"):
        if "manifest.json" in files:
            trees += 1
            directories.clear()  # a tree's own files are not searched
        directories[:] = [name for name in directories if not name.startswith(".")]
    return size / 1e6, trees


def report(results: Results, busy: int) -> dict[str, float]:
    """Print the medians and the ratios (wall and processor time); return the medians."""
    medians = {
        f"{tool} {key}": statistics.median(values)
        for tool, columns in results.items()
        for key, values in columns.items()
    }
    print(f"\nMachine: {machine()}")
    print(load(busy))
    for key, value in medians.items():
        print(f"median {key:30} {value:8.2f}")
    for state in ("cold", "warm"):
        for figure, label in ((state, state), (f"{state} CPU s", f"{state} processor time")):
            ratios = [
                f"pip-accel/{other} = {medians[f'pip-accel {figure}'] / medians[key]:.2f}"
                for other in ("uv", "pip")
                if f"pip-accel {figure}" in medians and (key := f"{other} {figure}") in medians
            ]
            if ratios:
                print(f"{label}: {', '.join(ratios)}")
    if "pip-accel moved" in medians:
        print(f"moved data directory: pip-accel moved/warm ="
              f" {medians['pip-accel moved'] / medians['pip-accel warm']:.2f}")  # fmt: skip
    return medians


def load(busy: int) -> str:
    """A line that says whether other work kept cores busy during the measurements."""
    if not busy:
        return "Load: nothing else kept busy by the benchmark."
    return f"Load: {busy} core(s) kept busy by a spinning process each, the whole run (--busy)."


def pairs(requirements: Path, count: int, work: Path) -> dict[str, dict[str, list[float]]]:
    """Cold pip-accel, then cold pip, ``count`` times (after one pair not counted)."""
    env, bench = bench_environment(work)
    tools = {"pip-accel": accel_tool(bench), "pip": pip_tool(bench)}
    results: dict[str, dict[str, list[float]]] = {name: {} for name in tools}
    for number in range(count + 1):
        taken = {}
        for name, tool in tools.items():
            cache, venv = work / f"pair-{name}", new_venv(work, env)
            taken[name] = measure(tool(venv, from_file(requirements), cache), env, work)
            discard(venv, work)
            discard(cache, work)
        if number:  # the first pair warms the machine's own caches up
            for name in tools:
                record(results[name], "cold", taken[name])
            accel, pip = taken["pip-accel"], taken["pip"]
            print(f"pair {number}: pip-accel {accel.seconds:6.2f} s ({accel.cpu:.2f} CPU s),"
                  f" pip {pip.seconds:6.2f} s ({pip.cpu:.2f} CPU s),"
                  f" ratio {accel.seconds / pip.seconds:.2f}"
                  f" (processor time {accel.cpu / pip.cpu:.2f})", flush=True)  # fmt: skip
    for figure, label in (("cold", "cold"), ("cold CPU s", "cold processor time")):
        ratios = [a / b for a, b in zip(results["pip-accel"][figure], results["pip"][figure],
                                        strict=True)]  # fmt: skip
        print(f"{label}: pip-accel/pip, median of the pairs' ratios ="
              f" {statistics.median(ratios):.2f}")  # fmt: skip
    return results


def replan(requirements: Path, count: int, work: Path) -> dict[str, dict[str, list[float]]]:
    """A lock file that changed, with warm caches: ``count`` runs of each tool in turn."""
    env, bench = bench_environment(work)
    accel, pip = accel_tool(bench), pip_tool(bench)
    tools: dict[str, Tool] = {
        "pip-accel": accel,
        "pip-accel, pip plans": lambda venv, reqs, cache: [
            *accel(venv, reqs, cache),
            "--ignore-requires-python",
        ],
        "pip": pip,
    }
    caches = {"pip-accel": work / "replan-accel", "pip": work / "replan-pip"}
    for cache, tool in ((caches["pip-accel"], accel), (caches["pip"], pip)):
        discard(cache, work)
        venv = new_venv(work, env)
        measure(tool(venv, from_file(requirements), cache), env, work)  # warms the cache
        discard(venv, work)
    lines = [line for line in requirements.read_text().splitlines() if line and line[0] != "#"]
    results: dict[str, dict[str, list[float]]] = {name: {"changed": []} for name in tools}
    for number in range(count):
        for index, (name, tool) in enumerate(tools.items()):
            changed = work / f"replan-{number}-{index}.txt"
            turn = (number * len(tools) + index) % len(lines) + 1
            changed.write_text("\n".join(lines[turn:] + lines[:turn]) + "\n")
            venv = new_venv(work, env)
            cache = caches["pip" if name == "pip" else "pip-accel"]
            seconds = measure(tool(venv, from_file(changed), cache), env, work).seconds
            discard(venv, work)
            results[name]["changed"].append(seconds)
            print(f"run {number + 1} {name:22} {seconds:6.2f} s", flush=True)
    medians = {name: statistics.median(columns["changed"]) for name, columns in results.items()}
    for name, value in medians.items():
        print(f"median {name:22} {value:6.2f} s")
    print(f"changed lock file: pip-accel / pip-accel when pip plans ="
          f" {medians['pip-accel'] / medians['pip-accel, pip plans']:.2f},"
          f" pip-accel / pip = {medians['pip-accel'] / medians['pip']:.2f}")  # fmt: skip
    return results


def machine() -> str:
    """A line about the machine: architecture, cores, memory, Python, kernel."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {pages / 2**30:.0f} GiB,"
        f" Python {platform.python_version()}, Linux {platform.release()}"
    )


def main() -> None:
    """Parse the command line, run the benchmark, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("requirements", type=Path, nargs="?", help="(not with --editable)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "pip-accel-bench"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--fleet", action="store_true", help="measure an empty-disk worker with a primed bucket"
    )
    parser.add_argument(
        "--pairs", type=int, help="measure cold pip-accel and cold pip in this many pairs"
    )
    parser.add_argument(
        "--replan", type=int, help="measure a changed lock file with warm caches this many times"
    )
    parser.add_argument(
        "--editable", action="store_true", help="measure -e of a small project (no requirements)"
    )
    parser.add_argument(
        "--moved", action="store_true", help="measure a data directory copied to another path"
    )
    parser.add_argument(
        "--busy", type=int, default=0, metavar="N", help="keep N cores busy during the run"
    )
    args = parser.parse_args()
    if (args.requirements is None) != args.editable:
        parser.error("give a requirements file, or --editable alone")
    if sum(map(bool, (args.fleet, args.moved, args.editable, args.pairs, args.replan))) > 1:
        parser.error("choose one scenario of --fleet, --moved, --editable, --pairs and --replan")
    if args.busy < 0:
        parser.error("--busy wants a number of cores, 0 or more")
    args.work.mkdir(parents=True, exist_ok=True)
    empty_trash(args.work)
    try:
        with busy_cores(args.busy):
            results, scenario = run_scenario(args)
    finally:
        empty_trash(args.work)
    if results is None:
        print(load(args.busy))
        return
    medians = report(results, args.busy)
    if args.json:
        figures = {
            "set": args.requirements.name if args.requirements else "editable project",
            "scenario": scenario,
            "runs": args.runs,
            "busy": args.busy,
            "machine": machine(),
            "medians": medians,
            "results": results,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def run_scenario(args: argparse.Namespace) -> tuple[Results | None, str]:
    """Run the scenario the command line chose; its figures (none for the scenarios that
    print their own) and its name."""
    if args.editable:
        return editable(args.runs, args.work), "editable"
    requirements = args.requirements.absolute()
    if args.pairs:
        pairs(requirements, args.pairs, args.work)
        return None, "pairs"
    if args.replan:
        replan(requirements, args.replan, args.work)
        return None, "replan"
    if args.fleet:
        return fleet(requirements, args.runs, args.work), "fleet"
    if args.moved:
        return moved(requirements, args.runs, args.work), "moved"
    return benchmark(lambda name, run: from_file(requirements), args.runs, args.work), "local"


if __name__ == "__main__":
    main()
