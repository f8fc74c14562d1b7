"""Time pip, uv and pip-accel installing a requirement set into new virtual environments.

Each tool gets its own empty cache; a *cold* run starts with that cache empty,
a *warm* run follows one earlier run. The tools take turns run by run, so that
a slower or busier moment of the machine spreads over all of them. Every pip
involved ignores the machine's pip configuration (``PIP_CONFIG_FILE=/dev/null``
and no inherited ``PIP_*`` variables).

Usage::

    python benchmarks/run.py benchmarks/requirements-web.txt --runs 3

It prints the median seconds per tool and state, the ratios of pip-accel to
uv and to pip, and the peak memory (largest resident set of any one process).
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
from collections.abc import Callable
from pathlib import Path

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "log = open(sys.argv[1], 'ab')\n"
    "start = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[2:], stdout=log, stderr=log).returncode\n"
    "elapsed = time.perf_counter() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(code, elapsed, peak)\n"
)
"""Runs one command, its output appended to a log file (the first argument); prints its exit
code, seconds and peak resident set (KiB)."""

LOG_NAME = "commands.log"
"""The file in the work directory that keeps the output of every measured command."""

Tool = Callable[[Path, Path, Path], list[str]]
"""Makes the command that installs a requirements file into a venv, with a cache directory."""


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
        "install", "--cache-dir", str(cache), "-r", str(requirements),
    ]  # fmt: skip


def uv_tool(bench: Path) -> Tool:
    """uv pip install, with its own cache."""
    uv = bench / "bin" / "uv"
    return lambda venv, requirements, cache: [
        str(uv), "pip", "install", "--python", str(venv / "bin" / "python"),
        "--cache-dir", str(cache), "--compile-bytecode", "-r", str(requirements),
    ]  # fmt: skip


def uv_nobytecode_tool(bench: Path) -> Tool:
    """uv pip install without compiling bytecode: faster, but not the environment pip makes."""
    uv = bench / "bin" / "uv"
    return lambda venv, requirements, cache: [
        str(uv), "pip", "install", "--python", str(venv / "bin" / "python"),
        "--cache-dir", str(cache), "-r", str(requirements),
    ]  # fmt: skip


def accel_tool(bench: Path) -> Tool:
    """pip-accel, with its data directory as its cache."""
    accel = bench / "bin" / "pip-accel"
    return lambda venv, requirements, cache: [
        "env", f"PIP_ACCEL_CACHE={cache}", f"PIP_CACHE_DIR={cache}/pip", str(accel), "install",
        "--python", str(venv / "bin" / "python"), "-r", str(requirements),
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


def measure(command: list[str], env: dict[str, str], work: Path) -> tuple[float, int]:
    """Run a command; return its seconds and peak memory in MiB, failing loudly on an error.

    Its output goes to ``<work>/commands.log``. The file system's dirty pages
    are written out first (not timed): each tool writes hundreds of megabytes,
    and the next one measured should not pay for the writeback of the last.
    """
    os.sync()
    log = str(work / LOG_NAME)
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, log, *command], env=env, capture_output=True, text=True
    )
    code, seconds, peak = result.stdout.split()
    if code != "0":
        raise SystemExit(f"Failed (exit {code}): {' '.join(command)}")
    return float(seconds), int(peak) // 1024


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


def benchmark(requirements: Path, runs: int, work: Path) -> dict[str, dict[str, list[float]]]:
    """Measure each tool cold and warm ``runs`` times, the tools taking turns."""
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
            for state in ("cold", "warm"):
                venv = new_venv(work, env)
                seconds, peak = measure(tool(venv, requirements, cache), env, work)
                results[name].setdefault(state, []).append(seconds)
                results[name].setdefault(f"{state} MiB", []).append(peak)
                discard(venv, work)
                print(f"run {run + 1} {name:9} {state}: {seconds:6.2f} s, {peak} MiB", flush=True)
            discard(cache, work)
    return results


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
            measure(accel(venv, wanted, data), bucket.env, work)
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
                seconds, peak = measure(tool(venv, requirements, cache), tool_env, work)
                results[name].setdefault("cold", []).append(seconds)
                results[name].setdefault("cold MiB", []).append(peak)
                if name == "pip-accel":
                    fetched = bucket.objects_fetched(start)
                    results[name].setdefault("objects fetched", []).append(fetched)
                discard(venv, work)
                discard(cache, work)
                print(
                    f"run {run + 1} {name:9} empty disk: {seconds:6.2f} s, {peak} MiB", flush=True
                )
        return results
    finally:
        bucket.stop()


def report(results: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    """Print the medians and the ratios; return the medians."""
    medians = {
        f"{tool} {key}": statistics.median(values)
        for tool, columns in results.items()
        for key, values in columns.items()
    }
    print(f"\nMachine: {machine()}")
    for key, value in medians.items():
        print(f"median {key:22} {value:8.2f}")
    for state in ("cold", "warm"):
        if f"pip-accel {state}" not in medians:
            continue
        accel = medians[f"pip-accel {state}"]
        print(f"{state}: pip-accel/uv = {accel / medians[f'uv {state}']:.2f},"
              f" pip-accel/pip = {accel / medians[f'pip {state}']:.2f}")  # fmt: skip
    return medians


def pairs(requirements: Path, count: int, work: Path) -> dict[str, dict[str, list[float]]]:
    """Cold pip-accel, then cold pip, ``count`` times (after one pair not counted)."""
    env, bench = bench_environment(work)
    tools = {"pip-accel": accel_tool(bench), "pip": pip_tool(bench)}
    results: dict[str, dict[str, list[float]]] = {name: {"cold": []} for name in tools}
    for number in range(count + 1):
        seconds = {}
        for name, tool in tools.items():
            cache, venv = work / f"pair-{name}", new_venv(work, env)
            seconds[name], _ = measure(tool(venv, requirements, cache), env, work)
            discard(venv, work)
            discard(cache, work)
        if number:  # the first pair warms the machine's own caches up
            for name in tools:
                results[name]["cold"].append(seconds[name])
            ratio = seconds["pip-accel"] / seconds["pip"]
            print(f"pair {number}: pip-accel {seconds['pip-accel']:6.2f} s,"
                  f" pip {seconds['pip']:6.2f} s, ratio {ratio:.2f}", flush=True)  # fmt: skip
    ratios = [a / b for a, b in zip(results["pip-accel"]["cold"], results["pip"]["cold"],
                                    strict=True)]  # fmt: skip
    print(f"cold: pip-accel/pip, median of the pairs' ratios = {statistics.median(ratios):.2f}")
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
        measure(tool(venv, requirements, cache), env, work)  # warms the cache
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
            seconds, _ = measure(tool(venv, changed, cache), env, work)
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
    parser.add_argument("requirements", type=Path)
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
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    empty_trash(args.work)
    try:
        if args.pairs:
            pairs(args.requirements.absolute(), args.pairs, args.work)
            return
        if args.replan:
            replan(args.requirements.absolute(), args.replan, args.work)
            return
        scenario = fleet if args.fleet else benchmark
        results = scenario(args.requirements.absolute(), args.runs, args.work)
    finally:
        empty_trash(args.work)
    medians = report(results)
    if args.json:
        figures = {
            "set": args.requirements.name,
            "scenario": "fleet" if args.fleet else "local",
            "runs": args.runs,
            "machine": machine(),
            "medians": medians,
            "results": results,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
