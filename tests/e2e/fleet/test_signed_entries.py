"""Signed shared entries end to end: the real command, moto's S3 server on 127.0.0.1.

The set-up that README.rst recommends: the CI of the main branch writes and signs
(``s3-signing-key``), pull-request jobs read only and verify (``s3-trusted-keys``). A
verifying worker refuses an object that no trusted key signed for its name and contents,
with a warning that names it, and builds, downloads or compiles what it needs itself.
"""

from pathlib import Path

import pytest

from pip_accel.caches.signing import Signer, TrustedKeys, keygen, load_signing_key

from support.bench import Bench
from support.commands import build_count, describe, run
from support.index import PackageIndex
from support.s3 import BUCKET, S3Server, worker
from support.venvs import Venv, VenvFactory, accel, installed_packages

pytestmark = pytest.mark.backends

PREFIX = "ci/"
"""The prefix of the workers' objects (see ``support.helpers.worker``); it is not signed."""

USING_SHARED = "Using the fleet's plan"

EXPECTED = {"cext": "1.0", "purepkg": "1.0"}


@pytest.fixture
def requirements(package_index: PackageIndex, tmp_path: Path) -> Path:
    """Two sdists: ``cext`` (whose builds are counted) and ``purepkg``."""
    path = tmp_path / "requirements.txt"
    path.write_text(f"--index-url {package_index.url}\ncext==1.0\npurepkg==1.0\n")
    return path


def new_key(tmp_path: Path, name: str) -> Signer:
    """A key pair made by ``keygen`` in ``tmp_path``: ``name`` and ``name.pub``."""
    keygen(tmp_path / name)
    return load_signing_key(tmp_path / name)


def assert_installed(env: dict[str, str], venv: Venv) -> None:
    """The requirement set is installed and its C extension runs."""
    assert installed_packages(venv, env) == EXPECTED
    code = "import purepkg, cext._speedups as s; print(s.add(2, 3))"
    assert run([venv.python, "-c", code], env, check=True).stdout.strip() == "5"


def unsigned_by(s3: S3Server, signer: Signer) -> list[str]:
    """The objects of the bucket that lack a valid signature of ``signer`` for their name."""
    client, trusted = s3.client(), TrustedKeys({signer.key_id: signer.public_key})
    refused = []
    for key in s3.keys(BUCKET):
        metadata = client.head_object(Bucket=BUCKET, Key=key)["Metadata"]
        if trusted.refusal(key.removeprefix(PREFIX), metadata["sha256"], metadata):
            refused.append(key)
    return refused


def replace(s3: S3Server, key: str, body: bytes, metadata: dict[str, str]) -> None:
    """Put another object under ``key``, as someone with write access to the bucket could."""
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata)


def test_a_signed_writer_and_a_verifying_reader_share_everything(
    bench: Bench, s3: S3Server, requirements: Path
) -> None:
    """Every kind of object is signed; the reader uses them, but not a tree moved elsewhere.

    The moved tree keeps its sha256 and a valid signature, made for another name: a reader
    that trusted it would install one project's files as another's.
    """
    ci_key = new_key(bench.tmp_path, "ci-key")
    main = worker(bench.env, s3, "main", PIP_ACCEL_S3_SIGNING_KEY=str(bench.tmp_path / "ci-key"))
    result = accel(main, bench.make_venv("main"), "-r", requirements)
    assert "stored in the shared cache" in result.stderr, describe(result)
    keys = s3.keys(BUCKET)
    for part in ("plans/", "trees/", "sources/cext/", "sources/purepkg/", "/cext/1.0/"):
        assert any(part in key for key in keys), f"no object of {part} was stored: {keys}"
    assert unsigned_by(s3, ci_key) == []
    client = s3.client()
    trees = sorted(key for key in keys if key.startswith(f"{PREFIX}v2/trees/"))
    moved = client.get_object(Bucket=BUCKET, Key=trees[1])
    replace(s3, trees[0], moved["Body"].read(), moved["Metadata"])

    public = (bench.tmp_path / "ci-key.pub").read_text().strip()
    pull_request = worker(
        bench.env, s3, "pr", PIP_ACCEL_S3_READONLY="true", PIP_ACCEL_S3_TRUSTED_KEYS=public
    )
    venv = bench.make_venv("pr")
    result = accel(pull_request, venv, "-r", requirements)
    assert USING_SHARED in result.stderr, describe(result)
    refusal = (
        f"Refusing the object s3://{BUCKET}/{trees[0]}: its signature by the key"
        f" {ci_key.key_id} does not match its name and contents"
    )
    assert refusal in result.stderr, describe(result)
    assert result.stderr.count("Refusing the object") == 1, describe(result)
    assert "Unpacking and compiling 1 new wheel" in result.stderr, describe(result)
    assert build_count(bench.build_log) == 1, (
        "the reader built cext instead of using the signed wheel"
    )
    assert_installed(pull_request, venv)
    assert s3.keys(BUCKET) == keys


def test_unsigned_or_untrusted_objects_are_refused_rebuilt_and_replaced(
    bench: Bench, s3: S3Server, requirements: Path
) -> None:
    """A bucket of unsigned objects and a plan signed by an unknown key.

    A reader without s3-trusted-keys uses them as before. A signing writer that verifies
    refuses the plan and the wheels, with a warning naming each, builds them, and stores
    its own signed objects over them, so that the bucket heals.
    """
    accel(worker(bench.env, s3, "old"), bench.make_venv("old"), "-r", requirements)
    assert build_count(bench.build_log) == 1
    keys = s3.keys(BUCKET)
    (plan,) = [key for key in keys if key.startswith(f"{PREFIX}v2/plans/")]
    (wheel,) = [key for key in keys if "/cext/1.0/" in key and key.endswith(".whl")]
    stranger = new_key(bench.tmp_path, "stranger")
    stored = s3.client().get_object(Bucket=BUCKET, Key=plan)
    metadata = stored["Metadata"]
    signature = stranger.sign(plan.removeprefix(PREFIX), metadata["sha256"])
    replace(s3, plan, stored["Body"].read(), {**metadata, **signature})

    today = worker(bench.env, s3, "today", PIP_ACCEL_S3_READONLY="true")
    venv = bench.make_venv("today")
    result = accel(today, venv, "-r", requirements)
    assert USING_SHARED in result.stderr and "Refusing" not in result.stderr, describe(result)
    assert build_count(bench.build_log) == 1
    assert_installed(today, venv)

    ci_key = new_key(bench.tmp_path, "ci-key")
    keygen(bench.tmp_path / "colleague")  # another trusted writer, whose key signed nothing here
    colleague_line = (bench.tmp_path / "colleague.pub").read_text().strip()
    main = worker(
        bench.env, s3, "main",
        PIP_ACCEL_S3_SIGNING_KEY=str(bench.tmp_path / "ci-key"),
        PIP_ACCEL_S3_TRUSTED_KEYS=f"{colleague_line},\n{bench.tmp_path / 'ci-key.pub'}",
    )  # fmt: skip
    venv = bench.make_venv("main")
    result = accel(main, venv, "-r", requirements)
    untrusted = (
        f"Refusing the object s3://{BUCKET}/{plan}: it is signed by the key"
        f" {stranger.key_id}, which s3-trusted-keys does not name"
    )
    assert untrusted in result.stderr, describe(result)
    unsigned = f"Refusing the object s3://{BUCKET}/{wheel}: it has no signature"
    assert result.stderr.count(unsigned) == 1, describe(result)  # one warning, though asked twice
    assert USING_SHARED not in result.stderr
    assert build_count(bench.build_log) == 2, "the unsigned wheel of cext was used"
    assert_installed(main, venv)
    assert "Replacing plans/" in result.stderr, describe(result)
    # The wheels were built anew, with other sha256s: the old trees are named by nothing now.
    old_trees = {key for key in keys if key.startswith(f"{PREFIX}v2/trees/")}
    assert set(unsigned_by(s3, ci_key)) <= old_trees


def test_a_bad_key_stops_pip_accel_with_one_line(
    isolated_env: dict[str, str], make_venv: VenvFactory, tmp_path: Path
) -> None:
    """A missing key file, or a signing key on a read-only worker: exit 1 before any work."""
    keygen(tmp_path / "ci-key")
    venv = make_venv()
    cases = {
        "does not exist; make one with: pip-accel cache keygen FILE.": {
            "PIP_ACCEL_S3_SIGNING_KEY": str(tmp_path / "lost-key")
        },
        "unset s3-signing-key or s3-readonly.": {
            "PIP_ACCEL_S3_SIGNING_KEY": str(tmp_path / "ci-key"),
            "PIP_ACCEL_S3_READONLY": "true",
        },
        "(s3-trusted-keys) is not a public key in OpenSSH form": {
            "PIP_ACCEL_S3_TRUSTED_KEYS": "ssh-ed25519 AAAAtruncated"
        },
    }
    for problem, variables in cases.items():
        env = {**worker(isolated_env, None, "w", PIP_ACCEL_S3_BUCKET=BUCKET), **variables}
        result = accel(env, venv, "--no-index", "purepkg", ok=False)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1, describe(result)
        assert problem in lines[0], describe(result)
