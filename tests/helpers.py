"""Helpers of the tests: isolated subprocesses, virtual environments and a local package index.

Every test runs pip and pip-accel as subprocesses, the way people run them, in an environment
that ignores the machine's pip configuration and the real user's home directory, and that
reaches no network but 127.0.0.1. The functions and classes here do that; the fixtures in
``conftest.py`` only tie them to pytest's temporary directories.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from fixtures import canonical_name

#: The command-line arguments that ``run`` accepts: strings and paths.
Command = Sequence[str | os.PathLike[str]]

#: Environment variables that the tests' subprocesses never inherit. XDG_* would put pip's
#: cache and configuration outside the per-test home directory.
DROPPED_VARIABLES = ("VIRTUAL_ENV", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")


def isolated_environment(home: Path, data_dir: Path, build_log: Path) -> dict[str, str]:
    """Return ``os.environ`` without any pip or pip-accel setting, plus the tests' own.

    pip reads no configuration file (PIP_CONFIG_FILE=/dev/null), never asks or checks its
    version, ``~`` is the per-test ``home`` and pip-accel keeps its data in ``data_dir``.
    Loopback addresses bypass any proxy, since the tests' servers listen there.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PIP_") and key not in DROPPED_VARIABLES
    }
    env |= {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "HOME": str(home),
        "PIP_ACCEL_CACHE": str(data_dir),
        "PIP_ACCEL_TEST_BUILD_LOG": str(build_log),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return env


def run(
    cmd: Command,
    env: Mapping[str, str],
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float = 300,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with exactly ``env`` and return it, stdout and stderr captured as text.

    With ``check=True`` a non-zero exit status fails the test with the whole output, which
    is what one needs to see when a pip run in a test goes wrong.
    """
    result = subprocess.run(
        [os.fspath(arg) for arg in cmd],
        env=dict(env),
        cwd=cwd,
        input=input,
        timeout=timeout,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(describe(result))
    return result


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """Return a command, its exit status and its output, for assertion messages."""
    command = " ".join(str(arg) for arg in result.args)
    return (
        f"command: {command}\nexit status: {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


def accel(
    env: Mapping[str, str], venv: Venv, *args: str | os.PathLike[str], ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``pip-accel install --python <venv> ARGS``; with ``ok``, fail the test on an error."""
    result = run([*pip_accel_cmd(), "install", "--python", venv.python, *args], env)
    if ok:
        assert result.returncode == 0, describe(result)
    return result


NO_PIP_LAUNCHER = """\
import os, re, sys

allowed = int(sys.argv[1])

def refuse(event, args):
    if event == "subprocess.Popen":
        words = [os.path.basename(str(word)) for word in (args[1] or [args[0]])]
        if any(re.fullmatch(r"pip[0-9.]*", word) for word in words):
            sys.stderr.write(f"AUDIT: refused to start pip: {words}\\n")
            raise RuntimeError("pip is unavailable to this run")
    elif event == "socket.connect" and isinstance(args[1], tuple):
        if args[1][1] != allowed:
            sys.stderr.write(f"AUDIT: refused a connection to {args[1]}\\n")
            raise RuntimeError("the network is unavailable to this run")

sys.addaudithook(refuse)
from pip_accel.cli import main
sys.exit(main(sys.argv[2:]))
"""
"""Runs pip-accel with an audit hook that refuses to start pip and to connect anywhere but
to the port given first (0: nowhere), so that a run that tries fails and says why."""


def accel_without_pip(
    env: Mapping[str, str],
    venv: Venv,
    *args: str | os.PathLike[str],
    allowed_port: int = 0,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``pip-accel install`` with pip and the network (but ``allowed_port``) refused."""
    command = [sys.executable, "-c", NO_PIP_LAUNCHER, str(allowed_port), "install"]
    return run([*command, "--python", venv.python, *args], env, cwd=cwd)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a server process and wait for it, so that connections are refused afterwards."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pip_accel_cmd() -> list[str]:
    """Return the argv prefix of the installed ``pip-accel`` console script under test."""
    return [str(Path(sys.executable).parent / "pip-accel")]


@dataclass(frozen=True)
class Venv:
    """A virtual environment made for one test; it has no pip of its own."""

    path: Path

    @property
    def bin(self) -> Path:
        """The directory of the environment's executables and scripts."""
        return self.path / "bin"

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.bin / "python"

    @property
    def site_packages(self) -> Path:
        """The environment's purelib directory, where wheels are installed."""
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        return self.path / "lib" / version / "site-packages"


def create_venv(path: Path, env: Mapping[str, str]) -> Venv:
    """Create a virtual environment without pip at ``path``, from the tests' interpreter.

    Without pip it takes a fraction of a second; the tests' pip installs into it from
    outside (see ``pip_cmd``).
    """
    run([sys.executable, "-m", "venv", "--without-pip", path], env, timeout=60, check=True)
    return Venv(path)


def pip_cmd(venv: Venv) -> list[str]:
    """Return the argv prefix that runs the tests' own pip against ``venv`` (pip --python)."""
    return [sys.executable, "-m", "pip", "--python", str(venv.python)]


def installed_packages(venv: Venv, env: Mapping[str, str]) -> dict[str, str]:
    """Return the distributions installed in ``venv``: canonical name -> version."""
    result = run([*pip_cmd(venv), "list", "--format", "json"], env, check=True)
    return {canonical_name(item["name"]): item["version"] for item in json.loads(result.stdout)}


def build_count(build_log: Path, name: str = "cext") -> int:
    """Return how many times project ``name`` was built, from the PIP_ACCEL_TEST_BUILD_LOG file.

    Only the ``cext`` fixture writes to the log: one line per compilation of its extension.
    """
    if not build_log.exists():
        return 0
    lines = build_log.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.split(" ", 1)[0] == name)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def link_or_copy(source: Path, directory: Path) -> Path:
    """Hard-link ``source`` into ``directory`` (copy it across file systems); return the link."""
    target = directory / source.name
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


#: An opener that ignores proxy settings: the tests' servers are on loopback.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def answers(url: str) -> bool:
    """Return whether an HTTP server answers ``url`` with a success status."""
    try:
        with DIRECT.open(url, timeout=2) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


class PackageIndex:
    """A pypiserver on 127.0.0.1 that serves the files of one directory as a simple index.

    Authentication is off (``-a . -P .``), and so is the fallback: pypiserver would otherwise
    redirect requests for unknown projects to pypi.org. The ``simple-dir`` back-end reads the
    directory on every request, so files added while it runs are served at once.
    """

    def __init__(self, directory: Path, log_file: Path, port: int | None = None) -> None:
        """Describe an index of ``directory`` logging to ``log_file``; ``start`` runs it."""
        self.directory = directory
        self.log_file = log_file
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        """The index URL, for pip's ``--index-url``."""
        return f"http://127.0.0.1:{self.port}/simple/"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        """Return the command that runs pypiserver with the interpreter of the tests."""
        return [
            *(sys.executable, "-m", "pypiserver", "run"),
            *("--host", "127.0.0.1", "--port", str(self.port)),
            *("--disable-fallback", "-a", ".", "-P", "."),
            *("--backend", "simple-dir", "--server", "wsgiref", "--hash-algo", "sha256"),
            str(self.directory),
        ]

    def start(self, timeout: float = 10) -> PackageIndex:
        """Start the server (on the same port as before, if it ran) and wait until it answers."""
        if self.running:
            return self
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        """Poll the index page until it answers; fail with the server's log if it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(self.url):
                return
            if not self.running:
                break
            time.sleep(0.05)
        self.stop()
        log = self.log_file.read_text(encoding="utf-8", errors="replace")
        raise RuntimeError(f"pypiserver did not answer {self.url} in {timeout} s:\n{log}")

    def stop(self) -> None:
        """Terminate the server and wait for it, so that connections are refused afterwards."""
        stop_process(self.process)
        self.process = None

    def add(self, *paths: Path) -> list[Path]:
        """Serve ``paths`` (archives) too; return where they are in the served directory."""
        return [link_or_copy(path, self.directory) for path in paths]

    def __enter__(self) -> PackageIndex:
        """Start the server for a ``with`` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server at the end of a ``with`` block."""
        self.stop()


class IndexFactory(Protocol):
    """The type of ``make_package_index``."""

    def __call__(self, files: Iterable[Path] | None = None) -> PackageIndex:
        """Start an index of ``files``; None serves every fixture archive and back-end."""


class VenvFactory(Protocol):
    """The type of ``make_venv``."""

    def __call__(self, name: str = "venv") -> Venv:
        """Create the virtual environment ``tmp_path/name``, without pip."""


#: The IAM policy of the S3 server's administrator: everything.
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

#: The IAM policy of a reader: every S3 action but storing objects.
READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
    ],
}


BUCKET = "pip-accel-ci"
"""The bucket of the S3 tests."""


def worker(
    isolated_env: dict[str, str], s3: S3Server | None, name: str, **extra: str
) -> dict[str, str]:
    """The environment of a CI worker with its own empty data directory, using the bucket."""
    data = Path(isolated_env["HOME"]).parent / f"{name}-data"
    env = {**isolated_env, "PIP_ACCEL_CACHE": str(data), "PIP_ACCEL_S3_PREFIX": "ci"}
    return {**env, **(s3.environment(BUCKET) if s3 else {}), **extra}


class S3Server:
    """moto's S3 server on 127.0.0.1, checking credentials and permissions like AWS.

    moto checks IAM credentials and policies once INITIAL_NO_AUTH_ACTION_COUNT requests have
    been served without; those first requests create the administrator (user, policy, key),
    so every later request needs valid credentials, and a user whose policy denies
    s3:PutObject gets AccessDenied for uploads.
    """

    SETUP_ACTIONS = 3

    def __init__(self, log_file: Path, check_access: bool = True) -> None:
        """Describe a server logging to ``log_file``; ``start`` runs it.

        With ``check_access`` False, moto lets anyone do anything, even without
        credentials, as a public bucket would let anyone read.
        """
        self.log_file = log_file
        self.check_access = check_access
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.admin: dict[str, str] = {}

    @property
    def url(self) -> str:
        """The endpoint URL, for PIP_ACCEL_S3_URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        """Start the server, wait until it answers and create the administrator."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        if self.check_access:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.SETUP_ACTIONS)
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
            )
        deadline = time.monotonic() + 20
        while not answers(f"{self.url}/moto-api/"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"moto did not start:\n{self.log_file.read_text()}")
            time.sleep(0.05)
        self.admin = self.create_user("admin", ADMIN_POLICY, {"aws_access_key_id": "x"})
        return self

    def create_user(
        self, name: str, policy: Mapping[str, object], credentials: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Create an IAM user with ``policy``; return its credentials as boto3 arguments."""
        iam = self.client("iam", **(credentials or self.admin))
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }

    def client(self, service: str = "s3", **credentials: str) -> Any:
        """A boto3 client of this server (the administrator's unless told otherwise)."""
        import boto3  # only the S3 tests need it

        arguments = {"aws_secret_access_key": "x", **(credentials or self.admin)}
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", **arguments)

    def keys(self, bucket: str) -> list[str]:
        """The names of every object in ``bucket``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def environment(self, bucket: str, credentials: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a pip-accel that uses ``bucket`` of this server."""
        chosen = credentials or self.admin
        return {
            "AWS_ACCESS_KEY_ID": chosen["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": chosen["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PIP_ACCEL_S3_URL": self.url,
            "PIP_ACCEL_S3_BUCKET": bucket,
            "PIP_ACCEL_S3_TIMEOUT": "10",
            "PIP_ACCEL_S3_RETRIES": "1",
        }

    def stop(self) -> None:
        """Terminate the server and wait for it, so that connections are refused afterwards."""
        stop_process(self.process)
        self.process = None


def cached_wheels(binaries: Path, pattern: str) -> list[Path]:
    """The wheels of a binary cache whose names match ``pattern``, not the sha256 records
    (``.sha256/<wheel>``) beside them."""
    return sorted(path for path in binaries.rglob(pattern) if path.parent.name != ".sha256")
