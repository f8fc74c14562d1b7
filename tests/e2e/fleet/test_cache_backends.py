"""Cache backends end to end: S3 shared by CI workers, a corrupt local wheel, plugins.

Every S3 test runs moto's S3 server on 127.0.0.1 (see ``support.helpers.S3Server``), which checks
credentials and IAM policies, and drives the real ``pip-accel`` command against it. Each
*worker* is a pip-accel with its own data directory, as on a separate CI machine.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.bench import Bench
from support.commands import Command, build_count, pip_accel_cmd, run
from support.fixtures import write_files
from support.s3 import BUCKET, READER_POLICY, S3Server, worker
from support.venvs import Venv, accel, cached_wheels, installed_packages

pytestmark = pytest.mark.backends

OTHER_QUESTION = "--no-warn-script-location"
"""An option that changes the plan's key but not the plan: the fleet has no plan for it."""


NO_COMPILER = {"CC": "/bin/false", "PIP_ACCEL_BUILD_ENVIRONMENT": "CFLAGS"}
"""A worker that cannot compile: any build fails. CC is left out of the binary cache key
(build-environment), so that the worker may use wheels built with the usual compiler."""


def cext_works(venv: Venv, env: dict[str, str]) -> bool:
    """Whether the C extension of ``cext`` is installed in ``venv`` and runs."""
    code = "import cext._speedups as s; print(s.add(2, 3))"
    return run([venv.python, "-c", code], env).stdout.strip() == "5"


def test_a_new_worker_installs_the_binary_that_another_built(bench: Bench, s3: S3Server) -> None:
    """A builds and uploads; B, without a compiler, installs A's wheel; B's warm run is local.

    B asks another question than A, so that it plans with pip (rather than use A's plan)
    and finds A's wheel by its cache key.
    """
    accel(worker(bench.env, s3, "a"), bench.make_venv("a"), "-i", bench.index.url, "cext")
    assert build_count(bench.build_log) == 1
    keys = s3.keys(BUCKET)
    assert any(k.startswith("ci/v2/") and k.endswith(".whl") and "/cext/1.0/" in k for k in keys)
    assert "ci/v2/sources/cext/cext-1.0.tar.gz" in keys
    b_env = worker(bench.env, s3, "b", **NO_COMPILER)
    b_venv = bench.make_venv("b")
    result = accel(b_env, b_venv, "-i", bench.index.url, OTHER_QUESTION, "cext")
    assert "from the S3 cache" in result.stderr
    assert build_count(bench.build_log) == 1, "worker B built cext instead of using A's wheel"
    assert cext_works(b_venv, b_env)
    s3.stop()  # a warm run asks only the local cache: no warning about an unreachable S3
    again = accel(b_env, bench.make_venv("b2"), "-i", bench.index.url, OTHER_QUESTION, "cext")
    assert "s3 cache backend" not in again.stderr.lower(), again.stderr


def test_an_empty_worker_installs_from_s3_alone(bench: Bench, s3: S3Server) -> None:
    """With the package index down, a new worker gets sources and binaries from S3 alone.

    B asks another question than A (so the fleet has no plan for it): pip-accel fetches
    the source archives of the projects pip misses, by name, and plans with them.
    """
    requirements = bench.tmp_path / "requirements.txt"
    requirements.write_text("cext==1.0\nchain-a==1.0\n")
    accel(
        worker(bench.env, s3, "a"), bench.make_venv("a"), "-i", bench.index.url, "-r", requirements
    )
    bench.index.stop()
    b_env = worker(bench.env, s3, "b", **NO_COMPILER, PIP_ACCEL_MAX_RETRIES="0")
    b_venv = bench.make_venv("b")
    args: Command = ["-i", bench.index.url, "--retries", "0", OTHER_QUESTION, "-r", requirements]
    result = accel(b_env, b_venv, *args)
    assert "from the S3 cache into the local index" in result.stderr
    assert "with the source archives of the shared cache" in result.stderr
    assert build_count(bench.build_log) == 1
    assert installed_packages(b_venv, b_env) == {
        "cext": "1.0", "chain-a": "1.0", "chain-b": "1.0", "chain-c": "1.0"
    }  # fmt: skip
    assert cext_works(b_venv, b_env)


def test_a_worker_without_credentials_reads_a_public_bucket(bench: Bench) -> None:
    """No AWS credentials at all: the bucket is read anonymously and never written.

    This server lets anyone list the bucket (moto does not check access here), and the
    objects are made public-read after worker A uploaded them, as for a public cache.
    """
    server = S3Server(bench.tmp_path / "public-moto.log", check_access=False).start()
    try:
        server.client().create_bucket(Bucket=BUCKET)
        accel(worker(bench.env, server, "a"), bench.make_venv("a"), "-i", bench.index.url, "cext")
        for name in server.keys(BUCKET):
            server.client().put_object_acl(Bucket=BUCKET, Key=name, ACL="public-read")
        uploaded = server.keys(BUCKET)
        b_env = worker(bench.env, server, "b", **NO_COMPILER)
        b_env = {key: value for key, value in b_env.items() if not key.startswith("AWS_")}
        b_env["AWS_EC2_METADATA_DISABLED"] = "true"
        b_venv = bench.make_venv("b")
        result = accel(b_env, b_venv, "-i", bench.index.url, "chain-c", "cext")
        assert "Reading the S3 cache anonymously" in result.stderr
        assert build_count(bench.build_log) == 1
        assert cext_works(b_venv, b_env)
        assert server.keys(BUCKET) == uploaded, "an anonymous worker uploaded"
    finally:
        server.stop()


def test_a_read_only_worker_uploads_nothing(bench: Bench, s3: S3Server) -> None:
    """With s3-readonly, a worker builds what S3 lacks and stores it only locally."""
    env = worker(bench.env, s3, "a", PIP_ACCEL_S3_READONLY="true")
    accel(env, bench.make_venv(), "-i", bench.index.url, "cext")
    assert build_count(bench.build_log) == 1
    assert s3.keys(BUCKET) == []


def test_a_refused_upload_makes_the_backend_read_only(bench: Bench, s3: S3Server) -> None:
    """Credentials that may read but not write (an IAM policy denying s3:PutObject)."""
    reader = s3.create_user("reader", READER_POLICY)
    env = {**worker(bench.env, s3, "a"), **s3.environment(BUCKET, reader)}
    venv = bench.make_venv()
    result = accel(env, venv, "-i", bench.index.url, "cext")
    assert "The s3 cache backend is read-only for the rest of this run" in result.stderr
    assert "AccessDenied" in result.stderr
    assert result.stderr.count("read-only for the rest") == 1, "it went on trying to upload"
    assert s3.keys(BUCKET) == []
    assert cext_works(venv, env)


def test_wrong_credentials_warn_and_install(bench: Bench, s3: S3Server) -> None:
    """Credentials that S3 does not know disable the backend, with a hint; the install goes on."""
    wrong = {"aws_access_key_id": "AKIAWRONGWRONGWRONG", "aws_secret_access_key": "wrong"}
    env = {**worker(bench.env, s3, "a"), **s3.environment(BUCKET, wrong)}
    venv = bench.make_venv()
    result = accel(env, venv, "-i", bench.index.url, "cext")
    assert "Not using the s3 cache backend for the rest of this run" in result.stderr
    assert "check AWS_ACCESS_KEY_ID" in result.stderr
    assert "Traceback" not in result.stderr
    assert cext_works(venv, env)


def test_a_missing_bucket_says_what_to_do_or_is_created(bench: Bench, s3: S3Server) -> None:
    """Without s3-create-bucket a missing bucket is a warning; with it, the bucket is made."""
    env = {**worker(bench.env, s3, "a"), "PIP_ACCEL_S3_BUCKET": "no-such-bucket"}
    result = accel(env, bench.make_venv("one"), "-i", bench.index.url, "chain-c")
    assert "set s3-create-bucket = true" in result.stderr
    env = {**worker(bench.env, s3, "b"), "PIP_ACCEL_S3_BUCKET": "new-bucket"}
    env["PIP_ACCEL_S3_CREATE_BUCKET"] = "yes"
    result = accel(env, bench.make_venv("two"), "-i", bench.index.url, "chain-c")
    assert "Created the S3 bucket new-bucket" in result.stderr
    assert "ci/v2/sources/chain-c/chain_c-1.0.tar.gz" in s3.keys("new-bucket")


def test_s3_killed_during_the_build(bench: Bench, s3: S3Server) -> None:
    """The server dies while cext compiles: the upload fails, the install succeeds locally.

    The compiler is a wrapper that says when it starts and waits until the test has
    stopped the server, so the server is certainly gone between the lookup and the upload.
    """
    started, go = bench.tmp_path / "compiling", bench.tmp_path / "server-stopped"
    compiler = bench.tmp_path / "cc-wrapper"
    compiler.write_text(
        f'#!/bin/sh\ntouch "{started}"\nwhile [ ! -e "{go}" ]; do sleep 0.05; done\nexec cc "$@"\n'
    )
    compiler.chmod(0o755)
    env, venv = worker(bench.env, s3, "a", CC=str(compiler)), bench.make_venv()
    command = [*pip_accel_cmd(), "install", "--python", str(venv.python), "-i", bench.index.url]
    process = subprocess.Popen(
        [*command, "cext"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s3.keys(BUCKET), "pip-accel had not used S3 before the build"
    s3.stop()
    go.touch()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "Not using the s3 cache backend for the rest of this run" in stderr
    assert cext_works(venv, env)


def test_a_corrupt_cached_wheel_is_discarded_and_rebuilt(bench: Bench) -> None:
    """A truncated wheel in the local cache is never installed: it is built again."""
    accel(bench.env, bench.make_venv("one"), "-i", bench.index.url, "cext")
    (wheel,) = cached_wheels(Path(bench.env["PIP_ACCEL_CACHE"], "binaries"), "cext-*.whl")
    wheel.write_bytes(wheel.read_bytes()[:100])
    venv = bench.make_venv("two")
    result = accel(bench.env, venv, "-i", bench.index.url, "cext")
    assert "Discarding the cached wheel" in result.stderr
    assert build_count(bench.build_log) == 2
    assert cext_works(venv, bench.env)


def test_a_third_party_backend_registers_through_its_entry_point(bench: Bench) -> None:
    """A distribution on PYTHONPATH with a pip_accel.cache_backends entry point is used.

    Nothing is installed into the tests' environment: importlib.metadata finds the
    .dist-info directory on sys.path, as it would in site-packages.
    """
    plugin = write_plugin(bench.tmp_path / "plugin")
    store = bench.tmp_path / "store"
    env = {**worker(bench.env, None, "a"), "PYTHONPATH": str(plugin), "DIRCACHE": str(store)}
    accel(env, bench.make_venv("one"), "-i", bench.index.url, "cext")
    assert [path.name for path in store.glob("*.whl")] == ["cext-1.0-" + wheel_tail(store)]
    b_env = {**worker(bench.env, None, "b", **NO_COMPILER), "PYTHONPATH": str(plugin)}
    b_env["DIRCACHE"] = str(store)
    b_venv = bench.make_venv("two")
    accel(b_env, b_venv, "-i", bench.index.url, "cext")
    assert build_count(bench.build_log) == 1, "the plugin's wheel was not used"
    assert cext_works(b_venv, b_env)
    copied = cached_wheels(Path(b_env["PIP_ACCEL_CACHE"], "binaries"), "cext-1.0-*.whl")
    assert len(list(copied)) == 1, "the plugin's hit was not copied into the local cache"


def wheel_tail(store: Path) -> str:
    """The part of the stored cext wheel's name after ``cext-1.0-``."""
    (wheel,) = store.glob("cext-1.0-*.whl")
    return wheel.name.removeprefix("cext-1.0-")


PLUGIN = '''\
"""A cache backend that keeps wheels in the directory $DIRCACHE, one per project version."""

import os
import shutil
from pathlib import Path


class DirectoryBackend:
    priority = 30
    remote = True

    def __init__(self, config):
        self.directory = Path(os.environ["DIRCACHE"])
        self.directory.mkdir(parents=True, exist_ok=True)

    def get(self, key):
        found = sorted(self.directory.glob(f"{key.name}-{key.version}-*.whl"))
        return found[0] if found else None

    def put(self, key, wheel):
        shutil.copy(wheel, self.directory / wheel.name)
'''


def write_plugin(directory: Path) -> Path:
    """Write a distribution ``dircache`` (module and .dist-info) into ``directory``."""
    info = "dircache-1.0.dist-info"
    files = {
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: dircache\nVersion: 1.0\n",
        f"{info}/entry_points.txt": (
            "[pip_accel.cache_backends]\ndircache = dircache:DirectoryBackend\n"
        ),
        "dircache.py": PLUGIN,
    }
    return write_files(directory, files)


def test_boto3_is_imported_only_when_s3_is_configured(bench: Bench, s3: S3Server) -> None:
    """Starting pip-accel without s3-bucket does not import boto3 (it is slow to import)."""
    command = [sys.executable, "-X", "importtime", "-m", "pip_accel", "install"]
    args = ["-i", bench.index.url, "chain-c"]
    plain_venv, s3_venv = bench.make_venv("one"), bench.make_venv("two")
    plain_env = worker(bench.env, None, "a")
    plain = run([*command, "--python", plain_venv.python, *args], plain_env, check=True)
    assert "| boto3" not in plain.stderr
    s3_env = worker(bench.env, s3, "b")
    with_s3 = run([*command, "--python", s3_venv.python, *args], s3_env, check=True)
    assert "| boto3" in with_s3.stderr, "the control run did not use S3"
