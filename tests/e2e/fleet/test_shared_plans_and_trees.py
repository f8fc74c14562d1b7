"""The fleet's shared plans and trees, through the real command and moto's S3 server.

Worker A plans, builds and installs with the package index; it stores its plan, the
wheels the plan names and their compiled trees in the bucket. Worker B has an empty data
directory, as a CI machine at the start of every job: it must install from the bucket alone,
with no pip process, no package index and no listing of the bucket, and fall back to planning
as usual, with a warning, when what the bucket holds is missing, corrupt or unsafe.
"""

import gzip
import hashlib
import http.client
import http.server
import io
import json
import re
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
import zstandard

from pip_accel.fleet.tree_archive import GZIP_MAGIC, ZSTD_MAGIC

from support.bench import Bench
from support.commands import describe, pip_accel_cmd, run
from support.fixtures import make_wheel
from support.index import PackageIndex
from support.s3 import BUCKET, S3Server, worker
from support.venvs import (
    Venv,
    VenvFactory,
    accel,
    accel_without_pip,
    environment_of,
    files_of,
    installed_packages,
    pip_cmd,
)

pytestmark = pytest.mark.backends

USING_SHARED = "Using the fleet's plan"

EXPECTED = {"fleetpkg": "1.0", "purepkg": "1.0", "chain-c": "1.0"}
"""What the requirement set installs: a wheel with a script, and two sdists that are built."""


@pytest.fixture
def requirements(package_index: PackageIndex, tmp_path: Path) -> Path:
    """A requirements file of a wheel and two sdists (one setuptools, one flit) on the index."""
    files = {
        "fleetpkg/__init__.py": "VALUE = 'fleet'\n",
        "fleetpkg/more.py": "MORE = 1\n",
        "fleetpkg-1.0.dist-info/entry_points.txt": "[console_scripts]\nfleet = fleetpkg:VALUE\n",
    }
    package_index.add(make_wheel(tmp_path / "wheels", "fleetpkg", "1.0", files))
    path = tmp_path / "requirements.txt"
    path.write_text(f"--index-url {package_index.url}\nfleetpkg==1.0\npurepkg==1.0\nchain-c==1.0\n")
    return path


def prime(env: dict[str, str], make_venv: VenvFactory, requirements: Path) -> Venv:
    """Worker A: plan, build, install, and store everything in the bucket; A's venv."""
    venv = make_venv("a")
    result = accel(env, venv, "-r", requirements)
    assert "stored in the shared cache" in result.stderr, describe(result)
    return venv


def assert_installed(env: dict[str, str], venv: Venv) -> None:
    """The requirement set is installed whole."""
    assert installed_packages(venv, env) == EXPECTED
    run([*pip_cmd(venv), "check"], env, check=True)
    code = "import fleetpkg.more, purepkg, chain_c; print(fleetpkg.VALUE)"
    assert run([venv.python, "-c", code], env, check=True).stdout.strip() == "fleet"


def wheels_in(data: Path) -> list[str]:
    """The names of the wheel files in a data directory (not their sha256 records)."""
    return sorted(
        path.name
        for path in data.rglob("*.whl")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(data).parts)
    )


def requests(log: Path, start: int) -> list[str]:
    """The requests moto served since ``start`` (a position in its log)."""
    text = log.read_text(encoding="utf-8", errors="replace")[start:]
    return re.findall(r'"((?:GET|HEAD|PUT|POST|DELETE) [^ ]+) HTTP', text)


def test_an_empty_disk_worker_installs_from_the_bucket_alone(
    bench: Bench, s3: S3Server, requirements: Path
) -> None:
    """B installs A's plan with A's trees: no pip, no index, no compiling, no listing, and no
    wheel fetched (the trees are enough): the plan and one object per distribution; its
    environment is A's, and its next run is warm without the wheels."""
    primed = prime(worker(bench.env, s3, "a"), bench.make_venv, requirements)
    keys = s3.keys(BUCKET)
    assert sum(key.startswith("ci/v2/plans/") for key in keys) == 1
    assert sum(key.startswith("ci/v2/trees/") for key in keys) == len(EXPECTED)
    # Other jobs' entries: the worker must not fetch or list them.
    client = s3.client()
    for number in range(40):
        name = f"ci/v2/sources/other{number}/other{number}-1.0.tar.gz"
        client.put_object(Bucket=BUCKET, Key=name, Body=b"x" * 100)
    bench.index.stop()
    b_env, venv = worker(bench.env, s3, "b"), bench.make_venv("b")
    log = bench.tmp_path / "moto.log"
    start = len(log.read_text(encoding="utf-8", errors="replace"))
    result = accel_without_pip(b_env, venv, "-r", requirements, allowed_port=s3.port)
    assert result.returncode == 0, describe(result)
    assert "AUDIT" not in result.stderr
    assert USING_SHARED in result.stderr
    assert "WARNING" not in result.stderr, describe(result)
    assert "Unpacking and compiling" not in result.stderr, "the trees were compiled again"
    assert_installed(b_env, venv)
    assert (venv.bin / "fleet").is_file(), "the console script was not made"
    assert environment_of(venv, b_env) == environment_of(primed, b_env)
    assert files_of(venv) == files_of(primed)
    served = requests(log, start)
    gets = [line for line in served if line.startswith("GET ")]
    assert not [line for line in gets if "list-type" in line and "sources" in line], served
    assert not [line for line in gets if ".whl" in line], "a wheel was fetched beside its tree"
    assert len([line for line in gets if "/ci/v2/" in line]) == 1 + len(EXPECTED), served
    assert not [line for line in gets if "/other" in line], "fetched another job's archive"
    assert wheels_in(Path(b_env["PIP_ACCEL_CACHE"])) == [], "no wheel on B's disk"
    # B's second run is local: its data directory is warm now, without the wheels.
    start = len(log.read_text(encoding="utf-8", errors="replace"))
    again = accel(b_env, bench.make_venv("b2"), "-r", requirements)
    assert "Using the plan of an earlier run" in again.stderr, describe(again)
    assert requests(log, start) == [], "a warm run asks the bucket nothing"


def test_a_damaged_tree_of_a_wheel_never_fetched_is_unpacked_from_the_fetched_wheel(
    bench: Bench, s3: S3Server, requirements: Path
) -> None:
    """B's warm run finds a tree file gone whose wheel B never fetched: one warning, the
    wheel fetched from the bucket then, the tree unpacked again, the install right."""
    prime(worker(bench.env, s3, "a"), bench.make_venv, requirements)
    b_env = worker(bench.env, s3, "b")
    first = accel(b_env, bench.make_venv("b"), "-r", requirements)
    assert USING_SHARED in first.stderr, describe(first)
    data = Path(b_env["PIP_ACCEL_CACHE"])
    listed = run([*pip_accel_cmd(), "cache", "list", "fleetpkg"], b_env, check=True).stdout
    assert listed.count(" - fleetpkg-1.0") == 1, listed  # its tree, without its wheel
    (module,) = data.glob("trees/*/fleetpkg-1.0-*/purelib/fleetpkg/more.py")
    module.unlink()
    venv = bench.make_venv("b2")
    result = accel(b_env, venv, "-r", requirements)
    assert "Using the plan of an earlier run" in result.stderr, describe(result)
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "lacks" in warnings[0], describe(result)
    assert "Unpacking fleetpkg-1.0-py3-none-any.whl again" in warnings[0]
    assert wheels_in(data) == ["fleetpkg-1.0-py3-none-any.whl"]
    assert_installed(b_env, venv)


def test_a_read_only_worker_reads_the_fleet_and_writes_nothing(
    bench: Bench, s3: S3Server, requirements: Path
) -> None:
    """s3-readonly: shared plan and trees are used, nothing is stored."""
    prime(worker(bench.env, s3, "a"), bench.make_venv, requirements)
    keys = s3.keys(BUCKET)
    b_env = worker(bench.env, s3, "b", PIP_ACCEL_S3_READONLY="true")
    venv = bench.make_venv("b")
    result = accel(b_env, venv, "-r", requirements)
    assert USING_SHARED in result.stderr
    assert "stored in the shared cache" not in result.stderr
    assert_installed(b_env, venv)
    assert s3.keys(BUCKET) == keys


def _corrupt(s3: S3Server, key: str, body: bytes) -> None:
    """Replace an object's contents but keep the sha256 it was stored with."""
    client = s3.client()
    metadata = client.head_object(Bucket=BUCKET, Key=key)["Metadata"]
    client.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata)


def _evil_tree() -> bytes:
    """A tree archive with a member that climbs out of the tree."""
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w:gz") as tar:
        data = b"pip-accel must never write this\n"
        info = tarfile.TarInfo("../evil.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return stream.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        "corrupt tree", "truncated tree", "another tree", "unsafe tree", "lost tree",
        "corrupt plan", "lost wheel", "lost both",
    ],
)  # fmt: skip
def test_what_the_bucket_holds_is_checked(
    bench: Bench, s3: S3Server, requirements: Path, damage: str
) -> None:
    """A missing, corrupt or unsafe object is one warning and a fallback; the install is right.

    A tree archive is unpacked as it streams in: one cut short, and one that unpacks whole
    (another wheel's tree) but whose sha256 mismatches at its end, leave nothing: the tree
    of that wheel is unpacked from the wheel instead, and no private directory is left.
    """
    prime(worker(bench.env, s3, "a"), bench.make_venv, requirements)
    keys = s3.keys(BUCKET)
    (plan,) = [key for key in keys if key.startswith("ci/v2/plans/")]
    trees = [key for key in keys if key.startswith("ci/v2/trees/")]
    wheels = [key for key in keys if key.endswith("fleetpkg-1.0-py3-none-any.whl")]
    client = s3.client()
    fleet_tree = next(key for key in trees if wheel_sha256(client, wheels[0]) in key)
    if damage == "corrupt tree":
        _corrupt(s3, fleet_tree, b"not a tree")
    elif damage == "truncated tree":
        body = client.get_object(Bucket=BUCKET, Key=fleet_tree)["Body"].read()
        _corrupt(s3, fleet_tree, body[: len(body) // 2])
    elif damage == "another tree":  # a sound archive, of another wheel's tree
        other = next(key for key in trees if key != fleet_tree)
        _corrupt(s3, fleet_tree, client.get_object(Bucket=BUCKET, Key=other)["Body"].read())
    elif damage == "unsafe tree":
        evil = _evil_tree()
        client.put_object(
            Bucket=BUCKET, Key=fleet_tree, Body=evil,
            Metadata={"sha256": hashlib.sha256(evil).hexdigest()},
        )  # fmt: skip
    elif damage == "lost tree":
        client.delete_object(Bucket=BUCKET, Key=fleet_tree)
    elif damage == "corrupt plan":
        _corrupt(s3, plan, json.dumps({"format": 1}).encode())
    else:  # the wheel (not needed: its tree is there), or the wheel and its tree
        body = client.get_object(Bucket=BUCKET, Key=wheels[0])["Body"].read()
        client.delete_object(Bucket=BUCKET, Key=wheels[0])
        if damage == "lost both":
            (tree,) = [key for key in trees if hashlib.sha256(body).hexdigest() in key]
            client.delete_object(Bucket=BUCKET, Key=tree)
    b_env, venv = worker(bench.env, s3, "b"), bench.make_venv("b")
    result = accel(b_env, venv, "-r", requirements)
    assert "Traceback" not in result.stderr
    assert "Not using the s3 cache backend" not in result.stderr, "one bad object disabled S3"
    warnings = {
        "corrupt tree": "is corrupt",
        "truncated tree": "is corrupt",
        "another tree": "is corrupt",
        "unsafe tree": "would land outside the tree",
        "lost tree": "The shared cache has no tree of 1 wheel",
        "corrupt plan": "is corrupt",
        "lost wheel": "",
        "lost both": "fleetpkg-1.0-py3-none-any.whl is missing from the shared cache",
    }
    assert warnings[damage] in result.stderr, describe(result)
    if damage.endswith("tree"):  # one warning; the wheel of that tree alone is fetched
        assert USING_SHARED in result.stderr
        assert "Unpacking and compiling 1 new wheel" in result.stderr
        assert len([line for line in result.stderr.splitlines() if "WARNING" in line]) == 1
        assert wheels_in(Path(b_env["PIP_ACCEL_CACHE"])) == ["fleetpkg-1.0-py3-none-any.whl"]
        (published,) = Path(b_env["PIP_ACCEL_CACHE"]).glob("trees/*/fleetpkg-1.0-*")
        assert (published / "purelib" / "fleetpkg" / "more.py").is_file()
        names = {path.name for path in (published / "purelib").iterdir()}
        assert names == {"fleetpkg", "fleetpkg-1.0.dist-info"}, "another tree was published"
        leftovers = list(Path(b_env["PIP_ACCEL_CACHE"]).glob("trees/*/.*"))
        assert leftovers == [], "a private directory was left"
    elif damage == "lost wheel":  # its tree is enough
        assert USING_SHARED in result.stderr
        assert "WARNING" not in result.stderr, describe(result)
    else:
        assert USING_SHARED not in result.stderr
    assert_installed(b_env, venv)
    if damage == "corrupt plan":  # B writes: its plan replaces the damaged one
        stored = client.get_object(Bucket=BUCKET, Key=plan)
        body = stored["Body"].read()
        assert body != json.dumps({"format": 1}).encode()
        assert stored["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert not (bench.tmp_path / "evil.txt").exists()
    assert not list(Path(b_env["PIP_ACCEL_CACHE"]).rglob("evil.txt"))


def wheel_sha256(client: Any, key: str) -> str:
    """The sha256 of a wheel in the bucket, which names its tree."""
    return hashlib.sha256(client.get_object(Bucket=BUCKET, Key=key)["Body"].read()).hexdigest()


def _recompressed_as_gzip(body: bytes) -> bytes:
    """A zstandard tree archive as older writers stored it: the same tar, in gzip."""
    assert body.startswith(ZSTD_MAGIC), "the writer stores zstandard"
    tar = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)).read()
    return gzip.compress(tar, compresslevel=4)


def test_trees_stored_in_gzip_by_older_writers_are_read(
    bench: Bench, s3: S3Server, requirements: Path
) -> None:
    """A bucket whose trees older writers stored in gzip: B reads them as they are (no
    warning, nothing compiled) and replaces none of them; A's own are zstandard."""
    primed = prime(worker(bench.env, s3, "a"), bench.make_venv, requirements)
    client = s3.client()
    trees = [key for key in s3.keys(BUCKET) if key.startswith("ci/v2/trees/")]
    assert trees
    for key in trees:
        body = _recompressed_as_gzip(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        client.put_object(
            Bucket=BUCKET, Key=key, Body=body, Metadata={"sha256": hashlib.sha256(body).hexdigest()}
        )
    b_env, venv = worker(bench.env, s3, "b"), bench.make_venv("b")
    result = accel(b_env, venv, "-r", requirements)
    assert USING_SHARED in result.stderr, describe(result)
    assert "WARNING" not in result.stderr, describe(result)
    assert "Unpacking and compiling" not in result.stderr, "a gzip tree was not used"
    assert_installed(b_env, venv)
    assert files_of(venv) == files_of(primed)
    for key in trees:
        assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read().startswith(GZIP_MAGIC)


class Outage(http.server.BaseHTTPRequestHandler):
    """A proxy in front of moto that answers until a shared plan was served, then drops.

    Every request after the plan's is a connection closed without an answer, as when the
    network to the bucket goes away in the middle of a run.
    """

    upstream = 0
    """moto's port."""
    served: list[str]
    dropped: list[str]

    def handle_one_request(self) -> None:
        """Forward one request to moto, or close the connection once the plan was served."""
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        line = f"{self.command} {self.path}"
        if any("/v2/plans/" in served for served in self.served):
            self.dropped.append(line)
            self.close_connection = True
            return
        self.served.append(line)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        answer = connection.getresponse()
        data = answer.read()
        self.send_response_only(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        connection.close()

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


def test_an_outage_while_fetching_is_one_warning_and_a_fallback(
    bench: Bench, s3: S3Server, requirements: Path
) -> None:
    """The bucket goes away after B fetched the plan: one warning that says so; B plans and
    builds as usual without asking the bucket for each object again, and installs the same."""
    prime(worker(bench.env, s3, "a"), bench.make_venv, requirements)
    handler: type[Outage] = type(
        "Handler", (Outage,), {"upstream": s3.port, "served": [], "dropped": []}
    )
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        b_env = worker(
            bench.env, s3, "b",
            PIP_ACCEL_S3_URL=f"http://127.0.0.1:{proxy.server_port}",
            PIP_ACCEL_S3_CONCURRENCY="1",
        )  # fmt: skip
        venv = bench.make_venv("b")
        result = accel(b_env, venv, "-r", requirements)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, describe(result)
    assert "the connection to the S3 endpoint was lost" in warnings[0], warnings
    assert "missing from the shared cache" not in result.stderr
    assert USING_SHARED not in result.stderr
    # The first wheel, asked once and retried once (PIP_ACCEL_S3_RETRIES=1); nothing else.
    assert len(handler.dropped) == 2 and len(set(handler.dropped)) == 1, handler.dropped
    assert_installed(b_env, venv)
